package web

import (
	"strings"
	"testing"
)

// TestStylesheetBlocksClose: every room appends its own section to app.css,
// and a merge once lost the "}" of a @media block, which put every later
// section (notices, surveys) inside it, unstyled at desktop width. Braces
// must balance, and each room's section must start at the top level.
func TestStylesheetBlocksClose(t *testing.T) {
	b, err := assets.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	depth, line, sections := 0, 1, 0
	for i := 0; i < len(css); i++ {
		switch c := css[i]; {
		case c == '\n':
			line++
		case strings.HasPrefix(css[i:], "/*"):
			end := strings.Index(css[i+2:], "*/")
			if end < 0 {
				t.Fatalf("line %d: a comment is never closed", line)
			}
			comment := css[i : i+2+end+2]
			if strings.HasPrefix(comment, "/* ----") {
				sections++
				if depth != 0 {
					t.Errorf("line %d: section %q starts inside a block (depth %d); a \"}\" above is missing", line, comment, depth)
				}
			}
			line += strings.Count(comment, "\n")
			i += len(comment) - 1
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth < 0 {
				t.Fatalf("line %d: a \"}\" closes nothing", line)
			}
		}
	}
	if depth != 0 {
		t.Errorf("app.css ends %d block(s) deep", depth)
	}
	if sections < 3 {
		t.Errorf("found %d room sections (/* ---- … */); the check reads the file wrongly", sections)
	}
}
