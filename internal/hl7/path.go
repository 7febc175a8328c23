package hl7

import "strings"

// Get returns the unescaped value a path names, or "" when the path is
// malformed or the value absent. Paths:
//
//	PID-5          field 5 of the first PID
//	PID-5.1        component 1
//	PID-11.1.2     sub-component 2 of component 1
//	PID-3[2].1     component 1 of repetition 2 (1-based)
//	DG1[2]-3.1     the second DG1 segment
//
// A path that stops above a primitive names its first primitive, as the
// HAPI Terser does: "PID-5" is PID-5[1].1.1 (the family name). MSH-1 is
// the field separator and MSH-2 the encoding characters, verbatim.
func (m *Message) Get(path string) string {
	if m == nil {
		return ""
	}
	name, rest, ok := strings.Cut(path, "-")
	if !ok {
		return ""
	}
	occ := 1
	if i := strings.IndexByte(name, '['); i >= 0 {
		n, ok := bracket(name[i:])
		if !ok {
			return ""
		}
		name, occ = name[:i], n
	}
	for i := range m.Segments {
		if m.Segments[i].Name != name {
			continue
		}
		if occ--; occ == 0 {
			return m.Segments[i].Get(rest)
		}
	}
	return ""
}

// Get returns the value at "F[r].C.S" within the segment (see Message.Get).
func (s *Segment) Get(path string) string {
	if s == nil {
		return ""
	}
	f, r, c, sub, ok := parseFieldPath(path)
	if !ok {
		return ""
	}
	return s.Field(f).Rep(r).Component(c).Sub(sub)
}

// parseFieldPath parses "F[r].C.S"; omitted parts are 1.
func parseFieldPath(p string) (f, r, c, s int, ok bool) {
	r, c, s = 1, 1, 1
	head, tail, _ := strings.Cut(p, ".")
	if i := strings.IndexByte(head, '['); i >= 0 {
		if r, ok = bracket(head[i:]); !ok {
			return
		}
		head = head[:i]
	}
	if f, ok = number(head); !ok {
		return
	}
	if tail != "" {
		cs, ss, hasSub := strings.Cut(tail, ".")
		if c, ok = number(cs); !ok {
			return
		}
		if hasSub {
			if s, ok = number(ss); !ok {
				return
			}
		}
	} else if strings.HasSuffix(p, ".") {
		return 0, 0, 0, 0, false
	}
	return f, r, c, s, true
}

// bracket parses "[n]" exactly.
func bracket(s string) (int, bool) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, false
	}
	return number(s[1 : len(s)-1])
}

// number parses a positive decimal of at most 6 digits.
func number(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}
