package calendar

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed seed/holidays.txt
var seedFS embed.FS

const seedPath = "seed/holidays.txt"

// Seed returns the embedded years (2025 and 2026), sorted by year. It parses
// the small file on every call so callers get fresh slices they may modify.
// It panics only if the embedded file is corrupt, which tests rule out.
func Seed() []Year {
	b, err := seedFS.ReadFile(seedPath)
	if err != nil {
		panic("calendar: embedded seed missing: " + err.Error())
	}
	years, err := parseSeed(string(b))
	if err != nil {
		panic("calendar: embedded seed corrupt: " + err.Error())
	}
	return years
}

// parseSeed reads the line format documented at the top of the seed file.
func parseSeed(text string) ([]Year, error) {
	var years []Year
	cur := -1 // index into years of the open block
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kw, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if kw == "year" {
			n, err := strconv.Atoi(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad year %q", lineNo, rest)
			}
			years = append(years, Year{Year: n})
			cur = len(years) - 1
			continue
		}
		if cur < 0 {
			return nil, fmt.Errorf("line %d: %q before any year line", lineNo, kw)
		}
		y := &years[cur]
		switch kw {
		case "paper":
			if rest == "" {
				return nil, fmt.Errorf("line %d: empty paper", lineNo)
			}
			y.Papers = append(y.Papers, rest)
		case "off", "work":
			span, name, _ := strings.Cut(rest, " ")
			name = strings.TrimSpace(name)
			from, to, err := parseSpan(y.Year, span)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			for d := from; !d.After(to); d = d.AddDays(1) {
				y.Days = append(y.Days, Exception{Date: d, Name: name, OffDay: kw == "off"})
			}
		default:
			return nil, fmt.Errorf("line %d: unknown keyword %q", lineNo, kw)
		}
	}
	for i := range years {
		if err := years[i].Validate(); err != nil {
			return nil, fmt.Errorf("year %d: %w", years[i].Year, err)
		}
		if i > 0 && years[i].Year <= years[i-1].Year {
			return nil, fmt.Errorf("year %d: blocks must be in increasing year order", years[i].Year)
		}
		sortDays(years[i].Days)
	}
	return years, nil
}

// parseSpan reads "MM-DD" or "MM-DD..MM-DD" within year.
func parseSpan(year int, s string) (from, to Date, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if from, err = parseDate(fmt.Sprintf("%04d-%s", year, a)); err != nil {
		return Date{}, Date{}, fmt.Errorf("date %q: %w", a, err)
	}
	if !isRange {
		return from, from, nil
	}
	if to, err = parseDate(fmt.Sprintf("%04d-%s", year, b)); err != nil {
		return Date{}, Date{}, fmt.Errorf("date %q: %w", b, err)
	}
	if to.Before(from) {
		return Date{}, Date{}, fmt.Errorf("range %q ends before it starts", s)
	}
	return from, to, nil
}
