package notice_test

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
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/clock"
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
	t      *testing.T
	db     *store.DB
	clk    *clock.Fake
	sv     *core.Services
	nt     *notice.Service
	outbox *fakeOutbox

	inst                    int64
	cardio, ward, ortho, hq int64 // 心血管内科, its ward, 骨科, 后勤保障部
	head, nurse, quality    *access.Principal
	orthoHead, cardioDoctor *access.Principal
	closed                  []int64 // notices handed to OnClosed
	visit                   string
	encounter, patientID    int64
	mu                      sync.Mutex
}

// setup wires the services as the app does, with a fake clock at
// 2026-09-30 10:00 Beijing time (a Wednesday before National Day), one
// hospital with departments and staff, and one discharge of 心血管内科.
func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clk: clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC))}
	e.outbox = &fakeOutbox{now: e.clk.Now}
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
	e.nt = e.sv.Notices
	e.nt.OnClosed = func(ctx context.Context, tx *sql.Tx, n *notice.Notice) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.closed = append(e.closed, n.ID)
		return nil
	}
	sys := access.System()
	e.inst, err = e.sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(code, name, kind string, parent int64) int64 {
		id, err := e.sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.inst, Code: code, Name: name, Kind: kind, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.cardio = mk("0301", "心血管内科", org.DeptClinical, 0)
	e.ward = mk("W05", "心内一病区", org.DeptWard, e.cardio)
	e.ortho = mk("0401", "骨科", org.DeptClinical, 0)
	e.hq = mk("9003", "后勤保障部", org.DeptOffice, 0)
	e.head = e.user("head", access.DeptHead, access.Grant{InstitutionID: e.inst, DepartmentID: e.cardio})
	e.nurse = e.user("nurse", access.Nurse, access.Grant{InstitutionID: e.inst, DepartmentID: e.ward})
	e.quality = e.user("quality", access.Quality, access.Grant{InstitutionID: e.inst})
	e.orthoHead = e.user("orthohead", access.DeptHead, access.Grant{InstitutionID: e.inst, DepartmentID: e.ortho})
	e.cardioDoctor = e.user("doctor", access.Doctor, access.Grant{InstitutionID: e.inst, DepartmentID: e.cardio})

	e.visit = "V1"
	at := time.Date(2026, 9, 29, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	rep, err := e.sv.Importer.ImportStream(ctx, sys, importer.Options{Filename: "test"}, func(s intake.Sink) error {
		return s.Message(intake.Message{Source: "test", Line: 1, Event: intake.Discharge,
			Patient: intake.Patient{MRN: "M1", Name: "张晓明", Sex: intake.Male, Phones: []string{"13800138000"}},
			Encounter: intake.Encounter{VisitNumber: e.visit, DepartmentCode: "0301", DepartmentName: "心血管内科", WardCode: "W05",
				WardName: "心内一病区", AdmittedAt: at.AddDate(0, 0, -5), DischargedAt: at, Outcome: intake.Improved}})
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

// raise raises a notice by hand about the discharge.
func (e *env) raise(p *access.Principal, topic string, dept int64) *notice.Notice {
	e.t.Helper()
	n, err := e.nt.RaiseByHand(ctx, p, notice.RaiseInput{InstitutionID: e.inst, EncounterID: e.encounter, Topic: topic,
		DepartmentID: dept, Summary: "病房夜间噪音大，影响休息"})
	if err != nil {
		e.t.Fatalf("raise %s: %v", topic, err)
	}
	return n
}

func (e *env) act(p *access.Principal, id int64, in notice.TransitionInput) *notice.Notice {
	e.t.Helper()
	n, err := e.nt.Transition(ctx, p, id, in)
	if err != nil {
		e.t.Fatalf("%s as %s: %v", in.Action, p.Username, err)
	}
	return n
}

func (e *env) cal() *calendar.Calendar {
	pol, err := e.sv.Calendar.Policy(ctx, e.inst)
	if err != nil {
		e.t.Fatal(err)
	}
	return pol.Cal
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || (code != "" && errs.CodeOf(err) != code) {
		t.Fatalf("got %v (kind %v code %q), want %v %q", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func TestNoticeRaiseRoutesNumbersAndTells(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// nurses → the encounter's ward; its owner defaults to the head of
		// the ward's parent department (the ward has no head of its own).
		n := e.raise(e.quality, "nurses", 0)
		if n.DepartmentID != e.ward || n.Status != notice.Issued || n.PatientID != e.patientID {
			t.Fatalf("nurses notice: dept %d status %s patient %d; want the ward %d, issued, the patient", n.DepartmentID, n.Status, n.PatientID, e.ward)
		}
		if n.OwnerID != e.head.UserID {
			t.Errorf("owner = %d, want the department head %d", n.OwnerID, e.head.UserID)
		}
		if n.Number != "CG-H1-202609-0001" {
			t.Errorf("number = %s, want CG-H1-202609-0001", n.Number)
		}
		// 15 working days counted from the day after, over National Day.
		today := calendar.DateOf(e.clk.Now().In(time.FixedZone("CST", 8*3600)))
		if want := e.cal().AddWorkingDays(today, 15); n.IssuedOn != today || n.Deadline != want {
			t.Errorf("issued %s deadline %s, want %s and %s", n.IssuedOn, n.Deadline, today, want)
		}
		if e.cal().WorkingDaysBetween(today.AddDays(1), n.Deadline) != 15 || !n.Deadline.After(calendar.Date{Year: 2026, Month: 10, Day: 20}) {
			t.Errorf("deadline %s is not 15 working days after %s skipping the holiday", n.Deadline, today)
		}
		// doctors → the department; environment → the office named for it;
		// a fixed rule; an explicit department.
		if d := e.raise(e.quality, "doctors", 0); d.DepartmentID != e.cardio || d.Number != "CG-H1-202609-0002" {
			t.Errorf("doctors notice: dept %d number %s", d.DepartmentID, d.Number)
		}
		if d := e.raise(e.quality, "environment", 0); d.DepartmentID != e.hq {
			t.Errorf("environment notice went to %d, want 后勤保障部 %d", d.DepartmentID, e.hq)
		}
		if d := e.raise(e.quality, "meals", 0); d.DepartmentID != e.cardio {
			t.Errorf("meals notice (no 营养科) went to %d, want the department %d", d.DepartmentID, e.cardio)
		}
		v, err := e.nt.Routing(ctx, e.quality, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v.Routes {
			if v.Routes[i].Topic == "fees" {
				v.Routes[i] = notice.Route{Topic: "fees", Mode: notice.ToFixed, DepartmentID: e.ortho}
			}
		}
		v.Settings.DeadlineDays = 5
		if err := e.nt.SetRouting(ctx, e.head, e.inst, *v); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a department head changed the rules: %v", err)
		}
		if err := e.nt.SetRouting(ctx, e.quality, e.inst, *v); err != nil {
			t.Fatal(err)
		}
		d := e.raise(e.quality, "fees", 0)
		if d.DepartmentID != e.ortho || d.OwnerID != e.orthoHead.UserID || d.Deadline != e.cal().AddWorkingDays(today, 5) {
			t.Errorf("fees notice: dept %d owner %d deadline %s", d.DepartmentID, d.OwnerID, d.Deadline)
		}
		// Without a stay, a topic routed by the stay needs the department.
		_, err = e.nt.RaiseByHand(ctx, e.quality, notice.RaiseInput{InstitutionID: e.inst, Topic: "nurses", Summary: "x"})
		wantErr(t, err, errs.Invalid, "missing_department")
		_, err = e.nt.RaiseByHand(ctx, e.quality, notice.RaiseInput{InstitutionID: e.inst, Topic: "nurses", Summary: " ", DepartmentID: e.ward})
		wantErr(t, err, errs.Invalid, "bad_summary")
		// A nurse of the ward may not raise for another department.
		_, err = e.nt.RaiseByHand(ctx, e.nurse, notice.RaiseInput{InstitutionID: e.inst, Topic: "other", Summary: "x", DepartmentID: e.ortho})
		wantErr(t, err, errs.Invalid, "out_of_scope")

		// The owner heard of each, with no patient data in the message.
		issued := e.outbox.of("notice.issued")
		if len(issued) != 5 {
			t.Fatalf("%d notice.issued messages, want 5", len(issued))
		}
		m := issued[0]
		if m.Channel != notify.InApp || m.To != fmt.Sprint(e.head.UserID) || m.Params["number"] != n.Number ||
			m.Params["link"] != fmt.Sprintf("/notices/%d", n.ID) || m.Params["deadline"] != n.Deadline.String() || m.IdempotencyKey == "" {
			t.Errorf("issued message %+v", m.Message)
		}
		for _, m := range e.outbox.msgs {
			for _, v := range m.Params {
				if strings.Contains(v, "张") || strings.Contains(v, "M1") || strings.Contains(v, "噪音") {
					t.Errorf("message %s carries patient data: %v", m.Template, m.Params)
				}
			}
		}
		// The same source raises once.
		in := notice.RaiseInput{InstitutionID: e.inst, SourceKind: notice.FromComplaint, SourceRef: "complaint:7", Topic: "doctors",
			EncounterID: e.encounter, Summary: "投诉医生态度"}
		var a, b *notice.Notice
		for _, dst := range []**notice.Notice{&a, &b} {
			if err := db.Write(ctx, func(tx *sql.Tx) error {
				var err error
				*dst, err = e.nt.Raise(ctx, tx, in)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if a.ID != b.ID || a.SourceKind != notice.FromComplaint {
			t.Errorf("raising complaint:7 twice made %d and %d", a.ID, b.ID)
		}
	})
}

func TestNoticeFlowVerifyAndReturn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		n := e.raise(e.quality, "doctors", 0)

		// Quality cannot act for the department; another department's head
		// cannot even see it.
		_, err := e.nt.Transition(ctx, e.quality, n.ID, notice.TransitionInput{Action: notice.ActAccept})
		wantErr(t, err, errs.Forbidden, "notice_action_forbidden")
		_, err = e.nt.Transition(ctx, e.orthoHead, n.ID, notice.TransitionInput{Action: notice.ActAccept})
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		if _, err := e.nt.Get(ctx, e.orthoHead, n.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("another head reads the notice: %v", err)
		}
		// Verify before a submission is the wrong step.
		_, err = e.nt.Transition(ctx, e.quality, n.ID, notice.TransitionInput{Action: notice.ActVerify})
		wantErr(t, err, errs.Conflict, "bad_transition")

		e.act(e.cardioDoctor, n.ID, notice.TransitionInput{Action: notice.ActAccept})
		e.act(e.head, n.ID, notice.TransitionInput{Action: notice.ActStart})
		_, err = e.nt.Transition(ctx, e.head, n.ID, notice.TransitionInput{Action: notice.ActSubmit, ActionTaken: "培训"})
		wantErr(t, err, errs.Invalid, "missing_root_cause")
		n = e.act(e.head, n.ID, notice.TransitionInput{Action: notice.ActSubmit, RootCause: "查房时间安排过紧", ActionTaken: "调整查房排班"})
		if n.Status != notice.Submitted || n.RootCause != "查房时间安排过紧" || n.SubmittedAt.IsZero() {
			t.Fatalf("after submit: %+v", n)
		}
		// The department cannot verify its own work.
		_, err = e.nt.Transition(ctx, e.head, n.ID, notice.TransitionInput{Action: notice.ActVerify})
		wantErr(t, err, errs.Forbidden, "notice_action_forbidden")

		// Return path: a reason is required; the owner hears of it.
		_, err = e.nt.Transition(ctx, e.quality, n.ID, notice.TransitionInput{Action: notice.ActReturn})
		wantErr(t, err, errs.Invalid, "missing_reason")
		n = e.act(e.quality, n.ID, notice.TransitionInput{Action: notice.ActReturn, Reason: "措施不具体"})
		if n.Status != notice.Returned || n.ReturnReason != "措施不具体" {
			t.Fatalf("after return: %s %q", n.Status, n.ReturnReason)
		}
		if r := e.outbox.of("notice.returned"); len(r) != 1 || r[0].To != fmt.Sprint(n.OwnerID) {
			t.Errorf("returned messages %+v", r)
		}
		n = e.act(e.head, n.ID, notice.TransitionInput{Action: notice.ActSubmit, RootCause: "查房时间安排过紧",
			ActionTaken: "每日查房不少于 15 分钟，科主任抽查"})
		n = e.act(e.quality, n.ID, notice.TransitionInput{Action: notice.ActVerify})
		if n.Status != notice.Verified {
			t.Fatalf("status %s after verify", n.Status)
		}
		_, err = e.nt.Transition(ctx, e.head, n.ID, notice.TransitionInput{Action: notice.ActClose})
		wantErr(t, err, errs.Forbidden, "notice_action_forbidden")
		n = e.act(e.quality, n.ID, notice.TransitionInput{Action: notice.ActClose, SendRecovery: true})
		if n.Status != notice.Closed || !n.SendRecovery || n.ClosedAt.IsZero() {
			t.Fatalf("after close: %+v", n)
		}
		if len(e.closed) != 1 || e.closed[0] != n.ID {
			t.Errorf("OnClosed got %v, want [%d]", e.closed, n.ID)
		}
		_, err = e.nt.Transition(ctx, e.quality, n.ID, notice.TransitionInput{Action: notice.ActReassign, OwnerID: e.cardioDoctor.UserID})
		wantErr(t, err, errs.Conflict, "bad_transition")

		// The survey room reports the patient's answer.
		score := 9
		if err := e.nt.RecordRecovery(ctx, nil, n.ID, "satisfied", &score); err != nil {
			t.Fatal(err)
		}
		n, _ = e.nt.Get(ctx, e.quality, n.ID)
		if n.RecoveryResult != "satisfied" || n.RecoveryScore != 9 || n.RecoveryAt.IsZero() {
			t.Errorf("recovery %q %d %v", n.RecoveryResult, n.RecoveryScore, n.RecoveryAt)
		}

		evs, err := e.nt.Events(ctx, e.head, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Action+":"+ev.To)
		}
		want := "raise:issued accept:accepted start:rectifying submit:submitted return:returned submit:submitted verify:verified close:closed recovery:closed"
		if strings.Join(got, " ") != want {
			t.Errorf("history %s\nwant    %s", strings.Join(got, " "), want)
		}
		if evs[1].UserID != e.cardioDoctor.UserID || evs[1].Actor != "doctor" {
			t.Errorf("accept event by %d %s", evs[1].UserID, evs[1].Actor)
		}
		if es, _ := e.sv.Audit.List(ctx, access.System(), audit.Filter{Action: "notice.verify"}); len(es) != 1 {
			t.Errorf("%d notice.verify audit entries", len(es))
		}
	})
}

func TestNoticeReassignAndList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.raise(e.quality, "nurses", 0)  // the ward
		b := e.raise(e.quality, "doctors", 0) // 心血管内科
		c := e.raise(e.quality, "other", e.ortho)
		// The nurse of the ward cannot reassign; the head can, only to
		// someone of the department.
		_, err := e.nt.Transition(ctx, e.nurse, a.ID, notice.TransitionInput{Action: notice.ActReassign, OwnerID: e.nurse.UserID})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.nt.Transition(ctx, e.head, a.ID, notice.TransitionInput{Action: notice.ActReassign, OwnerID: e.orthoHead.UserID})
		wantErr(t, err, errs.Invalid, "bad_owner")
		owners, err := e.nt.Owners(ctx, e.head, a.ID)
		if err != nil || len(owners) < 2 {
			t.Fatalf("owners %+v %v", owners, err)
		}
		a = e.act(e.head, a.ID, notice.TransitionInput{Action: notice.ActReassign, OwnerID: e.nurse.UserID})
		if a.OwnerID != e.nurse.UserID {
			t.Fatalf("owner %d", a.OwnerID)
		}

		today := calendar.DateOf(e.clk.Now().In(time.FixedZone("CST", 8*3600)))
		l, err := e.nt.List(ctx, e.nurse, notice.Filter{InstitutionID: e.inst}, today)
		if err != nil {
			t.Fatal(err)
		}
		if l.Tab != notice.TabDept || l.Counts[notice.TabMine] != 1 || l.Counts[notice.TabDept] != 1 || len(l.Notices) != 1 || l.Notices[0].ID != a.ID {
			t.Errorf("nurse's list: tab %s counts %v notices %d", l.Tab, l.Counts, len(l.Notices))
		}
		if _, err := e.nt.List(ctx, e.nurse, notice.Filter{InstitutionID: e.inst, Tab: notice.TabAll}, today); !errs.Is(err, errs.Invalid) {
			t.Errorf("a nurse opened the all tab: %v", err)
		}
		// The head of 心血管内科 sees the department's notice (the ward's is
		// a child of it but the head's grant is on the department).
		l, _ = e.nt.List(ctx, e.head, notice.Filter{InstitutionID: e.inst, Tab: notice.TabDept}, today)
		if l.Total != 1 || l.Notices[0].ID != b.ID {
			t.Errorf("head's department tab %d notices", l.Total)
		}
		l, _ = e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst}, today)
		if l.Tab != notice.TabAll || l.Total != 3 || l.Counts[notice.TabOverdue] != 0 {
			t.Errorf("quality's list: tab %s total %d counts %v", l.Tab, l.Total, l.Counts)
		}
		l, _ = e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst, DepartmentID: e.ortho, Month: "2026-09"}, today)
		if l.Total != 1 || l.Notices[0].ID != c.ID {
			t.Errorf("filter by 骨科 and month: %d", l.Total)
		}
		l, _ = e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst, Month: "2026-10"}, today)
		if l.Total != 0 {
			t.Errorf("October has %d notices", l.Total)
		}
		// After the deadline all three are overdue.
		later := c.Deadline.AddDays(1)
		l, _ = e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst, Tab: notice.TabOverdue}, later)
		if l.Total != 3 || !l.Notices[0].Overdue(later) {
			t.Errorf("overdue on %s: %d", later, l.Total)
		}
		_, err = e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst, Month: "2026-13"}, today)
		wantErr(t, err, errs.Invalid, "bad_month")
	})
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")

func TestNoticeAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		n := e.raise(e.quality, "doctors", 0)
		a, err := e.nt.Attach(ctx, e.head, n.ID, `C:\整改\排班表.PNG`, pngBytes)
		if err != nil {
			t.Fatal(err)
		}
		if a.ContentType != notice.TypePNG || a.Filename != "排班表.png" || a.Size != int64(len(pngBytes)) || len(a.SHA256) != 64 {
			t.Errorf("attachment %+v", a)
		}
		_, err = e.nt.Attach(ctx, e.head, n.ID, "x.pdf", []byte("MZ\x90\x00 not a pdf"))
		wantErr(t, err, errs.Invalid, "bad_file_type")
		_, err = e.nt.Attach(ctx, e.head, n.ID, "big.png", append(pngBytes, make([]byte, notice.MaxAttachment)...))
		wantErr(t, err, errs.Invalid, "attachment_too_large")
		_, err = e.nt.Attach(ctx, e.orthoHead, n.ID, "a.png", pngBytes)
		wantErr(t, err, errs.Forbidden, "")

		got, data, err := e.nt.Download(ctx, e.quality, n.ID, a.ID)
		if err != nil || !bytes.Equal(data, pngBytes) || got.Filename != a.Filename {
			t.Fatalf("download: %v %d bytes", err, len(data))
		}
		if es, _ := e.sv.Audit.List(ctx, access.System(), audit.Filter{Action: "notice.download"}); len(es) != 1 || es[0].ActorID != e.quality.UserID {
			t.Errorf("download audit entries %+v", es)
		}
		if _, _, err := e.nt.Download(ctx, e.quality, n.ID, a.ID+99); !errs.Is(err, errs.NotFound) {
			t.Errorf("a missing attachment: %v", err)
		}
		list, err := e.nt.Attachments(ctx, e.head, n.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("attachments %v %v", list, err)
		}
	})
}

func TestNoticeChainVerifyAndTamper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		n := e.raise(e.quality, "doctors", 0)
		e.act(e.head, n.ID, notice.TransitionInput{Action: notice.ActAccept})
		e.raise(e.quality, "nurses", 0)
		res, err := e.nt.VerifyEvents(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != 3 {
			t.Fatalf("clean verify: %+v %v", res, err)
		}
		// The table refuses edits.
		err = db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE notice_events SET detail = 'x' WHERE notice_id = $1`, n.ID)
			return err
		})
		if err == nil {
			t.Fatal("an event was updated in place")
		}
		drop := `DROP TRIGGER notice_events_no_update`
		if db.Dialect == store.Postgres {
			drop += ` ON notice_events`
		}
		var victim int64
		err = db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, drop); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT id FROM notice_events WHERE action = 'accept'`).Scan(&victim); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE notice_events SET actor = 'someone' WHERE id = $1`, victim)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err = e.nt.VerifyEvents(ctx)
		if err != nil || len(res) != 1 || res[0].OK || res[0].BrokenID != victim || res[0].Checked != 2 {
			t.Errorf("verify after tampering: %+v %v", res, err)
		}
	})
}

// TestNoticeFollowupCase: a 不满意 record raises a notice in the record's
// transaction, routed by the step's role; a flagged opinion too.
func TestNoticeFollowupCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		tasks, err := e.sv.Followup.EncounterTasks(ctx, access.System(), e.encounter)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]*followup.Task{}
		for _, tk := range tasks {
			byKey[tk.StepKey] = tk
		}
		in := followup.RecordInput{TreatmentEffect: "improved", Satisfaction: followup.Dissatisfied, MedicationGuidance: "按时服药",
			RevisitAdvice: "两周后复诊", NPS: 2, Opinions: "护士态度冷淡"}
		rec, err := e.sv.Followup.Complete(ctx, e.nurse, byKey["L1"].ID, in)
		if err != nil {
			t.Fatal(err)
		}
		in = followup.RecordInput{TreatmentEffect: "good", Satisfaction: followup.Satisfied, MedicationGuidance: "按时服药",
			RevisitAdvice: "一个月后复诊", NPS: -1, Opinions: "停车难", OpinionProblem: true}
		rec2, err := e.sv.Followup.Complete(ctx, e.cardioDoctor, byKey["L2"].ID, in)
		if err != nil {
			t.Fatal(err)
		}
		today := calendar.DateOf(e.clk.Now().In(time.FixedZone("CST", 8*3600)))
		l, err := e.nt.List(ctx, e.quality, notice.Filter{InstitutionID: e.inst, Tab: notice.TabAll}, today)
		if err != nil || l.Total != 2 {
			t.Fatalf("notices after two records: %d %v", l.Total, err)
		}
		byDept := map[int64]*notice.Notice{}
		for _, n := range l.Notices {
			byDept[n.DepartmentID] = n
		}
		nurseN, docN := byDept[e.ward], byDept[e.cardio]
		if nurseN == nil || nurseN.SourceKind != notice.FromRecord || nurseN.SourceRef != fmt.Sprintf("followup_record:%d", rec.ID) ||
			nurseN.Topic != "nurses" || !strings.Contains(nurseN.Summary, "护士态度冷淡") || !strings.Contains(nurseN.Summary, rec.Number) ||
			nurseN.PatientID != e.patientID || nurseN.EncounterID != e.encounter {
			t.Errorf("the 不满意 notice: %+v", nurseN)
		}
		if docN == nil || docN.SourceKind != notice.FromAgentFlag || docN.Topic != "doctors" || !strings.Contains(docN.Summary, rec2.Number) {
			t.Errorf("the opinion notice: %+v", docN)
		}
		if !regexp.MustCompile(`^CG-H1-202609-000[12]$`).MatchString(nurseN.Number) {
			t.Errorf("number %s", nurseN.Number)
		}
	})
}
