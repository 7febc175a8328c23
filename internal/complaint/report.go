package complaint

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/kpi"
	"suifang/internal/store"
)

// Reports (投诉统计): the weekly summary, the monthly statistics and the
// quarterly analysis. Every figure is about the complaints RECEIVED in the
// period, as they stand when the report is made: a complaint received on
// 30 September and answered on 8 October counts in September's report,
// and September's report made in November shows it answered. That keeps
// one population per period, so the rates add up and a report can be
// re-run without double counting.

// Count is one row of a breakdown.
type Count struct {
	Key          string // category, channel or severity code
	DepartmentID int64  // for the department breakdown
	Name         string // the department's name
	N            int
}

// MilestoneRate is how one SLA milestone fared: a milestone met before its
// deadline is on time; met after it, or passed and still unmet, is late.
// Milestones not yet due, waiting on a paused clock, or no longer owed (an
// archived complaint that skipped rectification) are left out.
type MilestoneRate struct {
	Milestone        string
	OnTime, Late     int
	Pending, Skipped int // not yet due or paused; no longer owed
}

// Due is how many of the milestone's deadlines count.
func (m MilestoneRate) Due() int { return m.OnTime + m.Late }

// Rate is the on-time rate in percent; -1 when nothing was due.
func (m MilestoneRate) Rate() int { return percent(m.OnTime, m.Due()) }

// percent rounds a/b to a whole percent; -1 when b is 0.
func percent(a, b int) int {
	if b <= 0 {
		return -1
	}
	return (a*100 + b/2) / b
}

// Figures are one period's numbers, comparable between periods.
type Figures struct {
	Received int
	Open     int // received in the period, not archived now
	Archived int // received in the period, archived now
	// ClosedInPeriod were received and archived within the period: the
	// closure rate's numerator.
	ClosedInPeriod int
	Milestones     []MilestoneRate // in Milestones() order
	Escalations    int             // escalations of these complaints so far
	Accountability int             // accountability reviews (责任倒查) opened
	// The complainant's satisfaction with the handling.
	Satisfied, Basic, Dissatisfied int
	// Working days from receipt to the first feedback, over FeedbackN
	// complaints (days counted from the day after receipt, as deadlines are).
	FeedbackN, FeedbackDays int
}

func newFigures() Figures {
	f := Figures{}
	for _, m := range Milestones() {
		f.Milestones = append(f.Milestones, MilestoneRate{Milestone: m})
	}
	return f
}

// ClosureRate is the share archived within the period, in percent.
func (f *Figures) ClosureRate() int { return percent(f.ClosedInPeriod, f.Received) }

// OnTime pools every milestone: deadlines met in time and deadlines due.
func (f *Figures) OnTime() (onTime, due int) {
	for _, m := range f.Milestones {
		onTime += m.OnTime
		due += m.Due()
	}
	return onTime, due
}

// OnTimeRate is the pooled on-time rate in percent; -1 when nothing was due.
func (f *Figures) OnTimeRate() int { return percent(f.OnTime()) }

// Graded is how many complainants gave their satisfaction.
func (f *Figures) Graded() int { return f.Satisfied + f.Basic + f.Dissatisfied }

// SatisfactionRate is (satisfied + basically satisfied) ÷ graded, in
// percent; -1 when none graded.
func (f *Figures) SatisfactionRate() int { return percent(f.Satisfied+f.Basic, f.Graded()) }

// AvgFeedbackDays is the mean working days to feedback, one decimal; -1
// when none was given feedback.
func (f *Figures) AvgFeedbackDays() float64 {
	if f.FeedbackN == 0 {
		return -1
	}
	return float64((f.FeedbackDays*10*2+f.FeedbackN)/(2*f.FeedbackN)) / 10
}

// Cause is a category in a department, a recurring cause of complaints.
type Cause struct {
	Category     string
	DepartmentID int64
	Name         string
	N            int
}

// MonthFigures are one month's figures of a quarterly analysis.
type MonthFigures struct {
	Period Period
	Figures
}

// Report is one period's complaint report.
type Report struct {
	InstitutionID int64
	Period        Period
	// Departments is the department scope of a department head (their
	// departments and wards); nil for the whole institution.
	Departments []int64
	At          time.Time // the figures stand as of this instant
	// Loc is the institution's zone: the workbook prints At in it, as the
	// page does.
	Loc *time.Location
	Figures
	ByCategory, ByChannel, BySeverity []Count // every code, in form order
	ByDepartment                      []Count // each involved department, most first
	// Quarterly analysis only.
	Previous  *Figures       // the quarter before
	Months    []MonthFigures // the previous quarter's months, then this one's
	TopCauses []Cause        // category × department, most first
	TopTerms  []Term         // words and bigrams of the complaints' text
	// Targets are the institution's KPI targets when the report was made.
	Targets kpi.Targets
}

// topCauses and topTerms bound the quarterly lists.
const topCauses, topTerms = 8, 12

// reportScope: quality and leadership see the institution, a department
// head their departments (and their wards); nobody else reads reports.
func reportScope(p *access.Principal, inst int64) ([]int64, error) {
	if p.HasAny(access.Quality, access.Leadership) && p.SeesInstitution(inst) {
		return nil, nil
	}
	if p.Has(access.DeptHead) {
		if p.SeesInstitution(inst) {
			return nil, nil
		}
		if ds := deptGrants(p, inst); len(ds) > 0 {
			return ds, nil
		}
	}
	return nil, errs.New(errs.Forbidden, "complaint_report_forbidden", "complaint reports are for quality, leadership and department heads")
}

// CanReport reports whether p may read complaint reports of inst (for
// showing the link).
func CanReport(p *access.Principal, inst int64) bool {
	_, err := reportScope(p, inst)
	return err == nil
}

// reported is what a report reads of one complaint.
type reported struct {
	*Complaint
	escalations int
}

// Report makes the report of period per for institution inst, within p's
// scope. Deadlines come from the SLA engine (Clocks), so a milestone is
// judged exactly as the complaint's page and the escalation worker judge it.
func (s *Service) Report(ctx context.Context, p *access.Principal, inst int64, per Period) (*Report, error) {
	depts, err := reportScope(p, inst)
	if err != nil {
		return nil, err
	}
	if per.Kind == "" || !per.From.Before(per.To) {
		return nil, errs.Field("from", "bad_period", "choose a period")
	}
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return nil, err
	}
	pols, err := s.policies(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	loc := pol.Loc
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	// A quarter compares itself with the quarter before: read both at once.
	load := per
	if per.Kind == Quarter {
		load.From = per.Prev().From
	}
	cs, err := s.reportRows(ctx, inst, depts, load.From.In(loc), load.To.In(loc), per.Kind == Quarter)
	if err != nil {
		return nil, err
	}
	names, err := s.deptNames(ctx, inst)
	if err != nil {
		return nil, err
	}
	tg, err := s.targetsOf(ctx, inst)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r := &Report{InstitutionID: inst, Period: per, Departments: depts, At: now, Loc: loc, Figures: newFigures(), Targets: tg}
	prev := newFigures()
	var months []MonthFigures
	if per.Kind == Quarter {
		for _, m := range append(per.Prev().Months(), per.Months()...) {
			months = append(months, MonthFigures{Period: m, Figures: newFigures()})
		}
	}
	byCat, byCh, bySev, byDept := map[string]int{}, map[string]int{}, map[string]int{}, map[int64]int{}
	causes := map[Cause]int{}
	var texts []string
	for _, c := range cs {
		clocks := Clocks(pol, choose(pols, c.Complaint), c.Complaint, now)
		day := calendar.DateOf(c.ReceivedAt.In(loc))
		for i := range months {
			if months[i].Period.Contains(day) {
				months[i].add(c, clocks, months[i].Period, loc, pol.Cal)
			}
		}
		if !per.Contains(day) {
			prev.add(c, clocks, per.Prev(), loc, pol.Cal)
			continue
		}
		r.add(c, clocks, per, loc, pol.Cal)
		byCat[c.Category]++
		byCh[c.Channel]++
		bySev[c.Severity]++
		for _, d := range c.DepartmentIDs {
			byDept[d]++
			causes[Cause{Category: c.Category, DepartmentID: d}]++
		}
		if c.Content != "" {
			texts = append(texts, c.Content)
		}
	}
	r.ByCategory = countsOf(Categories(), byCat)
	r.ByChannel = countsOf(Channels(), byCh)
	r.BySeverity = countsOf(Severities(), bySev)
	for d, n := range byDept {
		r.ByDepartment = append(r.ByDepartment, Count{Key: fmt.Sprint(d), DepartmentID: d, Name: names[d], N: n})
	}
	slices.SortFunc(r.ByDepartment, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Name, b.Name), cmp.Compare(a.DepartmentID, b.DepartmentID))
	})
	if per.Kind == Quarter {
		r.Previous, r.Months = &prev, months
		for k, n := range causes {
			k.N, k.Name = n, names[k.DepartmentID]
			r.TopCauses = append(r.TopCauses, k)
		}
		catOrder := func(c string) int { return slices.Index(Categories(), c) }
		slices.SortFunc(r.TopCauses, func(a, b Cause) int {
			return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(catOrder(a.Category), catOrder(b.Category)), cmp.Compare(a.Category, b.Category),
				cmp.Compare(a.Name, b.Name), cmp.Compare(a.DepartmentID, b.DepartmentID))
		})
		r.TopCauses = r.TopCauses[:min(len(r.TopCauses), topCauses)]
		r.TopTerms = TopTerms(texts, topTerms)
	}
	return r, nil
}

// add counts complaint c, received in period per, into f.
func (f *Figures) add(c reported, clocks []Clock, per Period, loc *time.Location, cal *calendar.Calendar) {
	f.Received++
	if c.Status == Archived {
		f.Archived++
		if c.ArchivedAt.Before(per.To.In(loc)) {
			f.ClosedInPeriod++
		}
	} else {
		f.Open++
	}
	for _, cl := range clocks {
		i := milestoneIndex(cl.Milestone)
		if i < 0 {
			continue
		}
		m := &f.Milestones[i]
		switch {
		case cl.Colour == MetLate || cl.Colour == Red:
			m.Late++
		case !cl.MetAt.IsZero():
			m.OnTime++
		case cl.Colour == Met: // unmet but archived: no longer owed
			m.Skipped++
		default: // green, amber, paused: not due yet
			m.Pending++
		}
	}
	f.Escalations += c.escalations
	if c.Accountability {
		f.Accountability++
	}
	switch c.Satisfaction {
	case "satisfied":
		f.Satisfied++
	case "basic":
		f.Basic++
	case "dissatisfied":
		f.Dissatisfied++
	}
	if !c.FeedbackAt.IsZero() && cal != nil {
		f.FeedbackN++
		f.FeedbackDays += max(0, cal.WorkingDaysBetween(calendar.DateOf(c.ReceivedAt.In(loc)), calendar.DateOf(c.FeedbackAt.In(loc))))
	}
}

// milestoneIndex is m's place in Milestones(); -1 for none.
func milestoneIndex(m string) int {
	switch m {
	case MAccepted:
		return 0
	case MAssessed:
		return 1
	case MPlan:
		return 2
	case MAnswerSimple:
		return 3
	case MFeedback:
		return 4
	case MClosed:
		return 5
	case MRectified:
		return 6
	case MAnswerComplex:
		return 7
	}
	return -1
}

// countsOf lists every code in order with its count, then any code the
// list does not know (a category an institution added) by count.
func countsOf(order []string, n map[string]int) []Count {
	out := make([]Count, 0, len(order))
	for _, k := range order {
		out = append(out, Count{Key: k, N: n[k]})
	}
	var extra []Count
	for k, v := range n {
		if !slices.Contains(order, k) {
			extra = append(extra, Count{Key: k, N: v})
		}
	}
	slices.SortFunc(extra, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
	return append(out, extra...)
}

// reportCols are the columns a report needs: no contact, so nothing sealed
// is opened.
const reportCols = `c.id, c.channel, c.category, c.severity, c.complexity, c.department_id, c.status, c.received_at, c.paused,
	c.accepted_at, c.assessed_at, c.plan_at, c.feedback_at, c.closed_at, c.rectified_at, c.archived_at, c.satisfaction, c.accountability`

// reportRows reads the complaints of inst received in [from, to) (within
// depts when given) with their departments, pauses and escalation counts.
// The details are read by joining on the same range, not by listing ids,
// so a month of 20,000 complaints is four queries.
func (s *Service) reportRows(ctx context.Context, inst int64, depts []int64, from, to time.Time, withText bool) ([]reported, error) {
	q := s.db.R()
	args := []any{inst, store.Micros(from), store.Micros(to)}
	// A duplicate merged into another complaint is counted once, as its primary.
	rng := `c.institution_id = $1 AND c.received_at >= $2 AND c.received_at < $3 AND c.status <> '` + Merged + `'`
	where := rng
	if len(depts) > 0 {
		ph := make([]string, len(depts))
		for i, d := range depts {
			args = append(args, d)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		in := strings.Join(ph, ",")
		// A grant on a department covers its wards, as in the lists.
		where += ` AND EXISTS (SELECT 1 FROM complaint_departments cd JOIN departments dd ON dd.id = cd.department_id
			WHERE cd.complaint_id = c.id AND (cd.department_id IN (` + in + `) OR dd.parent_id IN (` + in + `)))`
	}
	cols := reportCols
	if withText {
		cols += ", c.content"
	}
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM complaints c WHERE `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: report: %w", err)
	}
	var out []reported
	byID := map[int64]*Complaint{}
	for rows.Next() {
		c := &Complaint{InstitutionID: inst}
		var rec, acc, ass, plan, fb, closed, rect, arch int64
		dest := []any{&c.ID, &c.Channel, &c.Category, &c.Severity, &c.Complexity, &c.DepartmentID, &c.Status, &rec, &c.Paused,
			&acc, &ass, &plan, &fb, &closed, &rect, &arch, &c.Satisfaction, &c.Accountability}
		if withText {
			dest = append(dest, &c.Content)
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("complaint: report: %w", err)
		}
		c.ReceivedAt, c.AcceptedAt, c.AssessedAt, c.PlanAt = store.Time(rec), store.Time(acc), store.Time(ass), store.Time(plan)
		c.FeedbackAt, c.ClosedAt, c.RectifiedAt, c.ArchivedAt = store.Time(fb), store.Time(closed), store.Time(rect), store.Time(arch)
		byID[c.ID] = c
		out = append(out, reported{Complaint: c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: report: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	rangeArgs := args[:3]
	each := func(query string, scan func(rows scanner) error) error {
		rows, err := q.QueryContext(ctx, query, rangeArgs...)
		if err != nil {
			return fmt.Errorf("complaint: report: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("complaint: report: %w", err)
			}
		}
		return rows.Err()
	}
	err = each(`SELECT cd.complaint_id, cd.department_id FROM complaint_departments cd JOIN complaints c ON c.id = cd.complaint_id
		WHERE `+rng+` ORDER BY cd.complaint_id, cd.department_id`, func(r scanner) error {
		var id, d int64
		if err := r.Scan(&id, &d); err != nil {
			return err
		}
		if c := byID[id]; c != nil {
			c.DepartmentIDs = append(c.DepartmentIDs, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT p.complaint_id, p.reason, p.from_at, p.to_at FROM complaint_pauses p JOIN complaints c ON c.id = p.complaint_id
		WHERE `+rng+` ORDER BY p.complaint_id, p.id`, func(r scanner) error {
		var id, from, to int64
		var reason string
		if err := r.Scan(&id, &reason, &from, &to); err != nil {
			return err
		}
		if c := byID[id]; c != nil {
			c.Pauses = append(c.Pauses, Pause{Reason: reason, From: store.Time(from), To: store.Time(to)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	esc := map[int64]int{}
	err = each(`SELECT e.complaint_id, COUNT(*) FROM complaint_escalations e JOIN complaints c ON c.id = e.complaint_id
		WHERE `+rng+` GROUP BY e.complaint_id`, func(r scanner) error {
		var id int64
		var n int
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		esc[id] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].escalations = esc[out[i].ID]
	}
	return out, nil
}

type scanner interface{ Scan(...any) error }

// deptNames maps inst's departments to their names.
func (s *Service) deptNames(ctx context.Context, inst int64) (map[int64]string, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, name FROM departments WHERE institution_id = $1`, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: departments: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("complaint: departments: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}
