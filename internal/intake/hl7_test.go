package intake

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"suifang/internal/calendar"
	"suifang/internal/hl7"
)

func hl7SampleDir() string { return filepath.Join("..", "..", "..", "shared", "data", "hl7") }

// hl7Out is what a parse produced, in order.
type hl7Out struct {
	msgs    []Message
	rejects []Reject
	order   []int // Line of every output, in the order received
}

func hl7Run(t testing.TB, in []byte, name string) hl7Out {
	t.Helper()
	var out hl7Out
	err := ParseHL7(bytes.NewReader(in), name, Sink{
		Message: func(m Message) error {
			out.msgs = append(out.msgs, m)
			out.order = append(out.order, m.Line)
			return nil
		},
		Reject: func(r Reject) error {
			out.rejects = append(out.rejects, r)
			out.order = append(out.order, r.Line)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("ParseHL7: %v", err)
	}
	return out
}

func hl7One(t *testing.T, in []byte) Message {
	t.Helper()
	out := hl7Run(t, in, "test.hl7")
	if len(out.rejects) > 0 || len(out.msgs) != 1 {
		t.Fatalf("want 1 message, got %d messages and rejects %v", len(out.msgs), out.rejects)
	}
	return out.msgs[0]
}

// hl7Seg builds a segment from field number → value.
func hl7Seg(name string, fields map[int]string) string {
	n := 0
	for k := range fields {
		n = max(n, k)
	}
	parts := []string{name}
	start := 1
	if name == "MSH" {
		parts = append(parts, `^~\&`)
		start = 3
	}
	for i := start; i <= n; i++ {
		parts = append(parts, fields[i])
	}
	return strings.Join(parts, "|")
}

func TestParseHL7Samples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(hl7SampleDir(), "*.hl7"))
	if len(files) == 0 {
		t.Skip("sample HL7 data not available")
	}
	events := map[string]Event{
		"ADT-A01-01.hl7": Admit,
		"ADT-A03-01.hl7": Discharge,
		"ADT-A03-02.hl7": Discharge,
		"ADT-A08-01.hl7": Update,
		"ADT-A11-01.hl7": CancelAdmit,
		"ADT-A13-01.hl7": CancelDischarge,
	}
	zone := time.FixedZone("", 70*60) // the samples' +0110
	admitted := time.Date(2015, 2, 8, 11, 34, 19, 0, zone)
	discharged := time.Date(2015, 2, 9, 11, 34, 19, 0, zone)
	seen := 0
	for _, f := range files {
		base := filepath.Base(f)
		want, ok := events[base]
		if !ok {
			continue
		}
		seen++
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out := hl7Run(t, b, base)
		if len(out.rejects) != 0 || len(out.msgs) != 1 {
			t.Errorf("%s: %d messages, rejects %v", base, len(out.msgs), out.rejects)
			continue
		}
		m := out.msgs[0]
		p, e := m.Patient, m.Encounter
		check := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s = %#v, want %#v", base, what, got, want)
			}
		}
		check("Event", m.Event, want)
		check("Source", m.Source, base+" message 1")
		check("Line", m.Line, 1)
		check("Facility", m.Facility, "GHHSFacility")
		check("ControlID", m.ControlID, "MSG00001")
		check("MRN", p.MRN, "PATID1234")
		check("NationalID", p.NationalID, "") // PID-19 holds a US SSN, not a 身份证号
		check("Name", p.Name, "ADAM EVERYMAN")
		check("Sex", p.Sex, Male)
		check("BirthDate", p.BirthDate, calendar.Date{Year: 1988, Month: time.August, Day: 18})
		// PID-13/14: 12121212, 7777 and 1111 are no Chinese numbers (warnings);
		// NK1-5/6 add the next of kin's 88888888 and the local 6666666.
		wantPhones := []string{"78788788"}
		if strings.Contains(string(b), "NK1|") {
			wantPhones = append(wantPhones, "88888888", "6666666")
		}
		check("Phones", p.Phones, wantPhones)
		check("Address", p.Address, "1000 Hospital Lane, Ste. 123, Ann Arbor, MI, 99999")
		check("VisitNumber", e.VisitNumber, "40007716")
		check("WardCode", e.WardCode, "HUH AE OMU")
		check("DepartmentCode", e.DepartmentCode, "SUR")
		check("AttendingDoctor", e.AttendingDoctor, "Mohammed Alaz")
		check("ResponsibleNurse", e.ResponsibleNurse, "") // only ROL PP (primary care provider)
		check("Outcome", e.Outcome, Died)                 // PID-30 death indicator Y
		check("AdmittedAt", e.AdmittedAt.Equal(admitted), true)

		switch base {
		case "ADT-A01-01.hl7":
			check("Employer", p.Employer, "EHS GENERIC EMPLOYER") // GT1 guarantor = self
		default:
			check("Employer", p.Employer, "")
		}
		switch base {
		case "ADT-A03-01.hl7", "ADT-A03-02.hl7", "ADT-A08-01.hl7":
			check("DischargedAt", e.DischargedAt.Equal(discharged), true)
		default:
			check("DischargedAt", e.DischargedAt.IsZero(), true)
		}
		switch base {
		case "ADT-A03-02.hl7", "ADT-A11-01.hl7":
			check("Diagnoses", len(e.Diagnoses), 0)
			check("Surgery", e.Surgery, false)
		default:
			check("Diagnoses", e.Diagnoses, []Diagnosis{{Code: "422504002", Name: "Ischemic stroke(disorder)"}})
			check("Surgery", e.Surgery, true)
		}
	}
	if seen != len(events) {
		t.Errorf("found %d of %d sample files", seen, len(events))
	}
}

func hl7ChineseA03() string {
	return strings.Join([]string{
		hl7Seg("MSH", map[int]string{3: "HIS", 4: "ZJRMYY^浙江省人民医院", 5: "SUIFANG", 6: "SF", 7: "20250301101500",
			9: "ADT^A03^ADT_A03", 10: "CN20250301001", 11: "P", 12: "2.4", 17: "CHN", 18: "GB 18030-2000"}),
		hl7Seg("EVN", map[int]string{1: "A03", 2: "20250301101500"}),
		hl7Seg("PID", map[int]string{1: "1", 3: "0012345^^^ZJRMYY^MR~330102198001011234^^^^NNCHN",
			5: "张^三丰", 7: "19800101", 8: "F", 11: "解放路88号^3单元501室^杭州市^浙江省^310000",
			13: "13800138000^PRN^PH~^NET^Internet^zhang@example.com", 14: "0571-88888888", 18: "A2025001", 19: "999"}),
		hl7Seg("NK1", map[int]string{1: "1", 3: "EMR^雇主", 13: "浙江大学"}),
		hl7Seg("PV1", map[int]string{1: "1", 2: "I", 3: "0301^^^ZJRMYY^^^^^心内科一病区", 7: "D001^李^明",
			10: "03^心血管内科", 19: "ZY2025001", 36: "好转", 44: "20250220083000", 45: "20250301100000"}),
		hl7Seg("DG1", map[int]string{1: "1", 3: "I21.0^急性心肌梗死^ICD10", 6: "F"}),
		hl7Seg("DG1", map[int]string{1: "2", 3: "I10^^ICD10", 4: "高血压", 6: "F"}),
		hl7Seg("PR1", map[int]string{1: "1", 3: "36.06^冠状动脉支架置入术^ICD9CM", 5: "20250222"}),
		hl7Seg("ROL", map[int]string{1: "1", 2: "AD", 3: "NURSE^责任护士", 4: "N001^王^芳"}),
	}, "\n") + "\n"
}

func TestParseHL7ChineseGB18030(t *testing.T) {
	raw, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(hl7ChineseA03()))
	if err != nil {
		t.Fatal(err)
	}
	if utf8.Valid(raw) {
		t.Fatal("test message should be GB18030, not UTF-8")
	}
	cst := time.FixedZone("CST", 8*3600)
	want := Message{
		Source:    "test.hl7 message 1",
		Line:      1,
		Event:     Discharge,
		Facility:  "ZJRMYY",
		ControlID: "CN20250301001",
		Patient: Patient{
			MRN:        "0012345",
			NationalID: "330102198001011234",
			Name:       "张三丰",
			Sex:        Female,
			BirthDate:  calendar.Date{Year: 1980, Month: time.January, Day: 1},
			Phones:     []string{"13800138000", "0571-88888888"},
			Address:    "浙江省杭州市解放路88号3单元501室",
			Employer:   "浙江大学",
		},
		Encounter: Encounter{
			VisitNumber:      "ZY2025001",
			DepartmentCode:   "03",
			DepartmentName:   "心血管内科",
			WardCode:         "0301",
			WardName:         "心内科一病区",
			AttendingDoctor:  "李明",
			ResponsibleNurse: "王芳",
			AdmittedAt:       time.Date(2025, 2, 20, 8, 30, 0, 0, cst),
			DischargedAt:     time.Date(2025, 3, 1, 10, 0, 0, 0, cst),
			Diagnoses:        []Diagnosis{{"I21.0", "急性心肌梗死"}, {"I10", "高血压"}},
			Surgery:          true,
			Procedures:       []string{"冠状动脉支架置入术"},
			Outcome:          Improved,
			Class:            Inpatient,
			ClassCode:        "I",
			ClassSystem:      ClassHL7,
		},
	}
	got := hl7One(t, raw)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The same message in UTF-8 with \r maps the same.
	if got := hl7One(t, []byte(strings.ReplaceAll(hl7ChineseA03(), "\n", "\r"))); !reflect.DeepEqual(got, want) {
		t.Errorf("UTF-8 version differs: %+v", got)
	}
}

func TestParseHL7BatchWithBrokenMessage(t *testing.T) {
	good := hl7ChineseA03()
	broken := "MSH|^~\\&|HIS|H|||||ADT^A03|X|P|2.4\nPID|1||1^^^^MR\n这不是一个段|1\n"
	in := "FHS|^~\\&|HIS\nBHS|^~\\&|HIS\n" + good + broken +
		strings.Replace(good, "ZY2025001", "ZY2025003", 1) + "BTS|3\nFTS|1\n"
	out := hl7Run(t, []byte(in), "batch.hl7")
	if len(out.msgs) != 2 || len(out.rejects) != 1 {
		t.Fatalf("got %d messages, %d rejects", len(out.msgs), len(out.rejects))
	}
	if !reflect.DeepEqual(out.order, []int{1, 2, 3}) {
		t.Errorf("output order %v", out.order)
	}
	if m := out.msgs[1]; m.Line != 3 || m.Source != "batch.hl7 message 3" || m.Encounter.VisitNumber != "ZY2025003" {
		t.Errorf("third message: line %d source %q visit %q", m.Line, m.Source, m.Encounter.VisitNumber)
	}
	r := out.rejects[0]
	if r.Line != 2 || r.Source != "batch.hl7 message 2" || !strings.Contains(r.Reason, "segment 3") ||
		!strings.HasPrefix(r.Raw, "MSH|^~\\&|HIS|H") {
		t.Errorf("reject = %+v", r)
	}
}

func TestParseHL7Rejects(t *testing.T) {
	base := hl7ChineseA03()
	set := func(seg string, fields map[int]string) string {
		lines := strings.Split(base, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, seg+"|") {
				lines[i] = hl7Seg(seg, fields)
			}
		}
		return strings.Join(lines, "\n")
	}
	pv1 := func(kv ...any) map[int]string {
		f := map[int]string{1: "1", 19: "V1", 44: "20250220083000", 45: "20250301100000"}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i].(int)] = kv[i+1].(string)
		}
		return f
	}
	tests := []struct {
		name, in, field, reason string
	}{
		{"A04", strings.Replace(base, "ADT^A03^ADT_A03", "ADT^A04^ADT_A01", 1), "MSH-9", "unsupported trigger event"},
		{"A02", strings.Replace(base, "ADT^A03^ADT_A03", "ADT^A02", 1), "MSH-9", "unsupported trigger event"},
		{"ORU", strings.Replace(base, "ADT^A03^ADT_A03", "ORU^R01", 1), "MSH-9", "unsupported message type"},
		{"no type", strings.Replace(base, "ADT^A03^ADT_A03", "", 1), "MSH-9", "message type missing"},
		{"bad birth", strings.Replace(base, "|19800101|", "|19801345|", 1), "PID-7", "invalid birth date"},
		{"short birth", strings.Replace(base, "|19800101|", "|1980|", 1), "PID-7", "invalid birth date"},
		{"no PID", strings.Replace(base, "PID|", "ZPI|", 1), "PID", "missing"},
		{"no MRN", strings.Replace(base, "0012345^^^ZJRMYY^MR~330102198001011234^^^^NNCHN", "", 1), "PID-3", "identifier"},
		{"no visit", strings.Replace(set("PV1", pv1(19, "")), "A2025001", "", 1), "PV1-19", "visit number"},
		{"A03 no discharge time", set("PV1", pv1(45, "")), "PV1-45", "missing"},
		{"A03 bad discharge time", set("PV1", pv1(45, "20250230")), "PV1-45", "invalid"},
		{"bad admit time", set("PV1", pv1(44, "yesterday")), "PV1-44", "invalid"},
		{"not HL7", "姓名,性别\n张三,男\n", "", "does not start with an MSH"},
	}
	for _, tt := range tests {
		out := hl7Run(t, []byte(tt.in), "r.hl7")
		if len(out.msgs) != 0 || len(out.rejects) != 1 {
			t.Errorf("%s: %d messages, %d rejects", tt.name, len(out.msgs), len(out.rejects))
			continue
		}
		r := out.rejects[0]
		if r.Field != tt.field || !strings.Contains(r.Reason, tt.reason) || r.Line != 1 || r.Source != "r.hl7 message 1" || r.Raw == "" {
			t.Errorf("%s: reject %+v, want field %q reason containing %q", tt.name, r, tt.field, tt.reason)
		}
	}
	// Visit number falls back to PID-18; EVN-1 stands in for MSH-9.2;
	// facility falls back to PV1-3.4; optional times may be absent.
	in := strings.Replace(set("PV1", map[int]string{1: "1", 3: "W1^^^FAC9", 45: "20250301"}), "ADT^A03^ADT_A03", "ADT", 1)
	in = strings.Replace(in, "ZJRMYY^浙江省人民医院", "", 1)
	m := hl7One(t, []byte(in))
	if m.Event != Discharge || m.Encounter.VisitNumber != "A2025001" || m.Facility != "FAC9" ||
		m.Encounter.DepartmentCode != "W1" || !m.Encounter.AdmittedAt.IsZero() || m.Encounter.Outcome != "" {
		t.Errorf("fallbacks: %+v", m)
	}
}

func TestHL7FieldRules(t *testing.T) {
	rep := func(s string) hl7.Rep {
		m, err := hl7.ParseMessage([]byte("MSH|^~\\&|A\rZZZ|" + s))
		if err != nil {
			t.Fatal(err)
		}
		return m.Segment("ZZZ").Field(1).Rep(1)
	}
	for in, want := range map[string]string{
		"张^三":           "张三",
		"欧阳^娜娜":         "欧阳娜娜",
		"EVERYMAN^ADAM": "ADAM EVERYMAN",
		"Smith&&Jr":     "Smith",
		"^Li":           "Li",
		"王小明":           "王小明",
		"李^Lily":        "李Lily",
	} {
		if got := hl7Name(rep(in), 1); got != want {
			t.Errorf("name %q = %q, want %q", in, got, want)
		}
	}
	if got := hl7Name(rep("D001"), 2); got != "D001" {
		t.Errorf("doctor without name = %q", got)
	}
	for in, want := range map[string]Outcome{
		"01": Cured, "1": Cured, "治愈": Cured, "2": Improved, "02": Improved, "好转": Improved,
		"3": NotCured, "未愈": NotCured, "4": Died, "死亡": Died, "20": Died, "9": Other, "其他": Other,
		"": "", "9^好转": Improved, "^治愈": Cured, `""`: "",
	} {
		if got := hl7Outcome(rep(in)); got != want {
			t.Errorf("outcome %q = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]Sex{"M": Male, "m": Male, "1": Male, "男": Male, "F": Female, "2": Female, "女": Female, "U": Unknown, "O": Unknown, "": Unknown} {
		if got := hl7Sex(in); got != want {
			t.Errorf("sex %q = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"浙江省杭州市上城区解放路88号^^杭州市^浙江省":        "浙江省杭州市上城区解放路88号",
		"解放路88号^^杭州市^浙江省":                 "浙江省杭州市解放路88号",
		"1 Main St^^Springfield^IL^62701": "1 Main St, Springfield, IL, 62701",
		"":                                "",
	} {
		if got := hl7Address(rep(in)); got != want {
			t.Errorf("address %q = %q, want %q", in, got, want)
		}
	}
	if got := hl7Clip("中文字", 4); got != "中" {
		t.Errorf("hl7Clip = %q", got)
	}
}

func TestParseHL7SinkErrors(t *testing.T) {
	in := []byte(hl7ChineseA03() + "MSH|^~\\&|A|B|||||ORU^R01|2|P|2.5\n" + hl7ChineseA03())
	stop := errors.New("stop")
	n := 0
	err := ParseHL7(bytes.NewReader(in), "x", Sink{
		Message: func(Message) error { n++; return nil },
		Reject:  func(Reject) error { return stop },
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d messages", err, n)
	}
	// Nil sink functions are allowed.
	if err := ParseHL7(bytes.NewReader(in), "x", Sink{}); err != nil {
		t.Errorf("nil sink: %v", err)
	}
	// Long rejected messages are clipped.
	long := "MSH|^~\\&|A|B|||||ORU^R01|2|P|2.5\nNTE|1||" + strings.Repeat("长", 400) + "\n"
	out := hl7Run(t, []byte(long), "x")
	if len(out.rejects) != 1 || len(out.rejects[0].Raw) > 500 || !utf8.ValidString(out.rejects[0].Raw) {
		t.Errorf("raw not clipped: %d bytes", len(out.rejects[0].Raw))
	}
}

func FuzzParseHL7(f *testing.F) {
	// Small seeds only: the 5 KB sample files (seeds of hl7.FuzzParseMessage)
	// make the fuzzer's O(n²) minimisation of each new input take most of
	// a short run.
	f.Add([]byte(hl7ChineseA03()))
	if b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(hl7ChineseA03())); err == nil {
		f.Add(b)
	}
	f.Add([]byte("MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5\rPID|1||1^^^^MR||||2\rPV1|1||||||||||||||||||V\rMSH|^~\\&\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var split int
		if err := hl7.SplitBatch(bytes.NewReader(data), func([]byte, int) error { split++; return nil }); err != nil {
			t.Skip(err)
		}
		var lines []int
		err := ParseHL7(bytes.NewReader(data), "f", Sink{
			Message: func(m Message) error {
				lines = append(lines, m.Line)
				if m.Patient.MRN == "" || m.Encounter.VisitNumber == "" {
					t.Fatalf("message without keys: %+v", m)
				}
				switch m.Event {
				case Admit, Discharge, Update, CancelAdmit, CancelDischarge:
				default:
					t.Fatalf("event %q", m.Event)
				}
				if m.Event == Discharge && m.Encounter.DischargedAt.IsZero() {
					t.Fatal("discharge without time")
				}
				return nil
			},
			Reject: func(r Reject) error {
				lines = append(lines, r.Line)
				if r.Reason == "" || len(r.Raw) > 500 || !utf8.ValidString(r.Raw) {
					t.Fatalf("bad reject %+v", r)
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != split || !sort.IntsAreSorted(lines) {
			t.Fatalf("%d messages split, outputs at %v", split, lines)
		}
		for i, l := range lines {
			if l != i+1 {
				t.Fatalf("outputs at %v", lines)
			}
		}
	})
}

// An interface engine's ADT feed: an outpatient A03 (PV1-2 O), a pre-admit
// A05 and its A03 still marked P, and two inpatient A03s whose phones are
// written "+86 139-1234-5601" and "7777".
func TestParseHL7PatientClassesAndPhones(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "hl7", "adt-patient-classes.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	out := hl7Run(t, b, "adt-patient-classes.hl7")
	// A05 is not a trigger Suifang stores.
	if len(out.rejects) != 1 || out.rejects[0].Line != 2 || out.rejects[0].Field != "MSH-9" {
		t.Fatalf("rejects %+v", out.rejects)
	}
	if len(out.msgs) != 4 {
		t.Fatalf("%d messages", len(out.msgs))
	}
	for i, w := range []struct {
		line         int
		class        Class
		code, visit  string
		phones       string
		warnings     []string
		admit, disch string
	}{
		{1, Outpatient, "O", "MZ20260925000117", "13912345601", nil, "2026-09-25 09:04", "2026-09-25 09:19"},
		{3, Preadmit, "P", "YZ20260926000042", "13601234567", nil, "2026-09-26 15:00", "2026-09-28 10:00"},
		{4, Inpatient, "I", "ZY20260910000301", "13912345601,13801234567", nil, "2026-09-10 08:42", "2026-09-18 10:05"},
		{5, Inpatient, "I", "ZY20260914000302", "", []string{"PID-14"}, "2026-09-14 16:00", "2026-09-24 10:30"},
	} {
		m := out.msgs[i]
		e := m.Encounter
		var fields []string
		for _, wn := range m.Warnings {
			fields = append(fields, wn.Field)
			if strings.Contains(wn.Value, "7777") {
				t.Errorf("message %d: warning shows the number: %+v", m.Line, wn)
			}
		}
		if m.Line != w.line || e.Class != w.class || e.ClassCode != w.code || e.VisitNumber != w.visit ||
			strings.Join(m.Patient.Phones, ",") != w.phones || !reflect.DeepEqual(fields, w.warnings) ||
			e.AdmittedAt.Format("2006-01-02 15:04") != w.admit || e.DischargedAt.Format("2006-01-02 15:04") != w.disch {
			t.Errorf("message %d: class %q/%q visit %q phones %q warnings %+v times %v %v; want %+v",
				m.Line, e.Class, e.ClassCode, e.VisitNumber, m.Patient.Phones, m.Warnings, e.AdmittedAt, e.DischargedAt, w)
		}
	}
	if o := out.msgs[2].Encounter.Outcome; o != Improved || out.msgs[2].Encounter.ResponsibleNurse != "孙丽" {
		t.Errorf("inpatient 4: outcome %q nurse %q", o, out.msgs[2].Encounter.ResponsibleNurse)
	}
}

// PID-30 Y marks the death on this stay; a PID-29 death date without the
// indicator (some HIS send only that) still marks the patient.
func TestParseHL7Deceased(t *testing.T) {
	base := hl7ChineseA03()
	for _, tc := range []struct {
		name     string
		pid      string
		deceased bool
		outcome  Outcome
	}{
		{"alive", "", false, Improved},
		{"PID-30 Y", strings.Repeat("|", 11) + "Y", true, Died},
		{"PID-29 only", strings.Repeat("|", 10) + "20251003041500", true, Improved},
		{"PID-29 with N", strings.Repeat("|", 10) + "20251003041500|N", false, Improved},
	} {
		raw := strings.Replace(base, "|999\n", "|999"+tc.pid+"\n", 1)
		if tc.pid != "" && raw == base {
			t.Fatal("PID not found")
		}
		m := hl7One(t, []byte(raw))
		if m.Patient.Deceased != tc.deceased || m.Encounter.Outcome != tc.outcome {
			t.Errorf("%s: deceased %v outcome %q", tc.name, m.Patient.Deceased, m.Encounter.Outcome)
		}
	}
}
