package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/notice"
	"suifang/internal/org"
	"suifang/internal/pii"
)

// casesMoved sends the old follow-up case list to the notices, which
// replaced it.
func (s *Server) casesMoved(w http.ResponseWriter, r *http.Request, q *req) error {
	http.Redirect(w, r, "/notices", http.StatusMovedPermanently)
	return nil
}

// noticeView is the list's state, carried in its URLs.
type noticeView struct {
	Inst   int64 // 0 when the user has one institution
	Tab    notice.Tab
	Status string
	Dept   int64
	Month  string
}

func readNoticeView(r *http.Request) noticeView {
	v := r.URL.Query()
	st := noticeView{Tab: notice.Tab(v.Get("tab")), Status: v.Get("status"), Month: strings.TrimSpace(v.Get("month"))}
	st.Inst, _ = strconv.ParseInt(v.Get("inst"), 10, 64)
	st.Dept, _ = strconv.ParseInt(v.Get("dept"), 10, 64)
	if !slices.Contains(notice.Tabs(), st.Tab) {
		st.Tab = ""
	}
	if !slices.Contains(notice.Statuses(), st.Status) {
		st.Status = ""
	}
	return st
}

func (st noticeView) url(tab notice.Tab, offset int) string {
	v := url.Values{}
	if st.Inst != 0 {
		v.Set("inst", strconv.FormatInt(st.Inst, 10))
	}
	if tab != "" {
		v.Set("tab", string(tab))
	}
	if st.Status != "" {
		v.Set("status", st.Status)
	}
	if st.Dept != 0 {
		v.Set("dept", strconv.FormatInt(st.Dept, 10))
	}
	if st.Month != "" {
		v.Set("month", st.Month)
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return withQuery("/notices", v)
}

type noticeRow struct {
	*notice.Notice
	URL       string
	Pill      string
	PillClass string
	Overdue   bool
	Patient   string
}

type noticeListData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	View     noticeView
	Today    string
	Tabs     []tabLink2
	Rows     []noticeRow
	Total    int
	From, To int
	PrevURL  string
	NextURL  string
	Depts    []*org.Department
	Statuses []string
	Filtered bool
	ClearURL string
	CanRaise bool
	CanRules bool
}

// tabLink2 is a notice tab (the worklist's tabLink is typed by its tab).
type tabLink2 struct {
	Tab     notice.Tab
	URL     string
	Count   int
	Current bool
	Alert   bool
}

const noticePage = 50

// noticeStatus is a notice's pill: overdue red with the days, escalated
// amber, closed green.
func (s *Server) noticeStatus(lang string, n *notice.Notice, today calendar.Date) (string, string) {
	text := s.cat.T(lang, "nt.st."+n.Status)
	switch {
	case n.Overdue(today):
		return text + s.cat.T(lang, "fu.sep") + s.cat.T(lang, "nt.overdue_days", daysBetween(n.Deadline, today)), "red"
	case n.Status == notice.Closed || n.Status == notice.Verified:
		return text, "green"
	case n.Status == notice.Submitted:
		return text, "amber"
	case n.Status == notice.Returned:
		return text, "red"
	}
	return text, ""
}

func (s *Server) noticeList(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	st := readNoticeView(r)
	st.Inst = 0
	if len(insts) > 1 {
		st.Inst = inst.ID
	}
	_, today, err := s.instToday(ctx, inst.ID)
	if err != nil {
		return err
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(offset, 0)
	if st.Tab != "" && !slices.Contains(notice.TabsFor(q.P, inst.ID), st.Tab) {
		st.Tab = ""
	}
	list, err := s.Notices.List(ctx, q.P, notice.Filter{InstitutionID: inst.ID, Tab: st.Tab, Status: st.Status,
		DepartmentID: st.Dept, Month: st.Month, Limit: noticePage, Offset: offset}, today)
	if errs.Is(err, errs.Invalid) {
		st.Month, st.Dept = "", 0 // a hand-edited URL: show the list unfiltered
		list, err = s.Notices.List(ctx, q.P, notice.Filter{InstitutionID: inst.ID, Tab: st.Tab, Status: st.Status,
			Limit: noticePage, Offset: offset}, today)
	}
	if err != nil {
		return err
	}
	st.Tab = list.Tab
	depts, err := s.Org.Departments(ctx, q.P, inst.ID)
	if err != nil {
		return err
	}
	d := noticeListData{Inst: inst, Insts: insts, View: st, Today: today.String(), Total: list.Total, Depts: depts,
		Statuses: notice.Statuses(), Filtered: st.Status != "" || st.Dept != 0 || st.Month != "",
		CanRaise: q.P.HasAny(access.SysAdmin, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse, access.Doctor),
		CanRules: q.P.IsAdmin() || q.P.Has(access.Quality)}
	clear := st
	clear.Status, clear.Dept, clear.Month = "", 0, ""
	d.ClearURL = clear.url(st.Tab, 0)
	for _, t := range list.Tabs {
		d.Tabs = append(d.Tabs, tabLink2{Tab: t, URL: st.url(t, 0), Count: list.Counts[t], Current: t == list.Tab,
			Alert: t == notice.TabOverdue && list.Counts[t] > 0})
	}
	for _, n := range list.Notices {
		row := noticeRow{Notice: n, URL: "/notices/" + strconv.FormatInt(n.ID, 10), Overdue: n.Overdue(today),
			Patient: pii.MaskName(n.PatientName)}
		row.Pill, row.PillClass = s.noticeStatus(q.Lang, n, today)
		d.Rows = append(d.Rows, row)
	}
	if len(d.Rows) > 0 {
		d.From, d.To = offset+1, offset+len(d.Rows)
	}
	if offset > 0 {
		d.PrevURL = st.url(st.Tab, max(0, offset-noticePage))
	}
	if offset+len(d.Rows) < list.Total {
		d.NextURL = st.url(st.Tab, offset+noticePage)
	}
	return s.render(w, r, q, http.StatusOK, "notices", "notices", d)
}

// noticeForm is the raise form's input.
type noticeForm struct {
	Topic   string
	Dept    int64
	Visit   string
	Summary string
}

type noticeNewData struct {
	Inst   *org.Institution
	Insts  []*org.Institution
	Depts  []*org.Department
	Topics []string
	F      noticeForm
}

func (s *Server) noticeNewData(r *http.Request, q *req) (*noticeNewData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	depts, err := s.Org.Departments(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	return &noticeNewData{Inst: inst, Insts: insts, Depts: depts, Topics: notice.Topics(), F: noticeForm{Topic: "other"}}, nil
}

func (s *Server) noticeNew(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.noticeNewData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "notice_form", "notices", d)
}

func (s *Server) noticeRaise(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	d, err := s.noticeNewData(r, q)
	if err != nil {
		return err
	}
	d.F = noticeForm{Topic: r.PostFormValue("topic"), Dept: formID(r, "department_id"), Visit: strings.TrimSpace(r.PostFormValue("visit_number")),
		Summary: r.PostFormValue("summary")}
	in := notice.RaiseInput{InstitutionID: d.Inst.ID, SourceKind: notice.FromManual, Topic: d.F.Topic, DepartmentID: d.F.Dept,
		Summary: d.F.Summary}
	if d.F.Visit != "" {
		enc, err := s.Patients.EncounterByVisit(ctx, q.P, d.Inst.ID, d.F.Visit)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				return err
			}
			return s.renderForm(w, r, q, "notice_form", "notices", d,
				errs.Field("visit_number", "notice_encounter_not_found", "no stay with this visit number in your scope"))
		}
		in.EncounterID = enc.ID
	}
	n, err := s.Notices.RaiseByHand(ctx, q.P, in)
	if err != nil {
		return s.renderForm(w, r, q, "notice_form", "notices", d, err)
	}
	return s.redirectFlash(w, r, "/notices/"+strconv.FormatInt(n.ID, 10), s.cat.T(q.Lang, "nt.flash.raised", n.Number, n.DeptName))
}

type eventRow struct {
	*notice.Event
	Who   string
	Label string
}

type fileRow struct {
	*notice.Attachment
	KB string
}

// flowStep is one station of the flow bar above a notice.
type flowStep struct {
	Status    string
	Done, Now bool
}

type noticePageData struct {
	N         *notice.Notice
	Today     string
	Pill      string
	PillClass string
	Overdue   bool
	Patient   string
	Visit     string
	Events    []eventRow
	Files     []fileRow
	Flow      []flowStep
	Owners    []notice.Candidate
	Can       map[string]bool
	CanAttach bool
	F         notice.TransitionInput
	Source    string
	Recovery  string // the recovery survey's satisfaction, in the user's language
}

func (s *Server) noticeData(r *http.Request, q *req, id int64) (*noticePageData, error) {
	ctx := r.Context()
	n, err := s.Notices.Get(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	_, today, err := s.instToday(ctx, n.InstitutionID)
	if err != nil {
		return nil, err
	}
	evs, err := s.Notices.Events(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	files, err := s.Notices.Attachments(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	d := &noticePageData{N: n, Today: today.String(), Overdue: n.Overdue(today), Patient: pii.MaskName(n.PatientName),
		Can: map[string]bool{}}
	for _, f := range files {
		size := fmt.Sprintf("%.1f KB", float64(f.Size)/1024)
		if f.Size < 1024 {
			size = fmt.Sprintf("%d B", f.Size)
		}
		d.Files = append(d.Files, fileRow{Attachment: f, KB: size})
	}
	// A returned notice is back at rectifying on the bar.
	at := n.Status
	if at == notice.Returned {
		at = notice.Rectifying
	}
	reached := true
	for _, st := range []string{notice.Issued, notice.Accepted, notice.Rectifying, notice.Submitted, notice.Verified, notice.Closed} {
		now := st == at
		if now {
			reached = false
		}
		d.Flow = append(d.Flow, flowStep{Status: st, Done: reached, Now: now})
	}
	d.Pill, d.PillClass = s.noticeStatus(q.Lang, n, today)
	for _, a := range notice.Actions() {
		d.Can[a] = notice.Can(q.P, n, a)
	}
	d.CanAttach = n.Status != notice.Closed && n.Status != notice.Verified &&
		(d.Can[notice.ActSubmit] || d.Can[notice.ActStart] || d.Can[notice.ActVerify] || d.Can[notice.ActReturn] || d.Can[notice.ActAccept])
	if d.Can[notice.ActReassign] {
		if d.Owners, err = s.Notices.Owners(ctx, q.P, id); err != nil {
			return nil, err
		}
	}
	if n.EncounterID != 0 {
		if enc, _, err := s.Patients.Stay(ctx, q.P, n.EncounterID); err == nil {
			d.Visit = enc.VisitNumber
		}
	}
	d.Source = s.cat.T(q.Lang, "nt.src."+n.SourceKind)
	d.Recovery = n.RecoveryResult
	if s.cat.Has(q.Lang, "fu.sat."+n.RecoveryResult) {
		d.Recovery = s.cat.T(q.Lang, "fu.sat."+n.RecoveryResult)
	}
	names := s.staff(ctx, q.P)
	for _, e := range evs {
		row := eventRow{Event: e, Who: e.Actor, Label: s.cat.T(q.Lang, "nt.ev."+e.Action)}
		if e.UserID != 0 {
			// Someone outside the caller's view of accounts keeps the
			// account name the event recorded.
			if row.Who = names.name(e.UserID); strings.HasPrefix(row.Who, "#") {
				row.Who = e.Actor
			}
		} else if e.Actor == "system" {
			row.Who = s.cat.T(q.Lang, "nt.system")
		}
		d.Events = append(d.Events, row)
	}
	return d, nil
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.noticeData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "notice", "notices", d)
}

func (s *Server) noticeAct(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if !slices.Contains(notice.Actions(), action) {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	in := notice.TransitionInput{Action: action, RootCause: r.PostFormValue("root_cause"), ActionTaken: r.PostFormValue("action_taken"),
		Reason: r.PostFormValue("reason"), SendRecovery: r.PostFormValue("send_recovery") == "1", OwnerID: formID(r, "owner_id")}
	n, err := s.Notices.Transition(r.Context(), q.P, id, in)
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return err
		}
		d, derr := s.noticeData(r, q, id)
		if derr != nil {
			return err
		}
		d.F = in
		return s.renderForm(w, r, q, "notice", "notices", d, err)
	}
	return s.redirectFlash(w, r, "/notices/"+strconv.FormatInt(id, 10), s.cat.T(q.Lang, "nt.flash."+action, n.Number))
}

func (s *Server) noticeAttach(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	formErr := func(ferr error) error {
		d, derr := s.noticeData(r, q, id)
		if derr != nil {
			return ferr
		}
		return s.renderForm(w, r, q, "notice", "notices", d, ferr)
	}
	tooBig := errs.Field("file", "attachment_too_large", "a file may have at most 10 MB")
	if r.ContentLength > notice.MaxAttachment+64<<10 {
		return formErr(tooBig)
	}
	r.Body = http.MaxBytesReader(w, r.Body, notice.MaxAttachment+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return formErr(errs.Field("file", "empty_file", "choose a file to upload"))
	}
	var name string
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return formErr(tooBig)
			}
			return formErr(errs.Field("file", "empty_file", "choose a file to upload"))
		}
		if part.FormName() == "file" && part.FileName() != "" {
			name = part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, notice.MaxAttachment+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return formErr(tooBig)
				}
				return formErr(errs.Field("file", "empty_file", "the upload broke off; try again"))
			}
		}
		part.Close()
	}
	a, err := s.Notices.Attach(r.Context(), q.P, id, name, data)
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return err
		}
		return formErr(err)
	}
	return s.redirectFlash(w, r, "/notices/"+strconv.FormatInt(id, 10)+"#files", s.cat.T(q.Lang, "nt.flash.attached", a.Filename))
}

func (s *Server) noticeDownload(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	a, data, err := s.Notices.Download(r.Context(), q.P, id, aid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	// Always a download, never rendered in the app's origin.
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err = w.Write(data)
	return err
}

type routeRow struct {
	notice.Route
	Field string
}

type noticeRulesData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	Routes   []routeRow
	Settings notice.Settings
	Depts    []*org.Department
	Modes    []string
	CanEdit  bool
}

func (s *Server) noticeRulesData(r *http.Request, q *req) (*noticeRulesData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	v, err := s.Notices.Routing(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	depts, err := s.Org.Departments(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	d := &noticeRulesData{Inst: inst, Insts: insts, Settings: v.Settings, Depts: depts, Modes: notice.Modes(),
		CanEdit: q.P.IsAdmin() || q.P.Has(access.Quality) && q.P.SeesInstitution(inst.ID)}
	for _, rt := range v.Routes {
		d.Routes = append(d.Routes, routeRow{Route: rt, Field: "route_" + rt.Topic})
	}
	return d, nil
}

func (s *Server) noticeRules(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.noticeRulesData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "notice_rules", "notice_rules", d)
}

func (s *Server) noticeRulesSave(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.noticeRulesData(r, q)
	if err != nil {
		return err
	}
	v := notice.RoutingView{}
	num := func(k string) int {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k)))
		if err != nil {
			return -1
		}
		return n
	}
	v.Settings.DeadlineDays, v.Settings.EscalateDays = num("deadline_days"), num("escalate_days")
	for i, rt := range d.Routes {
		rt.Mode = r.PostFormValue("mode_" + rt.Topic)
		rt.DepartmentID = formID(r, "dept_"+rt.Topic)
		d.Routes[i] = rt
		v.Routes = append(v.Routes, rt.Route)
	}
	d.Settings = v.Settings
	if err := s.Notices.SetRouting(r.Context(), q.P, d.Inst.ID, v); err != nil {
		return s.renderForm(w, r, q, "notice_rules", "notice_rules", d, err)
	}
	to := "/admin/notice-rules"
	if len(d.Insts) > 1 {
		to += "?inst=" + fmt.Sprint(d.Inst.ID)
	}
	return s.redirect(w, r, to, "notice_rules_saved")
}
