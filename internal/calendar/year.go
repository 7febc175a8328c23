package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Year bounds keep a Calendar's dense day table small and reject typos.
const (
	MinYear = 1900
	MaxYear = 2200
	// MaxNameLen is the longest holiday name accepted, in characters.
	MaxNameLen = 64
)

// Exception is a date that differs from the Mon–Fri default.
// OffDay=true is a holiday; OffDay=false is an adjusted working day (调休).
type Exception struct {
	Date   Date
	Name   string
	OffDay bool
}

// Year is one year's official exceptions and the notices they come from.
type Year struct {
	Year   int
	Papers []string
	Days   []Exception
}

// Validate checks the rules ParseYearJSON enforces, so hand-built years can
// be checked before New silently drops bad entries.
func (y Year) Validate() error {
	if y.Year < MinYear || y.Year > MaxYear {
		return fmt.Errorf("calendar: year %d out of range %d..%d", y.Year, MinYear, MaxYear)
	}
	for i, p := range y.Papers {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("calendar: papers[%d]: empty", i)
		}
	}
	seen := make(map[Date]int, len(y.Days))
	for i, e := range y.Days {
		if !e.Date.Valid() {
			return fmt.Errorf("calendar: days[%d]: invalid date %d-%d-%d", i, e.Date.Year, int(e.Date.Month), e.Date.Day)
		}
		if e.Date.Year != y.Year {
			return fmt.Errorf("calendar: days[%d]: date %s is not in year %d", i, e.Date, y.Year)
		}
		if err := checkName(e.Name); err != nil {
			return fmt.Errorf("calendar: days[%d]: %w", i, err)
		}
		if j, dup := seen[e.Date]; dup {
			return fmt.Errorf("calendar: days[%d]: duplicate date %s (also days[%d])", i, e.Date, j)
		}
		seen[e.Date] = i
	}
	return nil
}

func checkName(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("name is empty")
	}
	if !utf8.ValidString(s) {
		return errors.New("name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLen {
		return fmt.Errorf("name has %d characters, max %d", n, MaxNameLen)
	}
	return nil
}

// jsonYear mirrors the holiday-cn file shape. Pointers detect missing
// fields: a missing isOffDay must not silently mean "working day".
type jsonYear struct {
	Year   *int       `json:"year"`
	Papers []string   `json:"papers"`
	Days   *[]jsonDay `json:"days"`
}

type jsonDay struct {
	Name     *string `json:"name"`
	Date     *string `json:"date"`
	IsOffDay *bool   `json:"isOffDay"`
}

// ParseYearJSON parses and validates one year in the holiday-cn JSON shape
// ({"year":..,"papers":[..],"days":[{"name","date","isOffDay"}]}). Unknown
// fields are ignored. Days are returned sorted by date.
func ParseYearJSON(b []byte) (Year, error) {
	var raw jsonYear
	if err := json.Unmarshal(b, &raw); err != nil {
		return Year{}, fmt.Errorf("calendar: year JSON: %w", err)
	}
	if raw.Year == nil {
		return Year{}, errors.New(`calendar: year JSON: missing "year"`)
	}
	if raw.Days == nil {
		return Year{}, errors.New(`calendar: year JSON: missing "days"`)
	}
	y := Year{Year: *raw.Year}
	if len(raw.Papers) > 0 {
		y.Papers = raw.Papers
	}
	if len(*raw.Days) > 0 {
		y.Days = make([]Exception, 0, len(*raw.Days))
	}
	for i, jd := range *raw.Days {
		switch {
		case jd.Date == nil:
			return Year{}, fmt.Errorf(`calendar: days[%d]: missing "date"`, i)
		case jd.Name == nil:
			return Year{}, fmt.Errorf(`calendar: days[%d]: missing "name"`, i)
		case jd.IsOffDay == nil:
			return Year{}, fmt.Errorf(`calendar: days[%d]: missing "isOffDay"`, i)
		}
		d, err := parseDate(*jd.Date)
		if err != nil {
			return Year{}, fmt.Errorf("calendar: days[%d]: date %q: %w", i, *jd.Date, err)
		}
		y.Days = append(y.Days, Exception{Date: d, Name: *jd.Name, OffDay: *jd.IsOffDay})
	}
	if err := y.Validate(); err != nil {
		return Year{}, err
	}
	sortDays(y.Days)
	return y, nil
}

func sortDays(days []Exception) {
	slices.SortFunc(days, func(a, b Exception) int { return a.Date.Compare(b.Date) })
}

type outYear struct {
	Year   int      `json:"year"`
	Papers []string `json:"papers"`
	Days   []outDay `json:"days"`
}

type outDay struct {
	Name     string `json:"name"`
	Date     string `json:"date"`
	IsOffDay bool   `json:"isOffDay"`
}

// EncodeYearJSON writes y in the holiday-cn shape (days sorted by date) so
// an exported year re-imports with ParseYearJSON. Invalid years are refused.
func EncodeYearJSON(y Year) ([]byte, error) {
	if err := y.Validate(); err != nil {
		return nil, err
	}
	out := outYear{Year: y.Year, Papers: y.Papers, Days: make([]outDay, 0, len(y.Days))}
	if out.Papers == nil {
		out.Papers = []string{}
	}
	days := slices.Clone(y.Days)
	sortDays(days)
	for _, e := range days {
		out.Days = append(out.Days, outDay{Name: e.Name, Date: e.Date.String(), IsOffDay: e.OffDay})
	}
	return json.MarshalIndent(out, "", "  ")
}
