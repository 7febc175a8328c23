package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/calendar"
	"suifang/internal/followup"
	"suifang/internal/intake"
)

// `suifang verify` names the follow-up record a manual UPDATE altered.
func TestVerifyNamesTamperedRecord(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "v.db")
	csv := filepath.Join(dir, "discharges.csv")
	if err := os.WriteFile(csv, intake.CSVTemplate(), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, nil, "", "institution", "add", "--db", db, "HV", "验证医院")
	r := must(t, nil, "", "import", "--db", db, "--quiet", csv)
	if !strings.Contains(r.stdout, "2 new") {
		t.Fatalf("import: %s", r.stdout)
	}

	ctx := context.Background()
	cfg := app.DefaultConfig()
	cfg.DB = db
	a, err := app.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := a.Org.InstitutionByCode(ctx, "HV")
	wl, err := a.Followup.Worklist(ctx, access.System(), followup.Filter{InstitutionID: inst.ID, Tab: followup.TabOverdue, Limit: 5},
		calendar.Date{Year: 2100, Month: 1, Day: 1})
	if err != nil || len(wl.Tasks) < 2 {
		t.Fatalf("worklist: %v, %d tasks", err, len(wl.Tasks))
	}
	in := followup.RecordInput{TreatmentEffect: "improved", Satisfaction: followup.Satisfied,
		MedicationGuidance: "按时服药", RevisitAdvice: "两周后复诊", NPS: 9}
	var numbers []string
	for _, task := range wl.Tasks[:2] {
		rec, err := a.Followup.Complete(ctx, access.System(), task.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, rec.Number)
	}
	a.Close()

	if r := must(t, nil, "", "verify", "--db", db); !strings.Contains(r.stdout, "follow-up records of HV OK: 2 records") {
		t.Fatalf("clean verify: %s", r.stdout)
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER followup_records_no_update`,
		`UPDATE followup_records SET medication_guidance = '自行停药' WHERE number = '` + numbers[1] + `'`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	r = suifang(t, nil, "", "verify", "--db", db)
	wantExit(t, r, 1, "verify")
	if !strings.Contains(r.stderr, "BROKEN at record "+numbers[1]) || !strings.Contains(r.stderr, "altered") {
		t.Fatalf("verify after tampering: %s", r.stderr)
	}
}
