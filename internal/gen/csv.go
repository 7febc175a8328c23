package gen

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"

	"suifang/internal/intake"
)

// CSVHeader is the header row WriteCSV writes: the canonical Chinese
// column names of the import template (intake.Columns).
var CSVHeader = []string{
	"机构代码", "病案号", "住院流水号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "现住址", "工作单位",
	"科室代码", "科室", "病区代码", "病区", "主治医师", "责任护士", "入院日期", "出院日期",
	"出院诊断编码", "出院诊断", "是否手术", "手术名称", "治疗结果", "事件",
}

var sexText = map[intake.Sex]string{intake.Male: "男", intake.Female: "女", intake.Unknown: "未知"}

var outcomeText = map[intake.Outcome]string{
	intake.Cured: "治愈", intake.Improved: "好转", intake.NotCured: "未愈", intake.Died: "死亡", intake.Other: "其他",
}

// WriteCSV writes Count generated discharges as a HIS discharge list in
// the import format: UTF-8 with a BOM, CRLF line ends (as Excel writes),
// the header CSVHeader, times in China time to the minute. It streams.
// Parsing the output with intake.ParseCSV gives back exactly the messages
// Generate produces for the same Config.
func WriteCSV(w io.Writer, cfg Config) error {
	g, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	var codes, names strings.Builder
	var r row
	for i := 0; i < cfg.Count; i++ {
		g.row(i, &r)
		m := &r.msg
		p, e := &m.Patient, &m.Encounter
		codes.Reset()
		names.Reset()
		for k, d := range e.Diagnoses {
			if k > 0 {
				codes.WriteByte(';')
				names.WriteByte(';')
			}
			codes.WriteString(d.Code)
			names.WriteString(d.Name)
		}
		surgery := "否"
		if e.Surgery {
			surgery = "是"
		}
		rec[0], rec[1], rec[2], rec[3], rec[4] = m.Facility, p.MRN, e.VisitNumber, p.Name, sexText[p.Sex]
		rec[5], rec[6], rec[7], rec[8], rec[9] = p.BirthDate.String(), p.NationalID, strings.Join(p.Phones, ";"), p.Address, p.Employer
		rec[10], rec[11], rec[12], rec[13] = e.DepartmentCode, e.DepartmentName, e.WardCode, e.WardName
		rec[14], rec[15] = e.AttendingDoctor, e.ResponsibleNurse
		rec[16] = e.AdmittedAt.In(cst).Format("2006-01-02 15:04")
		rec[17] = e.DischargedAt.In(cst).Format("2006-01-02 15:04")
		rec[18], rec[19], rec[20], rec[21] = codes.String(), names.String(), surgery, r.surgeryName
		rec[22], rec[23] = outcomeText[e.Outcome], "出院"
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
