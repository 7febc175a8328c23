package notify

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text is a parsed message text: literal pieces and {name} placeholders.
// The syntax is deliberately tiny so a hospital administrator can edit it:
// {name} inserts a parameter, {{ and }} are a literal brace, nothing else
// is special. Names are lower-case ASCII letters, digits and '_', starting
// with a letter.
type Text struct {
	parts []part
}

type part struct {
	lit  string
	name string // placeholder when non-empty
}

// maxTextLen bounds a template body; SMS clouds refuse far less.
const maxTextLen = 2000

// ParseText parses a template text.
func ParseText(src string) (*Text, error) {
	if !utf8.ValidString(src) {
		return nil, fmt.Errorf("template text is not valid UTF-8")
	}
	if len(src) > maxTextLen {
		return nil, fmt.Errorf("template text is longer than %d bytes", maxTextLen)
	}
	t := &Text{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '{' && i+1 < len(src) && src[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(src) && src[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf("a lone } at byte %d (write }} for a literal brace)", i)
		case c == '{':
			end := strings.IndexByte(src[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("placeholder at byte %d is not closed with }", i)
			}
			name := src[i+1 : i+1+end]
			if !validName(name) {
				return nil, fmt.Errorf("placeholder {%s} at byte %d: a name is a-z, 0-9 and _, starting with a letter", name, i)
			}
			flush()
			t.parts = append(t.parts, part{name: name})
			i += end + 2
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return t, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Names lists the placeholders in order of first use.
func (t *Text) Names() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range t.parts {
		if p.name != "" && !seen[p.name] {
			seen[p.name] = true
			out = append(out, p.name)
		}
	}
	return out
}

// Render fills the placeholders; a missing parameter renders empty (callers
// check completeness against the template's whitelist first).
func (t *Text) Render(params map[string]string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name != "" {
			b.WriteString(params[p.name])
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// String gives back the source form (escaping literal braces), so a parsed
// text round-trips.
func (t *Text) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name != "" {
			b.WriteString("{" + p.name + "}")
			continue
		}
		b.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(p.lit))
	}
	return b.String()
}
