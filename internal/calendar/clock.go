package calendar

import (
	"errors"
	"fmt"
	"time"
)

// Interval is a pause of a Clock; a zero To means the pause is still open.
type Interval struct {
	From, To time.Time
}

// Clock is a pausable SLA clock stored as raw instants, not as consumed
// durations, so elapsed time and deadlines can be recomputed under any
// Policy (e.g. after service hours change). Pauses are expected in
// chronological order, as Pause and Resume produce them.
type Clock struct {
	Started time.Time
	Pauses  []Interval
}

// Pause stops the clock at t.
func (c *Clock) Pause(t time.Time) error {
	if c.Started.IsZero() {
		return errors.New("calendar: clock not started")
	}
	if c.Paused() {
		return errors.New("calendar: clock already paused")
	}
	last := c.Started
	if n := len(c.Pauses); n > 0 {
		last = c.Pauses[n-1].To
	}
	if t.Before(last) {
		return fmt.Errorf("calendar: pause at %s is before the last clock event %s", t.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	c.Pauses = append(c.Pauses, Interval{From: t})
	return nil
}

// Resume restarts a paused clock at t.
func (c *Clock) Resume(t time.Time) error {
	if !c.Paused() {
		return errors.New("calendar: clock not paused")
	}
	p := &c.Pauses[len(c.Pauses)-1]
	if t.IsZero() || t.Before(p.From) {
		return fmt.Errorf("calendar: resume at %s is before the pause at %s", t.Format(time.RFC3339), p.From.Format(time.RFC3339))
	}
	p.To = t
	return nil
}

// Paused reports whether the last pause is still open.
func (c Clock) Paused() bool {
	n := len(c.Pauses)
	return n > 0 && c.Pauses[n-1].To.IsZero()
}

// Elapsed returns the working time under p from Started to now, excluding
// pauses (an open pause runs until now).
func (c Clock) Elapsed(p Policy, now time.Time) time.Duration {
	if c.Started.IsZero() || !now.After(c.Started) {
		return 0
	}
	var total time.Duration
	cur := c.Started // start of the current running segment
	for _, iv := range c.Pauses {
		if !iv.From.Before(now) {
			break
		}
		if iv.From.After(cur) {
			total += p.WorkingDuration(cur, iv.From)
		}
		if iv.To.IsZero() || !iv.To.Before(now) {
			return total
		}
		if iv.To.After(cur) {
			cur = iv.To
		}
	}
	return total + p.WorkingDuration(cur, now)
}

// Due returns the instant at which budget of working, unpaused time will
// have elapsed. Closed pauses push it later; while paused there is no
// deadline (ok=false). A budget <= 0 is due at Started.
func (c Clock) Due(p Policy, budget time.Duration) (due time.Time, ok bool) {
	if c.Started.IsZero() || c.Paused() {
		return time.Time{}, false
	}
	if budget <= 0 {
		return c.Started, true
	}
	left := budget
	cur := c.Started
	for _, iv := range c.Pauses {
		if iv.From.After(cur) {
			w := p.WorkingDuration(cur, iv.From)
			if left <= w {
				return p.AddWorkingDuration(cur, left), true
			}
			left -= w
		}
		if iv.To.After(cur) {
			cur = iv.To
		}
	}
	return p.AddWorkingDuration(cur, left), true
}

// DueDays returns the deadline for a budget of working days counted from
// the start date (the day after Started's date is day 1, see
// Calendar.AddWorkingDays), extended by working days lost to closed pauses.
//
// Lost-day rule: a working day is lost, and not counted, when any closed
// pause overlaps that day's service hours (in p's location) — even briefly.
// Pauses entirely outside service hours cost nothing, and the start date
// itself never counts anyway. ok=false while paused. days <= 0 gives the
// next working day from the start date.
func (c Clock) DueDays(p Policy, days int) (due Date, ok bool) {
	if c.Started.IsZero() || c.Paused() {
		return Date{}, false
	}
	loc, h := p.loc(), p.hours()
	start := DateOf(c.Started.In(loc))
	if days <= 0 {
		return p.Cal.NextWorkingDay(start), true
	}
	day := start
	for counted := 0; counted < days; {
		day = p.Cal.AddWorkingDays(day, 1)
		open, close := window(day, h, loc)
		var coverEnd time.Time // latest end among pauses touching day
		for _, iv := range c.Pauses {
			if iv.From.Before(close) && iv.To.After(open) && iv.To.After(coverEnd) {
				coverEnd = iv.To
			}
		}
		if coverEnd.IsZero() {
			counted++
			continue
		}
		// Days strictly before the pause's end date are wholly inside it:
		// jump so long pauses are not walked day by day.
		if last := DateOf(coverEnd.In(loc)).AddDays(-1); last.After(day) {
			day = last
		}
	}
	return day, true
}
