package intake

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Limits on operation names: a stay rarely has more than a handful, and a
// name is a line of text, not a note.
const (
	maxProcedures    = 20
	maxProcedureName = 200
)

// SplitProcedures reads a 手术名称 cell: names separated by ；, ;, 、 or a
// line break (HIS exports list several operations in one cell).
func SplitProcedures(v string) ([]string, error) {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '；' || r == ';' || r == '、' || r == '\n' || r == '\r' })
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if utf8.RuneCountInString(p) > maxProcedureName {
			return nil, errors.New("手术名称过长 / surgery name longer than 200 characters")
		}
		out = append(out, p)
	}
	if len(out) > maxProcedures {
		return nil, errors.New("手术名称过多 / more than 20 surgery names")
	}
	return out, nil
}

// clipRunes cuts s to at most n characters.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
