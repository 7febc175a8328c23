package kpi_test

import (
	"testing"
	"time"

	"suifang/internal/kpi"
)

func TestParseMonth(t *testing.T) {
	for in, want := range map[string]kpi.Month{"2026-09": {2026, time.September}, "2026-12": {2026, time.December}, "2000-01": {2000, time.January}} {
		got, err := kpi.ParseMonth(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseMonth(%q) = %v, %v", in, got, err)
		}
	}
	// What spreadsheets and hand-typed URLs send instead of YYYY-MM.
	for _, in := range []string{"", "2026-9", "2026/09", "2026-13", "2026-00", "202609", "2026-09-01", "１９９９-01", "1999-12", "2026-0a", "+026-09", " 2026-09"} {
		if _, err := kpi.ParseMonth(in); err == nil {
			t.Errorf("ParseMonth(%q) accepted", in)
		}
	}
	if got := (kpi.Month{Year: 2026, Month: time.December}).Next(); got != (kpi.Month{Year: 2027, Month: time.January}) {
		t.Errorf("December's next month is %v", got)
	}
}

// FuzzParseMonth: whatever is accepted prints back exactly, and its first
// day is a valid date.
func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2026-09", "2026-13", "9999-12", "2026-9", "", "2026–09"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := kpi.ParseMonth(s)
		if err != nil {
			return
		}
		if m.String() != s || !m.First().Valid() || !m.First().Before(m.Next().First()) {
			t.Fatalf("ParseMonth(%q) = %+v", s, m)
		}
	})
}
