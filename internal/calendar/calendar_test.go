package calendar

import (
	"testing"
)

func seedCal() *Calendar { return New(Seed()...) }

// Each block lists the working (W) / rest (R) status of consecutive days
// from `from`, written by hand from the State Council notices and weekdays.
var blocks = []struct {
	name, from, pattern string
}{
	{"2025 元旦", "2024-12-28", "RRWWRWWRR"},
	{"2025 春节", "2025-01-24", "WRWW" + "RRRRRRRR" + "WWWWRW"},
	{"2025 清明", "2025-04-02", "WWRRRWW"},
	{"2025 劳动节", "2025-04-25", "WRWWWW" + "RRRRR" + "WW"},
	{"2025 端午", "2025-05-29", "WWRRRWW"},
	{"2025 国庆中秋", "2025-09-26", "WRWWW" + "RRRRRRRR" + "WWWRW"},
	{"2026 元旦", "2025-12-29", "WWWRRRWWW"},
	{"2026 春节", "2026-02-12", "WWW" + "RRRRRRRRR" + "WWWWWRW"},
	{"2026 清明", "2026-04-02", "WWRRRWW"},
	{"2026 劳动节", "2026-04-29", "WW" + "RRRRR" + "WWWWRW"},
	{"2026 端午", "2026-06-17", "WWRRRWW"},
	{"2026 中秋国庆", "2026-09-18", "WRWWWWW" + "RRR" + "WWW" + "RRRRRRR" + "WWWRW"},
	// No 2027 data: plain Mon–Fri even on New Year's Day.
	{"2027 fallback", "2026-12-31", "WWRRWWWWWRR"},
	{"2024 fallback", "2024-09-28", "RRWWWWWRR"},
}

func TestHolidayBlocks(t *testing.T) {
	c := seedCal()
	for _, b := range blocks {
		d := mustDate(t, b.from)
		for i, ch := range b.pattern {
			want := ch == 'W'
			if got := c.IsWorkingDay(d); got != want {
				t.Errorf("%s: IsWorkingDay(%v %v) = %v, want %v", b.name, d, d.Weekday(), got, want)
			}
			// NextWorkingDay must be the first W at or after this position.
			j := i
			for j < len(b.pattern) && b.pattern[j] != 'W' {
				j++
			}
			if j < len(b.pattern) {
				want := mustDate(t, b.from).AddDays(j)
				if got := c.NextWorkingDay(d); got != want {
					t.Errorf("%s: NextWorkingDay(%v) = %v, want %v", b.name, d, got, want)
				}
				if got := c.AddWorkingDays(d, 0); got != want {
					t.Errorf("%s: AddWorkingDays(%v, 0) = %v, want %v", b.name, d, got, want)
				}
			}
			// AddWorkingDays(d, 1) is the first W strictly after.
			k := i + 1
			for k < len(b.pattern) && b.pattern[k] != 'W' {
				k++
			}
			if k < len(b.pattern) {
				want := mustDate(t, b.from).AddDays(k)
				if got := c.AddWorkingDays(d, 1); got != want {
					t.Errorf("%s: AddWorkingDays(%v, 1) = %v, want %v", b.name, d, got, want)
				}
				if got := c.AddWorkingDays(want, -1); ch == 'W' && got != d {
					t.Errorf("%s: AddWorkingDays(%v, -1) = %v, want %v", b.name, want, got, d)
				}
			}
			d = d.AddDays(1)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := seedCal()
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-09-30", 3, "2026-10-10"}, // the must-hold case
		{"2026-09-30", 1, "2026-10-08"},
		{"2026-09-30", 2, "2026-10-09"},
		{"2026-09-30", 4, "2026-10-12"},
		{"2026-09-24", 1, "2026-09-28"},
		{"2026-09-19", 1, "2026-09-20"}, // Sunday 调休
		{"2026-02-13", 1, "2026-02-14"},
		{"2026-02-13", 2, "2026-02-24"},
		{"2026-02-27", 1, "2026-02-28"},
		{"2026-02-27", 2, "2026-03-02"},
		{"2026-04-03", 1, "2026-04-07"},
		{"2026-04-30", 1, "2026-05-06"},
		{"2026-05-08", 1, "2026-05-09"},
		{"2026-06-18", 1, "2026-06-22"},
		{"2025-12-31", 1, "2026-01-04"}, // across the year, onto a Sunday 调休
		{"2024-12-31", 1, "2025-01-02"},
		{"2025-01-24", 1, "2025-01-26"},
		{"2025-01-24", 2, "2025-01-27"},
		{"2025-01-24", 3, "2025-02-05"},
		{"2025-02-07", 1, "2025-02-08"},
		{"2025-02-07", 2, "2025-02-10"},
		{"2025-04-03", 1, "2025-04-07"},
		{"2025-04-25", 1, "2025-04-27"},
		{"2025-04-30", 1, "2025-05-06"},
		{"2025-05-30", 1, "2025-06-03"},
		{"2025-09-30", 1, "2025-10-09"},
		{"2025-09-30", 3, "2025-10-11"},
		{"2025-09-30", 4, "2025-10-13"},
		{"2026-12-31", 1, "2027-01-01"}, // 2027 has no data
		{"2027-01-01", 1, "2027-01-04"},
		{"2027-01-01", 5, "2027-01-08"},
		// Negative n counts backwards from the day before.
		{"2026-10-08", -1, "2026-09-30"},
		{"2026-10-10", -3, "2026-09-30"},
		{"2026-10-12", -1, "2026-10-10"},
		{"2026-10-07", -1, "2026-09-30"},
		{"2025-01-27", -1, "2025-01-26"},
		{"2025-01-27", -2, "2025-01-24"},
		{"2026-01-05", -1, "2026-01-04"},
		{"2026-01-05", -2, "2025-12-31"},
		{"2025-01-02", -1, "2024-12-31"},
	}
	for _, tc := range cases {
		if got := c.AddWorkingDays(mustDate(t, tc.from), tc.n); got.String() != tc.want {
			t.Errorf("AddWorkingDays(%s, %d) = %v, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := seedCal()
	cases := []struct {
		a, b string
		want int
	}{
		{"2026-09-30", "2026-10-10", 3},
		{"2026-10-10", "2026-09-30", -3},
		{"2026-10-01", "2026-10-07", 0},
		{"2026-10-10", "2026-10-10", 0},
		{"2025-09-30", "2025-10-31", 18},
		{"2025-12-31", "2026-12-31", 248}, // all of 2026
		{"2024-12-31", "2025-12-31", 248}, // all of 2025
		{"2026-12-31", "2027-12-31", 261}, // 2027 fallback
		{"2026-02-13", "2026-02-24", 2},
		{"2024-12-31", "2026-12-31", 496},
	}
	for _, tc := range cases {
		if got := c.WorkingDaysBetween(mustDate(t, tc.a), mustDate(t, tc.b)); got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCalendarMeta(t *testing.T) {
	c := seedCal()
	if got := c.Years(); len(got) != 2 || got[0] != 2025 || got[1] != 2026 {
		t.Errorf("Years = %v", got)
	}
	if !c.HasYear(2026) || c.HasYear(2027) || c.HasYear(2024) {
		t.Error("HasYear")
	}
	e, ok := c.Exception(Date{2026, 10, 10})
	if !ok || e.OffDay || e.Name != "国庆节" {
		t.Errorf("Exception(2026-10-10) = %+v, %v", e, ok)
	}
	if _, ok := c.Exception(Date{2026, 10, 9}); ok {
		t.Error("ordinary day has an exception")
	}
	// Years() must be a copy.
	c.Years()[0] = 1
	if c.Years()[0] != 2025 {
		t.Error("Years leaks internal slice")
	}
}

func TestNilAndEmptyCalendar(t *testing.T) {
	for _, c := range []*Calendar{nil, New(), {}} {
		d := Date{2026, 10, 1} // Thursday, a holiday in real life
		if !c.IsWorkingDay(d) || c.HasYear(2026) || len(c.Years()) != 0 {
			t.Error("empty calendar must be plain Mon–Fri")
		}
		if got := c.AddWorkingDays(d, 2); got != (Date{2026, 10, 5}) {
			t.Errorf("AddWorkingDays = %v", got)
		}
		if got := c.WorkingDaysBetween(Date{2026, 1, 1}, Date{2026, 12, 31}); got != 260 {
			t.Errorf("WorkingDaysBetween = %d", got)
		}
		if _, ok := c.Exception(d); ok {
			t.Error("Exception on empty calendar")
		}
	}
}

func TestNewTolerance(t *testing.T) {
	y := Year{Year: 2030, Days: []Exception{
		{Date: Date{2030, 1, 1}, Name: "a", OffDay: true},
		{Date: Date{2030, 2, 30}, Name: "bad date", OffDay: true},
		{Date: Date{2031, 1, 1}, Name: "wrong year", OffDay: true},
	}}
	replaced := Year{Year: 2030, Days: []Exception{{Date: Date{2030, 1, 2}, Name: "b", OffDay: true}}}
	c := New(y, Year{Year: 1800}, Year{Year: 99999})
	if c.IsWorkingDay(Date{2030, 1, 1}) || !c.IsWorkingDay(Date{2031, 1, 1}) {
		t.Error("valid entry ignored or foreign entry used")
	}
	if got := c.Years(); len(got) != 1 || got[0] != 2030 {
		t.Errorf("Years = %v", got)
	}
	c = New(y, replaced)
	if !c.IsWorkingDay(Date{2030, 1, 1}) || c.IsWorkingDay(Date{2030, 1, 2}) {
		t.Error("later Year must replace earlier one")
	}
}

// Huge n must use the week skipping outside the data, and still agree with
// counting: WorkingDaysBetween(d, AddWorkingDays(d, n)) == n.
func TestAddWorkingDaysHugeN(t *testing.T) {
	c := seedCal()
	for _, start := range []Date{{1950, 3, 4}, {2025, 1, 1}, {2026, 12, 30}, {2100, 7, 7}} {
		for _, n := range []int{1, 6, 999, 100000, -6, -999, -100000} {
			got := c.AddWorkingDays(start, n)
			if !c.IsWorkingDay(got) {
				t.Errorf("AddWorkingDays(%v, %d) = %v is not a working day", start, n, got)
			}
			if w := c.WorkingDaysBetween(start, got); n > 0 && w != n {
				t.Errorf("AddWorkingDays(%v, %d) = %v but %d working days between", start, n, got, w)
			}
			if n < 0 {
				// (got, start] holds the |n|-1 days in between plus start.
				want := -n - 1
				if c.IsWorkingDay(start) {
					want++
				}
				if w := c.WorkingDaysBetween(got, start); w != want {
					t.Errorf("AddWorkingDays(%v, %d) = %v but %d working days in (got, start], want %d", start, n, got, w, want)
				}
			}
		}
	}
}
