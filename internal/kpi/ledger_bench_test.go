package kpi_test

import (
	"io"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/followup"
	"suifang/internal/gen"
	"suifang/internal/kpi"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// BenchmarkLedgerXLSX: the September ledger of one department with 5,000
// generated discharges (SQLite), 1,000 followed up with a record, read
// and streamed to a workbook with its audit entry.
func BenchmarkLedgerXLSX(b *testing.B) {
	db := storetest.SQLite(b)
	e := testkit.New(b, db, testkit.Options{Start: time.Date(2026, 10, 2, 2, 0, 0, 0, time.UTC)})
	inst := e.Institution(b, "H1", "基准医院")
	dept := e.Department(b, inst, "0301", "心血管内科", org.DeptClinical)
	e.Department(b, inst, "0301W1", "心血管内科一病区", org.DeptWard)
	cst := time.FixedZone("CST", 8*3600)
	cfg := gen.Config{Seed: 7, Count: 5000, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, cst), End: time.Date(2026, 10, 1, 0, 0, 0, 0, cst),
		Departments: []gen.Department{{Code: "0301", Name: "心血管内科", WardCode: "0301W1", WardName: "心血管内科一病区", Specialty: gen.Cardiology}}}
	benchMonth(b, e, cfg, 1000, func(n int) followup.RecordInput {
		return followup.RecordInput{Channel: "phone", TreatmentEffect: "improved",
			Satisfaction: followup.Satisfied, NPS: n % 11, Opinions: "护士服务态度好，出院指导清楚",
			MedicationGuidance: "按医嘱继续服药", RevisitAdvice: "两周后门诊复诊"}
	})
	sep := kpi.Month{Year: 2026, Month: time.September}
	l := zhLabels("基准医院 心血管内科 2026年09月 出院患者随访台账")
	labels := func(*kpi.Ledger) kpi.LedgerLabels { return l }
	b.ResetTimer()
	for b.Loop() {
		led, err := e.KPI.ExportLedger(ctx, access.System(), inst, dept, sep, labels, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if len(led.Rows) != 5000 {
			b.Fatalf("%d rows, want 5000", len(led.Rows))
		}
	}
}
