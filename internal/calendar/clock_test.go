package calendar

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestClockPauseResume(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cal := seedCal()
	wide := Policy{Cal: cal, Hours: ServiceHours{480, 1050}, Loc: sh}  // 08:00-17:30
	narrow := Policy{Cal: cal, Hours: ServiceHours{540, 720}, Loc: sh} // 09:00-12:00

	var c Clock
	if err := c.Pause(at("2026-03-02 09:00")); err == nil {
		t.Error("pause of an unstarted clock")
	}
	c.Started = at("2026-03-02 09:00") // Monday
	if err := c.Resume(at("2026-03-02 09:30")); err == nil {
		t.Error("resume while running")
	}
	if err := c.Pause(at("2026-03-02 08:00")); err == nil {
		t.Error("pause before start")
	}
	if err := c.Pause(at("2026-03-02 10:00")); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(at("2026-03-02 11:00")); err == nil {
		t.Error("double pause")
	}
	if !c.Paused() {
		t.Error("not paused")
	}
	if _, ok := c.Due(wide, 4*time.Hour); ok {
		t.Error("deadline while paused")
	}
	if _, ok := c.DueDays(wide, 5); ok {
		t.Error("day deadline while paused")
	}
	// While paused elapsed time is frozen.
	if got := c.Elapsed(wide, at("2026-03-03 16:00")); got != time.Hour {
		t.Errorf("Elapsed while paused = %v", got)
	}
	if err := c.Resume(at("2026-03-02 09:59")); err == nil {
		t.Error("resume before pause")
	}
	if err := c.Resume(at("2026-03-03 11:00")); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(at("2026-03-03 10:00")); err == nil {
		t.Error("pause before last resume")
	}

	// Same stored clock, two policies.
	if due, ok := c.Due(wide, 4*time.Hour); !ok || !due.Equal(at("2026-03-03 14:00")) {
		t.Errorf("wide Due = %v, %v", due, ok) // 1h Mon + 3h from Tue 11:00
	}
	if due, ok := c.Due(narrow, 4*time.Hour); !ok || !due.Equal(at("2026-03-04 11:00")) {
		t.Errorf("narrow Due = %v, %v", due, ok) // 1h Mon + 1h Tue + 2h Wed
	}
	if due, _ := c.Due(wide, 30*time.Minute); !due.Equal(at("2026-03-02 09:30")) {
		t.Errorf("Due before the pause = %v", due)
	}
	if due, _ := c.Due(wide, time.Hour); !due.Equal(at("2026-03-02 10:00")) {
		t.Errorf("Due exactly at the pause = %v", due)
	}
	if got := c.Elapsed(wide, at("2026-03-03 13:00")); got != 3*time.Hour {
		t.Errorf("wide Elapsed = %v", got)
	}
	if got := c.Elapsed(narrow, at("2026-03-03 13:00")); got != 2*time.Hour {
		t.Errorf("narrow Elapsed = %v", got)
	}
	if got := c.Elapsed(wide, at("2026-03-02 09:00")); got != 0 {
		t.Errorf("Elapsed at start = %v", got)
	}
	if got := c.Elapsed(wide, at("2026-03-02 10:30")); got != time.Hour {
		t.Errorf("Elapsed during a later-closed pause = %v", got)
	}
}

func TestClockDueDays(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	p := Policy{Cal: seedCal(), Hours: ServiceHours{480, 1050}, Loc: sh}
	start := at("2026-09-30 10:00")
	cases := []struct {
		name   string
		pauses []Interval
		want   string
	}{
		{"no pause", nil, "2026-10-10"},
		{"pause on the start day costs nothing", []Interval{{at("2026-09-30 11:00"), at("2026-09-30 12:00")}}, "2026-10-10"},
		{"outside service hours costs nothing", []Interval{{at("2026-10-08 18:00"), at("2026-10-09 07:00")}}, "2026-10-10"},
		{"touching two working days", []Interval{{at("2026-10-08 17:00"), at("2026-10-09 09:30")}}, "2026-10-13"},
		{"two pauses in one day count once", []Interval{{at("2026-10-08 09:00"), at("2026-10-08 09:10")}, {at("2026-10-08 15:00"), at("2026-10-08 15:10")}}, "2026-10-12"},
		// Pause over the holiday only loses the working days it touches.
		{"over the holiday", []Interval{{at("2026-09-30 16:00"), at("2026-10-08 08:30")}}, "2026-10-12"},
		// 10-08 .. 11-02 08:00: every working day up to 10-30 is lost;
		// 11-02 opens exactly at the resume so it counts.
		{"long pause", []Interval{{at("2026-10-08 08:00"), at("2026-11-02 08:00")}}, "2026-11-04"},
	}
	for _, tc := range cases {
		c := Clock{Started: start, Pauses: tc.pauses}
		got, ok := c.DueDays(p, 3)
		if !ok || got.String() != tc.want {
			t.Errorf("%s: DueDays = %v, %v; want %s", tc.name, got, ok, tc.want)
		}
	}
	if got, _ := (Clock{Started: at("2026-10-01 10:00")}).DueDays(p, 0); got.String() != "2026-10-08" {
		t.Errorf("DueDays(0) = %v", got)
	}
	if _, ok := (Clock{}).DueDays(p, 3); ok {
		t.Error("unstarted clock has a deadline")
	}
}

// Due and Elapsed must agree for random clocks: Elapsed(Due) == budget.
func TestClockDueMatchesElapsed(t *testing.T) {
	p := shanghaiPolicy(t)
	r := rand.New(rand.NewPCG(11, 12))
	base := time.Date(2025, 9, 1, 0, 0, 0, 0, p.Loc)
	for range 500 {
		c := Clock{Started: base.Add(time.Duration(r.Int64N(int64(500 * 24 * time.Hour))))}
		cur := c.Started
		for range r.IntN(4) {
			from := cur.Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
			to := from.Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
			if c.Pause(from) != nil || c.Resume(to) != nil {
				t.Fatal("pause/resume failed")
			}
			cur = to
		}
		budget := time.Duration(1 + r.Int64N(int64(60*time.Hour)))
		due, ok := c.Due(p, budget)
		if !ok {
			t.Fatal("no deadline")
		}
		if got := c.Elapsed(p, due); got != budget {
			t.Fatalf("clock %+v: Elapsed(Due(%v)=%v) = %v", c, budget, due, got)
		}
		if got := c.Elapsed(p, due.Add(-time.Nanosecond)); got >= budget {
			t.Fatalf("clock %+v: deadline %v is not the first instant", c, due)
		}
	}
}
