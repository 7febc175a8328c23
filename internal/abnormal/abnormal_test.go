package abnormal_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
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
	msgs []notify.Message
	keys map[string]bool
}

func (f *fakeOutbox) Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error) {
	if tx == nil || m.IdempotencyKey == "" {
		return 0, fmt.Errorf("fake outbox: enqueue needs a transaction and a key")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[m.IdempotencyKey] {
		return 1, nil
	}
	f.keys[m.IdempotencyKey] = true
	f.msgs = append(f.msgs, m)
	return int64(len(f.msgs)), nil
}

func (f *fakeOutbox) of(template, channel string) []notify.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []notify.Message
	for _, m := range f.msgs {
		if m.Template == template && m.Channel == channel {
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
	ab     *abnormal.Service
	outbox *fakeOutbox

	inst, cardio, ortho         int64
	leader, quality, nurse      *access.Principal
	orthoNurse, agent, head     *access.Principal
	visit                       string
	encounter, patientID, recID int64
	loc                         *time.Location
}

// setup wires the services as the app does, with a fake clock at Monday
// 2026-03-02 09:00 Beijing time (service hours 08:00–17:30), one hospital,
// staff, one discharge of 心血管内科 and the nurse's follow-up record of it.
func setup(t testing.TB, db *store.DB) *env {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, loc: loc, clk: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, loc))}
	e.outbox = &fakeOutbox{keys: map[string]bool{}}
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
	e.ab = e.sv.Abnormal
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
	e.leader = e.user("leader", access.Leadership, "138 0000 0001", access.Grant{InstitutionID: e.inst})
	e.quality = e.user("quality", access.Quality, "", access.Grant{InstitutionID: e.inst})
	e.agent = e.user("agent", access.Agent, "", access.Grant{InstitutionID: e.inst})
	e.head = e.user("head", access.DeptHead, "", access.Grant{InstitutionID: e.inst, DepartmentID: e.cardio})
	e.nurse = e.user("nurse", access.Nurse, "", access.Grant{InstitutionID: e.inst, DepartmentID: e.cardio})
	e.orthoNurse = e.user("orthonurse", access.Nurse, "", access.Grant{InstitutionID: e.inst, DepartmentID: e.ortho})

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
	tasks, err := e.sv.Followup.EncounterTasks(ctx, sys, e.encounter)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks: %v %d", err, len(tasks))
	}
	if err := e.sv.Followup.Claim(ctx, e.nurse, tasks[0].ID); err != nil {
		t.Fatal(err)
	}
	rec, err := e.sv.Followup.Complete(ctx, e.nurse, tasks[0].ID, followup.RecordInput{Channel: "phone", TreatmentEffect: "improved",
		Satisfaction: followup.Satisfied, MedicationGuidance: "按时服药", RevisitAdvice: "两周后复诊", NPS: -1,
		Opinions: "家属称另一家机构让其用本人医保卡替亲属开药"})
	if err != nil {
		t.Fatal(err)
	}
	e.recID = rec.ID
	return e
}

func (e *env) user(name string, role access.Role, phone string, g access.Grant) *access.Principal {
	e.t.Helper()
	id, err := e.sv.Auth.CreateUser(ctx, access.System(), auth.UserInput{Username: name, DisplayName: name + "-名", Password: "Passw0rd!x",
		HomeInstitutionID: e.inst, Phone: phone, Roles: []access.Role{role}, Grants: []access.Grant{g}, Active: true})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.sv.Auth.PrincipalFor(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) act(p *access.Principal, id int64, in abnormal.ActionInput) *abnormal.Report {
	e.t.Helper()
	r, err := e.ab.Act(ctx, p, id, in)
	if err != nil {
		e.t.Fatalf("%s as %s: %v", in.Action, p.Username, err)
	}
	return r
}

// exec runs one statement in a write transaction.
func exec(db *store.DB, q string, args ...any) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || (code != "" && errs.CodeOf(err) != code) {
		t.Fatalf("got %v (kind %v code %q), want %v %q", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func TestRaiseFromRecordAlertsLeadershipAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		r, err := e.ab.Raise(ctx, e.nurse, abnormal.Input{RecordID: e.recID, Kind: "insurance_fraud", Summary: "疑似冒用医保卡替亲属开药"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Number != "YC-H1-20260302-0001" || r.Status != abnormal.Reported || r.OwnerID != 0 || r.Severity != abnormal.Normal {
			t.Fatalf("report %+v", r)
		}
		if r.InstitutionID != e.inst || r.PatientID != e.patientID || r.EncounterID != e.encounter || r.SourceKind != abnormal.FromRecord ||
			r.SourceID != e.recID || !strings.HasPrefix(r.SourceRef, "SF-H1-") || r.ReporterID != e.nurse.UserID {
			t.Fatalf("links %+v", r)
		}
		// 09:00 Monday + 2 service hours.
		if want := time.Date(2026, 3, 2, 11, 0, 0, 0, e.loc); !r.RealertDue.Equal(want) {
			t.Errorf("re-alert due %v, want %v", r.RealertDue.In(e.loc), want)
		}
		// In-app to the leader and quality, naming only the number; SMS to
		// the leader, who has a mobile number, naming nothing.
		inApp := e.outbox.of("abnormal.raised", notify.InApp)
		if len(inApp) != 2 || inApp[0].To != strconv.FormatInt(e.leader.UserID, 10) || inApp[1].To != strconv.FormatInt(e.quality.UserID, 10) {
			t.Fatalf("in-app alerts %+v", inApp)
		}
		want := map[string]string{"number": r.Number, "link": "/abnormal/" + strconv.FormatInt(r.ID, 10)}
		if fmt.Sprint(inApp[0].Params) != fmt.Sprint(want) {
			t.Errorf("params %v, want %v", inApp[0].Params, want)
		}
		sms := e.outbox.of("abnormal.raised", notify.SMS)
		if len(sms) != 1 || sms[0].To != "13800000001" || len(sms[0].Params) != 0 || sms[0].Patient {
			t.Fatalf("sms %+v", sms)
		}
		// Every default template these messages use passes the guard
		// with the parameters given.
		for _, m := range append(inApp, sms...) {
			tpl, ok := notify.Default(m.Template, m.Channel)
			if !ok {
				t.Fatalf("no template %s/%s", m.Template, m.Channel)
			}
			body := tpl.Body
			for k, v := range m.Params {
				body = strings.ReplaceAll(body, "{"+k+"}", v)
			}
			if m.Channel == notify.SMS {
				if err := notify.Guard(body); err != nil {
					t.Errorf("sms %q refused: %v", body, err)
				}
			}
		}
		// The second report of the day numbers on.
		r2, err := e.ab.Raise(ctx, e.agent, abnormal.Input{InstitutionID: e.inst, Kind: "dispute", Severity: abnormal.Urgent,
			Summary: "家属扬言要到医院讨说法", VisitNumber: e.visit})
		if err != nil || r2.Number != "YC-H1-20260302-0002" || r2.EncounterID != e.encounter || r2.SourceKind != abnormal.FromManual {
			t.Fatalf("second %+v %v", r2, err)
		}
		// The links back: the record lists its report for the nurse, not
		// the agent's manual report.
		got, err := e.ab.BySource(ctx, e.nurse, abnormal.FromRecord, e.recID)
		if err != nil || len(got) != 1 || got[0].ID != r.ID {
			t.Fatalf("by source %v %v", got, err)
		}
		evs, err := e.ab.Events(ctx, e.leader, r.ID)
		if err != nil || len(evs) != 2 || evs[0].Action != "report" || evs[1].Action != "alert" || evs[1].UserID != 0 {
			t.Fatalf("events %v %v", evs, err)
		}
	})
}

func TestRaiseRefusesBadInputAndOutOfScopeSources(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		base := abnormal.Input{InstitutionID: e.inst, Kind: "safety", Summary: "病区走廊地面湿滑无警示"}
		cases := []struct {
			name  string
			p     *access.Principal
			edit  func(*abnormal.Input)
			kind  errs.Kind
			code  string
			field string
		}{
			{"unknown kind", e.nurse, func(in *abnormal.Input) { in.Kind = "fraud" }, errs.Invalid, "abnormal_bad_kind", "kind"},
			{"bad severity", e.nurse, func(in *abnormal.Input) { in.Severity = "high" }, errs.Invalid, "abnormal_bad_severity", "severity"},
			{"empty summary", e.nurse, func(in *abnormal.Input) { in.Summary = "  " }, errs.Invalid, "abnormal_bad_summary", "summary"},
			{"long summary", e.nurse, func(in *abnormal.Input) { in.Summary = strings.Repeat("长", 4001) }, errs.Invalid, "abnormal_bad_summary", "summary"},
			{"two sources", e.nurse, func(in *abnormal.Input) { in.RecordID, in.ComplaintID = e.recID, 1 }, errs.Invalid, "abnormal_bad_source", "source"},
			{"unknown stay", e.nurse, func(in *abnormal.Input) { in.VisitNumber = "NOPE" }, errs.Invalid, "abnormal_encounter_not_found", "visit_number"},
			// The orthopaedic nurse may not see the cardiology record, so
			// cannot raise from it either.
			{"record out of scope", e.orthoNurse, func(in *abnormal.Input) { in.RecordID = e.recID }, errs.Invalid, "abnormal_source_not_found", "record_id"},
			{"no such complaint", e.nurse, func(in *abnormal.Input) { in.ComplaintID = 999 }, errs.Invalid, "abnormal_source_not_found", "complaint_id"},
			{"other institution", e.nurse, func(in *abnormal.Input) { in.InstitutionID = e.inst + 100 }, errs.Forbidden, "out_of_scope", ""},
		}
		for _, c := range cases {
			in := base
			c.edit(&in)
			_, err := e.ab.Raise(ctx, c.p, in)
			wantErr(t, err, c.kind, c.code)
			if c.field != "" {
				if fe, _ := errs.As(err); fe == nil || fe.Fields[c.field] == "" {
					t.Errorf("%s: error %v names the wrong field", c.name, err)
				}
			}
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM abnormal_reports`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused reports stored: %d %v", n, err)
		}
		if len(e.outbox.msgs) != 0 {
			t.Fatalf("refused reports alerted: %+v", e.outbox.msgs)
		}
	})
}

func TestFlowScopeAndChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c, err := e.sv.Complaints.Register(ctx, e.agent, complaint.Input{InstitutionID: e.inst, Channel: "phone", ComplainantName: "张晓明",
			Content: "家属情绪激动，称要找媒体", VisitNumber: e.visit})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.ab.Raise(ctx, e.agent, abnormal.Input{ComplaintID: c.ID, Kind: "dispute", Severity: abnormal.Urgent, Summary: "纠纷苗头：家属称要找媒体"})
		if err != nil {
			t.Fatal(err)
		}
		if r.SourceKind != abnormal.FromComplaint || r.SourceRef != c.Number || r.PatientID != e.patientID {
			t.Fatalf("source %+v", r)
		}
		// Scope: the reporter and leadership/quality see it; a nurse, the
		// department head and another department's nurse do not.
		for _, p := range []*access.Principal{e.agent, e.leader, e.quality} {
			if _, err := e.ab.Get(ctx, p, r.ID); err != nil {
				t.Errorf("%s cannot see: %v", p.Username, err)
			}
		}
		for _, p := range []*access.Principal{e.nurse, e.head, e.orthoNurse} {
			_, err := e.ab.Get(ctx, p, r.ID)
			wantErr(t, err, errs.Forbidden, "out_of_scope")
		}
		// The reporter may add a note but not take charge.
		e.act(e.agent, r.ID, abnormal.ActionInput{Action: abnormal.ActNote, Note: "家属下午会再来"})
		_, err = e.ab.Act(ctx, e.agent, r.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge})
		wantErr(t, err, errs.Forbidden, "abnormal_action_forbidden")
		// Out of order.
		_, err = e.ab.Act(ctx, e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActConclude, Finding: "confirmed", Conclusion: "x"})
		wantErr(t, err, errs.Conflict, "abnormal_bad_transition")

		e.clk.Advance(20 * time.Minute)
		r = e.act(e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge})
		if r.Status != abnormal.Acknowledged || r.OwnerID != e.leader.UserID || !r.RealertDue.IsZero() || r.OwnerName != "leader-名" {
			t.Fatalf("acknowledged %+v", r)
		}
		// A second leader acknowledging finds it taken.
		_, err = e.ab.Act(ctx, e.quality, r.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge})
		wantErr(t, err, errs.Conflict, "abnormal_bad_transition")
		e.act(e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActInvestigate, Note: "医务处牵头，调阅病历"})
		// Referred needs where to.
		_, err = e.ab.Act(ctx, e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActConclude, Finding: "referred", Conclusion: "移交"})
		wantErr(t, err, errs.Invalid, "abnormal_missing_referred_to")
		_, err = e.ab.Act(ctx, e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActConclude, Finding: "maybe", Conclusion: "x"})
		wantErr(t, err, errs.Invalid, "abnormal_bad_finding")
		r = e.act(e.quality, r.ID, abnormal.ActionInput{Action: abnormal.ActConclude, Finding: "referred", ReferredTo: "医务处",
			Conclusion: "沟通不充分引发不满，已移交医务处调解", Actions: "科室加强术前谈话"})
		if r.Status != abnormal.Concluded || r.Finding != "referred" || r.ReferredTo != "医务处" || r.ConcludedAt.IsZero() {
			t.Fatalf("concluded %+v", r)
		}
		r = e.act(e.leader, r.ID, abnormal.ActionInput{Action: abnormal.ActClose})
		if r.Status != abnormal.Closed || r.ClosedAt.IsZero() {
			t.Fatalf("closed %+v", r)
		}
		// Reopen needs a reason, then clears the conclusion.
		_, err = e.ab.Act(ctx, e.quality, r.ID, abnormal.ActionInput{Action: abnormal.ActReopen})
		wantErr(t, err, errs.Invalid, "abnormal_missing_reason")
		r = e.act(e.quality, r.ID, abnormal.ActionInput{Action: abnormal.ActReopen, Note: "家属再次投诉"})
		if r.Status != abnormal.Investigating || r.Finding != "" || !r.ClosedAt.IsZero() || r.OwnerID != e.leader.UserID {
			t.Fatalf("reopened %+v", r)
		}
		// The owner never goes empty once taken: the table refuses it.
		if err := exec(db, `UPDATE abnormal_reports SET owner_id = 0 WHERE id = $1`, r.ID); err == nil {
			t.Error("the table accepted an ownerless acknowledged report")
		}
		evs, err := e.ab.Events(ctx, e.quality, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, ev := range evs {
			acts = append(acts, ev.Action)
		}
		if got := strings.Join(acts, ","); got != "report,alert,note,acknowledge,investigate,conclude,close,reopen" {
			t.Errorf("history %s", got)
		}
		// The chain verifies, and the table refuses edits.
		res, err := e.ab.VerifyEvents(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != len(evs) {
			t.Fatalf("verify %+v %v", res, err)
		}
		if err := exec(db, `UPDATE abnormal_events SET detail = 'x' WHERE id = $1`, evs[0].ID); err == nil {
			t.Error("abnormal_events accepted an UPDATE")
		}
		// Audit entries for raise and each action.
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'abnormal.%'`).Scan(&n); err != nil || n != 7 {
			t.Errorf("audit entries %d %v, want 7", n, err)
		}
	})
}

func TestListTabs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		mine, err := e.ab.Raise(ctx, e.nurse, abnormal.Input{RecordID: e.recID, Kind: "insurance_fraud", Summary: "疑似骗保"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.ab.Raise(ctx, e.agent, abnormal.Input{InstitutionID: e.inst, Kind: "safety", Summary: "跌倒风险"})
		if err != nil {
			t.Fatal(err)
		}
		e.act(e.quality, other.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge})
		ids := func(l *abnormal.List) string {
			var s []string
			for _, r := range l.Items {
				s = append(s, strconv.FormatInt(r.ID, 10))
			}
			return fmt.Sprintf("%d:%s", l.Total, strings.Join(s, ","))
		}
		l, err := e.ab.List(ctx, e.nurse, abnormal.Filter{InstitutionID: e.inst})
		if err != nil || l.Tab != abnormal.TabMine || len(l.Tabs) != 1 || ids(l) != fmt.Sprintf("1:%d", mine.ID) {
			t.Fatalf("nurse list %+v %v", l, err)
		}
		_, err = e.ab.List(ctx, e.nurse, abnormal.Filter{InstitutionID: e.inst, Tab: abnormal.TabAll})
		wantErr(t, err, errs.Forbidden, "abnormal_tab_forbidden")
		l, err = e.ab.List(ctx, e.quality, abnormal.Filter{InstitutionID: e.inst})
		if err != nil || l.Tab != abnormal.TabOpen || ids(l) != fmt.Sprintf("2:%d,%d", other.ID, mine.ID) {
			t.Fatalf("quality open %+v %v", l, err)
		}
		l, err = e.ab.List(ctx, e.quality, abnormal.Filter{InstitutionID: e.inst, Tab: abnormal.TabMine})
		if err != nil || ids(l) != fmt.Sprintf("1:%d", other.ID) {
			t.Fatalf("quality mine %+v %v", l, err)
		}
		l, err = e.ab.List(ctx, e.leader, abnormal.Filter{InstitutionID: e.inst, Tab: abnormal.TabAll, Kind: "insurance_fraud"})
		if err != nil || ids(l) != fmt.Sprintf("1:%d", mine.ID) {
			t.Fatalf("leader by kind %+v %v", l, err)
		}
		l, err = e.ab.List(ctx, e.leader, abnormal.Filter{InstitutionID: e.inst, Tab: abnormal.TabAll, Status: abnormal.Acknowledged})
		if err != nil || ids(l) != fmt.Sprintf("1:%d", other.ID) {
			t.Fatalf("leader by status %+v %v", l, err)
		}
		_, err = e.ab.List(ctx, e.leader, abnormal.Filter{InstitutionID: e.inst, Status: "lost"})
		wantErr(t, err, errs.Invalid, "bad_status")
	})
}

// TestRealertOnceInServiceHours: a report filed at 16:40 on Friday
// 2026-03-06 (service hours 08:00–17:30) has 50 service minutes left that
// day and 70 more from Monday 08:00, so the re-alert is due Monday
// 2026-03-09 09:10. Two workers running every 10 simulated minutes across
// the weekend re-alert it exactly once, at the first pass at or after
// 09:10 Monday, never at night or on the weekend; an acknowledged report
// is never re-alerted.
func TestRealertOnceInServiceHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.clk.Set(time.Date(2026, 3, 6, 16, 40, 0, 0, e.loc))
		r, err := e.ab.Raise(ctx, e.nurse, abnormal.Input{RecordID: e.recID, Kind: "insurance_fraud", Summary: "疑似骗保"})
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 3, 9, 9, 10, 0, 0, e.loc); !r.RealertDue.Equal(want) {
			t.Fatalf("due %v, want %v", r.RealertDue.In(e.loc), want)
		}
		taken, err := e.ab.Raise(ctx, e.nurse, abnormal.Input{RecordID: e.recID, Kind: "dispute", Summary: "纠纷苗头"})
		if err != nil {
			t.Fatal(err)
		}
		e.act(e.quality, taken.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge})
		var at []time.Time
		for e.clk.Now().Before(time.Date(2026, 3, 9, 12, 0, 0, 0, e.loc)) {
			e.clk.Advance(10 * time.Minute)
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					n, err := e.ab.Realert(ctx)
					if err != nil {
						t.Error(err)
					}
					for range n {
						at = append(at, e.clk.Now())
					}
				})
			}
			wg.Wait()
		}
		if len(at) != 1 || !at[0].Equal(time.Date(2026, 3, 9, 9, 10, 0, 0, e.loc)) {
			t.Fatalf("re-alerted at %v, want once at Monday 09:10", at)
		}
		msgs := e.outbox.of("abnormal.realert", notify.InApp)
		if len(msgs) != 1 || msgs[0].To != strconv.FormatInt(e.leader.UserID, 10) || msgs[0].Params["number"] != r.Number {
			t.Fatalf("re-alert messages %+v", msgs)
		}
		got, err := e.ab.Get(ctx, e.leader, r.ID)
		if err != nil || !got.RealertDue.IsZero() || !got.RealertedAt.Equal(at[0]) {
			t.Fatalf("after re-alert %+v %v", got, err)
		}
	})
}
