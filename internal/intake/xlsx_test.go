package intake

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"suifang/internal/calendar"
)

// tblWorkbook builds an .xlsx in memory: rows[i] goes to row i+1 of the
// named sheet; string values are text cells, other values typed cells.
func tblWorkbook(t *testing.T, extraFirst bool, sheet string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	first := f.GetSheetName(0)
	if extraFirst {
		if err := f.SetSheetName(first, "说明"); err != nil {
			t.Fatal(err)
		}
		f.SetCellValue("说明", "A1", "病案号")
		f.SetCellValue("说明", "B1", "这张表不是数据")
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
	} else if err := f.SetSheetName(first, sheet); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(float64); ok {
				f.SetCellStyle(sheet, cell, cell, dateStyle)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tblParseWorkbook(t *testing.T, data []byte) (tblResult, Summary, error) {
	t.Helper()
	var res tblResult
	sum, err := ParseXLSX(bytes.NewReader(data), int64(len(data)), "test.xlsx", res.sink())
	return res, sum, err
}

func TestParseXLSX(t *testing.T) {
	header := []any{"病案号", "住院流水号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "入院日期", "出院日期", "出院诊断编码", "出院诊断", "治疗结果", "年龄"}
	data := tblWorkbook(t, true, "出院患者", [][]any{
		{"出院患者名单"}, // title row above the header
		header,
		// Discharge date as an Excel serial (46305.586805… = 2026-10-10 14:05), MRN and phone as numbers.
		{2026000123, "ZY1", "李建国", "男", 21256.0, "110105195803121232", 13800138000, "2026-10-01 09:30", 46305.58680555555, "I21.0", "急性前壁心肌梗死", "好转", 68},
		{"A2", "ZY2", "王芳", "女", "1967/11/05", nil, "13900139000", "2026年10月3日", "2026-10-09", "E11.9", "2型糖尿病", "治愈"},
		{}, // blank row 5
		{"A3", "ZY3", "赵六", "X", nil, nil, nil, nil, "2026-10-09"},                                     // bad sex
		{"A4", "ZY4", "钱七", "女", nil, 1.10105195803121e17, nil, nil, "2026-10-09"},                     // ID stored as a number, as Excel does (15 digits)
		{"A5", "ZY5", "孙八", nil, nil, nil, nil, time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC), 46306.0}, // typed time.Time
	})
	res, sum, err := tblParseWorkbook(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 5 || sum.Messages != 3 || sum.Rejects != 2 || !reflect.DeepEqual(sum.IgnoredColumns, []string{"年龄"}) {
		t.Fatalf("summary %+v rejects %+v", sum, res.rejects)
	}
	m := res.msgs[0]
	if m.Line != 3 || m.Source != "test.xlsx [出院患者] row 3" || m.Patient.MRN != "2026000123" ||
		!reflect.DeepEqual(m.Patient.Phones, []string{"13800138000"}) ||
		m.Patient.BirthDate != (calendar.Date{Year: 1958, Month: 3, Day: 12}) ||
		!m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 10, 14, 5, 0)) ||
		!m.Encounter.AdmittedAt.Equal(tblCST(2026, 10, 1, 9, 30, 0)) ||
		m.Encounter.Outcome != Improved || m.Encounter.Diagnoses[0] != (Diagnosis{"I21.0", "急性前壁心肌梗死"}) {
		t.Errorf("row 3: %+v", m)
	}
	m = res.msgs[1]
	if m.Line != 4 || m.Patient.BirthDate != (calendar.Date{Year: 1967, Month: 11, Day: 5}) ||
		!m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 9, 0, 0, 0)) || m.Patient.Sex != Female {
		t.Errorf("row 4: %+v", m)
	}
	m = res.msgs[2]
	if m.Line != 8 || !m.Encounter.DischargedAt.Equal(tblCST(2026, 10, 11, 0, 0, 0)) || m.Encounter.AdmittedAt.IsZero() {
		t.Errorf("row 8: %+v", m)
	}
	if r := res.rejects[0]; r.Line != 6 || r.Field != "性别" || !strings.HasPrefix(r.Raw, "A3,ZY3,赵六,X") {
		t.Errorf("reject 0: %+v", r)
	}
	if r := res.rejects[1]; r.Line != 7 || r.Field != "身份证号" || !strings.Contains(r.Reason, "Excel") {
		t.Errorf("reject 1: %+v", r)
	}
}

func TestParseXLSXFirstSheetAndErrors(t *testing.T) {
	data := tblWorkbook(t, false, "Sheet1", [][]any{
		{"病案号", "住院流水号", "姓名", "出院日期"},
		{"A1", "V1", "张三", 46305.0},
	})
	res, sum, err := tblParseWorkbook(t, data)
	if err != nil || sum.Messages != 1 || res.msgs[0].Source != "test.xlsx [Sheet1] row 2" {
		t.Fatalf("%v %+v %+v", err, sum, res)
	}
	missing := tblWorkbook(t, false, "Sheet1", [][]any{{"病案号", "姓名"}, {"A1", "张三"}})
	if _, _, err := tblParseWorkbook(t, missing); !errors.As(err, new(*MissingColumnsError)) {
		t.Errorf("missing columns: %v", err)
	}
	for name, bad := range map[string][]byte{
		"text": []byte("病案号,住院流水号\n"),
		"xls":  {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0},
		"zip":  []byte("PK\x03\x04garbage"),
		"none": nil,
	} {
		if _, _, err := tblParseWorkbook(t, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
