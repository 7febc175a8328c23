package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/errs"
)

type loginData struct {
	Username string
	Next     string
	Notice   string
	Problem  string // why the attempt was not even checked (throttled, busy)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("reason") {
	case "session_expired":
		d.Notice = s.cat.T(q.Lang, "login.expired")
	case "logged_out":
		d.Notice = s.cat.T(q.Lang, "login.logged_out")
	}
	return s.render(w, r, q, http.StatusOK, "login", "", d)
}

// safeNext returns next when it is a path on this site, and "/" otherwise,
// so the login form cannot send someone to another site. Browsers forgive
// a lot: they drop tab, CR and LF anywhere in a URL and read "\\" as "/", so
// "/\t/evil.example" and "/\\evil.example" mean "//evil.example" to them. Any
// control character or backslash, raw or percent-encoded, is refused
// outright; what remains must parse as a bare path (no scheme, host or
// user) that starts with exactly one "/". The result is rebuilt from the
// parsed path and query, so it is what the check saw.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || badURLText(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || badURLText(u.Path) {
		return "/"
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		if q, err := url.QueryUnescape(u.RawQuery); err != nil || badURLText(q) {
			return "/"
		}
		out += "?" + u.RawQuery
	}
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return "/"
	}
	return out
}

// badURLText reports a control character or a backslash in s.
func badURLText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	return false
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, q *req) error {
	d := loginData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: safeNext(r.PostFormValue("next"))}
	sess, err := s.Auth.Login(r.Context(), d.Username, r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.TooMany {
			// Throttled or busy: nothing about the account was checked.
			w.Header().Set("Retry-After", errs.RetryAfterSeconds(e.RetryAfter))
			secs, _ := strconv.Atoi(errs.RetryAfterSeconds(e.RetryAfter))
			d.Problem = s.cat.T(q.Lang, "login."+e.Code, secs)
			return s.render(w, r, q, http.StatusTooManyRequests, "login", "", d)
		}
		if errs.Is(err, errs.Unauthenticated) {
			e, _ := errs.As(err)
			return s.renderForm(w, r, q, "login", "", d, &errs.Error{Kind: errs.Invalid, Code: e.Code, Msg: e.Msg,
				Fields: map[string]string{"password": e.Code}})
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	if sess.User.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := s.Auth.Logout(r.Context(), q.Token, q.P); err != nil {
		return err
	}
	s.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login?reason=logged_out", http.StatusSeeOther)
	return nil
}

// setLang stores the chosen language in a cookie and returns to the page.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request, q *req) error {
	lang := normLang(r.PostFormValue("lang"))
	if lang == "" {
		return errs.Field("lang", "bad_lang", "unknown language")
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	back := "/"
	if u, err := url.Parse(r.PostFormValue("back")); err == nil {
		back = safeNext(u.RequestURI())
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

type passwordData struct {
	Forced bool
	Rules  string
}

func (s *Server) passwordData(q *req) passwordData {
	pol := s.Auth.Policy().Password
	return passwordData{Forced: q.User.MustChangePassword,
		Rules: s.cat.T(q.Lang, "password.rules", pol.MinLength, pol.MinClasses, max(pol.History, 1))}
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, q, http.StatusOK, "password", "", s.passwordData(q))
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request, q *req) error {
	newPW := r.PostFormValue("password")
	if newPW != r.PostFormValue("password2") {
		return s.renderForm(w, r, q, "password", "", s.passwordData(q),
			errs.Field("password2", "password_mismatch", "the two new passwords differ"))
	}
	err := s.Auth.ChangePassword(r.Context(), q.P, q.Token, r.PostFormValue("old_password"), newPW)
	if err != nil {
		return s.renderForm(w, r, q, "password", "", s.passwordData(q), err)
	}
	return s.redirect(w, r, "/", "password_changed")
}

type homeData struct {
	Today        string
	TodayWorking bool
	NextWorkday  string
	Institution  string
	Scope        []string
	MissingYears []int
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	d := homeData{}
	inst, err := s.Org.Lookup(ctx, q.P.InstitutionID)
	if err != nil {
		return err
	}
	d.Institution = inst.Name
	pol, err := s.Calendar.Policy(ctx, inst.ID)
	if err != nil {
		return err
	}
	today := calendar.DateOf(s.Now().In(pol.Loc))
	d.Today = today.String()
	d.TodayWorking = pol.Cal.IsWorkingDay(today)
	d.NextWorkday = pol.Cal.AddWorkingDays(today, 1).String()
	for _, g := range q.User.Grants {
		name := ""
		if i, err := s.Org.Lookup(ctx, g.InstitutionID); err == nil {
			name = i.Name
		}
		if g.DepartmentID != 0 {
			if dep, err := s.Org.Department(ctx, q.P, g.DepartmentID); err == nil {
				name += " · " + dep.Name
			}
		}
		d.Scope = append(d.Scope, name)
	}
	if q.P.IsAdmin() {
		y := today.Year
		d.MissingYears, err = s.Calendar.MissingYears(ctx, inst.ID, y, y+1)
		if err != nil {
			return err
		}
		// The next year's notice usually appears in November; warn from then.
		if today.Month < time.November {
			d.MissingYears = slicesDelete(d.MissingYears, y+1)
		}
	}
	return s.render(w, r, q, http.StatusOK, "home", "home", d)
}

func slicesDelete(list []int, v int) []int {
	out := list[:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
