package complaint

import (
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"suifang/internal/workbook"
)

// ReportLabels put a report's codes into words for the workbook; the web
// adapter passes its message catalog, so the workbook speaks the reader's
// language and shows an institution's own categories as the pages do.
type ReportLabels struct {
	T        func(key string, args ...any) string // the report's message keys (cpr.*, cp.*)
	Category func(code string) string
	Dept     string // the scope: the institution's name, or the departments'
}

// pct is a whole percentage for the workbook; -1 is "nothing to divide".
type pct int

// ReportXLSX writes report r as a workbook with one sheet per table: the
// overview, the milestones, the breakdowns, and for a quarter the monthly
// trend and the recurring causes. No complainant appears in it.
func ReportXLSX(r *Report, l ReportLabels) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	pctStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 9})
	first := true
	sheet := func(name string, widths ...float64) string {
		if first {
			f.SetSheetName("Sheet1", name)
			first = false
		} else {
			f.NewSheet(name)
		}
		for i, w := range widths {
			col, _ := excelize.ColumnNumberToName(i + 1)
			f.SetColWidth(name, col, col, w)
		}
		return name
	}
	// put writes one row; a pct value is a percentage Excel formats, or a
	// dash when there is nothing to divide.
	put := func(sh string, row int, vals ...any) {
		for i, v := range vals {
			cell, _ := excelize.CoordinatesToCellName(i+1, row)
			if p, ok := v.(pct); ok {
				if p < 0 {
					v = "—"
				} else {
					v = float64(p) / 100
					f.SetCellStyle(sh, cell, cell, pctStyle)
				}
			}
			f.SetCellValue(sh, cell, v)
		}
	}
	head := func(sh string, row int, vals ...any) {
		put(sh, row, vals...)
		a, _ := excelize.CoordinatesToCellName(1, row)
		b, _ := excelize.CoordinatesToCellName(len(vals), row)
		f.SetCellStyle(sh, a, b, bold)
	}

	over := sheet(l.T("cpr.sheet.overview"), 34, 18)
	avg := any("—")
	if d := r.AvgFeedbackDays(); d >= 0 {
		avg = d
	}
	for i, x := range [][2]any{
		{l.T("cpr.period"), r.Period.From.String() + " – " + r.Period.Last().String()},
		{l.T("cpr.scope"), l.Dept},
		{l.T("cpr.as_of"), r.At.In(r.zone()).Format("2006-01-02 15:04")},
		{l.T("cpr.received"), r.Received},
		{l.T("cpr.open"), r.Open},
		{l.T("cpr.archived"), r.Archived},
		{l.T("cpr.closed_in_period"), r.ClosedInPeriod},
		{l.T("cpr.closure_rate"), pct(r.ClosureRate())},
		{l.T("cpr.on_time_rate"), pct(r.OnTimeRate())},
		{l.T("cpr.escalations"), r.Escalations},
		{l.T("cpr.accountability"), r.Accountability},
		{l.T("cp.grade.satisfied"), r.Satisfied},
		{l.T("cp.grade.basic"), r.Basic},
		{l.T("cp.grade.dissatisfied"), r.Dissatisfied},
		{l.T("cpr.satisfaction_rate"), pct(r.SatisfactionRate())},
		{l.T("cpr.avg_feedback_days"), avg},
	} {
		put(over, i+1, x[0], x[1])
	}

	ms := sheet(l.T("cpr.sheet.milestones"), 24, 12, 12, 12, 14, 14, 14)
	head(ms, 1, l.T("cpr.milestone"), l.T("cpr.due"), l.T("cpr.on_time"), l.T("cpr.late"), l.T("cpr.on_time_rate"),
		l.T("cpr.pending"), l.T("cpr.skipped"))
	for i, m := range r.Milestones {
		put(ms, i+2, l.T("cp.m."+m.Milestone), m.Due(), m.OnTime, m.Late, pct(m.Rate()), m.Pending, m.Skipped)
	}

	breakdown := func(title string, cs []Count, name func(Count) string) {
		sh := sheet(title, 28, 12, 12)
		head(sh, 1, title, l.T("cpr.count"), l.T("cpr.share"))
		for i, c := range cs {
			put(sh, i+2, name(c), c.N, pct(percent(c.N, r.Received)))
		}
	}
	breakdown(l.T("cp.category"), r.ByCategory, func(c Count) string { return l.Category(c.Key) })
	breakdown(l.T("cpr.department"), r.ByDepartment, func(c Count) string { return c.Name })
	breakdown(l.T("cp.channel"), r.ByChannel, func(c Count) string { return l.T("cp.ch." + c.Key) })
	breakdown(l.T("cp.severity"), r.BySeverity, func(c Count) string { return l.T("cp.sev." + c.Key) })

	if r.Period.Kind == Quarter {
		tr := sheet(l.T("cpr.sheet.trend"), 14, 12, 14, 14, 14, 14)
		head(tr, 1, l.T("cpr.month"), l.T("cpr.received"), l.T("cpr.on_time_rate"), l.T("cpr.closure_rate"),
			l.T("cpr.satisfaction_rate"), l.T("cpr.escalations"))
		for i, m := range r.Months {
			put(tr, i+2, m.Period.Key(), m.Received, pct(m.OnTimeRate()), pct(m.ClosureRate()), pct(m.SatisfactionRate()), m.Escalations)
		}
		cs := sheet(l.T("cpr.sheet.causes"), 20, 24, 12)
		head(cs, 1, l.T("cp.category"), l.T("cpr.department"), l.T("cpr.count"))
		for i, c := range r.TopCauses {
			put(cs, i+2, l.Category(c.Category), c.Name, c.N)
		}
		ts := sheet(l.T("cpr.sheet.terms"), 20, 12)
		head(ts, 1, l.T("cpr.term"), l.T("cpr.term_n"))
		for i, t := range r.TopTerms {
			put(ts, i+2, t.Text, t.N)
		}
	}
	data, err := workbook.Bytes(f)
	if err != nil {
		return nil, fmt.Errorf("complaint: write report workbook: %w", err)
	}
	return data, nil
}

// zone is the institution's zone; China time for a report built without one.
func (r *Report) zone() *time.Location {
	if r.Loc != nil {
		return r.Loc
	}
	return time.FixedZone("CST", 8*3600)
}
