package pdf

import (
	"strings"
	"unicode/utf8"
)

// Widths in thousandths of the font size. The document declares the same
// numbers in the CIDFont's W array (printable ASCII, CIDs 1–95 under
// UniGB-UTF16-H, half width; everything else the default 1000), so the
// layout here and the reader's glyph positions always agree.
const (
	halfWidth = 500
	fullWidth = 1000
)

// runeWidth is r's advance in thousandths of the font size.
func runeWidth(r rune) int {
	if r >= 0x20 && r <= 0x7e {
		return halfWidth
	}
	return fullWidth
}

// Width is the advance of s set at size points in STSong-Light.
func Width(s string, size float64) float64 { return widthWith(runeWidth, s, size) }

// widthWith is the advance of s under the rune widths rw.
func widthWith(rw func(rune) int, s string, size float64) float64 {
	n := 0
	for _, r := range s {
		n += rw(r)
	}
	return float64(n) * size / 1000
}

// Clean makes s safe to set: invalid UTF-8 becomes U+FFFD, every line end
// (CR LF, CR, U+2028, U+2029) becomes "\n", a tab becomes one space, and
// other control characters and non-characters are dropped (they have no
// glyph and no meaning on paper).
func Clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case r == '\n' || r == 0x2028 || r == 0x2029:
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r >= 0x7f && r < 0xa0:
		case r == 0xfffe || r == 0xffff || r >= 0xfdd0 && r <= 0xfdef:
		default:
			b.WriteRune(r) // invalid bytes decode to U+FFFD and are written as such
		}
	}
	return b.String()
}

// closing punctuation must not begin a line (避头点); wrapping carries the
// character before it down instead.
const closing = "，。、；：？！）》」』】〉”’,.;:?!)]}%·…"

// Wrap breaks s into lines no wider than width points at size points.
// Line ends in s are kept; Latin words break at spaces when they can and
// CJK text between any two characters. Spaces where a line breaks stay at
// the end of that line (they draw nothing), so joining the lines of one
// paragraph gives back the cleaned paragraph exactly: every character is
// placed once. Only a single character wider than width can overflow.
func Wrap(s string, size, width float64) []string { return wrapWith(runeWidth, s, size, width) }

// wrapWith is Wrap under the rune widths rw (an embedded font's).
func wrapWith(rw func(rune) int, s string, size, width float64) []string {
	var out []string
	for _, para := range strings.Split(Clean(s), "\n") {
		out = append(out, wrapLine(rw, para, size, width)...)
	}
	return out
}

// token is a Latin word (a run of printable non-space ASCII), one space, or
// one other character.
type token struct {
	text string
	w    int
}

func tokens(rw func(rune) int, s string) []token {
	var ts []token
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > 0x20 && r <= 0x7e {
			j := i
			for j < len(s) && s[j] > 0x20 && s[j] <= 0x7e {
				j++
			}
			w := 0
			for _, c := range s[i:j] {
				w += rw(c)
			}
			ts = append(ts, token{s[i:j], w})
			i = j
			continue
		}
		ts = append(ts, token{s[i : i+n], rw(r)})
		i += n
	}
	return ts
}

func wrapLine(rw func(rune) int, s string, size, width float64) []string {
	limit := int(width * 1000 / size) // in thousandths of the size
	if limit < fullWidth {
		limit = fullWidth // at least one character a line
	}
	var lines []string
	var cur []token
	w := 0
	flush := func() {
		var b strings.Builder
		for _, t := range cur {
			b.WriteString(t.text)
		}
		lines = append(lines, b.String())
		cur, w = cur[:0], 0
	}
	for _, t := range tokens(rw, s) {
		if t.text == " " || w+t.w <= limit {
			cur, w = append(cur, t), w+t.w
			continue
		}
		if len(cur) > 0 {
			// Carry the last CJK character down rather than start the line
			// with closing punctuation.
			var carry *token
			if strings.Contains(closing, t.text) && len(cur) > 1 {
				if last := cur[len(cur)-1]; last.text != " " && utf8.RuneCountInString(last.text) == 1 && last.text[0] >= utf8.RuneSelf {
					carry = &last
					cur = cur[:len(cur)-1]
				}
			}
			flush()
			if carry != nil {
				cur, w = append(cur, *carry), carry.w
			}
		}
		if w+t.w <= limit {
			cur, w = append(cur, t), w+t.w
			continue
		}
		// A word longer than the line: break it by character.
		for _, r := range t.text {
			cw := rw(r)
			if w+cw > limit && len(cur) > 0 {
				flush()
			}
			cur, w = append(cur, token{string(r), cw}), w+cw
		}
	}
	flush()
	return lines
}
