package api

import (
	"fmt"
	"net/http"
	"testing"

	"suifang/internal/abnormal"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestAPIAbnormalReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		e.deps.Abnormal = abnormal.New(abnormal.Deps{DB: db, Audit: e.deps.Audit, Calendars: e.deps.CalDB, Encounters: e.deps.Patients, Records: e.deps.Followup, Now: testNow})
		e.h = New(e.deps)

		// Bad bodies are 400 naming the field; nothing is stored.
		wantProblem(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1, `{"kind":"fraud","summary":"x"}`), http.StatusBadRequest, "abnormal_bad_kind")
		wantProblem(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1, `{"kind":"dispute","summary":"x","colour":1}`), http.StatusBadRequest, "unknown_field")
		wantProblem(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1, `{"kind":"dispute","summary":"x","complaint_id":3}`),
			http.StatusBadRequest, "abnormal_source_unavailable")

		var rep abnormalJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1,
			`{"kind":"insurance_fraud","severity":"urgent","summary":"HIS 提示同一医保卡同日多院取药"}`), http.StatusCreated, &rep)
		if rep.Number != "YC-H1-20260901-0001" || rep.Status != abnormal.Reported || rep.Severity != "urgent" || rep.OwnerID != nil ||
			rep.SourceKind != abnormal.FromManual || rep.Reporter != "his-h1" || rep.RealertDue == nil {
			t.Fatalf("raised %+v", rep)
		}
		path := fmt.Sprintf("/api/v1/abnormal-reports/%d", rep.ID)
		var got abnormalJSON
		wantJSON(t, e.do("GET", path, e.tok1), &got)
		if got.Number != rep.Number {
			t.Errorf("get %+v", got)
		}
		wantProblem(t, e.do("GET", path, e.tok2), http.StatusNotFound, "abnormal_not_found")
		wantProblem(t, e.do("GET", "/api/v1/abnormal-reports/x", e.tok1), http.StatusNotFound, "abnormal_not_found")

		var page abnormalPageJSON
		wantJSON(t, e.do("GET", "/api/v1/abnormal-reports", e.tok1), &page)
		if page.Total != 1 || len(page.Items) != 1 || page.NextCursor != nil {
			t.Errorf("list %+v", page)
		}
		wantJSON(t, e.do("GET", "/api/v1/abnormal-reports?tab=mine", e.tok1), &page)
		if page.Total != 0 {
			t.Errorf("a token's mine tab %+v", page)
		}
		wantJSON(t, e.do("GET", "/api/v1/abnormal-reports", e.tok2), &page)
		if page.Total != 0 {
			t.Errorf("H2 sees H1's reports: %+v", page)
		}
		p := wantProblem(t, e.do("GET", "/api/v1/abnormal-reports?tab=x&limit=0", e.tok1), http.StatusBadRequest, "invalid_parameters")
		if f := p["errors"].(map[string]any); f["tab"] != "bad_tab" || f["limit"] != "bad_limit" {
			t.Errorf("bad params %v", p["errors"])
		}
		// A second report, then paging one at a time with the cursor.
		wantStatusJSON(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1, `{"kind":"safety","summary":"床栏损坏"}`), http.StatusCreated, &got)
		wantJSON(t, e.do("GET", "/api/v1/abnormal-reports?limit=1", e.tok1), &page)
		if page.Total != 2 || len(page.Items) != 1 || page.Items[0].ID != got.ID || page.NextCursor == nil {
			t.Fatalf("page 1 %+v", page)
		}
		wantJSON(t, e.do("GET", "/api/v1/abnormal-reports?limit=1&cursor="+*page.NextCursor, e.tok1), &page)
		if len(page.Items) != 1 || page.Items[0].ID != rep.ID {
			t.Fatalf("page 2 %+v", page)
		}

		// A token may add notes; taking charge needs a person.
		wantJSON(t, e.send("POST", path+"/actions", e.tok1, `{"action":"note","note":"HIS 补充：涉及三家药店"}`), &got)
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"acknowledge"}`), http.StatusForbidden, "abnormal_action_forbidden")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"close"}`), http.StatusConflict, "abnormal_bad_transition")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"fly"}`), http.StatusBadRequest, "bad_action")
		wantProblem(t, e.send("POST", path+"/actions", e.tok2, `{"action":"note","note":"x"}`), http.StatusNotFound, "abnormal_not_found")

		var evs abnormalEventList
		wantJSON(t, e.do("GET", path+"/events", e.tok1), &evs)
		// No outbox here, so no alert step; the chain is the institution's,
		// so the note links to the second report's event.
		if len(evs.Items) != 2 || evs.Items[0].Action != "report" || evs.Items[1].Action != "note" || evs.Items[1].Actor != "token:his-h1" ||
			len(evs.Items[1].Hash) != 64 || evs.Items[1].PrevHash == evs.Items[0].Hash {
			t.Fatalf("events %+v", evs)
		}
	})
}
