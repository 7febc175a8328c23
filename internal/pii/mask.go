package pii

import (
	"strings"
	"unicode"
)

// The Mask functions produce display forms for lists and exports. They
// accept any string (including invalid UTF-8, which is read as U+FFFD),
// never panic, work on runes rather than bytes, always return valid UTF-8,
// trim surrounding space, and never show a rune that is not in the input.
// Any non-empty input gets at least one rune masked.

const maskRune = '*'

// MaskName masks a personal name. Names containing Han characters keep
// their first and last rune: 张三→张*, 张小明→张*明, 欧阳小明→欧**明 (compound
// surnames are not special-cased: the rule is positional); spaces inside
// such names are dropped. Other names keep the first rune of each
// whitespace-separated word: "Adam Everyman"→"A*** E*******". A one-rune
// name or word becomes "*".
func MaskName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	words := strings.Fields(s)
	if strings.ContainsFunc(s, isHan) {
		rs := []rune(strings.Join(words, ""))
		var b strings.Builder
		b.Grow(len(s) + len(rs))
		switch n := len(rs); n {
		case 1:
			b.WriteRune(maskRune)
		case 2:
			b.WriteRune(rs[0])
			b.WriteRune(maskRune)
		default:
			b.WriteRune(rs[0])
			writeMask(&b, n-2)
			b.WriteRune(rs[n-1])
		}
		return b.String()
	}
	var b strings.Builder
	b.Grow(len(s) + len(words))
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		rs := []rune(w)
		if len(rs) == 1 {
			b.WriteRune(maskRune)
			continue
		}
		b.WriteRune(rs[0])
		writeMask(&b, len(rs)-1)
	}
	return b.String()
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// MaskPhone masks a phone number digit by digit, keeping separators
// (space - ( ) + . / and their full-width forms) and masking any other
// non-digit rune. With 7 or more digits it keeps the last 4 and up to the
// first 3 digits, always masking at least 3 (4 from 8 digits up):
// 13812345678→138****5678, 010-12345678→010-****5678, 12345678→****5678.
// With fewer digits all but the last 2 are masked (at least one always is):
// 12345→***45. A leading China country code (+86, 0086, or 86 before an
// 11-digit mobile number) is kept and not counted:
// +86 138 1234 5678→+86 138 **** 5678.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var prefix string
	rest := s
	for _, cc := range []string{"+86", "0086", "86"} {
		r, ok := strings.CutPrefix(s, cc)
		if !ok {
			continue
		}
		if n := countDigits(r); n >= 7 && (cc != "86" || n == 11 && firstDigit(r) == 1) {
			prefix, rest = cc, r
		}
		break
	}
	n := countDigits(rest)
	var head, tail int
	switch {
	case n >= 7:
		head, tail = min(3, max(0, n-8)), 4
	case n >= 1:
		tail = min(2, n-1)
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(prefix)
	i := 0
	for _, r := range rest {
		switch {
		case isDigitRune(r):
			if i < head || i >= n-tail {
				b.WriteRune(r)
			} else {
				b.WriteRune(maskRune)
			}
			i++
		case isPhoneSeparator(r):
			b.WriteRune(r)
		default:
			b.WriteRune(maskRune)
		}
	}
	return b.String()
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if isDigitRune(r) {
			n++
		}
	}
	return n
}

// firstDigit returns the value of the first digit in s, or -1.
func firstDigit(s string) int {
	for _, r := range s {
		if d, ok := digitValue(r); ok {
			return d
		}
	}
	return -1
}

func isPhoneSeparator(r rune) bool {
	switch r {
	case ' ', '-', '(', ')', '+', '.', '/', '\u3000', '－', '（', '）', '＋':
		return true
	}
	return false
}

// MaskNationalID masks an ID number: 18 runes keep the first 3 and last 4
// (110***********1234), 15 runes the first 3 and last 3, other lengths the
// first and last rune; 1 or 2 runes are masked completely.
func MaskNationalID(s string) string {
	rs := []rune(strings.TrimSpace(s))
	n := len(rs)
	var head, tail int
	switch {
	case n == 18:
		head, tail = 3, 4
	case n == 15:
		head, tail = 3, 3
	case n >= 3:
		head, tail = 1, 1
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range rs[:head] {
		b.WriteRune(r)
	}
	writeMask(&b, n-head-tail)
	for _, r := range rs[n-tail:] {
		b.WriteRune(r)
	}
	return b.String()
}

// MaskAddress keeps the first 6 runes of an address (roughly province and
// city/district) and replaces the rest with a single "****", whatever its
// length: 北京市朝阳区建国路88号→北京市朝阳区****. An address of 6 runes or
// fewer keeps only its first half.
func MaskAddress(s string) string {
	rs := []rune(strings.TrimSpace(s))
	n := len(rs)
	if n == 0 {
		return ""
	}
	keep := 6
	if n <= keep {
		keep = n / 2
	}
	var b strings.Builder
	b.Grow(4*keep + 4)
	for _, r := range rs[:keep] {
		b.WriteRune(r)
	}
	writeMask(&b, 4)
	return b.String()
}

func writeMask(b *strings.Builder, n int) {
	for range n {
		b.WriteRune(maskRune)
	}
}

// MaskText masks every number of six digits or more in free text (a
// rejected import row or message): ID numbers (with a trailing X) and phone
// numbers keep their first 3 and last 4 digits, shorter runs their first
// and last one. Everything else is kept, so a person can still tell which
// row it was.
func MaskText(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && unicode.IsDigit(rs[j]) {
			j++
		}
		if j-i == 17 && j < len(rs) && (rs[j] == 'X' || rs[j] == 'x') {
			j++ // an 18-character ID number ending in X
		}
		n := j - i
		head, tail := n, 0
		switch {
		case n >= 11:
			head, tail = 3, 4
		case n >= 6:
			head, tail = 1, 1
		}
		for _, r := range rs[i : i+head] {
			b.WriteRune(r)
		}
		writeMask(&b, n-head-tail)
		for _, r := range rs[j-tail : j] {
			b.WriteRune(r)
		}
		i = j
	}
	return b.String()
}
