package survey

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"suifang/internal/workbook"
)

// ResultsXLSX writes results as an Excel workbook: an overview, the items
// with their answer counts, and the free-text answers. Patients appear
// only as response numbers. channel names a channel code as the results
// page does (the web adapter passes its catalog); nil keeps the code.
func ResultsXLSX(r *Results, deptName string, channel func(code string) string) ([]byte, error) {
	if channel == nil {
		channel = func(c string) string { return c }
	}
	f := excelize.NewFile()
	defer f.Close()
	const over, items, texts = "概览", "题目", "意见"
	f.SetSheetName("Sheet1", over)
	f.NewSheet(items)
	f.NewSheet(texts)
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	put := func(sheet string, row int, vals ...any) {
		for i, v := range vals {
			cell, _ := excelize.CoordinatesToCellName(i+1, row)
			f.SetCellValue(sheet, cell, v)
		}
	}
	rate := func(p int) any {
		if p < 0 {
			return "—"
		}
		return float64(p) / 100
	}
	pctStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 9})
	row := 1
	line := func(label string, v any, percent bool) {
		put(over, row, label, v)
		if percent {
			cell, _ := excelize.CoordinatesToCellName(2, row)
			f.SetCellStyle(over, cell, cell, pctStyle)
		}
		row++
	}
	line("问卷", r.Questionnaire.Title, false)
	line("科室", orDash(deptName), false)
	line("医生", orDash(r.Filter.Doctor), false)
	line("月份", orDash(r.Filter.Month), false)
	line("邀请数", r.Invited, false)
	line("答卷数", r.Answered, false)
	line("应答率", rate(r.ResponseRate()), true)
	line("满意", r.Satisfied, false)
	line("基本满意", r.Basically, false)
	line("不满意", r.Unsatisfied, false)
	line("满意率（满意+基本满意）/作答", rate(r.SatisfactionRate()), true)
	if nps, ok := r.NPS(); ok {
		line("NPS 净推荐值", nps, false)
	} else {
		line("NPS 净推荐值", "—", false)
	}
	line("平均得分（百分制）", pctOrDash(r.AvgScore()), false)
	row++
	put(over, row, "渠道", "邀请", "答卷", "应答率")
	f.SetCellStyle(over, fmt.Sprintf("A%d", row), fmt.Sprintf("D%d", row), bold)
	row++
	for _, c := range r.Channels {
		put(over, row, channel(c.Channel), c.Invited, c.Answered, rate(c.Rate()))
		f.SetCellStyle(over, fmt.Sprintf("D%d", row), fmt.Sprintf("D%d", row), pctStyle)
		row++
	}
	f.SetColWidth(over, "A", "A", 30)
	f.SetColWidth(over, "B", "D", 16)

	put(items, 1, "题号", "题目", "作答", "得分（百分制）", "选项", "人数", "占比")
	f.SetCellStyle(items, "A1", "G1", bold)
	row = 2
	for _, it := range r.Items {
		put(items, row, it.LinkID, it.Text, it.Answered, pctOrDash(it.Score()))
		row++
		for _, o := range it.Options {
			put(items, row, "", "", "", "", o.Label, o.Count, rate(it.Share(o)))
			f.SetCellStyle(items, fmt.Sprintf("G%d", row), fmt.Sprintf("G%d", row), pctStyle)
			row++
		}
	}
	f.SetColWidth(items, "B", "B", 48)
	f.SetColWidth(items, "E", "E", 16)

	put(texts, 1, "答卷号", "时间", "题目", "回答", "需关注")
	f.SetCellStyle(texts, "A1", "E1", bold)
	for i, t := range r.Texts {
		flag := ""
		if t.Negative {
			flag = "是"
		}
		put(texts, i+2, t.ResponseID, t.At.In(cst).Format("2006-01-02 15:04"), t.Question, t.Text, flag)
	}
	f.SetColWidth(texts, "B", "B", 18)
	f.SetColWidth(texts, "C", "D", 48)
	data, err := workbook.Bytes(f)
	if err != nil {
		return nil, fmt.Errorf("survey: write workbook: %w", err)
	}
	return data, nil
}

func orDash(s string) string {
	if s == "" {
		return "全部"
	}
	return s
}

func pctOrDash(p int) any {
	if p < 0 {
		return "—"
	}
	return p
}
