package pdf

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a\r\nb\rc\nd", "a\nb\nc\nd"},
		{"tab\there", "tab here"},
		{"bell\x07 del\x7f c1\u0085 nul\x00", "bell del c1 nul"},
		{"bad\xff\xfe", "bad\ufffd\ufffd"},
		{"sep\u2028par\u2029", "sep\npar\n"},
		{"nonchar\uffff\ufdd0", "nonchar"},
		{"😀𠀇中文 ok", "😀𠀇中文 ok"},
	} {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWidth(t *testing.T) {
	// ASCII is half width, everything else (CJK, emoji) full: at 10 pt
	// "ab中😀" is 5 + 5 + 10 + 10.
	if w := Width("ab中😀", 10); w != 30 {
		t.Fatalf("width %v, want 30", w)
	}
}

func TestWrap(t *testing.T) {
	// At size 10, width 50 holds ten half-width or five full-width
	// characters.
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"fits", "中文abc", []string{"中文abc"}},
		{"CJK breaks anywhere", "一二三四五六七八", []string{"一二三四五", "六七八"}},
		{"words break at spaces", "hello world again", []string{"hello ", "world ", "again"}},
		{"a long word breaks by letter", "abcdefghijklmnop", []string{"abcdefghij", "klmnop"}},
		{"closing punctuation never starts a line", "一二三四五。六", []string{"一二三四", "五。六"}},
		{"line ends are kept", "一\n\n二", []string{"一", "", "二"}},
		{"mixed, the colon takes 说 along", "患者ABC说：很好", []string{"患者ABC", "说：很好"}},
		{"empty", "", []string{""}},
		{"emoji is one full-width character", "😀😀😀😀😀😀", []string{"😀😀😀😀😀", "😀"}},
	} {
		got := Wrap(c.in, 10, 50)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Wrap(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

// checkWrap is the property the layout relies on: every character of the
// cleaned input is placed exactly once, in order, and no line is wider
// than the width unless it is a single character.
func checkWrap(t *testing.T, s string, size, width float64) {
	lines := Wrap(s, size, width)
	clean := Clean(s)
	if got, want := strings.Join(lines, ""), strings.ReplaceAll(clean, "\n", ""); got != want {
		t.Fatalf("Wrap(%q) placed %q, want %q", s, got, want)
	}
	if len(lines) < strings.Count(clean, "\n")+1 {
		t.Fatalf("Wrap(%q) lost line ends: %q", s, lines)
	}
	limit := max(width, size) // a line holds at least one full-width character
	for _, l := range lines {
		if v := strings.TrimRight(l, " "); Width(v, size) > limit+1e-9 && utf8.RuneCountInString(v) > 1 {
			t.Fatalf("Wrap(%q): line %q is %v wide, limit %v", s, l, Width(v, size), limit)
		}
	}
}

func TestWrapProperty(t *testing.T) {
	for _, s := range []string{mixed, "  leading and trailing  ", "a\tb\r\nc", strings.Repeat("很长的中文没有标点", 30), strings.Repeat("x", 500)} {
		for _, w := range []float64{5, 20, 50, 137.5, ContentWidth()} {
			checkWrap(t, s, 10, w)
		}
	}
}

func FuzzWrap(f *testing.F) {
	for _, s := range []string{"", mixed, "一二三四五。六", "hello world", "\x00\r\n\t\u2028", "\xff\xfe", "😀😀😀", "ab。。。。。。。", "a " + strings.Repeat(" ", 40) + "b"} {
		f.Add(s, uint8(10), uint16(50))
	}
	f.Fuzz(func(t *testing.T, s string, size uint8, width uint16) {
		sz := float64(size%30) + 4
		checkWrap(t, s, sz, float64(width%600))
		// Any string lays out and writes without panicking.
		d := New(Info{Title: s, Created: created, Header: s})
		d.Para(s, Style{Size: sz, Bold: size%2 == 0})
		d.Table(Table{Widths: []float64{1, 2}, Header: []Cell{{Text: s}}, Rows: [][]Cell{{{Text: s, Span: 2}}, {{Text: s}, {Text: s}}}})
		d.Bytes()
	})
}
