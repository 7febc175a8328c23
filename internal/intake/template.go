package intake

import (
	"bytes"
	"encoding/csv"
)

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
// China time) and two phone numbers in one cell.
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
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}
