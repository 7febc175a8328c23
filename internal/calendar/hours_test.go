package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseServiceHours(t *testing.T) {
	good := map[string]ServiceHours{
		"08:00-17:30": {480, 1050},
		"00:00-24:00": {0, 1440},
		"09:15-09:16": {555, 556},
	}
	for s, want := range good {
		got, err := ParseServiceHours(s)
		if err != nil || got != want {
			t.Errorf("ParseServiceHours(%q) = %v, %v", s, got, err)
		}
		if got.String() != s {
			t.Errorf("String() = %q, want %q", got.String(), s)
		}
		if got.Validate() != nil {
			t.Errorf("%v does not validate", got)
		}
	}
	for _, s := range []string{"", "8:00-17:30", "08:00-08:00", "17:30-08:00", "24:30-25:00",
		"08:60-17:00", "08:00–17:30", "08:00-24:01", "08.00-17.30", "08:00 17:30", "-8:00-17:30"} {
		if _, err := ParseServiceHours(s); err == nil || !strings.Contains(err.Error(), "service hours") {
			t.Errorf("ParseServiceHours(%q) error = %v", s, err)
		}
	}
	for _, h := range []ServiceHours{{}, {-1, 10}, {10, 1441}, {600, 600}} {
		if h.Validate() == nil {
			t.Errorf("%+v validated", h)
		}
	}
}

func shanghaiPolicy(t testing.TB) Policy {
	return Policy{Cal: seedCal(), Hours: ServiceHours{480, 1050}, Loc: loadLoc(t, "Asia/Shanghai")}
}

func TestAddWorkingDuration(t *testing.T) {
	p := shanghaiPolicy(t)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, p.Loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-09-30 16:00", time.Hour, "2026-09-30 17:00"},
		{"2026-09-30 16:30", time.Hour, "2026-09-30 17:30"}, // ends exactly at closing
		{"2026-09-30 17:00", time.Hour, "2026-10-08 08:30"}, // over the National Day break
		{"2026-09-30 17:30", 0, "2026-10-08 08:00"},         // closing instant is outside service
		{"2026-09-30 12:00", 0, "2026-09-30 12:00"},
		{"2026-09-30 12:00", -time.Hour, "2026-09-30 12:00"}, // negative acts as zero
		{"2026-09-30 07:00", time.Hour, "2026-09-30 09:00"},
		{"2026-10-03 10:00", time.Hour, "2026-10-08 09:00"},
		{"2026-10-09 17:00", time.Hour, "2026-10-10 08:30"}, // adjusted working Saturday
		{"2026-09-30 08:00", 3 * 570 * time.Minute, "2026-10-09 17:30"},
		{"2026-09-30 08:00", 3*570*time.Minute + time.Minute, "2026-10-10 08:01"},
		{"2026-02-13 17:00", 10 * time.Hour, "2026-02-14 17:30"},             // 0.5h Fri, 9.5h Sat 调休
		{"2026-02-13 17:00", 10*time.Hour + time.Minute, "2026-02-24 08:01"}, // then 春节
	}
	for _, tc := range cases {
		got := p.AddWorkingDuration(at(tc.from), tc.d)
		if !got.Equal(at(tc.want)) {
			t.Errorf("AddWorkingDuration(%s, %v) = %v, want %s", tc.from, tc.d, got, tc.want)
		}
		if got.Location() != p.Loc {
			t.Errorf("result location %v", got.Location())
		}
	}
	// Input in another zone: 09:30 UTC is 17:30 in Shanghai.
	got := p.AddWorkingDuration(time.Date(2026, 9, 30, 9, 30, 0, 0, time.UTC), 0)
	if !got.Equal(at("2026-10-08 08:00")) {
		t.Errorf("UTC input: %v", got)
	}
	if got := p.WorkingDuration(at("2026-09-30 17:00"), at("2026-10-08 09:00")); got != 90*time.Minute {
		t.Errorf("WorkingDuration over holiday = %v", got)
	}
	if got := p.WorkingDuration(at("2026-10-08 09:00"), at("2026-09-30 17:00")); got != 0 {
		t.Errorf("reversed WorkingDuration = %v", got)
	}
	if got := p.WorkingDuration(at("2025-12-31 17:30"), at("2026-12-31 17:30")); got != 248*570*time.Minute {
		t.Errorf("WorkingDuration over 2026 = %v, want 248 days", got)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := Policy{}                                                            // Mon–Fri, whole day, UTC+8
	from := time.Date(2026, 10, 2, 23, 0, 0, 0, time.FixedZone("X", 8*3600)) // Friday 23:00
	got := p.AddWorkingDuration(from, 2*time.Hour)
	want := time.Date(2026, 10, 5, 1, 0, 0, 0, time.FixedZone("X", 8*3600))
	if !got.Equal(want) {
		t.Errorf("default policy: %v, want %v", got, want)
	}
}
