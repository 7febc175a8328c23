package importer_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// trickyStream is a feed in which later messages depend on earlier ones of
// the same batch: a readmission, a discharge taken back and re-sent, an
// admission followed by its discharge, a move, a death, and messages that
// must be refused. The bulk path must leave exactly what one-by-one
// application leaves.
func trickyStream() []intake.Message {
	at := time.Date(2026, 9, 28, 2, 0, 0, 0, time.UTC)
	msg := func(ev intake.Event, mrn, name, visit, dept, ward string) intake.Message {
		m := intake.Message{Event: ev, Patient: intake.Patient{MRN: mrn, Name: name, Phones: []string{"13800138000"}},
			Encounter: intake.Encounter{VisitNumber: visit, DepartmentCode: dept, WardCode: ward, AdmittedAt: at.AddDate(0, 0, -5)}}
		if ev == intake.Discharge || ev == intake.Update {
			m.Encounter.DischargedAt = at
		}
		return m
	}
	died := msg(intake.Discharge, "M5", "王五", "V6", "0301", "W05")
	died.Encounter.Outcome = intake.Died
	msgs := []intake.Message{
		msg(intake.Discharge, "M1", "张三", "V1", "0301", "W05"),
		msg(intake.Discharge, "M1", "张三", "V2", "0301", "W05"), // readmission of a patient new in this batch
		msg(intake.CancelDischarge, "M1", "", "V1", "", ""),    // A13 in the same batch as its A03
		msg(intake.Discharge, "M1", "张三", "V1", "0301", "W05"), // re-sent: tasks open again
		msg(intake.Admit, "M2", "李四", "V3", "0301", "W05"),     // admission: no plan yet
		msg(intake.Discharge, "M2", "李四", "V3", "0301", "W05"), // its discharge: the plan
		msg(intake.Discharge, "M3", "", "V4", "0301", "W05"),   // refused: no name
		msg(intake.Discharge, "M4", "赵六", "V1", "0301", "W05"), // refused: V1 belongs to M1
		msg(intake.CancelAdmit, "M9", "", "V99", "", ""),       // refused: unknown visit
		msg(intake.Update, "M1", "张三", "V2", "0302", "W05"),    // A08 moves the stay
		died, // no satisfaction tasks
		msg(intake.Discharge, "M6", "钱七", "V7", "0301", "W05"), // plain new discharge
		msg(intake.Discharge, "M6", "钱七", "V7", "0301", "W05"), // re-sent in the same batch: nothing twice
	}
	for i := range msgs {
		msgs[i].Line, msgs[i].Source = i+1, fmt.Sprintf("line %d", i+1)
	}
	return msgs
}

// snapshot is every stay and task as text, independent of row ids.
func snapshot(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.R().QueryContext(ctx, `SELECT p.mrn, e.visit_number, e.status, e.dept_code, COALESCE(t.step_key, ''),
		COALESCE(t.status, ''), COALESCE(t.due_date, ''), COALESCE(t.close_reason, '')
		FROM encounters e JOIN patients p ON p.id = e.patient_id LEFT JOIN followup_tasks t ON t.encounter_id = e.id
		ORDER BY e.visit_number, t.step_key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f [8]string
		if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(f[:], " "))
	}
	return out
}

func TestImporterBulkMatchesOneByOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, _ *store.DB) {
		engine := "sqlite"
		if strings.HasSuffix(t.Name(), "postgres") {
			engine = "postgres"
		}
		var snaps [2][]string
		var reps [2]string
		for i, batch := range []int{1, 2000} {
			db := storetest.SQLite(t)
			if engine == "postgres" {
				db = storetest.Postgres(t)
			}
			e, _ := setup(t, db, "H1")
			rep, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "tricky", BatchSize: batch}, func(s intake.Sink) error {
				for _, m := range trickyStream() {
					if err := s.Message(m); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			snaps[i] = snapshot(t, db)
			reps[i] = fmt.Sprintf("new=%d updated=%d unchanged=%d cancelled=%d tasks=%d/%d rejected=%d",
				rep.New, rep.Updated, rep.Unchanged, rep.Cancelled, rep.TasksCreated, rep.TasksCancelled, rep.Rejected)
		}
		if !reflect.DeepEqual(snaps[0], snaps[1]) {
			t.Errorf("one by one:\n%s\nbulk:\n%s", strings.Join(snaps[0], "\n"), strings.Join(snaps[1], "\n"))
		}
		if reps[0] != reps[1] {
			t.Errorf("reports differ: one by one %s, bulk %s", reps[0], reps[1])
		}
		// Hand-checked facts, so equal-but-wrong fails too.
		want := map[string]bool{"rejected=3": true, "new=5": true, "cancelled=1": true}
		for w := range want {
			if !strings.Contains(reps[1], w) {
				t.Errorf("report %s lacks %s", reps[1], w)
			}
		}
		var open, v1open, v6sat int
		for _, row := range snaps[1] {
			f := strings.Fields(row)
			if len(f) >= 6 && f[5] == "open" {
				open++
				if f[1] == "V1" {
					v1open++
				}
			}
			if f[1] == "V6" && len(f) > 4 {
				v6sat++ // a death gets no call at all
			}
		}
		if v1open == 0 || open == 0 {
			t.Errorf("re-sent V1 has no open task: %v", snaps[1])
		}
		if v6sat != 0 {
			t.Errorf("a deceased patient got %d tasks", v6sat)
		}
	})
}

// A re-sent A03 whose discharge date was corrected moves the open tasks:
// the same-version rule gives the new windows; a worked task keeps its
// next contact date; closed tasks stay as they were.
func TestImporterCorrectedDischargeDateReplans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		feed := func(day int) error {
			_, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "a03"}, func(s intake.Sink) error {
				at := time.Date(2026, 9, day, 2, 0, 0, 0, time.UTC)
				return s.Message(intake.Message{Source: "a03", Line: 1, Event: intake.Discharge,
					Patient:   intake.Patient{MRN: "M1", Name: "张三"},
					Encounter: intake.Encounter{VisitNumber: "V1", DepartmentCode: "0301", WardCode: "W05", DischargedAt: at}})
			})
			return err
		}
		if err := feed(21); err != nil { // Monday 2026-09-21
			t.Fatal(err)
		}
		before := snapshot(t, db)
		var rep *importer.Report
		rep, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "a03"}, func(s intake.Sink) error {
			return s.Message(intake.Message{Source: "a03", Line: 1, Event: intake.Discharge,
				Patient: intake.Patient{MRN: "M1", Name: "张三"},
				Encounter: intake.Encounter{VisitNumber: "V1", DepartmentCode: "0301", WardCode: "W05",
					DischargedAt: time.Date(2026, 9, 28, 2, 0, 0, 0, time.UTC)}}) // corrected to Monday 2026-09-28
		})
		if err != nil {
			t.Fatal(err)
		}
		after := snapshot(t, db)
		// Hand-worked: from 09-21 FIRST (3 working days) is 09-24, L2 (14 days) 10-05
		// rolled over National Day to 10-08, L3 (30 days) 10-21; from 09-28 they are
		// 10-08 (09-29, 09-30, then 10-08 after the holiday), 10-12 and 10-28.
		wantBefore := []string{"FIRST open 2026-09-24", "L1 open 2026-09-21", "L2 open 2026-10-08", "L3 open 2026-10-21"}
		wantAfter := []string{"FIRST open 2026-10-08", "L1 open 2026-09-28", "L2 open 2026-10-12", "L3 open 2026-10-28"}
		for i, w := range wantBefore {
			if !strings.Contains(before[i], w) {
				t.Errorf("before: row %d = %q, want %q", i, before[i], w)
			}
			if !strings.Contains(after[i], wantAfter[i]) {
				t.Errorf("after: row %d = %q, want %q", i, after[i], wantAfter[i])
			}
		}
		if rep.TasksReplanned != 4 || rep.TasksCreated != 0 || rep.Updated != 1 {
			t.Errorf("report %+v, want 4 re-dated, none created, 1 updated", rep)
		}
	})
}

// Operation names survive both write paths: a new stay (bulk) and an A08
// that changes them (Apply).
func TestImporterKeepsProcedures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1")
		at := time.Date(2026, 9, 28, 2, 0, 0, 0, time.UTC)
		send := func(ev intake.Event, procs ...string) {
			t.Helper()
			_, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "p"}, func(s intake.Sink) error {
				return s.Message(intake.Message{Source: "p", Line: 1, Event: ev, Patient: intake.Patient{MRN: "M1", Name: "张三"},
					Encounter: intake.Encounter{VisitNumber: "V1", DepartmentCode: "0301", DischargedAt: at, Procedures: procs}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		check := func(want ...string) {
			t.Helper()
			enc, err := e.pat.EncounterByVisit(ctx, sysadmin(), ids["H1"], "V1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(enc.Procedures, want) || !enc.Surgery {
				t.Errorf("procedures %q surgery %v, want %q", enc.Procedures, enc.Surgery, want)
			}
		}
		send(intake.Discharge, "阑尾切除术", " 腹腔镜探查术 ")
		check("阑尾切除术", "腹腔镜探查术")
		send(intake.Update, "阑尾切除术")
		check("阑尾切除术")
	})
}

// Tab counts stop at followup.CountCap+1: 520 discharges today give 1,040
// tasks due today (L1 and the first contact), which count as 1,001.
func TestWorklistCountsAreCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, ids := setup(t, db, "H1")
		_, err := e.imp.ImportStream(ctx, sysadmin(), importer.Options{Filename: "many"}, func(s intake.Sink) error {
			for i := range 520 {
				if err := s.Message(intake.Message{Source: "many", Line: i + 1, Event: intake.Discharge,
					Patient: intake.Patient{MRN: fmt.Sprintf("M%d", i), Name: "患者"},
					Encounter: intake.Encounter{VisitNumber: fmt.Sprintf("V%d", i), DepartmentCode: "0301", WardCode: "W05",
						DischargedAt: time.Date(2026, 9, 30, 1, 0, 0, 0, time.UTC)}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		today := followup.Today(e.clk.Now(), time.FixedZone("CST", 8*3600))
		wl, err := e.fu.Worklist(ctx, sysadmin(), followup.Filter{InstitutionID: ids["H1"]}, today)
		if err != nil {
			t.Fatal(err)
		}
		if wl.Counts[followup.TabToday] != followup.CountCap+1 || wl.Total != followup.CountCap+1 {
			t.Errorf("today count %d, total %d; want %d (capped)", wl.Counts[followup.TabToday], wl.Total, followup.CountCap+1)
		}
		// L2 and L3 (start 1 and 7 days on) are upcoming: 1,040, capped too.
		if n := wl.Counts[followup.TabUpcoming]; n != followup.CountCap+1 {
			t.Errorf("upcoming count %d, want %d", n, followup.CountCap+1)
		}
		if n := wl.Counts[followup.TabOverdue]; n != 0 {
			t.Errorf("overdue count %d, want 0", n)
		}
		if len(wl.Tasks) != 50 {
			t.Errorf("page of %d tasks, want 50", len(wl.Tasks))
		}
	})
}
