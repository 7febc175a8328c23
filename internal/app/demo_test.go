package app

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"suifang/internal/auth"
	"suifang/internal/complaint"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestDemoHistoryTimes checks that the demo's follow-up history happened
// in the past it tells: every record and contact attempt is stamped inside
// the simulated weeks (not at the seed instant), on or after its stay's
// discharge day, records are numbered and chained in time order, and the
// chains verify.
func TestDemoHistoryTimes(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			cfg := DefaultConfig()
			if engine == "sqlite" {
				cfg.DB = filepath.Join(t.TempDir(), "demo.db")
			} else {
				cfg.DB = storetest.NewPostgresDSN(t)
			}
			cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
			cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-app-test-data-key-32byte"))
			cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-app-test-index-key-32byt"))
			now := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC) // 10:00 in Beijing
			cfg.Now = func() time.Time { return now }
			cfg.DemoHistoryDays = 30
			ctx := context.Background()
			a, err := Open(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			start := now.AddDate(0, 0, -31)
			db := a.DB
			var n, bad, before, late int
			scan := func(q string, dst ...any) {
				t.Helper()
				if err := db.R().QueryRowContext(ctx, q).Scan(dst...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			scan(`SELECT COUNT(*) FROM followup_records`, &n)
			if n < 100 {
				t.Fatalf("the demo wrote %d records", n)
			}
			lo, hi := store.Micros(start), store.Micros(now.Add(-24*time.Hour))
			// The demo's survey answers come in this morning (the patients
			// answer their links as the demo opens); staff history is in the
			// simulated weeks.
			scan(`SELECT COUNT(*) FROM followup_records WHERE actor <> 'patient-survey' AND (at < `+itoa(lo)+` OR at > `+itoa(hi)+`)`, &bad)
			scan(`SELECT COUNT(*) FROM contact_attempts a WHERE NOT EXISTS (SELECT 1 FROM followup_records r
				WHERE r.task_id = a.task_id AND r.actor = 'patient-survey') AND (a.at < `+itoa(lo)+` OR a.at > `+itoa(hi)+`)`, &late)
			var future int
			scan(`SELECT COUNT(*) FROM followup_records WHERE at > `+itoa(store.Micros(now)), &future)
			if future != 0 {
				t.Errorf("%d records after the demo's now", future)
			}
			if bad != 0 || late != 0 {
				t.Errorf("%d records and %d attempts outside the simulated weeks", bad, late)
			}
			// Not before the patient left hospital (the discharge day starts
			// at local midnight, 16:00 UTC the day before).
			scan(`SELECT COUNT(*) FROM followup_records r JOIN encounters e ON e.id = r.encounter_id
				WHERE r.at < e.discharged_at - 86400000000`, &before)
			if before != 0 {
				t.Errorf("%d records made before the discharge", before)
			}
			// The chain runs forward in time.
			var backwards int
			scan(`SELECT COUNT(*) FROM followup_records r JOIN followup_records p
				ON p.institution_id = r.institution_id AND p.id < r.id AND p.at > r.at`, &backwards)
			if backwards != 0 {
				t.Errorf("%d record pairs out of time order", backwards)
			}
			var days int
			scan(`SELECT COUNT(DISTINCT substr(number, 1, 15)) FROM followup_records`, &days)
			if days < 10 {
				t.Errorf("records numbered on %d distinct days", days)
			}
			res, err := a.Followup.VerifyRecords(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range res {
				if !c.OK {
					t.Errorf("chain of institution %d broken at %s: %s", c.InstitutionID, c.BrokenRef, c.Reason)
				}
			}
			checkDemoComplaints(t, ctx, a, now)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkDemoComplaints checks that the demo's complaints show the room at
// work: at least six statuses, a red clock, one waiting on the
// complainant, a major one, one with several departments, events in time
// order and a chain that verifies.
func checkDemoComplaints(t *testing.T, ctx context.Context, a *App, now time.Time) {
	t.Helper()
	var qid int64
	if err := a.DB.R().QueryRowContext(ctx, `SELECT id FROM users WHERE username = $1`, "quality").Scan(&qid); err != nil {
		t.Fatal(err)
	}
	q, err := a.Auth.PrincipalFor(ctx, qid)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := a.Org.InstitutionByCode(ctx, "H01")
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.Complaints.List(ctx, q, complaint.Filter{InstitutionID: h1.ID, Tab: complaint.TabAll, Status: "all", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	statuses, colours := map[string]int{}, map[string]int{}
	var paused, major, multi int
	for _, v := range l.Items {
		statuses[v.Status]++
		colours[v.Colour]++
		if v.Paused {
			paused++
		}
		if v.Severity == complaint.Major {
			major++
		}
		if v.MultiDept() {
			multi++
		}
		if v.ReceivedAt.After(now) {
			t.Errorf("complaint %s received after the demo's now", v.Number)
		}
	}
	t.Logf("demo complaints: %d, statuses %v, colours %v", l.Total, statuses, colours)
	if l.Total < 15 {
		t.Errorf("the demo has %d complaints", l.Total)
	}
	if len(statuses) < 6 {
		t.Errorf("the demo's complaints are in %d statuses: %v", len(statuses), statuses)
	}
	for _, c := range []string{complaint.Red, complaint.Amber, complaint.Green, complaint.Met} {
		if colours[c] == 0 {
			t.Errorf("no demo complaint shows %s: %v", c, colours)
		}
	}
	if paused == 0 || major == 0 || multi == 0 {
		t.Errorf("paused %d, major %d, multi-department %d", paused, major, multi)
	}
	var reopened, returned, alerted, future, backwards int
	scan := func(q string, dst *int) {
		t.Helper()
		if err := a.DB.R().QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	scan(`SELECT COUNT(*) FROM complaint_events WHERE action = 'reopen'`, &reopened)
	scan(`SELECT COUNT(*) FROM complaint_events WHERE action = 'return'`, &returned)
	scan(`SELECT COUNT(*) FROM complaint_events WHERE action = 'alert_leadership'`, &alerted)
	scan(`SELECT COUNT(*) FROM complaint_events WHERE at > `+itoa(store.Micros(now)), &future)
	scan(`SELECT COUNT(*) FROM complaint_events e JOIN complaint_events p
		ON p.institution_id = e.institution_id AND p.id < e.id AND p.at > e.at`, &backwards)
	if reopened == 0 || returned == 0 || alerted == 0 {
		t.Errorf("reopened %d, returned %d, leadership alerted %d", reopened, returned, alerted)
	}
	if future != 0 || backwards != 0 {
		t.Errorf("%d complaint events after now, %d pairs out of time order", future, backwards)
	}
	res, err := a.Complaints.VerifyEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res {
		if !c.OK {
			t.Errorf("complaint chain of institution %d broken at %s: %s", c.InstitutionID, c.BrokenRef, c.Reason)
		}
	}
}
