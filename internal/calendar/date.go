package calendar

import (
	"errors"
	"fmt"
	"time"
)

// Date is a civil (local) date without time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses exactly "YYYY-MM-DD" (year 0001–9999).
func ParseDate(s string) (Date, error) {
	d, err := parseDate(s)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: invalid date %q: %w", s, err)
	}
	return d, nil
}

// parseDate returns a bare reason so callers can add their own context.
func parseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, errors.New("want YYYY-MM-DD")
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, errors.New("want YYYY-MM-DD")
	}
	if y < 1 {
		return Date{}, errors.New("year out of range")
	}
	if m < 1 || m > 12 {
		return Date{}, fmt.Errorf("month %d out of range", m)
	}
	if d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, fmt.Errorf("day %d out of range", d)
	}
	return Date{y, time.Month(m), d}, nil
}

// digits parses ASCII digits only; strconv would accept signs.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Valid reports whether d is a real calendar date (year 1–9999).
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= 1 && d.Month <= 12 &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// String formats d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// AddDays returns d moved by n days; out-of-range fields are normalised
// like time.Date does.
func (d Date) AddDays(n int) Date { return fromDayNum(d.dayNum() + n) }

// DaysSince is the number of calendar days from o to d (negative when d is earlier).
func (d Date) DaysSince(o Date) int { return d.dayNum() - o.dayNum() }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.dayNum()) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return sign(d.Year - o.Year)
	case d.Month != o.Month:
		return sign(int(d.Month) - int(o.Month))
	}
	return sign(d.Day - o.Day)
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// MarshalText encodes d as "YYYY-MM-DD"; the zero Date encodes as "" so
// optional fields stay empty rather than becoming "0000-00-00".
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("calendar: cannot marshal invalid date %d-%d-%d", d.Year, int(d.Month), d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses "YYYY-MM-DD"; "" yields the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Day numbers (days since 1970-01-01) make day arithmetic allocation-free
// integer maths instead of repeated time.Date calls.

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// dayNum converts to a day number using the 400-year Gregorian cycle with
// years starting in March, so the leap day is the last day of a "year".
func (d Date) dayNum() int {
	y := d.Year + floorDiv(int(d.Month)-1, 12)
	m := floorMod(int(d.Month)-1, 12) + 1
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468 // 719468 = days from 0000-03-01 to 1970-01-01
}

func fromDayNum(n int) Date {
	z := n + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return Date{y, time.Month(m), day}
}

// 1970-01-01 was a Thursday.
func weekdayOf(n int) time.Weekday { return time.Weekday(floorMod(n+4, 7)) }

// weekdaysBefore returns F(n) with F(n+1)-F(n) = 1 iff day n is Mon–Fri, so
// F(b)-F(a) counts Mon–Fri days in [a, b) in O(1).
func weekdaysBefore(n int) int {
	// Index r counts days into a week that starts on Thursday.
	const table = "\x00\x01\x02\x02\x02\x03\x04"
	return 5*floorDiv(n, 7) + int(table[floorMod(n, 7)])
}
