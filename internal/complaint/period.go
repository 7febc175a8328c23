package complaint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/errs"
)

// PeriodKind is the length of a report's period.
type PeriodKind string

// Report periods: a week runs Monday to Sunday (ISO 8601), a month and a
// quarter are the calendar's, all in the institution's local time.
const (
	Week    PeriodKind = "week"    // 周报
	Month   PeriodKind = "month"   // 月报
	Quarter PeriodKind = "quarter" // 季度分析
)

// PeriodKinds lists the kinds, shortest first.
func PeriodKinds() []PeriodKind { return []PeriodKind{Week, Month, Quarter} }

// Period is a run of local days [From, To).
type Period struct {
	Kind PeriodKind
	From calendar.Date // the first day
	To   calendar.Date // the day after the last
}

// Reports cover years a hospital may ask about; anything else is a typo.
const minYear, maxYear = 2000, 2100

// ParsePeriod reads a period: kind is week, month or quarter; at names a
// day inside it as "2026-10-08", a month as "2026-10", a quarter as
// "2026-Q4" or an ISO week as "2026-W41" (empty: today). The period is the
// one of that kind containing the day.
func ParsePeriod(kind, at string, today calendar.Date) (Period, error) {
	k := PeriodKind(strings.TrimSpace(kind))
	if k == "" {
		k = Month
	}
	if k != Week && k != Month && k != Quarter {
		return Period{}, errs.Field("period", "bad_period_kind", "a report covers a week, a month or a quarter")
	}
	day, err := parsePeriodDay(strings.TrimSpace(at), today)
	if err != nil {
		return Period{}, err
	}
	return PeriodOf(k, day), nil
}

func parsePeriodDay(s string, today calendar.Date) (calendar.Date, error) {
	bad := errs.Field("from", "bad_period", "name the period as 2026-10-08, 2026-10, 2026-Q4 or 2026-W41")
	var d calendar.Date
	switch {
	case s == "":
		d = today
	case len(s) == 10:
		x, err := calendar.ParseDate(s)
		if err != nil {
			return d, bad
		}
		d = x
	case len(s) == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q'):
		y, q, ok := yearAnd(s[:4], s[6:])
		if !ok || q < 1 || q > 4 {
			return d, bad
		}
		d = calendar.Date{Year: y, Month: time.Month(3*q - 2), Day: 1}
	case len(s) == 8 && s[4] == '-' && (s[5] == 'W' || s[5] == 'w'):
		y, w, ok := yearAnd(s[:4], s[6:])
		if !ok || w < 1 || w > 53 {
			return d, bad
		}
		d = isoWeekMonday(y, w)
		if yy, ww := d.In(time.UTC).ISOWeek(); yy != y || ww != w {
			return d, bad // week 53 of a year that has 52
		}
	case len(s) == 7 && s[4] == '-':
		y, m, ok := yearAnd(s[:4], s[5:])
		if !ok || m < 1 || m > 12 {
			return d, bad
		}
		d = calendar.Date{Year: y, Month: time.Month(m), Day: 1}
	default:
		return d, bad
	}
	if d.Year < minYear || d.Year > maxYear {
		return d, errs.Field("from", "bad_period", fmt.Sprintf("reports cover the years %d to %d", minYear, maxYear))
	}
	return d, nil
}

// yearAnd reads a four-digit year and a one- or two-digit number.
func yearAnd(ys, ns string) (int, int, bool) {
	if len(ys) != 4 || len(ns) == 0 || len(ns) > 2 {
		return 0, 0, false
	}
	for _, r := range ys + ns {
		if r < '0' || r > '9' {
			return 0, 0, false
		}
	}
	y, _ := strconv.Atoi(ys)
	n, _ := strconv.Atoi(ns)
	return y, n, true
}

// isoWeekMonday is the Monday of ISO week w of year y: week 1 holds 4 January.
func isoWeekMonday(y, w int) calendar.Date {
	jan4 := calendar.Date{Year: y, Month: time.January, Day: 4}
	return mondayOf(jan4).AddDays(7 * (w - 1))
}

func mondayOf(d calendar.Date) calendar.Date {
	return d.AddDays(-((int(d.Weekday()) + 6) % 7))
}

// PeriodOf is the period of kind k that contains day d.
func PeriodOf(k PeriodKind, d calendar.Date) Period {
	switch k {
	case Week:
		from := mondayOf(d)
		return Period{Kind: k, From: from, To: from.AddDays(7)}
	case Quarter:
		from := calendar.Date{Year: d.Year, Month: (d.Month-1)/3*3 + 1, Day: 1}
		return Period{Kind: k, From: from, To: addMonths(from, 3)}
	default:
		from := calendar.Date{Year: d.Year, Month: d.Month, Day: 1}
		return Period{Kind: Month, From: from, To: addMonths(from, 1)}
	}
}

// addMonths moves the first of a month n months on.
func addMonths(first calendar.Date, n int) calendar.Date {
	m := int(first.Month) - 1 + n
	return calendar.Date{Year: first.Year + m/12, Month: time.Month(m%12 + 1), Day: 1}
}

// Prev is the period of the same kind just before p.
func (p Period) Prev() Period { return PeriodOf(p.Kind, p.From.AddDays(-1)) }

// Next is the period of the same kind just after p.
func (p Period) Next() Period { return PeriodOf(p.Kind, p.To) }

// Last is p's last day.
func (p Period) Last() calendar.Date { return p.To.AddDays(-1) }

// Contains reports whether day d is inside p.
func (p Period) Contains(d calendar.Date) bool { return !d.Before(p.From) && d.Before(p.To) }

// Key names p in a URL: "2026-W41", "2026-10" or "2026-Q4".
func (p Period) Key() string {
	switch p.Kind {
	case Week:
		y, w := p.From.In(time.UTC).ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", p.From.Year, (int(p.From.Month)-1)/3+1)
	}
	return fmt.Sprintf("%04d-%02d", p.From.Year, int(p.From.Month))
}

// Months splits p into its calendar months (a week gives the one or two
// months it touches, cut to the week).
func (p Period) Months() []Period {
	var out []Period
	for d := p.From; d.Before(p.To); {
		m := PeriodOf(Month, d)
		if m.To.After(p.To) {
			m.To = p.To
		}
		m.From = d
		out = append(out, m)
		d = m.To
	}
	return out
}
