package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/store/storetest"
)

func TestAPIRouting(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)

	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		w := e.do(m, "/api/v1/me", e.tok1)
		p := wantProblem(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
		if a := w.Header().Get("Allow"); a != "GET, HEAD" {
			t.Errorf("%s: Allow %q", m, a)
		}
		if !strings.Contains(p["detail"].(string), m) {
			t.Errorf("detail %v", p["detail"])
		}
	}
	w := e.do("POST", "/api/v1/departments/12", "")
	wantProblem(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
	if w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", w.Header().Get("Allow"))
	}

	for _, path := range []string{"/api/v1/", "/api/v1/nope", "/api/v1/me/extra", "/api/v1/departments/1/x", "/api/v1/calendar/days", "/elsewhere"} {
		wantProblem(t, e.do("GET", path, e.tok1), http.StatusNotFound, "not_found")
		wantProblem(t, e.do("POST", path, ""), http.StatusNotFound, "not_found")
	}

	// HEAD works where GET does, without a body.
	w = e.do("HEAD", "/api/v1/me", e.tok1)
	if w.Code != http.StatusOK {
		t.Errorf("HEAD /me: %d", w.Code)
	}

	// Request ids: a sane caller id is echoed, anything else replaced.
	if got := e.do("GET", "/api/v1/me", e.tok1, "X-Request-Id", "abc-123").Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("echoed request id %q", got)
	}
	for _, bad := range []string{"", "has space", "line\nbreak", strings.Repeat("x", 200)} {
		got := e.do("GET", "/api/v1/me", e.tok1, "X-Request-Id", bad).Header().Get("X-Request-Id")
		if got == "" || got == bad {
			t.Errorf("request id for %q = %q", bad, got)
		}
	}
}

func TestAPIStatusMapping(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{errs.New(errs.Invalid, "x_bad", "m"), 400, "x_bad"},
		{errs.Field("f", "bad_f", "m"), 400, "bad_f"},
		{errs.ErrNotFound, 404, "not_found"},
		{errs.New(errs.Conflict, "taken", "m"), 409, "taken"},
		{errs.ErrForbidden, 403, "forbidden"},
		{errs.New(errs.Unauthenticated, "", "m"), 401, "unauthenticated"},
		{errs.New(errs.Internal, "db_down", "secret"), 500, "internal"},
		{errors.New("boom"), 500, "internal"},
		{errCalendarUnavailable, 503, "calendar_unavailable"},
	} {
		p := problemOf(c.err, "rid")
		if p.Status != c.status || p.Code != c.code || p.Type != problemBase+c.code || p.RequestID != "rid" {
			t.Errorf("%v → %+v, want %d %s", c.err, p, c.status, c.code)
		}
		if c.status == 500 && p.Detail != "internal error (request id rid)" {
			t.Errorf("%v → detail %q", c.err, p.Detail)
		}
	}
	if p := problemOf(errs.Field("f", "bad_f", "m"), ""); p.Errors["f"] != "bad_f" {
		t.Errorf("field errors %v", p.Errors)
	}
}

// A panicking handler becomes a logged 500 problem, not a dropped connection.
func TestAPIPanicRecovered(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), panicCalendar{})
	w := e.do("GET", "/api/v1/calendar/days/2026-01-01", e.tok1, "X-Request-Id", "p-1")
	wantProblem(t, w, http.StatusInternalServerError, "internal")
	if !strings.Contains(e.logs.String(), "p-1") {
		t.Errorf("panic not logged: %s", e.logs.String())
	}
}

type panicCalendar struct{ CalendarAPI }

func (panicCalendar) IsWorkday(ctx context.Context, p *access.Principal, inst int64, date string) (bool, error) {
	panic("calendar exploded")
}
