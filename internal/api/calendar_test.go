package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"suifang/internal/errs"
	"suifang/internal/store/storetest"
)

func TestAPICalendar(t *testing.T) {
	cal := &fakeCalendar{}
	e := newEnv(t, storetest.SQLite(t), cal)

	var wd workdaysJSON
	wantJSON(t, e.do("GET", "/api/v1/calendar/workdays?from=2026-09-30&n=3", e.tok1), &wd)
	if wd != (workdaysJSON{From: "2026-09-30", N: 3, Date: "2026-10-10"}) {
		t.Errorf("workdays = %+v", wd)
	}
	var day dayJSON
	wantJSON(t, e.do("GET", "/api/v1/calendar/days/2026-10-10", e.tok2), &day)
	if day != (dayJSON{Date: "2026-10-10", WorkingDay: true}) {
		t.Errorf("day = %+v", day)
	}
	wantJSON(t, e.do("GET", "/api/v1/calendar/days/2026-10-05", e.tok1), &day)
	if day.WorkingDay {
		t.Errorf("2026-10-05 = %+v", day)
	}
	// The calendar is asked for the token's own institution.
	want := []string{
		fmt.Sprintf("add %d %d 2026-09-30 3", e.h1, e.h1),
		fmt.Sprintf("day %d %d 2026-10-10", e.h2, e.h2),
		fmt.Sprintf("day %d %d 2026-10-05", e.h1, e.h1),
	}
	if fmt.Sprint(cal.calls) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", cal.calls, want)
	}

	wantProblem(t, e.do("GET", "/api/v1/calendar/workdays?from=2026-09-30&n=3", ""), http.StatusUnauthorized, "missing_token")

	for _, c := range []struct {
		query  string
		fields string
	}{
		{"from=2026-09-30", "n"},
		{"from=2026-09-30&n=", "n"},
		{"from=2026-09-30&n=x", "n"},
		{"from=2026-09-30&n=0", "n"},
		{"from=2026-09-30&n=-2", "n"},
		{"from=2026-09-30&n=1001", "n"},
		{"from=2026-09-30&n=1.5", "n"},
		{"n=3", "from"},
		{"from=2026-02-30&n=3", "from"},
		{"from=20260930&n=3", "from"},
		{"from=2026-9-30&n=3", "from"},
		{"from=2026-09-30T00:00:00Z&n=3", "from"},
		{"from=yesterday&n=zero", "from n"},
	} {
		w := e.do("GET", "/api/v1/calendar/workdays?"+c.query, e.tok1)
		code := "bad_" + c.fields
		if c.fields == "from" {
			code = "bad_date"
		}
		if strings.Contains(c.fields, " ") {
			code = "invalid_parameters"
		}
		p := wantProblem(t, w, http.StatusBadRequest, code)
		f, _ := p["errors"].(map[string]any)
		var got []string
		for _, name := range strings.Fields(c.fields) {
			if f[name] == nil {
				t.Errorf("%s: no field error for %s: %v", c.query, name, f)
			}
			got = append(got, name)
		}
		if len(f) != len(got) {
			t.Errorf("%s: field errors %v, want only %v", c.query, f, got)
		}
	}
	for _, bad := range []string{"2026-13-01", "tomorrow", "2026-1-1"} {
		p := wantProblem(t, e.do("GET", "/api/v1/calendar/days/"+bad, e.tok1), http.StatusBadRequest, "bad_date")
		if f, _ := p["errors"].(map[string]any); f["date"] != "bad_date" {
			t.Errorf("%s: errors %v", bad, p["errors"])
		}
	}
	if len(cal.calls) != 3 {
		t.Errorf("invalid requests reached the calendar: %v", cal.calls[3:])
	}

	// Errors of the calendar service map through errs.
	cal.err = errs.Field("from", "year_not_loaded", "no calendar data for 2199")
	p := wantProblem(t, e.do("GET", "/api/v1/calendar/workdays?from=2199-01-01&n=1", e.tok1), http.StatusBadRequest, "year_not_loaded")
	if p["detail"] != "no calendar data for 2199" {
		t.Errorf("detail %v", p["detail"])
	}
	cal.err = errs.New(errs.Forbidden, "out_of_scope", "outside your scope")
	wantProblem(t, e.do("GET", "/api/v1/calendar/days/2026-01-01", e.tok1), http.StatusForbidden, "out_of_scope")

	// An unclassified error is a 500 that reveals only the request id, which
	// is also in the log next to the real error.
	cal.err = errors.New("pq: password authentication failed for user secret")
	w := e.do("GET", "/api/v1/calendar/days/2026-01-01", e.tok1, "X-Request-Id", "req-42")
	p = wantProblem(t, w, http.StatusInternalServerError, "internal")
	if p["detail"] != "internal error (request id req-42)" || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("500 body leaks or lacks the request id: %s", w.Body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"request_id":"req-42"`) || !strings.Contains(logs, "secret") {
		t.Errorf("internal error not logged with its request id: %s", logs)
	}
}

func TestAPICalendarUnavailable(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)
	for _, path := range []string{"/api/v1/calendar/workdays?from=2026-09-30&n=3", "/api/v1/calendar/days/2026-10-10"} {
		wantProblem(t, e.do("GET", path, e.tok1), http.StatusServiceUnavailable, "calendar_unavailable")
		// Still behind authentication.
		wantProblem(t, e.do("GET", path, ""), http.StatusUnauthorized, "missing_token")
	}
	if strings.Contains(e.logs.String(), "calendar_unavailable") {
		t.Errorf("503 logged as an internal error: %s", e.logs.String())
	}
}
