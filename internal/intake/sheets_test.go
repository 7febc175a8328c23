package intake

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// A discharge list as a HIS exports it and a clerk touches it up in WPS:
// a diagnosis wrapped onto a second line inside its quoted cell, dagger
// and asterisk codes of a tuberculous meningitis, 12-hour times with
// 上午/下午, and a name typed with an ideographic space.
const tblSheetsCSV = "\uFEFF病案号,住院流水号,姓名,性别,出院科室代码,出院科室,入院时间,出院时间,出院诊断编码,出院诊断\r\n" +
	"2026000311,ZY202601050011,陈　静,女,0301,心血管内科,2026/1/2 上午 9:05,2026/1/5 下午 3:20,I21.0,\"急性前壁心肌梗死\r\n（经皮冠状动脉介入治疗后）\"\r\n" +
	"2026000312,ZY202601050012,John  Smith,男,0405,感染科,2025/12/20 8:30,2026-01-05 15:20,A17.0†;G01*,结核性脑膜炎;结核性脑膜炎中枢神经系统表现\r\n" +
	"2026000313,ZY202601050013,买买提·艾力,男,0405,感染科,2025/12/28 下午 12:10,2026/1/5 15:20:00,\"A17.0†\r\nG01*\",\"结核性脑膜炎\r\n脑膜炎\"\r\n" +
	"2026000314,ZY202601050014,王\u00a0芳,女,0502,内分泌科,2026/1/1 上午 12:30,2026/1/5 3:20 PM,E11.9,2型糖尿病\r\n"

func TestSpreadsheetValues(t *testing.T) {
	res, sum := tblParseString(t, tblSheetsCSV)
	if len(res.rejects) != 0 {
		t.Fatalf("rejects: %+v", res.rejects)
	}
	if sum.Messages != 4 {
		t.Fatalf("%d messages", sum.Messages)
	}
	m := res.msgs
	if m[0].Patient.Name != "陈静" || m[1].Patient.Name != "John Smith" || m[2].Patient.Name != "买买提·艾力" || m[3].Patient.Name != "王芳" {
		t.Errorf("names %q %q %q %q", m[0].Patient.Name, m[1].Patient.Name, m[2].Patient.Name, m[3].Patient.Name)
	}
	want := []struct{ adm, dis time.Time }{
		{tblCST(2026, 1, 2, 9, 5, 0), tblCST(2026, 1, 5, 15, 20, 0)},
		{tblCST(2025, 12, 20, 8, 30, 0), tblCST(2026, 1, 5, 15, 20, 0)},
		{tblCST(2025, 12, 28, 12, 10, 0), tblCST(2026, 1, 5, 15, 20, 0)},
		{tblCST(2026, 1, 1, 0, 30, 0), tblCST(2026, 1, 5, 15, 20, 0)},
	}
	for i, w := range want {
		if e := m[i].Encounter; !e.AdmittedAt.Equal(w.adm) || !e.DischargedAt.Equal(w.dis) {
			t.Errorf("row %d: %v – %v, want %v – %v", i, e.AdmittedAt, e.DischargedAt, w.adm, w.dis)
		}
	}
	if d := m[0].Encounter.Diagnoses; len(d) != 1 || d[0].Code != "I21.0" || d[0].Name != "急性前壁心肌梗死（经皮冠状动脉介入治疗后）" {
		t.Errorf("wrapped diagnosis %+v", d)
	}
	for _, i := range []int{1, 2} {
		d := m[i].Encounter.Diagnoses
		if len(d) != 2 || d[0].Code != "A17.0†" || d[1].Code != "G01*" || d[0].Name != "结核性脑膜炎" {
			t.Errorf("row %d: dagger/asterisk %+v", i, d)
		}
	}
}

func TestParseTimeHalfDay(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026/1/5 下午 3:20":     tblCST(2026, 1, 5, 15, 20, 0),
		"2026/1/5 上午 9:05":     tblCST(2026, 1, 5, 9, 5, 0),
		"2026/1/5 上午 12:05":    tblCST(2026, 1, 5, 0, 5, 0),
		"2026/1/5 下午 12:05":    tblCST(2026, 1, 5, 12, 5, 0),
		"2026/1/5 中午 12:30":    tblCST(2026, 1, 5, 12, 30, 0),
		"2026/1/5 晚上 11:40:10": tblCST(2026, 1, 5, 23, 40, 10),
		"2026-01-05 15:20":     tblCST(2026, 1, 5, 15, 20, 0),
		"2026/1/5 15:20:00":    tblCST(2026, 1, 5, 15, 20, 0),
		"2026/1/5 3:20 PM":     tblCST(2026, 1, 5, 15, 20, 0),
		"2026/1/5 下午3:20":      tblCST(2026, 1, 5, 15, 20, 0),
	} {
		got, hasTime, err := tblParseTime(in, false, false)
		if err != nil || !hasTime || !got.Equal(want) {
			t.Errorf("%q = %v %v %v, want %v", in, got, hasTime, err, want)
		}
	}
	for _, bad := range []string{"2026/1/5 上午 15:20", "2026/1/5 下午", "2026/1/5 下午 25:00"} {
		if _, _, err := tblParseTime(bad, false, false); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestICDDaggerAsterisk(t *testing.T) {
	for _, ok := range []string{"A17.0†", "G01*", "A17.0+", "B01.0†", "G05.1*", "I21.000X001"} {
		if !tblIsICD10(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"†", "A1†", "G01*†", "A17.0††", "急性"} {
		if tblIsICD10(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if d := tblSplitCodeName("A17.0† 结核性脑膜炎"); d.Code != "A17.0†" || d.Name != "结核性脑膜炎" {
		t.Errorf("split %+v", d)
	}
}

// WPS and Excel exports merge the department cell over all of its
// patients' rows; only the first row of the range holds the value.
func TestXLSXMergedDepartment(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sh := "出院患者"
	f.SetSheetName("Sheet1", sh)
	rows := [][]any{
		{"2026年1月出院患者名单"},
		{"科室", "科室代码", "病案号", "住院流水号", "姓名", "出院日期"},
		{"心血管内科", "0301", "2026000401", "ZY2026010401", "李建国", 46027.63888888889},
		{nil, nil, "2026000402", "ZY2026010402", "王芳", 46028.5},
		{nil, nil, "2026000403", "ZY2026010403", "张伟", 46029},
		{"骨科", "0702", "2026000404", "ZY2026010404", "刘洋", "2026-01-06"},
		{nil, nil, "2026000405", "ZY2026010405", "赵敏", "2026-01-07"},
	}
	for r, row := range rows {
		for c, v := range row {
			if v != nil {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				f.SetCellValue(sh, cell, v)
			}
		}
	}
	for _, rg := range [][2]string{{"A1", "F1"}, {"A3", "A5"}, {"B3", "B5"}, {"A6", "A7"}, {"B6", "B7"}} {
		if err := f.MergeCell(sh, rg[0], rg[1]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var res tblResult
	if _, err := ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "merged.xlsx", res.sink()); err != nil {
		t.Fatal(err)
	}
	if len(res.rejects) != 0 || len(res.msgs) != 5 {
		t.Fatalf("%d messages, rejects %+v", len(res.msgs), res.rejects)
	}
	for i, want := range []string{"心血管内科/0301", "心血管内科/0301", "心血管内科/0301", "骨科/0702", "骨科/0702"} {
		e := res.msgs[i].Encounter
		if got := e.DepartmentName + "/" + e.DepartmentCode; got != want {
			t.Errorf("row %d: department %s, want %s", i+3, got, want)
		}
	}
	// The Excel serial 46027.638… is 2026-01-05 15:20 in China time.
	if got := res.msgs[0].Encounter.DischargedAt; !got.Equal(tblCST(2026, 1, 5, 15, 20, 0)) {
		t.Errorf("serial date-time %v", got)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"陈　静": "陈静", "陈 静": "陈静", "陈\u200b静": "陈静", "John  Smith": "John Smith",
		"Mary\u3000Ann Lee": "Mary Ann Lee", "买买提·艾力": "买买提·艾力", " 李建国 ": "李建国"} {
		if got := tblCleanName(in); got != want {
			t.Errorf("tblCleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"陈　静", "John Smith", "\u3000", "a\u200bb", "王\u00a0芳"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := tblCleanName(s)
		if strings.ContainsAny(got, "\u3000\u00a0\t\n\r\u200b") || strings.Contains(got, "  ") || strings.TrimSpace(got) != got {
			t.Fatalf("%q → %q keeps odd whitespace", s, got)
		}
		if tblCleanName(got) != got {
			t.Fatalf("%q → %q not stable", s, got)
		}
	})
}

func FuzzParseDiagnoses(f *testing.F) {
	f.Add("I21.0", "急性前壁心肌梗死\r\n（PCI 后）")
	f.Add("A17.0†;G01*", "结核性脑膜炎;表现")
	f.Add("A17.0†\nG01*", "a\nb")
	f.Add("", "A17.0† 结核性脑膜炎, G01* 表现")
	f.Fuzz(func(t *testing.T, code, name string) {
		ds, err := tblParseDiagnoses(code, name)
		if err != nil {
			return
		}
		for _, d := range ds {
			if d.Code != "" && !tblIsICD10(d.Code) {
				t.Fatalf("%q/%q: code %q is not ICD-10", code, name, d.Code)
			}
			if strings.ContainsAny(d.Name, "\r\n") {
				t.Fatalf("%q/%q: name %q keeps a line break", code, name, d.Name)
			}
		}
	})
}

func FuzzXLSXMerges(f *testing.F) {
	f.Add([]byte(`<sheetData/><mergeCells count="2"><mergeCell ref="A3:A5"/><x:mergeCell ref="b6:B7"/></mergeCells>`))
	f.Add([]byte(`<mergeCell ref="XFD1:A1048576"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms := tblParseMerges(b)
		last := 0
		for _, m := range ms.byRow {
			if m.r2 <= m.r1 || m.c2 < m.c1 || m.c1 < 1 {
				t.Fatalf("bad range %+v", m)
			}
			last = max(last, m.r2)
		}
		for line := 1; line <= min(last+1, 200); line++ {
			rec := ms.fill(line, []string{"x", ""})
			for _, c := range rec {
				if c != "x" && c != "" {
					t.Fatalf("row %d: filled with %q", line, c)
				}
			}
		}
	})
}

// A HIS export opened in LibreOffice Calc 7.4 and saved (soffice
// --headless --convert-to xlsx, and back to CSV): the two 18-digit ID
// numbers became 1.10105195803121E+017 and lost their last digits, the
// one ending in X stayed text, 0301 became 301. The damaged rows are
// refused with a reason that says how to fix the file; the original
// export passes whole.
func TestSpreadsheetRoundTripDamage(t *testing.T) {
	parse := func(name string) tblResult {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "spreadsheet", name))
		if err != nil {
			t.Fatal(err)
		}
		var res tblResult
		if strings.HasSuffix(name, ".xlsx") {
			_, err = ParseXLSX(bytes.NewReader(data), int64(len(data)), name, res.sink())
		} else {
			_, err = ParseCSV(bytes.NewReader(data), name, res.sink())
		}
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	orig := parse("his-export.csv")
	if len(orig.msgs) != 3 || len(orig.rejects) != 0 || orig.msgs[0].Encounter.DepartmentCode != "0301" {
		t.Fatalf("original export: %d messages, rejects %+v", len(orig.msgs), orig.rejects)
	}
	// The CSV template, opened in LibreOffice Calc and saved as CSV: its
	// ="…" identifiers came back as text, every digit and zero kept.
	tpl := parse("template-libreoffice.csv")
	if len(tpl.msgs) != 2 || len(tpl.rejects) != 0 || tpl.msgs[0].Patient.NationalID != "110105195803121232" ||
		tpl.msgs[0].Encounter.DepartmentCode != "0301" || tpl.msgs[1].Encounter.DepartmentCode != "0502" {
		t.Errorf("template after LibreOffice: %+v %+v", tpl.msgs, tpl.rejects)
	}
	for _, name := range []string{"his-export-libreoffice.xlsx", "his-export-libreoffice.csv"} {
		res := parse(name)
		if len(res.rejects) != 2 || len(res.msgs) != 1 {
			t.Fatalf("%s: %d messages, rejects %+v", name, len(res.msgs), res.rejects)
		}
		for _, rj := range res.rejects {
			if rj.Field != "身份证号" || !strings.Contains(rj.Reason, "科学计数法") || !strings.Contains(rj.Reason, ".xlsx 导入模板") ||
				!strings.Contains(rj.Reason, "format the identifier columns as text") {
				t.Errorf("%s: reject %+v does not say how to fix the file", name, rj)
			}
		}
		m := res.msgs[0]
		if m.Patient.NationalID != "44030619750621059X" || m.Patient.MRN != "2026000789" || m.Encounter.DepartmentCode != "301" ||
			!m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 12, 10, 30, 0)) {
			t.Errorf("%s: surviving row %+v", name, m)
		}
	}
}

// The .xlsx template keeps identifier columns as text well below the
// example rows, and parses back to the CSV template's two stays; the CSV
// template writes identifiers as ="…" so Excel opens them as text.
func TestXLSXTemplate(t *testing.T) {
	data, err := XLSXTemplate()
	if err != nil {
		t.Fatal(err)
	}
	var res tblResult
	if _, err := ParseXLSX(bytes.NewReader(data), int64(len(data)), "template.xlsx", res.sink()); err != nil {
		t.Fatal(err)
	}
	if len(res.msgs) != 2 || len(res.rejects) != 0 {
		t.Fatalf("template: %d messages, rejects %+v", len(res.msgs), res.rejects)
	}
	if m := res.msgs[0]; m.Patient.NationalID != "110105195803121232" || m.Encounter.DepartmentCode != "0301" || m.Patient.MRN != "2026000123" {
		t.Errorf("template row 1: %+v", m)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head, _ := f.GetRows(tblXLSXSheet)
	for c, h := range head[0] {
		m, ok := tblMatchHeader(h)
		if !ok {
			t.Fatalf("header %q", h)
		}
		col, _ := excelize.ColumnNumberToName(c + 1)
		for _, row := range []int{2, 3} {
			id, _ := f.GetCellStyle(tblXLSXSheet, col+strconv.Itoa(row))
			st, _ := f.GetStyle(id)
			isText := st != nil && st.NumFmt == 49
			if isText != tblTextFields[m.field] {
				t.Errorf("%s%d (%s): text format %v", col, row, h, isText)
			}
		}
		// Rows the user adds take the column's format.
		id, _ := f.GetColStyle(tblXLSXSheet, col)
		st, _ := f.GetStyle(id)
		if isText := st != nil && st.NumFmt == 49; isText != tblTextFields[m.field] {
			t.Errorf("column %s (%s): text format %v", col, h, isText)
		}
	}
	if dim, _ := f.GetSheetDimension(tblXLSXSheet); dim != "A1:X3" {
		t.Errorf("dimension %q", dim)
	}
	csv := string(CSVTemplate())
	for _, v := range []string{`"=""110105195803121232"""`, `"=""0301"""`, `"=""2026000123"""`} {
		if !strings.Contains(csv, v) {
			t.Errorf("CSV template lacks %s", v)
		}
	}
}

// The same kind of list written by LibreOffice Calc 7.4 (saved with
// soffice --convert-to xlsx): merged department cells, Excel serial
// date-times and 上午/下午 text times.
func TestXLSXMergedLibreOffice(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "spreadsheet", "merged-libreoffice.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	var res tblResult
	if _, err := ParseXLSX(bytes.NewReader(data), int64(len(data)), "merged.xlsx", res.sink()); err != nil {
		t.Fatal(err)
	}
	if len(res.rejects) != 0 || len(res.msgs) != 5 {
		t.Fatalf("%d messages, rejects %+v", len(res.msgs), res.rejects)
	}
	want := []struct {
		dept string
		at   time.Time
	}{
		{"心血管内科/0301", tblCST(2026, 1, 5, 15, 20, 0)},
		{"心血管内科/0301", tblCST(2026, 1, 6, 12, 0, 0)},
		{"心血管内科/0301", tblCST(2026, 1, 7, 0, 0, 0)},
		{"骨科/0702", tblCST(2026, 1, 6, 15, 20, 0)},
		{"骨科/0702", tblCST(2026, 1, 7, 9, 5, 0)},
	}
	for i, w := range want {
		e := res.msgs[i].Encounter
		if got := e.DepartmentName + "/" + e.DepartmentCode; got != w.dept || !e.DischargedAt.Equal(w.at) {
			t.Errorf("row %d: %s %v, want %s %v", i+3, got, e.DischargedAt, w.dept, w.at)
		}
	}
}
