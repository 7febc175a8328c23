package intake

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Numbers as HIS exports, HL7 XTN fields and FHIR telecom carry them.
func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"+86 139-1234-5601", "13912345601", nil},
		{"0086 13912345601", "13912345601", nil},
		{"8613912345601", "13912345601", nil},
		{"139 1234 5601", "13912345601", nil},
		{"１３９１２３４５６０１", "13912345601", nil}, // full-width, typed with a Chinese IME
		{"(010) 6552-1234", "010-65521234", nil},
		{"+86 10 6552 1234", "010-65521234", nil},
		{"+86 (0)10 6552 1234", "010-65521234", nil},
		{"0571-8888-8888", "0571-88888888", nil},
		{"010-6400 0000转123", "010-64000000-123", nil},
		{"021 6400 0000 ext. 8", "021-64000000-8", nil},
		{"6552 1234", "65521234", nil},
		{"400-810-8888", "4008108888", nil},
		{"+1 617 555 0100", "+16175550100", nil},
		{"7777", "", ErrPhoneLength},
		{"1111", "", ErrPhoneMobile},
		{"555-327-4925", "", ErrPhoneLength}, // Synthea's US numbers
		{"139 1234 560", "", ErrPhoneMobile},
		{"12121212", "", ErrPhoneMobile},
		{"本人", "", ErrPhoneChars},
		{"abc", "", ErrPhoneChars},
		{"138001380001234567890", "", ErrPhoneMobile},
	} {
		got, err := NormalizePhone(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParsePhonesKeepsTheGoodOnes(t *testing.T) {
	ok, bad := ParsePhones("+86 139-1234-5601；7777、010-6552 1234/13912345601")
	if strings.Join(ok, ",") != "13912345601,010-65521234" || len(bad) != 1 || bad[0].Raw != "7777" {
		t.Fatalf("ok %q bad %+v", ok, bad)
	}
	w := PhoneWarning("PID-13", bad[0])
	if w.Field != "PID-13" || strings.Contains(w.Value, "7777") || strings.Contains(w.Reason, "7777") || w.Value == "" {
		t.Errorf("warning %+v shows the number or nothing", w)
	}
}

// FuzzNormalizePhone: whatever comes in, an accepted number is short,
// dialable characters only, a fixed point, and 11 digits when mobile.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+86 139-1234-5601", "7777", "(010) 6552-1234", "010-6400 0000转123", "+1 617 555 0100",
		"0086 13912345601", "6552 1234转12", "１３９１２３４５６０１", "+86 (0)10 6552 1234", "--", "+", "0", "x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizePhone(s)
		if err != nil {
			if n != "" {
				t.Fatalf("%q: error %v with result %q", s, err, n)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("%q: invalid UTF-8 in error", s)
			}
			return
		}
		if n == "" || len(n) > 32 {
			t.Fatalf("%q → %q", s, n)
		}
		for i, r := range n {
			if !(r >= '0' && r <= '9' || r == '-' || r == '+' && i == 0) {
				t.Fatalf("%q → %q: character %q", s, n, r)
			}
		}
		if n[0] == '1' && len(n) != 11 {
			t.Fatalf("%q → %q: mobile not 11 digits", s, n)
		}
		again, err := NormalizePhone(n)
		if err != nil || again != n {
			t.Fatalf("%q → %q → %q, %v: not a fixed point", s, n, again, err)
		}
	})
}
