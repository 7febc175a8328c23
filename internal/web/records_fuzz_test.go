package web

import (
	"net/url"
	"testing"

	"suifang/internal/errs"
)

// FuzzRecordQuery feeds the record browser's query parser any query
// string: it never panics, an error is always a field error, and what it
// accepts survives a round trip through the pager's URLs unchanged.
func FuzzRecordQuery(f *testing.F) {
	for _, s := range []string{
		"", "dept=3&from=2026-10-01&to=2026-10-31&satisfaction=dissatisfied&level=3&number=SF-H1-2026&offset=50",
		"from=10/01/2026", "to=2026-02-30", "level=-1", "level=99", "satisfaction=meh", "offset=-5", "dept=abc",
		"number=" + url.QueryEscape("SF-\u00e9\u4e2d-%_"), "from=%zz", "level=+1&dept=-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		rq, flt, err := parseRecordQuery(v)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("%q: error %v is not a field error", raw, err)
			}
			return
		}
		if flt.Limit != recordsPageSize || flt.Offset < 0 || flt.Level < 0 || flt.Level > 9 || flt.DepartmentID < 0 {
			t.Fatalf("%q: filter out of range: %+v", raw, flt)
		}
		if (!flt.From.IsZero() && !flt.From.Valid()) || (!flt.To.IsZero() && !flt.To.Valid()) {
			t.Fatalf("%q: invalid dates %v %v", raw, flt.From, flt.To)
		}
		again, flt2, err := parseRecordQuery(rq.values(0, rq.Offset))
		if err != nil || again != rq || flt2 != flt {
			t.Fatalf("%q: round trip changed %+v into %+v (%v)", raw, rq, again, err)
		}
	})
}
