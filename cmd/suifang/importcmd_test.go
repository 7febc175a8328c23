package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The ADT sample through the CLI: visits, rejects and warnings are told
// apart, the dropped number is masked, and the inpatient classes are a flag.
func TestImportCommandVisitsAndWarnings(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SUIFANG_DB": filepath.Join(dir, "imp.db")}
	must(t, env, "", "institution", "add", "H0001", "北京示例医院")
	file := filepath.Join("..", "..", "internal", "intake", "testdata", "hl7", "adt-patient-classes.hl7")
	r := must(t, env, "", "import", "--quiet", file)
	for _, s := range []string{"4 messages, 4 new", "2 visits (no plan)", "1 rejected, 1 warnings",
		`rejected adt-patient-classes.hl7 message 2: MSH-9: unsupported trigger event "A05"`,
		"warning adt-patient-classes.hl7 message 5: PID-14: ", "(**77)"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("import output lacks %q:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "7777") {
		t.Errorf("the dropped number is printed:\n%s", r.stdout)
	}
	// With P as an inpatient class the pre-admission's A03 is a discharge.
	must(t, env, "", "institution", "add", "H0002", "北京示例医院二部")
	r = must(t, env, "", "import", "--quiet", "--institution", "H0002", "--hl7-inpatient-classes", "I,P", file)
	if !strings.Contains(r.stdout, "1 visits (no plan)") {
		t.Errorf("--hl7-inpatient-classes I,P:\n%s", r.stdout)
	}
}
