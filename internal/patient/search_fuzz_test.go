package patient

import (
	"strings"
	"testing"
)

// FuzzSearchText checks how a search box's text becomes SQL arguments: a
// LIKE pattern part has no wildcard left unescaped (a typed % or _ matches
// itself), and a phone number keeps only what is dialled.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"李建国", "138 0013-8000", "50%_off", `a\b`, `\%`, "+86 138", "张_明%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		esc := likeEscape(s)
		// Undo the escaping left to right: every %, _ and \ must have come
		// with its escape, and undoing gives the text back.
		var back strings.Builder
		for i := 0; i < len(esc); i++ {
			c := esc[i]
			if c == '%' || c == '_' {
				t.Fatalf("%q: unescaped wildcard in %q", s, esc)
			}
			if c == '\\' {
				if i+1 == len(esc) {
					t.Fatalf("%q: dangling escape in %q", s, esc)
				}
				i++
				c = esc[i]
			}
			back.WriteByte(c)
		}
		if back.String() != s {
			t.Fatalf("%q: escaping is not reversible: %q", s, esc)
		}
		for _, r := range phoneDigits(s) {
			if (r < '0' || r > '9') && r != '+' {
				t.Fatalf("%q: phoneDigits kept %q", s, r)
			}
		}
	})
}
