package kpi_test

import (
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/followup"
	"suifang/internal/gen"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/kpi"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

const benchDischarges, benchRecords = 20000, 2000

// BenchmarkCompute: a month of 20,000 generated discharges of one hospital
// (SQLite), 2,000 of them followed up with a record, computed from the
// raw rows.
func BenchmarkCompute(b *testing.B) {
	db := storetest.SQLite(b)
	e := testkit.New(b, db, testkit.Options{Start: time.Date(2026, 10, 2, 2, 0, 0, 0, time.UTC)})
	inst := e.Institution(b, "H1", "基准医院")
	cst := time.FixedZone("CST", 8*3600)
	cfg := gen.Config{Seed: 12, Count: benchDischarges, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, cst), End: time.Date(2026, 10, 1, 0, 0, 0, 0, cst)}
	ids := benchMonth(b, e, cfg, benchRecords, func(n int) followup.RecordInput {
		in := followup.RecordInput{Channel: "phone", TreatmentEffect: "improved", Satisfaction: followup.Satisfied, NPS: n % 11,
			MedicationGuidance: "按医嘱继续服药", RevisitAdvice: "两周后门诊复诊"}
		if n%7 == 0 {
			in.Satisfaction = followup.Basically
		}
		return in
	})
	sep := kpi.Month{Year: 2026, Month: time.September}
	b.ResetTimer()
	for b.Loop() {
		r, err := e.KPI.Compute(ctx, inst, sep)
		if err != nil {
			b.Fatal(err)
		}
		if r.Total.Discharges == 0 || r.Total.Covered != len(ids) {
			b.Fatalf("computed %+v, want %d covered", r.Total, len(ids))
		}
	}
}

// benchMonth imports cfg's generated discharges and completes the first
// `records` open first-contact tasks with record(n); it returns their ids.
func benchMonth(b *testing.B, e *testkit.Env, cfg gen.Config, records int, record func(n int) followup.RecordInput) []int64 {
	b.Helper()
	rep, err := e.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "bench", Format: "gen"}, func(s intake.Sink) error {
		return gen.Generate(cfg, s.Message)
	})
	if err != nil || rep.Rejected != 0 {
		b.Fatalf("import: %v %+v", err, rep)
	}
	rows, err := e.DB.R().QueryContext(ctx, `SELECT id FROM followup_tasks WHERE status = 'open' AND step_key = 'FIRST' ORDER BY id LIMIT $1`, records)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for n, id := range ids {
		if _, err := e.Followup.Complete(ctx, access.System(), id, record(n)); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
