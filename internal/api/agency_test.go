package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/notice"
	"suifang/internal/patient"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestAPIRefusalAudited: a Forbidden answer to a caller is audited once in
// the endpoint (every route), at most once a minute per caller and route.
// Before, refusals left no trace.
func TestAPIRefusalAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		e.deps.Abnormal = abnormal.New(abnormal.Deps{DB: db, Audit: e.deps.Audit, Calendars: e.deps.CalDB, Encounters: e.deps.Patients, Records: e.deps.Followup, Now: testNow})
		e.h = New(e.deps)
		var rep abnormalJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/abnormal-reports", e.tok1,
			`{"kind":"insurance_fraud","severity":"urgent","summary":"HIS 提示同一医保卡同日多院取药"}`), http.StatusCreated, &rep)
		path := fmt.Sprintf("/api/v1/abnormal-reports/%d/actions", rep.ID)
		for range 4 {
			wantProblem(t, e.send("POST", path, e.tok1, `{"action":"acknowledge"}`), http.StatusForbidden, "abnormal_action_forbidden")
		}
		// Not a refusal: a bad transition is a conflict.
		wantProblem(t, e.send("POST", path, e.tok1, `{"action":"close"}`), http.StatusConflict, "abnormal_bad_transition")
		list, err := e.deps.Audit.List(context.Background(), access.System(), audit.Filter{Action: "access.refused"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("refusals audited: %d, want 1 (capped): %+v", len(list), list)
		}
		a := list[0]
		if a.Actor != "token:his-h1" || a.ObjectType != "abnormal-reports" || a.ObjectID != fmt.Sprint(rep.ID) || a.Success ||
			a.InstitutionID != e.h1 || !strings.Contains(a.Detail, "route=POST /api/v1/abnormal-reports/{id}/actions") ||
			!strings.Contains(a.Detail, "code=abnormal_action_forbidden") {
			t.Errorf("refusal entry %+v", a)
		}
		// Another institution's token is told "not found", and the refusal
		// behind it is audited all the same.
		wantProblem(t, e.do("GET", fmt.Sprintf("/api/v1/abnormal-reports/%d", rep.ID), e.tok2), http.StatusNotFound, "abnormal_not_found")
		wantProblem(t, e.do("GET", "/api/v1/abnormal-reports/99999", e.tok2), http.StatusNotFound, "abnormal_not_found")
		list, err = e.deps.Audit.List(context.Background(), access.System(), audit.Filter{Action: "access.refused"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ObjectType != "abnormal-reports" || list[0].ObjectID != fmt.Sprint(rep.ID) ||
			list[0].Actor == a.Actor || !strings.Contains(list[0].Detail, "route=GET /api/v1/abnormal-reports/{id} code=out_of_scope") {
			t.Fatalf("hidden refusal: %+v", list)
		}
		if r, err := e.deps.Audit.Verify(context.Background()); err != nil || !r.OK {
			t.Errorf("chain after refusals: %+v %v", r, err)
		}
	})
}

// admitted is an admission message (no discharge yet) of H1.
func admitted(visit, mrn string) string {
	return fmt.Sprintf(`{"event":"admit",
		"patient":{"mrn":%q,"national_id":"310104196711052466","name":"王芳","sex":"F","birth_date":"1967-11-05",
			"phones":["13900139000"],"address":"上海市徐汇区示例路2号"},
		"encounter":{"visit_number":%q,"department_code":"CARD","department_name":"心内科","ward_code":"NEUR","ward_name":"神内病区",
			"attending_doctor":"赵医生","responsible_nurse":"孙护士","admitted_at":"2026-08-25T08:10:00+08:00",
			"diagnoses":[{"code":"E11.9","name":"2型糖尿病"}],"surgery":false}}`, mrn, visit)
}

// TestAPICancelDischargeOneRule: the API's cancel and an HL7 A13 (here as
// the importer receives it) follow patient.DischargeCancelled. Before, the
// API refused a stay never discharged while A13 silently accepted it.
func TestAPICancelDischargeOneRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		ctx := context.Background()
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, admitted("ZY2", "M2")), http.StatusCreated, &encounterResultJSON{})
		wantProblem(t, e.send("POST", "/api/v1/encounters/ZY2/cancel", e.tok1, `{"kind":"discharge"}`), http.StatusConflict, "not_discharged")
		a13 := func(visit, mrn string) importer.Report {
			t.Helper()
			rep, err := e.deps.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "ADT^A13", Format: "hl7"},
				func(s intake.Sink) error {
					return s.Message(intake.Message{Source: "MSG00042", Line: 1, Event: intake.CancelDischarge, Facility: "H1",
						Patient: intake.Patient{MRN: mrn}, Encounter: intake.Encounter{VisitNumber: visit}})
				})
			if err != nil {
				t.Fatal(err)
			}
			return *rep
		}
		rep := a13("ZY2", "M2")
		if rep.Rejected != 1 || len(rep.Rejects) != 1 || rep.Rejects[0].Field != "visit_number" ||
			!strings.Contains(rep.Rejects[0].Reason, "no discharge to cancel") {
			t.Fatalf("A13 for a stay never discharged: %+v", rep)
		}
		// A discharged stay: either door admits it again, and a repeat of
		// either changes nothing.
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusCreated, &encounterResultJSON{})
		if rep = a13("ZY1", "M1"); rep.Rejected != 0 || rep.Cancelled != 1 {
			t.Fatalf("A13 of a discharge: %+v", rep)
		}
		var res encounterResultJSON
		wantJSON(t, e.send("POST", "/api/v1/encounters/ZY1/cancel", e.tok1, `{"kind":"discharge"}`), &res)
		if res.Status != "admitted" || res.Change != "unchanged" {
			t.Errorf("API cancel after A13 = %+v", res)
		}
		if rep = a13("ZY1", "M1"); rep.Rejected != 0 || rep.Cancelled != 0 {
			t.Errorf("re-sent A13: %+v", rep)
		}
	})
}

// TestAPICaseOpened: the API answers whether a record handed its
// department a case, from the follow-up room's rule (the web's flash uses
// the same answer).
func TestAPICaseOpened(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		e.deps.Followup.SetCaseHook(core.NoticeCaseHook(notice.New(notice.Deps{DB: db, Audit: e.deps.Audit, Calendars: e.deps.CalDB, Now: testNow})))
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusCreated, &encounterResultJSON{})
		var page taskPage
		wantJSON(t, e.do("GET", "/api/v1/tasks?tab=today", e.tok1), &page)
		ids := map[string]int64{}
		for _, tk := range page.Items {
			ids[tk.Step] = tk.ID
		}
		if ids["FIRST"] == 0 || ids["L2"] == 0 {
			t.Fatalf("tasks %+v", page.Items)
		}
		cases := []struct {
			task int64
			body string
			want bool
		}{
			{ids["FIRST"], `{"treatment_effect":"improved","satisfaction":"satisfied","medication_guidance":"按时服药","revisit_advice":"两周后复查"}`, false},
			{ids["L2"], `{"treatment_effect":"improved","satisfaction":"dissatisfied","medication_guidance":"按时服药","revisit_advice":"两周后复查",
				"opinions":"夜间呼叫护士二十分钟无人应答"}`, true},
		}
		for _, c := range cases {
			var rc map[string]any
			wantStatusJSON(t, e.send("POST", fmt.Sprintf("/api/v1/tasks/%d/complete", c.task), e.tok1, c.body), http.StatusCreated, &rc)
			if rc["case_opened"] != c.want {
				t.Errorf("task %d: case_opened = %v, want %t", c.task, rc["case_opened"], c.want)
			}
		}
	})
}

// TestAPIAgencyComplaints: the complaint routes answer an outside agency
// as if the hospital's complaints did not exist; its own it sees.
func TestAPIAgencyComplaints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newComplaintEnv(t, db)
		ctx := context.Background()
		id, err := e.deps.Auth.CreateUser(ctx, access.System(), auth.UserInput{Username: "agency", DisplayName: "孙专员",
			Password: "Passw0rd!x-9q", HomeInstitutionID: e.h1, Roles: []access.Role{access.ThirdParty},
			Grants: []access.Grant{{InstitutionID: e.h1}}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		agency, err := e.deps.Auth.PrincipalFor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.cs.Register(ctx, e.quality, complaint.Input{InstitutionID: e.h1, Channel: "phone", ComplainantName: "张晓明",
			ComplainantRole: "patient", Contact: "138 0013 8000", DepartmentID: e.card, Content: "出院结算时等候两小时无人解释",
			Category: "process"})
		if err != nil {
			t.Fatal(err)
		}
		cid := fmt.Sprint(c.ID)
		for _, r := range []struct{ method, pattern string }{
			{"GET", "/api/v1/complaints/{id}"},
			{"GET", "/api/v1/complaints/{id}/events"},
			{"GET", "/api/v1/complaints/{id}/contact"},
		} {
			// Before, each answered 200 with the complaint.
			if st, code, _ := e.as(agency, r.method, r.pattern, cid, ""); st != http.StatusNotFound || code != "complaint_not_found" {
				t.Errorf("%s %s: %d %s", r.method, r.pattern, st, code)
			}
		}
		if st, code, _ := e.as(agency, "GET", "/api/v1/complaints?tab=all", "", ""); st != http.StatusForbidden || code != "complaint_tab_forbidden" {
			t.Errorf("tab=all: %d %s", st, code)
		}
		st, _, v := e.as(e.quality, "GET", "/api/v1/complaints/{id}", cid, "")
		if st != http.StatusOK || v == nil {
			t.Errorf("quality: %d", st)
		}
	})
}

// TestAPIContactRevealCapped: revealing a complainant's contact counts
// against the same per-caller cap as a patient's values.
func TestAPIContactRevealCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newComplaintEnv(t, db)
		e.deps.Patients.SetRevealLimits(patient.RevealLimits{Integration: 2}, nil)
		e.cs.SetRevealCap(e.deps.Patients.CountReveal)
		c, err := e.cs.Register(context.Background(), e.quality, complaint.Input{InstitutionID: e.h1, Channel: "phone",
			ComplainantName: "张晓明", ComplainantRole: "patient", Contact: "138 0013 8000", DepartmentID: e.card,
			Content: "出院结算时等候两小时无人解释", Category: "process"})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/complaints/%d/contact", c.ID)
		for range 2 {
			if w := e.do("GET", path, e.tok1); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "138 0013 8000") {
				t.Fatalf("contact: %d %s", w.Code, w.Body)
			}
		}
		w := e.do("GET", path, e.tok1)
		wantProblem(t, w, http.StatusForbidden, "reveal_limit")
		if strings.Contains(w.Body.String(), "138 0013 8000") {
			t.Fatal("the refusal carries the contact")
		}
		list, err := e.deps.Audit.List(context.Background(), access.System(), audit.Filter{Action: "complaint.reveal_contact"})
		if err != nil || len(list) != 3 || list[0].Success || list[0].Detail != "refused=reveal_limit" {
			t.Fatalf("contact reveals audited: %+v %v", list, err)
		}
	})
}
