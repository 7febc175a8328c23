// Package api is Suifang's JSON API under /api/v1 for integrations (HIS
// interface engines, data warehouses). Callers authenticate with an API token
// (Authorization: Bearer sft_…); browser sessions are not accepted here.
//
// Conventions: snake_case fields, RFC 3339 times, YYYY-MM-DD dates, cursor
// pagination (?limit=&cursor=, response {"items","next_cursor"}), and errors
// as application/problem+json (RFC 9457) carrying a stable "code". Every
// errs.Invalid error, field errors included, answers 400; field errors list
// the offending fields in "errors": {"field": "code"} (JSON paths such as
// "patient.mrn" for request bodies, which are decoded strictly: an unknown
// field is an error).
//
// Every route is declared once in routes.go; the OpenAPI document served at
// /api/v1/openapi.json is generated from that table.
package api

import (
	"time"

	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"suifang/internal/calendar/caldb"
	"suifang/internal/complaint"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/kpi"
	"suifang/internal/notice"
	"suifang/internal/patient"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// CalendarAPI is what the API needs of the working-day calendar.
type CalendarAPI interface {
	// AddWorkdays returns the date n working days after from (counting starts
	// the day after) for the institution, as YYYY-MM-DD strings.
	AddWorkdays(ctx context.Context, p *access.Principal, inst int64, from string, n int) (string, error)
	// IsWorkday reports whether date (YYYY-MM-DD) is a working day of inst.
	IsWorkday(ctx context.Context, p *access.Principal, inst int64, date string) (bool, error)
}

// Deps are the services the API adapts.
type Deps struct {
	Auth  *auth.Service
	Org   *org.Service
	Audit *audit.Service
	Log   *slog.Logger
	// Calendar may be nil: the calendar routes then answer 503 with code
	// "calendar_unavailable".
	Calendar CalendarAPI
	// Version is reported as info.version of the OpenAPI document.
	Version string
	// The follow-up core; nil in tests that only exercise the skeleton.
	Patients *patient.Service
	Followup *followup.Service
	Importer *importer.Service
	CalDB    *caldb.Service
	Now      func() time.Time
	// Notices may be nil: the notice routes then answer 503.
	Notices *notice.Service
	// Complaints may be nil: the complaint routes then answer 503.
	Complaints *complaint.Service
	// Abnormal may be nil: the abnormal-report routes then answer 503.
	Abnormal *abnormal.Service
	// KPI may be nil: the report routes then answer 503.
	KPI *kpi.Service
}

type server struct {
	d       Deps
	log     *slog.Logger
	mux     *http.ServeMux
	openapi []byte
}

// New returns the handler for every path under /api/v1/. It expects full
// request paths (the app mounts it at "/api/v1/" without stripping).
func New(d Deps) http.Handler {
	s := &server{d: d, log: d.Log, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	table := routes()
	s.openapi = openAPIDocument(table, d.Version)

	methods := map[string][]string{}
	for _, rt := range table {
		s.mux.Handle(rt.Method+" "+rt.Path, s.endpoint(rt))
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	// A method-less pattern is less specific than "GET /same/path", so it
	// catches exactly the other methods of a known path.
	for path, ms := range methods {
		s.mux.Handle(path, methodNotAllowed(s, ms))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &httpError{status: http.StatusNotFound, code: "not_found", detail: "no such API endpoint"})
	})
	return s
}

func methodNotAllowed(s *server, methods []string) http.Handler {
	allow := slices.Clone(methods)
	if slices.Contains(allow, http.MethodGet) && !slices.Contains(allow, http.MethodHead) {
		allow = append(allow, http.MethodHead)
	}
	slices.Sort(allow)
	header := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", header)
		s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			detail: fmt.Sprintf("method %s is not allowed here; allowed: %s", r.Method, header)})
	})
}

type ridKey struct{}

// requestIDOf returns the request id the middleware put into ctx.
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(ridKey{}).(string)
	return id
}

// requestID takes the caller's X-Request-Id when it is a sane token and
// makes one up otherwise.
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id != "" && len(id) <= 128 && !strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c))
	}) {
		return id
	}
	return rand.Text()
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := requestID(r)
	w.Header().Set("X-Request-Id", rid)
	r = r.WithContext(context.WithValue(r.Context(), ridKey{}, rid))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.fail(w, r, fmt.Errorf("api: panic: %v", v))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// endpoint wraps a route: authentication unless public, then the handler,
// whose value is written as JSON with 200 (or the status of a statusBody)
// or whose error as a problem.
func (s *server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *access.Principal
		if !rt.Public {
			var err error
			if p, err = s.authenticate(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		v, err := rt.handle(s, r, p)
		if err != nil {
			// Refusals are audited here, once for every route, also those
			// answered as "not found".
			if refused, ok := refusalOf(err); ok && p != nil && s.d.Audit != nil {
				if aerr := s.d.Audit.Refused(r.Context(), p, r, errs.CodeOf(refused)); aerr != nil {
					s.log.ErrorContext(r.Context(), "audit refusal", "request_id", requestIDOf(r.Context()), "err", aerr)
				}
			}
			s.fail(w, r, err)
			return
		}
		status := http.StatusOK
		if sb, ok := v.(statusBody); ok {
			status, v = sb.status, sb.body
			for k, vs := range sb.header {
				w.Header()[k] = vs
			}
		}
		s.writeJSON(w, r, status, v)
	})
}

const maxTokenLen = 512

var (
	errNoToken  = errs.New(errs.Unauthenticated, "missing_token", "send an API token as Authorization: Bearer <token>")
	errBadToken = errs.New(errs.Unauthenticated, "bad_token", "invalid API token")
)

// authenticate resolves the bearer token; sessions are not accepted.
func (s *server) authenticate(r *http.Request) (*access.Principal, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return nil, errNoToken
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > maxTokenLen {
		return nil, errBadToken
	}
	return s.d.Auth.AuthenticateToken(r.Context(), tok, clientIP(r))
}

func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
