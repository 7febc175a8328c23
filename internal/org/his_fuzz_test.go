package org

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzHISCode: whatever a HIS sends as a department code, hisCode gives
// either nothing or a code that can be stored and typed back: trimmed,
// valid UTF-8, 1–32 characters, no control characters, stable when
// cleaned again.
func FuzzHISCode(f *testing.F) {
	for _, s := range []string{"0301", " W05 ", "心内科", "ICU-1", "03\x0001", "\xff\xfe", strings.Repeat("科", 33), "PV1-10^内科", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := hisCode(s)
		if c == "" {
			return
		}
		if c != strings.TrimSpace(c) || !utf8.ValidString(c) || utf8.RuneCountInString(c) > 32 {
			t.Fatalf("hisCode(%q) = %q", s, c)
		}
		for _, r := range c {
			if unicode.IsControl(r) {
				t.Fatalf("hisCode(%q) kept a control character", s)
			}
		}
		if hisCode(c) != c {
			t.Fatalf("hisCode not stable on %q", c)
		}
	})
}
