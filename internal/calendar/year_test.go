package calendar

import (
	"reflect"
	"strings"
	"testing"
)

// seedFacts is every exception in the 2025 and 2026 notices, typed
// independently of seed/holidays.txt so a typo in either is caught.
var seedFacts = map[int][]struct {
	date, name string
	off        bool
}{
	2025: {
		{"2025-01-01", "元旦", true},
		{"2025-01-26", "春节", false},
		{"2025-01-28", "春节", true}, {"2025-01-29", "春节", true}, {"2025-01-30", "春节", true},
		{"2025-01-31", "春节", true}, {"2025-02-01", "春节", true}, {"2025-02-02", "春节", true},
		{"2025-02-03", "春节", true}, {"2025-02-04", "春节", true},
		{"2025-02-08", "春节", false},
		{"2025-04-04", "清明节", true}, {"2025-04-05", "清明节", true}, {"2025-04-06", "清明节", true},
		{"2025-04-27", "劳动节", false},
		{"2025-05-01", "劳动节", true}, {"2025-05-02", "劳动节", true}, {"2025-05-03", "劳动节", true},
		{"2025-05-04", "劳动节", true}, {"2025-05-05", "劳动节", true},
		{"2025-05-31", "端午节", true}, {"2025-06-01", "端午节", true}, {"2025-06-02", "端午节", true},
		{"2025-09-28", "国庆节、中秋节", false},
		{"2025-10-01", "国庆节、中秋节", true}, {"2025-10-02", "国庆节、中秋节", true},
		{"2025-10-03", "国庆节、中秋节", true}, {"2025-10-04", "国庆节、中秋节", true},
		{"2025-10-05", "国庆节、中秋节", true}, {"2025-10-06", "国庆节、中秋节", true},
		{"2025-10-07", "国庆节、中秋节", true}, {"2025-10-08", "国庆节、中秋节", true},
		{"2025-10-11", "国庆节、中秋节", false},
	},
	2026: {
		{"2026-01-01", "元旦", true}, {"2026-01-02", "元旦", true}, {"2026-01-03", "元旦", true},
		{"2026-01-04", "元旦", false},
		{"2026-02-14", "春节", false},
		{"2026-02-15", "春节", true}, {"2026-02-16", "春节", true}, {"2026-02-17", "春节", true},
		{"2026-02-18", "春节", true}, {"2026-02-19", "春节", true}, {"2026-02-20", "春节", true},
		{"2026-02-21", "春节", true}, {"2026-02-22", "春节", true}, {"2026-02-23", "春节", true},
		{"2026-02-28", "春节", false},
		{"2026-04-04", "清明节", true}, {"2026-04-05", "清明节", true}, {"2026-04-06", "清明节", true},
		{"2026-05-01", "劳动节", true}, {"2026-05-02", "劳动节", true}, {"2026-05-03", "劳动节", true},
		{"2026-05-04", "劳动节", true}, {"2026-05-05", "劳动节", true},
		{"2026-05-09", "劳动节", false},
		{"2026-06-19", "端午节", true}, {"2026-06-20", "端午节", true}, {"2026-06-21", "端午节", true},
		{"2026-09-20", "国庆节", false},
		{"2026-09-25", "中秋节", true}, {"2026-09-26", "中秋节", true}, {"2026-09-27", "中秋节", true},
		{"2026-10-01", "国庆节", true}, {"2026-10-02", "国庆节", true}, {"2026-10-03", "国庆节", true},
		{"2026-10-04", "国庆节", true}, {"2026-10-05", "国庆节", true}, {"2026-10-06", "国庆节", true},
		{"2026-10-07", "国庆节", true},
		{"2026-10-10", "国庆节", false},
	},
}

var seedPapers = map[int]string{
	2025: "https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm",
	2026: "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm",
}

func TestSeedMatchesFacts(t *testing.T) {
	years := Seed()
	if len(years) != 2 || years[0].Year != 2025 || years[1].Year != 2026 {
		t.Fatalf("Seed years = %v", years)
	}
	for _, y := range years {
		if err := y.Validate(); err != nil {
			t.Error(err)
		}
		if len(y.Papers) != 1 || y.Papers[0] != seedPapers[y.Year] {
			t.Errorf("%d papers = %v", y.Year, y.Papers)
		}
		facts := seedFacts[y.Year]
		if len(y.Days) != len(facts) {
			t.Errorf("%d: %d exceptions, want %d", y.Year, len(y.Days), len(facts))
			continue
		}
		for i, f := range facts {
			got := y.Days[i]
			if got.Date.String() != f.date || got.Name != f.name || got.OffDay != f.off {
				t.Errorf("%d days[%d] = %v %q off=%v, want %s %q off=%v", y.Year, i, got.Date, got.Name, got.OffDay, f.date, f.name, f.off)
			}
		}
	}
	// Seed returns fresh slices each call.
	years[0].Days[0].Name = "changed"
	if Seed()[0].Days[0].Name != "元旦" {
		t.Error("Seed shares state between calls")
	}
}

func TestYearJSONRoundTrip(t *testing.T) {
	for _, y := range Seed() {
		b, err := EncodeYearJSON(y)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseYearJSON(b)
		if err != nil {
			t.Fatalf("re-import %d: %v\n%s", y.Year, err, b)
		}
		if !reflect.DeepEqual(back, y) {
			t.Errorf("round trip %d:\n got %+v\nwant %+v", y.Year, back, y)
		}
	}
	// The holiday-cn shape with extra fields imports.
	src := `{"$schema":"x","year":2026,"papers":["u"],"days":[
		{"name":"国庆节","date":"2026-10-10","isOffDay":false,"extra":1},
		{"name":"国庆节","date":"2026-10-01","isOffDay":true}]}`
	y, err := ParseYearJSON([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Days) != 2 || y.Days[0].Date != (Date{2026, 10, 1}) || !y.Days[0].OffDay {
		t.Errorf("days not sorted/parsed: %+v", y.Days)
	}
	// Empty year without papers round-trips too.
	empty := Year{Year: 2027}
	b, err := EncodeYearJSON(empty)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseYearJSON(b); err != nil || !reflect.DeepEqual(back, empty) {
		t.Errorf("empty year: %+v, %v (%s)", back, err, b)
	}
}

func TestParseYearJSONErrors(t *testing.T) {
	day := func(name, date string) string {
		return `{"name":"` + name + `","date":"` + date + `","isOffDay":true}`
	}
	long := strings.Repeat("节", MaxNameLen+1)
	cases := []struct{ in, want string }{
		{`not json`, "year JSON"},
		{`{"days":[]}`, `missing "year"`},
		{`{"year":2026}`, `missing "days"`},
		{`{"year":1899,"days":[]}`, "year 1899 out of range"},
		{`{"year":2201,"days":[]}`, "year 2201 out of range"},
		{`{"year":"2026","days":[]}`, "year JSON"},
		{`{"year":2026,"days":[` + day("a", "2026-01-01") + `,` + day("b", "2026-01-02") + `,` + day("c", "2026-01-03") + `,` + day("d", "2026-13-01") + `]}`,
			`days[3]: date "2026-13-01": month 13 out of range`},
		{`{"year":2026,"days":[` + day("a", "2026-02-29") + `]}`, `days[0]: date "2026-02-29": day 29 out of range`},
		{`{"year":2026,"days":[` + day("a", "2025-12-31") + `]}`, "days[0]: date 2025-12-31 is not in year 2026"},
		{`{"year":2026,"days":[` + day("a", "2026-01-01") + `,` + day("b", "2026-01-01") + `]}`, "days[1]: duplicate date 2026-01-01 (also days[0])"},
		{`{"year":2026,"days":[` + day("", "2026-01-01") + `]}`, "days[0]: name is empty"},
		{`{"year":2026,"days":[` + day("  ", "2026-01-01") + `]}`, "days[0]: name is empty"},
		{`{"year":2026,"days":[` + day(long, "2026-01-01") + `]}`, "days[0]: name has 65 characters"},
		{`{"year":2026,"days":[{"name":"a","date":"2026-01-01"}]}`, `days[0]: missing "isOffDay"`},
		{`{"year":2026,"days":[{"name":"a","isOffDay":true}]}`, `days[0]: missing "date"`},
		{`{"year":2026,"days":[{"date":"2026-01-01","isOffDay":true}]}`, `days[0]: missing "name"`},
		{`{"year":2026,"papers":[""],"days":[]}`, "papers[0]: empty"},
		{`{"year":2026,"days":[]} trailing`, "year JSON"},
	}
	for _, tc := range cases {
		_, err := ParseYearJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseYearJSON(%.60s…) error = %v, want %q", tc.in, err, tc.want)
		}
	}
	// 64 characters is fine.
	ok := `{"year":2026,"days":[` + day(strings.Repeat("节", MaxNameLen), "2026-01-01") + `]}`
	if _, err := ParseYearJSON([]byte(ok)); err != nil {
		t.Error(err)
	}
	if _, err := EncodeYearJSON(Year{Year: 2026, Days: []Exception{{Date: Date{2026, 2, 30}, Name: "x"}}}); err == nil {
		t.Error("EncodeYearJSON accepted an invalid date")
	}
}

func TestParseSeedErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"off 01-01 x", "before any year"},
		{"year x", "bad year"},
		{"year 2026\nfoo 01-01 x", "unknown keyword"},
		{"year 2026\noff 01-32 x", "line 2"},
		{"year 2026\noff 01-05..01-02 x", "ends before it starts"},
		{"year 2026\noff 01-01", "name is empty"},
		{"year 2026\noff 01-01 a\nwork 01-01 b", "duplicate"},
		{"year 2026\nyear 2025", "increasing year order"},
		{"year 2026\npaper", "empty paper"},
	}
	for _, tc := range cases {
		_, err := parseSeed(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseSeed(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}
