package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"suifang/internal/calendar"
)

// tblResult collects what a parser sent to its sink.
type tblResult struct {
	msgs    []Message
	rejects []Reject
}

func (r *tblResult) sink() Sink {
	return Sink{
		Message: func(m Message) error { r.msgs = append(r.msgs, m); return nil },
		Reject:  func(j Reject) error { r.rejects = append(r.rejects, j); return nil },
	}
}

func tblParseString(t *testing.T, in string) (tblResult, Summary) {
	t.Helper()
	var res tblResult
	sum, err := ParseCSV(strings.NewReader(in), "test.csv", res.sink())
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	return res, sum
}

func tblCST(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, tblZone)
}

func TestMatchHeader(t *testing.T) {
	tests := []struct {
		in    string
		field tblField
		diag  int
		ok    bool
	}{
		{"病案号", tfMRN, 1, true},
		{" 住院号 ", tfMRN, 1, true},
		{"MRN", tfMRN, 1, true},
		{"mrn", tfMRN, 1, true},
		{"ＭＲＮ", tfMRN, 1, true}, // full-width Latin
		{"住院流水号", tfVisit, 1, true},
		{"Visit_Number", tfVisit, 1, true},
		{"visit number", tfVisit, 1, true},
		{"入院登记号", tfVisit, 1, true},
		{"身份证号码", tfNationalID, 1, true},
		{"证件号码", tfNationalID, 1, true},
		{"姓　名", tfName, 1, true}, // ideographic space
		{"\uFEFF病案号", tfMRN, 1, true},
		{"患者姓名", tfName, 1, true},
		{"联系人电话", tfPhone, 1, true},
		{"手机号", tfPhone, 1, true},
		{"出院科室", tfDeptName, 1, true},
		{"出院科室代码", tfDeptCode, 1, true},
		{"主管医生", tfDoctor, 1, true},
		{"出院时间", tfDischarged, 1, true},
		{"出院日期(必填)", tfDischarged, 1, true},
		{"出院日期（必填）", tfDischarged, 1, true}, // full-width parentheses
		{"*出院日期", tfDischarged, 1, true},
		{"出院诊断编码", tfDiagCode, 1, true},
		{"出院诊断编码2", tfDiagCode, 2, true},
		{"出院诊断编码５", tfDiagCode, 5, true},
		{"出院诊断3", tfDiagName, 3, true},
		{"出院诊断（4）", tfDiagName, 4, true},
		{"ICD-10编码", tfDiagCode, 1, true},
		{"icd10", tfDiagCode, 1, true},
		{"出院诊断编码6", 0, 0, false},
		{"出院诊断编码12", 0, 0, false},
		{"转归", tfOutcome, 1, true},
		{"出院情况", tfOutcome, 1, true},
		{"院区代码", tfFacility, 1, true},
		{"状态", tfEvent, 1, true},
		{"手术名称", tfSurgeryName, 1, true},
		{"是否手术", tfSurgeryFlag, 1, true},
		{"年龄", 0, 0, false},
		{"备注", 0, 0, false},
		{"", 0, 0, false},
		{"病案号2", 0, 0, false},
	}
	for _, tc := range tests {
		m, ok := tblMatchHeader(tc.in)
		if ok != tc.ok || (ok && (m.field != tc.field || m.diag != tc.diag)) {
			t.Errorf("tblMatchHeader(%q) = %+v, %v; want field %d diag %d, %v", tc.in, m, ok, tc.field, tc.diag, tc.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		excel   bool
		want    time.Time
		hasTime bool
		bad     bool
	}{
		{in: "2026-10-10", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "2026/10/10", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "2026.10.10", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "20261010", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "2026年10月10日", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "2026/1/5", want: tblCST(2026, 1, 5, 0, 0, 0)},
		{in: "２０２６－１０－１０", want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "2026-10-10 14:05", want: tblCST(2026, 10, 10, 14, 5, 0), hasTime: true},
		{in: "2026-10-10 14:05:30", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "2026-10-10T14:05:30", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "2026/10/10 9:05", want: tblCST(2026, 10, 10, 9, 5, 0), hasTime: true},
		{in: "2026-10-10 00:00:00.0", want: tblCST(2026, 10, 10, 0, 0, 0), hasTime: true},
		{in: "2026年10月10日 14:05", want: tblCST(2026, 10, 10, 14, 5, 0), hasTime: true},
		{in: "2026年10月10日14时05分", want: tblCST(2026, 10, 10, 14, 5, 0), hasTime: true},
		{in: "20261010 14:05:30", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "202610101405", want: tblCST(2026, 10, 10, 14, 5, 0), hasTime: true},
		{in: "20261010140530", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "2026-10-10T06:05:30Z", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "2026-10-10T14:05:30+08:00", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "2026-10-10T01:05:30-05:00", want: tblCST(2026, 10, 10, 14, 5, 30), hasTime: true},
		{in: "46305", excel: true, want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "46305.5", excel: true, want: tblCST(2026, 10, 10, 12, 0, 0), hasTime: true},
		{in: "46305.586805555555", excel: true, want: tblCST(2026, 10, 10, 14, 5, 0), hasTime: true},
		{in: "20261010", excel: true, want: tblCST(2026, 10, 10, 0, 0, 0)},
		{in: "46305", bad: true}, // a serial only in Excel
		{in: "60", excel: true, bad: true},
		{in: "2026-13-01", bad: true},
		{in: "2026-02-29", bad: true},
		{in: "2028-02-29", want: tblCST(2028, 2, 29, 0, 0, 0)},
		{in: "2026-10-10 24:00", bad: true},
		{in: "2026-10-10 14:60", bad: true},
		{in: "10/10/2026", bad: true},
		{in: "2026-10", bad: true},
		{in: "2026-10/10", bad: true},
		{in: "1700-01-01", bad: true},
		{in: "2026-10-10x", bad: true},
		{in: "2026-10-1014:05", bad: true},
		{in: "", bad: true},
		{in: "abc", bad: true},
	}
	for _, tc := range tests {
		got, hasTime, err := tblParseTime(tc.in, tc.excel, false)
		if tc.bad {
			if err == nil {
				t.Errorf("tblParseTime(%q) = %v, want error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) || hasTime != tc.hasTime || got.Location() != tblZone {
			t.Errorf("tblParseTime(%q, %v) = %v, %v, %v; want %v, %v", tc.in, tc.excel, got, hasTime, err, tc.want, tc.hasTime)
		}
	}
	// 1904 date system: serial 0 is 1904-01-01.
	if got, _, err := tblParseTime("44843", true, true); err != nil || !got.Equal(tblCST(2026, 10, 10, 0, 0, 0)) {
		t.Errorf("1904 serial: %v, %v", got, err)
	}
}

func TestGB11643(t *testing.T) {
	for _, tc := range []struct {
		in    string
		ok    bool
		birth calendar.Date
		sex   Sex
	}{
		{"110105195803121232", true, calendar.Date{Year: 1958, Month: 3, Day: 12}, Male},
		{"310104196711052466", true, calendar.Date{Year: 1967, Month: 11, Day: 5}, Female},
		{"11010519491231002x", true, calendar.Date{Year: 1949, Month: 12, Day: 31}, Female},
		{"110105195803121233", false, calendar.Date{}, ""},
		{"110105580312123", true, calendar.Date{Year: 1958, Month: 3, Day: 12}, Male},
		{"11010519580230123X", false, calendar.Date{}, ""},
		{"1101051958", false, calendar.Date{}, ""},
		// Check digit right, but born 1890: the archive (pii) refuses it, so
		// intake must too rather than pass a row that fails at store time.
		{"110105189003121233", false, calendar.Date{}, ""},
		{"11010519580312１23２", true, calendar.Date{Year: 1958, Month: 3, Day: 12}, Male},
	} {
		id, b, s, err := gb11643Parse(tc.in)
		if (err == nil) != tc.ok || b != tc.birth || s != tc.sex {
			t.Errorf("gb11643Parse(%q) = %q %v %v %v", tc.in, id, b, s, err)
		}
	}
}

func TestParsePhonesAndDiagnoses(t *testing.T) {
	ph, err := tblParsePhones("138 0013 8000;+86 139-0013-9000、010-6400 0000转123/13800138000")
	want := []string{"13800138000", "13900139000", "010-64000000-123"}
	if err != nil || !reflect.DeepEqual(ph, want) {
		t.Errorf("phones = %q, %v; want %q", ph, err, want)
	}
	for _, bad := range []string{"abc", "12345", "138001380001234567890"} {
		if _, err := tblParsePhones(bad); err == nil {
			t.Errorf("phone %q accepted", bad)
		}
	}
	for _, tc := range []struct {
		code, name string
		want       []Diagnosis
		bad        bool
	}{
		{"I21.0", "急性心肌梗死", []Diagnosis{{"I21.0", "急性心肌梗死"}}, false},
		{"", "I21.0 急性心肌梗死;I10 高血压", []Diagnosis{{"I21.0", "急性心肌梗死"}, {"I10", "高血压"}}, false},
		{"", "I21.0急性心肌梗死，I10高血压", []Diagnosis{{"I21.0", "急性心肌梗死"}, {"I10", "高血压"}}, false},
		{"i21.0;I10", "急性心肌梗死；高血压", []Diagnosis{{"I21.0", "急性心肌梗死"}, {"I10", "高血压"}}, false},
		{"", "2型糖尿病,伴有并发症", []Diagnosis{{"", "2型糖尿病,伴有并发症"}}, false},
		{"I21.000x001", "", []Diagnosis{{"I21.000X001", ""}}, false},
		{"急性", "心梗", nil, true},
		{"I21.0;I10", "急性心肌梗死", nil, true},
	} {
		got, err := tblParseDiagnoses(tc.code, tc.name)
		if (err != nil) != tc.bad || (!tc.bad && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("diagnoses(%q, %q) = %v, %v", tc.code, tc.name, got, err)
		}
	}
}

const tblSampleCSV = `病案号,住院流水号,姓名,性别,出生日期,身份证号,联系电话,手机号,现住址,工作单位,科室代码,出院科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,出院诊断编码2,出院诊断2,是否手术,治疗结果,机构代码,年龄,备注
2026000123,ZY202610100001,李建国,男,1958-03-12,110105195803121232,13800138000,13900139000、13800138000,北京市朝阳区示例路1号,示例机械厂,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-10-01 09:30,2026/10/10 14:05,I21.0,急性前壁心肌梗死,I10,高血压,是,好转,H0001,68,首次
2026000456,ZY202610100002,王芳,,,310104196711052466,021-64000000,,上海市徐汇区示例路2号,,0502,内分泌科,W12,内分泌病区,赵医生,孙护士,2026年10月3日,20261009,,"I21.0 急性心肌梗死;E11.9 2型糖尿病",,,否,死亡,H0001,58,
`

func TestParseCSVMapping(t *testing.T) {
	res, sum := tblParseString(t, tblSampleCSV)
	if len(res.rejects) != 0 {
		t.Fatalf("rejects: %+v", res.rejects)
	}
	if sum.Rows != 2 || sum.Messages != 2 || sum.Rejects != 0 {
		t.Errorf("summary %+v", sum)
	}
	if !reflect.DeepEqual(sum.IgnoredColumns, []string{"年龄", "备注"}) {
		t.Errorf("ignored %q", sum.IgnoredColumns)
	}
	want := Message{
		Source: "test.csv row 2", Line: 2, Event: Discharge, Facility: "H0001",
		Patient: Patient{
			MRN: "2026000123", NationalID: "110105195803121232", Name: "李建国", Sex: Male,
			BirthDate: calendar.Date{Year: 1958, Month: 3, Day: 12},
			Phones:    []string{"13800138000", "13900139000"},
			Address:   "北京市朝阳区示例路1号", Employer: "示例机械厂",
		},
		Encounter: Encounter{
			VisitNumber: "ZY202610100001", DepartmentCode: "0301", DepartmentName: "心血管内科",
			WardCode: "W05", WardName: "心内一病区", AttendingDoctor: "陈医生", ResponsibleNurse: "刘护士",
			AdmittedAt: tblCST(2026, 10, 1, 9, 30, 0), DischargedAt: tblCST(2026, 10, 10, 14, 5, 0),
			Diagnoses: []Diagnosis{{"I21.0", "急性前壁心肌梗死"}, {"I10", "高血压"}},
			Surgery:   true, Outcome: Improved,
		},
	}
	if !reflect.DeepEqual(res.msgs[0], want) {
		t.Errorf("row 2:\n got %+v\nwant %+v", res.msgs[0], want)
	}
	m := res.msgs[1]
	// Sex and birth date come from the ID number; date-only discharge is 00:00.
	if m.Patient.Sex != Female || m.Patient.BirthDate != (calendar.Date{Year: 1967, Month: 11, Day: 5}) {
		t.Errorf("row 3 patient %+v", m.Patient)
	}
	if !m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 9, 0, 0, 0)) || !m.Encounter.AdmittedAt.Equal(tblCST(2026, 10, 3, 0, 0, 0)) {
		t.Errorf("row 3 times %v %v", m.Encounter.AdmittedAt, m.Encounter.DischargedAt)
	}
	if m.Encounter.Outcome != Died || m.Encounter.Surgery || m.Patient.Employer != "" || len(m.Encounter.Diagnoses) != 2 ||
		m.Encounter.Diagnoses[1] != (Diagnosis{"E11.9", "2型糖尿病"}) || !reflect.DeepEqual(m.Patient.Phones, []string{"021-64000000"}) {
		t.Errorf("row 3 %+v", m)
	}
}

func TestParseCSVEncodings(t *testing.T) {
	base, _ := tblParseString(t, tblSampleCSV)
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(tblSampleCSV)
	if err != nil {
		t.Fatal(err)
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(tblSampleCSV, ",", "\t"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"utf8-bom":       "\uFEFF" + tblSampleCSV,
		"gb18030":        gb,
		"crlf":           strings.ReplaceAll(tblSampleCSV, "\n", "\r\n"),
		"utf16-tab":      u16,
		"tab":            strings.ReplaceAll(tblSampleCSV, ",", "\t"),
		"semicolon-gb":   strings.ReplaceAll(gb, ",", ";"),
		"title-preamble": "出院患者名单（2026年10月）\n导出时间：2026-10-11\n\n" + tblSampleCSV,
	} {
		t.Run(name, func(t *testing.T) {
			if name == "gb18030" && bytes.Equal([]byte(gb), []byte(tblSampleCSV)) {
				t.Fatal("GB18030 input equals UTF-8 input")
			}
			got, sum := tblParseString(t, in)
			if sum.Rejects != 0 || len(got.msgs) != len(base.msgs) {
				t.Fatalf("summary %+v rejects %+v", sum, got.rejects)
			}
			for i := range got.msgs {
				g, w := got.msgs[i], base.msgs[i]
				if name == "title-preamble" {
					w.Line += 3
					w.Source = fmt.Sprintf("test.csv row %d", w.Line)
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("message %d differs:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestParseCSVRejects(t *testing.T) {
	in := "病案号,住院流水号,姓名,性别,出院日期,联系电话,治疗结果,身份证号\n" +
		"A1,V1,张三,男,2026-10-10,13800138000,好转,\n" + // 2 good
		"A2,V2,李四,男,2026-13-10,,,\n" + // 3 bad date
		"\n" + // 4 blank, skipped
		",,,,,,,\n" + // 5 blank, skipped
		"A3,V3,王五,男\n" + // 6 too few fields
		"A4,,赵六,女,2026-10-10,,,\n" + // 7 no visit number
		"A5,V5,钱七,X,2026-10-10,,,\n" + // 8 bad sex
		"A6,V6,孙八,女,2026-10-10,abc,,\n" + // 9 bad phone: kept, with a warning
		"A7,V7,周九,女,2026-10-10,,很好,\n" + // 10 bad outcome
		"A8,V8,吴十,女,2026-10-10,,,110105195803121233\n" + // 11 bad ID check digit
		"A9,V9,郑一,女,,,,\n" + // 12 no discharge date
		"A10,V10,冯二,女,2026-10-10,,,,extra\n" + // 13 extra field
		"A11,V11,陈三,女,2026-10-10,,,,\n" + // 14 empty extra field: fine
		"A12,V12,\"褚\"四\",女,2026-10-10,,,\n" // 15 lazy quote: fine
	res, sum := tblParseString(t, in)
	wantRejects := []struct {
		line  int
		field string
	}{{3, "出院日期"}, {6, ""}, {7, "住院流水号"}, {8, "性别"}, {10, "治疗结果"}, {11, "身份证号"}, {12, "出院日期"}, {13, ""}}
	if len(res.rejects) != len(wantRejects) {
		t.Fatalf("rejects %d: %+v", len(res.rejects), res.rejects)
	}
	for i, w := range wantRejects {
		r := res.rejects[i]
		if r.Line != w.line || r.Field != w.field || r.Reason == "" || r.Raw == "" || r.Source != fmt.Sprintf("test.csv row %d", w.line) {
			t.Errorf("reject %d = %+v, want line %d field %q", i, r, w.line, w.field)
		}
	}
	if res.rejects[1].Raw != "A3,V3,王五,男" {
		t.Errorf("raw %q", res.rejects[1].Raw)
	}
	var lines []int
	for _, m := range res.msgs {
		lines = append(lines, m.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 9, 14, 15}) {
		t.Errorf("message lines %v", lines)
	}
	if w := res.msgs[1].Warnings; len(w) != 1 || w[0].Field != "联系电话" || len(res.msgs[1].Patient.Phones) != 0 || strings.Contains(w[0].Value, "abc") {
		t.Errorf("row 9 warnings %+v phones %v", w, res.msgs[1].Patient.Phones)
	}
	if sum.Rows != 12 || sum.Messages != 4 || sum.Rejects != 8 {
		t.Errorf("summary %+v", sum)
	}
}

func TestParseCSVEventsAndSplitTime(t *testing.T) {
	in := "病案号,住院流水号,姓名,出院日期,出院时间,事件,手术名称\n" +
		"A1,V1,张三,2026-10-10,14:05,取消出院,\n" +
		"A2,V2,李四,,,入院,\n" +
		"A3,V3,王五,2026-10-10,2026-10-10 08:00,,阑尾切除术\n" +
		"A4,V4,赵六,2026-10-10,2026-10-11 08:00,,\n" +
		"A5,V5,钱七,2026-10-10,,飞走,\n"
	res, _ := tblParseString(t, in)
	if len(res.msgs) != 3 || len(res.rejects) != 2 {
		t.Fatalf("msgs %+v rejects %+v", res.msgs, res.rejects)
	}
	if m := res.msgs[0]; m.Event != CancelDischarge || !m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 10, 14, 5, 0)) {
		t.Errorf("split time: %+v", m)
	}
	if m := res.msgs[1]; m.Event != Admit || !m.Encounter.DischargedAt.IsZero() {
		t.Errorf("admit: %+v", m)
	}
	if m := res.msgs[2]; !m.Encounter.Surgery || !m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 10, 8, 0, 0)) {
		t.Errorf("surgery by name: %+v", m)
	}
	if res.rejects[0].Line != 5 || res.rejects[1].Field != "事件" {
		t.Errorf("rejects %+v", res.rejects)
	}
}

func TestParseCSVMissingColumns(t *testing.T) {
	for _, in := range []string{
		"病案号,姓名,性别\nA1,张三,男\n",
		"姓名,性别,年龄\n张三,男,30\n",
		"",
		"a,b,c\n1,2,3\n",
	} {
		var res tblResult
		_, err := ParseCSV(strings.NewReader(in), "bad.csv", res.sink())
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if len(res.msgs)+len(res.rejects) != 0 {
			t.Errorf("%q: rows delivered despite header error", in)
		}
		if in == "" {
			continue
		}
		var mc *MissingColumnsError
		if !errors.As(err, &mc) {
			t.Errorf("%q: error %T %v", in, err, err)
			continue
		}
		msg := err.Error()
		for _, s := range []string{"住院流水号", "visit number", "出院日期", "discharge date", "缺少必需列", "missing required columns"} {
			if !strings.Contains(msg, s) {
				t.Errorf("%q: error %q lacks %q", in, msg, s)
			}
		}
	}
	// With an 事件 column the discharge date column is optional.
	res, _ := tblParseString(t, "病案号,住院流水号,姓名,事件\nA1,V1,张三,取消出院\nA2,V2,李四,出院\n")
	if len(res.msgs) != 1 || len(res.rejects) != 1 || res.rejects[0].Line != 3 {
		t.Errorf("event-only: %+v %+v", res.msgs, res.rejects)
	}
}

func TestCSVTemplateRoundTrip(t *testing.T) {
	tpl := CSVTemplate()
	if !bytes.HasPrefix(tpl, []byte("\uFEFF病案号,")) {
		t.Fatalf("template starts %q", tpl[:20])
	}
	res, sum := tblParseString(t, string(tpl))
	if sum.Messages != 2 || sum.Rejects != 0 || len(sum.IgnoredColumns) != 0 {
		t.Fatalf("template: %+v %+v", sum, res.rejects)
	}
	m := res.msgs[0]
	if m.Patient.NationalID != "110105195803121232" || len(m.Encounter.Diagnoses) != 2 || !m.Encounter.Surgery || m.Event != Discharge {
		t.Errorf("template row 1: %+v", m)
	}
	if m := res.msgs[1]; len(m.Patient.Phones) != 2 || !m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 9, 0, 0, 0)) {
		t.Errorf("template row 2: %+v", m)
	}
	// Every template header is documented and matches its own field.
	docs := Columns()
	seen := map[string]bool{}
	for _, d := range docs {
		seen[d.Header] = true
		if d.DescZH == "" || d.DescEN == "" {
			t.Errorf("%s: no description", d.Header)
		}
		for _, s := range append([]string{d.Header}, d.Synonyms...) {
			m, ok := tblMatchHeader(s)
			if !ok || tblSpecOf(m.field).header != d.Header {
				t.Errorf("synonym %q of %s does not match", s, d.Header)
			}
		}
	}
	for _, req := range []string{"病案号", "住院流水号", "姓名", "出院日期"} {
		if !seen[req] || !tblSpecByHeader(req).required {
			t.Errorf("%s not documented as required", req)
		}
	}
}

// tblGenCSV writes n generated rows.
func tblGenCSV(w io.Writer, n int) error {
	if _, err := io.WriteString(w, "病案号,住院流水号,姓名,性别,出生日期,联系电话,科室,入院日期,出院日期,出院诊断编码,出院诊断,治疗结果\n"); err != nil {
		return err
	}
	buf := make([]byte, 0, 256)
	for i := 0; i < n; i++ {
		buf = buf[:0]
		buf = fmt.Appendf(buf, "M%08d,V%08d,患者%d,男,1960-01-%02d,138%08d,心血管内科,2026-10-01 08:00,2026-10-%02d 14:05,I21.0,急性心肌梗死,好转\n",
			i, i, i, i%28+1, i, i%20+2)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func TestParseCSVStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("200k rows")
	}
	const n = 200_000
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tblGenCSV(pw, n)) }()
	var maxHeap uint64
	count := 0
	sink := Sink{
		Message: func(m Message) error {
			count++
			if count%50_000 == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapInuse)
			}
			return nil
		},
		Reject: func(r Reject) error { return fmt.Errorf("unexpected reject %+v", r) },
	}
	start := time.Now()
	sum, err := ParseCSV(pr, "big.csv", sink)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Messages != n || count != n {
		t.Fatalf("messages %d/%d", sum.Messages, count)
	}
	if maxHeap == 0 || maxHeap > 50<<20 {
		t.Errorf("heap in use up to %d MiB", maxHeap>>20)
	}
	t.Logf("%d rows in %v, heap in use ≤ %.1f MiB", n, time.Since(start), float64(maxHeap)/(1<<20))
}

func BenchmarkParseCSV(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	if err := tblGenCSV(&buf, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		sum, err := ParseCSV(bytes.NewReader(data), "bench.csv", Sink{})
		if err != nil || sum.Messages != n {
			b.Fatal(err, sum)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// tblCheckSummary checks what fuzzing can: counts agree with sink calls,
// every row ends as one message or one reject, and messages are sane.
func tblCheckSummary(t *testing.T, sum Summary, res tblResult, rowsExact bool) {
	t.Helper()
	if sum.Messages != len(res.msgs) || sum.Rejects != len(res.rejects) {
		t.Fatalf("summary %+v vs %d messages %d rejects", sum, len(res.msgs), len(res.rejects))
	}
	if rowsExact && sum.Rows != sum.Messages+sum.Rejects {
		t.Fatalf("rows %d != %d + %d", sum.Rows, sum.Messages, sum.Rejects)
	}
	for _, m := range res.msgs {
		if m.Patient.MRN == "" || m.Encounter.VisitNumber == "" || m.Patient.Name == "" || m.Line <= 0 {
			t.Fatalf("message without identity: %+v", m)
		}
		if m.Event == Discharge && m.Encounter.DischargedAt.IsZero() {
			t.Fatalf("discharge without date: %+v", m)
		}
	}
	for _, r := range res.rejects {
		if r.Reason == "" || r.Line <= 0 || len(r.Raw) > tblRawMax+len("…") {
			t.Fatalf("bad reject %+v", r)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(tblSampleCSV))
	f.Add(CSVTemplate())
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(tblSampleCSV)
	f.Add([]byte(gb))
	f.Add([]byte("病案号\t住院流水号\t姓名\t出院日期\nA\tV\t张\t2026-10-10\n"))
	f.Add([]byte("病案号,住院流水号,姓名,出院日期,出院诊断\nA,V,\"张\n三\",46305,\"I10 x;I21.0 y\"\n"))
	f.Add([]byte("病案号,住院流水号,身份证号,姓名,出院时间,出院诊断编码\n2.026000123E+09,V,1.10105195803121E+017,陈　静,2026/1/5 下午 3:20,\"A17.0†\nG01*\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var res tblResult
		sum, err := ParseCSV(bytes.NewReader(data), "fuzz.csv", res.sink())
		if err != nil {
			if len(res.msgs)+len(res.rejects) != 0 && errors.As(err, new(*MissingColumnsError)) {
				t.Fatalf("header error after rows: %v", err)
			}
			return
		}
		tblCheckSummary(t, sum, res, true)
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-10-10", "2026/1/5 9:05", "2026年10月10日14时05分", "20261010140530",
		"2026-10-10T14:05:30.123+08:00", "46305.5", "60", "２０２６．１０．１０"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, excel bool) {
		got, hasTime, err := tblParseTime(s, excel, false)
		if err != nil {
			return
		}
		if got.Location() != tblZone {
			t.Fatalf("%q: location %v", s, got.Location())
		}
		d := tblDateOf(got)
		if !d.Valid() || d.Year < 1849 || d.Year > 2201 {
			t.Fatalf("%q: date %v", s, d)
		}
		if !hasTime && (got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0) && !strings.ContainsAny(s, "Zz+") {
			t.Fatalf("%q: date-only but %v", s, got)
		}
		// A date-only value written as YYYY-MM-DD parses back to itself.
		if !hasTime && !excel {
			again, _, err := tblParseTime(d.String(), false, false)
			if err != nil || !again.Equal(got) {
				t.Fatalf("%q: reparse %v %v", s, again, err)
			}
		}
	})
}

func TestSplitProcedures(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"经皮冠状动脉介入治疗", []string{"经皮冠状动脉介入治疗"}, false},
		{"阑尾切除术；腹腔镜探查术", []string{"阑尾切除术", "腹腔镜探查术"}, false},
		{" 甲状腺切除术 ; 气管切开术、 ", []string{"甲状腺切除术", "气管切开术"}, false},
		{"；；", nil, false},
		{strings.Repeat("术", 201), nil, true},
		{strings.Repeat("术；", 21), nil, true},
	} {
		got, err := SplitProcedures(c.in)
		if (err != nil) != c.bad || !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitProcedures(%q) = %q, %v; want %q, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}
