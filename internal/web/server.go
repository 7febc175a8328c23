// Package web is the staff web UI: server-rendered html/template pages
// embedded in the binary, zh-CN first and English second, working without
// JavaScript. Handlers are thin: they parse a form, call a service and render;
// every rule and every scope check lives in the services.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar/caldb"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/kpi"
	"suifang/internal/mllpauth"
	"suifang/internal/notice"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pdf"
	"suifang/internal/survey"
)

//go:embed templates static
var assets embed.FS

// Deps are the services the UI calls.
type Deps struct {
	Auth       *auth.Service
	Org        *org.Service
	Audit      *audit.Service
	Calendar   *caldb.Service
	Patients   *patient.Service
	Followup   *followup.Service
	Importer   *importer.Service
	Notify     *notify.Service
	Notices    *notice.Service
	Complaints *complaint.Service
	Abnormal   *abnormal.Service
	KPI        *kpi.Service      // follow-up KPIs (the dashboard)
	Senders    *mllpauth.Service // nil: no HL7 senders page
	Log        *slog.Logger
	Now        func() time.Time
	Version    string
	Survey     *survey.Service
	// SecureCookies marks cookies Secure; on by default behind HTTPS.
	SecureCookies bool
	// PDFFont is embedded in PDF documents; nil: non-embedded STSong-Light.
	PDFFont *pdf.Font
}

// Server renders the staff UI.
type Server struct {
	Deps
	cat   *catalogs
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New parses the embedded templates and catalogs and builds the routes.
func New(d Deps) (*Server, error) {
	cat, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, cat: cat, mux: http.NewServeMux()}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler is the UI with its middleware: request id, panic recovery,
// security headers, cross-origin protection for unsafe methods.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, s.newReq(r), errs.New(errs.Forbidden, "cross_origin", "cross-origin request refused"))
	}))
	return s.withRequestID(s.recoverer(securityHeaders(cop.Handler(s.mux))))
}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"t":        func(lang, key string, args ...any) string { return s.cat.T(lang, key, args...) },
		"date":     func(t time.Time) string { return fmtTime(t, "2006-01-02") },
		"datetime": func(t time.Time) string { return fmtTime(t, "2006-01-02 15:04") },
		"has":      func(list []access.Role, r string) bool { return roleIn(list, access.Role(r)) },
		"join":     strings.Join,
		"add":      func(a, b int) int { return a + b },
		"eq64":     func(a, b int64) bool { return a == b },
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(assets, "templates/layout/*.html")
	if err != nil {
		return fmt.Errorf("web: parse layout: %w", err)
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return fmt.Errorf("web: list templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(assets, f)
		if err != nil {
			return fmt.Errorf("web: parse %s: %w", f, err)
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")] = t
	}
	return nil
}

func fmtTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(cst).Format(layout)
}

// cst is China Standard Time; staff pages show local wall-clock times.
var cst = time.FixedZone("CST", 8*3600)

func roleIn(list []access.Role, r access.Role) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

type ctxKey int

const reqIDKey ctxKey = 0

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqIDKey, id)))
	})
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(reqIDKey).(string)
	return id
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.renderError(w, r, s.newReq(r), fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets a strict CSP: everything from this origin only, no
// inline script or style, no framing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// req is what a handler knows about the request it serves.
type req struct {
	Lang  string
	P     *access.Principal
	User  *auth.User
	Token string
	Path  string
}

func (s *Server) newReq(r *http.Request) *req {
	return &req{Lang: s.cat.pick(r), Path: r.URL.Path}
}

// clientIP is the peer address; a proxy's X-Forwarded-For is not trusted by
// default because a client can forge it.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

const sessionCookie = "suifang_session"

type handler func(w http.ResponseWriter, r *http.Request, q *req) error

// public wraps a handler that needs no login.
func (s *Server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := s.newReq(r)
		if err := h(w, r, q); err != nil {
			s.renderError(w, r, q, err)
		}
	}
}

// private wraps a handler that needs a session; without one the browser is
// sent to the login page, and a user who must change the password is sent
// to the password page first.
func (s *Server) private(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := s.newReq(r)
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			s.toLogin(w, r, "")
			return
		}
		p, u, err := s.Auth.Authenticate(r.Context(), ck.Value, clientIP(r))
		if errs.Is(err, errs.Unauthenticated) {
			s.clearCookie(w, sessionCookie)
			s.toLogin(w, r, errs.CodeOf(err))
			return
		}
		if err != nil {
			s.renderError(w, r, q, err)
			return
		}
		q.P, q.User, q.Token = p, u, ck.Value
		if u.MustChangePassword && r.URL.Path != "/password" && r.URL.Path != "/logout" {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if err := h(w, r, q); err != nil {
			s.renderError(w, r, q, err)
		}
	}
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request, reason string) {
	target := "/login"
	v := []string{}
	if reason != "" {
		v = append(v, "reason="+reason)
	}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		v = append(v, "next="+url.QueryEscape(r.URL.RequestURI()))
	}
	if len(v) > 0 {
		target += "?" + strings.Join(v, "&")
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// page is the data every template gets.
type page struct {
	Lang    string
	Title   string
	P       *access.Principal
	User    *auth.User
	Nav     string
	Flash   string
	Error   string
	Fields  map[string]string
	Version string
	Path    string
	Data    any
	Unread  int // unread in-app notifications, shown in the header
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, q *req, status int, name, nav string, data any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	pg := page{Lang: q.Lang, P: q.P, User: q.User, Nav: nav, Version: s.Version, Data: data,
		Path: r.URL.RequestURI(), Flash: s.flash(r, q), Unread: s.unread(r.Context(), q.P)}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	if pg.Flash != "" {
		s.clearCookie(w, "flash")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(buf.String()))
	return err
}

// renderForm re-displays a form with the user's input and the error marked.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, q *req, name, nav string, data any, ferr error) error {
	e, ok := errs.As(ferr)
	if !ok || e.Kind != errs.Invalid && e.Kind != errs.Conflict {
		return ferr
	}
	t, found := s.pages[name]
	if !found {
		return fmt.Errorf("web: no template %q", name)
	}
	pg := page{Lang: q.Lang, P: q.P, User: q.User, Nav: nav, Version: s.Version, Data: data, Path: r.URL.RequestURI(),
		Error: s.cat.errText(q.Lang, e.Code, e.Msg), Fields: e.Fields, Unread: s.unread(r.Context(), q.P)}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_, err := w.Write([]byte(buf.String()))
	return err
}

// renderError maps the error vocabulary to a page in the user's language.
// Internal errors are logged with the request id and never shown raw.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, q *req, err error) {
	status := http.StatusInternalServerError
	code, msg := "internal", ""
	switch errs.KindOf(err) {
	case errs.Invalid:
		status = http.StatusBadRequest
	case errs.NotFound:
		status = http.StatusNotFound
	case errs.Conflict:
		status = http.StatusConflict
	case errs.Forbidden:
		status = http.StatusForbidden
		s.auditRefused(r, q, err)
	case errs.TooMany:
		status = http.StatusTooManyRequests
		if e, ok := errs.As(err); ok {
			w.Header().Set("Retry-After", errs.RetryAfterSeconds(e.RetryAfter))
		}
	case errs.Unauthenticated:
		s.toLogin(w, r, errs.CodeOf(err))
		return
	}
	rid := requestID(r.Context())
	if status == http.StatusInternalServerError {
		s.Log.Error("request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		code = errs.CodeOf(err)
		if e, ok := errs.As(err); ok {
			msg = e.Msg
		}
	}
	data := errorView{Status: status, Message: s.cat.errText(q.Lang, code, msg), RequestID: rid}
	if rerr := s.render(w, r, q, status, "error", "", data); rerr != nil {
		s.Log.Error("render error page", "err", rerr)
		http.Error(w, http.StatusText(status), status)
	}
}

// auditRefused records a refusal of a signed-in user (the audit service
// caps how often); a failure to record is logged, the page still answers.
func (s *Server) auditRefused(r *http.Request, q *req, err error) {
	if s.Audit == nil || q == nil || q.P == nil {
		return
	}
	if aerr := s.Audit.Refused(r.Context(), q.P, r, errs.CodeOf(err)); aerr != nil {
		s.Log.Error("audit refusal", "request_id", requestID(r.Context()), "err", aerr)
	}
}

// NotFound renders the 404 page for unknown paths.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, q *req) error {
	return errs.New(errs.NotFound, "page_not_found", "page not found")
}

// flash messages travel in a short-lived cookie across a POST-redirect-GET.
func (s *Server) setFlash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: "flash", Value: key, Path: "/", MaxAge: 60, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// flash is the message the last POST left for this page: a catalog key
// (redirect), or a text already in the user's language (redirectFlash),
// marked "t:". The layout shows it; render clears the cookie.
func (s *Server) flash(r *http.Request, q *req) string {
	ck, err := r.Cookie("flash")
	if err != nil {
		return ""
	}
	if enc, ok := strings.CutPrefix(ck.Value, "t:"); ok {
		text, err := url.QueryUnescape(enc)
		if err != nil || !utf8.ValidString(text) || len(text) > 500 {
			return ""
		}
		return text
	}
	if !s.cat.Has(q.Lang, "flash."+ck.Value) {
		return ""
	}
	return s.cat.T(q.Lang, "flash."+ck.Value)
}

// redirectFlash finishes a successful POST with a message already worded
// for the user (a number, a name, a count in it).
func (s *Server) redirectFlash(w http.ResponseWriter, r *http.Request, to, text string) error {
	s.setFlash(w, "t:"+url.QueryEscape(text))
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// redirect finishes a successful POST, carrying a flash message key.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flashKey string) error {
	if flashKey != "" {
		s.setFlash(w, flashKey)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// pathID reads a numeric path value; anything else is a 404.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	return id, nil
}

// formID reads an optional numeric form or query value (0 when absent or bad).
func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(strings.TrimSpace(r.FormValue(name)), 10, 64)
	return id
}

// hospitalInScope picks the hospital a page about patients shows (tasks,
// complaints, notices …). Those belong to hospitals, so a group (the home
// of group-level staff) gives way to its first member in scope; the list
// is the hospitals in scope, groups left out.
func (s *Server) hospitalInScope(r *http.Request, q *req) (*org.Institution, []*org.Institution, error) {
	inst, list, err := s.pickInstitution(r, q)
	if err != nil {
		return nil, nil, err
	}
	var leaves []*org.Institution
	for _, i := range list {
		if i.Kind != org.KindGroup {
			leaves = append(leaves, i)
		}
	}
	if inst.Kind == org.KindGroup && len(leaves) > 0 {
		inst = leaves[0]
	}
	return inst, leaves, nil
}

// errorView is the error page: the status, the message in the user's
// language, and for an internal error only the request id to quote.
type errorView struct {
	Status    int
	Message   string
	RequestID string
}
