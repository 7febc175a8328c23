package calendar

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzParseYearJSON(f *testing.F) {
	// Small seeds keep the fuzzer's input minimisation fast; a full
	// indented year is ~3.6 KB and stalls it for a minute at a time.
	for _, y := range Seed() {
		y.Days = y.Days[:3]
		b, err := EncodeYearJSON(y)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Join(bytes.Fields(b), nil))
	}
	for _, s := range []string{
		`{"year":2026,"days":[]}`,
		`{"year":2026,"papers":null,"days":[{"name":"a","date":"2026-01-01","isOffDay":true}]}`,
		`{"year":2026,"days":[{"name":"a","date":"2026-13-01","isOffDay":true}]}`,
		`{"year":2026,"days":[{"name":"\ud800","date":"2026-01-01","isOffDay":false}]}`,
		`{"year":1e3,"days":null}`, `[]`, `null`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		y, err := ParseYearJSON(b)
		if err != nil {
			return
		}
		if err := y.Validate(); err != nil {
			t.Fatalf("parsed year does not validate: %v", err)
		}
		out, err := EncodeYearJSON(y)
		if err != nil {
			t.Fatalf("encode of parsed year: %v", err)
		}
		back, err := ParseYearJSON(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, y) {
			t.Fatalf("round trip changed the year:\n%+v\n%+v", y, back)
		}
		New(y).AddWorkingDays(Date{y.Year, 1, 1}, 30) // must not panic either
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-10-10", "2024-02-29", "2025-02-29", "0000-01-01", "9999-12-31", "2026-1-1", "", "+026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("ParseDate(%q) = %v (valid=%v)", s, d, d.Valid())
		}
		if fromDayNum(d.dayNum()) != d {
			t.Fatalf("day number round trip of %v", d)
		}
		b, err := d.MarshalText()
		if err != nil || string(b) != s {
			t.Fatalf("MarshalText = %q, %v", b, err)
		}
	})
}

func FuzzParseServiceHours(f *testing.F) {
	for _, s := range []string{"08:00-17:30", "00:00-24:00", "24:00-24:00", "17:30-08:00", "8:00-17:30", "08:60-09:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseServiceHours(s)
		if err != nil {
			return
		}
		if h.Validate() != nil || h.String() != s {
			t.Fatalf("ParseServiceHours(%q) = %+v -> %q", s, h, h.String())
		}
	})
}
