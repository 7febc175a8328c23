package web

// The follow-up KPI dashboard (随访指标看板, issue 12): an institution's or
// a group's month against last month and the same month last year, a
// 12-month trend, and the department ranking with red flags. Every figure
// comes from internal/kpi, which checks scope.

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"suifang/internal/calendar"
	"suifang/internal/kpi"
	"suifang/internal/org"
)

// kpiMetric is one KPI of the dashboard: its catalog key, how it is read
// from a row, and the Below flag that marks it red.
type kpiMetric struct {
	Key  string
	Get  func(r *kpi.Row) *float64
	Flag string
	NPS  bool // on the −100…100 scale, not a percentage
}

var kpiMetrics = []kpiMetric{
	{Key: "kpi.coverage", Get: func(r *kpi.Row) *float64 { return r.Coverage }, Flag: kpi.KCoverage},
	{Key: "kpi.first_contact", Get: func(r *kpi.Row) *float64 { return r.FirstContactRate }, Flag: kpi.KFirstContact},
	{Key: "kpi.level1", Get: func(r *kpi.Row) *float64 { return r.Level1Rate }},
	{Key: "kpi.level2", Get: func(r *kpi.Row) *float64 { return r.Level2Rate }},
	{Key: "kpi.level3", Get: func(r *kpi.Row) *float64 { return r.Level3Rate }},
	{Key: "kpi.satisfaction", Get: func(r *kpi.Row) *float64 { return r.SatisfactionRate }, Flag: kpi.KSatisfaction},
	{Key: "kpi.nps", Get: func(r *kpi.Row) *float64 { return r.NPS }, NPS: true},
}

// kpiFmt shows a rate as a percentage with one decimal (NPS as a signed
// number), or a dash when there was nothing to divide.
func kpiFmt(v *float64, nps bool) string {
	if v == nil {
		return "—"
	}
	if nps {
		return strconv.FormatFloat(*v, 'f', 1, 64)
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

type kpiCell struct {
	Text string
	URL  string
	Bad  bool
}

type kpiCompare struct {
	Label              string
	This, Prev, LastYr kpiCell
}

type kpiDeptRow struct {
	Name       string
	Discharges kpiCell
	Due        kpiCell
	Covered    kpiCell
	Rates      []kpiCell
}

type kpiData struct {
	Inst      *org.Institution
	Insts     []*org.Institution
	Group     bool
	Month     string
	Range     string
	PrevURL   string
	NextURL   string
	Compare   []kpiCompare
	Heads     []string
	Rows      []kpiDeptRow
	Total     kpiDeptRow
	Trend     template.HTML
	TrendRows []kpiTrendRow
	Targets   [3]string // coverage, first contact, satisfaction, as percentages
}

type kpiTrendRow struct {
	Month string
	Cells []string
}

func kpiURL(inst int64, m kpi.Month) string {
	v := url.Values{}
	if inst != 0 {
		v.Set("inst", strconv.FormatInt(inst, 10))
	}
	v.Set("month", m.String())
	return withQuery("/kpi", v)
}

// prevMonth is the month before m.
func prevMonth(m kpi.Month) kpi.Month {
	if m.Month == 1 {
		return kpi.Month{Year: m.Year - 1, Month: 12}
	}
	return kpi.Month{Year: m.Year, Month: m.Month - 1}
}

func (s *Server) kpiDashboard(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	// The zone of a hospital: a group's first member's (members of one
	// group share a country; the month is a label, not an instant).
	zoneInst := inst.ID
	if inst.Kind == org.KindGroup {
		for _, i := range insts {
			if i.ParentID == inst.ID && i.Kind != org.KindGroup {
				zoneInst = i.ID
				break
			}
		}
	}
	_, today, err := s.instToday(ctx, zoneInst)
	if err != nil {
		return err
	}
	m := prevMonth(kpi.MonthOf(today))
	var merr error
	if v := r.URL.Query().Get("month"); v != "" {
		pm, err := kpi.ParseMonth(v)
		if err != nil {
			merr = err
		} else {
			m = pm
		}
	}
	rep, err := s.KPI.ReportByCode(ctx, q.P, inst.Code, m)
	if err != nil {
		return err
	}
	last, err := s.KPI.ReportByCode(ctx, q.P, inst.Code, prevMonth(m))
	if err != nil {
		return err
	}
	lastYr, err := s.KPI.ReportByCode(ctx, q.P, inst.Code, m.LastYear())
	if err != nil {
		return err
	}
	instParam := int64(0)
	if len(insts) > 1 {
		instParam = inst.ID
	}
	lastDay := calendar.Date{Year: m.Next().Year, Month: m.Next().Month, Day: 1}.AddDays(-1)
	d := &kpiData{Inst: inst, Insts: insts, Group: rep.Group, Month: m.String(),
		Targets: [3]string{bpPct(rep.Targets.Coverage), bpPct(rep.Targets.FirstContact), bpPct(rep.Targets.Satisfaction)},
		Range:   m.First().String() + " – " + lastDay.String(),
		PrevURL: kpiURL(instParam, prevMonth(m)), NextURL: kpiURL(instParam, m.Next())}
	for _, k := range kpiMetrics {
		d.Heads = append(d.Heads, k.Key)
		cell := func(rw *kpi.Row) kpiCell {
			return kpiCell{Text: kpiFmt(k.Get(rw), k.NPS), Bad: k.Flag != "" && slices.Contains(rw.Below, k.Flag)}
		}
		d.Compare = append(d.Compare, kpiCompare{Label: s.cat.T(q.Lang, k.Key), This: cell(&rep.Total), Prev: cell(&last.Total), LastYr: cell(&lastYr.Total)})
	}
	// The ranking: coverage first, highest first; no figure sorts last.
	rows := slices.Clone(rep.Departments)
	slices.SortStableFunc(rows, func(a, b kpi.Row) int {
		av, bv := -1.0, -1.0
		if a.Coverage != nil {
			av = *a.Coverage
		}
		if b.Coverage != nil {
			bv = *b.Coverage
		}
		switch {
		case av > bv:
			return -1
		case av < bv:
			return 1
		}
		return 0
	})
	from, to := m.First().String(), lastDay.String()
	row := func(rw *kpi.Row, link bool) kpiDeptRow {
		out := kpiDeptRow{Name: rw.Name}
		var recs, tasks string // tasks: a group member's own dashboard
		if link && !rep.Group {
			// The department's records of the month (the worklist has no
			// department filter yet, so counts of stays stay plain text);
			// the record browser checks the viewer's scope again.
			v := url.Values{"dept": {strconv.FormatInt(rw.ID, 10)}, "from": {from}, "to": {to}}
			if instParam != 0 {
				v.Set("inst", strconv.FormatInt(instParam, 10))
			}
			recs = withQuery("/followup/records", v)
		}
		if link && rep.Group {
			recs = kpiURL(rw.ID, m)
			tasks = recs
		}
		out.Discharges = kpiCell{Text: strconv.Itoa(rw.Discharges), URL: tasks}
		out.Due = kpiCell{Text: strconv.Itoa(rw.Due), URL: tasks}
		out.Covered = kpiCell{Text: strconv.Itoa(rw.Covered), URL: recs}
		for _, k := range kpiMetrics {
			out.Rates = append(out.Rates, kpiCell{Text: kpiFmt(k.Get(rw), k.NPS), URL: recs, Bad: k.Flag != "" && slices.Contains(rw.Below, k.Flag)})
		}
		return out
	}
	for i := range rows {
		d.Rows = append(d.Rows, row(&rows[i], true))
	}
	d.Total = row(&rep.Total, false)
	d.Total.Name = s.cat.T(q.Lang, "kpi.total")
	// The 12-month trend, oldest first, ending at the month shown.
	months := make([]kpi.Month, 12)
	months[11] = m
	for i := 10; i >= 0; i-- {
		months[i] = prevMonth(months[i+1])
	}
	labels := make([]string, 12)
	cov, first, sat := make([]int, 12), make([]int, 12), make([]int, 12)
	pct := func(v *float64) int {
		if v == nil {
			return -1
		}
		return int(*v*100 + 0.5)
	}
	trend, err := s.KPI.TrendByCode(ctx, q.P, inst.Code, months[0], len(months))
	if err != nil {
		return err
	}
	for i, mm := range months {
		tr := &trend[i]
		labels[i] = fmt.Sprintf("%02d", int(mm.Month))
		cov[i], first[i], sat[i] = pct(tr.Coverage), pct(tr.FirstContactRate), pct(tr.SatisfactionRate)
		row := kpiTrendRow{Month: mm.String()}
		for _, k := range kpiMetrics {
			row.Cells = append(row.Cells, kpiFmt(k.Get(tr), k.NPS))
		}
		d.TrendRows = append(d.TrendRows, row)
	}
	d.Trend = cpLineChart(s.cat.T(q.Lang, "kpi.trend"), labels, []cpSeries{
		{Name: s.cat.T(q.Lang, "kpi.coverage"), Class: "s-count", Values: cov},
		{Name: s.cat.T(q.Lang, "kpi.first_contact"), Class: "s-ontime", Values: first},
		{Name: s.cat.T(q.Lang, "kpi.satisfaction"), Class: "s-sat", Values: sat},
	}, 100, "%")
	if merr != nil {
		return s.renderForm(w, r, q, "kpi_dashboard", "kpi", d, merr)
	}
	return s.render(w, r, q, http.StatusOK, "kpi_dashboard", "kpi", d)
}

// bpPct shows basis points as a percentage (9000 → "90%").
func bpPct(bp int) string {
	return strconv.FormatFloat(float64(bp)/100, 'f', -1, 64) + "%"
}
