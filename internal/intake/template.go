package intake

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/xuri/excelize/v2"

	"suifang/internal/workbook"
)

// tblTextFields are the identifier columns a spreadsheet program would
// turn into numbers: long digit strings lose their last digits
// (1.10105195803121E+17), codes lose their leading zeros (0301 → 301).
var tblTextFields = map[tblField]bool{
	tfMRN: true, tfVisit: true, tfNationalID: true, tfPhone: true, tfDeptCode: true, tfWardCode: true,
	tfFacility: true, tfDiagCode: true,
}

// tblTemplateRows are two fictional patients; the ID numbers carry valid
// GB 11643 check digits but belong to nobody known.
var tblTemplateRows = []map[tblField]string{
	{
		tfMRN: "2026000123", tfVisit: "ZY202610100001", tfName: "李建国", tfSex: "男",
		tfBirth: "1958-03-12", tfNationalID: "110105195803121232", tfPhone: "13800138000",
		tfAddress: "北京市朝阳区示例路1号", tfEmployer: "示例机械厂",
		tfDeptCode: "0301", tfDeptName: "心血管内科", tfWardCode: "W05", tfWardName: "心内一病区",
		tfDoctor: "陈医生", tfNurse: "刘护士",
		tfAdmitted: "2026-10-01 09:30", tfDischarged: "2026-10-10 14:05",
		tfDiagCode: "I21.0;I10", tfDiagName: "急性前壁心肌梗死;高血压",
		tfSurgeryFlag: "是", tfSurgeryName: "经皮冠状动脉介入治疗", tfOutcome: "好转",
		tfFacility: "H0001", tfEvent: "出院",
	},
	{
		tfMRN: "2026000456", tfVisit: "ZY202610100002", tfName: "王芳", tfSex: "女",
		tfBirth: "1967-11-05", tfNationalID: "310104196711052466", tfPhone: "13900139000;021-64000000",
		tfAddress: "上海市徐汇区示例路2号", tfEmployer: "",
		tfDeptCode: "0502", tfDeptName: "内分泌科", tfWardCode: "W12", tfWardName: "内分泌病区",
		tfDoctor: "赵医生", tfNurse: "孙护士",
		tfAdmitted: "2026-10-03", tfDischarged: "2026-10-09",
		tfDiagCode: "E11.9", tfDiagName: "2型糖尿病",
		tfSurgeryFlag: "否", tfSurgeryName: "", tfOutcome: "治愈",
		tfFacility: "H0001", tfEvent: "出院",
	},
}

// CSVTemplate returns the import template for "download template": UTF-8
// with a BOM (so Excel opens it as UTF-8), the canonical Chinese headers
// and two fictional example rows. The first row shows several diagnoses
// and a discharge time; the second a date-only discharge (taken as 00:00
// China time) and two phone numbers in one cell. Identifiers are written
// as ="…" so that Excel, WPS and LibreOffice open them as text and a file
// saved from them keeps every digit and leading zero.
func CSVTemplate() []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true // what Excel writes and expects
	var head []string
	var fields []tblField
	for _, s := range tblSpecs {
		if s.inTemplate {
			head = append(head, s.header)
			fields = append(fields, s.field)
		}
	}
	_ = w.Write(head)
	for _, row := range tblTemplateRows {
		rec := make([]string, len(fields))
		for i, f := range fields {
			rec[i] = row[f]
			// ="0301" is how Excel and WPS keep a value as text when they
			// open a CSV; the importer unwraps it, and a file saved from
			// the spreadsheet holds the plain value again.
			if tblTextFields[f] && rec[i] != "" {
				rec[i] = `="` + rec[i] + `"`
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// XLSXTemplate returns the import template as an Excel workbook: the
// sheet 出院患者 with the same headers and example rows as CSVTemplate,
// its identifier columns formatted as text (number format "@"), so ID numbers, MRNs, phones and codes typed or pasted into it
// keep every digit and leading zero; and a sheet 说明 describing each
// column.
func XLSXTemplate() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet, help = tblXLSXSheet, "说明"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("intake: template: %w", err)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return nil, fmt.Errorf("intake: template: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF7"}}})
	if err != nil {
		return nil, fmt.Errorf("intake: template: %w", err)
	}
	col := 0
	for _, sp := range tblSpecs {
		if !sp.inTemplate {
			continue
		}
		col++
		name, _ := excelize.ColumnNumberToName(col)
		f.SetColWidth(sheet, name, name, max(10, float64(len([]rune(sp.example)))*1.3+2))
		f.SetCellStr(sheet, name+"1", sp.header)
		for r, row := range tblTemplateRows {
			f.SetCellStr(sheet, fmt.Sprintf("%s%d", name, r+2), row[sp.field])
		}
		if tblTextFields[sp.field] {
			// The column's style is what Excel, WPS and LibreOffice give
			// the cells a user types or pastes; the examples carry it too.
			f.SetColStyle(sheet, name, text)
		}
	}
	last, _ := excelize.ColumnNumberToName(col)
	f.SetCellStyle(sheet, "A1", last+"1", bold)
	f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})

	f.NewSheet(help)
	for c, v := range []string{"列名 / column", "必填 / required", "说明", "description", "示例 / example"} {
		cell, _ := excelize.CoordinatesToCellName(c+1, 1)
		f.SetCellStr(help, cell, v)
	}
	for i, d := range Columns() {
		req := ""
		if d.Required {
			req = "是 / yes"
			if d.RequiredNote != "" {
				req += "（" + d.RequiredNote + "）"
			}
		}
		for c, v := range []string{d.Header, req, d.DescZH, d.DescEN, d.Example} {
			cell, _ := excelize.CoordinatesToCellName(c+1, i+2)
			f.SetCellStr(help, cell, v)
		}
	}
	f.SetCellStyle(help, "A1", "E1", bold)
	f.SetColWidth(help, "A", "B", 16)
	f.SetColWidth(help, "C", "D", 60)
	f.SetColWidth(help, "E", "E", 24)
	f.SetActiveSheet(0)
	return workbook.Bytes(f)
}
