package intake

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"suifang/internal/calendar"
)

func fhirParseFile(t *testing.T, name string) (tblResult, Summary) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fhir", name))
	if err != nil {
		t.Fatal(err)
	}
	var res tblResult
	sum, err := ParseFHIR(bytes.NewReader(data), name, res.sink())
	if err != nil {
		t.Fatalf("ParseFHIR(%s): %v", name, err)
	}
	return res, sum
}

func TestParseFHIRBundle(t *testing.T) {
	res, sum := fhirParseFile(t, "bundle-discharge.json")
	if len(res.rejects) != 0 {
		t.Fatalf("rejects: %+v", res.rejects)
	}
	if sum.Rows != 13 || sum.Messages != 3 || !reflect.DeepEqual(sum.IgnoredColumns, []string{"Observation"}) {
		t.Errorf("summary %+v", sum)
	}
	want := Message{
		Source: "bundle-discharge.json entry 2", Line: 2, Event: Discharge, Facility: "H0001",
		Patient: Patient{
			MRN: "2026000123", NationalID: "110105195803121232", Name: "李建国", Sex: Male,
			BirthDate: calendar.Date{Year: 1958, Month: 3, Day: 12},
			Phones:    []string{"13800138000", "13900139000"},
			Address:   "北京市朝阳区示例路1号", Employer: "示例机械厂",
		},
		Encounter: Encounter{
			VisitNumber: "ZY202610100001", DepartmentCode: "0301", DepartmentName: "心血管内科",
			WardCode: "W05", WardName: "心内一病区", AttendingDoctor: "陈医生",
			AdmittedAt:   tblCST(2026, 10, 1, 9, 30, 0),
			DischargedAt: tblCST(2026, 10, 10, 14, 5, 0),
			Diagnoses:    []Diagnosis{{"I21.0", "急性前壁心肌梗死"}, {"I10", "高血压"}, {"E11.9", "2型糖尿病"}},
			Surgery:      true, Procedures: []string{"经皮冠状动脉介入治疗"}, Outcome: Improved,
			Class: Inpatient, ClassCode: "IMP", ClassSystem: ClassFHIR,
		},
	}
	if !reflect.DeepEqual(res.msgs[0], want) {
		t.Errorf("encounter 1:\n got %+v\nwant %+v", res.msgs[0], want)
	}
	m := res.msgs[1]
	if m.Line != 12 || m.Event != Admit || m.Facility != "H0002" || m.Patient.MRN != "2026000456" ||
		m.Patient.NationalID != "310104196711052466" || m.Patient.Sex != Female ||
		m.Patient.BirthDate != (calendar.Date{Year: 1967, Month: 11, Day: 5}) || m.Patient.Name != "王芳" ||
		m.Encounter.VisitNumber != "ZY202610100002" || !m.Encounter.AdmittedAt.Equal(tblCST(2026, 10, 3, 0, 0, 0)) ||
		!m.Encounter.DischargedAt.IsZero() || m.Encounter.Surgery || len(m.Encounter.Diagnoses) != 0 {
		t.Errorf("encounter e2: %+v", m)
	}
	m = res.msgs[2]
	if m.Line != 13 || m.Event != CancelDischarge || m.Facility != "示例市第一人民医院东院" ||
		m.Encounter.Outcome != Died || m.Patient.MRN != "2026000456" || m.Encounter.VisitNumber != "ZY202609300009" {
		t.Errorf("encounter e3: %+v", m)
	}
}

func TestParseFHIRRejects(t *testing.T) {
	res, sum := fhirParseFile(t, "bundle-missing-patient.json")
	if sum.Rows != 6 || sum.Messages != 1 || sum.Rejects != 4 {
		t.Errorf("summary %+v", sum)
	}
	if len(res.msgs) != 1 || res.msgs[0].Line != 3 || res.msgs[0].Patient.Name != "赵六" || res.msgs[0].Patient.Sex != Female {
		t.Errorf("messages %+v", res.msgs)
	}
	want := []struct {
		line  int
		field string
	}{{1, "Encounter.subject"}, {4, "Encounter.period.end"}, {5, "Condition.encounter"}, {6, "Patient"}}
	if len(res.rejects) != len(want) {
		t.Fatalf("rejects %+v", res.rejects)
	}
	for i, w := range want {
		r := res.rejects[i]
		if r.Line != w.line || r.Field != w.field || r.Reason == "" || !strings.Contains(r.Source, "entry ") {
			t.Errorf("reject %d = %+v; want line %d field %s", i, r, w.line, w.field)
		}
	}
	if r := res.rejects[0]; !strings.Contains(r.Reason, "Encounter/orphan") || !strings.Contains(r.Raw, "ZY-ORPHAN") {
		t.Errorf("orphan reject %+v", r)
	}
}

func TestParseFHIRErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":     "HL7|",
		"array":        `[{"resourceType":"Bundle"}]`,
		"patient":      `{"resourceType":"Patient","id":"x"}`,
		"late type":    `{"entry":[],"resourceType":"Patient"}`,
		"no type":      `{"resourceType":"Bundle","entry":[]}`,
		"document":     `{"resourceType":"Bundle","type":"document","entry":[]}`,
		"truncated":    `{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient"`,
		"entry object": `{"resourceType":"Bundle","type":"batch","entry":{}}`,
		"trailing":     `{"resourceType":"Bundle","type":"batch"} {}`,
	} {
		var res tblResult
		if _, err := ParseFHIR(strings.NewReader(in), "x.json", res.sink()); err == nil {
			t.Errorf("%s: no error", name)
		}
		if len(res.msgs)+len(res.rejects) != 0 {
			t.Errorf("%s: sink called before the bundle was known good", name)
		}
	}
	// An entry with a wrong JSON type is a reject, not an error.
	in := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":null},{"resource":{"resourceType":"Encounter","status":7}},"x"]}`
	var res tblResult
	sum, err := ParseFHIR(strings.NewReader(in), "x.json", res.sink())
	if err != nil || sum.Rejects != 3 || len(res.rejects) != 3 {
		t.Errorf("type errors: %v %+v %+v", err, sum, res.rejects)
	}
}

func TestFHIRHelpers(t *testing.T) {
	if got := fhirName([]fhirHumanName{{Family: "Smith", Given: []string{"John", "A"}}}); got != "John A Smith" {
		t.Errorf("latin name %q", got)
	}
	if got := fhirName([]fhirHumanName{{Family: "欧阳", Given: []string{"娜娜"}}}); got != "欧阳娜娜" {
		t.Errorf("chinese name %q", got)
	}
	for ref, want := range map[string]string{
		"Patient/1":                                  "Patient/1",
		"http://x/fhir/Patient/1/_history/2":         "Patient/1",
		"urn:uuid:6f1c1a52-0c9e-4f57-9a55-000000001": "",
		"#contained":                                 "",
	} {
		if got := fhirTypeID(ref); got != want {
			t.Errorf("fhirTypeID(%q) = %q, want %q", ref, got, want)
		}
	}
}

func FuzzParseFHIR(f *testing.F) {
	for _, name := range []string{"bundle-discharge.json", "bundle-missing-patient.json", "synthea-r4-transaction.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "fhir", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"resourceType":"Bundle","type":"batch","entry":[{"fullUrl":"a","resource":{"resourceType":"Patient","id":"a"}},{"fullUrl":"a","resource":{"resourceType":"Encounter","subject":{"reference":"a"}}}]}`))
	// Encounter.class as R5 writes it (a list), and missing.
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"p","identifier":[{"type":{"coding":[{"code":"MR"}]},"value":"M1"}],"name":[{"text":"张三"}],"deceasedBoolean":true,"telecom":[{"system":"phone","value":"7777"}]}},{"fullUrl":"urn:uuid:e","resource":{"resourceType":"Encounter","status":"finished","class":[{"coding":[{"code":"AMB"}]}],"subject":{"reference":"urn:uuid:p"},"period":{"start":"2026-09-01"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var res tblResult
		sum, err := ParseFHIR(bytes.NewReader(data), "fuzz.json", res.sink())
		if err != nil {
			if len(res.msgs)+len(res.rejects) != 0 {
				t.Fatalf("error after sink calls: %v", err)
			}
			return
		}
		tblCheckSummary(t, sum, res, false)
		if sum.Messages+sum.Rejects > sum.Rows {
			t.Fatalf("more outcomes than entries: %+v", sum)
		}
		last := 0
		for _, m := range res.msgs {
			if m.Line < last || m.Line > sum.Rows {
				t.Fatalf("message line %d out of order/range", m.Line)
			}
			last = m.Line
		}
	})
}

// A Synthea-shaped R4 transaction bundle from a Chinese FHIR facade: four
// patients (one died after his stay, one is marked deceased), inpatient,
// ambulatory, emergency and virtual encounters, most without identifier.
func TestParseFHIRSyntheaClasses(t *testing.T) {
	res, sum := fhirParseFile(t, "synthea-r4-transaction.json")
	if len(res.rejects) != 0 {
		t.Fatalf("rejects: %+v", res.rejects)
	}
	if sum.Messages != 8 {
		t.Fatalf("summary %+v", sum)
	}
	type want struct {
		visit    string
		class    Class
		code     string
		deceased bool
		phones   string
		warnings int
	}
	wants := []want{
		{"e1b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e801", Inpatient, "IMP", false, "13912345601", 1}, // the US home number: warned once
		{"e1b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e802", Outpatient, "AMB", false, "13912345601", 0},
		{"e1b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e803", Emergency, "EMER", false, "13912345601", 0},
		{"e2b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e801", Inpatient, "IMP", true, "13801234567", 0},
		{"e2b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e802", Outpatient, "AMB", true, "13801234567", 0},
		{"ZY202609140031", Inpatient, "IMP", false, "", 1}, // identifier typed VN wins over the id
		{"e3b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e802", OtherVisit, "VR", false, "", 0},
		{"e4b2c3d4-0a1b-4c2d-8e3f-a4b5c6d7e801", Emergency, "EMER", true, "010-65521234", 0},
	}
	for i, w := range wants {
		m := res.msgs[i]
		e := m.Encounter
		if e.VisitNumber != w.visit || e.Class != w.class || e.ClassCode != w.code || e.ClassSystem != ClassFHIR ||
			m.Patient.Deceased != w.deceased || strings.Join(m.Patient.Phones, ",") != w.phones || len(m.Warnings) != w.warnings {
			t.Errorf("encounter %d: visit %q class %q/%q deceased %v phones %q warnings %+v; want %+v",
				i, e.VisitNumber, e.Class, e.ClassCode, m.Patient.Deceased, m.Patient.Phones, m.Warnings, w)
		}
		for _, wn := range m.Warnings {
			if wn.Field != "Patient.telecom" || strings.Contains(wn.Value, "327-4925") || strings.Contains(wn.Value, "804-1180") {
				t.Errorf("encounter %d: warning %+v", i, wn)
			}
		}
	}
	a := res.msgs[0].Encounter
	if a.AttendingDoctor != "陈明" || a.WardCode != "W05" || !a.Surgery || len(a.Diagnoses) != 2 || a.Diagnoses[0].Code != "I21.0" {
		t.Errorf("inpatient stay %+v", a)
	}
	// Died two weeks after discharge: the patient is deceased, the stay's
	// outcome is not "died".
	if res.msgs[3].Encounter.Outcome == Died || res.msgs[7].Encounter.Outcome != Died {
		t.Errorf("outcomes %q (died later), %q (expired in the emergency room)", res.msgs[3].Encounter.Outcome, res.msgs[7].Encounter.Outcome)
	}
}

// Encounter.class in its three shapes, and the resource-id fallback.
func TestFHIRClassShapesAndVisitFallback(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		code string
		ok   bool
	}{
		{`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}`, "IMP", true},
		{`[{"coding":[{"system":"http://example.org/local","code":"zy"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ACUTE"}]}]`, "ACUTE", true},
		{`[{"coding":[{"code":"amb"}]}]`, "AMB", true},
		{``, "", true},
		{`null`, "", true},
		{`"IMP"`, "", false},
	} {
		code, ok := fhirClassCode([]byte(tc.raw))
		if code != tc.code || ok != tc.ok {
			t.Errorf("fhirClassCode(%s) = %q, %v", tc.raw, code, ok)
		}
	}
	for _, tc := range []struct{ id, url, want string }{
		{"enc-1", "urn:uuid:x", "enc-1"},
		{"", "urn:uuid:5c9f1b7e-3c2d-4f8a-b6e1-2a7d9c0e4b11", "5c9f1b7e-3c2d-4f8a-b6e1-2a7d9c0e4b11"},
		{"", "https://fhir.example.cn/r4/Encounter/ZY9/_history/2", "ZY9"},
		{"", "", ""},
	} {
		if got := fhirResourceKey(tc.id, tc.url); got != tc.want {
			t.Errorf("fhirResourceKey(%q, %q) = %q, want %q", tc.id, tc.url, got, tc.want)
		}
	}
	d := DefaultClasses()
	if d.Of(ClassFHIR, "OBSENC") != OtherVisit || d.Of(ClassFHIR, "NONAC") != Inpatient || d.Of(ClassFHIR, "") != Inpatient ||
		(Classes{FHIR: []string{"IMP", "OBSENC"}}).Of(ClassFHIR, "obsenc") != Inpatient {
		t.Error("FHIR class lists")
	}
}
