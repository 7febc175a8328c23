package web

import (
	"fmt"
	"strconv"
	"strings"
)

// A complaint event's detail is stored for the hash chain and the audit
// trail as the service wrote it: "key=value" tokens with ids and codes
// (channel=counter … owner=3), free-text lines and an idempotency line.
// The PDF sheet is read by people and archived as a legal document, so
// eventDetail puts it into the reader's words: labels from the catalog,
// names for ids, and no machine lines.

// detailNames resolves the ids an event detail carries.
type detailNames struct {
	user func(id int64) string
	dept func(id int64) string
	cat  func(code string) string // the institution's category names
}

// eventDetail renders one event's stored detail, line by line. A line it
// cannot read entirely is kept as written: nothing is dropped but the
// idempotency line, which only the service reads back.
func (s *Server) eventDetail(lang string, n detailNames, detail string) string {
	var out []string
	for _, line := range strings.Split(detail, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "idempotency_key="):
			continue
		}
		if r, ok := s.detailLine(lang, n, line); ok {
			if r != "" { // "" was only row ids
				out = append(out, r)
			}
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// detailText are keys whose value is the rest of the line, free text.
var detailText = map[string]string{
	"plan": "cp.plan", "compensation": "cp.compensation", "team": "cpp.k.team", "members": "cpp.k.team",
	"notice": "cpp.notice_no", "into": "cpp.k.into", "from": "cpp.k.from",
}

func (s *Server) detailLine(lang string, n detailNames, line string) (string, bool) {
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	// Reassignment: "owner 3 → 5".
	if rest, ok := strings.CutPrefix(line, "owner "); ok {
		a, b, ok := strings.Cut(rest, " → ")
		x, e1 := strconv.ParseInt(a, 10, 64)
		y, e2 := strconv.ParseInt(b, 10, 64)
		if ok && e1 == nil && e2 == nil {
			return t("cp.owner") + "：" + n.user(x) + " → " + n.user(y), true
		}
		return "", false
	}
	if k, v, ok := strings.Cut(line, "="); ok {
		if label, free := detailText[k]; free {
			return t(label) + "：" + strings.TrimSpace(v), true
		}
	}
	// "open_tasks=2 confirmed"
	if rest, ok := strings.CutPrefix(line, "open_tasks="); ok {
		if num, ok := strings.CutSuffix(rest, " confirmed"); ok {
			if k, err := strconv.Atoi(num); err == nil {
				return t("cpp.k.open_tasks", k), true
			}
		}
		return "", false
	}
	// key=value tokens among words: every key must be known, or the line
	// stays as written. Words run together; labelled values stand apart.
	var parts, words []string
	flush := func() {
		if len(words) > 0 {
			parts = append(parts, strings.Join(words, " "))
			words = nil
		}
	}
	kv := 0
	for _, tok := range strings.Fields(line) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok || k == "" {
			if tok == "bytes" && len(words) > 0 {
				tok = t("cpp.k.bytes")
			}
			words = append(words, tok)
			continue
		}
		kv++
		p, ok := s.detailToken(lang, n, k, v)
		if !ok {
			return "", false
		}
		if p != "" {
			flush()
			parts = append(parts, p)
		}
	}
	flush()
	if kv == 0 {
		return "", false
	}
	return strings.Join(parts, "；"), true
}

// detailToken renders one key=value; "" leaves out a value that says
// nothing (no department, no source record).
func (s *Server) detailToken(lang string, n detailNames, k, v string) (string, bool) {
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	id := func() (int64, bool) {
		x, err := strconv.ParseInt(v, 10, 64)
		return x, err == nil
	}
	ids := func(name func(int64) string) (string, bool) {
		var names []string
		for _, p := range strings.Split(v, ",") {
			if p == "" {
				continue
			}
			x, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return "", false
			}
			names = append(names, name(x))
		}
		return strings.Join(names, "、"), true
	}
	// one names an id value; skipZero leaves out 0 (no department, no
	// source record). many names a comma-separated list of ids.
	one := func(label string, name func(int64) string, skipZero bool) (string, bool) {
		x, ok := id()
		switch {
		case !ok:
			return "", false
		case x == 0 && skipZero:
			return "", true
		}
		return t(label) + "：" + name(x), true
	}
	many := func(label string, name func(int64) string) (string, bool) {
		names, ok := ids(name)
		if !ok {
			return "", false
		}
		return t(label) + "：" + names, true
	}
	var label, val string
	switch k {
	case "channel":
		label, val = "cps.channel", s.label(lang, "cp.ch.", v)
	case "category":
		label, val = "cp.category", n.cat(v)
	case "severity":
		label, val = "cp.severity", s.label(lang, "cp.sev.", v)
	case "complexity":
		label, val = "cp.complexity", s.label(lang, "cp.cx.", v)
	case "how":
		label, val = "cpp.k.how", s.label(lang, "cp.way.", v)
	case "grade":
		label, val = "cp.satisfaction", s.label(lang, "cp.grade.", v)
	case "reason":
		label, val = "cp.wait", s.label(lang, "cp.wait.", v)
	case "milestone":
		label, val = "cp.milestone", s.label(lang, "cp.m.", v)
	case "deadline":
		label, val = "cp.deadline", v
	case "level":
		label, val = "cpp.k.level", v
	case "to":
		label, val = "cpp.k.to", s.label(lang, "role.", v)
	case "department":
		return one("cpp.k.department", n.dept, true)
	case "departments":
		return many("cp.dept", n.dept)
	case "owner":
		return one("cp.owner", n.user, false)
	case "users":
		return many("cpp.k.users", n.user)
	case "record":
		return one("cpp.k.record", func(x int64) string { return fmt.Sprintf("#%d", x) }, true)
	case "due":
		label, val = "cpp.k.due", v
	case "sha256":
		label, val = "cpp.k.sha256", v
	case "cancelled_tasks":
		label, val = "cpp.k.cancelled_tasks", v
	case "member", "user", "task", "interview", "evidence":
		// Row ids: the words around them already say who or what.
		if _, ok := id(); !ok {
			return "", false
		}
		return "", true
	default:
		return "", false
	}
	return t(label) + "：" + val, true
}
