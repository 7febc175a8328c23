package followup_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

var shanghai = time.FixedZone("CST", 8*3600)

// today is the fake clock's date in Beijing (2026-09-30 10:00).
var today = day("2026-09-30")

type env struct {
	t   *testing.T
	db  *store.DB
	clk *clock.Fake
	au  *audit.Service
	org *org.Service
	cdb *caldb.Service
	pat *patient.Service
	fu  *followup.Service
	imp *importer.Service

	inst         int64
	dept, ward   int64 // 0301 心血管内科 / W05 心内一病区
	dept2, ward2 int64 // 0401 骨科 / W07 骨科病区
}

// setup wires the services the way app.Open does, with a fake clock stopped
// at 2026-09-30 10:00 Beijing time, and creates institution H1 with two
// departments and two wards.
func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clk: clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC))}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := core.Build(db, core.Options{Now: e.clk.Now, Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(), Keys: keys, Index: index})
	if err != nil {
		t.Fatal(err)
	}
	e.au, e.org, e.cdb, e.pat, e.fu = sv.Audit, sv.Org, sv.Calendar, sv.Patients, sv.Followup
	e.imp = sv.Importer
	e.inst, err = e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		t.Fatal(err)
	}
	e.dept = e.mkDept("0301", "心血管内科", org.DeptClinical)
	e.ward = e.mkDept("W05", "心内一病区", org.DeptWard)
	e.dept2 = e.mkDept("0401", "骨科", org.DeptClinical)
	e.ward2 = e.mkDept("W07", "骨科病区", org.DeptWard)
	return e
}

func (e *env) mkDept(code, name, kind string) int64 {
	e.t.Helper()
	id, err := e.org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: e.inst, Code: code, Name: name, Kind: kind})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) cal() *calendar.Calendar {
	e.t.Helper()
	c, err := e.cdb.Calendar(ctx, e.inst)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// Principals.
func (e *env) nurse(ward int64) *access.Principal {
	return &access.Principal{UserID: 101, Username: "nurse", InstitutionID: e.inst, Roles: []access.Role{access.Nurse},
		Grants: []access.Grant{{InstitutionID: e.inst, DepartmentID: ward}}}
}

func (e *env) doctor(dept int64) *access.Principal {
	return &access.Principal{UserID: 102, Username: "doctor", InstitutionID: e.inst, Roles: []access.Role{access.Doctor},
		Grants: []access.Grant{{InstitutionID: e.inst, DepartmentID: dept}}}
}

func (e *env) deptHead(id, dept int64) *access.Principal {
	return &access.Principal{UserID: id, Username: fmt.Sprintf("head%d", id), InstitutionID: e.inst, Roles: []access.Role{access.DeptHead},
		Grants: []access.Grant{{InstitutionID: e.inst, DepartmentID: dept}}}
}

func (e *env) agent(id int64) *access.Principal {
	return &access.Principal{UserID: id, Username: fmt.Sprintf("agent%d", id), InstitutionID: e.inst, Roles: []access.Role{access.Agent},
		Grants: []access.Grant{{InstitutionID: e.inst}}}
}

// discharge is an A03 for a patient of 0301/W05 discharged on date at 09:30 Beijing.
func discharge(mrn, visit, date string, edit ...func(*intake.Message)) intake.Message {
	d := day(date)
	at := time.Date(d.Year, d.Month, d.Day, 9, 30, 0, 0, shanghai)
	m := intake.Message{Source: "test " + visit, Line: 1, Event: intake.Discharge,
		Patient: intake.Patient{MRN: mrn, Name: "患者" + mrn, Sex: intake.Male, BirthDate: day("1958-03-12"),
			Phones: []string{"13800138000"}, Address: "北京市朝阳区示例路1号"},
		Encounter: intake.Encounter{VisitNumber: visit, DepartmentCode: "0301", DepartmentName: "心血管内科", WardCode: "W05",
			WardName: "心内一病区", AttendingDoctor: "陈医生", ResponsibleNurse: "刘护士", AdmittedAt: at.AddDate(0, 0, -7),
			DischargedAt: at, Diagnoses: []intake.Diagnosis{{Code: "J18.9", Name: "肺炎"}}, Outcome: intake.Improved}}
	for _, f := range edit {
		f(&m)
	}
	return m
}

func inOrtho(m *intake.Message) {
	m.Encounter.DepartmentCode, m.Encounter.DepartmentName, m.Encounter.WardCode, m.Encounter.WardName = "0401", "骨科", "W07", "骨科病区"
}

func event(ev intake.Event) func(*intake.Message) {
	return func(m *intake.Message) { m.Event = ev }
}

// importMsgs runs messages through the importer as the system.
func (e *env) importMsgs(opt importer.Options, msgs ...intake.Message) *importer.Report {
	e.t.Helper()
	if opt.Filename == "" {
		opt.Filename = "test"
	}
	rep, err := e.imp.ImportStream(ctx, access.System(), opt, func(s intake.Sink) error {
		for _, m := range msgs {
			if err := s.Message(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("import: %v", err)
	}
	if rep.Rejected != 0 {
		e.t.Fatalf("import rejected %d: %+v", rep.Rejected, rep.Rejects)
	}
	return rep
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// tasks returns the tasks of a visit by step key, read through the service.
func (e *env) tasks(visit string) map[string]*followup.Task {
	e.t.Helper()
	rows, err := e.db.R().QueryContext(ctx, `SELECT t.id FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
		WHERE e.visit_number = $1 ORDER BY t.id`, visit)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := map[string]*followup.Task{}
	for _, id := range ids {
		t, err := e.fu.Task(ctx, access.System(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		out[t.StepKey] = t
	}
	return out
}

func (e *env) task(visit, key string) *followup.Task {
	e.t.Helper()
	t := e.tasks(visit)[key]
	if t == nil {
		e.t.Fatalf("visit %s has no task %s", visit, key)
	}
	return t
}

func (e *env) patientByMRN(mrn string) *patient.Patient {
	e.t.Helper()
	var id int64
	if err := e.db.R().QueryRowContext(ctx, `SELECT id FROM patients WHERE mrn = $1`, mrn).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	p, err := e.pat.Get(ctx, nil, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) worklist(p *access.Principal, f followup.Filter) *followup.Worklist {
	e.t.Helper()
	if f.InstitutionID == 0 {
		f.InstitutionID = e.inst
	}
	wl, err := e.fu.Worklist(ctx, p, f, followup.Today(e.clk.Now(), shanghai))
	if err != nil {
		e.t.Fatalf("worklist: %v", err)
	}
	return wl
}

func goodRecord() followup.RecordInput {
	return followup.RecordInput{Channel: "phone", TreatmentEffect: "improved", Satisfaction: followup.Satisfied,
		MedicationGuidance: "阿司匹林每日一次，饭后服用", RevisitAdvice: "两周后心内科门诊复诊", NPS: 9}
}

func (e *env) complete(p *access.Principal, taskID int64, in followup.RecordInput) *followup.Record {
	e.t.Helper()
	rec, err := e.fu.Complete(ctx, p, taskID, in)
	if err != nil {
		e.t.Fatalf("complete task %d: %v", taskID, err)
	}
	return rec
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || (code != "" && errs.CodeOf(err) != code) {
		t.Fatalf("got %v (kind %v code %q), want %v %q", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || e.Fields[field] == "" {
		t.Fatalf("got %v, want Invalid naming field %q", err, field)
	}
}

func TestFollowupImportCreatesPlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		rep := e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		if rep.New != 1 || rep.TasksCreated != 4 {
			t.Fatalf("report %+v, want 1 new encounter and 4 tasks", rep)
		}
		ts := e.tasks("V1")
		want := map[string]struct {
			due  string
			dept int64
			role access.Role
		}{
			"L1":    {"2026-09-30", e.ward, access.Nurse},
			"FIRST": {"2026-10-10", e.ward, access.Nurse},
			"L2":    {"2026-10-14", e.dept, access.Doctor},
			"L3":    {"2026-10-30", e.dept, access.Agent},
		}
		if len(ts) != len(want) {
			t.Fatalf("tasks %v", ts)
		}
		for k, w := range want {
			tk := ts[k]
			if tk == nil {
				t.Fatalf("task %s missing", k)
			}
			if tk.Due.String() != w.due || tk.DepartmentID != w.dept || tk.Role != w.role || tk.Status != followup.Open ||
				tk.Next != tk.Earliest || tk.RuleVersion != 1 || tk.MRN != "M1" || tk.DischargeDate != today {
				t.Errorf("task %s: %+v, want due %s dept %d role %s open", k, tk, w.due, w.dept, w.role)
			}
		}

		// Re-sending the same discharge creates nothing twice.
		rep = e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		if rep.New != 0 || rep.Unchanged != 1 || rep.TasksCreated != 0 {
			t.Errorf("re-import report %+v, want 1 unchanged and no tasks", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks`); n != 4 {
			t.Errorf("%d tasks after re-import, want 4", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters`); n != 1 {
			t.Errorf("%d encounters after re-import, want 1", n)
		}

		// A surgical patient gets the key plan; a death gets no call.
		rep = e.importMsgs(importer.Options{},
			discharge("M2", "V2", "2026-09-30", func(m *intake.Message) { m.Encounter.Surgery = true }),
			discharge("M3", "V3", "2026-09-30", func(m *intake.Message) { m.Encounter.Outcome = intake.Died }))
		if rep.TasksCreated != 6 {
			t.Errorf("surgery + death created %d tasks, want 6", rep.TasksCreated)
		}
		if k7 := e.task("V2", "K7"); k7.Due.String() != "2026-10-08" {
			t.Errorf("K7 due %s, want 2026-10-08", k7.Due)
		}
		if ts := e.tasks("V3"); len(ts) != 0 {
			t.Errorf("deceased patient got %d follow-ups", len(ts))
		}
		if !e.patientByMRN("M3").Deceased {
			t.Error("outcome died did not mark the patient deceased")
		}
	})
}

func TestFollowupCancelDischarge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		open := `SELECT COUNT(*) FROM followup_tasks WHERE status = 'open'`

		rep := e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30", event(intake.CancelDischarge)))
		if rep.Cancelled != 1 || rep.TasksCancelled != 4 {
			t.Errorf("A13 report %+v, want 1 cancelled and 4 tasks cancelled", rep)
		}
		if n := e.count(open); n != 0 {
			t.Fatalf("%d open tasks after A13, want 0", n)
		}
		for k, tk := range e.tasks("V1") {
			if tk.Status != followup.Cancelled || tk.CloseReason != "encounter_admitted" {
				t.Errorf("task %s after A13: %s %q", k, tk.Status, tk.CloseReason)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE status = 'admitted'`); n != 1 {
			t.Errorf("A13 should leave the stay admitted")
		}

		// The discharge comes again: the plan opens again, nothing doubles.
		rep = e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		if rep.TasksCreated != 4 {
			t.Errorf("second A03 report %+v, want 4 tasks reopened", rep)
		}
		if n := e.count(open); n != 4 {
			t.Errorf("%d open tasks after second A03, want 4", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks`); n != 4 {
			t.Errorf("%d tasks in all, want 4", n)
		}
		for k, tk := range e.tasks("V1") {
			if tk.CloseReason != "" || tk.Attempts != 0 {
				t.Errorf("reopened task %s: reason %q attempts %d", k, tk.CloseReason, tk.Attempts)
			}
		}

		// A completed follow-up is history: A13 + A03 leave it done.
		l1 := e.task("V1", "L1")
		e.complete(e.nurse(e.ward), l1.ID, goodRecord())
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30", event(intake.CancelDischarge)))
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		ts := e.tasks("V1")
		if ts["L1"].Status != followup.Done || ts["FIRST"].Status != followup.Done || ts["L2"].Status != followup.Open {
			t.Errorf("after complete + A13 + A03: L1 %s FIRST %s L2 %s", ts["L1"].Status, ts["FIRST"].Status, ts["L2"].Status)
		}

		// A11 cancels the stay and every open task.
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30", event(intake.CancelAdmit)))
		if n := e.count(open); n != 0 {
			t.Errorf("%d open tasks after A11", n)
		}
		if tk := e.task("V1", "L3"); tk.CloseReason != "encounter_cancelled" {
			t.Errorf("L3 after A11: %q", tk.CloseReason)
		}
	})
}

func TestFollowupLateDischargeOverdue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		rep := e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-01-05"))
		if rep.TasksCreated != 4 {
			t.Fatalf("late discharge created %d tasks, want its full plan (4)", rep.TasksCreated)
		}
		ts := e.tasks("V1")
		for k, due := range map[string]string{"L1": "2026-01-05", "FIRST": "2026-01-08", "L2": "2026-01-19", "L3": "2026-02-04"} {
			if ts[k].Due.String() != due || !ts[k].Overdue(today) {
				t.Errorf("%s due %s (overdue %v), want %s overdue", k, ts[k].Due, ts[k].Overdue(today), due)
			}
		}
		wl := e.worklist(e.agent(201), followup.Filter{Tab: followup.TabOverdue})
		if len(wl.Tasks) != 4 || wl.Total != 4 || wl.Counts[followup.TabOverdue] != 4 || wl.Counts[followup.TabToday] != 0 {
			t.Errorf("overdue worklist: %d tasks, counts %v", len(wl.Tasks), wl.Counts)
		}
		// Most urgent first.
		if len(wl.Tasks) > 0 && wl.Tasks[0].StepKey != "L1" {
			t.Errorf("first overdue task %s, want L1", wl.Tasks[0].StepKey)
		}
	})
}

func TestFollowupSkipBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		rep := e.importMsgs(importer.Options{SkipOlderThanDays: 30},
			discharge("M1", "OLD", "2026-01-05"), discharge("M2", "NEW", "2026-09-30"))
		if rep.New != 2 || rep.Skipped != 1 || rep.TasksCreated != 4 {
			t.Errorf("report %+v, want 2 new, 1 skipped, 4 tasks", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE visit_number = 'OLD' AND status = 'discharged'`); n != 1 {
			t.Error("the skipped discharge must still be stored")
		}
		if ts := e.tasks("OLD"); len(ts) != 0 {
			t.Errorf("skipped discharge got %d tasks", len(ts))
		}

		// The planner on its own.
		pl, err := e.fu.NewPlanner(ctx, e.inst, e.cal())
		if err != nil {
			t.Fatal(err)
		}
		pl.SkipBefore = day("2026-09-01")
		ch := &patient.Change{Created: true, Patient: &patient.Patient{ID: 1},
			Encounter: &patient.Encounter{Status: patient.Discharged, DischargeDate: day("2026-08-31")}}
		err = db.Write(ctx, func(tx *sql.Tx) error {
			res, err := pl.Apply(ctx, tx, ch)
			if err == nil && (!res.Skipped || res.Created != 0) {
				t.Errorf("planner result %+v, want skipped", res)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestFollowupWorklistScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"), discharge("M2", "V2", "2026-09-30", inOrtho))

		nurse := e.nurse(e.ward)
		wl := e.worklist(nurse, followup.Filter{})
		if len(wl.Tasks) != 2 || wl.Counts[followup.TabToday] != 2 || wl.Counts[followup.TabUpcoming] != 0 ||
			wl.Counts[followup.TabOverdue] != 0 || wl.Counts[followup.TabDone] != 0 || wl.Counts[followup.TabMine] != 0 {
			t.Errorf("nurse worklist: %d tasks, counts %v", len(wl.Tasks), wl.Counts)
		}
		for _, tk := range wl.Tasks {
			if tk.Role != access.Nurse || tk.DepartmentID != e.ward || tk.VisitNumber != "V1" {
				t.Errorf("nurse sees %s of %s (dept %d)", tk.StepKey, tk.VisitNumber, tk.DepartmentID)
			}
		}
		if wl := e.worklist(nurse, followup.Filter{DepartmentID: e.ward}); len(wl.Tasks) != 2 {
			t.Errorf("nurse filtered by her ward: %d tasks", len(wl.Tasks))
		}
		_, err := e.fu.Worklist(ctx, nurse, followup.Filter{InstitutionID: e.inst, DepartmentID: e.ward2}, today)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.fu.Worklist(ctx, nurse, followup.Filter{InstitutionID: e.inst + 100}, today)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		// A nurse cannot open a task of another ward either.
		_, err = e.fu.Task(ctx, nurse, e.task("V2", "L1").ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")

		// The service centre sees every role.
		wl = e.worklist(e.agent(201), followup.Filter{})
		if wl.Counts[followup.TabToday] != 4 || wl.Counts[followup.TabUpcoming] != 4 || len(wl.Tasks) != 4 {
			t.Errorf("agent counts %v, %d tasks; want 4 today, 4 upcoming", wl.Counts, len(wl.Tasks))
		}
		wl = e.worklist(e.agent(201), followup.Filter{Tab: followup.TabUpcoming, Level: 3})
		if len(wl.Tasks) != 2 || wl.Tasks[0].StepKey != "L3" {
			t.Errorf("agent level-3 upcoming: %d tasks", len(wl.Tasks))
		}
		// A doctor of 0301 sees the level-2 task of his department only.
		wl = e.worklist(e.doctor(e.dept), followup.Filter{Tab: followup.TabUpcoming})
		if len(wl.Tasks) != 1 || wl.Tasks[0].StepKey != "L2" || wl.Tasks[0].VisitNumber != "V1" {
			t.Errorf("doctor upcoming: %+v", wl.Tasks)
		}
		// Paging.
		wl = e.worklist(e.agent(201), followup.Filter{Limit: 3})
		if len(wl.Tasks) != 3 || wl.Total != 4 {
			t.Errorf("limit 3: %d tasks, total %d", len(wl.Tasks), wl.Total)
		}
	})
}

func TestFollowupClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		l3 := e.task("V1", "L3")
		a, b := e.agent(201), e.agent(202)
		if err := e.fu.Claim(ctx, a, l3.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.fu.Claim(ctx, b, l3.ID), errs.Conflict, "task_claimed")
		_, err := e.fu.Attempt(ctx, b, l3.ID, followup.AttemptInput{Outcome: followup.NoAnswer}, e.cal(), today)
		wantErr(t, err, errs.Conflict, "task_claimed")
		_, err = e.fu.Complete(ctx, b, l3.ID, goodRecord())
		wantErr(t, err, errs.Conflict, "task_claimed")
		if err := e.fu.Claim(ctx, a, l3.ID); err != nil {
			t.Errorf("claiming again by the holder: %v", err)
		}
		if wl := e.worklist(a, followup.Filter{Tab: followup.TabMine}); len(wl.Tasks) != 1 || wl.Tasks[0].ID != l3.ID {
			t.Errorf("agent A's mine tab: %d tasks", len(wl.Tasks))
		}

		e.clk.Advance(31 * time.Minute)
		if err := e.fu.Claim(ctx, b, l3.ID); err != nil {
			t.Fatalf("claim after the lapse: %v", err)
		}
		if tk := e.task("V1", "L3"); tk.ClaimedBy != 202 {
			t.Errorf("claimed by %d, want 202", tk.ClaimedBy)
		}
		wantErr(t, e.fu.Claim(ctx, a, l3.ID), errs.Conflict, "task_claimed")
		if err := e.fu.Release(ctx, b, l3.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.fu.Claim(ctx, a, l3.ID); err != nil {
			t.Errorf("claim after release: %v", err)
		}
	})
}

func TestFollowupAttemptRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		cal, a := e.cal(), e.agent(201)
		l3 := e.task("V1", "L3")

		res, err := e.fu.Attempt(ctx, a, l3.ID, followup.AttemptInput{Outcome: followup.NoAnswer, Note: "无人接听"}, cal, today)
		if err != nil {
			t.Fatal(err)
		}
		// The next working day after 09-30 is 10-08 (National Day holiday).
		if res.Status != followup.Open || res.Next.String() != "2026-10-08" || res.Attempts != 1 {
			t.Errorf("first no answer: %+v, want open, next 2026-10-08", res)
		}
		if tk := e.task("V1", "L3"); tk.Status != followup.Open || tk.Next.String() != "2026-10-08" || tk.Attempts != 1 {
			t.Errorf("task after first no answer: %s next %s attempts %d", tk.Status, tk.Next, tk.Attempts)
		}

		e.clk.Set(time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC))
		res, err = e.fu.Attempt(ctx, a, l3.ID, followup.AttemptInput{Outcome: followup.Busy}, cal, day("2026-10-08"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != followup.Open || res.Next.String() != "2026-10-09" || res.Attempts != 2 {
			t.Errorf("second try: %+v", res)
		}
		e.clk.Set(time.Date(2026, 10, 9, 2, 0, 0, 0, time.UTC))
		res, err = e.fu.Attempt(ctx, a, l3.ID, followup.AttemptInput{Outcome: followup.NoAnswer}, cal, day("2026-10-09"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != followup.Unreachable || res.Attempts != 3 {
			t.Errorf("third no answer: %+v, want unreachable", res)
		}
		tk := e.task("V1", "L3")
		if tk.Status != followup.Unreachable || tk.CloseReason != "no_answer_3" || tk.ClosedAt.IsZero() {
			t.Errorf("task after third no answer: %s %q closed %v", tk.Status, tk.CloseReason, tk.ClosedAt)
		}
		_, err = e.fu.Attempt(ctx, a, l3.ID, followup.AttemptInput{Outcome: followup.NoAnswer}, cal, day("2026-10-09"))
		wantErr(t, err, errs.Conflict, "task_closed")
		atts, err := e.fu.PatientAttempts(ctx, a, l3.ID)
		if err != nil || len(atts) != 3 || atts[2].Note != "无人接听" {
			t.Errorf("attempts %+v, %v", atts, err)
		}
		// Other tasks of the patient are untouched.
		if tk := e.task("V1", "L2"); tk.Status != followup.Open || tk.Attempts != 0 {
			t.Errorf("L2 changed: %s %d", tk.Status, tk.Attempts)
		}

		_, err = e.fu.Attempt(ctx, a, e.task("V1", "L2").ID, followup.AttemptInput{Outcome: "maybe"}, cal, today)
		wantField(t, err, "outcome")
		_, err = e.fu.Attempt(ctx, a, e.task("V1", "L2").ID, followup.AttemptInput{Outcome: followup.NoAnswer, Channel: "fax"}, cal, today)
		wantField(t, err, "channel")
	})
}

func TestFollowupAttemptUnreachableNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		cal, a := e.cal(), e.agent(201)
		for key, outcome := range map[string]string{"L2": followup.WrongNumber, "L3": followup.Disconnected} {
			res, err := e.fu.Attempt(ctx, a, e.task("V1", key).ID, followup.AttemptInput{Outcome: outcome}, cal, today)
			if err != nil {
				t.Fatal(err)
			}
			tk := e.task("V1", key)
			if res.Status != followup.Unreachable || tk.Status != followup.Unreachable || tk.CloseReason != outcome || tk.Attempts != 1 {
				t.Errorf("%s after %s: %s %q", key, outcome, tk.Status, tk.CloseReason)
			}
		}
		if tk := e.task("V1", "L1"); tk.Status != followup.Open {
			t.Errorf("L1 %s, want open", tk.Status)
		}
	})
}

func TestFollowupAttemptRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// Two stays of the same patient, and another patient.
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-28"), discharge("M1", "V2", "2026-09-30", inOrtho),
			discharge("M2", "V3", "2026-09-30"))
		res, err := e.fu.Attempt(ctx, e.agent(201), e.task("V1", "L3").ID,
			followup.AttemptInput{Outcome: followup.Refused, Note: "不需要回访"}, e.cal(), today)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != followup.Cancelled || res.Closed != 7 {
			t.Errorf("refused: %+v, want cancelled and the 7 other open tasks closed", res)
		}
		for _, v := range []string{"V1", "V2"} {
			for k, tk := range e.tasks(v) {
				if tk.Status != followup.Cancelled || tk.CloseReason != "refused" || !tk.DNC {
					t.Errorf("%s %s: %s %q dnc %v", v, k, tk.Status, tk.CloseReason, tk.DNC)
				}
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
			WHERE e.visit_number = 'V3' AND t.status = 'open'`); n != 4 {
			t.Errorf("the other patient has %d open tasks, want 4", n)
		}
		p := e.patientByMRN("M1")
		if !p.DoNotContact || !strings.Contains(p.DNCReason, "不需要回访") {
			t.Errorf("patient DNC %v reason %q", p.DoNotContact, p.DNCReason)
		}
		es, err := e.au.List(ctx, access.System(), audit.Filter{Action: "patient.do_not_contact"})
		if err != nil || len(es) != 1 || es[0].ObjectID != fmt.Sprint(p.ID) {
			t.Errorf("do-not-contact audit: %+v %v", es, err)
		}
		// Nobody pushes services on them later: a new discharge plans nothing.
		rep := e.importMsgs(importer.Options{}, discharge("M1", "V4", "2026-09-30"))
		if rep.New != 1 || rep.TasksCreated != 0 {
			t.Errorf("new discharge of a do-not-contact patient: %+v", rep)
		}
	})
}

func TestFollowupAttemptDeceased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		res, err := e.fu.Attempt(ctx, e.nurse(e.ward), e.task("V1", "L1").ID, followup.AttemptInput{Outcome: followup.Deceased}, e.cal(), today)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != followup.Cancelled || res.Closed != 3 {
			t.Errorf("deceased: %+v", res)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks WHERE status = 'open'`); n != 0 {
			t.Errorf("%d open tasks after a death", n)
		}
		if tk := e.task("V1", "L3"); tk.CloseReason != "deceased" {
			t.Errorf("L3 close reason %q", tk.CloseReason)
		}
		if p := e.patientByMRN("M1"); !p.Deceased || p.DoNotContact {
			t.Errorf("patient deceased %v dnc %v", p.Deceased, p.DoNotContact)
		}
	})
}

func TestFollowupCompleteValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		l3 := e.task("V1", "L3")
		cases := []struct {
			field string
			edit  func(*followup.RecordInput)
		}{
			{"treatment_effect", func(in *followup.RecordInput) { in.TreatmentEffect = "" }},
			{"satisfaction", func(in *followup.RecordInput) { in.Satisfaction = "" }},
			{"medication_guidance", func(in *followup.RecordInput) { in.MedicationGuidance = "   " }},
			{"revisit_advice", func(in *followup.RecordInput) { in.RevisitAdvice = "" }},
			{"recording_ref", func(in *followup.RecordInput) { in.RecordingRef = "cti://call/1" }},
			{"nps", func(in *followup.RecordInput) { in.NPS = 11 }},
			{"channel", func(in *followup.RecordInput) { in.Channel = "fax" }},
			{"opinions", func(in *followup.RecordInput) { in.OpinionProblem = true }},
		}
		for _, c := range cases {
			in := goodRecord()
			c.edit(&in)
			_, err := e.fu.Complete(ctx, e.agent(201), l3.ID, in)
			wantField(t, err, c.field)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_records`); n != 0 {
			t.Errorf("%d records stored by invalid completions", n)
		}
		if tk := e.task("V1", "L3"); tk.Status != followup.Open {
			t.Errorf("task %s after invalid completions", tk.Status)
		}
	})
}

func TestFollowupComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"), discharge("M2", "V2", "2026-09-30"))
		r1 := e.complete(e.nurse(e.ward), e.task("V1", "L1").ID, goodRecord())
		if r1.Number != "SF-H1-20260930-0001" {
			t.Errorf("first record number %q", r1.Number)
		}
		ts := e.tasks("V1")
		if ts["L1"].Status != followup.Done || ts["L1"].CloseReason != "record:"+r1.Number || ts["L1"].Attempts != 1 {
			t.Errorf("L1: %s %q attempts %d", ts["L1"].Status, ts["L1"].CloseReason, ts["L1"].Attempts)
		}
		if ts["FIRST"].Status != followup.Done || ts["FIRST"].CloseReason != "first_contact_met:"+r1.Number {
			t.Errorf("FIRST: %s %q", ts["FIRST"].Status, ts["FIRST"].CloseReason)
		}
		if ts["L2"].Status != followup.Open || ts["L3"].Status != followup.Open {
			t.Error("other tasks must stay open")
		}
		_, err := e.fu.Complete(ctx, e.nurse(e.ward), ts["FIRST"].ID, goodRecord())
		wantErr(t, err, errs.Conflict, "task_closed")

		in := goodRecord()
		in.RecordingConsent, in.RecordingRef = true, "cti://call/42"
		r2 := e.complete(e.agent(201), e.task("V2", "L3").ID, in)
		if r2.Number != "SF-H1-20260930-0002" {
			t.Errorf("second record number %q", r2.Number)
		}
		if r2.PrevHash != r1.Hash || r1.PrevHash != strings.Repeat("0", 64) {
			t.Error("records are not chained")
		}
		recs, err := e.fu.TaskRecords(ctx, e.agent(201), r2.TaskID)
		if err != nil || len(recs) != 1 || recs[0].RecordingRef != "cti://call/42" || recs[0].Actor != "agent201" ||
			recs[0].MedicationGuidance != in.MedicationGuidance || recs[0].Hash != r2.Hash {
			t.Errorf("stored record %+v, %v", recs, err)
		}
		// Another patient's FIRST task is met by its own first follow-up only.
		if tk := e.task("V2", "FIRST"); tk.Status != followup.Done || tk.CloseReason != "first_contact_met:"+r2.Number {
			t.Errorf("V2 FIRST: %s %q", tk.Status, tk.CloseReason)
		}
		// Numbers restart each (Beijing) day.
		e.clk.Set(time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC)) // 00:30 on 10-01 in Beijing
		r3 := e.complete(e.agent(201), e.task("V1", "L3").ID, goodRecord())
		if r3.Number != "SF-H1-20261001-0001" {
			t.Errorf("next day's number %q", r3.Number)
		}
		if es, _ := e.au.List(ctx, access.System(), audit.Filter{Action: "followup.record"}); len(es) != 3 {
			t.Errorf("%d followup.record audit entries, want 3", len(es))
		}
	})
}

// TestFollowupDissatisfiedCase: a 不满意 record or a problem opinion hands
// a case to the hook in the record's transaction; a plain call does not,
// and a failing hook rolls the record back.
func TestFollowupDissatisfiedCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		var got []followup.CaseOpened
		e.fu.SetCaseHook(func(ctx context.Context, tx *sql.Tx, c followup.CaseOpened) error {
			if tx == nil {
				t.Error("the hook ran outside the record's transaction")
			}
			got = append(got, c)
			return nil
		})
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"), discharge("M2", "V2", "2026-09-30"))
		in := goodRecord()
		in.Satisfaction = followup.Dissatisfied
		l3 := e.task("V1", "L3")
		rec := e.complete(e.agent(201), l3.ID, in)
		if len(got) != 1 {
			t.Fatalf("%d cases after a 不满意 record", len(got))
		}
		c := got[0]
		if c.Kind != "dissatisfied" || c.DepartmentID != e.dept || c.RecordID != rec.ID || c.RecordNumber != rec.Number ||
			c.EncounterID != l3.EncounterID || c.PatientID != l3.PatientID || c.Role != access.Agent || c.Summary == "" || c.By.UserID != 201 {
			t.Errorf("case %+v", c)
		}

		// A problem opinion opens a case too; a plain satisfied call does not.
		in = goodRecord()
		in.OpinionProblem, in.Opinions = true, "病房夜间太吵"
		e.complete(e.agent(201), e.task("V2", "L3").ID, in)
		e.complete(e.doctor(e.dept), e.task("V2", "L2").ID, goodRecord())
		if len(got) != 2 || got[1].Kind != "opinion" || got[1].Summary != "病房夜间太吵" {
			t.Errorf("cases %+v", got)
		}

		// A hook that fails undoes the record.
		e.fu.SetCaseHook(func(ctx context.Context, tx *sql.Tx, c followup.CaseOpened) error {
			return errs.New(errs.Conflict, "no_owner", "nobody owns it")
		})
		in = goodRecord()
		in.Satisfaction = followup.Dissatisfied
		l2 := e.task("V1", "L2")
		_, err := e.fu.Complete(ctx, e.doctor(e.dept), l2.ID, in)
		wantErr(t, err, errs.Conflict, "no_owner")
		if tk := e.task("V1", "L2"); tk.Status != followup.Open {
			t.Errorf("the task is %s after the failed record", tk.Status)
		}
	})
}

func TestFollowupAmend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		nurse := e.nurse(e.ward)
		orig := e.complete(nurse, e.task("V1", "L1").ID, goodRecord())

		fix := goodRecord()
		fix.MedicationGuidance = "阿司匹林每日一次，睡前服用"
		_, err := e.fu.Amend(ctx, nurse, orig.ID, fix, " ")
		wantField(t, err, "amend_reason")
		_, err = e.fu.Amend(ctx, e.nurse(e.ward2), orig.ID, fix, "用药时间记录错误")
		wantErr(t, err, errs.Forbidden, "")
		am, err := e.fu.Amend(ctx, nurse, orig.ID, fix, "用药时间记录错误")
		if err != nil {
			t.Fatal(err)
		}
		if am.AmendsID != orig.ID || am.ID == orig.ID || am.TaskID != orig.TaskID || am.Number != "SF-H1-20260930-0002" ||
			am.PrevHash != orig.Hash {
			t.Errorf("amendment %+v", am)
		}
		recs, err := e.fu.TaskRecords(ctx, nurse, orig.TaskID)
		if err != nil || len(recs) != 2 {
			t.Fatalf("records %+v %v", recs, err)
		}
		if recs[0].ID != orig.ID || recs[0].MedicationGuidance != goodRecord().MedicationGuidance || recs[0].Hash != orig.Hash ||
			recs[0].AmendsID != 0 {
			t.Errorf("original changed: %+v", recs[0])
		}
		if recs[1].MedicationGuidance != fix.MedicationGuidance || recs[1].AmendReason != "用药时间记录错误" {
			t.Errorf("amendment stored as %+v", recs[1])
		}
		// Records cannot be updated in place.
		err = db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE followup_records SET medication_guidance = 'x' WHERE id = $1`, orig.ID)
			return err
		})
		if err == nil {
			t.Error("UPDATE of a follow-up record succeeded")
		}
		res, err := e.fu.VerifyRecords(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != 2 || res[0].InstitutionID != e.inst {
			t.Errorf("verify: %+v %v", res, err)
		}
	})
}

func TestFollowupVerifyRecordsTamper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		var recs []*followup.Record
		for _, k := range []string{"L1", "L2", "L3"} {
			recs = append(recs, e.complete(access.System(), e.task("V1", k).ID, goodRecord()))
		}
		res, err := e.fu.VerifyRecords(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != 3 {
			t.Fatalf("clean verify: %+v %v", res, err)
		}
		drop := `DROP TRIGGER followup_records_no_update`
		if db.Dialect == store.Postgres {
			drop += ` ON followup_records`
		}
		victim := recs[1]
		err = db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, drop); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE followup_records SET medication_guidance = $1 WHERE id = $2`, "无需服药", victim.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err = e.fu.VerifyRecords(ctx)
		if err != nil || len(res) != 1 {
			t.Fatalf("verify after tampering: %+v %v", res, err)
		}
		if r := res[0]; r.OK || r.BrokenID != victim.ID || r.BrokenRef != victim.Number || r.Checked != 2 || r.Reason == "" {
			t.Errorf("verify after tampering with %s: %+v", victim.Number, r)
		}
	})
}

func TestFollowupReapplyRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		e.complete(e.nurse(e.ward), e.task("V1", "L1").ID, goodRecord())
		before := e.tasks("V1")

		rules, err := e.fu.Rules(ctx, e.agent(201), e.inst)
		if err != nil {
			t.Fatal(err)
		}
		var def *followup.Rule
		for _, r := range rules {
			if r.IsDefault {
				def = r
			}
		}
		if def == nil || def.ID != before["L3"].RuleID {
			t.Fatalf("default rule %+v, task rule %d", def, before["L3"].RuleID)
		}
		changed := *def
		changed.Steps = append([]followup.Step(nil), def.Steps...)
		for i := range changed.Steps {
			switch changed.Steps[i].Key {
			case "L1":
				changed.Steps[i].Purpose = "改过的一级随访"
			case "L2":
				changed.Steps[i].Due = 10 // 10-10, an adjusted working Saturday
			case "L3":
				changed.Steps[i].Due, changed.Steps[i].Channel = 20, "wechat"
			}
		}
		_, err = e.fu.SaveRule(ctx, e.agent(201), changed)
		wantErr(t, err, errs.Forbidden, "admin_only")
		if _, err := e.fu.SaveRule(ctx, access.System(), changed); err != nil {
			t.Fatal(err)
		}
		// Saving alone changes no task.
		if tk := e.task("V1", "L2"); tk.Due.String() != "2026-10-14" || tk.RuleVersion != 1 {
			t.Errorf("L2 changed before reapply: %s v%d", tk.Due, tk.RuleVersion)
		}
		_, err = e.fu.ReapplyRule(ctx, e.agent(201), def.ID, e.cal())
		wantErr(t, err, errs.Forbidden, "admin_only")
		n, err := e.fu.ReapplyRule(ctx, access.System(), def.ID, e.cal())
		if err != nil || n != 2 {
			t.Fatalf("reapply: %d %v, want the 2 open tasks", n, err)
		}
		after := e.tasks("V1")
		if tk := after["L2"]; tk.Due.String() != "2026-10-10" || tk.RuleVersion != 2 || tk.Status != followup.Open {
			t.Errorf("L2 after reapply: due %s v%d %s", tk.Due, tk.RuleVersion, tk.Status)
		}
		if tk := after["L3"]; tk.Due.String() != "2026-10-20" || tk.Channel != "wechat" || tk.RuleVersion != 2 {
			t.Errorf("L3 after reapply: due %s channel %s v%d", tk.Due, tk.Channel, tk.RuleVersion)
		}
		for _, k := range []string{"L1", "FIRST"} {
			b, a := before[k], after[k]
			if a.Status != followup.Done || a.RuleVersion != 1 || a.Purpose != b.Purpose || a.Due != b.Due || a.CloseReason != b.CloseReason {
				t.Errorf("done task %s changed: before %+v after %+v", k, b, a)
			}
		}

		// A step removed from the rule cancels its open task.
		changed.Steps = changed.Steps[:3]
		if _, err := e.fu.SaveRule(ctx, access.System(), changed); err != nil {
			t.Fatal(err)
		}
		if n, err := e.fu.ReapplyRule(ctx, access.System(), def.ID, e.cal()); err != nil || n != 2 {
			t.Fatalf("second reapply: %d %v", n, err)
		}
		if tk := e.task("V1", "L3"); tk.Status != followup.Cancelled || tk.CloseReason != "rule_changed" {
			t.Errorf("L3 after its step left the rule: %s %q", tk.Status, tk.CloseReason)
		}
		if es, _ := e.au.List(ctx, access.System(), audit.Filter{Action: "rule."}); len(es) != 4 {
			t.Errorf("%d rule audit entries, want 4", len(es))
		}
	})
}

func TestFollowupUpdateMovesOpenTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		e.complete(e.doctor(e.dept), e.task("V1", "L2").ID, goodRecord())
		// A08: the stay was in orthopaedics after all.
		rep := e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30", event(intake.Update), inOrtho))
		if rep.Updated != 1 || rep.TasksCreated != 0 {
			t.Errorf("A08 report %+v", rep)
		}
		ts := e.tasks("V1")
		if ts["L2"].DepartmentID != e.dept || ts["FIRST"].DepartmentID != e.ward {
			t.Errorf("done tasks moved: L2 %d FIRST %d", ts["L2"].DepartmentID, ts["FIRST"].DepartmentID)
		}
		if ts["L1"].DepartmentID != e.ward2 || ts["L3"].DepartmentID != e.dept2 {
			t.Errorf("open tasks did not follow: L1 %d (want ward %d), L3 %d (want dept %d)",
				ts["L1"].DepartmentID, e.ward2, ts["L3"].DepartmentID, e.dept2)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE status = 'discharged' AND ward_id = $1`, e.ward2); n != 1 {
			t.Error("A08 did not move the stay")
		}
	})
}

// TestDeathClosesThePatientsCalls is issue 11 item 11 on both engines: a
// patient discharged from cardiology is readmitted and dies (the HIS sends
// outcome 死亡 on the second stay). The death stay gets no call; the calls
// still open from the first stay close in the same import; a rule's
// bereavement-care step is the one call a death plans and keeps.
func TestDeathClosesThePatientsCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.clk.Set(time.Date(2026, 9, 26, 2, 0, 0, 0, time.UTC))
		e.importMsgs(importer.Options{}, discharge("0012345", "ZY2026091801", "2026-09-25", func(m *intake.Message) {
			m.Encounter.Diagnoses = []intake.Diagnosis{{Code: "I50.9", Name: "心力衰竭"}}
		}))
		first := e.tasks("ZY2026091801")
		if len(first) != 6 {
			t.Fatalf("first stay planned %d tasks, want the six of the chronic plan", len(first))
		}
		e.clk.Set(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC))
		rep := e.importMsgs(importer.Options{}, discharge("0012345", "ZY2026092702", "2026-09-29", func(m *intake.Message) {
			m.Encounter.Diagnoses = []intake.Diagnosis{{Code: "I21.0", Name: "急性前壁心肌梗死"}}
			m.Encounter.Procedures = []string{"经皮冠状动脉介入治疗"}
			m.Encounter.Outcome = intake.Died
		}))
		if rep.TasksCreated != 0 || rep.TasksCancelled != 6 {
			t.Errorf("death import: %+v, want no task created and the six open ones cancelled", rep)
		}
		if ts := e.tasks("ZY2026092702"); len(ts) != 0 {
			t.Errorf("the death stay got %d follow-ups", len(ts))
		}
		for k, tk := range e.tasks("ZY2026091801") {
			if tk.Status != followup.Cancelled || tk.CloseReason != "deceased" {
				t.Errorf("first stay %s: %s %q, want cancelled as deceased", k, tk.Status, tk.CloseReason)
			}
		}

		// A hospital adds a condolence call for deaths.
		care := followup.Rule{InstitutionID: e.inst, Name: "院内死亡（家属慰问）", Priority: 5,
			Match: followup.Match{Outcomes: []intake.Outcome{intake.Died}},
			Steps: []followup.Step{{Key: "CARE", Level: 0, Role: access.Agent, Channel: "phone", Start: 7, Due: 14,
				ForDeceased: true, Purpose: "家属慰问：致哀，告知病历复印与医保结算手续"}}}
		if _, err := e.fu.SaveRule(ctx, access.System(), care); err != nil {
			t.Fatal(err)
		}
		died := discharge("0023456", "ZY2026092305", "2026-09-29", func(m *intake.Message) {
			inOrtho(m)
			m.Encounter.Diagnoses = []intake.Diagnosis{{Code: "S72.0", Name: "股骨颈骨折"}}
			m.Encounter.Outcome = intake.Died
		})
		rep = e.importMsgs(importer.Options{}, died)
		ts := e.tasks("ZY2026092305")
		if rep.TasksCreated != 1 || len(ts) != 1 || ts["CARE"] == nil || ts["CARE"].Status != followup.Open {
			t.Fatalf("death with a bereavement rule: %+v, tasks %v", rep, ts)
		}
		// Re-sending the death closes nothing the family still needs.
		e.importMsgs(importer.Options{}, died)
		if tk := e.task("ZY2026092305", "CARE"); tk.Status != followup.Open {
			t.Errorf("re-sent death closed the bereavement call: %s %q", tk.Status, tk.CloseReason)
		}
	})
}

// TestPlannerSeedsOnce: an institution made before plan rules existed gets
// the default rules from the first import — once, though several imports
// (instances) start at the same moment.
func TestPlannerSeedsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM plan_rules WHERE institution_id = $1`, e.inst)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.fu.NewPlanner(ctx, e.inst, e.cal()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := e.count(`SELECT COUNT(*) FROM plan_rules WHERE institution_id = $1`, e.inst); n != len(followup.DefaultRules()) {
			t.Errorf("%d rules after four concurrent first imports, want %d", n, len(followup.DefaultRules()))
		}
	})
}
