package api

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"suifang/internal/calendar/caldb"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// newCoreEnv is newEnv with the follow-up core wired as internal/app does:
// the statutory calendar seeded, the patient archive, follow-up and import
// services, and the API handler rebuilt on them.
func newCoreEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := newEnv(t, db, nil)
	ctx := context.Background()
	cal := caldb.New(db, e.deps.Audit, e.deps.Org, testNow)
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		for _, inst := range []int64{e.h1, e.h2} {
			if err := cal.SeedInstitution(ctx, tx, inst); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer([]byte("fedcba9876543210fedcba9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	pats := patient.New(db, e.deps.Audit, keys, index, testNow)
	fu := followup.New(db, e.deps.Audit, pats, testNow, nil, followup.DefaultPolicy(), nil)
	e.deps.Patients, e.deps.Followup, e.deps.CalDB, e.deps.Now = pats, fu, cal, testNow
	e.deps.Importer = importer.New(db, e.deps.Audit, e.deps.Org, cal, pats, keys, fu, testNow, nil)
	e.h = New(e.deps)
	return e
}

// send makes a request with a JSON body.
func (e *env) send(method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// wantStatusJSON checks a JSON answer with status and decodes it strictly.
func wantStatusJSON(t *testing.T, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	w.Code = http.StatusOK // wantJSON checks the rest
	wantJSON(t, w, v)
}

// discharge is a discharge message of H1 (Friday 2026-08-28, CARD / NEUR).
func discharge(visit, mrn string) string {
	return fmt.Sprintf(`{"event":"discharge",
		"patient":{"mrn":%q,"national_id":"110105195803121232","name":"李建国","sex":"M","birth_date":"1958-03-12",
			"phones":["13800138000"],"address":"北京市朝阳区示例路1号","employer":"示例机械厂"},
		"encounter":{"visit_number":%q,"department_code":"CARD","department_name":"心内科","ward_code":"NEUR","ward_name":"神内病区",
			"attending_doctor":"陈医生","responsible_nurse":"刘护士","admitted_at":"2026-08-20T09:30:00+08:00",
			"discharged_at":"2026-08-28T10:00:00+08:00","diagnoses":[{"code":"J18.9","name":"肺炎"}],"surgery":false,"outcome":"improved"}}`,
		mrn, visit)
}

func TestAPIEncounterLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)

		// A new discharge: 201 and its plan (the general rule: L1, FIRST, L2, L3).
		var res encounterResultJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusCreated, &res)
		want := encounterResultJSON{VisitNumber: "ZY1", Status: "discharged", Created: true, Change: "created", TasksCreated: 4}
		if res != want {
			t.Fatalf("first POST = %+v, want %+v", res, want)
		}
		// The same message again changes nothing.
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusOK, &res)
		want = encounterResultJSON{VisitNumber: "ZY1", Status: "discharged", Change: "unchanged"}
		if res != want {
			t.Fatalf("second POST = %+v, want %+v", res, want)
		}

		// The encounter: masked patient, its tasks.
		w := e.do("GET", "/api/v1/encounters/ZY1", e.tok1)
		var enc encounterJSON
		wantJSON(t, w, &enc)
		for _, secret := range []string{"李建国", "13800138000", "110105195803121232", "示例路"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("encounter shows %q unmasked: %s", secret, w.Body)
			}
		}
		if enc.Patient.Name != "李*国" || len(enc.Patient.Phones) != 1 || !strings.Contains(enc.Patient.Phones[0], "*") ||
			enc.Patient.MRN != "M1" || enc.Status != "discharged" || *enc.DischargeDate != "2026-08-28" ||
			enc.DepartmentID == nil || *enc.DepartmentID != e.h1Depts[1] || *enc.WardID != e.h1Depts[2] ||
			len(enc.Diagnoses) != 1 || enc.Diagnoses[0].Code != "J18.9" || *enc.Outcome != "improved" {
			t.Errorf("encounter = %+v", enc)
		}
		steps := map[string]taskJSON{}
		for _, tk := range enc.Tasks {
			steps[tk.Step] = tk
		}
		if len(enc.Tasks) != 4 || len(steps) != 4 || steps["L1"].PatientName != "李*国" || steps["L1"].Role != "nurse" ||
			*steps["L1"].DepartmentID != e.h1Depts[2] || *steps["L2"].DepartmentID != e.h1Depts[1] {
			t.Fatalf("encounter tasks = %+v", enc.Tasks)
		}

		// Another institution's token learns nothing about the visit.
		wantProblem(t, e.do("GET", "/api/v1/encounters/ZY1", e.tok2), http.StatusNotFound, "encounter_not_found")
		wantProblem(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok2, `{"kind":"discharge"}`), http.StatusNotFound, "encounter_not_found")
		wantProblem(t, e.do("GET", "/api/v1/encounters/NOPE", e.tok1), http.StatusNotFound, "encounter_not_found")
		wantProblem(t, e.do("GET", fmt.Sprintf("/api/v1/tasks/%d", steps["L1"].ID), e.tok2), http.StatusNotFound, "task_not_found")
		wantProblem(t, e.send("POST", fmt.Sprintf("/api/v1/tasks/%d/attempts", steps["L1"].ID), e.tok2, `{"outcome":"no_answer"}`),
			http.StatusNotFound, "task_not_found")
		wantProblem(t, e.do("GET", fmt.Sprintf("/api/v1/records?task_id=%d", steps["L1"].ID), e.tok2), http.StatusNotFound, "task_not_found")
		var h2 taskPage
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=overdue", e.tok2), &h2)
		if len(h2.Items) != 0 || h2.Counts != (tabCountsJSON{}) {
			t.Errorf("H2 worklist = %+v", h2)
		}

		// The worklist on Tuesday 2026-09-01 (Shanghai): L1 was due on the
		// discharge day, FIRST (3 working days) and L2 (14 days) are open
		// now, L3 opens on day 7.
		var page taskPage
		wantJSON(t, e.do("GET", "/api/v1/tasks", e.tok1), &page)
		wantCounts := tabCountsJSON{Today: 2, Overdue: 1, Upcoming: 1}
		if page.Counts != wantCounts || page.Today != "2026-09-01" || page.Tab != "today" || page.Total != 2 ||
			len(page.Items) != 2 || page.NextCursor != nil {
			t.Fatalf("worklist = %+v", page)
		}
		if page.Items[0].Step != "FIRST" || page.Items[0].DueDate != "2026-09-02" || page.Items[1].Step != "L2" {
			t.Errorf("today's order = %+v", page.Items)
		}
		// One per page, through the cursor.
		wantJSON(t, e.do("GET", "/api/v1/tasks?limit=1", e.tok1), &page)
		if len(page.Items) != 1 || page.Items[0].Step != "FIRST" || page.NextCursor == nil {
			t.Fatalf("page 1 = %+v", page)
		}
		wantJSON(t, e.do("GET", "/api/v1/tasks?limit=1&cursor="+*page.NextCursor, e.tok1), &page)
		if len(page.Items) != 1 || page.Items[0].Step != "L2" || page.NextCursor != nil {
			t.Fatalf("page 2 = %+v", page)
		}
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=overdue&level=1&channel=phone&role=nurse", e.tok1), &page)
		if len(page.Items) != 1 || page.Items[0].Step != "L1" || page.Items[0].VisitNumber != "ZY1" || page.Items[0].PatientMRN != "M1" {
			t.Errorf("overdue = %+v", page.Items)
		}
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/tasks?tab=upcoming&department_id=%d", e.h1Depts[1]), e.tok1), &page)
		if len(page.Items) != 1 || page.Items[0].Step != "L3" {
			t.Errorf("upcoming in CARD = %+v", page.Items)
		}
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=mine", e.tok1), &page)
		if len(page.Items) != 0 || page.Total != 0 || page.Counts.Mine != 0 {
			t.Errorf("mine for a token = %+v", page)
		}
		p := wantProblem(t, e.do("GET", "/api/v1/tasks?tab=later&level=x&channel=pigeon&role=boss", e.tok1), http.StatusBadRequest, "invalid_parameters")
		if f := p["errors"].(map[string]any); len(f) != 4 || f["tab"] != "bad_tab" || f["level"] != "bad_level" {
			t.Errorf("bad parameters: %v", p["errors"])
		}

		first, l2 := steps["FIRST"], steps["L2"]
		// Integrations do not claim.
		wantProblem(t, e.do("POST", fmt.Sprintf("/api/v1/tasks/%d/claim", first.ID), e.tok1), http.StatusConflict, "integration_cannot_claim")
		wantProblem(t, e.do("POST", "/api/v1/tasks/999999/claim", e.tok1), http.StatusNotFound, "task_not_found")

		// No answer: back the next working day.
		var at attemptJSON
		wantJSON(t, e.send("POST", fmt.Sprintf("/api/v1/tasks/%d/attempts", first.ID), e.tok1, `{"outcome":"no_answer","note":"无人接听"}`), &at)
		if at.Status != "open" || at.NextDate == nil || *at.NextDate != "2026-09-02" || at.Attempts != 1 {
			t.Errorf("attempt = %+v", at)
		}
		p = wantProblem(t, e.send("POST", fmt.Sprintf("/api/v1/tasks/%d/attempts", first.ID), e.tok1, `{"outcome":"maybe"}`), http.StatusBadRequest, "bad_outcome")
		if p["errors"].(map[string]any)["outcome"] == nil {
			t.Errorf("errors %v", p["errors"])
		}
		var tk taskJSON
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/tasks/%d", first.ID), e.tok1), &tk)
		if tk.Attempts != 1 || tk.NextDate != "2026-09-02" || tk.Status != "open" || tk.CloseReason != nil {
			t.Errorf("task after attempt = %+v", tk)
		}

		// Completing: a missing element is a problem naming the field.
		complete := fmt.Sprintf("/api/v1/tasks/%d/complete", l2.ID)
		p = wantProblem(t, e.send("POST", complete, e.tok1, `{"treatment_effect":"improved","satisfaction":"satisfied","revisit_advice":"两周后复查"}`),
			http.StatusBadRequest, "missing_medication_guidance")
		if p["errors"].(map[string]any)["medication_guidance"] == nil {
			t.Errorf("errors %v", p["errors"])
		}
		wantProblem(t, e.send("POST", complete, e.tok1, `{"treatment_effect":"improved","satisfaction":"satisfied","bogus":1}`),
			http.StatusBadRequest, "unknown_field")
		wantProblem(t, e.send("POST", complete, e.tok1, `{"nps":"ten"}`), http.StatusBadRequest, "bad_type")
		body := `{"channel":"phone","treatment_effect":"improved","satisfaction":"satisfied","medication_guidance":"按时服药",
			"revisit_advice":"两周后复查","nps":9,"opinions":"护士很耐心","revisit_needed":true}`
		var rc recordCreatedJSON
		wantStatusJSON(t, e.send("POST", complete, e.tok1, body), http.StatusCreated, &rc)
		if rc.Number != "SF-H1-20260901-0001" || len(rc.Hash) != 64 || rc.ID == 0 {
			t.Errorf("record = %+v", rc)
		}
		wantProblem(t, e.send("POST", complete, e.tok1, body), http.StatusConflict, "task_closed")
		// The first completed follow-up met the first-contact task too.
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/tasks/%d", first.ID), e.tok1), &tk)
		if tk.Status != "done" || tk.CloseReason == nil || *tk.CloseReason != "first_contact_met:"+rc.Number {
			t.Errorf("FIRST after completion = %+v", tk)
		}

		var recs recordList
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/records?task_id=%d", l2.ID), e.tok1), &recs)
		if len(recs.Items) != 1 {
			t.Fatalf("records = %+v", recs)
		}
		r0 := recs.Items[0]
		if r0.Number != rc.Number || r0.Hash != rc.Hash || r0.ID != rc.ID || r0.AmendsID != nil || r0.Actor != "token:his-h1" ||
			r0.Fields.NPS == nil || *r0.Fields.NPS != 9 || r0.Fields.MedicationGuidance != "按时服药" || !r0.Fields.RevisitNeeded {
			t.Errorf("record = %+v", r0)
		}
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/records?task_id=%d", first.ID), e.tok1), &recs)
		if len(recs.Items) != 0 {
			t.Errorf("FIRST has records %+v", recs)
		}
		wantProblem(t, e.do("GET", "/api/v1/records?task_id=x", e.tok1), http.StatusBadRequest, "bad_task_id")
		testRecordBrowser(t, e, rc.ID, rc.Number)

		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=done", e.tok1), &page)
		if page.Counts != (tabCountsJSON{Overdue: 1, Upcoming: 1, Done: 2}) || len(page.Items) != 2 {
			t.Errorf("after completion = %+v", page)
		}

		// Cancelling the discharge cancels the open tasks (L1, L3).
		wantProblem(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"death"}`), http.StatusBadRequest, "bad_kind")
		wantJSON(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"discharge"}`), &res)
		want = encounterResultJSON{VisitNumber: "ZY1", Status: "admitted", Change: "cancelled", TasksCancelled: 2}
		if res != want {
			t.Errorf("cancel discharge = %+v, want %+v", res, want)
		}
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=done", e.tok1), &page)
		if page.Counts != (tabCountsJSON{Done: 4}) {
			t.Errorf("after cancellation = %+v", page.Counts)
		}
		// Again: nothing to do.
		wantJSON(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"discharge"}`), &res)
		if res.Change != "unchanged" || res.Status != "admitted" || res.TasksCancelled != 0 {
			t.Errorf("second cancel = %+v", res)
		}
		wantJSON(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"admission"}`), &res)
		if res.Status != "cancelled" || res.Change != "cancelled" {
			t.Errorf("cancel admission = %+v", res)
		}
		wantProblem(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"discharge"}`), http.StatusConflict, "not_discharged")
	})
}

func TestAPIEncounterErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		post := func(body string, hdr ...string) *httptest.ResponseRecorder {
			return e.send("POST", "/api/v1/encounters", e.tok1, body, hdr...)
		}
		// Checked by the API: JSON paths name the fields.
		bad := strings.Replace(discharge("ZY9", "M9"), `"discharged_at":"2026-08-28T10:00:00+08:00"`, `"discharged_at":"2026-08-28 10:00"`, 1)
		bad = strings.Replace(bad, `"sex":"M"`, `"sex":"male"`, 1)
		p := wantProblem(t, post(bad), http.StatusBadRequest, "invalid_parameters")
		if f := p["errors"].(map[string]any); f["encounter.discharged_at"] != "bad_time" || f["patient.sex"] != "bad_sex" {
			t.Errorf("errors %v", p["errors"])
		}
		p = wantProblem(t, post(`{"event":"discharge","patient":{"mrn":"M9","nmae":"x"},"encounter":{"visit_number":"ZY9"}}`),
			http.StatusBadRequest, "unknown_field")
		if f := p["errors"].(map[string]any); f["patient.nmae"] != "unknown_field" {
			t.Errorf("errors %v", p["errors"])
		}
		p = wantProblem(t, post(`{"event":"discharge","patient":{"mrn":"M9","phones":"138"},"encounter":{"visit_number":"ZY9"}}`),
			http.StatusBadRequest, "bad_type")
		if f := p["errors"].(map[string]any); f["patient.phones"] != "bad_type" {
			t.Errorf("errors %v", p["errors"])
		}
		wantProblem(t, post(`{"event":`), http.StatusBadRequest, "bad_json")
		wantProblem(t, post(`{} {}`), http.StatusBadRequest, "bad_json")
		wantProblem(t, post(``), http.StatusBadRequest, "missing_body")
		wantProblem(t, post(`[]`), http.StatusBadRequest, "empty_batch")
		wantProblem(t, post("["+strings.Repeat(`{},`, maxBulk)+`{}]`), http.StatusBadRequest, "too_many_items")
		wantProblem(t, post(discharge("ZY9", "M9"), "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, "unsupported_media_type")
		wantProblem(t, post(`{"x":"`+strings.Repeat("y", maxBody)+`"}`), http.StatusRequestEntityTooLarge, "body_too_large")

		// Checked by the patient service: the reject's field and reason.
		noTime := strings.Replace(discharge("ZY9", "M9"), `"discharged_at":"2026-08-28T10:00:00+08:00",`, ``, 1)
		p = wantProblem(t, post(noTime), http.StatusBadRequest, "encounter_rejected")
		if f := p["errors"].(map[string]any); f["encounter.discharged_at"] != "invalid" || !strings.Contains(p["detail"].(string), "discharge") {
			t.Errorf("reject = %v", p)
		}
		badID := strings.Replace(discharge("ZY9", "M9"), "110105195803121232", "110105195803121233", 1)
		p = wantProblem(t, post(badID), http.StatusBadRequest, "encounter_rejected")
		if f := p["errors"].(map[string]any); f["patient.national_id"] != "invalid" {
			t.Errorf("reject = %v", p)
		}
		// A cancellation of a visit never received.
		wantProblem(t, post(`{"event":"cancel_admit","patient":{"mrn":"M9"},"encounter":{"visit_number":"ZY9"}}`),
			http.StatusNotFound, "encounter_not_found")
		var page taskPage
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=overdue", e.tok1), &page)
		if page.Counts != (tabCountsJSON{}) {
			t.Errorf("rejected messages made tasks: %+v", page.Counts)
		}
	})
}

func TestAPIEncounterBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		// Already there before the bulk: re-sent in it, it is unchanged.
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("B0", "M0")), http.StatusCreated, &encounterResultJSON{})
		items := []string{
			discharge("B1", "M1"),
			`{"event":"discharge","patient":{"name":"无病案号"},"encounter":{"visit_number":"B2"}}`,
			discharge("B0", "M0"),
			strings.Replace(discharge("B3", "M3"), `"discharged_at":"2026-08-28T10:00:00+08:00",`, ``, 1),
			`{"event":"cancel_discharge","patient":{"mrn":"MX"},"encounter":{"visit_number":"NEVER"}}`,
			`"not an object"`,
			`{"event":"admit","patient":{"mrn":"M4","name":"张三"},"encounter":{"visit_number":"B4","admitted_at":"2026-08-30T08:00:00+08:00"}}`,
			`{"event":"cancel_admit","patient":{"mrn":"M4"},"encounter":{"visit_number":"B4"}}`,
		}
		var out bulkResultJSON
		wantJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, "[\n"+strings.Join(items, ",\n")+"]"), &out)
		if len(out.Results) != len(items) || out.Accepted != 4 || out.Rejected != 4 {
			t.Fatalf("bulk = %+v", out)
		}
		type want struct {
			status int
			visit  string
			code   string // error code, or the result's change
			field  string
		}
		for i, w := range []want{
			{201, "B1", "created", ""},
			{400, "B2", "missing_mrn", "patient.mrn"},
			{200, "B0", "unchanged", ""},
			{400, "B3", "encounter_rejected", "encounter.discharged_at"},
			{404, "NEVER", "encounter_not_found", ""},
			{400, "", "bad_json", ""},
			{201, "B4", "created", ""},
			{200, "B4", "cancelled", ""},
		} {
			it := out.Results[i]
			got := ""
			switch {
			case it.Error != nil && it.Result == nil:
				got = it.Error.Code
				if w.field != "" && it.Error.Errors[w.field] == "" {
					t.Errorf("item %d: errors %v lack %s", i, it.Error.Errors, w.field)
				}
			case it.Result != nil && it.Error == nil:
				got = it.Result.Change
			}
			if it.Index != i || it.HTTPStatus != w.status || it.VisitNumber != w.visit || got != w.code {
				t.Errorf("item %d = %+v (result %+v, error %+v), want %+v", i, it, it.Result, it.Error, w)
			}
		}
		if r := out.Results[0].Result; r.TasksCreated != 4 || r.Status != "discharged" {
			t.Errorf("B1 = %+v", r)
		}
		if r := out.Results[7].Result; r.Status != "cancelled" {
			t.Errorf("B4 = %+v", r)
		}
		var enc encounterJSON
		wantJSON(t, e.do("GET", "/api/v1/encounters/B1", e.tok1), &enc)
		if len(enc.Tasks) != 4 {
			t.Errorf("B1 tasks = %d", len(enc.Tasks))
		}
		wantProblem(t, e.do("GET", "/api/v1/encounters/B3", e.tok1), http.StatusNotFound, "encounter_not_found")
	})
}

// The new routes are fully described: request bodies, 201s, problems.
func TestAPICoreOpenAPI(t *testing.T) {
	doc, _ := fetchOpenAPI(t)
	paths := doc["paths"].(map[string]any)
	op := func(path, method string) map[string]any {
		t.Helper()
		o, _ := paths[path].(map[string]any)[method].(map[string]any)
		if o == nil {
			t.Fatalf("%s %s missing", method, path)
		}
		return o
	}
	for _, c := range []struct {
		path, method, body string
		statuses           []string
	}{
		{"/api/v1/encounters", "post", "EncounterRequest", []string{"200", "201", "400", "404", "413", "415"}},
		{"/api/v1/encounters/{visit_number}/cancel", "post", "CancelRequest", []string{"200", "404", "409"}},
		{"/api/v1/tasks/{id}/attempts", "post", "AttemptRequest", []string{"200", "400", "404", "409"}},
		{"/api/v1/tasks/{id}/complete", "post", "RecordRequest", []string{"201", "400", "404", "409"}},
		{"/api/v1/tasks/{id}/claim", "post", "", []string{"200", "404", "409"}},
		{"/api/v1/tasks", "get", "", []string{"200", "400"}},
		{"/api/v1/records", "get", "", []string{"200", "400", "404"}},
	} {
		o := op(c.path, c.method)
		rb, _ := o["requestBody"].(map[string]any)
		switch {
		case c.body == "" && rb != nil:
			t.Errorf("%s %s has a request body", c.method, c.path)
		case c.body != "":
			b, _ := json.Marshal(rb)
			if !strings.Contains(string(b), `"#/components/schemas/`+c.body+`"`) {
				t.Errorf("%s %s request body %s", c.method, c.path, b)
			}
		}
		resp := o["responses"].(map[string]any)
		for _, st := range c.statuses {
			if resp[st] == nil {
				t.Errorf("%s %s lacks %s", c.method, c.path, st)
			}
		}
	}
	if resp := op("/api/v1/tasks/{id}/complete", "post")["responses"].(map[string]any); resp["200"] != nil {
		t.Error("complete documents a 200 it never sends")
	}
	sch := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range []string{"Task", "TaskPage", "Encounter", "EncounterResult", "EncounterBulkResult", "Record", "RecordCreated"} {
		if sch[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	// Every required property of a schema is one of its properties.
	for name, s := range sch {
		m := s.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		for _, r := range asSlice(m["required"]) {
			if props[r.(string)] == nil {
				t.Errorf("schema %s requires %v, which it does not define", name, r)
			}
		}
	}
	// The task JSON has exactly the documented properties.
	b, _ := json.Marshal(taskJSON{})
	var tj map[string]any
	json.Unmarshal(b, &tj)
	var got, documented []string
	for k := range tj {
		got = append(got, k)
	}
	for k := range sch["Task"].(map[string]any)["properties"].(map[string]any) {
		documented = append(documented, k)
	}
	slices.Sort(got)
	slices.Sort(documented)
	if !slices.Equal(got, documented) {
		t.Errorf("task JSON %v, documented %v", got, documented)
	}
}
