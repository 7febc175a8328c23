package hl7

import (
	"strings"
	"unicode/utf8"
)

// UnescapeText decodes HL7 escape sequences in one primitive value:
// \F\ \S\ \T\ \R\ \E\ (the delimiters), \P\ (truncation character, 2.7+),
// \Xhh...\ (bytes given in hex) and \.br\ (line break). Unknown or
// malformed sequences are kept literally. Bytes from \X..\ that are not
// UTF-8 are read as ISO-8859-1.
func (d Delimiters) UnescapeText(s string) string { return d.unescape(s, "") }

// unescape is UnescapeText with the message's encoding, used to read \X..\
// bytes that are not UTF-8.
func (d Delimiters) unescape(s, enc string) string {
	e := d.Escape
	if e == 0 || strings.IndexByte(s, e) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, e)
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+1:]
		j := strings.IndexByte(rest, e)
		if j < 0 { // unterminated: keep literally
			b.WriteString(s[i:])
			break
		}
		seq := rest[:j]
		if out, ok := d.escapeValue(seq, enc); ok {
			b.WriteString(out)
		} else {
			b.WriteByte(e)
			b.WriteString(seq)
			b.WriteByte(e)
		}
		s = rest[j+1:]
	}
	return b.String()
}

func (d Delimiters) escapeValue(seq, enc string) (string, bool) {
	one := func(c byte) (string, bool) {
		if c == 0 {
			return "", false
		}
		return string(c), true
	}
	switch seq {
	case "F":
		return one(d.Field)
	case "S":
		return one(d.Component)
	case "T":
		return one(d.Subcomponent)
	case "R":
		return one(d.Repetition)
	case "E":
		return one(d.Escape)
	case "P":
		return one(d.Truncation)
	case ".br", ".sp":
		return "\n", true
	}
	if len(seq) >= 3 && seq[0] == 'X' && len(seq)%2 == 1 {
		raw := make([]byte, 0, len(seq)/2)
		for k := 1; k < len(seq); k += 2 {
			hi, ok1 := unhex(seq[k])
			lo, ok2 := unhex(seq[k+1])
			if !ok1 || !ok2 {
				return "", false
			}
			raw = append(raw, hi<<4|lo)
		}
		if utf8.Valid(raw) {
			return string(raw), true
		}
		return decodeBytes(raw, enc), true
	}
	return "", false
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// EscapeText encodes text for use as one primitive value: each delimiter and
// the escape character become escape sequences, and line breaks (\r\n, \n,
// \r) become \.br\.
func (d Delimiters) EscapeText(s string) string {
	e := d.Escape
	if e == 0 {
		e = '\\'
	}
	var b strings.Builder
	b.Grow(len(s))
	seq := func(code string) {
		b.WriteByte(e)
		b.WriteString(code)
		b.WriteByte(e)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == e:
			seq("E")
		case c == d.Field && c != 0:
			seq("F")
		case c == d.Component && c != 0:
			seq("S")
		case c == d.Subcomponent && c != 0:
			seq("T")
		case c == d.Repetition && c != 0:
			seq("R")
		case c == d.Truncation && c != 0:
			seq("P")
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			seq(".br")
		case c == '\n':
			seq(".br")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
