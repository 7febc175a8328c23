package complaint_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/notice"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

// fakeOutbox records what would be queued, in the caller's transaction.
type fakeOutbox struct {
	mu   sync.Mutex
	msgs []sentMsg
	keys map[string]bool
	now  func() time.Time
}

type sentMsg struct {
	notify.Message
	At time.Time
}

func (f *fakeOutbox) Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error) {
	if tx == nil || m.IdempotencyKey == "" {
		return 0, fmt.Errorf("fake outbox: enqueue needs a transaction and a key")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[m.IdempotencyKey] {
		return 1, nil // the real outbox returns the first message
	}
	f.keys[m.IdempotencyKey] = true
	f.msgs = append(f.msgs, sentMsg{Message: m, At: f.now()})
	return int64(len(f.msgs)), nil
}

func (f *fakeOutbox) of(template string) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMsg
	for _, m := range f.msgs {
		if m.Template == template {
			out = append(out, m)
		}
	}
	return out
}

type env struct {
	t      testing.TB
	db     *store.DB
	clk    *clock.Fake
	sv     *core.Services
	cs     *complaint.Service
	outbox *fakeOutbox

	inst                 int64
	cardio, ortho        int64
	agent, head, quality *access.Principal
	leader, orthoNurse   *access.Principal
	visit                string
	encounter, patientID int64
	loc                  *time.Location
}

// setup wires the services as the app does, with a fake clock at Monday
// 2026-03-02 09:00 Beijing time, one hospital with two departments and
// staff, and one discharge of 心血管内科.
func setup(t testing.TB, db *store.DB) *env {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, loc: loc, clk: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, loc))}
	e.outbox = &fakeOutbox{now: e.clk.Now, keys: map[string]bool{}}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	e.sv, err = core.Build(db, core.Options{Now: e.clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index,
		Outbox: e.outbox})
	if err != nil {
		t.Fatal(err)
	}
	e.cs = e.sv.Complaints
	sys := access.System()
	e.inst, err = e.sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(code, name string) int64 {
		id, err := e.sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.inst, Code: code, Name: name, Kind: org.DeptClinical})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.cardio = mk("0301", "心血管内科")
	e.ortho = mk("0401", "骨科")
	e.agent = e.user("agent", access.Agent, access.Grant{InstitutionID: e.inst})
	e.head = e.user("head", access.DeptHead, access.Grant{InstitutionID: e.inst, DepartmentID: e.cardio})
	e.quality = e.user("quality", access.Quality, access.Grant{InstitutionID: e.inst})
	e.leader = e.user("leader", access.Leadership, access.Grant{InstitutionID: e.inst})
	e.orthoNurse = e.user("orthonurse", access.Nurse, access.Grant{InstitutionID: e.inst, DepartmentID: e.ortho})

	e.visit = "V1"
	at := time.Date(2026, 2, 26, 9, 30, 0, 0, loc)
	rep, err := e.sv.Importer.ImportStream(ctx, sys, importer.Options{Filename: "test"}, func(s intake.Sink) error {
		return s.Message(intake.Message{Source: "test", Line: 1, Event: intake.Discharge,
			Patient:   intake.Patient{MRN: "M1", Name: "张晓明", Sex: intake.Male, Phones: []string{"13800138000"}},
			Encounter: intake.Encounter{VisitNumber: e.visit, DepartmentCode: "0301", DepartmentName: "心血管内科", AdmittedAt: at.AddDate(0, 0, -5), DischargedAt: at, Outcome: intake.Improved}})
	})
	if err != nil || rep.Rejected != 0 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	enc, err := e.sv.Patients.EncounterByVisit(ctx, sys, e.inst, e.visit)
	if err != nil {
		t.Fatal(err)
	}
	e.encounter, e.patientID = enc.ID, enc.PatientID
	return e
}

func (e *env) user(name string, role access.Role, g access.Grant) *access.Principal {
	e.t.Helper()
	id, err := e.sv.Auth.CreateUser(ctx, access.System(), auth.UserInput{Username: name, DisplayName: name + "-名", Password: "Passw0rd!x",
		HomeInstitutionID: e.inst, Roles: []access.Role{role}, Grants: []access.Grant{g}, Active: true})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.sv.Auth.PrincipalFor(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) phoneComplaint() complaint.Input {
	return complaint.Input{InstitutionID: e.inst, Channel: "phone", ComplainantName: "张晓明", ComplainantRole: "patient",
		Contact: "138 0013 8000", VisitNumber: e.visit, Location: "心内科病房", People: "值班护士",
		Content: "出院结算时等候两小时无人解释", Asks: "希望得到解释和道歉", Category: "process"}
}

func (e *env) register(p *access.Principal, in complaint.Input) *complaint.Complaint {
	e.t.Helper()
	c, err := e.cs.Register(ctx, p, in)
	if err != nil {
		e.t.Fatalf("register: %v", err)
	}
	return c
}

func (e *env) act(p *access.Principal, id int64, in complaint.ActionInput) *complaint.Complaint {
	e.t.Helper()
	c, err := e.cs.Act(ctx, p, id, in)
	if err != nil {
		e.t.Fatalf("%s as %s: %v", in.Action, p.Username, err)
	}
	return c
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || (code != "" && errs.CodeOf(err) != code) {
		t.Fatalf("got %v (kind %v code %q), want %v %q", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func TestRegisterNumbersSealsAndTells(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c := e.register(e.agent, e.phoneComplaint())
		if c.Number != "TS-H1-20260302-0001" || c.Status != complaint.Registered || c.OwnerID != e.agent.UserID {
			t.Fatalf("number %s status %s owner %d; want TS-H1-20260302-0001, registered, the agent (首诉负责制)", c.Number, c.Status, c.OwnerID)
		}
		if c.DepartmentID != e.cardio || c.PatientID != e.patientID || c.EncounterID != e.encounter {
			t.Errorf("linked dept %d patient %d encounter %d; want the stay's", c.DepartmentID, c.PatientID, c.EncounterID)
		}
		if !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$`).MatchString(c.TrackingCode) {
			t.Errorf("tracking code %q", c.TrackingCode)
		}
		c2 := e.register(e.agent, e.phoneComplaint())
		if c2.Number != "TS-H1-20260302-0002" || c2.TrackingCode == c.TrackingCode {
			t.Errorf("second: %s %s", c2.Number, c2.TrackingCode)
		}
		// The contact is sealed at rest and masked on display.
		var raw string
		if err := db.R().QueryRowContext(ctx, `SELECT complainant_contact FROM complaints WHERE id = $1`, c.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(raw, "8000") || !strings.HasPrefix(raw, "v2.") { // bound to the complaint number
			t.Errorf("contact stored as %q", raw)
		}
		if c.ContactMasked != "138 **** 8000" {
			t.Errorf("masked contact %q", c.ContactMasked)
		}
		if got, err := e.cs.RevealContact(ctx, e.quality, c.ID); err != nil || got != "138 0013 8000" {
			t.Errorf("reveal = %q, %v", got, err)
		}
		// The receipt goes by SMS with the tracking code, never the content.
		rs := e.outbox.of("complaint.received")
		if len(rs) != 2 || rs[0].Channel != notify.SMS || rs[0].To != "13800138000" || rs[0].Params["number"] != c.TrackingCode ||
			rs[0].Params["days"] != "5" || !rs[0].Patient {
			t.Errorf("receipts %+v", rs)
		}
		// Every clock starts green.
		v, err := e.cs.Page(ctx, e.agent, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Policy.Complexity != complaint.Simple || len(v.Clocks) != 7 || v.Colour != complaint.Green {
			t.Errorf("policy %s clocks %d colour %s", v.Policy.Name, len(v.Clocks), v.Colour)
		}
		// A major complaint alerts leadership at once.
		in := e.phoneComplaint()
		in.Severity = complaint.Major
		m := e.register(e.agent, in)
		al := e.outbox.of("complaint.major")
		if len(al) != 1 || al[0].To != fmt.Sprint(e.leader.UserID) || al[0].Params["number"] != m.Number || al[0].Channel != notify.InApp {
			t.Errorf("major alerts %+v", al)
		}
	})
}

func TestRegisterRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for _, c := range []struct {
			mod   func(*complaint.Input)
			field string
		}{
			{func(in *complaint.Input) { in.Channel = "fax" }, "bad_channel"},
			{func(in *complaint.Input) { in.ComplainantName = " " }, "bad_complainant"},
			{func(in *complaint.Input) { in.Content = "" }, "bad_content"},
			{func(in *complaint.Input) { in.Category = "x" }, "bad_category"},
			{func(in *complaint.Input) { in.Severity = "huge" }, "bad_severity"},
			{func(in *complaint.Input) { in.VisitNumber = ""; in.DepartmentID = 0 }, "missing_department"},
			{func(in *complaint.Input) { in.VisitNumber = "NOPE" }, "complaint_encounter_not_found"},
			{func(in *complaint.Input) { in.OccurredOn = "2026-13-01" }, "bad_date"},
			{func(in *complaint.Input) { in.VisitNumber = ""; in.DepartmentID = 999999 }, "bad_department"},
		} {
			in := e.phoneComplaint()
			c.mod(&in)
			_, err := e.cs.Register(ctx, e.agent, in)
			wantErr(t, err, errs.Invalid, c.field)
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d complaints stored after refusals (%v)", n, err)
		}
	})
}

// TestWalkIntakeToArchive takes a phone complaint through every step,
// with a return by the department head, and checks who may do what, the
// milestones met, the rectification notice and the hash chain.
func TestWalkIntakeToArchive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c := e.register(e.agent, e.phoneComplaint())
		// Scope: the orthopaedic nurse sees nothing of a cardiology case.
		_, err := e.cs.Get(ctx, e.orthoNurse, c.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.cs.Act(ctx, e.head, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActApprove})
		wantErr(t, err, errs.Conflict, "bad_transition")

		e.clk.Advance(20 * time.Minute)
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		e.clk.Advance(2 * time.Hour)
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "nope", Severity: "general", Complexity: "simple"})
		wantErr(t, err, errs.Invalid, "bad_category")
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "service_attitude", Severity: complaint.Serious,
			Complexity: complaint.Simple, OtherDepts: []int64{e.ortho}})
		if !c.MultiDept() || c.Category != "service_attitude" {
			t.Fatalf("assessed: depts %v category %s", c.DepartmentIDs, c.Category)
		}
		// Now 骨科 is involved, its nurse may read it.
		if _, err := e.cs.Get(ctx, e.orthoNurse, c.ID); err != nil {
			t.Errorf("involved department cannot see: %v", err)
		}
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActInvestigate, Note: "医务：李医生；护理：王护士长；行政：赵科长"})
		c = e.act(e.head, c.ID, complaint.ActionInput{Action: complaint.ActNote, Note: "约谈当班护士，确认解释不到位"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "当面解释并致歉"})
		_, err = e.cs.Act(ctx, e.head, c.ID, complaint.ActionInput{Action: complaint.ActReturn})
		wantErr(t, err, errs.Invalid, "missing_reason")
		c = e.act(e.head, c.ID, complaint.ActionInput{Action: complaint.ActReturn, Note: "补充整改措施"})
		if c.Status != complaint.Investigating || c.ReturnReason != "补充整改措施" {
			t.Fatalf("returned: %s %q", c.Status, c.ReturnReason)
		}
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "当面解释并致歉；结算窗口增加引导", Compensation: "无"})
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActApprove})
		wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		c = e.act(e.head, c.ID, complaint.ActionInput{Action: complaint.ActApprove})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "电话告知处理结果并致歉"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "basic"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActRectify, Note: "结算窗口高峰时段增加引导人员"})
		if c.Status != complaint.Rectification || c.NoticeID == 0 {
			t.Fatalf("rectify: %s notice %d", c.Status, c.NoticeID)
		}
		n, err := e.sv.Notices.Get(ctx, e.quality, c.NoticeID)
		if err != nil || n.SourceKind != "complaint" || n.DepartmentID != e.cardio || n.PatientID != e.patientID {
			t.Fatalf("notice %+v %v", n, err)
		}
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActRevisit, Note: "回访：已增加引导，患者认可"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActArchive})
		if c.Status != complaint.Archived || c.ArchivedAt.IsZero() {
			t.Fatalf("archive: %s", c.Status)
		}
		v, err := e.cs.Page(ctx, e.quality, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range v.Clocks {
			if cl.Colour != complaint.Met {
				t.Errorf("%s: %s (met %v, due %v)", cl.Milestone, cl.Colour, cl.MetAt, cl.Deadline.At)
			}
		}
		// Reopening is quality's, and an event.
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActReopen, Note: "患者再次来电"})
		wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		c = e.act(e.quality, c.ID, complaint.ActionInput{Action: complaint.ActReopen, Note: "患者再次来电"})
		if c.Status != complaint.Investigating {
			t.Fatalf("reopened to %s", c.Status)
		}
		evs, err := e.cs.Events(ctx, e.quality, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, ev := range evs {
			acts = append(acts, ev.Action)
		}
		want := "register accept assess investigate note draft_plan return draft_plan approve feedback satisfaction rectify revisit archive reopen"
		if got := strings.Join(acts, " "); got != want {
			t.Errorf("history:\n got %s\nwant %s", got, want)
		}
		if evs[6].UserID != e.head.UserID || evs[6].Detail != "补充整改措施" || evs[6].From != complaint.PlanDrafted {
			t.Errorf("return event %+v", evs[6])
		}
		// The chain verifies, and refuses changes.
		res, err := e.cs.VerifyEvents(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != len(evs) {
			t.Fatalf("verify %+v %v", res, err)
		}
		if _, err := db.R().(*sql.DB).ExecContext(ctx, `UPDATE complaint_events SET detail = 'x' WHERE id = $1`, evs[0].ID); err == nil {
			t.Error("an event was updated")
		}
	})
}

// TestPauseKeepsTimeAcrossReclassification: waiting on the complainant
// stops the clocks; re-assessing as complex (another policy) keeps the
// paused time.
func TestPauseKeepsTimeAcrossReclassification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db) // Monday 2026-03-02 09:00
		c := e.register(e.agent, e.phoneComplaint())
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "fees", Severity: "general", Complexity: "simple"})
		e.clk.Set(time.Date(2026, 3, 3, 8, 0, 0, 0, e.loc))
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActPause, Reason: complaint.WaitComplainant})
		_, err := e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActPause, Reason: complaint.WaitComplainant})
		wantErr(t, err, errs.Conflict, "already_paused")
		v, _ := e.cs.Page(ctx, e.agent, c.ID)
		if v.Colour != complaint.Paused {
			t.Errorf("paused colour %s", v.Colour)
		}
		e.clk.Set(time.Date(2026, 3, 5, 8, 0, 0, 0, e.loc)) // Tue and Wed lost
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActResume})
		due := func(v *complaint.View, m string) string {
			for _, cl := range v.Clocks {
				if cl.Milestone == m {
					return cl.Deadline.Date.String()
				}
			}
			return "none"
		}
		v, _ = e.cs.Page(ctx, e.agent, c.ID)
		// Feedback, 5 working days from Mon 03-02 without Tue/Wed: Thu 05,
		// Fri 06, Mon 09, Tue 10, Wed 11.
		if got := due(v, complaint.MFeedback); got != "2026-03-11" {
			t.Errorf("simple feedback due %s", got)
		}
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActReclassify, Category: "fees", Severity: "serious", Complexity: "complex"})
		v, _ = e.cs.Page(ctx, e.agent, c.ID)
		// Complex answer, 20 calendar days without 03-03 and 03-04: Tue 03-24.
		if v.Policy.Complexity != complaint.Complex || due(v, complaint.MAnswerComplex) != "2026-03-24" || due(v, complaint.MFeedback) != "2026-03-11" {
			t.Errorf("after reclassifying: policy %s answer %s feedback %s", v.Policy.Name, due(v, complaint.MAnswerComplex), due(v, complaint.MFeedback))
		}
	})
}

func TestListTabsAndColours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.register(e.agent, e.phoneComplaint())
		in := e.phoneComplaint()
		in.VisitNumber, in.DepartmentID = "", e.ortho
		b := e.register(e.quality, in)
		e.clk.Advance(2 * time.Hour) // both passed "accepted" (1 h): red
		e.act(e.agent, a.ID, complaint.ActionInput{Action: complaint.ActAccept})
		l, err := e.cs.List(ctx, e.agent, complaint.Filter{InstitutionID: e.inst})
		if err != nil {
			t.Fatal(err)
		}
		if l.Tab != complaint.TabMine || l.Total != 1 || l.Items[0].ID != a.ID {
			t.Fatalf("mine: %+v", l)
		}
		l, err = e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll, Colour: complaint.Red})
		if err != nil || l.Total != 1 || l.Items[0].ID != b.ID {
			t.Fatalf("all red: %+v %v", l, err)
		}
		l, err = e.cs.List(ctx, e.orthoNurse, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabDept})
		if err != nil || l.Total != 1 || l.Items[0].ID != b.ID {
			t.Fatalf("ortho dept: %+v %v", l, err)
		}
		_, err = e.cs.List(ctx, e.orthoNurse, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll})
		wantErr(t, err, errs.Forbidden, "complaint_tab_forbidden")
	})
}

// simulatedRun registers n complaints over the first days (at all hours,
// weekends too), lets most of them run late, and runs the escalation
// worker of two instances every 30 simulated minutes for 30 days.
func TestEscalationSimulated30Days(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// Start on Friday 2026-09-25 00:00 (中秋节 off Fri–Sun): the run
		// crosses the National Day week and the worked Saturday 10-10.
		e.clk.Set(time.Date(2026, 9, 25, 0, 0, 0, 0, e.loc))
		pol, err := e.sv.Calendar.Policy(ctx, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		other := complaint.New(complaint.Deps{DB: db, Audit: e.sv.Audit, Calendars: e.sv.Calendar, Keys: mustKeys(t),
			Encounters: e.sv.Patients, Notices: e.sv.Notices, Outbox: e.outbox, Now: e.clk.Now})
		const n = 2000
		t0 := e.clk.Now()
		end := t0.AddDate(0, 0, 30)
		start := time.Now()
		ids := make([]int64, 0, n)
		register := func(i int) {
			in := e.phoneComplaint()
			in.VisitNumber, in.DepartmentID, in.Contact = "", e.cardio, ""
			if i%3 == 0 {
				in.Complexity = complaint.Complex
			}
			if i%5 == 0 {
				in.OtherDepts = []int64{e.ortho}
			}
			c, err := e.cs.Register(ctx, e.agent, in)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
			if i%4 == 1 { // a quarter are accepted at once and never escalate for it
				e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
			}
		}
		// One complaint every 3 minutes (≈ 4.2 days, nights and the
		// holiday included) while the workers of two instances run every
		// 30 minutes.
		steps, i := 0, 0
		for now := t0; now.Before(end); now = now.Add(30 * time.Minute) {
			for ; i < n && t0.Add(time.Duration(i)*3*time.Minute).Before(now.Add(30*time.Minute)); i++ {
				e.clk.Set(t0.Add(time.Duration(i) * 3 * time.Minute))
				register(i)
			}
			e.clk.Set(now.Add(30 * time.Minute))
			var wg sync.WaitGroup
			var ks [2]int
			var errs [2]error
			for j, s := range []*complaint.Service{e.cs, other} {
				wg.Go(func() { ks[j], errs[j] = s.Escalate(ctx) })
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("escalate: %v / %v", errs[0], errs[1])
			}
			steps += ks[0] + ks[1]
		}
		t.Logf("30 simulated days over %d complaints: %d escalations in %v", n, steps, time.Since(start))

		// Expected: every milestone of every complaint whose deadline fell
		// before the end, minus the ones met, escalated exactly once.
		pols := complaint.DefaultPolicies()
		want := 0
		for _, id := range ids {
			c, err := e.cs.Get(ctx, e.quality, id)
			if err != nil {
				t.Fatal(err)
			}
			sla := complaint.ChoosePolicy(pols, c.Category, c.Severity, c.Complexity)
			for _, tg := range sla.Targets {
				d := complaint.Due(pol, c.Clock(), tg, c.MultiDept())
				if c.MetAt(tg.Milestone).IsZero() && d.At.Before(end) {
					want++
				}
			}
		}
		var got, dup int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_escalations`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want || steps != want {
			t.Errorf("escalations stored %d, reported %d, want %d", got, steps, want)
		}
		msgs := e.outbox.of("complaint.escalate")
		seen := map[string]int{}
		for _, m := range msgs {
			seen[m.IdempotencyKey]++
			local := m.At.In(e.loc)
			if !pol.Cal.IsWorkingDay(calendar.DateOf(local)) {
				t.Fatalf("escalation on a day off: %s", local)
			}
			if mins := local.Hour()*60 + local.Minute(); mins < 8*60 || mins >= 17*60+30 {
				t.Fatalf("escalation outside service hours: %s", local)
			}
		}
		for k, v := range seen {
			if v > 1 {
				dup++
				t.Errorf("message %s queued %d times", k, v)
			}
		}
		if len(msgs) < want {
			t.Errorf("%d escalation messages for %d escalations", len(msgs), want)
		}
		// Every escalation happened at the first worker tick at or after
		// its deadline that fell inside service hours on a working day.
		rows, err := db.R().QueryContext(ctx, `SELECT due_at, at, level FROM complaint_escalations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		levels := map[int]int{}
		for rows.Next() {
			var due, at int64
			var level int
			if err := rows.Scan(&due, &at, &level); err != nil {
				t.Fatal(err)
			}
			levels[level]++
			d, a := store.Time(due), store.Time(at)
			if a.Before(d) {
				t.Fatalf("escalated at %s before its deadline %s", a, d)
			}
			tick := t0.Add((d.Sub(t0) + 30*time.Minute - 1) / (30 * time.Minute) * (30 * time.Minute))
			for !notice.InService(pol, tick) {
				tick = tick.Add(30 * time.Minute)
			}
			if !a.Equal(tick) {
				t.Fatalf("deadline %s escalated at %s, want the tick %s", d.In(e.loc), a.In(e.loc), tick.In(e.loc))
			}
		}
		if levels[complaint.LevelHead] == 0 || levels[complaint.LevelQuality] == 0 || levels[complaint.LevelLeadership] == 0 {
			t.Errorf("levels reached: %v", levels)
		}
		var reviews int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints WHERE accountability = $1`, true).Scan(&reviews); err != nil || reviews == 0 {
			t.Errorf("accountability reviews: %d %v", reviews, err)
		}
		t.Logf("levels %v, %d accountability reviews, %d messages", levels, reviews, len(msgs))
	})
}

func mustKeys(t *testing.T) *pii.Keyring {
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
