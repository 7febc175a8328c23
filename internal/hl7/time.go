package hl7

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime parses an HL7 TS/DTM value:
// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]. Missing parts are the
// start of the period (a bare date is midnight). Without an offset the
// time is in loc (nil means UTC). A TS's second component (degree of
// precision) must already be stripped — Get does that.
//
// Some HIS send "YYYY-MM-DD HH:MM:SS" in HL7 fields; that is accepted too.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		n := min(len(s), 19)
		s = strings.NewReplacer("-", "", ":", "", " ", "", "T", "").Replace(s[:n]) + s[n:]
	}
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("hl7: invalid date/time %q: %s", truncate(s, 40), why)
	}
	if loc == nil {
		loc = time.UTC
	}
	body := s
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body = s[:i]
		z := s[i+1:]
		if len(z) != 4 {
			return bad("offset must be +/-HHMM")
		}
		hh, ok1 := digitsN(z[:2])
		mm, ok2 := digitsN(z[2:])
		if !ok1 || !ok2 || hh > 14 || mm > 59 {
			return bad("offset must be +/-HHMM")
		}
		off := hh*3600 + mm*60
		if s[i] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	frac := ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body, frac = body[:i], body[i+1:]
		if len(body) != 14 || frac == "" || len(frac) > 9 {
			return bad("fraction needs YYYYMMDDHHMMSS and 1–9 digits")
		}
	}
	switch len(body) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return bad("want YYYY[MM[DD[HH[MM[SS]]]]]")
	}
	v := [6]int{0, 1, 1, 0, 0, 0}
	for k := 0; k*2+4 <= len(body); k++ {
		var n int
		var ok bool
		if k == 0 {
			n, ok = digitsN(body[:4])
		} else {
			n, ok = digitsN(body[2+k*2 : 4+k*2])
		}
		if !ok {
			return bad("not all digits")
		}
		v[k] = n
	}
	ns := 0
	if frac != "" {
		n, ok := digitsN(frac)
		if !ok {
			return bad("not all digits")
		}
		for k := len(frac); k < 9; k++ {
			n *= 10
		}
		ns = n
	}
	if v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return bad("out of range")
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], ns, loc)
	if t.Day() != v[2] || int(t.Month()) != v[1] {
		return bad("no such day")
	}
	return t, nil
}

func digitsN(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// FormatTime formats t as an HL7 DTM with seconds and offset,
// e.g. "20250301101500+0800".
func FormatTime(t time.Time) string { return t.Format("20060102150405-0700") }
