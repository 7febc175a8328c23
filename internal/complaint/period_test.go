package complaint_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/errs"
)

func TestParsePeriod(t *testing.T) {
	today := calendar.Date{Year: 2026, Month: 10, Day: 8} // a Thursday
	for _, c := range []struct {
		kind, at       string
		from, to, key  string
		prevKey, nextK string
	}{
		{"week", "", "2026-10-05", "2026-10-12", "2026-W41", "2026-W40", "2026-W42"},
		{"week", "2026-10-04", "2026-09-28", "2026-10-05", "2026-W40", "2026-W39", "2026-W41"}, // a Sunday closes its week
		{"week", "2026-W01", "2025-12-29", "2026-01-05", "2026-W01", "2025-W52", "2026-W02"},   // ISO week 1 holds 4 January
		{"week", "2026-W53", "2026-12-28", "2027-01-04", "2026-W53", "2026-W52", "2027-W01"},   // 2026 has 53 weeks
		{"month", "", "2026-10-01", "2026-11-01", "2026-10", "2026-09", "2026-11"},
		{"", "2026-12-31", "2026-12-01", "2027-01-01", "2026-12", "2026-11", "2027-01"},
		{"month", "2026-02", "2026-02-01", "2026-03-01", "2026-02", "2026-01", "2026-03"},
		{"quarter", "", "2026-10-01", "2027-01-01", "2026-Q4", "2026-Q3", "2027-Q1"},
		{"quarter", "2026-q1", "2026-01-01", "2026-04-01", "2026-Q1", "2025-Q4", "2026-Q2"},
		{"quarter", "2026-05-31", "2026-04-01", "2026-07-01", "2026-Q2", "2026-Q1", "2026-Q3"},
	} {
		p, err := complaint.ParsePeriod(c.kind, c.at, today)
		if err != nil {
			t.Errorf("%s %q: %v", c.kind, c.at, err)
			continue
		}
		if p.From.String() != c.from || p.To.String() != c.to || p.Key() != c.key || p.Prev().Key() != c.prevKey || p.Next().Key() != c.nextK {
			t.Errorf("%s %q = %s..%s %s (prev %s next %s), want %s..%s %s (%s %s)", c.kind, c.at, p.From, p.To, p.Key(),
				p.Prev().Key(), p.Next().Key(), c.from, c.to, c.key, c.prevKey, c.nextK)
		}
	}
	for _, c := range []struct{ kind, at, code string }{
		{"year", "", "bad_period_kind"},
		{"week", "2026-W54", "bad_period"},
		{"week", "2027-W53", "bad_period"}, // 2027 has 52 weeks
		{"month", "2026-13", "bad_period"},
		{"quarter", "2026-Q5", "bad_period"},
		{"month", "1999-12", "bad_period"},
		{"month", "2026-10-32", "bad_period"},
		{"month", "２０２６-10", "bad_period"},
		{"month", "+026-10", "bad_period"},
	} {
		_, err := complaint.ParsePeriod(c.kind, c.at, today)
		if !errs.Is(err, errs.Invalid) || errs.CodeOf(err) != c.code {
			t.Errorf("%s %q: %v, want %s", c.kind, c.at, err, c.code)
		}
	}
	q, _ := complaint.ParsePeriod("quarter", "2026-Q1", today)
	var ms []string
	for _, m := range q.Months() {
		ms = append(ms, m.Key())
	}
	if !slices.Equal(ms, []string{"2026-01", "2026-02", "2026-03"}) {
		t.Errorf("months of Q1 %v", ms)
	}
}

// FuzzParsePeriod: any text gives a clear refusal or a period that holds
// the day it names and steps back and forth to itself.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"", "2026-10-08", "2026-10", "2026-Q4", "2026-W41", "2026-W53", "2027-W53", "2026-q1", "2026-w1",
		"0000-00-00", "2026-1-1", "2026-W", "9999-12-31", "2026-Q０"} {
		for _, k := range []string{"week", "month", "quarter", ""} {
			f.Add(k, s)
		}
	}
	today := calendar.Date{Year: 2026, Month: 10, Day: 8}
	f.Fuzz(func(t *testing.T, kind, at string) {
		p, err := complaint.ParsePeriod(kind, at, today)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("%q %q: %v is not a field error", kind, at, err)
			}
			return
		}
		if !p.From.Before(p.To) || p.Prev().Next() != p || p.Next().Prev() != p {
			t.Fatalf("%q %q: %+v does not step back to itself", kind, at, p)
		}
		if len(at) == 10 {
			d, _ := calendar.ParseDate(at)
			if !p.Contains(d) {
				t.Fatalf("%q %q: %s..%s does not hold the day", kind, at, p.From, p.To)
			}
		}
		back, err := complaint.ParsePeriod(string(p.Kind), p.Key(), today)
		if err != nil || back != p {
			t.Fatalf("%q %q: key %s reads back as %+v (%v)", kind, at, p.Key(), back, err)
		}
	})
}

func TestTerms(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"等候时间长", []string{"等候", "候时", "时间", "间长"}},
		{"护士的态度不好", []string{"护士", "态度"}}, // bigrams holding 的 or 不 are dropped
		{"等候，等候！", []string{"等候"}},        // once per complaint; punctuation breaks a run
		{"WiFi was BAD at night 13800138000", []string{"wifi", "bad", "night"}},
		{"张 三", nil}, // single characters are no term
		{"", nil},
	} {
		if got := complaint.Terms(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Terms(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	got := complaint.TopTerms([]string{"等候太久", "等候两小时", "太久了", "收费不清"}, 5)
	if !slices.Equal(got, []complaint.Term{{Text: "太久", N: 2}, {Text: "等候", N: 2}}) {
		t.Errorf("TopTerms = %v", got)
	}
}

// FuzzTerms: terms are two Chinese characters or a lower-case Latin word
// of three or more letters, never repeated, never digits.
func FuzzTerms(f *testing.F) {
	for _, s := range []string{"出院结算时等候两小时无人解释", "护士态度生硬，等候时间长", "WiFi was BAD", "138 0013 8000", "的的的的",
		"\xff\xfe等候", "a\u0301bc", "𠀀𠀁𠀂", strings.Repeat("长", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seen := map[string]bool{}
		for _, w := range complaint.Terms(s) {
			if seen[w] {
				t.Fatalf("%q repeated in %q", w, s)
			}
			seen[w] = true
			rs := []rune(w)
			han := len(rs) == 2 && unicode.Is(unicode.Han, rs[0]) && unicode.Is(unicode.Han, rs[1])
			latin := len(rs) >= 3 && len(rs) <= 40 && strings.IndexFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) < 0
			if !utf8.ValidString(w) || !han && !latin {
				t.Fatalf("term %q of %q", w, s)
			}
		}
	})
}
