package gen

import (
	"bytes"
	"crypto/sha256"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"suifang/internal/calendar"
	"suifang/internal/intake"
	"suifang/internal/pii"
)

func testConfig(count int) Config {
	return Config{
		Seed:         42,
		Count:        count,
		Start:        time.Date(2026, 7, 1, 0, 0, 0, 0, cst),
		End:          time.Date(2026, 10, 1, 0, 0, 0, 0, cst),
		Institutions: []string{"H01", "H02"},
		Weights:      []int{3, 1},
	}
}

func TestDeterministic(t *testing.T) {
	sum := func(cfg Config) [32]byte {
		h := sha256.New()
		if err := WriteCSV(h, cfg); err != nil {
			t.Fatal(err)
		}
		return [32]byte(h.Sum(nil))
	}
	cfg := testConfig(3000)
	a, b := sum(cfg), sum(cfg)
	if a != b {
		t.Fatal("the same config gave different output")
	}
	cfg.Seed = 43
	if sum(cfg) == a {
		t.Fatal("another seed gave the same output")
	}
	// Generate is as deterministic as WriteCSV.
	var first, second []intake.Message
	Generate(testConfig(50), func(m intake.Message) error { first = append(first, m); return nil })
	Generate(testConfig(50), func(m intake.Message) error { second = append(second, m); return nil })
	for i := range first {
		if !sameMessage(first[i], second[i]) {
			t.Fatalf("row %d differs between runs", i)
		}
	}
}

func TestValues(t *testing.T) {
	cfg := testConfig(100_000)
	visits := make(map[string]bool, cfg.Count)
	mrns := make(map[string]bool, cfg.Count)
	specOf := map[string]Specialty{}
	for _, d := range DefaultDepartments() {
		specOf[d.Institution+"/"+d.Code] = d.Specialty
	}
	perInst := map[string]int{}
	var last time.Time
	var adults, adultAgeSum, twoCharSurname, surgery, died, withWard int
	n := 0
	err := Generate(cfg, func(m intake.Message) error {
		n++
		p, e := m.Patient, m.Encounter
		if visits[e.VisitNumber] {
			t.Fatalf("duplicate visit number %s", e.VisitNumber)
		}
		visits[e.VisitNumber] = true
		if mrns[p.MRN] {
			t.Fatalf("duplicate MRN %s", p.MRN)
		}
		mrns[p.MRN] = true
		info, err := pii.ValidateNationalID(p.NationalID)
		if err != nil {
			t.Fatalf("%s: ID %s: %v", m.Source, p.NationalID, err)
		}
		if calendar.DateOf(info.Birth) != p.BirthDate || info.Male != (p.Sex == intake.Male) {
			t.Fatalf("%s: ID %s disagrees with birth %s / sex %s", m.Source, p.NationalID, p.BirthDate, p.Sex)
		}
		if len(p.Phones) == 0 || len(p.Phones) > 2 {
			t.Fatalf("%s: %d phones", m.Source, len(p.Phones))
		}
		for _, ph := range p.Phones {
			if len(ph) != 11 || ph[0] != '1' || strings.Trim(ph, "0123456789") != "" || !slices.Contains(mobilePrefixes, ph[:3]) {
				t.Fatalf("%s: bad phone %q", m.Source, ph)
			}
		}
		if r := utf8.RuneCountInString(p.Name); r < 2 || r > 4 {
			t.Fatalf("%s: name %q", m.Source, p.Name)
		}
		for _, s := range []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙"} {
			if strings.HasPrefix(p.Name, s) {
				twoCharSurname++
			}
		}
		if e.DischargedAt.Before(cfg.Start) || !e.DischargedAt.Before(cfg.End) {
			t.Fatalf("%s: discharged %s outside the range", m.Source, e.DischargedAt)
		}
		if e.DischargedAt.Truncate(24 * time.Hour).Before(last.Truncate(24 * time.Hour)) {
			t.Fatalf("%s: out of date order", m.Source)
		}
		last = e.DischargedAt
		if !e.AdmittedAt.Before(e.DischargedAt) {
			t.Fatalf("%s: admitted %s not before discharge %s", m.Source, e.AdmittedAt, e.DischargedAt)
		}
		if p.BirthDate.After(calendar.DateOf(e.AdmittedAt.In(cst))) {
			t.Fatalf("%s: born %s after admission %s", m.Source, p.BirthDate, e.AdmittedAt)
		}
		spec, ok := specOf[m.Facility+"/"+e.DepartmentCode]
		if !ok {
			t.Fatalf("%s: department %s/%s not in the defaults", m.Source, m.Facility, e.DepartmentCode)
		}
		if !diagnosisFits(e.Diagnoses[0].Code, spec) {
			t.Fatalf("%s: %s %s in %s", m.Source, e.Diagnoses[0].Code, e.Diagnoses[0].Name, e.DepartmentName)
		}
		if spec == ObGyn && p.Sex != intake.Female {
			t.Fatalf("%s: a man in obstetrics", m.Source)
		}
		age := p.BirthDate.Year - 2026
		age = -age
		if spec == Pediatrics && age > 15 {
			t.Fatalf("%s: %d years old in paediatrics", m.Source, age)
		}
		if spec != Pediatrics && spec != ObGyn && spec != Dental && age >= 18 {
			adults++
			adultAgeSum += age
		}
		if e.Surgery {
			surgery++
		}
		if e.Outcome == intake.Died {
			died++
		}
		if e.WardCode != "" {
			withWard++
		}
		perInst[m.Facility]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cfg.Count {
		t.Fatalf("%d rows, want %d", n, cfg.Count)
	}
	if perInst["H01"] != 75_000 || perInst["H02"] != 25_000 {
		t.Errorf("institutions %v, want 3:1", perInst)
	}
	if mean := adultAgeSum / adults; mean < 50 || mean > 70 {
		t.Errorf("mean adult age %d: want skewed older (50–70)", mean)
	}
	if twoCharSurname == 0 || twoCharSurname > n/50 {
		t.Errorf("%d two-character surnames in %d", twoCharSurname, n)
	}
	if surgery < n/5 || surgery > n*7/10 {
		t.Errorf("%d operations in %d", surgery, n)
	}
	if died == 0 || died > n/100 {
		t.Errorf("%d deaths in %d", died, n)
	}
	if withWard == 0 {
		t.Error("no discharge names a ward")
	}
}

func diagnosisFits(code string, s Specialty) bool {
	for _, d := range diagnoses {
		if d.code == code && slices.Contains(d.specs, s) {
			return true
		}
	}
	return false
}

func sameMessage(a, b intake.Message) bool {
	ea, eb := a.Encounter, b.Encounter
	return a.Source == b.Source && a.Line == b.Line && a.Event == b.Event && a.Facility == b.Facility &&
		a.ControlID == b.ControlID &&
		a.Patient.MRN == b.Patient.MRN && a.Patient.NationalID == b.Patient.NationalID && a.Patient.Name == b.Patient.Name &&
		a.Patient.Sex == b.Patient.Sex && a.Patient.BirthDate == b.Patient.BirthDate &&
		slices.Equal(a.Patient.Phones, b.Patient.Phones) && a.Patient.Address == b.Patient.Address &&
		a.Patient.Employer == b.Patient.Employer &&
		ea.VisitNumber == eb.VisitNumber && ea.DepartmentCode == eb.DepartmentCode && ea.DepartmentName == eb.DepartmentName &&
		ea.WardCode == eb.WardCode && ea.WardName == eb.WardName && ea.AttendingDoctor == eb.AttendingDoctor &&
		ea.ResponsibleNurse == eb.ResponsibleNurse && ea.AdmittedAt.Equal(eb.AdmittedAt) && ea.DischargedAt.Equal(eb.DischargedAt) &&
		slices.Equal(ea.Diagnoses, eb.Diagnoses) && ea.Surgery == eb.Surgery && ea.Outcome == eb.Outcome
}

func TestCSVRoundTrip(t *testing.T) {
	cfg := testConfig(20_000)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	want := make(chan intake.Message, 64)
	go func() {
		defer close(want)
		Generate(cfg, func(m intake.Message) error { want <- m; return nil })
	}()
	i := 0
	sum, err := intake.ParseCSV(&buf, "", intake.Sink{
		Message: func(m intake.Message) error {
			w := <-want
			if !sameMessage(m, w) {
				t.Fatalf("row %d after the round trip:\n got %+v\nwant %+v", i, m, w)
			}
			i++
			return nil
		},
		Reject: func(r intake.Reject) error {
			t.Errorf("reject: %v (%s)", r, r.Raw)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Messages != cfg.Count || sum.Rejects != 0 || len(sum.IgnoredColumns) != 0 {
		t.Fatalf("summary %+v, want %d messages, no rejects, no ignored columns", sum, cfg.Count)
	}
}

func TestHeaderIsTheTemplate(t *testing.T) {
	var canon []string
	for _, c := range intake.Columns() {
		canon = append(canon, c.Header)
	}
	for _, h := range CSVHeader {
		if !slices.Contains(canon, h) {
			t.Errorf("header %q is not a canonical import column", h)
		}
	}
	for _, c := range intake.Columns() {
		if c.Required && !slices.Contains(CSVHeader, c.Header) {
			t.Errorf("required column %q missing", c.Header)
		}
	}
}

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range diagnoses {
		key := d.code + string(d.specs[0])
		if seen[key] {
			t.Errorf("diagnosis %s listed twice for %s", d.code, d.specs[0])
		}
		seen[key] = true
		if d.los[0] < 1 || d.los[1] < d.los[0] || d.weight < 1 {
			t.Errorf("%s: stay %v weight %d", d.code, d.los, d.weight)
		}
		if d.pSurgery > 0 && d.surgery == "" || d.surgery != "" && d.pSurgery == 0 {
			t.Errorf("%s: surgery %q with p=%v", d.code, d.surgery, d.pSurgery)
		}
	}
	if len(diagnoses) < 60 {
		t.Errorf("%d diagnoses, want about 60 or more", len(diagnoses))
	}
	for _, rg := range regions {
		if _, err := pii.ValidateNationalID(pii.GenerateNationalID(rg.code, time.Date(1960, 1, 2, 0, 0, 0, 0, time.UTC), 1, true)); err != nil {
			t.Errorf("region %s: %v", rg.code, err)
		}
	}
	for s, w := range outcomeWeights {
		if w[0]+w[1]+w[2]+w[3]+w[4] != 1000 {
			t.Errorf("%s: outcome weights sum to %d", s, w[0]+w[1]+w[2]+w[3]+w[4])
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ok := testConfig(1)
	for name, mod := range map[string]func(*Config){
		"negative count": func(c *Config) { c.Count = -1 },
		"no range":       func(c *Config) { c.Start = time.Time{} },
		"end before":     func(c *Config) { c.End = c.Start.Add(-time.Hour) },
		"weights":        func(c *Config) { c.Weights = []int{1} },
		"zero weight":    func(c *Config) { c.Weights = []int{1, 0} },
		"unknown spec":   func(c *Config) { c.Departments = []Department{{Code: "1", Name: "x", Specialty: "magic"}} },
		"no departments": func(c *Config) {
			c.Departments = []Department{{Institution: "X", Code: "1", Name: "x", Specialty: Dental}}
		},
		"department code": func(c *Config) { c.Departments = []Department{{Name: "x", Specialty: Dental}} },
	} {
		cfg := ok
		mod(&cfg)
		if err := WriteCSV(io.Discard, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Custom departments shared by every institution, and no institution.
	cfg := ok
	cfg.Count = 10
	cfg.Institutions, cfg.Weights = nil, nil
	cfg.Departments = []Department{{Code: "0700", Name: "神经内科", Specialty: Internal}}
	if err := Generate(cfg, func(m intake.Message) error {
		if m.Facility != "" || m.Encounter.DepartmentCode != "0700" {
			t.Errorf("facility %q department %q", m.Facility, m.Encounter.DepartmentCode)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// An unknown institution falls back on H01's departments.
	cfg = ok
	cfg.Count = 20
	cfg.Institutions, cfg.Weights = []string{"H9"}, nil
	Generate(cfg, func(m intake.Message) error {
		if m.Facility != "H9" || !strings.HasPrefix(m.Encounter.DepartmentCode, "0") {
			t.Errorf("facility %q department %q", m.Facility, m.Encounter.DepartmentCode)
		}
		return nil
	})
}

// A short range still gets daytime discharges inside it.
func TestShortRange(t *testing.T) {
	cfg := testConfig(100)
	cfg.Start = time.Date(2026, 9, 30, 0, 0, 0, 0, cst)
	cfg.End = time.Date(2026, 9, 30, 10, 0, 0, 0, cst) // a morning
	err := Generate(cfg, func(m intake.Message) error {
		d := m.Encounter.DischargedAt
		if d.Before(cfg.Start) || !d.Before(cfg.End) || d.Hour() < 8 {
			t.Errorf("discharged %s", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	cfg := testConfig(b.N)
	b.ReportAllocs()
	if err := WriteCSV(io.Discard, cfg); err != nil {
		b.Fatal(err)
	}
}
