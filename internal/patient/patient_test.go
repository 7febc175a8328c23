package patient_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
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
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

var shanghai = time.FixedZone("CST", 8*3600)

type env struct {
	t   *testing.T
	db  *store.DB
	clk *clock.Fake
	au  *audit.Service
	org *org.Service
	cdb *caldb.Service
	pat *patient.Service
	fu  *followup.Service

	inst, inst2 int64
	dept, ward  int64 // of inst: 0301 / W05
	dept2       int64 // of inst: 0401
}

// setup wires the services like app.Open (fake clock at 2026-09-30 10:00
// Beijing) and creates two institutions; H1 has 0301, W05 and 0401.
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
	if e.inst, err = e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "第一医院"}); err != nil {
		t.Fatal(err)
	}
	if e.inst2, err = e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H2", Name: "第二医院"}); err != nil {
		t.Fatal(err)
	}
	e.dept = e.mkDept("0301", org.DeptClinical)
	e.ward = e.mkDept("W05", org.DeptWard)
	e.dept2 = e.mkDept("0401", org.DeptClinical)
	return e
}

func (e *env) mkDept(code, kind string) int64 {
	e.t.Helper()
	id, err := e.org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: e.inst, Code: code, Name: code + "科", Kind: kind})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

type deptMap map[string]int64

func (m deptMap) Resolve(code string) int64 { return m[code] }

func (e *env) depts(inst int64) deptMap {
	e.t.Helper()
	ds, err := e.org.Departments(ctx, access.System(), inst)
	if err != nil {
		e.t.Fatal(err)
	}
	m := deptMap{}
	for _, d := range ds {
		m[d.Code] = d.ID
	}
	return m
}

// apply runs Apply in its own transaction, rolled back on error.
func (e *env) apply(inst int64, m intake.Message) (*patient.Change, error) {
	var ch *patient.Change
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		ch, err = e.pat.Apply(ctx, tx, inst, e.depts(inst), shanghai, m)
		return err
	})
	return ch, err
}

// applyKeep runs Apply the way the importer does: a refused message is
// skipped and the transaction still commits.
func (e *env) applyKeep(inst int64, m intake.Message) error {
	var aerr error
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		_, aerr = e.pat.Apply(ctx, tx, inst, e.depts(inst), shanghai, m)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aerr
}

func (e *env) mustApply(inst int64, m intake.Message) *patient.Change {
	e.t.Helper()
	ch, err := e.apply(inst, m)
	if err != nil {
		e.t.Fatalf("apply %s %s: %v", m.Event, m.Encounter.VisitNumber, err)
	}
	return ch
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// nationalID completes a 17-digit prefix with its GB 11643 check character.
func nationalID(prefix string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range prefix {
		sum += int(c-'0') * w[i]
	}
	return prefix + string("10X98765432"[sum%11])
}

// idEndingX returns a valid ID number whose check character is X.
func idEndingX() string {
	for seq := 100; seq < 1000; seq++ {
		if id := nationalID(fmt.Sprintf("11010519580312%03d", seq)); strings.HasSuffix(id, "X") {
			return id
		}
	}
	panic("no ID ending in X")
}

const (
	phone   = "13800138000"
	address = "北京市朝阳区建国路88号院3号楼1201"
)

var nid = nationalID("11010519580312123")

func discharge(mrn, visit string, edit ...func(*intake.Message)) intake.Message {
	at := time.Date(2026, 9, 30, 9, 30, 0, 0, shanghai)
	m := intake.Message{Source: "test", Line: 2, Event: intake.Discharge,
		Patient: intake.Patient{MRN: mrn, Name: "李建国", Sex: intake.Male, BirthDate: calendar.Date{Year: 1958, Month: 3, Day: 12},
			NationalID: nid, Phones: []string{phone}, Address: address, Employer: "示例机械厂"},
		Encounter: intake.Encounter{VisitNumber: visit, DepartmentCode: "0301", DepartmentName: "心血管内科", WardCode: "W05",
			WardName: "心内一病区", AttendingDoctor: "陈医生", ResponsibleNurse: "刘护士", AdmittedAt: at.AddDate(0, 0, -7),
			DischargedAt: at, Diagnoses: []intake.Diagnosis{{Code: "I21.0", Name: "急性前壁心肌梗死"}}, Outcome: intake.Improved}}
	for _, f := range edit {
		f(&m)
	}
	return m
}

func event(ev intake.Event) func(*intake.Message) { return func(m *intake.Message) { m.Event = ev } }

func agent(inst int64) *access.Principal {
	return &access.Principal{UserID: 201, Username: "agent", InstitutionID: inst, Roles: []access.Role{access.Agent},
		Grants: []access.Grant{{InstitutionID: inst}}}
}

func staff(inst, dept int64) *access.Principal {
	return &access.Principal{UserID: 301, Username: "staff", InstitutionID: inst, Roles: []access.Role{access.Nurse, access.Doctor},
		Grants: []access.Grant{{InstitutionID: inst, DepartmentID: dept}}}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || e.Fields[field] == "" {
		t.Fatalf("got %v, want Invalid naming field %q", err, field)
	}
}

func TestPatientApplyCreatesAndIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ch := e.mustApply(e.inst, discharge(" M1 ", " V1 "))
		if !ch.Created || ch.Updated || ch.PrevStatus != "" {
			t.Errorf("first apply: created %v updated %v prev %q", ch.Created, ch.Updated, ch.PrevStatus)
		}
		enc, pat := ch.Encounter, ch.Patient
		if pat.ID == 0 || pat.MRN != "M1" || pat.Name != "李建国" || enc.ID == 0 || enc.VisitNumber != "V1" || enc.PatientID != pat.ID {
			t.Fatalf("change %+v %+v", pat, enc)
		}
		got, err := e.pat.Encounter(ctx, nil, enc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != patient.Discharged || got.DepartmentID != e.dept || got.WardID != e.ward ||
			got.DischargeDate != (calendar.Date{Year: 2026, Month: 9, Day: 30}) || got.PrimaryICD() != "I21.0" ||
			got.AttendingDoctor != "陈医生" || got.Outcome != intake.Improved || !got.DischargedAt.Equal(discharge("M1", "V1").Encounter.DischargedAt) {
			t.Errorf("stored encounter %+v", got)
		}
		p, err := e.pat.Get(ctx, nil, pat.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.NationalID != nid || len(p.Phones) != 1 || p.Phones[0] != phone || p.Address != address || p.Employer != "示例机械厂" ||
			p.Sex != intake.Male || p.Age(calendar.Date{Year: 2026, Month: 9, Day: 30}) != 68 {
			t.Errorf("stored patient %+v", p)
		}

		// The same message again changes nothing.
		ch = e.mustApply(e.inst, discharge("M1", "V1"))
		if ch.Created || ch.Updated || ch.PrevStatus != patient.Discharged || ch.Encounter.ID != enc.ID || ch.Patient.ID != pat.ID {
			t.Errorf("re-apply: created %v updated %v prev %q", ch.Created, ch.Updated, ch.PrevStatus)
		}
		if n := e.count(`SELECT COUNT(*) FROM patients`); n != 1 {
			t.Errorf("%d patients", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters`); n != 1 {
			t.Errorf("%d encounters", n)
		}
		// A message without the optional data does not erase what is stored.
		ch = e.mustApply(e.inst, discharge("M1", "V1", func(m *intake.Message) {
			m.Patient.NationalID, m.Patient.Phones, m.Patient.Address, m.Patient.Sex = "", nil, "", ""
		}))
		if ch.Updated {
			t.Error("sparser message counted as an update")
		}
		if p, _ := e.pat.Get(ctx, nil, pat.ID); p.NationalID != nid || p.Address != address || len(p.Phones) != 1 || p.Sex != intake.Male {
			t.Errorf("sparser message erased data: %+v", p)
		}
	})
}

func TestPatientUpdateA08(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		first := e.mustApply(e.inst, discharge("M1", "V1"))
		ch := e.mustApply(e.inst, discharge("M1", "V1", event(intake.Update), func(m *intake.Message) {
			m.Patient.Name, m.Patient.Phones = "李建华", []string{"13900139000", phone}
			m.Encounter.AttendingDoctor = "王医生"
			m.Encounter.DepartmentCode = "0401"
			m.Encounter.Diagnoses = []intake.Diagnosis{{Code: "I10", Name: "高血压"}}
		}))
		if ch.Created || !ch.Updated || ch.PrevStatus != patient.Discharged || ch.Encounter.Status != patient.Discharged {
			t.Errorf("A08: created %v updated %v prev %q status %q", ch.Created, ch.Updated, ch.PrevStatus, ch.Encounter.Status)
		}
		enc, _ := e.pat.Encounter(ctx, nil, first.Encounter.ID)
		if enc.AttendingDoctor != "王医生" || enc.DepartmentID != e.dept2 || enc.PrimaryICD() != "I10" || enc.Status != patient.Discharged {
			t.Errorf("encounter after A08 %+v", enc)
		}
		p, _ := e.pat.Get(ctx, nil, first.Patient.ID)
		if p.Name != "李建华" || len(p.Phones) != 2 || p.Phones[0] != "13900139000" {
			t.Errorf("patient after A08 %+v", p)
		}

		// An A08 for a stay still in hospital never discharges it.
		e.mustApply(e.inst, discharge("M1", "V2", event(intake.Admit), func(m *intake.Message) { m.Encounter.DischargedAt = time.Time{} }))
		ch = e.mustApply(e.inst, discharge("M1", "V2", event(intake.Update)))
		if ch.Encounter.Status != patient.Admitted {
			t.Errorf("A08 with a discharge time on an admitted stay: %s", ch.Encounter.Status)
		}
		// A late A01 for a discharged stay keeps the discharge.
		ch = e.mustApply(e.inst, discharge("M1", "V1", event(intake.Admit), func(m *intake.Message) { m.Encounter.DischargedAt = time.Time{} }))
		if ch.Encounter.Status != patient.Discharged || ch.Encounter.DischargedAt.IsZero() {
			t.Errorf("late A01: %s at %v", ch.Encounter.Status, ch.Encounter.DischargedAt)
		}
	})
}

func TestPatientMatchByMRN(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.mustApply(e.inst, discharge("M1", "V1"))
		// Same name (and even same ID number), different MRN: another patient.
		b := e.mustApply(e.inst, discharge("M2", "V2"))
		if a.Patient.ID == b.Patient.ID {
			t.Error("patients with the same name but different MRNs were merged")
		}
		// Same MRN in another institution: another patient.
		c := e.mustApply(e.inst2, discharge("M1", "V1"))
		if c.Patient.ID == a.Patient.ID || !c.Created || c.Patient.InstitutionID != e.inst2 {
			t.Errorf("same MRN in two institutions: %+v", c.Patient)
		}
		// Same MRN, same institution, new stay: the same patient, a second encounter.
		d := e.mustApply(e.inst, discharge("M1", "V3", func(m *intake.Message) { m.Patient.Name = "李建国（改名）" }))
		if d.Patient.ID != a.Patient.ID || !d.Created {
			t.Errorf("second stay of M1: patient %d, want %d", d.Patient.ID, a.Patient.ID)
		}
		if n := e.count(`SELECT COUNT(*) FROM patients`); n != 3 {
			t.Errorf("%d patients, want 3", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE patient_id = $1`, a.Patient.ID); n != 2 {
			t.Errorf("M1 has %d encounters, want 2", n)
		}
	})
}

func TestPatientInvalidMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		bad := nid[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", nid[17])+1)%11])
		cases := []struct {
			field string
			edit  func(*intake.Message)
		}{
			{"national_id", func(m *intake.Message) { m.Patient.NationalID = bad }},
			{"national_id", func(m *intake.Message) { m.Patient.NationalID = "12345" }},
			{"mrn", func(m *intake.Message) { m.Patient.MRN = "  " }},
			{"visit_number", func(m *intake.Message) { m.Encounter.VisitNumber = "" }},
			{"name", func(m *intake.Message) { m.Patient.Name = "" }},
			{"discharged_at", func(m *intake.Message) { m.Encounter.DischargedAt = time.Time{} }},
			{"discharged_at", func(m *intake.Message) { m.Encounter.AdmittedAt = m.Encounter.DischargedAt.Add(time.Hour) }},
			{"sex", func(m *intake.Message) { m.Patient.Sex = "X" }},
			{"outcome", func(m *intake.Message) { m.Encounter.Outcome = "better" }},
			{"birth_date", func(m *intake.Message) { m.Patient.BirthDate = calendar.Date{Year: 2026, Month: 2, Day: 30} }},
		}
		for _, c := range cases {
			_, err := e.apply(e.inst, discharge("M1", "V1", c.edit))
			wantInvalid(t, err, c.field)
		}
		// Lower-case x is accepted and stored upper-case.
		x := idEndingX()
		ch := e.mustApply(e.inst, discharge("M9", "V9", func(m *intake.Message) { m.Patient.NationalID = strings.ToLower(x) }))
		if p, _ := e.pat.Get(ctx, nil, ch.Patient.ID); p.NationalID != x {
			t.Errorf("national ID stored as %q, want %q", p.NationalID, x)
		}
		if n := e.count(`SELECT COUNT(*) FROM patients`); n != 1 {
			t.Errorf("%d patients after invalid messages, want 1", n)
		}
	})
}

func TestPatientVisitNumberAndCancellations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.mustApply(e.inst, discharge("M1", "V1"))

		// A visit number reused by another MRN is refused, and (as the
		// importer goes on in the same transaction) leaves no patient behind.
		err := e.applyKeep(e.inst, discharge("M2", "V1"))
		wantInvalid(t, err, "visit_number")
		if n := e.count(`SELECT COUNT(*) FROM patients WHERE mrn = 'M2'`); n != 0 {
			t.Errorf("refused message left %d patients behind", n)
		}

		// A cancellation for a visit never received: NotFound, nothing stored.
		for _, ev := range []intake.Event{intake.CancelDischarge, intake.CancelAdmit} {
			err = e.applyKeep(e.inst, discharge("M3", "V404", event(ev), func(m *intake.Message) { m.Patient.Name = "" }))
			if !errs.Is(err, errs.NotFound) || errs.CodeOf(err) != "unknown_visit" {
				t.Errorf("%s for an unknown visit: %v", ev, err)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM patients WHERE mrn = 'M3'`); n != 0 {
			t.Errorf("cancellation for an unknown visit created %d patients", n)
		}

		// A13 takes back the discharge; a re-sent A13 changes nothing.
		ch := e.mustApply(e.inst, discharge("M1", "V1", event(intake.CancelDischarge)))
		if !ch.Updated || ch.PrevStatus != patient.Discharged || ch.Encounter.Status != patient.Admitted {
			t.Errorf("A13: updated %v prev %q status %q", ch.Updated, ch.PrevStatus, ch.Encounter.Status)
		}
		ch = e.mustApply(e.inst, discharge("M1", "V1", event(intake.CancelDischarge)))
		if ch.Updated || ch.Encounter.Status != patient.Admitted {
			t.Errorf("re-sent A13: updated %v status %q, want admitted unchanged", ch.Updated, ch.Encounter.Status)
		}
		// A03 again, then A11 cancels the stay.
		ch = e.mustApply(e.inst, discharge("M1", "V1"))
		if !ch.Updated || ch.Encounter.Status != patient.Discharged || ch.PrevStatus != patient.Admitted {
			t.Errorf("A03 after A13: %+v", ch)
		}
		ch = e.mustApply(e.inst, discharge("M1", "V1", event(intake.CancelAdmit)))
		if !ch.Updated || ch.Encounter.Status != patient.Cancelled {
			t.Errorf("A11: %+v", ch.Encounter)
		}
		ch = e.mustApply(e.inst, discharge("M1", "V1", event(intake.CancelAdmit)))
		if ch.Updated || ch.Encounter.Status != patient.Cancelled {
			t.Errorf("re-sent A11: updated %v", ch.Updated)
		}
	})
}

func TestPatientPIIEncryptedAndFindable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		x := idEndingX()
		a := e.mustApply(e.inst, discharge("M1", "V1", func(m *intake.Message) { m.Patient.Phones = []string{phone, "010-88886666"} }))
		b := e.mustApply(e.inst, discharge("M2", "V2", func(m *intake.Message) {
			m.Patient.NationalID, m.Patient.Phones, m.Encounter.DepartmentCode, m.Encounter.WardCode = x, []string{"13911112222"}, "0401", ""
		}))

		// Nothing sensitive is in plain text anywhere in the row.
		rows, err := db.R().QueryContext(ctx, `SELECT mrn, name, sex, birth_date, national_id_enc, national_id_idx, phones_enc,
			address_enc, employer FROM patients`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var cols [9]string
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6], &cols[7], &cols[8]); err != nil {
				t.Fatal(err)
			}
			n++
			row := strings.Join(cols[:], "|")
			for _, secret := range []string{nid, x, phone, "88886666", "13911112222", "建国路", address[:9], nid[6:14]} {
				if strings.Contains(row, secret) {
					t.Errorf("patients row contains %q in plain text: %s", secret, row)
				}
			}
			if cols[4] == "" || cols[6] == "" || cols[7] == "" {
				t.Errorf("sealed columns empty: %s", row)
			}
		}
		rows.Close()
		if n != 2 {
			t.Fatalf("%d patient rows", n)
		}
		if k := e.count(`SELECT COUNT(*) FROM patient_phones WHERE phone_idx LIKE '%13800138000%'`); k != 0 {
			t.Error("phone index holds the number")
		}

		find := func(what string, got []*patient.Patient, err error, want int64) {
			t.Helper()
			if err != nil || len(got) != 1 || got[0].ID != want {
				t.Errorf("%s: %v %v, want patient %d", what, got, err, want)
			}
		}
		ag := agent(e.inst)
		for _, q := range []string{phone, "138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "８６１３８００１３８０００"} {
			got, err := e.pat.FindByPhone(ctx, ag, e.inst, q)
			find("phone "+q, got, err, a.Patient.ID)
		}
		got, err := e.pat.FindByPhone(ctx, ag, e.inst, "010 8888 6666")
		find("second phone", got, err, a.Patient.ID)
		got, err = e.pat.FindByNationalID(ctx, ag, e.inst, " "+nid+" ")
		find("national ID", got, err, a.Patient.ID)
		got, err = e.pat.FindByNationalID(ctx, ag, e.inst, strings.ToLower(x))
		find("national ID with lower-case x", got, err, b.Patient.ID)
		if got, err := e.pat.FindByPhone(ctx, ag, e.inst, "13700000000"); err != nil || len(got) != 0 {
			t.Errorf("unknown phone found %v %v", got, err)
		}
		// Another institution's search does not see them.
		if got, err := e.pat.FindByPhone(ctx, agent(e.inst2), e.inst2, phone); err != nil || len(got) != 0 {
			t.Errorf("H2 search found %v %v", got, err)
		}
		_, err = e.pat.FindByPhone(ctx, agent(e.inst2), e.inst, phone)
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("search outside scope: %v", err)
		}
		// Department scope filters results.
		if got, err := e.pat.FindByPhone(ctx, staff(e.inst, e.dept2), e.inst, phone); err != nil || len(got) != 0 {
			t.Errorf("0401 staff found a 0301 patient: %v %v", got, err)
		}
		got, err = e.pat.FindByPhone(ctx, staff(e.inst, e.dept2), e.inst, "13911112222")
		find("0401 staff, own patient", got, err, b.Patient.ID)
	})
}

func TestPatientReveal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		pid := e.mustApply(e.inst, discharge("M1", "V1")).Patient.ID
		reveals := func() []audit.Entry {
			es, err := e.au.List(ctx, access.System(), audit.Filter{Action: "patient.reveal"})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		ward := staff(e.inst, e.ward)
		for field, want := range map[string]string{"national_id": nid, "phone": phone, "address": address} {
			v, err := e.pat.Reveal(ctx, ward, pid, field)
			if err != nil || v != want {
				t.Errorf("reveal %s: %q %v", field, v, err)
			}
		}
		es := reveals()
		if len(es) != 3 {
			t.Fatalf("%d reveal audit entries, want 3", len(es))
		}
		for _, en := range es {
			if en.Actor != "staff" || en.ObjectID != fmt.Sprint(pid) || en.InstitutionID != e.inst || !strings.HasPrefix(en.Detail, "field=") {
				t.Errorf("audit entry %+v", en)
			}
		}

		_, err := e.pat.Reveal(ctx, staff(e.inst, e.dept2), pid, "national_id")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("reveal by another department: %v", err)
		}
		_, err = e.pat.Reveal(ctx, agent(e.inst2), pid, "phone")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("reveal by another institution: %v", err)
		}
		_, err = e.pat.Reveal(ctx, ward, pid, "name")
		wantInvalid(t, err, "field")
		_, err = e.pat.Reveal(ctx, ward, pid+1000, "phone")
		if !errs.Is(err, errs.NotFound) {
			t.Errorf("reveal of a missing patient: %v", err)
		}
		if n := len(reveals()); n != 3 {
			t.Errorf("refused reveals were audited as reveals: %d entries", n)
		}
	})
}

func TestPatientMask(t *testing.T) {
	p := &patient.Patient{ID: 7, MRN: "2026000123", Name: "李建国", NationalID: "110105195803121232",
		Phones: []string{"13812345678", "+86 138 1234 5678"}, Address: "北京市朝阳区建国路88号", DoNotContact: true}
	m := p.Mask()
	if m.Name != "李*国" || m.NationalID != "110***********1232" || m.Address != "北京市朝阳区****" ||
		len(m.Phones) != 2 || m.Phones[0] != "138****5678" || m.Phones[1] != "+86 138 **** 5678" {
		t.Errorf("mask %+v", m)
	}
	if m.ID != 7 || m.MRN != p.MRN || !m.DoNotContact {
		t.Errorf("mask lost plain fields: %+v", m)
	}
	for _, v := range append([]string{m.Name, m.NationalID, m.Address}, m.Phones...) {
		if strings.Contains(v, "1234567") || strings.Contains(v, "19580312") || strings.Contains(v, "建国路") {
			t.Errorf("masked value %q reveals too much", v)
		}
	}
	if (&patient.Patient{}).Mask().NationalID != "" {
		t.Error("empty ID masked to something")
	}
	if (&patient.Patient{}).Age(calendar.Date{Year: 2026, Month: 1, Day: 1}) != -1 {
		t.Error("unknown birth date should give age -1")
	}
	bd := &patient.Patient{BirthDate: calendar.Date{Year: 1958, Month: 3, Day: 12}}
	if bd.Age(calendar.Date{Year: 2026, Month: 3, Day: 11}) != 67 || bd.Age(calendar.Date{Year: 2026, Month: 3, Day: 12}) != 68 {
		t.Error("age around the birthday")
	}
}

// TestPatientRevealLimit: past the cap per window a reveal is refused and
// audited as refused; the count lives in the database, so a second
// instance on the same database refuses too; the next window starts afresh.
func TestPatientRevealLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		pid := e.mustApply(e.inst, discharge("M1", "V1")).Patient.ID
		limits := patient.RevealLimits{Window: time.Hour, Staff: 2, Agency: 1}
		e.pat.SetRevealLimits(limits, nil)
		ward := staff(e.inst, e.ward)
		for _, field := range []string{"national_id", "phone"} {
			if _, err := e.pat.Reveal(ctx, ward, pid, field); err != nil {
				t.Fatalf("reveal %s: %v", field, err)
			}
		}
		v, err := e.pat.Reveal(ctx, ward, pid, "address")
		if v != "" || !errs.Is(err, errs.Forbidden) || errs.CodeOf(err) != "reveal_limit" {
			t.Fatalf("third reveal: %q %v", v, err)
		}
		// Another instance on the same database.
		keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
		index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
		other, err := core.Build(db, core.Options{Now: e.clk.Now, Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(),
			Keys: keys, Index: index, Reveals: limits})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Patients.Reveal(ctx, ward, pid, "phone"); errs.CodeOf(err) != "reveal_limit" {
			t.Fatalf("the second instance let a fourth reveal through: %v", err)
		}
		// Another user has a cap of their own.
		if _, err := e.pat.Reveal(ctx, agent(e.inst), pid, "phone"); err != nil {
			t.Fatalf("another user: %v", err)
		}
		es, err := e.au.List(ctx, access.System(), audit.Filter{Action: "patient.reveal", Actor: "staff"})
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for _, en := range es {
			if !en.Success {
				refused++
				if !strings.Contains(en.Detail, "refused=reveal_limit") {
					t.Errorf("refused entry %+v", en)
				}
			}
		}
		if len(es) != 4 || refused != 2 {
			t.Fatalf("audit: %d reveals, %d refused", len(es), refused)
		}
		e.clk.Advance(time.Hour)
		if _, err := e.pat.Reveal(ctx, ward, pid, "phone"); err != nil {
			t.Fatalf("next window: %v", err)
		}
		if n := e.count(`SELECT COUNT(*) FROM reveal_windows WHERE actor = 'u:301'`); n != 1 {
			t.Errorf("%d windows kept for the user, want only the current one", n)
		}
	})
}
