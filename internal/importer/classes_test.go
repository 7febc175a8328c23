package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func (e *env) importFile(name string) *importer.Report {
	e.t.Helper()
	f, err := os.Open(filepath.Join("..", "intake", "testdata", name))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	rep, err := e.imp.Import(ctx, sysadmin(), f, importer.Options{Filename: filepath.Base(name)})
	if err != nil {
		e.t.Fatalf("import %s: %v", name, err)
	}
	return rep
}

// tasksOf counts the tasks of one visit number.
func (e *env) tasksOf(visit string) int {
	e.t.Helper()
	return e.count(`SELECT COUNT(*) FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id WHERE e.visit_number = $1`, visit)
}

// The Synthea-shaped bundle: 3 inpatient stays, 5 visits (AMB, EMER, VR),
// two deceased patients, two Synthea US phone numbers.
func TestImportFHIRClassesDeceasedAndWarnings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H0001")
		rep := e.importFile("fhir/synthea-r4-transaction.json")
		if rep.Messages != 8 || rep.New != 8 || rep.Visits != 5 || rep.Rejected != 0 || rep.Warned != 2 || len(rep.Warnings) != 2 {
			t.Fatalf("report %+v", rep)
		}
		for _, w := range rep.Warnings {
			if w.Field != "Patient.telecom" || w.Line == 0 || strings.Contains(w.Value, "327-4925") || strings.Contains(w.Value, "804-1180") {
				t.Errorf("warning %+v", w)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE class = 'inpatient'`); n != 3 {
			t.Errorf("%d inpatient stays, want 3", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters WHERE class IN ('outpatient', 'emergency', 'other')`); n != 5 {
			t.Errorf("%d visits, want 5", n)
		}
		// Visits get no plan; the stays do: PCI (surgery rule) and heart
		// failure (chronic rule) six steps each.
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id WHERE e.class <> 'inpatient'`); n != 0 {
			t.Errorf("%d tasks planned for visits", n)
		}
		if a, c := e.tasksOf("e1b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e801"), e.tasksOf("ZY202609140031"); a != 6 || c != 6 {
			t.Errorf("stay tasks %d and %d, want 6 and 6", a, c)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks`); n != rep.TasksCreated {
			t.Errorf("report says %d tasks, %d stored", rep.TasksCreated, n)
		}
		// Deceased: 李秀英 died after her stay, 赵国庆 is marked deceased.
		if n := e.count(`SELECT COUNT(*) FROM patients WHERE deceased = $1`, true); n != 2 {
			t.Errorf("%d deceased patients, want 2", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks t JOIN patients p ON p.id = t.patient_id WHERE p.deceased = $1 AND t.satisfaction = $1`, true); n != 0 {
			t.Errorf("%d satisfaction calls for the dead", n)
		}
		// Warnings are kept with the batch: masked, no raw row.
		b, err := e.imp.Batch(ctx, sysadmin(), rep.BatchID)
		if err != nil || b.Visits != 5 || b.Warnings != 2 {
			t.Fatalf("batch %+v, %v", b, err)
		}
		ws, err := e.imp.Warnings(ctx, sysadmin(), rep.BatchID)
		if err != nil || len(ws) != 2 || ws[0].Value != rep.Warnings[0].Value || !strings.Contains(ws[0].Value, "*") {
			t.Fatalf("stored warnings %+v, %v", ws, err)
		}
		// 张伟's only number was unusable: his tasks say so.
		c := e.count(`SELECT id FROM encounters WHERE visit_number = $1`, "ZY202609140031")
		tasks, err := e.fu.EncounterTasks(ctx, access.System(), int64(c))
		if err != nil || len(tasks) == 0 || !tasks[0].NoPhone {
			t.Fatalf("tasks of the stay without phone: %+v, %v", tasks, err)
		}
		a := e.count(`SELECT id FROM encounters WHERE visit_number = $1`, "e1b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e801")
		if tasks, err := e.fu.EncounterTasks(ctx, access.System(), int64(a)); err != nil || tasks[0].NoPhone {
			t.Fatalf("tasks of the stay with a phone: %v", err)
		}

		// Re-sending the bundle: the id-derived visit numbers are stable.
		again := e.importFile("fhir/synthea-r4-transaction.json")
		if again.New != 0 || again.Unchanged != 8 || again.TasksCreated != 0 || e.count(`SELECT COUNT(*) FROM encounters`) != 8 {
			t.Errorf("re-import %+v", again)
		}
	})
}

// The HL7 feed: outpatient and pre-admit A03s are visits; the "+86 …"
// phone is stored as 13912345601; 7777 is dropped with a warning.
func TestImportHL7PatientClassesAndPhones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H0001")
		rep := e.importFile("hl7/adt-patient-classes.hl7")
		if rep.Messages != 4 || rep.Visits != 2 || rep.Rejected != 1 || rep.Warned != 1 || rep.Warnings[0].Field != "PID-14" {
			t.Fatalf("report %+v", rep)
		}
		for _, v := range []string{"MZ20260925000117", "YZ20260926000042"} {
			if n := e.tasksOf(v); n != 0 {
				t.Errorf("visit %s: %d tasks", v, n)
			}
		}
		if n := e.tasksOf("ZY20260910000301"); n != 4 {
			t.Errorf("pneumonia stay: %d tasks, want 4", n)
		}
		if n := e.tasksOf("ZY20260914000302"); n != 6 {
			t.Errorf("heart failure stay: %d tasks, want 6", n)
		}
		for mrn, want := range map[string]string{"M0102345": "13912345601,13801234567", "M0103456": ""} {
			p, err := e.pat.Get(ctx, db.R(), int64(e.count(`SELECT id FROM patients WHERE mrn = $1`, mrn)))
			if err != nil || strings.Join(p.Phones, ",") != want {
				t.Errorf("%s phones %q, %v; want %q", mrn, p.Phones, err, want)
			}
		}
		// An A08 that leaves PV1-2 empty does not turn the visit into a stay.
		feed, err := os.ReadFile(filepath.Join("..", "intake", "testdata", "hl7", "adt-patient-classes.hl7"))
		if err != nil {
			t.Fatal(err)
		}
		first := string(feed[:strings.Index(string(feed), "MSH|^~\\&|HIS|H0001^北京示例医院|SUIFANG|SF|20260926")])
		a08 := strings.NewReplacer("ADT^A03^ADT_A03", "ADT^A08^ADT_A01", "EVN|A03", "EVN|A08", "PV1|1|O|", "PV1|1||", "原发性高血压", "高血压").Replace(first)
		rep3, err := e.imp.Import(ctx, sysadmin(), strings.NewReader(a08), importer.Options{Filename: "a08.hl7"})
		if err != nil || rep3.Updated != 1 || rep3.TasksCreated != 0 || rep3.Visits != 1 ||
			e.count(`SELECT COUNT(*) FROM encounters WHERE visit_number = $1 AND class = 'outpatient'`, "MZ20260925000117") != 1 {
			t.Fatalf("A08 without class: %+v, %v", rep3, err)
		}
		// Classes are configurable: a hospital whose HIS marks day-surgery
		// pre-admissions P and wants them planned lists P.
		e2, _ := setup(t, db, "H0002")
		e2.imp.SetClasses(intake.Classes{HL7: []string{"I", "P"}})
		rep2, err := e2.imp.Import(ctx, sysadmin(), strings.NewReader(string(feed)), importer.Options{Filename: "again.hl7", Institution: "H0002"})
		if err != nil || rep2.Visits != 1 {
			t.Fatalf("with P inpatient: %+v, %v", rep2, err)
		}
	})
}

// A HIS export whose phone column holds what the registration desk typed:
// the stay with "7777" is kept, without the number, and warned about.
func TestImportCSVBadPhoneKeepsTheStay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H0001")
		text := header +
			strings.Replace(row("H0001", "M201", "ZY201", "周敏", "2026-09-28 10:30"), "13800138000", `"+86 139-1234-5601"`, 1) +
			strings.Replace(row("H0001", "M202", "ZY202", "吴刚", "2026-09-28 11:00"), "13800138000", "7777", 1) +
			strings.Replace(row("H0001", "M203", "ZY203", "郑洁", "2026-09-28 11:20"), "13800138000", "13800138000/7777", 1)
		rep := e.importCSV(sysadmin(), text, importer.Options{})
		if rep.New != 3 || rep.Rejected != 0 || rep.Warned != 2 || rep.TasksCreated != 12 {
			t.Fatalf("report %+v", rep)
		}
		for _, w := range rep.Warnings {
			if w.Field != "联系电话" || w.Value != "**77" || (w.Line != 3 && w.Line != 4) {
				t.Errorf("warning %+v", w)
			}
		}
		for mrn, want := range map[string]string{"M201": "13912345601", "M202": "", "M203": "13800138000"} {
			p, err := e.pat.Get(ctx, db.R(), int64(e.count(`SELECT id FROM patients WHERE mrn = $1`, mrn)))
			if err != nil || strings.Join(p.Phones, ",") != want {
				t.Errorf("%s phones %q, %v; want %q", mrn, p.Phones, err, want)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM import_warnings WHERE batch_id = $1`, rep.BatchID); n != 2 {
			t.Errorf("%d stored warnings", n)
		}
	})
}
