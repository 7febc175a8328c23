package importer_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
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
}

// setup wires the services like app.Open, with a fake clock at 2026-09-30
// 10:00 Beijing, and creates one institution per code (with 0301 and W05).
func setup(t *testing.T, db *store.DB, codes ...string) (*env, map[string]int64) {
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
	ids := map[string]int64{}
	for _, code := range codes {
		id, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: code, Name: code + "医院"})
		if err != nil {
			t.Fatal(err)
		}
		ids[code] = id
		for _, d := range []org.DepartmentInput{{Code: "0301", Name: "心血管内科"}, {Code: "W05", Name: "心内一病区", Kind: org.DeptWard}} {
			d.InstitutionID = id
			if _, err := e.org.CreateDepartment(ctx, access.System(), d); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e, ids
}

func (e *env) importCSV(p *access.Principal, text string, opt importer.Options) *importer.Report {
	e.t.Helper()
	if opt.Filename == "" {
		opt.Filename = "discharges.csv"
	}
	rep, err := e.imp.Import(ctx, p, strings.NewReader(text), opt)
	if err != nil {
		e.t.Fatalf("import: %v", err)
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

// snapshot is what an import leaves in the database, for comparisons.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT institution_id || ':' || visit_number || ':' || status FROM encounters`,
		`SELECT t.institution_id || ':' || e.visit_number || ':' || t.step_key || ':' || t.status || ':' || t.due_date
			FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id`,
		`SELECT institution_id || ':' || mrn || ':' || name FROM patients`,
	} {
		rows, err := e.db.R().QueryContext(ctx, q)
		if err != nil {
			e.t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				e.t.Fatal(err)
			}
			lines = append(lines, s)
		}
		rows.Close()
		sort.Strings(lines)
		b.WriteString(strings.Join(lines, "\n") + "\n--\n")
	}
	return b.String()
}

const header = "机构代码,病案号,住院流水号,姓名,性别,身份证号,联系电话,现住址,科室代码,科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,治疗结果\n"

// row builds a CSV line.
func row(facility, mrn, visit, name, discharged string) string {
	return strings.Join([]string{facility, mrn, visit, name, "男", "", "13800138000", "北京市朝阳区示例路1号", "0301", "心血管内科",
		"W05", "心内一病区", "陈医生", "刘护士", "2026-09-20", discharged, "J18.9", "肺炎", "好转"}, ",") + "\n"
}

func sysadmin() *access.Principal { return access.System() }

func TestImporterCSVGoodAndBadRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1")
		csv := header +
			row("H1", "M1", "V1", "李建国", "2026-09-30 09:30") + // row 2
			row("", "M2", "V2", "王芳", "2026-09-30") + // row 3
			row("H1", "", "V3", "张三", "2026-09-30") + // row 4: no MRN
			row("H1", "M4", "V4", "赵四", "2026-13-45") + // row 5: no such date
			row("H1", "M5", "V5", "钱五", "2026-09-29 16:00") // row 6
		rep := e.importCSV(sysadmin(), csv, importer.Options{})
		if rep.Format != importer.CSV || rep.Messages != 3 || rep.New != 3 || rep.Rejected != 2 || rep.TasksCreated != 12 ||
			rep.Updated != 0 || rep.Unchanged != 0 || rep.BatchID == 0 {
			t.Errorf("report %+v", rep)
		}
		if len(rep.Rejects) != 2 || rep.Rejects[0].Line != 4 || rep.Rejects[1].Line != 5 ||
			rep.Rejects[0].Field != "病案号" || rep.Rejects[1].Field != "出院日期" || rep.Rejects[0].Reason == "" {
			t.Errorf("rejects %+v", rep.Rejects)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE institution_id = $1 AND status = 'discharged'`, ids["H1"]); n != 3 {
			t.Errorf("%d encounters stored, want 3", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks WHERE status = 'open'`); n != 12 {
			t.Errorf("%d tasks stored, want 12", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM import_rejects WHERE batch_id = $1 AND line IN (4, 5)`, rep.BatchID); n != 2 {
			t.Errorf("%d rejects stored, want 2", n)
		}
		var status string
		var msgs, news, rejects int
		if err := db.R().QueryRowContext(ctx, `SELECT status, messages, encounters_new, rejects FROM import_batches WHERE id = $1`,
			rep.BatchID).Scan(&status, &msgs, &news, &rejects); err != nil {
			t.Fatal(err)
		}
		if status != "done" || msgs != 3 || news != 3 || rejects != 2 {
			t.Errorf("batch row: %s %d %d %d", status, msgs, news, rejects)
		}
		if es, _ := e.au.List(ctx, access.System(), audit.Filter{Action: "import.run"}); len(es) != 1 || !es[0].Success {
			t.Errorf("import audit %+v", es)
		}

		// The same file again: nothing new, nothing twice.
		before := e.snapshot()
		rep = e.importCSV(sysadmin(), csv, importer.Options{})
		if rep.New != 0 || rep.TasksCreated != 0 || rep.Unchanged != 3 || rep.Rejected != 2 {
			t.Errorf("second import %+v", rep)
		}
		if after := e.snapshot(); after != before {
			t.Errorf("second import changed the database:\n%s\nvs\n%s", before, after)
		}

		// A message the services refuse (a visit number reused by another
		// MRN) is a reject too, and leaves nothing behind.
		rep = e.importCSV(sysadmin(), header+row("H1", "M9", "V1", "孙九", "2026-09-30")+row("H1", "M10", "V10", "周十", "2026-09-30"), importer.Options{})
		if rep.Rejected != 1 || rep.New != 1 || rep.Messages != 1 || len(rep.Rejects) != 1 || rep.Rejects[0].Line != 2 ||
			rep.Rejects[0].Field != "visit_number" {
			t.Errorf("reused visit number: %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM patients WHERE mrn = 'M9'`); n != 0 {
			t.Errorf("the refused row left %d patients", n)
		}

		// A file without the required columns is the user's mistake.
		_, err := e.imp.Import(ctx, sysadmin(), strings.NewReader("姓名,出院日期\n李建国,2026-09-30\n"), importer.Options{Filename: "x.csv"})
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("file without required columns: %v", err)
		}
	})
}

func TestImporterRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1", "H2")
		rep := e.importCSV(sysadmin(), header+
			row("ZZ", "M1", "V1", "李建国", "2026-09-30")+
			row("", "M2", "V2", "王芳", "2026-09-30")+
			row("H2", "M3", "V3", "张三", "2026-09-30"), importer.Options{})
		if rep.New != 1 || rep.Rejected != 2 || len(rep.Rejects) != 2 {
			t.Fatalf("report %+v", rep)
		}
		if r := rep.Rejects[0]; r.Line != 2 || r.Field != "facility" || !strings.Contains(r.Reason, `"ZZ"`) {
			t.Errorf("unknown facility reject %+v", r)
		}
		if r := rep.Rejects[1]; r.Line != 3 || r.Field != "facility" || !strings.Contains(r.Reason, "names no institution") {
			t.Errorf("missing facility reject %+v", r)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE institution_id = $1 AND visit_number = 'V3'`, ids["H2"]); n != 1 {
			t.Error("H2 row not stored in H2")
		}
		if n := e.count(`SELECT COUNT(*) FROM patients`); n != 1 {
			t.Errorf("%d patients, want 1", n)
		}

		// Options.Institution overrides whatever the file says.
		rep = e.importCSV(sysadmin(), header+row("H1", "M4", "V4", "赵四", "2026-09-30")+row("", "M5", "V5", "钱五", "2026-09-30"),
			importer.Options{Institution: "H2"})
		if rep.New != 2 || rep.Rejected != 0 {
			t.Errorf("override report %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE institution_id = $1`, ids["H2"]); n != 3 {
			t.Errorf("H2 holds %d encounters, want 3", n)
		}
		rep = e.importCSV(sysadmin(), header+row("H1", "M6", "V6", "孙六", "2026-09-30"), importer.Options{Institution: "NOPE"})
		if rep.New != 0 || rep.Rejected != 1 || !strings.Contains(rep.Rejects[0].Reason, `"NOPE"`) {
			t.Errorf("unknown chosen institution: %+v", rep)
		}

		// Someone scoped to H1 cannot import into H2.
		h1 := &access.Principal{UserID: 5, Username: "agent", Roles: []access.Role{access.Agent},
			Grants: []access.Grant{{InstitutionID: ids["H1"]}}}
		rep = e.importCSV(h1, header+row("H2", "M7", "V7", "周七", "2026-09-30")+row("H1", "M8", "V8", "吴八", "2026-09-30"), importer.Options{})
		if rep.New != 1 || rep.Rejected != 1 || !strings.Contains(rep.Rejects[0].Reason, "scope") {
			t.Errorf("out-of-scope institution: %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE institution_id = $1 AND visit_number = 'V8'`, ids["H1"]); n != 1 {
			t.Error("in-scope row not stored")
		}
	})
}

func TestImporterSingleInstitution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1")
		// A group does not count: it holds no patients.
		if _, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "G", Name: "集团", Kind: org.KindGroup}); err != nil {
			t.Fatal(err)
		}
		rep := e.importCSV(sysadmin(), header+row("", "M1", "V1", "李建国", "2026-09-30")+row("GHHS", "M2", "V2", "王芳", "2026-09-30"),
			importer.Options{})
		if rep.New != 2 || rep.Rejected != 0 || rep.TasksCreated != 8 {
			t.Errorf("report %+v", rep)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE institution_id = $1`, ids["H1"]); n != 2 {
			t.Errorf("H1 holds %d encounters, want 2", n)
		}
		// Department codes resolve within the institution.
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE department_id <> 0 AND ward_id <> 0`); n != 2 {
			t.Errorf("%d encounters with resolved departments, want 2", n)
		}
	})
}

func TestImporterPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1")
		nurse := &access.Principal{UserID: 7, Username: "nurse", Roles: []access.Role{access.Nurse, access.DeptHead},
			Grants: []access.Grant{{InstitutionID: ids["H1"]}}}
		_, err := e.imp.Import(ctx, nurse, strings.NewReader(header+row("", "M1", "V1", "李建国", "2026-09-30")), importer.Options{Filename: "a.csv"})
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("import by a nurse: %v", err)
		}
		if n := e.count(`SELECT COUNT(*) FROM import_batches`); n != 0 {
			t.Errorf("refused import left %d batches", n)
		}
		for _, r := range []access.Role{access.Quality, access.Integration} {
			p := &access.Principal{UserID: 8, Username: string(r), Roles: []access.Role{r}, Grants: []access.Grant{{InstitutionID: ids["H1"]}}}
			rep := e.importCSV(p, header+row("", "M1", "V1", "李建国", "2026-09-30"), importer.Options{})
			if rep.Rejected != 0 {
				t.Errorf("import by %s: %+v", r, rep)
			}
		}
	})
}

func TestImporterDatabaseErrorIsNotABadFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		// Break the task table: planning the good row fails in the database.
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DROP TABLE contact_attempts`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DROP TABLE followup_tasks`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, err := e.imp.Import(ctx, sysadmin(), strings.NewReader(header+row("", "M1", "V1", "李建国", "2026-09-30")+row("", "", "V2", "王芳", "2026-09-30")),
			importer.Options{Filename: "a.csv"})
		if err == nil || errs.KindOf(err) != errs.Internal || errs.CodeOf(err) == "bad_file" {
			t.Errorf("database failure reported as %v (kind %v code %s), want an internal error", err, errs.KindOf(err), errs.CodeOf(err))
		}
		var status string
		if err := db.R().QueryRowContext(ctx, `SELECT status FROM import_batches`).Scan(&status); err != nil || status != "failed" {
			t.Errorf("batch status %q %v, want failed", status, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters`); n != 0 {
			t.Errorf("the failed batch left %d encounters", n)
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hl7Dir() string { return filepath.Join("..", "..", "..", "shared", "data", "hl7") }

func hl7Files(t *testing.T) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(hl7Dir(), "ADT-*.hl7"))
	if len(files) == 0 {
		t.Skip("sample HL7 data not available")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	for _, need := range []string{"ADT-A01-01.hl7", "ADT-A03-01.hl7", "ADT-A13-01.hl7"} {
		if out[need] == nil {
			t.Skipf("sample %s not available", need)
		}
	}
	return out
}

func (e *env) importHL7(name string, b []byte) *importer.Report {
	e.t.Helper()
	rep, err := e.imp.Import(ctx, sysadmin(), bytes.NewReader(b), importer.Options{Filename: name})
	if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	if rep.Format != importer.HL7 || rep.Rejected != 0 || rep.Messages != 1 {
		e.t.Fatalf("%s: %+v", name, rep)
	}
	return rep
}

func TestImporterHL7Samples(t *testing.T) {
	files := hl7Files(t)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	// The samples, as the interface specification wrote them, are a
	// pre-admitted patient (PV1-2 = P): a visit, stored and counted, with no
	// discharge plan. Sent as an inpatient (PV1-2 = I), as a ward's HIS
	// would, they are the discharge flow tested below.
	t.Run("as-sent", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			e, _ := setup(t, db, "H1")
			e.importHL7("ADT-A01-01.hl7", files["ADT-A01-01.hl7"])
			rep := e.importHL7("ADT-A03-01.hl7", files["ADT-A03-01.hl7"])
			if rep.Visits != 1 || rep.TasksCreated != 0 {
				t.Errorf("pre-admit A03 report %+v, want a visit and no tasks", rep)
			}
			if n := e.count(`SELECT COUNT(*) FROM followup_tasks`); n != 0 {
				t.Errorf("%d tasks for a pre-admit, want 0", n)
			}
		})
	})
	for n, b := range files {
		files[n] = bytes.ReplaceAll(b, []byte("PV1|1|P|"), []byte("PV1|1|I|"))
	}
	t.Run("inpatient", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			e, _ := setup(t, db, "H1")
			open := `SELECT COUNT(*) FROM followup_tasks WHERE status = 'open'`

			// A01, A03: the discharge is planned; A13 takes it back.
			e.importHL7("ADT-A01-01.hl7", files["ADT-A01-01.hl7"])
			rep := e.importHL7("ADT-A03-01.hl7", files["ADT-A03-01.hl7"])
			// PID-30 says the patient died: no call at all, though the stay
			// had surgery (the key plan's six steps).
			if rep.TasksCreated != 0 || rep.Updated != 1 {
				t.Errorf("A03 report %+v, want no tasks", rep)
			}
			if n := e.count(open); n != 0 {
				t.Errorf("%d open tasks after the A03 of a death", n)
			}
			if n := e.count(`SELECT COUNT(*) FROM patients WHERE deceased = $1`, true); n != 1 {
				t.Error("PID-30 did not mark the patient deceased")
			}
			once := e.snapshot()
			e.importHL7("ADT-A03-01.hl7", files["ADT-A03-01.hl7"])
			if again := e.snapshot(); again != once {
				t.Errorf("re-sent A03 changed the database:\n%s\nvs\n%s", once, again)
			}
			rep = e.importHL7("ADT-A13-01.hl7", files["ADT-A13-01.hl7"])
			if rep.Cancelled != 1 || rep.TasksCancelled != 0 {
				t.Errorf("A13 report %+v", rep)
			}
			if n := e.count(open); n != 0 {
				t.Errorf("%d open tasks after A13, want 0", n)
			}
			if n := e.count(`SELECT COUNT(*) FROM encounters WHERE visit_number = '40007716' AND status = 'admitted'`); n != 1 {
				t.Error("A13 should leave the stay admitted")
			}

			// Every sample, in order, once and then twice: the same result.
			// In name order the A13 comes after the A11 that cancelled the
			// admission: there is no discharge left to cancel, so it is
			// refused (the one rule the API follows too), each time alike.
			all := func() {
				for _, n := range names {
					rep, err := e.imp.Import(ctx, sysadmin(), bytes.NewReader(files[n]), importer.Options{Filename: n})
					if err != nil {
						t.Fatalf("%s: %v", n, err)
					}
					if want := b2i(n == "ADT-A13-01.hl7"); rep.Rejected != want {
						t.Errorf("%s: %d rejects, want %d: %+v", n, rep.Rejected, want, rep.Rejects)
					}
				}
			}
			all()
			first := e.snapshot()
			all()
			if second := e.snapshot(); second != first {
				t.Errorf("importing the samples twice differs from once:\n%s\nvs\n%s", first, second)
			}
			if n := e.count(`SELECT COUNT(*) FROM encounters`); n != 1 {
				t.Errorf("%d encounters from the samples, want 1", n)
			}
			if n := e.count(`SELECT COUNT(*) FROM patients`); n != 1 {
				t.Errorf("%d patients from the samples, want 1", n)
			}
			if n := e.count(`SELECT COUNT(*) FROM followup_tasks`); n != 0 {
				t.Errorf("%d tasks from the samples of a death, want 0", n)
			}
		})
	})
	// The same stay of a living patient (PID-29/30 cleared): the key plan.
	for n, b := range files {
		files[n] = bytes.ReplaceAll(b, []byte("|20080825111630+0115|Y|"), []byte("||N|"))
	}
	t.Run("living inpatient", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			e, _ := setup(t, db, "H1")
			open := `SELECT COUNT(*) FROM followup_tasks WHERE status = 'open'`
			e.importHL7("ADT-A01-01.hl7", files["ADT-A01-01.hl7"])
			rep := e.importHL7("ADT-A03-01.hl7", files["ADT-A03-01.hl7"])
			if rep.TasksCreated != 6 || rep.Updated != 1 {
				t.Errorf("A03 report %+v, want the key plan's 6 tasks", rep)
			}
			if n := e.count(open); n != 6 {
				t.Errorf("%d open tasks after A03, want 6", n)
			}
			rep = e.importHL7("ADT-A13-01.hl7", files["ADT-A13-01.hl7"])
			if rep.Cancelled != 1 || rep.TasksCancelled != 6 {
				t.Errorf("A13 report %+v", rep)
			}
			if n := e.count(open); n != 0 {
				t.Errorf("%d open tasks after A13, want 0", n)
			}
		})
	})
}

func TestImporterStreamBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		var msgs []intake.Message
		at := time.Date(2026, 9, 30, 1, 30, 0, 0, time.UTC)
		for i := range 7 {
			v := string(rune('A' + i))
			msgs = append(msgs, intake.Message{Source: "gen " + v, Line: i + 1, Event: intake.Discharge,
				Patient:   intake.Patient{MRN: "M" + v, Name: "患者" + v},
				Encounter: intake.Encounter{VisitNumber: "V" + v, DepartmentCode: "0301", WardCode: "W05", DischargedAt: at}})
		}
		var progress []int
		rep, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "gen", BatchSize: 3,
			Progress: func(n int) { progress = append(progress, n) }}, func(s intake.Sink) error {
			for _, m := range msgs {
				if err := s.Message(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || rep.New != 7 || rep.TasksCreated != 28 {
			t.Fatalf("stream: %+v %v", rep, err)
		}
		if len(progress) != 3 || progress[2] != 7 {
			t.Errorf("progress %v, want three batches ending at 7", progress)
		}
	})
}

// TestImporterMarksKilledImportsInterrupted: an import whose process dies
// mid-file stays 'running' for ever unless something notices it stopped
// beating. A live import on another instance must not be taken for dead.
func TestImporterMarksKilledImportsInterrupted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		at := time.Date(2026, 9, 30, 1, 30, 0, 0, time.UTC)
		msg := func(v string) intake.Message {
			return intake.Message{Source: "gen " + v, Line: 1, Event: intake.Discharge,
				Patient:   intake.Patient{MRN: "M" + v, Name: "患者" + v},
				Encounter: intake.Encounter{VisitNumber: "V" + v, DepartmentCode: "0301", WardCode: "W05", DischargedAt: at}}
		}
		status := func(id int64) string {
			var s string
			if err := db.R().QueryRowContext(ctx, `SELECT status FROM import_batches WHERE id = $1`, id).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}

		// A finished import, for contrast.
		done := e.importCSV(sysadmin(), header+row("H1", "M0", "V0", "李建国", "2026-09-30 09:30"), importer.Options{})

		// The killed one: its goroutine ends after the first batch committed,
		// without returning, as a SIGKILL would leave it.
		var killed *importer.Report
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			killed, _ = e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "big.csv", BatchSize: 2,
				Progress: func(int) {}}, func(s intake.Sink) error {
				for _, v := range []string{"A", "B", "C"} {
					if err := s.Message(msg(v)); err != nil {
						return err
					}
				}
				runtime.Goexit()
				return nil
			})
		}()
		<-finished
		if killed != nil {
			t.Fatal("the killed import returned")
		}
		var killedID int64
		if err := db.R().QueryRowContext(ctx, `SELECT MAX(id) FROM import_batches`).Scan(&killedID); err != nil {
			t.Fatal(err)
		}
		if s := status(killedID); s != "running" {
			t.Fatalf("killed import status %q before the sweep, want running", s)
		}

		// Not yet stale.
		e.clk.Advance(importer.StaleAfter / 2)
		if n, err := e.imp.MarkInterrupted(ctx); err != nil || n != 0 {
			t.Fatalf("early sweep marked %d, %v", n, err)
		}

		// A live import that runs longer than StaleAfter in all: each batch
		// it commits beats, so a sweep in its middle leaves it alone.
		live, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "live.csv", BatchSize: 1}, func(s intake.Sink) error {
			if err := s.Message(msg("D")); err != nil {
				return err
			}
			e.clk.Advance(importer.StaleAfter + time.Minute)
			if err := s.Message(msg("E")); err != nil {
				return err
			}
			// The killed import has now been silent for over 1.5 × StaleAfter.
			n, err := e.imp.MarkInterrupted(ctx)
			if err != nil || n != 1 {
				t.Errorf("sweep during the live import marked %d, %v; want only the killed one", n, err)
			}
			return nil
		})
		if err != nil || live.New != 2 {
			t.Fatalf("live import: %+v %v", live, err)
		}
		if s := status(killedID); s != "interrupted" {
			t.Errorf("killed import status %q, want interrupted", s)
		}
		if s := status(live.BatchID); s != "done" {
			t.Errorf("live import status %q, want done", s)
		}
		if s := status(done.BatchID); s != "done" {
			t.Errorf("finished import status %q, want done", s)
		}
		// What the killed import committed stays: its first batch (A, B).
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE visit_number IN ('VA','VB','VC')`); n != 2 {
			t.Errorf("%d of the killed import's stays kept, want its first batch of 2", n)
		}
	})
}
