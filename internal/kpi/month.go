package kpi

import (
	"fmt"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/errs"
)

// Month is a calendar month of an institution's local calendar.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth parses exactly "YYYY-MM" (year 2000–9999, month 01–12).
func ParseMonth(s string) (Month, error) {
	bad := errs.Field("month", "bad_month", "the month is YYYY-MM")
	if len(s) != 7 || s[4] != '-' {
		return Month{}, bad
	}
	y, m := 0, 0
	for i, c := range []byte(s) {
		switch {
		case i == 4:
		case c < '0' || c > '9':
			return Month{}, bad
		case i < 4:
			y = y*10 + int(c-'0')
		default:
			m = m*10 + int(c-'0')
		}
	}
	if y < 2000 || m < 1 || m > 12 {
		return Month{}, bad
	}
	return Month{Year: y, Month: time.Month(m)}, nil
}

// MonthOf is the month of local date d.
func MonthOf(d calendar.Date) Month { return Month{Year: d.Year, Month: d.Month} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// First is the month's first day.
func (m Month) First() calendar.Date { return calendar.Date{Year: m.Year, Month: m.Month, Day: 1} }

// Next is the following month.
func (m Month) Next() Month {
	if m.Month == time.December {
		return Month{Year: m.Year + 1, Month: time.January}
	}
	return Month{Year: m.Year, Month: m.Month + 1}
}

// LastYear is the same month a year earlier (for year-on-year figures).
func (m Month) LastYear() Month { return Month{Year: m.Year - 1, Month: m.Month} }

// bounds are the month's instants in loc: [from, to).
func (m Month) bounds(loc *time.Location) (time.Time, time.Time) {
	return m.First().In(loc), m.Next().First().In(loc)
}
