package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/notice"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store/storetest"
)

// agEnv is a hospital whose surgery patients' service-centre calls go to
// an outside agency (第三方随访机构), with every service wired by core.
type agEnv struct {
	*pageEnv
	clk        *clock.Fake
	sv         *core.Services
	cardio     int64
	p1, p2     int64 // 李建国 (surgery: his L3 call is the agency's), 王芳 (not)
	p1L3, p2L3 int64 // their service-centre calls
}

func newAgencyEnv(t *testing.T, opt func(*core.Options)) *agEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	// Tuesday 2026-10-13, 10:00 in Beijing.
	clk := clock.NewFake(time.Date(2026, 10, 13, 2, 0, 0, 0, time.UTC))
	keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	o := core.Options{Now: clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index}
	if opt != nil {
		opt(&o)
	}
	sv, err := core.Build(db, o)
	if err != nil {
		t.Fatal(err)
	}
	e := &agEnv{pageEnv: &pageEnv{t: t, auth: sv.Auth, cal: sv.Calendar}, clk: clk, sv: sv}
	sys := access.System()
	if e.h1, err = sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"}); err != nil {
		t.Fatal(err)
	}
	if e.cardio, err = sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0301", Name: "心血管内科",
		Kind: org.DeptClinical}); err != nil {
		t.Fatal(err)
	}
	inst := []access.Grant{{InstitutionID: e.h1}}
	for _, u := range []auth.UserInput{
		{Username: "admin", DisplayName: "管理员", Roles: []access.Role{access.SysAdmin}},
		{Username: "quality", DisplayName: "质控王", Roles: []access.Role{access.Quality}, Grants: inst},
		{Username: "agent", DisplayName: "赵随访", Roles: []access.Role{access.Agent}, Grants: inst},
		{Username: "agency", DisplayName: "孙专员", Roles: []access.Role{access.ThirdParty}, Grants: inst},
	} {
		u.Password, u.HomeInstitutionID, u.Active = adminPW, e.h1, true
		if _, err := sv.Auth.CreateUser(ctx, sys, u); err != nil {
			t.Fatal(err)
		}
	}
	// The hospital outsources the service-centre calls of its surgery
	// patients: the plan rule's step role routes them to the agency.
	rules, err := sv.Followup.Rules(ctx, sys, e.h1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Match.Surgery != nil && *r.Match.Surgery {
			for i := range r.Steps {
				if r.Steps[i].Role == access.Agent {
					r.Steps[i].Role = access.ThirdParty
				}
			}
			if _, err := sv.Followup.SaveRule(ctx, sys, *r); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := time.Date(2026, 9, 29, 6, 0, 0, 0, time.UTC) // discharged 14:00 on 29 September
	rep, err := sv.Importer.ImportStream(ctx, sys, importer.Options{Filename: "出院患者.csv"}, func(s intake.Sink) error {
		if err := s.Message(intake.Message{Source: "出院患者.csv", Line: 2, Event: intake.Discharge,
			Patient: intake.Patient{MRN: "2026000123", NationalID: "110105195803121232", Name: "李建国", Sex: intake.Male,
				Phones: []string{"13800138000"}, Address: "北京市朝阳区示例路1号"},
			Encounter: intake.Encounter{VisitNumber: "ZY202609220001", DepartmentCode: "0301", DepartmentName: "心血管内科",
				AdmittedAt: at.AddDate(0, 0, -7), DischargedAt: at, Surgery: true, Procedures: []string{"经皮冠状动脉介入治疗"},
				Diagnoses: []intake.Diagnosis{{Code: "I21.0", Name: "急性前壁心肌梗死"}}, Outcome: intake.Improved}}); err != nil {
			return err
		}
		return s.Message(intake.Message{Source: "出院患者.csv", Line: 3, Event: intake.Discharge,
			Patient: intake.Patient{MRN: "2026000456", NationalID: "310104196711052466", Name: "王芳", Sex: intake.Female,
				Phones: []string{"13900139000"}, Address: "上海市徐汇区示例路2号"},
			Encounter: intake.Encounter{VisitNumber: "ZY202609230002", DepartmentCode: "0301", DepartmentName: "心血管内科",
				AdmittedAt: at.AddDate(0, 0, -6), DischargedAt: at, Diagnoses: []intake.Diagnosis{{Code: "J18.9", Name: "肺炎"}},
				Outcome: intake.Cured}})
	})
	if err != nil || rep.Rejected != 0 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	today := calendar.DateOf(clk.Now().In(publicTZ))
	for _, tab := range followup.Tabs() {
		wl, err := sv.Followup.Worklist(ctx, sys, followup.Filter{InstitutionID: e.h1, Tab: tab, Limit: 200}, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range wl.Tasks {
			if tk.StepKey != "L3" {
				continue
			}
			switch tk.MRN {
			case "2026000123":
				e.p1, e.p1L3 = tk.PatientID, tk.ID
			case "2026000456":
				e.p2, e.p2L3 = tk.PatientID, tk.ID
			}
		}
	}
	if e.p1L3 == 0 || e.p2L3 == 0 {
		t.Fatalf("no L3 tasks: %d %d", e.p1L3, e.p2L3)
	}
	s, err := New(Deps{Auth: sv.Auth, Org: sv.Org, Audit: sv.Audit, Calendar: sv.Calendar, Patients: sv.Patients, Followup: sv.Followup,
		Importer: sv.Importer, Notify: sv.Notify, Notices: sv.Notices, Complaints: sv.Complaints, Abnormal: sv.Abnormal, Survey: sv.Survey,
		Log: slog.New(slog.DiscardHandler), Now: clk.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *agEnv) principal(username string) *access.Principal {
	e.t.Helper()
	p, err := e.sv.Auth.PrincipalFor(context.Background(), e.user(username).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// refusals lists the audited refusals of a user.
func (e *agEnv) refusals(username string) []audit.Entry {
	e.t.Helper()
	list, err := e.sv.Audit.List(context.Background(), access.System(), audit.Filter{Action: "access.refused", Actor: username})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// TestAgencyReach: an outside agency works the calls routed to it and sees
// their patients for the call; the hospital's complaints, notices,
// abnormal reports, evidence, PDF exports, ID numbers and the deceased
// flag are out of its reach. Before the cut, the agency had the service
// centre's full reach (every line below marked "was" answered 200).
func TestAgencyReach(t *testing.T) {
	e := newAgencyEnv(t, nil)
	ctx := context.Background()
	ag := e.login("agency", adminPW)
	p1, p2 := "/patients/"+itoa(e.p1), "/patients/"+itoa(e.p2)

	t.Run("worklist and tasks", func(t *testing.T) {
		today := calendar.DateOf(e.clk.Now().In(publicTZ))
		seen := map[int64]bool{}
		for _, tab := range followup.Tabs() {
			wl, err := e.sv.Followup.Worklist(ctx, e.principal("agency"), followup.Filter{InstitutionID: e.h1, Tab: tab, Limit: 200}, today)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range wl.Tasks {
				seen[tk.ID] = true
				if tk.Role != access.ThirdParty {
					t.Errorf("the agency's worklist holds %s's %s task of %s", tk.Role, tk.StepKey, tk.MRN)
				}
			}
		}
		if !seen[e.p1L3] || seen[e.p2L3] {
			t.Fatalf("agency worklist: own call %t, the service centre's %t", seen[e.p1L3], seen[e.p2L3])
		}
		// Asking for the service centre's role does not widen it.
		wl, err := e.sv.Followup.Worklist(ctx, e.principal("agency"), followup.Filter{InstitutionID: e.h1, Tab: followup.TabToday,
			Role: access.Agent, Limit: 200}, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range wl.Tasks {
			if tk.ID == e.p2L3 {
				t.Error("role=agent shows the agency the service centre's call")
			}
		}
		want(t, ag.get("/followup/tasks/"+itoa(e.p1L3)), http.StatusOK, "李*国", "ZY202609220001")
		want(t, ag.get("/followup/tasks/"+itoa(e.p2L3)), http.StatusForbidden) // was 200
		// The phone of its own call, once, audited.
		want(t, ag.post("/followup/tasks/"+itoa(e.p1L3)+"/reveal", nil), http.StatusOK, "13800138000")
		want(t, ag.post("/followup/tasks/"+itoa(e.p2L3)+"/reveal", nil), http.StatusForbidden) // was 200
		// The menu offers neither the patient search nor the notices.
		r := ag.get("/followup")
		want(t, r, http.StatusOK, `href="/followup/records"`)
		wantNot(t, r, `href="/patients"`, `href="/notices"`)
		want(t, e.login("agent", adminPW).get("/followup"), http.StatusOK, `href="/patients"`, `href="/notices"`)
	})

	t.Run("patients", func(t *testing.T) {
		r := ag.get(p1)
		want(t, r, http.StatusOK, "李*国", "138****8000", `value="phone"`)
		wantNot(t, r, `value="national_id"`, `value="address"`, `id="deceased-form"`, "110105195803121232")
		want(t, ag.post(p1+"/reveal", url.Values{"field": {"phone"}}), http.StatusOK, "13800138000")
		r = ag.post(p1+"/reveal", url.Values{"field": {"national_id"}}) // was 200 with the number
		want(t, r, http.StatusForbidden, "只能查看自己待办随访患者的电话号码")
		wantNot(t, r, "110105195803121232")
		wantNot(t, ag.post(p1+"/reveal", url.Values{"field": {"address"}}), "北京市朝阳区示例路1号")
		want(t, ag.post(p1+"/deceased", url.Values{"reason": {"家属来电告知"}}), http.StatusForbidden) // was 200
		want(t, ag.get(p2), http.StatusForbidden)                                                // was 200
		r = ag.post(p2+"/reveal", url.Values{"field": {"phone"}})                                // was 200
		want(t, r, http.StatusForbidden)
		wantNot(t, r, "13900139000")
		want(t, ag.get("/patients?q="+url.QueryEscape("王芳")), http.StatusForbidden) // was 200
		pat, err := e.sv.Patients.Get(ctx, nil, e.p1)
		if err != nil || pat.Deceased {
			t.Fatalf("deceased after a refused mark: %v %v", pat, err)
		}
		// The service centre keeps its reach.
		agent := e.login("agent", adminPW)
		want(t, agent.post(p2+"/reveal", url.Values{"field": {"national_id"}}), http.StatusOK, "310104196711052466")
	})

	q := e.principal("quality")
	c, err := e.sv.Complaints.Register(ctx, q, complaint.Input{InstitutionID: e.h1, Channel: "phone", ComplainantName: "王芳",
		ComplainantRole: "patient", Contact: "139 0013 9000", VisitNumber: "ZY202609230002",
		Content: "出院结算时等候两小时无人解释", Asks: "希望得到解释和道歉", Category: "process"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.sv.Complaints.Attach(ctx, q, c.ID, "收费处排队照片.png", "现场照片",
		append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...))
	if err != nil {
		t.Fatal(err)
	}
	cpath := "/complaints/" + itoa(c.ID)

	t.Run("complaints", func(t *testing.T) {
		want(t, ag.get(cpath), http.StatusForbidden)                          // was 200
		want(t, ag.get(cpath+"/sheet.pdf"), http.StatusForbidden)             // was 200
		want(t, ag.get(cpath+"/evidence/"+itoa(ev.ID)), http.StatusForbidden) // was 200
		wantNot(t, ag.get("/complaints?tab=all"), c.Number)                   // was listed
		wantNot(t, ag.get("/complaints"), c.Number)
		// A complaint taken on its own call is the agency's: it sees it,
		// but exports nothing.
		own, err := e.sv.Complaints.Register(ctx, e.principal("agency"), complaint.Input{InstitutionID: e.h1, Channel: "phone",
			ComplainantName: "李建国", ComplainantRole: "patient", VisitNumber: "ZY202609220001",
			Content: "随访电话中反映出院带药说明不清楚", Category: "service_attitude"})
		if err != nil {
			t.Fatal(err)
		}
		r := ag.get("/complaints/" + itoa(own.ID))
		want(t, r, http.StatusOK, own.Number)
		wantNot(t, r, `id="complaint-pdf"`)
		want(t, ag.get("/complaints/"+itoa(own.ID)+"/sheet.pdf"), http.StatusForbidden)
		want(t, e.login("quality", adminPW).get(cpath), http.StatusOK, c.Number, `id="complaint-pdf"`)
	})

	t.Run("notices and abnormal reports", func(t *testing.T) {
		n, err := e.sv.Notices.RaiseByHand(ctx, q, notice.RaiseInput{InstitutionID: e.h1, DepartmentID: e.cardio, Topic: "nurses",
			Summary: "病房夜间噪音大，影响休息"})
		if err != nil {
			t.Fatal(err)
		}
		want(t, ag.get("/notices/"+itoa(n.ID)), http.StatusForbidden) // was 200
		wantNot(t, ag.get("/notices"), n.Number)
		rep, err := e.sv.Abnormal.Raise(ctx, q, abnormal.Input{InstitutionID: e.h1, Kind: "dispute", Summary: "家属扬言投诉媒体"})
		if err != nil {
			t.Fatal(err)
		}
		want(t, ag.get("/abnormal/"+itoa(rep.ID)), http.StatusForbidden)
	})

	t.Run("refusals are audited, capped per minute", func(t *testing.T) {
		before := len(e.refusals("agency"))
		for range 3 {
			want(t, ag.get(cpath), http.StatusForbidden)
		}
		var mine []audit.Entry
		for _, a := range e.refusals("agency") {
			if strings.Contains(a.Detail, "route=GET /complaints/{id} ") {
				mine = append(mine, a)
			}
		}
		if len(mine) != 1 || mine[0].ObjectType != "complaints" || mine[0].ObjectID != itoa(c.ID) || mine[0].Success ||
			!strings.Contains(mine[0].Detail, "code=out_of_scope") {
			t.Fatalf("refusals of GET /complaints/{id}: %+v", mine)
		}
		if len(e.refusals("agency")) <= before-1 {
			t.Fatal("no refusal recorded")
		}
		e.clk.Advance(61 * time.Second)
		want(t, ag.get(cpath), http.StatusForbidden)
		list := e.refusals("agency")
		if !strings.Contains(list[0].Detail, "route=GET /complaints/{id}") || !strings.Contains(list[0].Detail, "held_back=3") {
			t.Fatalf("next minute's entry: %+v", list[0])
		}
	})

	t.Run("a death learnt on the call is still recorded", func(t *testing.T) {
		r := ag.post("/followup/tasks/"+itoa(e.p1L3)+"/attempts", url.Values{"outcome": {followup.Deceased}, "channel": {"phone"},
			"note": {"家属接听，告知患者已于10月10日去世"}})
		if r.status != http.StatusOK {
			t.Fatalf("attempt: %d\n%s", r.status, excerpt(r.body))
		}
		pat, err := e.sv.Patients.Get(ctx, nil, e.p1)
		if err != nil || !pat.Deceased {
			t.Fatalf("the call's outcome did not record the death: %+v %v", pat, err)
		}
	})
}

// TestRevealLimit: past the cap a reveal is refused for every role, the
// refusal is audited, and quality gets one in-app alert per window naming
// the user and the count, never the patient.
func TestRevealLimit(t *testing.T) {
	e := newAgencyEnv(t, func(o *core.Options) {
		o.Reveals = patient.RevealLimits{Window: time.Hour, Staff: 3, Agency: 2}
	})
	ctx := context.Background()
	ag := e.login("agency", adminPW)
	task := "/followup/tasks/" + itoa(e.p1L3) + "/reveal"
	for range 2 {
		want(t, ag.post(task, nil), http.StatusOK, "13800138000")
	}
	r := ag.post(task, nil) // the third in the hour; before, there was no cap
	want(t, r, http.StatusForbidden, "查看完整信息的次数已达上限")
	wantNot(t, r, "13800138000")
	want(t, ag.post(task, nil), http.StatusForbidden)
	inbox, err := e.sv.Notify.Inbox(ctx, e.principal("quality"), 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox) != 1 || inbox[0].Template != "patient.reveal_limit" || !strings.Contains(inbox[0].Text, "agency") ||
		!strings.Contains(inbox[0].Text, "3次") {
		t.Fatalf("quality inbox: %+v", inbox)
	}
	for _, leak := range []string{"李建国", "13800138000", "2026000123", "ZY202609220001"} {
		if strings.Contains(inbox[0].Text, leak) {
			t.Errorf("the alert names the patient: %q", inbox[0].Text)
		}
	}
	list, err := e.sv.Audit.List(ctx, access.System(), audit.Filter{Action: "patient.reveal", Actor: "agency"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, a := range list {
		if !a.Success {
			refused++
		}
	}
	if len(list) != 4 || refused != 2 {
		t.Fatalf("reveals audited: %d, refused %d", len(list), refused)
	}
	// Staff have their own, higher cap.
	agent := e.login("agent", adminPW)
	for range 3 {
		want(t, agent.post("/patients/"+itoa(e.p2)+"/reveal", url.Values{"field": {"national_id"}}), http.StatusOK, "310104196711052466")
	}
	want(t, agent.post("/patients/"+itoa(e.p2)+"/reveal", url.Values{"field": {"national_id"}}), http.StatusForbidden)
	if inbox, _ = e.sv.Notify.Inbox(ctx, e.principal("quality"), 20); len(inbox) != 2 {
		t.Fatalf("quality inbox after the agent's cap: %d", len(inbox))
	}
	// The next hour starts afresh.
	e.clk.Advance(time.Hour)
	want(t, e.login("agency", adminPW).post(task, nil), http.StatusOK, "13800138000")
}

// TestClaimHeldUsesConfiguredPolicy: the task page greys a claim only as
// long as the configured claim time, not the built-in 30 minutes (the
// handler used DefaultPolicy()).
func TestClaimHeldUsesConfiguredPolicy(t *testing.T) {
	e := newAgencyEnv(t, func(o *core.Options) { o.Followup.ClaimFor = 10 * time.Minute })
	agent := e.login("agent", adminPW)
	want(t, agent.post("/followup/tasks/"+itoa(e.p2L3)+"/claim", nil), http.StatusOK)
	if _, err := e.sv.Auth.CreateUser(context.Background(), access.System(), auth.UserInput{Username: "agent2", DisplayName: "钱随访",
		Password: adminPW, HomeInstitutionID: e.h1, Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: e.h1}},
		Active: true}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(5 * time.Minute)
	other := e.login("agent2", adminPW)
	task := "/followup/tasks/" + itoa(e.p2L3)
	r := other.get(task)
	want(t, r, http.StatusOK, "pill amber")
	wantNot(t, r, `id="claim-form"`)
	e.clk.Advance(6 * time.Minute) // 11 minutes: the claim has lapsed (it would hold for 30 by default)
	r = other.get(task)
	want(t, r, http.StatusOK, `id="claim-form"`)
	wantNot(t, r, "pill amber")
	if err := e.sv.Followup.Claim(context.Background(), e.principal("agent2"), e.p2L3); err != nil {
		t.Fatalf("the service lets the claim lapse at 10 minutes: %v", err)
	}
}

// TestRecordFlashReportsTheCase: the page says a case went to the
// department exactly when the follow-up service opened one (the handler
// used to repeat the rule and claim a case the service never opened).
func TestRecordFlashReportsTheCase(t *testing.T) {
	e := newAgencyEnv(t, nil)
	dissatisfied := url.Values{"channel": {"phone"}, "treatment_effect": {"improved"}, "satisfaction": {followup.Dissatisfied},
		"medication_guidance": {"按时服用阿司匹林"}, "revisit_advice": {"两周后心内科复诊"}, "opinions": {"出院带药说明不清楚，电话咨询没人接"}}
	ag := e.login("agency", adminPW)
	want(t, ag.post("/followup/tasks/"+itoa(e.p1L3)+"/claim", nil), http.StatusOK)
	want(t, ag.post("/followup/tasks/"+itoa(e.p1L3)+"/record", dissatisfied), http.StatusOK, "已转科室处理（随访病例）。")
	// Without a case room wired, nothing is opened and the page says so.
	e.sv.Followup.SetCaseHook(nil)
	agent := e.login("agent", adminPW)
	want(t, agent.post("/followup/tasks/"+itoa(e.p2L3)+"/claim", nil), http.StatusOK)
	r := agent.post("/followup/tasks/"+itoa(e.p2L3)+"/record", dissatisfied)
	want(t, r, http.StatusOK, "SF-H1-")
	wantNot(t, r, "已转科室处理（随访病例）。")
}
