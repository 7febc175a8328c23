package calendar

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // tests load zones without relying on the host
)

// refCal is a deliberately naive reference: a sorted slice searched
// linearly, weekdays from the time package, days stepped with time.Date.
type refCal struct{ ex []Exception }

func newRef(years ...Year) refCal {
	var r refCal
	for _, y := range years {
		r.ex = append(r.ex, y.Days...)
	}
	slices.SortFunc(r.ex, func(a, b Exception) int {
		return refTime(a.Date).Compare(refTime(b.Date))
	})
	return r
}

func refTime(d Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

func refStep(d Date, n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

func (r refCal) working(d Date) bool {
	for _, e := range r.ex {
		if e.Date == d {
			return !e.OffDay
		}
	}
	wd := refTime(d).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func (r refCal) next(d Date) Date {
	for !r.working(d) {
		d = refStep(d, 1)
	}
	return d
}

func (r refCal) add(d Date, n int) Date {
	if n == 0 {
		return r.next(d)
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = refStep(d, step)
		if r.working(d) {
			n--
		}
	}
	return d
}

func (r refCal) between(a, b Date) int {
	sign := 1
	if refTime(b).Before(refTime(a)) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := refStep(a, 1); !refTime(d).After(refTime(b)); d = refStep(d, 1) {
		if r.working(d) {
			n++
		}
	}
	return sign * n
}

func randDate(r *rand.Rand, from Date, span int) Date {
	return refStep(from, r.IntN(span))
}

func TestCalendarAgainstReference(t *testing.T) {
	seed := Seed()
	c, ref := New(seed...), newRef(seed...)
	r := rand.New(rand.NewPCG(2026, 10))
	from := Date{2024, 12, 1}
	span := 2*365 + 62 // to 2027-02-01
	for range 3000 {
		d := randDate(r, from, span)
		n := r.IntN(601) - 300
		if got, want := c.AddWorkingDays(d, n), ref.add(d, n); got != want {
			t.Fatalf("AddWorkingDays(%v, %d) = %v, want %v", d, n, got, want)
		}
		if got, want := c.NextWorkingDay(d), ref.next(d); got != want {
			t.Fatalf("NextWorkingDay(%v) = %v, want %v", d, got, want)
		}
		if got, want := c.IsWorkingDay(d), ref.working(d); got != want {
			t.Fatalf("IsWorkingDay(%v) = %v, want %v", d, got, want)
		}
		e := randDate(r, from, span)
		if got, want := c.WorkingDaysBetween(d, e), ref.between(d, e); got != want {
			t.Fatalf("WorkingDaysBetween(%v, %v) = %d, want %d", d, e, got, want)
		}
	}
}

// A synthetic year far from the seed leaves years without data inside the
// dense table and exercises week skipping on both sides of it.
func TestCalendarAgainstReferenceWithGap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	synth := Year{Year: 2030}
	seen := map[Date]bool{}
	for range 60 {
		d := randDate(r, Date{2030, 1, 1}, 365)
		if !seen[d] {
			seen[d] = true
			synth.Days = append(synth.Days, Exception{Date: d, Name: "x", OffDay: r.IntN(2) == 0})
		}
	}
	years := append(Seed(), synth)
	c, ref := New(years...), newRef(years...)
	for range 150 {
		d := randDate(r, Date{2022, 1, 1}, 12*365)
		n := r.IntN(3001) - 1500
		if got, want := c.AddWorkingDays(d, n), ref.add(d, n); got != want {
			t.Fatalf("AddWorkingDays(%v, %d) = %v, want %v", d, n, got, want)
		}
		e := randDate(r, Date{2022, 1, 1}, 12*365)
		if got, want := c.WorkingDaysBetween(d, e), ref.between(d, e); got != want {
			t.Fatalf("WorkingDaysBetween(%v, %v) = %d, want %d", d, e, got, want)
		}
	}
}

// refAddMinutes steps minute by minute; t must be on a minute boundary.
func refAddMinutes(ref refCal, h ServiceHours, loc *time.Location, t time.Time, d int) time.Time {
	inService := func(m time.Time) bool {
		l := m.In(loc)
		y, mo, dd := l.Date()
		mins := l.Hour()*60 + l.Minute()
		return ref.working(Date{y, mo, dd}) && mins >= h.Start && mins < h.End
	}
	m := t
	if d == 0 {
		for !inService(m) {
			m = m.Add(time.Minute)
		}
		return m
	}
	for {
		if inService(m) {
			d--
			if d == 0 {
				return m.Add(time.Minute)
			}
		}
		m = m.Add(time.Minute)
	}
}

func refWorkingMinutes(ref refCal, h ServiceHours, loc *time.Location, from, to time.Time) time.Duration {
	n := 0
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		l := m.In(loc)
		y, mo, dd := l.Date()
		mins := l.Hour()*60 + l.Minute()
		if ref.working(Date{y, mo, dd}) && mins >= h.Start && mins < h.End {
			n++
		}
	}
	return time.Duration(n) * time.Minute
}

func loadLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestWorkingDurationAgainstReference(t *testing.T) {
	seed := Seed()
	cal, ref := New(seed...), newRef(seed...)
	sh := loadLoc(t, "Asia/Shanghai")
	ny := loadLoc(t, "America/New_York") // DST: exercises the day-by-day path
	r := rand.New(rand.NewPCG(8, 30))
	cases := []struct {
		loc   *time.Location
		hours ServiceHours
		n     int
	}{
		{sh, ServiceHours{480, 1050}, 150},
		{sh, ServiceHours{0, 1440}, 40},
		{sh, ServiceHours{540, 720}, 60},
		{ny, ServiceHours{480, 1050}, 40},
		{nil, ServiceHours{}, 20}, // defaults: UTC+8, whole day
	}
	// Windows around holidays and a DST change (US: 2026-03-08, 11-01).
	starts := []Date{{2025, 9, 25}, {2026, 2, 10}, {2026, 9, 17}, {2026, 3, 5}, {2026, 10, 28}, {2025, 12, 28}}
	for _, tc := range cases {
		p := Policy{Cal: cal, Hours: tc.hours, Loc: tc.loc}
		loc := p.loc()
		h := p.hours()
		for range tc.n {
			day := randDate(r, starts[r.IntN(len(starts))], 12)
			tm := day.In(loc).Add(time.Duration(r.IntN(1440)) * time.Minute)
			mins := r.IntN(2 * (h.End - h.Start))
			if r.IntN(10) == 0 {
				mins = 0
			}
			got := p.AddWorkingDuration(tm, time.Duration(mins)*time.Minute)
			want := refAddMinutes(ref, h, loc, tm, mins)
			if !got.Equal(want) {
				t.Fatalf("%v %v: AddWorkingDuration(%v, %dm) = %v, want %v", tc.loc, h, tm, mins, got, want)
			}
			if w := p.WorkingDuration(tm, got); w != time.Duration(mins)*time.Minute {
				t.Fatalf("%v %v: WorkingDuration(%v, %v) = %v, want %dm", tc.loc, h, tm, got, w, mins)
			}
			to := tm.Add(time.Duration(r.IntN(5*1440)) * time.Minute)
			if got, want := p.WorkingDuration(tm, to), refWorkingMinutes(ref, h, loc, tm, to); got != want {
				t.Fatalf("%v %v: WorkingDuration(%v, %v) = %v, want %v", tc.loc, h, tm, to, got, want)
			}
		}
	}
}

// Long spans and sub-minute instants: the inverse property must hold and
// results must not depend on the calendar's fast paths.
func TestWorkingDurationInverse(t *testing.T) {
	cal := seedCal()
	r := rand.New(rand.NewPCG(3, 4))
	for _, loc := range []*time.Location{loadLoc(t, "Asia/Shanghai"), loadLoc(t, "America/New_York"), time.UTC} {
		p := Policy{Cal: cal, Hours: ServiceHours{510, 1050}, Loc: loc}
		for range 300 {
			tm := time.Date(2024, 11, 1, 0, 0, 0, 0, loc).Add(time.Duration(r.Int64N(int64(800 * 24 * time.Hour))))
			d := time.Duration(r.Int64N(int64(400 * time.Hour)))
			due := p.AddWorkingDuration(tm, d)
			if got := p.WorkingDuration(tm, due); got != d {
				t.Fatalf("%v: WorkingDuration(%v, AddWorkingDuration(.., %v)=%v) = %v", loc, tm, d, due, got)
			}
			if due.Before(tm) {
				t.Fatalf("due %v before start %v", due, tm)
			}
		}
	}
}
