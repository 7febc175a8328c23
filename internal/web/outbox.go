package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/org"
)

// canOutbox mirrors the service's rule for showing the pages in the menu;
// the service decides.
func canOutbox(p *access.Principal) bool { return p.IsAdmin() || p.Has(access.Quality) }

// unread is the header's count of unread in-app notifications.
func (s *Server) unread(ctx context.Context, p *access.Principal) int {
	if s.Notify == nil || p == nil {
		return 0
	}
	n, err := s.Notify.Unread(ctx, p)
	if err != nil {
		s.Log.Warn("unread count", "err", err)
	}
	return n
}

type outboxTab struct {
	Status  string
	Count   int
	URL     string
	Current bool
}

func outboxURL(inst int64, status, channel string, before int64) string {
	v := url.Values{}
	v.Set("inst", strconv.FormatInt(inst, 10))
	if status != "" {
		v.Set("status", status)
	}
	if channel != "" {
		v.Set("channel", channel)
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	return "/admin/outbox?" + v.Encode()
}

// notifyInstitution picks the institution of an outbox page: a hospital,
// as messages belong to hospitals.
func (s *Server) notifyInstitution(r *http.Request, q *req) (*org.Institution, []*org.Institution, error) {
	if !canOutbox(q.P) {
		return nil, nil, errs.New(errs.Forbidden, "outbox_forbidden", "only system administrators and quality staff may manage messages")
	}
	return s.hospitalInScope(r, q)
}

func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.notifyInstitution(r, q)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	status := v.Get("status")
	if !slices.Contains(notify.Statuses(), status) {
		status = notify.Pending
	}
	channel := v.Get("channel")
	if !slices.Contains(notify.Channels(), channel) || channel == notify.InApp {
		channel = ""
	}
	before, _ := strconv.ParseInt(v.Get("before"), 10, 64)
	pg, err := s.Notify.List(r.Context(), q.P, notify.Filter{InstitutionID: inst.ID, Status: status, Channel: channel, BeforeID: before})
	if err != nil {
		return err
	}
	var tabs []outboxTab
	for _, st := range notify.Statuses() {
		tabs = append(tabs, outboxTab{Status: st, Count: pg.Counts[st], URL: outboxURL(inst.ID, st, channel, 0), Current: st == status})
	}
	next := ""
	if pg.Next > 0 {
		next = outboxURL(inst.ID, status, channel, pg.Next)
	}
	channels := []string{}
	for _, c := range notify.Channels() {
		if c != notify.InApp {
			channels = append(channels, c)
		}
	}
	return s.render(w, r, q, http.StatusOK, "outbox", "outbox", outboxView{Inst: inst, Insts: insts, Tabs: tabs,
		Status: status, Channel: channel, Channels: channels, Items: pg.Items, Next: next, First: before > 0,
		FirstURL: outboxURL(inst.ID, status, channel, 0)})
}

// outboxView is the outbox list: one status tab, newest first, paged.
type outboxView struct {
	Inst            *org.Institution
	Insts           []*org.Institution
	Tabs            []outboxTab
	Status, Channel string
	Channels        []string
	Items           []*notify.Item
	Next            string // the next page's URL, "" on the last
	First           bool   // a later page: offer the first
	FirstURL        string
}

func (s *Server) outboxMessage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.Notify.Get(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "outbox_message", "outbox", outboxMessageView{M: d,
		Back: outboxURL(d.InstitutionID, d.Status, "", 0)})
}

// outboxMessageView is one message, its secrets masked by the service.
type outboxMessageView struct {
	M    *notify.Detail
	Back string
}

func (s *Server) outboxResend(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Notify.Resend(r.Context(), q.P, id); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/outbox/"+strconv.FormatInt(id, 10), "message_requeued")
}

func (s *Server) templatesPage(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.notifyInstitution(r, q)
	if err != nil {
		return err
	}
	list, err := s.Notify.Templates(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "templates", "templates", templatesView{Inst: inst, Insts: insts, List: list})
}

// templatesView lists an institution's message templates.
type templatesView struct {
	Inst  *org.Institution
	Insts []*org.Institution
	List  []*notify.Template
}

// templateForm is the editor's data; the texts are kept as typed.
type templateForm struct {
	Inst    *org.Institution
	T       *notify.Template
	In      notify.TemplateInput
	Allowed string
	Subject string // preview
	Text    string
	Guard   string // the guard's refusal, shown beside the preview
}

func (s *Server) templateOf(r *http.Request, q *req) (*org.Institution, *notify.Template, error) {
	inst, _, err := s.notifyInstitution(r, q)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.Notify.Template(r.Context(), q.P, inst.ID, r.FormValue("key"), r.FormValue("channel"))
	return inst, t, err
}

func allowedList(t *notify.Template) string {
	out := make([]string, len(t.Params))
	for i, p := range t.Params {
		out[i] = "{" + p + "}"
	}
	return strings.Join(out, " ")
}

func (s *Server) templateEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, t, err := s.templateOf(r, q)
	if err != nil {
		return err
	}
	f := &templateForm{Inst: inst, T: t, In: notify.TemplateInput{Subject: t.Subject, Body: t.Body, SMSCode: t.SMSCode}, Allowed: allowedList(t)}
	f.Subject, f.Text, err = s.Notify.Preview(r.Context(), q.P, inst.ID, t.Key, t.Channel, f.In)
	if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
		f.Guard = e.Msg
	} else if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "template_form", "templates", f)
}

// templateSave previews (button "preview") or saves; either way a refusal
// re-shows the form with the text as typed and the field marked.
func (s *Server) templateSave(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, t, err := s.templateOf(r, q)
	if err != nil {
		return err
	}
	in := notify.TemplateInput{Subject: r.FormValue("subject"), Body: r.FormValue("body"), SMSCode: r.FormValue("sms_code")}
	f := &templateForm{Inst: inst, T: t, In: in, Allowed: allowedList(t)}
	f.Subject, f.Text, err = s.Notify.Preview(r.Context(), q.P, inst.ID, t.Key, t.Channel, in)
	if err == nil && r.FormValue("action") != "preview" {
		err = s.Notify.SaveTemplate(r.Context(), q.P, inst.ID, t.Key, t.Channel, in)
		if err == nil {
			return s.redirect(w, r, "/admin/templates?inst="+strconv.FormatInt(inst.ID, 10), "template_saved")
		}
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			f.Guard = e.Msg
		}
		return s.renderForm(w, r, q, "template_form", "templates", f, err)
	}
	return s.render(w, r, q, http.StatusOK, "template_form", "templates", f)
}

func (s *Server) templateReset(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, t, err := s.templateOf(r, q)
	if err != nil {
		return err
	}
	if err := s.Notify.ResetTemplate(r.Context(), q.P, inst.ID, t.Key, t.Channel); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/templates?inst="+strconv.FormatInt(inst.ID, 10), "template_reset")
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, q *req) error {
	notes, err := s.Notify.Inbox(r.Context(), q.P, 100)
	if err != nil {
		return err
	}
	unread := 0
	for _, n := range notes {
		if !n.Read {
			unread++
		}
	}
	return s.render(w, r, q, http.StatusOK, "inbox", "inbox", inboxView{Notes: notes, Unread: unread})
}

// inboxView is a user's in-app notifications.
type inboxView struct {
	Notes  []*notify.Note
	Unread int
}

// inboxRead marks one notification (id) or all of them read, then follows
// the notification's link when asked to.
func (s *Server) inboxRead(w http.ResponseWriter, r *http.Request, q *req) error {
	id := formID(r, "id")
	if err := s.Notify.MarkRead(r.Context(), q.P, id); err != nil {
		return err
	}
	if to := r.FormValue("go"); strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "//") && !strings.Contains(to, "\\") {
		return s.redirect(w, r, to, "")
	}
	return s.redirect(w, r, "/inbox", "")
}
