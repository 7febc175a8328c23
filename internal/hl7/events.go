package hl7

import (
	"fmt"
	"strings"
)

// DefaultIgnoredEvents are the ADT trigger events a follow-up system has no
// use for but an interface engine broadcasting its whole ADT feed sends
// anyway (transfers, registrations, leaves of absence, person and merge
// updates). They are acknowledged AA and not stored.
const DefaultIgnoredEvents = "A02,A04-A07,A09,A10,A14-A17,A21-A29,A31,A40-A47,A60"

// maxEventItems bounds a list: a real one has a dozen items.
const maxEventItems = 100

// EventSet is a set of trigger events written as a list such as
// "A02,A04-A07,A60": codes of letters followed by digits, and ranges of
// codes that share the letters and the number of digits. Ranges are kept as
// ranges, so "A000-A999" costs no more than "A02".
type EventSet struct {
	items []eventRange
}

type eventRange struct {
	prefix string // upper-case letters, e.g. "A"
	width  int    // number of digits, e.g. 2
	lo, hi int
}

// ParseEventSet reads a comma- or space-separated list. "", "none" and "-"
// give the empty set. Codes are case-insensitive.
func ParseEventSet(s string) (EventSet, error) {
	var set EventSet
	t := strings.TrimSpace(s)
	if t == "" || strings.EqualFold(t, "none") || t == "-" {
		return set, nil
	}
	items := strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\t' })
	if len(items) > maxEventItems {
		return EventSet{}, fmt.Errorf("hl7: event list: more than %d items", maxEventItems)
	}
	for _, it := range items {
		from, to, isRange := strings.Cut(it, "-")
		p1, w1, n1, ok := splitEvent(from)
		if !ok {
			return EventSet{}, fmt.Errorf("hl7: event list: %q is not a trigger event such as A02", clipText(from, 20))
		}
		r := eventRange{prefix: p1, width: w1, lo: n1, hi: n1}
		if isRange {
			p2, w2, n2, ok := splitEvent(to)
			if !ok {
				return EventSet{}, fmt.Errorf("hl7: event list: %q is not a trigger event such as A07", clipText(to, 20))
			}
			if p2 != p1 || w2 != w1 || n2 < n1 {
				return EventSet{}, fmt.Errorf("hl7: event list: range %q must run upwards between codes of one kind (A04-A07)", clipText(it, 30))
			}
			r.hi = n2
		}
		set.items = append(set.items, r)
	}
	return set, nil
}

// splitEvent reads letters then 1–4 digits ("A04", "Z99", "ZB1" is not one).
func splitEvent(s string) (prefix string, width, n int, ok bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	if i == 0 || i > 3 {
		return "", 0, 0, false
	}
	digits := s[i:]
	if len(digits) == 0 || len(digits) > 4 {
		return "", 0, 0, false
	}
	for j := 0; j < len(digits); j++ {
		if digits[j] < '0' || digits[j] > '9' {
			return "", 0, 0, false
		}
		n = n*10 + int(digits[j]-'0')
	}
	return s[:i], len(digits), n, true
}

// Has reports whether the trigger event is in the set.
func (e EventSet) Has(trigger string) bool {
	p, w, n, ok := splitEvent(trigger)
	if !ok {
		return false
	}
	for _, r := range e.items {
		if r.prefix == p && r.width == w && n >= r.lo && n <= r.hi {
			return true
		}
	}
	return false
}

// Empty reports whether the set has no events.
func (e EventSet) Empty() bool { return len(e.items) == 0 }

// String writes the set back in the list form ParseEventSet reads.
func (e EventSet) String() string {
	parts := make([]string, 0, len(e.items))
	for _, r := range e.items {
		s := fmt.Sprintf("%s%0*d", r.prefix, r.width, r.lo)
		if r.hi != r.lo {
			s += fmt.Sprintf("-%s%0*d", r.prefix, r.width, r.hi)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// clipText cuts s to n bytes for error messages (not on a rune boundary
// check: %q quotes whatever is left).
func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
