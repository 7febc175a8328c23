package calendar

import (
	"slices"
)

// Calendar answers working-day questions. It is immutable after New and
// safe for concurrent use. A nil *Calendar behaves as plain Mon–Fri.
type Calendar struct {
	years []int // sorted years with data
	// Dense table over [lo, lo+len(work)) day numbers, spanning the first to
	// the last year with data, so lookups are index operations (no maps, no
	// allocation) in hot loops.
	lo   int
	work []bool  // working status per day
	cum  []int32 // cum[i] = working days in [lo, lo+i)
	exc  map[int]Exception
}

// New builds a calendar from years. It never fails: a later Year with the
// same number replaces an earlier one, years outside MinYear..MaxYear and
// entries with invalid dates or dates outside their year are ignored, and
// for duplicate dates the last entry wins. Use Year.Validate to be strict.
func New(years ...Year) *Calendar {
	byYear := make(map[int]Year, len(years))
	for _, y := range years {
		if y.Year >= MinYear && y.Year <= MaxYear {
			byYear[y.Year] = y
		}
	}
	c := &Calendar{exc: make(map[int]Exception)}
	for y := range byYear {
		c.years = append(c.years, y)
	}
	if len(c.years) == 0 {
		return c
	}
	slices.Sort(c.years)
	first, last := c.years[0], c.years[len(c.years)-1]
	c.lo = Date{first, 1, 1}.dayNum()
	hi := Date{last + 1, 1, 1}.dayNum()
	c.work = make([]bool, hi-c.lo)
	for i := range c.work {
		c.work[i] = defaultWorking(c.lo + i)
	}
	for _, yn := range c.years {
		for _, e := range byYear[yn].Days {
			if !e.Date.Valid() || e.Date.Year != yn {
				continue
			}
			n := e.Date.dayNum()
			c.exc[n] = e
			c.work[n-c.lo] = !e.OffDay
		}
	}
	c.cum = make([]int32, len(c.work)+1)
	for i, w := range c.work {
		c.cum[i+1] = c.cum[i]
		if w {
			c.cum[i+1]++
		}
	}
	return c
}

func defaultWorking(n int) bool {
	wd := weekdayOf(n)
	return wd != 0 && wd != 6 // Sunday, Saturday
}

// HasYear reports whether official data is loaded for year y; without it
// the calendar assumes plain Mon–Fri for that year.
func (c *Calendar) HasYear(y int) bool {
	if c == nil {
		return false
	}
	_, ok := slices.BinarySearch(c.years, y)
	return ok
}

// Years returns the years with data, ascending.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	return slices.Clone(c.years)
}

// Exception returns the holiday or adjusted working day listed for d.
func (c *Calendar) Exception(d Date) (Exception, bool) {
	if c == nil {
		return Exception{}, false
	}
	e, ok := c.exc[d.dayNum()]
	return e, ok
}

// IsWorkingDay reports whether d is a working day.
func (c *Calendar) IsWorkingDay(d Date) bool { return c.working(d.dayNum()) }

func (c *Calendar) working(n int) bool {
	if c != nil {
		if i := n - c.lo; i >= 0 && i < len(c.work) {
			return c.work[i]
		}
	}
	return defaultWorking(n)
}

// NextWorkingDay returns d if it is a working day, else the first working
// day after it (节假日顺延).
func (c *Calendar) NextWorkingDay(d Date) Date {
	n := d.dayNum()
	for !c.working(n) {
		n++
	}
	return fromDayNum(n)
}

// AddWorkingDays returns the n-th working day after d; counting starts the
// day after d, so d itself never counts. n == 0 gives NextWorkingDay(d);
// n < 0 gives the |n|-th working day before d.
func (c *Calendar) AddWorkingDays(d Date, n int) Date {
	if n == 0 {
		return c.NextWorkingDay(d)
	}
	x := d.dayNum()
	step, left := 1, n
	if n < 0 {
		step, left = -1, -n
	}
	for left > 0 {
		// Outside the data every 7 consecutive days hold exactly 5 working
		// days, so whole weeks can be skipped; this keeps huge n cheap.
		if left > 5 {
			w := (left - 1) / 5
			if end := x + step*7*w; !c.spansTable(x+step, end) {
				x = end
				left -= 5 * w
				continue
			}
		}
		x += step
		if c.working(x) {
			left--
		}
	}
	return fromDayNum(x)
}

// spansTable reports whether the day range between a and b (either order)
// overlaps the dense table.
func (c *Calendar) spansTable(a, b int) bool {
	if c == nil || len(c.work) == 0 {
		return false
	}
	if a > b {
		a, b = b, a
	}
	return a < c.lo+len(c.work) && b >= c.lo
}

// countWorking returns the number of working days in [a, b), a <= b, in
// O(1): Mon–Fri arithmetic outside the table, prefix sums inside it.
func (c *Calendar) countWorking(a, b int) int {
	total := weekdaysBefore(b) - weekdaysBefore(a)
	if c == nil || len(c.work) == 0 {
		return total
	}
	hi := c.lo + len(c.work)
	ca, cb := min(max(a, c.lo), hi), min(max(b, c.lo), hi)
	// Replace the Mon–Fri count of the covered part by the real count.
	total -= weekdaysBefore(cb) - weekdaysBefore(ca)
	total += int(c.cum[cb-c.lo] - c.cum[ca-c.lo])
	return total
}

// WorkingDaysBetween counts working days in (a, b]; if b is before a the
// result is minus the count in (b, a].
func (c *Calendar) WorkingDaysBetween(a, b Date) int {
	x, y := a.dayNum(), b.dayNum()
	if y < x {
		return -c.countWorking(y+1, x+1)
	}
	return c.countWorking(x+1, y+1)
}
