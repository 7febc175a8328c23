package complaint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
)

// Milestones a complaint's handling is measured by.
const (
	MAccepted      = "accepted"       // 受理: 1 service hour
	MAssessed      = "assessed"       // 初步评估: 24 service hours
	MPlan          = "plan"           // 处理方案反馈: 3 working days
	MAnswerSimple  = "answer_simple"  // 简单问题答复: 1 working day
	MFeedback      = "feedback"       // 向投诉人反馈: 5 working days, 10 with several departments
	MClosed        = "closed"         // 办结: 1 week
	MRectified     = "rectified"      // 整改完成: 15 days
	MAnswerComplex = "answer_complex" // 复杂纠纷答复: 20 days
)

// Milestones lists every milestone in the order a complaint meets them.
func Milestones() []string {
	return []string{MAccepted, MAssessed, MPlan, MAnswerSimple, MFeedback, MClosed, MRectified, MAnswerComplex}
}

// Unit is what a milestone's target counts.
type Unit string

// Units of a target.
const (
	// Hours are service hours on working days (Policy.AddWorkingDuration):
	// an hour's target set at 17:20 ends the next working morning.
	Hours Unit = "h"
	// WorkDays are working days counted from the day after the start
	// (Calendar.AddWorkingDays); the deadline is the whole of the last day.
	WorkDays Unit = "wd"
	// Days are calendar days counted from the day after the start; a
	// deadline on a day off rolls to the next working day (节假日顺延).
	Days Unit = "d"
)

// Target is one milestone's time budget.
type Target struct {
	Milestone string
	N         int
	Unit      Unit
	// MultiN, when > 0, replaces N when several departments are involved
	// (医疗机构投诉管理办法: 5 working days, 10 with several departments).
	MultiN int
}

// String formats t as the policy text does: "feedback=5wd/10wd".
func (t Target) String() string {
	s := t.Milestone + "=" + strconv.Itoa(t.N) + string(t.Unit)
	if t.MultiN > 0 {
		s += "/" + strconv.Itoa(t.MultiN) + string(t.Unit)
	}
	return s
}

// maxTarget bounds a target so a typo cannot push a deadline years away.
const maxTarget = 366

// ParseTargets reads a policy's targets: comma-separated
// "milestone=<n><unit>" with unit h, wd or d, and an optional
// "/<n><unit>" (same unit) for complaints involving several departments,
// e.g. "accepted=1h, plan=3wd, feedback=5wd/10wd, closed=7d". A milestone
// may appear once; order is kept.
func ParseTargets(s string) ([]Target, error) {
	var out []Target
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || !slices.Contains(Milestones(), key) {
			return nil, targetErr(part, "milestone", fmt.Errorf("target %q: want milestone=<n><unit> with a known milestone", part))
		}
		if slices.ContainsFunc(out, func(t Target) bool { return t.Milestone == key }) {
			return nil, targetErr(part, "twice", fmt.Errorf("milestone %s given twice", key))
		}
		single, multi, hasMulti := strings.Cut(val, "/")
		n, u, err := parseAmount(strings.TrimSpace(single))
		if err != nil {
			return nil, targetErr(part, "amount", fmt.Errorf("target %q: %w", part, err))
		}
		t := Target{Milestone: key, N: n, Unit: u}
		if hasMulti {
			m, mu, err := parseAmount(strings.TrimSpace(multi))
			if err != nil {
				return nil, targetErr(part, "amount", fmt.Errorf("target %q: %w", part, err))
			}
			if mu != u {
				return nil, targetErr(part, "unit_mismatch", fmt.Errorf("target %q: both amounts need the same unit", part))
			}
			t.MultiN = m
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, targetErr("", "empty", fmt.Errorf("a policy needs at least one target"))
	}
	return out, nil
}

// TargetError says which part of a policy's targets text is wrong and
// why, so a form can name the part in the user's language. Reason is
// milestone, twice, amount, unit_mismatch or empty.
type TargetError struct {
	Part   string
	Reason string
	Err    error
}

func (e *TargetError) Error() string { return "complaint: " + e.Err.Error() }

func (e *TargetError) Unwrap() error { return e.Err }

func targetErr(part, reason string, err error) *TargetError {
	return &TargetError{Part: part, Reason: reason, Err: err}
}

func parseAmount(s string) (int, Unit, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 3 {
		return 0, "", fmt.Errorf("amount %q: want a number from 1 to %d and a unit (h, wd, d)", s, maxTarget)
	}
	n, _ := strconv.Atoi(s[:i])
	u := Unit(s[i:])
	if n < 1 || n > maxTarget {
		return 0, "", fmt.Errorf("amount %q: want a number from 1 to %d", s, maxTarget)
	}
	if u != Hours && u != WorkDays && u != Days {
		return 0, "", fmt.Errorf("amount %q: the unit is h (service hours), wd (working days) or d (days)", s)
	}
	return n, u, nil
}

// FormatTargets is the inverse of ParseTargets.
func FormatTargets(ts []Target) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

// Complexity of a complaint.
const (
	Simple  = "simple"  // 简单
	Complex = "complex" // 复杂
)

// SLAPolicy is one of an institution's SLA policies: the targets that
// apply to the complaints it matches. An empty match field matches any.
type SLAPolicy struct {
	ID         int64
	Name       string
	Category   string
	Severity   string
	Complexity string
	Targets    []Target
}

// Matches reports whether the policy applies to a complaint of this kind.
func (p *SLAPolicy) Matches(category, severity, complexity string) bool {
	return (p.Category == "" || p.Category == category) && (p.Severity == "" || p.Severity == severity) &&
		(p.Complexity == "" || p.Complexity == complexity)
}

func (p *SLAPolicy) specificity() int {
	n := 0
	for _, f := range []string{p.Category, p.Severity, p.Complexity} {
		if f != "" {
			n++
		}
	}
	return n
}

// Target returns the policy's target for milestone m.
func (p *SLAPolicy) Target(m string) (Target, bool) {
	for _, t := range p.Targets {
		if t.Milestone == m {
			return t, true
		}
	}
	return Target{}, false
}

// ChoosePolicy returns the most specific policy matching the complaint
// (the one naming most of category, severity and complexity); among equals
// the first listed wins. Nil when none matches.
func ChoosePolicy(pols []*SLAPolicy, category, severity, complexity string) *SLAPolicy {
	var best *SLAPolicy
	for _, p := range pols {
		if p.Matches(category, severity, complexity) && (best == nil || p.specificity() > best.specificity()) {
			best = p
		}
	}
	return best
}

// DefaultPolicies are the defaults of the hospitals' own rules (seeds 002,
// 003 and the 2019 national rules): a simple complaint is answered in a
// working day and closed in a week; a complex one is answered within 20
// days instead. Both feed the plan back in 3 working days, answer the
// complainant in 5 (10 with several departments) and rectify in 15 days.
func DefaultPolicies() []*SLAPolicy {
	simple, _ := ParseTargets("accepted=1h, assessed=24h, plan=3wd, answer_simple=1wd, feedback=5wd/10wd, closed=7d, rectified=15d")
	complex, _ := ParseTargets("accepted=1h, assessed=24h, plan=3wd, feedback=5wd/10wd, rectified=15d, answer_complex=20d")
	return []*SLAPolicy{
		{Name: "简单投诉", Complexity: Simple, Targets: simple},
		{Name: "复杂投诉", Complexity: Complex, Targets: complex},
	}
}

// Deadline is when one milestone is due.
type Deadline struct {
	Target Target
	// At is the instant the milestone becomes overdue: the end of the
	// budget for hours, the end of the deadline's day for day targets.
	At time.Time
	// Date is the deadline's local date (for day targets the day itself).
	Date calendar.Date
	// Paused: the clock is paused, so there is no deadline now.
	Paused bool
	// Total is the working time the whole budget spans, for the colour.
	Total time.Duration
}

// Due computes the deadline of target t on clock c under the institution's
// calendar policy p. multiDept selects the several-departments budget.
// The clock keeps raw pause intervals, so the same clock under another
// target (a new severity or policy) keeps its paused time.
func Due(p calendar.Policy, c calendar.Clock, t Target, multiDept bool) Deadline {
	n := t.N
	if multiDept && t.MultiN > 0 {
		n = t.MultiN
	}
	d := Deadline{Target: t}
	if c.Paused() || c.Started.IsZero() {
		d.Paused = true
		return d
	}
	loc := p.Loc
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	switch t.Unit {
	case Hours:
		d.At, _ = c.Due(p, time.Duration(n)*time.Hour)
		d.At = d.At.In(loc)
		d.Date = calendar.DateOf(d.At)
	case WorkDays:
		d.Date, _ = c.DueDays(p, n)
		d.At = d.Date.AddDays(1).In(loc)
	default:
		d.Date = p.Cal.NextWorkingDay(calendarDays(p, loc, c, n))
		d.At = d.Date.AddDays(1).In(loc)
	}
	d.Total = c.Elapsed(p, d.At)
	return d
}

// calendarDays counts n calendar days from the day after the clock's start
// date. Like Clock.DueDays, a day is lost (not counted) when a closed pause
// overlaps its service window, so a complainant's week of silence gives
// the hospital its week back.
func calendarDays(p calendar.Policy, loc *time.Location, c calendar.Clock, n int) calendar.Date {
	h := p.Hours
	if h.Validate() != nil {
		h = calendar.ServiceHours{Start: 0, End: 1440}
	}
	day := calendar.DateOf(c.Started.In(loc))
	for counted := 0; counted < n; {
		day = day.AddDays(1)
		open := time.Date(day.Year, day.Month, day.Day, 0, h.Start, 0, 0, loc)
		close := time.Date(day.Year, day.Month, day.Day, 0, h.End, 0, 0, loc)
		lost := false
		for _, iv := range c.Pauses {
			if iv.From.Before(close) && iv.To.After(open) {
				lost = true
				break
			}
		}
		if !lost {
			counted++
		}
	}
	return day
}

// Colours of a milestone's clock.
const (
	Green   = "green"    // more than 20% of the budget left
	Amber   = "amber"    // at most 20% left
	Red     = "red"      // passed and not met
	Paused  = "paused"   // waiting on the complainant or a third party
	Met     = "met"      // met in time
	MetLate = "met_late" // met after its deadline
)

// Colour of deadline d at now, for a milestone met at met (zero: not met).
// Amber starts when at most a fifth of the working time is left.
func Colour(p calendar.Policy, c calendar.Clock, d Deadline, now, met time.Time) string {
	if !met.IsZero() {
		if d.Paused || !met.After(d.At) {
			return Met
		}
		return MetLate
	}
	if d.Paused {
		return Paused
	}
	if !now.Before(d.At) {
		return Red
	}
	left := d.Total - c.Elapsed(p, now)
	if left*5 <= d.Total {
		return Amber
	}
	return Green
}
