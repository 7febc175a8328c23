package web

// Complaint reports (投诉统计): the weekly summary, the monthly statistics
// and the quarterly analysis of internal/complaint's Report, with SVG
// charts, a print stylesheet and the Excel workbook.

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"suifang/internal/complaint"
	"suifang/internal/org"
)

// cpCategories names complaint categories with the institution's own
// list (custom ones included), so reports and pages agree. Every category
// the reports show goes through it.
func (s *Server) cpCategories(ctx context.Context, inst int64, lang string) (func(code string) string, error) {
	cats, err := s.Complaints.Categories(ctx, inst)
	if err != nil {
		return nil, err
	}
	return func(code string) string { return cats.Name(lang, code) }, nil
}

// cpPct shows a percentage, or a dash when there was nothing to divide.
func cpPct(p int) string {
	if p < 0 {
		return "—"
	}
	return strconv.Itoa(p) + "%"
}

// cpReportURL is the report page (or workbook) of period p.
func cpReportURL(path string, inst int64, p complaint.Period) string {
	v := url.Values{}
	if inst != 0 {
		v.Set("inst", strconv.FormatInt(inst, 10))
	}
	v.Set("period", string(p.Kind))
	v.Set("from", p.Key())
	return withQuery(path, v)
}

type cpReportKind struct {
	Kind    complaint.PeriodKind
	URL     string
	Current bool
}

type cpReportCount struct {
	Label string
	N     int
	Share string
}

type cpReportMilestone struct {
	complaint.MilestoneRate
	Label string
	Rate  string
	Bad   bool
}

type cpReportMonth struct {
	Label                         string
	Received                      int
	OnTime, Closure, Satisfaction string
	Escalations                   int
	Current                       bool
}

type cpReportCompare struct {
	Label      string
	This, Prev string
	Change     string
	Worse      bool
}

type cpReportCause struct {
	Category string
	Dept     string
	N        int
}

type cpReportData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	R          *complaint.Report
	Kind       complaint.PeriodKind
	Label      string
	Range      string
	AsOf       string
	Scope      string
	Kinds      []cpReportKind
	PrevURL    string
	NextURL    string
	ExcelURL   string
	From       string // the jump field as typed
	Stats      []cpReportStat
	Milestones []cpReportMilestone
	Categories []cpReportCount
	Depts      []cpReportCount
	Channels   []cpReportCount
	Severities []cpReportCount
	Months     []cpReportMonth
	Compare    []cpReportCompare
	Causes     []cpReportCause
	Terms      []complaint.Term
	Charts     map[string]template.HTML
}

type cpReportStat struct {
	Key   string // message key of the label
	Value string
	Bad   bool
}

// cpPeriodLabel names period p in the reader's language.
func (s *Server) cpPeriodLabel(lang string, p complaint.Period) string {
	switch p.Kind {
	case complaint.Week:
		y, w := p.From.In(cst).ISOWeek()
		return s.cat.T(lang, "cpr.label.week", y, w)
	case complaint.Quarter:
		return s.cat.T(lang, "cpr.label.quarter", p.From.Year, (int(p.From.Month)-1)/3+1)
	}
	return s.cat.T(lang, "cpr.label.month", p.From.Year, int(p.From.Month))
}

// cpReportInput reads the institution and the period of a report request; a
// bad period comes back as a field error together with the current one.
func (s *Server) cpReportInput(r *http.Request, q *req) (*org.Institution, []*org.Institution, complaint.Period, error, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, nil, complaint.Period{}, nil, err
	}
	_, today, err := s.instToday(r.Context(), inst.ID)
	if err != nil {
		return nil, nil, complaint.Period{}, nil, err
	}
	v := r.URL.Query()
	per, perr := complaint.ParsePeriod(v.Get("period"), v.Get("from"), today)
	if perr != nil {
		kind := complaint.PeriodKind(v.Get("period"))
		if kind != complaint.Week && kind != complaint.Quarter {
			kind = complaint.Month
		}
		per = complaint.PeriodOf(kind, today)
	}
	return inst, insts, per, perr, nil
}

func (s *Server) complaintReports(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, per, perr, err := s.cpReportInput(r, q)
	if err != nil {
		return err
	}
	rep, err := s.Complaints.Report(r.Context(), q.P, inst.ID, per)
	if err != nil {
		return err
	}
	d, err := s.cpReportPage(r, q, inst, insts, rep)
	if err != nil {
		return err
	}
	if perr != nil {
		d.From = r.URL.Query().Get("from")
		return s.renderForm(w, r, q, "complaint_reports", "complaint_reports", d, perr)
	}
	return s.render(w, r, q, http.StatusOK, "complaint_reports", "complaint_reports", d)
}

func (s *Server) cpReportPage(r *http.Request, q *req, inst *org.Institution, insts []*org.Institution, rep *complaint.Report) (*cpReportData, error) {
	lang := q.Lang
	per := rep.Period
	instParam := int64(0)
	if len(insts) > 1 {
		instParam = inst.ID
	}
	catName, err := s.cpCategories(r.Context(), inst.ID, lang)
	if err != nil {
		return nil, err
	}
	pol, _, err := s.instToday(r.Context(), inst.ID)
	if err != nil {
		return nil, err
	}
	d := &cpReportData{Inst: inst, Insts: insts, R: rep, Kind: per.Kind, Label: s.cpPeriodLabel(lang, per),
		Range: per.From.String() + " – " + per.Last().String(), AsOf: rep.At.In(pol.Loc).Format("2006-01-02 15:04"),
		PrevURL: cpReportURL("/complaints/reports", instParam, per.Prev()), NextURL: cpReportURL("/complaints/reports", instParam, per.Next()),
		ExcelURL: cpReportURL("/complaints/reports.xlsx", instParam, per), From: per.Key(), Charts: map[string]template.HTML{}}
	d.Scope = s.cpReportScope(r, q, inst, rep)
	for _, k := range complaint.PeriodKinds() {
		d.Kinds = append(d.Kinds, cpReportKind{Kind: k, URL: cpReportURL("/complaints/reports", instParam, complaint.PeriodOf(k, per.From)),
			Current: k == per.Kind})
	}
	f := &rep.Figures
	avg := "—"
	if a := f.AvgFeedbackDays(); a >= 0 {
		avg = strconv.FormatFloat(a, 'f', 1, 64)
	}
	d.Stats = []cpReportStat{
		{Key: "cpr.received", Value: strconv.Itoa(f.Received)},
		{Key: "cpr.open", Value: strconv.Itoa(f.Open)},
		{Key: "cpr.archived", Value: strconv.Itoa(f.Archived)},
		{Key: "cpr.closure_rate", Value: cpPct(f.ClosureRate()), Bad: rep.ClosureBelow()},
		{Key: "cpr.on_time_rate", Value: cpPct(f.OnTimeRate()), Bad: rep.OnTimeBelow()},
		{Key: "cpr.escalations", Value: strconv.Itoa(f.Escalations), Bad: f.Escalations > 0},
		{Key: "cpr.accountability", Value: strconv.Itoa(f.Accountability), Bad: f.Accountability > 0},
		{Key: "cpr.satisfaction_rate", Value: cpPct(f.SatisfactionRate()), Bad: rep.SatisfactionBelow()},
		{Key: "cpr.avg_feedback_days", Value: avg},
	}
	var msBars []bar
	for _, m := range f.Milestones {
		label := s.cat.T(lang, "cp.m."+m.Milestone)
		d.Milestones = append(d.Milestones, cpReportMilestone{MilestoneRate: m, Label: label, Rate: cpPct(m.Rate()),
			Bad: rep.MilestoneBelow(m)})
		if m.Due() > 0 {
			msBars = append(msBars, bar{Label: label, Value: m.Rate(), Caption: fmt.Sprintf("%d%% · %d/%d", m.Rate(), m.OnTime, m.Due()),
				Class: cpRateClass(rep.MilestoneBelow(m))})
		}
	}
	if len(msBars) > 0 {
		d.Charts["milestones"] = barChart(s.cat.T(lang, "cpr.chart.milestones"), msBars)
	}
	rows := func(cs []complaint.Count, name func(complaint.Count) string, skipZero bool) ([]cpReportCount, []bar) {
		var out []cpReportCount
		var bars []bar
		most := 0
		for _, c := range cs {
			most = max(most, c.N)
		}
		for _, c := range cs {
			if skipZero && c.N == 0 {
				continue
			}
			p := cpPct(cpPercent(c.N, f.Received))
			out = append(out, cpReportCount{Label: name(c), N: c.N, Share: p})
			if c.N > 0 {
				bars = append(bars, bar{Label: name(c), Value: c.N * 100 / max(most, 1), Caption: fmt.Sprintf("%d · %s", c.N, p)})
			}
		}
		return out, bars
	}
	var catBars, deptBars []bar
	d.Categories, catBars = rows(rep.ByCategory, func(c complaint.Count) string { return catName(c.Key) }, false)
	d.Depts, deptBars = rows(rep.ByDepartment, func(c complaint.Count) string { return c.Name }, true)
	d.Channels, _ = rows(rep.ByChannel, func(c complaint.Count) string { return s.cat.T(lang, "cp.ch."+c.Key) }, false)
	d.Severities, _ = rows(rep.BySeverity, func(c complaint.Count) string { return s.cat.T(lang, "cp.sev."+c.Key) }, false)
	if len(catBars) > 0 {
		d.Charts["categories"] = barChart(s.cat.T(lang, "cpr.by_category"), catBars)
	}
	if len(deptBars) > 0 {
		d.Charts["depts"] = barChart(s.cat.T(lang, "cpr.by_department"), deptBars[:min(len(deptBars), 12)])
	}
	if per.Kind == complaint.Quarter {
		s.cpQuarterData(lang, d, rep, catName)
	}
	return d, nil
}

func cpPercent(a, b int) int {
	if b <= 0 {
		return -1
	}
	return (a*100 + b/2) / b
}

// cpRateClass colours a bar by the report's flag (the target is the
// institution's, read by the complaint room).
func cpRateClass(below bool) string {
	if below {
		return "bad"
	}
	return "good"
}

// cpReportScope says whose complaints the report counts.
func (s *Server) cpReportScope(r *http.Request, q *req, inst *org.Institution, rep *complaint.Report) string {
	if len(rep.Departments) == 0 {
		return s.cat.T(q.Lang, "cpr.scope_inst", inst.Name)
	}
	var names []string
	for _, id := range rep.Departments {
		if dep, err := s.Org.Department(r.Context(), q.P, id); err == nil {
			names = append(names, dep.Name)
		}
	}
	return s.cat.T(q.Lang, "cpr.scope_depts", strings.Join(names, "、"))
}

// cpQuarterData adds the quarterly analysis: the six months' trend, this
// quarter against the last, and the recurring causes.
func (s *Server) cpQuarterData(lang string, d *cpReportData, rep *complaint.Report, catName func(string) string) {
	var labels []string
	received := cpSeries{Name: s.cat.T(lang, "cpr.received"), Class: "s-count"}
	onTime := cpSeries{Name: s.cat.T(lang, "cpr.on_time_rate"), Class: "s-ontime"}
	closure := cpSeries{Name: s.cat.T(lang, "cpr.closure_rate"), Class: "s-closure"}
	sat := cpSeries{Name: s.cat.T(lang, "cpr.satisfaction_rate"), Class: "s-sat"}
	for _, m := range rep.Months {
		label := m.Period.Key()
		labels = append(labels, label)
		d.Months = append(d.Months, cpReportMonth{Label: label, Received: m.Received, OnTime: cpPct(m.OnTimeRate()),
			Closure: cpPct(m.ClosureRate()), Satisfaction: cpPct(m.SatisfactionRate()), Escalations: m.Escalations,
			Current: rep.Period.Contains(m.Period.From)})
		received.Values = append(received.Values, m.Received)
		onTime.Values = append(onTime.Values, m.OnTimeRate())
		closure.Values = append(closure.Values, m.ClosureRate())
		sat.Values = append(sat.Values, m.SatisfactionRate())
	}
	most := 0
	for _, v := range received.Values {
		most = max(most, v)
	}
	d.Charts["trend_count"] = cpLineChart(s.cat.T(lang, "cpr.chart.trend_count"), labels, []cpSeries{received}, max(most, 1), "")
	d.Charts["trend_rates"] = cpLineChart(s.cat.T(lang, "cpr.chart.trend_rates"), labels, []cpSeries{onTime, closure, sat}, 100, "%")
	if p := rep.Previous; p != nil {
		cmpRate := func(key string, this, prev int, higherBetter bool) cpReportCompare {
			c := cpReportCompare{Label: s.cat.T(lang, key), This: cpPct(this), Prev: cpPct(prev), Change: "—"}
			if this >= 0 && prev >= 0 {
				c.Change = fmt.Sprintf("%+d", this-prev)
				c.Worse = (this < prev) == higherBetter && this != prev
			}
			return c
		}
		cmpCount := func(key string, this, prev int) cpReportCompare {
			return cpReportCompare{Label: s.cat.T(lang, key), This: strconv.Itoa(this), Prev: strconv.Itoa(prev),
				Change: fmt.Sprintf("%+d", this-prev), Worse: this > prev}
		}
		f := &rep.Figures
		d.Compare = []cpReportCompare{
			cmpCount("cpr.received", f.Received, p.Received),
			cmpRate("cpr.on_time_rate", f.OnTimeRate(), p.OnTimeRate(), true),
			cmpRate("cpr.closure_rate", f.ClosureRate(), p.ClosureRate(), true),
			cmpRate("cpr.satisfaction_rate", f.SatisfactionRate(), p.SatisfactionRate(), true),
			cmpCount("cpr.escalations", f.Escalations, p.Escalations),
			cmpCount("cpr.accountability", f.Accountability, p.Accountability),
		}
	}
	for _, c := range rep.TopCauses {
		d.Causes = append(d.Causes, cpReportCause{Category: catName(c.Category), Dept: c.Name, N: c.N})
	}
	d.Terms = rep.TopTerms
}

// cpSeries is one line of a trend chart; a negative value is a gap (no data).
type cpSeries struct {
	Name   string
	Class  string
	Values []int
}

// cpLineChart draws cpSeries over labelled points on a 0..top scale, with a
// legend: no script, and it prints. Colours come from classes in app.css.
func cpLineChart(title string, labels []string, ss []cpSeries, top int, unit string) template.HTML {
	const w, h, left, right, topPad, bottom = 640, 240, 44, 36, 14, 48
	plotW, plotH := w-left-right, h-topPad-bottom
	x := func(i int) int {
		if len(labels) < 2 {
			return left + plotW/2
		}
		return left + i*plotW/(len(labels)-1)
	}
	y := func(v int) int { return topPad + plotH - min(v, top)*plotH/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart line-chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	for _, g := range []int{0, top / 2, top} {
		fmt.Fprintf(&b, `<line class="chart-grid" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, y(g), w-right, y(g))
		fmt.Fprintf(&b, `<text class="chart-cap" x="%d" y="%d" text-anchor="end">%d%s</text>`, left-6, y(g)+4, g, unit)
	}
	for i, l := range labels {
		fmt.Fprintf(&b, `<text class="chart-label" x="%d" y="%d" text-anchor="middle">%s</text>`, x(i), topPad+plotH+18, html.EscapeString(l))
	}
	for _, s := range ss {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="chart-line %s" points="%s"/>`, s.Class, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range s.Values {
			if v < 0 {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%d,%d", x(i), y(v)))
			fmt.Fprintf(&b, `<circle class="chart-dot %s" cx="%d" cy="%d" r="3"><title>%s %s: %d%s</title></circle>`, s.Class, x(i), y(v),
				html.EscapeString(s.Name), html.EscapeString(labels[i]), v, unit)
		}
		flush()
	}
	// The legend under the axis.
	lx := left
	for _, s := range ss {
		fmt.Fprintf(&b, `<rect class="chart-key %s" x="%d" y="%d" width="12" height="4"/>`, s.Class, lx, h-12)
		fmt.Fprintf(&b, `<text class="chart-cap" x="%d" y="%d">%s</text>`, lx+16, h-7, html.EscapeString(s.Name))
		lx += 16 + 14*len([]rune(s.Name)) + 18
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

func (s *Server) complaintReportsXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, _, per, perr, err := s.cpReportInput(r, q)
	if err != nil {
		return err
	}
	if perr != nil {
		return perr
	}
	rep, err := s.Complaints.Report(r.Context(), q.P, inst.ID, per)
	if err != nil {
		return err
	}
	scope := s.cpReportScope(r, q, inst, rep)
	catName, err := s.cpCategories(r.Context(), inst.ID, q.Lang)
	if err != nil {
		return err
	}
	data, err := complaint.ReportXLSX(rep, complaint.ReportLabels{
		T:        func(key string, args ...any) string { return s.cat.T(q.Lang, key, args...) },
		Category: catName,
		Dept:     scope,
	})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("complaints-%s-%s.xlsx", inst.Code, per.Key())
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name,
		url.PathEscape(inst.Name+"-"+s.cpPeriodLabel(q.Lang, per)+".xlsx")))
	_, err = w.Write(data)
	return err
}
