package complaint

import (
	"testing"
	"time"

	"suifang/internal/calendar"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// seedPolicy is an institution with the built-in 2026 calendar and the
// default service hours 08:00–17:30 (a 570-minute working day).
func seedPolicy(t testing.TB) calendar.Policy {
	return calendar.Policy{Cal: calendar.New(calendar.Seed()...), Hours: calendar.ServiceHours{Start: 480, End: 1050}, Loc: shanghai(t)}
}

// allTargets is every milestone at its default budget, so each scenario
// fixes all eight deadlines.
func allTargets(t testing.TB) []Target {
	ts, err := ParseTargets("accepted=1h, assessed=24h, plan=3wd, answer_simple=1wd, feedback=5wd/10wd, closed=7d, rectified=15d, answer_complex=20d")
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestDeadlinesHandCalculated fixes the deadline of every milestone in four
// situations. The 2026 calendar (seed data, State Council notice of Nov.
// 2025) matters here: 春节 off 02-15..02-23 with Saturdays 02-14 and 02-28
// worked; 劳动节 off 05-01..05-05 with Saturday 05-09 worked; 国庆 off
// 10-01..10-07 with Saturday 10-10 worked. Service hours are 08:00–17:30,
// 570 minutes a day. Hour targets count service minutes on working days;
// working-day targets count from the day after; calendar-day targets count
// from the day after and roll off a day off (节假日顺延).
func TestDeadlinesHandCalculated(t *testing.T) {
	pol := seedPolicy(t)
	loc := pol.Loc
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	type want struct {
		single, multi string // "2006-01-02 15:04" for hours, "2006-01-02" for days
	}
	cases := []struct {
		name   string
		clock  calendar.Clock
		expect map[string]want
	}{
		{
			// Friday 2026-03-13 16:55, an ordinary week (Mon 03-16 next).
			name:  "Friday 16:55",
			clock: calendar.Clock{Started: at("2026-03-13 16:55")},
			expect: map[string]want{
				// 35 minutes on Friday (16:55–17:30), 25 on Monday from 08:00.
				MAccepted: {single: "2026-03-16 08:25"},
				// 1440 min: Fri 35 → 1405 left; Mon 570 → 835; Tue 570 →
				// 265; Wed 08:00 + 265 min = 12:25.
				MAssessed: {single: "2026-03-18 12:25"},
				// Mon 16 (1), Tue 17 (2), Wed 18 (3).
				MPlan:         {single: "2026-03-18"},
				MAnswerSimple: {single: "2026-03-16"},
				// Mon 16 … Fri 20 is five; ten is Fri 27.
				MFeedback: {single: "2026-03-20", multi: "2026-03-27"},
				// 03-13 + 7 = Fri 03-20, a working day.
				MClosed: {single: "2026-03-20"},
				// 03-13 + 15 = Sat 03-28 → rolls to Mon 03-30.
				MRectified: {single: "2026-03-30"},
				// 03-13 + 20 = Thu 04-02 (清明 starts 04-04).
				MAnswerComplex: {single: "2026-04-02"},
			},
		},
		{
			// Wednesday 2026-09-30 16:00, the eve of National Day: nothing
			// counts until Thu 10-08; Sat 10-10 is worked.
			name:  "National Day eve",
			clock: calendar.Clock{Started: at("2026-09-30 16:00")},
			expect: map[string]want{
				// 60 minutes are left before 17:30 the same day.
				MAccepted: {single: "2026-09-30 17:00"},
				// 1440: 09-30 90 → 1350; 10-08 570 → 780; 10-09 570 → 210;
				// Sat 10-10 (worked) 08:00 + 210 = 11:30.
				MAssessed: {single: "2026-10-10 11:30"},
				// 10-08 (1), 10-09 (2), Sat 10-10 (3).
				MPlan:         {single: "2026-10-10"},
				MAnswerSimple: {single: "2026-10-08"},
				// 08, 09, 10, Mon 12, Tue 13 = 5; then 14, 15, 16, 19, 20 = 10
				// (17/18 are the weekend, 10-11 Sunday is off).
				MFeedback: {single: "2026-10-13", multi: "2026-10-20"},
				// 09-30 + 7 = 10-07, a holiday → Thu 10-08.
				MClosed: {single: "2026-10-08"},
				// 09-30 + 15 = Thu 10-15.
				MRectified: {single: "2026-10-15"},
				// 09-30 + 20 = Tue 10-20.
				MAnswerComplex: {single: "2026-10-20"},
			},
		},
		{
			// Saturday 2026-05-09 14:00, worked in exchange for 劳动节;
			// Sunday 05-10 is off.
			name:  "adjusted working Saturday",
			clock: calendar.Clock{Started: at("2026-05-09 14:00")},
			expect: map[string]want{
				// The Saturday is a working day: one hour later.
				MAccepted: {single: "2026-05-09 15:00"},
				// 1440: Sat 210 (14:00–17:30) → 1230; Mon 11 570 → 660;
				// Tue 12 570 → 90; Wed 13 08:00 + 90 = 09:30.
				MAssessed: {single: "2026-05-13 09:30"},
				// Sun 10 off; Mon 11 (1), Tue 12 (2), Wed 13 (3).
				MPlan:         {single: "2026-05-13"},
				MAnswerSimple: {single: "2026-05-11"},
				// Mon 11 … Fri 15 = 5; Mon 18 … Fri 22 = 10.
				MFeedback: {single: "2026-05-15", multi: "2026-05-22"},
				// 05-09 + 7 = Sat 05-16 (an ordinary Saturday) → Mon 05-18.
				MClosed: {single: "2026-05-18"},
				// 05-09 + 15 = Sun 05-24 → Mon 05-25.
				MRectified: {single: "2026-05-25"},
				// 05-09 + 20 = Fri 05-29.
				MAnswerComplex: {single: "2026-05-29"},
			},
		},
		{
			// Tuesday 2026-02-10 10:00, waiting on the complainant from Thu
			// 02-12 12:00 to Wed 02-25 09:00, across the Spring Festival.
			name: "pause across the Spring Festival",
			clock: calendar.Clock{Started: at("2026-02-10 10:00"), Pauses: []calendar.Interval{
				{From: at("2026-02-12 12:00"), To: at("2026-02-25 09:00")}}},
			expect: map[string]want{
				// Met before the pause: 11:00 the same day.
				MAccepted: {single: "2026-02-10 11:00"},
				// Before the pause: 02-10 450 + 02-11 570 + 02-12 240 (08:00–
				// 12:00) = 1260; 180 left from the resume at 09:00 → 12:00.
				// Fri 02-13, Sat 02-14 (worked) and Tue 02-24 are paused.
				MAssessed: {single: "2026-02-25 12:00"},
				// Counting from 02-11 (1); every working day the pause touches
				// is lost: 02-12, 02-13, 02-14, 02-24 and 02-25 (paused
				// 08:00–09:00); then Thu 02-26 (2), Fri 02-27 (3).
				MPlan: {single: "2026-02-27"},
				// 02-11, before the pause.
				MAnswerSimple: {single: "2026-02-11"},
				// 02-11 (1), 02-26 (2), 02-27 (3), Sat 02-28 worked (4), Mon
				// 03-02 (5); then 03-03 … 03-06 (6–9), Mon 03-09 (10).
				MFeedback: {single: "2026-03-02", multi: "2026-03-09"},
				// Calendar days: 02-11 (1); 02-12 … 02-25 are touched by the
				// pause and lost; 02-26 (2), 27 (3), 28 (4), 03-01 (5), 03-02
				// (6), Tue 03-03 (7).
				MClosed: {single: "2026-03-03"},
				// Day 15 is eight days after day 7: Wed 03-11.
				MRectified: {single: "2026-03-11"},
				// Day 20: Mon 03-16.
				MAnswerComplex: {single: "2026-03-16"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := allTargets(t)
			if len(tc.expect) != len(ts) {
				t.Fatalf("case fixes %d milestones, want all %d", len(tc.expect), len(ts))
			}
			for _, tg := range ts {
				w, ok := tc.expect[tg.Milestone]
				if !ok {
					t.Fatalf("no expectation for %s", tg.Milestone)
				}
				check := func(multi bool, want string) {
					d := Due(pol, tc.clock, tg, multi)
					if d.Paused {
						t.Fatalf("%s: paused", tg.Milestone)
					}
					got := d.Date.String()
					if tg.Unit == Hours {
						got = d.At.In(loc).Format("2006-01-02 15:04")
					} else if wantAt := d.Date.AddDays(1).In(loc); !d.At.Equal(wantAt) {
						t.Errorf("%s: day deadline At = %v, want the end of %s", tg.Milestone, d.At, d.Date)
					}
					if got != want {
						t.Errorf("%s (several departments %v) = %s, want %s", tg.Milestone, multi, got, want)
					}
				}
				check(false, w.single)
				if w.multi != "" {
					check(true, w.multi)
				} else {
					check(true, w.single) // no several-departments budget: the same
				}
			}
		})
	}
}

// TestPauseSurvivesPolicyChange: a complaint re-assessed from simple to
// complex (another policy) keeps the time it spent waiting, because the
// clock keeps raw pauses and every deadline is recomputed from them.
func TestPauseSurvivesPolicyChange(t *testing.T) {
	pol := seedPolicy(t)
	at := func(s string) time.Time { tm, _ := time.ParseInLocation("2006-01-02 15:04", s, pol.Loc); return tm }
	c := calendar.Clock{Started: at("2026-03-02 09:00")} // Monday
	if err := c.Pause(at("2026-03-03 08:00")); err != nil {
		t.Fatal(err)
	}
	if d := Due(pol, c, Target{Milestone: MFeedback, N: 5, Unit: WorkDays}, false); !d.Paused {
		t.Fatal("a paused clock has no deadline")
	}
	if err := c.Resume(at("2026-03-05 08:00")); err != nil { // Tue and Wed lost
		t.Fatal(err)
	}
	simple, complex := DefaultPolicies()[0], DefaultPolicies()[1]
	ts, _ := simple.Target(MFeedback)
	// Days after Mon 03-02: Tue, Wed lost; Thu 05 (1), Fri 06 (2), Mon 09 (3),
	// Tue 10 (4), Wed 11 (5).
	if got := Due(pol, c, ts, false).Date.String(); got != "2026-03-11" {
		t.Errorf("simple feedback = %s, want 2026-03-11", got)
	}
	tc, _ := complex.Target(MAnswerComplex)
	// Calendar: Tue 03, Wed 04 lost; Thu 05 (1) … day 20 = 03-24 (Tue).
	if got := Due(pol, c, tc, false).Date.String(); got != "2026-03-24" {
		t.Errorf("complex answer = %s, want 2026-03-24", got)
	}
	// The hour target: 09:00–17:30 Monday is 510 of 1440 minutes; the
	// rest, 930, runs from Thu 08:00: 570 Thu, 360 Fri → Fri 14:00.
	ta, _ := complex.Target(MAssessed)
	if got := Due(pol, c, ta, false).At.Format("2006-01-02 15:04"); got != "2026-03-06 14:00" {
		t.Errorf("complex assessed = %s, want 2026-03-06 14:00", got)
	}
}

func TestChoosePolicy(t *testing.T) {
	pols := DefaultPolicies()
	major := &SLAPolicy{Name: "重大", Severity: "major", Targets: []Target{{Milestone: MAccepted, N: 1, Unit: Hours}}}
	fees := &SLAPolicy{Name: "费用复杂", Category: "fees", Complexity: Complex, Targets: []Target{{Milestone: MAccepted, N: 2, Unit: Hours}}}
	pols = append(pols, major, fees)
	for _, c := range []struct {
		cat, sev, cx string
		want         string
	}{
		{"service", "general", Simple, "简单投诉"},
		{"service", "general", Complex, "复杂投诉"},
		{"service", "major", Complex, "复杂投诉"}, // equal specificity: the first listed
		{"fees", "general", Complex, "费用复杂"},
		{"fees", "major", Simple, "简单投诉"},
	} {
		got := ChoosePolicy(pols, c.cat, c.sev, c.cx)
		if got == nil || got.Name != c.want {
			t.Errorf("ChoosePolicy(%s,%s,%s) = %v, want %s", c.cat, c.sev, c.cx, got, c.want)
		}
	}
	if got := ChoosePolicy([]*SLAPolicy{fees}, "service", "general", Simple); got != nil {
		t.Errorf("no match should give nil, got %s", got.Name)
	}
}

func TestColour(t *testing.T) {
	pol := seedPolicy(t)
	at := func(s string) time.Time { tm, _ := time.ParseInLocation("2006-01-02 15:04", s, pol.Loc); return tm }
	c := calendar.Clock{Started: at("2026-03-02 08:00")} // Monday
	tg := Target{Milestone: MAssessed, N: 10, Unit: Hours}
	d := Due(pol, c, tg, false) // 570 Mon + 30 Tue → Tue 08:30
	if got := d.At.Format("2006-01-02 15:04"); got != "2026-03-03 08:30" {
		t.Fatalf("due %s", got)
	}
	for _, x := range []struct {
		now, met string
		want     string
	}{
		{"2026-03-02 12:00", "", Green},
		{"2026-03-02 15:59", "", Green}, // 2h01 of 10h left
		{"2026-03-02 16:00", "", Amber}, // exactly 2h (20%) left
		{"2026-03-02 23:00", "", Amber}, // night: still 30 min left
		{"2026-03-03 08:30", "", Red},
		{"2026-03-03 09:00", "2026-03-03 08:00", Met},
		{"2026-03-03 09:00", "2026-03-03 08:45", MetLate},
	} {
		var met time.Time
		if x.met != "" {
			met = at(x.met)
		}
		if got := Colour(pol, c, d, at(x.now), met); got != x.want {
			t.Errorf("colour at %s = %s, want %s", x.now, got, x.want)
		}
	}
	if err := c.Pause(at("2026-03-02 09:00")); err != nil {
		t.Fatal(err)
	}
	if got := Colour(pol, c, Due(pol, c, tg, false), at("2026-03-02 10:00"), time.Time{}); got != Paused {
		t.Errorf("paused colour = %s", got)
	}
}

func TestParseTargets(t *testing.T) {
	ts, err := ParseTargets(" accepted=1h,feedback = 5wd/10wd , closed=7d")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatTargets(ts); got != "accepted=1h, feedback=5wd/10wd, closed=7d" {
		t.Errorf("format = %q", got)
	}
	for _, bad := range []string{"", "accepted", "nope=1h", "accepted=0h", "accepted=1x", "accepted=1h,accepted=2h",
		"feedback=5wd/10d", "closed=400d", "closed=d", "closed=1000d", "closed=-1d"} {
		if _, err := ParseTargets(bad); err == nil {
			t.Errorf("ParseTargets(%q) accepted", bad)
		}
	}
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"accepted=1h, assessed=24h, plan=3wd", "feedback=5wd/10wd", "closed=7d,,", "x=1h", "plan=3wd/", "=", "accepted=999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTargets(s)
		if err != nil {
			return
		}
		// Whatever parses formats to text that parses to the same targets.
		again, err := ParseTargets(FormatTargets(ts))
		if err != nil {
			t.Fatalf("round trip of %q: %v", s, err)
		}
		if len(again) != len(ts) {
			t.Fatalf("round trip of %q changed the targets", s)
		}
		for i := range ts {
			if ts[i] != again[i] || ts[i].N < 1 || ts[i].N > maxTarget {
				t.Fatalf("round trip of %q: %v vs %v", s, ts[i], again[i])
			}
		}
	})
}
