package calendar

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	good := map[string]Date{
		"2026-10-10": {2026, 10, 10},
		"2024-02-29": {2024, 2, 29},
		"2000-02-29": {2000, 2, 29},
		"0001-01-01": {1, 1, 1},
		"9999-12-31": {9999, 12, 31},
	}
	for s, want := range good {
		got, err := ParseDate(s)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("String() = %q, want %q", got.String(), s)
		}
	}
	bad := map[string]string{
		"":            "want YYYY-MM-DD",
		"2026-1-01":   "want YYYY-MM-DD",
		"2026/10/10":  "want YYYY-MM-DD",
		"+026-10-10":  "want YYYY-MM-DD",
		"2026-10-1a":  "want YYYY-MM-DD",
		"2026-10-10 ": "want YYYY-MM-DD",
		"0000-01-01":  "year out of range",
		"2026-13-01":  "month 13 out of range",
		"2026-00-01":  "month 0 out of range",
		"2025-02-29":  "day 29 out of range",
		"1900-02-29":  "day 29 out of range",
		"2026-04-31":  "day 31 out of range",
		"2026-04-00":  "day 0 out of range",
	}
	for s, why := range bad {
		_, err := ParseDate(s)
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseDate(%q) error = %v, want mention of %q and the input", s, err, why)
		}
	}
}

// Day arithmetic is checked against the time package over a wide range.
func TestDateArithmeticMatchesTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 20000 {
		tm := base.AddDate(0, 0, r.IntN(365*800))
		d := DateOf(tm)
		if d.Weekday() != tm.Weekday() {
			t.Fatalf("%v weekday %v, want %v", d, d.Weekday(), tm.Weekday())
		}
		n := r.IntN(4000) - 2000
		want := DateOf(tm.AddDate(0, 0, n))
		if got := d.AddDays(n); got != want {
			t.Fatalf("%v.AddDays(%d) = %v, want %v", d, n, got, want)
		}
		if fromDayNum(d.dayNum()) != d {
			t.Fatalf("day number round trip of %v failed", d)
		}
	}
	// Unnormalised fields behave like time.Date.
	if got := (Date{2026, 13, 32}).AddDays(0); got != (Date{2027, 2, 1}) {
		t.Errorf("normalise = %v", got)
	}
	if got := (Date{2026, 3, 0}).AddDays(0); got != (Date{2026, 2, 28}) {
		t.Errorf("normalise = %v", got)
	}
}

func TestWeekdaysBefore(t *testing.T) {
	for n := -3000; n < 3000; n++ {
		got := weekdaysBefore(n+1) - weekdaysBefore(n)
		wd := weekdayOf(n)
		want := 0
		if wd != time.Saturday && wd != time.Sunday {
			want = 1
		}
		if got != want {
			t.Fatalf("day %d (%v): step %d, want %d", n, wd, got, want)
		}
	}
}

func TestDateCompareInZero(t *testing.T) {
	a, b := Date{2026, 1, 31}, Date{2026, 2, 1}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("Compare")
	}
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Before(a) {
		t.Error("Before/After")
	}
	if (Date{2025, 12, 31}).Compare(Date{2026, 1, 1}) != -1 {
		t.Error("Compare across years")
	}
	sh := time.FixedZone("CST", 8*3600)
	m := Date{2026, 10, 10}.In(sh)
	if !m.Equal(time.Date(2026, 10, 10, 0, 0, 0, 0, sh)) {
		t.Errorf("In = %v", m)
	}
	// DateOf uses t's own location: 2026-10-09 20:00 UTC is 10-10 in China.
	if got := DateOf(time.Date(2026, 10, 9, 20, 0, 0, 0, time.UTC).In(sh)); got != (Date{2026, 10, 10}) {
		t.Errorf("DateOf = %v", got)
	}
	if !(Date{}).IsZero() || (Date{2026, 1, 1}).IsZero() {
		t.Error("IsZero")
	}
}

func TestDateJSON(t *testing.T) {
	type wrap struct {
		D Date  `json:"d"`
		Z Date  `json:"z"`
		P *Date `json:"p,omitempty"`
	}
	in := wrap{D: Date{2026, 10, 10}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"2026-10-10","z":""}` {
		t.Errorf("marshal = %s", b)
	}
	var out wrap
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("unmarshal = %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-02-30"}`), &out); err == nil {
		t.Error("invalid date accepted")
	}
	if _, err := json.Marshal(wrap{D: Date{2026, 2, 30}}); err == nil {
		t.Error("invalid date marshalled")
	}
}
