package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"suifang/internal/errs"
)

// problemBase prefixes the stable problem type URIs; the code follows it.
const problemBase = "https://suifang.invalid/problems/"

// problem is an RFC 9457 problem detail with Suifang's extensions.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// httpError is a failure of the HTTP layer itself (unknown route, wrong
// method, missing optional service) that has no errs.Kind.
type httpError struct {
	status int
	code   string
	detail string
}

func (e *httpError) Error() string { return e.code + ": " + e.detail }

// hideAs answers shown ("not found") for an object the caller may not see
// or that does not exist, so a token cannot probe. A refusal stays
// recognisable underneath, so the endpoint still audits it.
func hideAs(shown, err error) error {
	switch {
	case errs.Is(err, errs.Forbidden):
		return &hiddenRefusal{shown: shown, refused: err}
	case errs.Is(err, errs.NotFound):
		return shown
	}
	return err
}

// hiddenRefusal is a Forbidden answered as not found.
type hiddenRefusal struct{ shown, refused error }

func (h *hiddenRefusal) Error() string { return h.shown.Error() }
func (h *hiddenRefusal) Unwrap() error { return h.shown }

// refusalOf reports the refusal in err, shown or hidden, for the audit.
func refusalOf(err error) (error, bool) {
	if h, ok := errors.AsType[*hiddenRefusal](err); ok {
		return h.refused, true
	}
	return err, errs.KindOf(err) == errs.Forbidden
}

// statusOf is the one place an error kind becomes an HTTP status. Invalid is
// always 400, with or without field errors.
func statusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.TooMany:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// problemOf turns err into the problem to send. Internal errors say nothing
// but "internal error" and the request id.
func problemOf(err error, rid string) problem {
	p := problem{RequestID: rid}
	var he *httpError
	switch {
	case errors.As(err, &he):
		p.Status, p.Code, p.Detail = he.status, he.code, he.detail
	case statusOf(errs.KindOf(err)) == http.StatusInternalServerError:
		p.Status, p.Code, p.Detail = http.StatusInternalServerError, "internal", "internal error (request id "+rid+")"
	default:
		e, _ := errs.As(err)
		p.Status, p.Code, p.Detail = statusOf(e.Kind), errs.CodeOf(err), e.Msg
		if len(e.Fields) > 0 {
			p.Errors = e.Fields
		}
	}
	p.Type = problemBase + p.Code
	p.Title = http.StatusText(p.Status)
	return p
}

// fail writes err as a problem, logging internal errors with the request id.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	rid := requestIDOf(r.Context())
	p := problemOf(err, rid)
	if p.Status >= 500 && p.Status != http.StatusServiceUnavailable {
		s.log.ErrorContext(r.Context(), "api internal error", "request_id", rid,
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		v := `Bearer realm="suifang"`
		if p.Code != errNoToken.Code {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	if e, ok := errs.As(err); ok && e.Kind == errs.TooMany && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", errs.RetryAfterSeconds(e.RetryAfter))
	}
	b, mErr := json.Marshal(p)
	if mErr != nil { // cannot happen: problem holds only strings and ints
		b = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal"}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// writeJSON writes v with status.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
