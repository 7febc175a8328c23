package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"suifang/internal/errs"
	"suifang/internal/survey"
)

// The patient's survey page: a short link /s/{token} opened on a phone,
// often inside WeChat's browser or an old Android one. It has its own tiny
// layout and stylesheet (no staff chrome, no script), one section per page
// with "save & next" so answers persist on the server as the patient goes,
// and kind pages instead of errors for links that no longer work.

// patientUI holds the patient templates and the per-address limiter.
type patientUI struct {
	s     *Server
	pages *template.Template
	lim   *limiter
}

// Patient pages allow a burst of 30 requests per address, then one every
// 2 seconds: a patient needs about two requests per page.
const (
	patientBurst = 30
	patientEvery = 2 * time.Second
)

func newPatientUI(s *Server) (*patientUI, error) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	funcs := template.FuncMap{
		"t":   func(lang, key string, args ...any) string { return s.cat.T(lang, key, args...) },
		"add": func(a, b int) int { return a + b },
	}
	t, err := template.New("patient").Funcs(funcs).ParseFS(assets, "templates/patient/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse patient templates: %w", err)
	}
	return &patientUI{s: s, pages: t, lim: newLimiter(now, patientBurst, patientEvery)}, nil
}

// limited wraps a patient handler with the rate limit and the patient
// language choice (zh-CN unless the patient switched).
func (u *patientUI) limited(h func(w http.ResponseWriter, r *http.Request, lang string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := "zh-CN"
		if ck, err := r.Cookie("lang"); err == nil && ck.Value == "en" {
			lang = "en"
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer") // the token never leaks to another site
		if ok, wait := u.lim.allow(clientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			u.message(w, lang, http.StatusTooManyRequests, "busy", "", "")
			return
		}
		if err := h(w, r, lang); err != nil {
			u.fail(w, r, lang, err)
		}
	}
}

// sheetView is what the questionnaire page renders.
type sheetView struct {
	Lang     string
	Sheet    *survey.Sheet
	Show     int // the section on screen
	Total    int
	Title    string
	Items    []*survey.Item
	Problems map[string]string
	Last     bool
	Action   string
	Revealed bool
	// Preview is the designer's view: no form, links between pages, and
	// every conditional item shown with its condition.
	Preview bool
	NextURL template.URL
	BackURL template.URL
}

// Tel is the service phone as a tel: link (html/template would refuse
// the scheme in a plain string).
func (v *sheetView) Tel() template.URL { return telURL(v.Sheet.ServicePhone) }

// Tel is the service phone as a tel: link.
func (v *msgView) Tel() template.URL { return telURL(v.Phone) }

// telURL keeps only what a dialler reads; the settings accept nothing else.
func telURL(phone string) template.URL {
	return template.URL("tel:" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' || r == '-' {
			return r
		}
		return -1
	}, phone))
}

func (u *patientUI) sheet(w http.ResponseWriter, r *http.Request, lang string) error {
	token := r.PathValue("token")
	sh, err := u.s.Survey.Open(r.Context(), token)
	if err != nil {
		return err
	}
	show := sh.Section
	if p, err := strconv.Atoi(r.URL.Query().Get("p")); err == nil && p >= 0 && p < sh.Section {
		show = p // going back to a page already saved
	}
	return u.renderSheet(w, lang, http.StatusOK, sh, show, nil, false)
}

func (u *patientUI) renderSheet(w http.ResponseWriter, lang string, status int, sh *survey.Sheet, show int, problems map[string]string, revealed bool) error {
	secs := sh.Version.Body.Sections
	show = min(max(show, 0), len(secs)-1)
	last := true
	for i := show + 1; i < len(secs); i++ {
		if len(sh.Visible(i)) > 0 {
			last = false
		}
	}
	v := &sheetView{Lang: lang, Sheet: sh, Show: show, Total: len(secs), Title: secs[show].Title, Items: sh.Visible(show),
		Problems: problems, Last: last, Action: "/s/" + sh.Token, Revealed: revealed}
	return u.render(w, status, "sheet", v)
}

func (u *patientUI) render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := u.pages.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("web: render patient %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// maxAnswerForm bounds a posted page; a page holds at most a few thousand
// characters of free text.
const maxAnswerForm = 64 << 10

func (u *patientUI) save(w http.ResponseWriter, r *http.Request, lang string) error {
	token := r.PathValue("token")
	r.Body = http.MaxBytesReader(w, r.Body, maxAnswerForm)
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "survey_bad_form", "the answers could not be read")
	}
	sec, err := strconv.Atoi(r.PostForm.Get("section"))
	if err != nil {
		return errs.New(errs.Invalid, "survey_bad_section", "this page of the survey is not open yet")
	}
	raw := survey.Answers{}
	for k, vals := range r.PostForm {
		if link, ok := strings.CutPrefix(k, "a."); ok {
			raw[link] = vals
		}
	}
	shown := r.PostForm["shown"]
	if shown == nil {
		shown = []string{}
	}
	res, err := u.s.Survey.Save(r.Context(), token, sec, raw, shown)
	if err != nil {
		return err
	}
	if res.Done {
		http.Redirect(w, r, "/s/"+token+"/thanks", http.StatusSeeOther)
		return nil
	}
	if len(res.Problems) > 0 {
		return u.renderSheet(w, lang, http.StatusUnprocessableEntity, res.Sheet, res.Sheet.Section, res.Problems, false)
	}
	if res.Revealed {
		return u.renderSheet(w, lang, http.StatusOK, res.Sheet, res.Sheet.Section, nil, true)
	}
	// Post-redirect-get, so a reload never posts twice.
	http.Redirect(w, r, "/s/"+token, http.StatusSeeOther)
	return nil
}

func (u *patientUI) refuse(w http.ResponseWriter, r *http.Request, lang string) error {
	token := r.PathValue("token")
	if err := u.s.Survey.Refuse(r.Context(), token); err != nil {
		return err
	}
	hosp, phone := u.s.Survey.ServicePhone(r.Context(), token)
	return u.message(w, lang, http.StatusOK, "refused", hosp, phone)
}

func (u *patientUI) thanks(w http.ResponseWriter, r *http.Request, lang string) error {
	token := r.PathValue("token")
	_, err := u.s.Survey.Open(r.Context(), token)
	if !errs.Is(err, errs.Conflict) || errs.CodeOf(err) != "survey_link_used" {
		// Only an answered survey has a thank-you; anything else goes to
		// the sheet (or its kind page).
		http.Redirect(w, r, "/s/"+token, http.StatusSeeOther)
		return nil
	}
	hosp, phone := u.s.Survey.ServicePhone(r.Context(), token)
	return u.message(w, lang, http.StatusOK, "thanks", hosp, phone)
}

// msgView is a one-message patient page (thanks, kind errors).
type msgView struct {
	Lang     string
	Kind     string
	Hospital string
	Phone    string
}

func (u *patientUI) message(w http.ResponseWriter, lang string, status int, kind, hosp, phone string) error {
	err := u.render(w, status, "message", &msgView{Lang: lang, Kind: kind, Hospital: hosp, Phone: phone})
	if err != nil {
		u.s.Log.Error("render patient page", "err", err)
	}
	return nil
}

// fail turns an error into a kind page: a link that no longer works says
// so gently and gives the service phone; nothing shows a stack or an id.
func (u *patientUI) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	token := r.PathValue("token")
	switch errs.CodeOf(err) {
	case "survey_link_used":
		hosp, phone := u.s.Survey.ServicePhone(r.Context(), token)
		u.message(w, lang, http.StatusOK, "used", hosp, phone)
	case "survey_link_expired", "survey_link_stopped":
		hosp, phone := u.s.Survey.ServicePhone(r.Context(), token)
		u.message(w, lang, http.StatusGone, "expired", hosp, phone)
	case "survey_link_refused":
		hosp, phone := u.s.Survey.ServicePhone(r.Context(), token)
		u.message(w, lang, http.StatusOK, "refused", hosp, phone)
	case "survey_link_invalid":
		u.message(w, lang, http.StatusNotFound, "invalid", "", "")
	default:
		if errs.KindOf(err) == errs.Invalid {
			u.message(w, lang, http.StatusBadRequest, "bad", "", "")
			return
		}
		u.s.Log.Error("patient survey page failed", "request_id", requestID(r.Context()), "err", err)
		u.message(w, lang, http.StatusInternalServerError, "oops", "", "")
	}
}
