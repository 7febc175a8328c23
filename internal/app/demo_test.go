package app

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"suifang/internal/auth"
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
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
