package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/chain"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// complaintEnv is the core env with the complaint service on a clock of its
// own, and staff: quality for H1, the head of CARD, a nurse of CARD and a
// nurse of ER (another department).
type complaintEnv struct {
	*env
	db                 *store.DB
	clk                *clock.Fake
	cs                 *complaint.Service
	quality, head      *access.Principal
	cardNurse, erNurse *access.Principal
	card, er           int64
}

func newComplaintEnv(t testing.TB, db *store.DB) *complaintEnv {
	t.Helper()
	e := &complaintEnv{env: newCoreEnv(t, db), db: db, clk: clock.NewFake(testNow())}
	e.card, e.er = e.h1Depts[1], e.h1Depts[3]
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	e.cs = complaint.New(complaint.Deps{DB: db, Audit: e.deps.Audit, Calendars: e.deps.CalDB, Keys: keys, Encounters: e.deps.Patients, Now: e.clk.Now})
	e.deps.Complaints = e.cs
	e.h = New(e.deps)
	user := func(name string, role access.Role, g access.Grant) *access.Principal {
		t.Helper()
		id, err := e.deps.Auth.CreateUser(context.Background(), access.System(), auth.UserInput{Username: name, DisplayName: name,
			Password: "Passw0rd!x-9q", HomeInstitutionID: e.h1, Roles: []access.Role{role}, Grants: []access.Grant{g}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.deps.Auth.PrincipalFor(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.quality = user("quality", access.Quality, access.Grant{InstitutionID: e.h1})
	e.head = user("cardhead", access.DeptHead, access.Grant{InstitutionID: e.h1, DepartmentID: e.card})
	e.cardNurse = user("cardnurse", access.Nurse, access.Grant{InstitutionID: e.h1, DepartmentID: e.card})
	e.erNurse = user("ernurse", access.Nurse, access.Grant{InstitutionID: e.h1, DepartmentID: e.er})
	return e
}

// as calls a route's handler the way endpoint does, as principal p (a
// person; API tokens go through e.do and e.send). It returns the status
// and the problem code or the JSON value. pattern is the route's, with an
// optional ?query.
func (e *complaintEnv) as(p *access.Principal, method, pattern, id, body string) (int, string, any) {
	e.t.Helper()
	s := New(e.deps).(*server)
	pattern, query, _ := strings.Cut(pattern, "?")
	for _, rt := range routes() {
		if rt.Method != method || rt.Path != pattern {
			continue
		}
		path := strings.Replace(pattern, "{id}", id, 1)
		if query != "" {
			path += "?" + query
		}
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.SetPathValue("id", id)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		v, err := rt.handle(s, r, p)
		if err != nil {
			pr := problemOf(err, "t")
			return pr.Status, pr.Code, nil
		}
		if sb, ok := v.(statusBody); ok {
			return sb.status, "", sb.body
		}
		return http.StatusOK, "", v
	}
	e.t.Fatalf("no route %s %s", method, pattern)
	return 0, "", nil
}

func phoneComplaint(visit string) string {
	return fmt.Sprintf(`{"channel":"phone","complainant_name":"李建国","complainant_role":"patient","contact":"13800138000",
		"visit_number":%q,"location":"心内科病房","people":"值班护士","content":"出院结算等候两小时无人解释",
		"asks":"希望得到解释和道歉","category":"process"}`, visit)
}

func TestAPIComplaints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newComplaintEnv(t, db)
		var res encounterResultJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusCreated, &res)

		// Register: 201, Location, the stay's department, quality owns
		// what a token registers, the contact only masked.
		w := e.send("POST", "/api/v1/complaints", e.tok1, phoneComplaint("ZY1"), "Idempotency-Key", "req-0001")
		var c complaintJSON
		wantStatusJSON(t, w, http.StatusCreated, &c)
		if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/api/v1/complaints/%d", c.ID) || w.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("Location %q, replayed %q", loc, w.Header().Get("Idempotent-Replayed"))
		}
		if c.Status != complaint.Registered || c.DepartmentID != e.card || c.OwnerID != e.quality.UserID || c.VisitNumber == nil ||
			*c.VisitNumber != "ZY1" || c.TrackingCode == "" || len(c.Clocks) != 7 || c.Colour != complaint.Green ||
			c.NextDeadline == nil || c.NextDeadline.Milestone != complaint.MAccepted {
			t.Fatalf("registered = %+v", c)
		}
		if strings.Contains(w.Body.String(), "13800138000") || strings.Contains(w.Body.String(), "李建国") || c.Contact != "138****8000" {
			t.Errorf("contact or name in clear: %s", w.Body)
		}
		// The accepted clock: one service hour from Tuesday 17:00 (Beijing),
		// 30 minutes that day and 30 the next morning.
		if c.Clocks[0].Milestone != complaint.MAccepted || c.Clocks[0].Target != "1h" || c.Clocks[0].DueAt == nil ||
			*c.Clocks[0].DueAt != "2026-09-02T00:30:00Z" {
			t.Errorf("accepted clock = %+v", c.Clocks[0])
		}

		// The retry with the same key: the same complaint, marked replayed.
		w = e.send("POST", "/api/v1/complaints", e.tok1, phoneComplaint("ZY1"), "Idempotency-Key", "req-0001")
		var again complaintJSON
		wantStatusJSON(t, w, http.StatusCreated, &again)
		if again.ID != c.ID || again.Number != c.Number || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry = %s %q, want %s replayed", again.Number, w.Header().Get("Idempotent-Replayed"), c.Number)
		}
		other := strings.Replace(phoneComplaint("ZY1"), "两小时", "三小时", 1)
		wantProblem(t, e.send("POST", "/api/v1/complaints", e.tok1, other, "Idempotency-Key", "req-0001"), http.StatusConflict, "idempotency_key_reused")
		p := wantProblem(t, e.send("POST", "/api/v1/complaints", e.tok1, phoneComplaint("ZY1"), "Idempotency-Key", "two words"),
			http.StatusBadRequest, "bad_idempotency_key")
		if p["errors"].(map[string]any)["Idempotency-Key"] != "bad_idempotency_key" {
			t.Errorf("errors = %v", p["errors"])
		}

		// Validation: problems name the JSON field; nothing is stored.
		for _, v := range []struct{ body, code, field string }{
			{`{"channel":"phone","complainant_name":"王","department_id":%d}`, "bad_content", "content"},
			{`{"channel":"pigeon","complainant_name":"王","content":"x","department_id":%d}`, "bad_channel", "channel"},
			{`{"channel":"phone","complainant_name":"王","content":"x"}`, "missing_department", "department_id"},
			{`{"channel":"phone","complainant_name":"王","content":"x","department_id":%d,"other_department_ids":[999999]}`, "bad_department", "other_department_ids"},
			{`{"channel":"phone","complainant_name":"王","content":"x","department_id":%d,"received_at":"yesterday"}`, "bad_received_at", "received_at"},
			{`{"channel":"phone","complainant_name":"王","content":"x","department_id":%d,"colour":"red"}`, "unknown_field", "colour"},
			{`{"channel":"phone","complainant_name":"王","content":"x","department_id":%d,"severity":"huge"}`, "bad_severity", "severity"},
		} {
			body := v.body
			if strings.Contains(body, "%d") {
				body = fmt.Sprintf(body, e.card)
			}
			p := wantProblem(t, e.send("POST", "/api/v1/complaints", e.tok1, body), http.StatusBadRequest, v.code)
			if p["errors"].(map[string]any)[v.field] != v.code {
				t.Errorf("%s: errors %v, want %s: %s", v.code, p["errors"], v.field, v.code)
			}
		}
		// Another institution's department is not this one's.
		wantProblem(t, e.send("POST", "/api/v1/complaints", e.tok1,
			fmt.Sprintf(`{"channel":"phone","complainant_name":"王","content":"x","department_id":%d}`, e.h2Dept)), http.StatusBadRequest, "bad_department")
		wantProblem(t, e.send("POST", "/api/v1/complaints", e.tok2, phoneComplaint("ZY1")), http.StatusBadRequest, "complaint_encounter_not_found")

		// The list: one complaint, masked, no tracking code.
		var page complaintPageJSON
		w = e.do("GET", "/api/v1/complaints", e.tok1)
		wantJSON(t, w, &page)
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != c.ID || page.Tab != "all" || page.NextCursor != nil ||
			strings.Contains(w.Body.String(), c.TrackingCode) || strings.Contains(w.Body.String(), "13800138000") {
			t.Fatalf("list = %s", w.Body)
		}
		for q, want := range map[string]int{
			"?channel=phone": 1, "?channel=wechat": 0, "?category=process": 1, "?category=fees": 0, "?colour=green": 1,
			"?colour=red": 0, fmt.Sprintf("?department_id=%d", e.card): 1, fmt.Sprintf("?department_id=%d", e.er): 0,
			"?from=2026-09-01&to=2026-09-01": 1, "?from=2026-09-02": 0, "?to=2026-08-31": 0, "?status=registered": 1,
			"?status=archived": 0, "?status=all&tab=all": 1, "?tab=mine": 0,
		} {
			wantJSON(t, e.do("GET", "/api/v1/complaints"+q, e.tok1), &page)
			if page.Total != want {
				t.Errorf("%s: total %d, want %d", q, page.Total, want)
			}
		}
		p = wantProblem(t, e.do("GET", "/api/v1/complaints?status=lost&colour=blue&from=09/01&tab=x&channel=fax&limit=0", e.tok1),
			http.StatusBadRequest, "invalid_parameters")
		for _, f := range []string{"status", "colour", "from", "tab", "channel", "limit"} {
			if p["errors"].(map[string]any)[f] == nil {
				t.Errorf("no error for %s: %v", f, p["errors"])
			}
		}
		wantJSON(t, e.do("GET", "/api/v1/complaints", e.tok2), &page)
		if page.Total != 0 {
			t.Errorf("H2 lists H1's complaints: %+v", page)
		}

		// One complaint: H2 and bad ids get 404.
		path := fmt.Sprintf("/api/v1/complaints/%d", c.ID)
		wantJSON(t, e.do("GET", path, e.tok1), &c)
		for _, sub := range []string{"", "/events", "/escalations", "/contact"} {
			wantProblem(t, e.do("GET", path+sub, e.tok2), http.StatusNotFound, "complaint_not_found")
		}
		wantProblem(t, e.send("POST", path+"/actions", e.tok2, `{"action":"accept"}`), http.StatusNotFound, "complaint_not_found")
		wantProblem(t, e.do("GET", "/api/v1/complaints/0", e.tok1), http.StatusNotFound, "complaint_not_found")
		wantProblem(t, e.do("GET", "/api/v1/complaints/x1", e.tok1), http.StatusNotFound, "complaint_not_found")
		wantProblem(t, e.do("GET", "/api/v1/complaints/999999", e.tok1), http.StatusNotFound, "complaint_not_found")

		// Scope is the service's: a nurse of another department gets 404 on
		// everything and 403 on the whole-institution list; the nurse of the
		// department involved sees it.
		id := fmt.Sprint(c.ID)
		for _, r := range []struct{ method, pattern, body string }{
			{"GET", "/api/v1/complaints/{id}", ""}, {"GET", "/api/v1/complaints/{id}/events", ""},
			{"GET", "/api/v1/complaints/{id}/escalations", ""}, {"GET", "/api/v1/complaints/{id}/contact", ""},
			{"POST", "/api/v1/complaints/{id}/actions", `{"action":"note","note":"看看"}`},
		} {
			if st, code, _ := e.as(e.erNurse, r.method, r.pattern, id, r.body); st != http.StatusNotFound || code != "complaint_not_found" {
				t.Errorf("ER nurse %s %s: %d %s", r.method, r.pattern, st, code)
			}
		}
		if st, code, _ := e.as(e.erNurse, "GET", "/api/v1/complaints?tab=all", "", ""); st != http.StatusForbidden || code != "complaint_tab_forbidden" {
			t.Errorf("ER nurse, all: %d %s", st, code)
		}
		if st, _, v := e.as(e.erNurse, "GET", "/api/v1/complaints", "", ""); st != http.StatusOK || v.(complaintPageJSON).Total != 0 ||
			v.(complaintPageJSON).Tab != "dept" {
			t.Errorf("ER nurse, default tab: %d %+v", st, v)
		}
		if st, _, v := e.as(e.cardNurse, "GET", "/api/v1/complaints", "", ""); st != http.StatusOK || v.(complaintPageJSON).Total != 1 {
			t.Errorf("CARD nurse, dept tab: %d %+v", st, v)
		}
		if st, _, _ := e.as(e.cardNurse, "GET", "/api/v1/complaints/{id}", id, ""); st != http.StatusOK {
			t.Errorf("CARD nurse reads it: %d", st)
		}
		// … but may not act on it: that is the owner's, quality's or the head's.
		if st, code, _ := e.as(e.cardNurse, "POST", "/api/v1/complaints/{id}/actions", id, `{"action":"accept"}`); st != http.StatusForbidden ||
			code != "complaint_action_forbidden" {
			t.Errorf("CARD nurse accepts: %d %s", st, code)
		}

		// The full walk. The token handles it; the head of CARD returns the
		// first plan and approves the second.
		act := func(body string) complaintJSON {
			t.Helper()
			var out complaintJSON
			wantJSON(t, e.send("POST", path+"/actions", e.tok1, body), &out)
			return out
		}
		byHead := func(body string) {
			t.Helper()
			if st, code, _ := e.as(e.head, "POST", "/api/v1/complaints/{id}/actions", id, body); st != http.StatusOK {
				t.Fatalf("head %s: %d %s", body, st, code)
			}
		}
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"assess","category":"process","severity":"general","complexity":"simple"}`),
			http.StatusConflict, "bad_transition")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{}`), http.StatusBadRequest, "missing_action")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"fly"}`), http.StatusBadRequest, "bad_action")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"accept","when":"now"}`), http.StatusBadRequest, "unknown_field")
		c = act(`{"action":"accept","note":"已受理"}`)
		if c.Status != complaint.Accepted || c.Clocks[0].MetAt == nil || c.Clocks[0].Colour != complaint.Met {
			t.Fatalf("accepted = %+v", c)
		}
		p = wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"assess","category":"process","severity":"general","complexity":"simple","other_department_ids":[999999]}`),
			http.StatusBadRequest, "bad_department")
		if p["errors"].(map[string]any)["other_department_ids"] != "bad_department" {
			t.Errorf("errors %v", p["errors"])
		}
		c = act(fmt.Sprintf(`{"action":"assess","category":"process","severity":"serious","complexity":"simple","other_department_ids":[%d]}`, e.er))
		if c.Status != complaint.Assessed || c.Severity != complaint.Serious || len(c.DepartmentIDs) != 2 || c.DepartmentIDs[0] != e.card {
			t.Fatalf("assessed = %+v", c)
		}
		// Several departments now: feedback within 10 working days.
		for _, cl := range c.Clocks {
			if cl.Milestone == complaint.MFeedback && cl.Target != "10wd" {
				t.Errorf("feedback target %s with two departments", cl.Target)
			}
		}
		// The ER nurse now sees it too (ER is involved).
		if st, _, _ := e.as(e.erNurse, "GET", "/api/v1/complaints/{id}", id, ""); st != http.StatusOK {
			t.Errorf("ER nurse after assessment: %d", st)
		}
		c = act(`{"action":"pause","reason":"complainant","note":"等待投诉人提供票据"}`)
		if !c.Paused || len(c.Pauses) != 1 || c.Pauses[0].To != nil || c.Colour != complaint.Paused {
			t.Fatalf("paused = %+v", c)
		}
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"pause","reason":"third_party"}`), http.StatusConflict, "already_paused")
		c = act(`{"action":"resume"}`)
		if c.Paused || c.Pauses[0].To == nil {
			t.Fatalf("resumed = %+v", c)
		}
		c = act(`{"action":"investigate","note":"医务：陈医生；护理：刘护士长；行政：财务科"}`)
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"draft_plan"}`), http.StatusBadRequest, "missing_plan")
		c = act(`{"action":"draft_plan","plan":"向患者解释结算流程并道歉","compensation":""}`)
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"approve"}`), http.StatusForbidden, "complaint_action_forbidden")
		byHead(`{"action":"return","note":"请补充整改措施"}`)
		wantJSON(t, e.do("GET", path, e.tok1), &c)
		if c.Status != complaint.Investigating || c.ReturnReason != "请补充整改措施" {
			t.Fatalf("returned = %+v", c)
		}
		c = act(`{"action":"draft_plan","plan":"解释、道歉，优化出院结算窗口排班"}`)
		byHead(`{"action":"approve","note":"同意"}`)
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"feedback","feedback_how":"phone"}`), http.StatusBadRequest, "missing_feedback")
		c = act(`{"action":"feedback","feedback_how":"phone","note":"电话告知处理结果，患者表示理解"}`)
		c = act(`{"action":"satisfaction","grade":"satisfied"}`)
		c = act(`{"action":"rectify","note":"结算窗口增加午间排班"}`)
		c = act(`{"action":"revisit","note":"回访：排队时间明显缩短"}`)
		c = act(`{"action":"archive"}`)
		if c.Status != complaint.Archived || c.ArchivedAt == nil || c.Colour != complaint.Met || c.NextDeadline != nil {
			t.Fatalf("archived = %+v", c)
		}
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"accept"}`), http.StatusConflict, "bad_transition")
		wantProblem(t, e.send("POST", path+"/actions", e.tok1, `{"action":"reopen","note":"再查"}`), http.StatusForbidden, "complaint_action_forbidden")

		// The history: every step, each hash recomputes, the chain verifies.
		var evs complaintEventList
		wantJSON(t, e.do("GET", path+"/events", e.tok1), &evs)
		var actions []string
		for i, ev := range evs.Items {
			actions = append(actions, ev.Action)
			at, err := time.Parse(time.RFC3339Nano, ev.At)
			if err != nil {
				t.Fatal(err)
			}
			var uid int64
			if ev.UserID != nil {
				uid = *ev.UserID
			}
			ce := &chain.Event{ID: ev.ID, InstitutionID: e.h1, SubjectID: c.ID, At: at, UserID: uid, Actor: ev.Actor, Action: ev.Action,
				From: ev.From, To: ev.To, Detail: ev.Detail, State: ev.State, PrevHash: ev.PrevHash}
			// The test services carry the public test chain key.
			if chain.EventHash(audit.TestKey(), ce) != ev.Hash {
				t.Errorf("event %d (%s): hash does not recompute", i, ev.Action)
			}
			if i > 0 && ev.PrevHash != evs.Items[i-1].Hash {
				t.Errorf("event %d (%s): prev_hash is not the previous event's hash", i, ev.Action)
			}
		}
		want := "register accept assess pause resume investigate draft_plan return draft_plan approve feedback satisfaction rectify revisit archive"
		if strings.Join(actions, " ") != want {
			t.Errorf("events %s\nwant   %s", strings.Join(actions, " "), want)
		}
		if evs.Items[0].Actor != "token:his-h1" || evs.Items[0].UserID != nil || evs.Items[7].UserID == nil ||
			*evs.Items[7].UserID != e.head.UserID || !strings.Contains(evs.Items[0].Detail, "idempotency_key=req-0001 input=") {
			t.Errorf("who: %+v / %+v", evs.Items[0], evs.Items[7])
		}
		chains, err := e.cs.VerifyEvents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range chains {
			if !r.OK {
				t.Errorf("chain broken: %+v", r)
			}
		}

		// The contact, in full, audited.
		var ct complaintContactJSON
		wantJSON(t, e.do("GET", path+"/contact", e.tok1), &ct)
		if ct.Contact != "13800138000" {
			t.Errorf("contact %q", ct.Contact)
		}
		var n int
		if err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor = $2 AND object_id = $3`,
			"complaint.reveal_contact", "token:his-h1", c.Number).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d audit entries for the reveal, want 1", n)
		}

		// Escalations: a second complaint nobody accepts. Wednesday 10:00
		// Beijing its accepted milestone (due 08:30) has passed: the worker
		// escalates it once, to the head of CARD.
		var c2 complaintJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/complaints", e.tok1,
			fmt.Sprintf(`{"channel":"wechat","complainant_name":"赵敏","content":"护士态度生硬","category":"service_attitude","department_id":%d}`, e.card)),
			http.StatusCreated, &c2)
		path2 := fmt.Sprintf("/api/v1/complaints/%d", c2.ID)
		var es escalationList
		wantJSON(t, e.do("GET", path2+"/escalations", e.tok1), &es)
		if len(es.Items) != 0 {
			t.Fatalf("escalations before any deadline: %+v", es)
		}
		e.clk.Set(time.Date(2026, 9, 2, 2, 0, 0, 0, time.UTC))
		for range 2 {
			if _, err := e.cs.Escalate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		wantJSON(t, e.do("GET", path2+"/escalations", e.tok1), &es)
		if len(es.Items) != 1 || es.Items[0].Milestone != complaint.MAccepted || es.Items[0].Level != complaint.LevelHead ||
			es.Items[0].To != "dept_head" || es.Items[0].DueAt != "2026-09-02T00:30:00Z" || es.Items[0].At != "2026-09-02T02:00:00Z" {
			t.Fatalf("escalations = %+v", es)
		}
		wantJSON(t, e.do("GET", "/api/v1/complaints?colour=red", e.tok1), &page)
		if page.Total != 1 || page.Items[0].ID != c2.ID || page.Items[0].Escalation != complaint.LevelHead ||
			page.Items[0].NextDeadline == nil || page.Items[0].NextDeadline.Colour != complaint.Red {
			t.Errorf("red list = %+v", page)
		}
	})
}

// Pages of the list follow the cursor to the end, each complaint once.
func TestAPIComplaintPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newComplaintEnv(t, db)
		for i := range 5 {
			e.clk.Advance(time.Minute)
			wantStatusJSON(t, e.send("POST", "/api/v1/complaints", e.tok1,
				fmt.Sprintf(`{"channel":"counter","complainant_name":"患者%d","content":"第%d件","department_id":%d}`, i, i, e.card)),
				http.StatusCreated, &complaintJSON{})
		}
		seen := map[int64]bool{}
		url := "/api/v1/complaints?limit=2"
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("the cursor does not end")
			}
			var page complaintPageJSON
			wantJSON(t, e.do("GET", url, e.tok1), &page)
			if page.Total != 5 {
				t.Fatalf("total %d", page.Total)
			}
			for _, it := range page.Items {
				if seen[it.ID] {
					t.Fatalf("complaint %d twice", it.ID)
				}
				seen[it.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			url = "/api/v1/complaints?limit=2&cursor=" + *page.NextCursor
		}
		if len(seen) != 5 {
			t.Errorf("saw %d complaints, want 5", len(seen))
		}
		wantProblem(t, e.do("GET", "/api/v1/complaints?cursor=zzz", e.tok1), http.StatusBadRequest, "bad_cursor")
	})
}

// Without the complaint service the routes answer 503.
func TestAPIComplaintsUnavailable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		wantProblem(t, e.do("GET", "/api/v1/complaints", e.tok1), http.StatusServiceUnavailable, "complaints_unavailable")
		wantProblem(t, e.send("POST", "/api/v1/complaints/1/actions", e.tok1, `{"action":"accept"}`), http.StatusServiceUnavailable, "complaints_unavailable")
	})
}
