package calendar

import (
	"fmt"
	"time"
)

// ServiceHours is the daily service window in minutes after midnight,
// e.g. 08:00–17:30 is {480, 1050}. The window is [Start, End).
type ServiceHours struct {
	Start, End int
}

// Validate checks 0 <= Start < End <= 1440.
func (h ServiceHours) Validate() error {
	if h.Start < 0 || h.End > 1440 || h.Start >= h.End {
		return fmt.Errorf("calendar: service hours %d..%d: want 0 <= start < end <= 1440", h.Start, h.End)
	}
	return nil
}

// ParseServiceHours parses exactly "HH:MM-HH:MM"; "24:00" is allowed as
// the end of day.
func ParseServiceHours(s string) (ServiceHours, error) {
	bad := func(why string) (ServiceHours, error) {
		return ServiceHours{}, fmt.Errorf("calendar: invalid service hours %q: %s", s, why)
	}
	if len(s) != 11 || s[5] != '-' {
		return bad("want HH:MM-HH:MM")
	}
	start, ok1 := parseClock(s[0:5])
	end, ok2 := parseClock(s[6:11])
	if !ok1 || !ok2 {
		return bad("want HH:MM-HH:MM with 00:00 <= time <= 24:00")
	}
	h := ServiceHours{start, end}
	if h.Start >= h.End {
		return bad("start must be before end")
	}
	return h, nil
}

func parseClock(s string) (int, bool) {
	if s[2] != ':' {
		return 0, false
	}
	hh, ok1 := digits(s[0:2])
	mm, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// String formats h as "HH:MM-HH:MM".
func (h ServiceHours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.Start/60, h.Start%60, h.End/60, h.End%60)
}

// Policy combines a calendar, service hours and the location whose wall
// clock defines both. Zero fields get safe defaults rather than panics in
// deadline code: nil Cal is plain Mon–Fri, nil Loc is fixed UTC+8 (China
// has no DST; loading Asia/Shanghai is the caller's job), and invalid Hours
// (including the zero value) mean the whole day, 00:00–24:00.
type Policy struct {
	Cal   *Calendar
	Hours ServiceHours
	Loc   *time.Location
}

func (p Policy) loc() *time.Location {
	if p.Loc == nil {
		return time.FixedZone("CST", 8*60*60)
	}
	return p.Loc
}

func (p Policy) hours() ServiceHours {
	if p.Hours.Validate() != nil {
		return ServiceHours{0, 1440}
	}
	return p.Hours
}

// window returns the service window of day d as instants.
func window(d Date, h ServiceHours, loc *time.Location) (open, close time.Time) {
	open = time.Date(d.Year, d.Month, d.Day, 0, h.Start, 0, 0, loc)
	close = time.Date(d.Year, d.Month, d.Day, 0, h.End, 0, 0, loc)
	return open, close
}

// fixedOffsetFrom reports whether t's zone never changes after t, so every
// working day's window has the same length and whole days can be skipped
// arithmetically (true for Asia/Shanghai and fixed zones).
func fixedOffsetFrom(t time.Time) bool {
	_, end := t.ZoneBounds()
	return end.IsZero()
}

// AddWorkingDuration returns the instant at which d of working time (time
// inside service hours on working days) has elapsed after t. Outside service
// hours the clock starts at the next opening; d <= 0 rolls t forward to the
// next in-service instant. The result is in the policy's location.
func (p Policy) AddWorkingDuration(t time.Time, d time.Duration) time.Time {
	loc, h := p.loc(), p.hours()
	t = t.Round(0).In(loc) // drop monotonic reading: results must be wall-based
	r := max(d, 0)
	day := DateOf(t)
	if p.Cal.IsWorkingDay(day) {
		open, close := window(day, h, loc)
		begin := open
		if t.After(open) {
			begin = t
		}
		if begin.Before(close) {
			avail := close.Sub(begin)
			if r <= avail {
				return begin.Add(r)
			}
			r -= avail
		}
	}
	dayLen := time.Duration(h.End-h.Start) * time.Minute
	if fixedOffsetFrom(t) && r > dayLen {
		// Consume whole working days at once, leaving r in (0, dayLen].
		k := (r - 1) / dayLen
		day = p.Cal.AddWorkingDays(day, int(k))
		r -= k * dayLen
	}
	for {
		day = p.Cal.AddWorkingDays(day, 1)
		open, close := window(day, h, loc)
		avail := close.Sub(open)
		if avail <= 0 { // window lost to a DST jump
			continue
		}
		if r <= avail {
			return open.Add(r)
		}
		r -= avail
	}
}

// WorkingDuration returns the working time inside service hours on working
// days within [from, to); 0 if to <= from.
func (p Policy) WorkingDuration(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	loc, h := p.loc(), p.hours()
	from, to = from.Round(0).In(loc), to.Round(0).In(loc)
	d0, d1 := DateOf(from), DateOf(to)
	total := p.overlap(d0, h, from, to)
	if d0 == d1 {
		return total
	}
	total += p.overlap(d1, h, from, to)
	_, end := from.ZoneBounds()
	if end.IsZero() || !end.Before(to) {
		// Constant offset: every interior working day is a full window.
		n := p.Cal.WorkingDaysBetween(d0, d1.AddDays(-1))
		return total + time.Duration(n)*time.Duration(h.End-h.Start)*time.Minute
	}
	for d := d0.AddDays(1); d.Before(d1); d = d.AddDays(1) {
		total += p.overlap(d, h, from, to)
	}
	return total
}

// overlap is the service time of day d inside [from, to).
func (p Policy) overlap(d Date, h ServiceHours, from, to time.Time) time.Duration {
	if !p.Cal.IsWorkingDay(d) {
		return 0
	}
	open, close := window(d, h, from.Location())
	if from.After(open) {
		open = from
	}
	if to.Before(close) {
		close = to
	}
	if close.After(open) {
		return close.Sub(open)
	}
	return 0
}
