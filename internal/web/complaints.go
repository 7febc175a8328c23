package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/pii"
)

// complaintView is the list's state, carried in its URLs.
type complaintView struct {
	Inst   int64 // 0 when the user has one institution
	Tab    complaint.Tab
	Status string
	Colour string
}

func (st complaintView) url(tab complaint.Tab, offset int) string {
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
	if st.Colour != "" {
		v.Set("colour", st.Colour)
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return withQuery("/complaints", v)
}

type complaintRow struct {
	*complaint.View
	URL         string
	Complainant string // masked
	Next        string // the next deadline still owed
	NextColour  string
}

type complaintTab struct {
	Tab     complaint.Tab
	URL     string
	Current bool
}

type complaintListData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	View     complaintView
	Tabs     []complaintTab
	Rows     []complaintRow
	Total    int
	From, To int
	PrevURL  string
	NextURL  string
	Statuses []string
	Colours  []string
	Filtered bool
	ClearURL string
	CanNew   bool
	MyTasks  []myTaskRow           // my open investigation tasks (complaint_team.go)
	Cats     complaint.CategorySet // the institution's category names
}

const complaintPage = 50

// nextClock is the most urgent clock still owed: the first red, else the
// earliest running one.
func nextClock(cs []complaint.Clock) *complaint.Clock {
	var best *complaint.Clock
	for i := range cs {
		c := &cs[i]
		if c.Colour == complaint.Met || c.Colour == complaint.MetLate {
			continue
		}
		if best == nil || c.Colour == complaint.Red && best.Colour != complaint.Red ||
			(c.Colour == complaint.Red) == (best.Colour == complaint.Red) && c.Deadline.At.Before(best.Deadline.At) {
			best = c
		}
	}
	return best
}

// deadlineText shows an hour deadline with its time, a day deadline as a
// date.
func deadlineText(c *complaint.Clock, loc *time.Location) string {
	if c.Deadline.Paused {
		return ""
	}
	if c.Deadline.Target.Unit == complaint.Hours {
		return c.Deadline.At.In(loc).Format("2006-01-02 15:04")
	}
	return c.Deadline.Date.String()
}

func (s *Server) complaintList(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	st := complaintView{Tab: complaint.Tab(v.Get("tab")), Status: v.Get("status"), Colour: v.Get("colour")}
	if len(insts) > 1 {
		st.Inst = inst.ID
	}
	if !slices.Contains(complaint.TabsFor(q.P, inst.ID), st.Tab) {
		st.Tab = ""
	}
	if st.Status != "all" && st.Status != complaint.Merged && !slices.Contains(complaint.Statuses(), st.Status) {
		st.Status = ""
	}
	if !slices.Contains([]string{complaint.Red, complaint.Amber, complaint.Green, complaint.Paused}, st.Colour) {
		st.Colour = ""
	}
	offset, _ := strconv.Atoi(v.Get("offset"))
	offset = max(offset, 0)
	list, err := s.Complaints.List(ctx, q.P, complaint.Filter{InstitutionID: inst.ID, Tab: st.Tab, Status: st.Status, Colour: st.Colour,
		Limit: complaintPage, Offset: offset})
	if err != nil {
		return err
	}
	cats, err := s.Complaints.Categories(ctx, inst.ID)
	if err != nil {
		return err
	}
	st.Tab = list.Tab
	pol, _, err := s.instToday(ctx, inst.ID)
	if err != nil {
		return err
	}
	d := complaintListData{Inst: inst, Insts: insts, View: st, Total: list.Total, Statuses: append(complaint.Statuses(), complaint.Merged),
		Colours: []string{complaint.Red, complaint.Amber, complaint.Green, complaint.Paused}, Filtered: st.Status != "" || st.Colour != "",
		CanNew: q.P.HasAny(access.SysAdmin, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse, access.Doctor,
			access.Leadership), Cats: cats}
	if d.MyTasks, err = s.myComplaintTasks(ctx, q, inst.ID); err != nil {
		return err
	}
	clear := st
	clear.Status, clear.Colour = "", ""
	d.ClearURL = clear.url(st.Tab, 0)
	for _, t := range list.Tabs {
		d.Tabs = append(d.Tabs, complaintTab{Tab: t, URL: st.url(t, 0), Current: t == list.Tab})
	}
	for _, c := range list.Items {
		row := complaintRow{View: c, URL: "/complaints/" + strconv.FormatInt(c.ID, 10), Complainant: pii.MaskName(c.ComplainantName)}
		if n := nextClock(c.Clocks); n != nil {
			row.Next, row.NextColour = s.cat.T(q.Lang, "cp.m."+n.Milestone)+" "+deadlineText(n, pol.Loc), n.Colour
		}
		d.Rows = append(d.Rows, row)
	}
	if len(d.Rows) > 0 {
		d.From, d.To = offset+1, offset+len(d.Rows)
	}
	if offset > 0 {
		d.PrevURL = st.url(st.Tab, max(0, offset-complaintPage))
	}
	if offset+len(d.Rows) < list.Total {
		d.NextURL = st.url(st.Tab, offset+complaintPage)
	}
	return s.render(w, r, q, http.StatusOK, "complaints", "complaints", d)
}

// complaintForm is the intake form's input.
type complaintForm struct {
	complaint.Input
	Others map[int64]bool
}

type complaintNewData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	Depts      []*org.Department
	Channels   []string
	Roles      []string
	Severities []string
	F          complaintForm
	Cats       complaint.CategorySet // the institution's categories; the active ones are offered
	Intake     *complaintIntakeForm  // duplicates found, the follow-up record it comes from
}

func (s *Server) complaintNewData(r *http.Request, q *req) (*complaintNewData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	depts, err := s.Org.Departments(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	cats, err := s.Complaints.Categories(r.Context(), inst.ID)
	if err != nil {
		return nil, err
	}
	return &complaintNewData{Cats: cats, Inst: inst, Insts: insts, Depts: depts, Channels: complaint.Channels(), Roles: complaint.ComplainantRoles(),
		Severities: complaint.Severities(),
		F: complaintForm{Input: complaint.Input{Channel: "phone", ComplainantRole: "patient", Category: "other", Severity: complaint.General,
			Complexity: complaint.Simple}, Others: map[int64]bool{}}}, nil
}

func (s *Server) complaintNew(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.complaintNewData(r, q)
	if err != nil {
		return err
	}
	if rec := formID(r, "record"); rec != 0 {
		if err := s.prefillFromRecord(r, q, d, rec); err != nil {
			return err
		}
	}
	return s.render(w, r, q, http.StatusOK, "complaint_form", "complaints", d)
}

func (s *Server) complaintCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.complaintNewData(r, q)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	f := r.PostForm
	in := complaint.Input{InstitutionID: d.Inst.ID, Channel: f.Get("channel"), ComplainantName: f.Get("complainant_name"),
		ComplainantRole: f.Get("complainant_role"), Contact: f.Get("contact"), VisitNumber: f.Get("visit_number"),
		OccurredOn: f.Get("occurred_on"), Location: f.Get("location"), People: f.Get("people"), Content: f.Get("content"),
		Asks: f.Get("asks"), Category: f.Get("category"), Severity: f.Get("severity"), Complexity: f.Get("complexity"),
		DepartmentID: formID(r, "department_id"), SourceRecordID: formID(r, "source_record_id")}
	d.F = complaintForm{Input: in, Others: map[int64]bool{}}
	for _, x := range f["other_depts"] {
		if id, err := strconv.ParseInt(x, 10, 64); err == nil && id > 0 {
			in.OtherDepts = append(in.OtherDepts, id)
			d.F.Others[id] = true
		}
	}
	if done, err := s.checkDuplicatesFirst(w, r, q, d, in); done || err != nil {
		return err
	}
	c, err := s.Complaints.Register(r.Context(), q.P, in)
	if err != nil {
		return s.renderForm(w, r, q, "complaint_form", "complaints", d, err)
	}
	return s.redirectFlash(w, r, "/complaints/"+strconv.FormatInt(c.ID, 10), s.cat.T(q.Lang, "cp.flash.registered", c.Number, c.TrackingCode))
}

type complaintEventRow struct {
	*complaint.Event
	Who   string
	Label string
	// Text is the stored detail in the reader's words (eventDetail).
	Text string
}

type clockRow struct {
	complaint.Clock
	Label    string
	Deadline string
	MetAt    string
	// State is the catalog key of the clock's state. A milestone an
	// archived complaint never reached (no rectification) is "not needed",
	// as the report counts it, not 已完成.
	State string
}

type complaintPageData struct {
	C          *complaint.View
	Pill       string
	Flow       []flowStep
	Clocks     []clockRow
	Events     []complaintEventRow
	Depts      []string
	Owners     []complaint.Candidate
	AllDepts   []*org.Department
	Can        map[string]bool
	Others     map[int64]bool
	Severities []string
	Grades     []string
	Ways       []string
	F          complaint.ActionInput
	Visit      string
	Patient    string
	Team       *complaintTeamData    // the investigation card (complaint_team.go)
	Abnormal   abnormalLinks         // 异常上报 raised from this complaint
	Cats       complaint.CategorySet // the institution's category names
	Intake     *complaintIntakePage  // duplicates, merges, the follow-up record it comes from
}

func (s *Server) complaintData(r *http.Request, q *req, id int64) (*complaintPageData, error) {
	ctx := r.Context()
	v, err := s.Complaints.Page(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	evs, err := s.Complaints.Events(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	pol, _, err := s.instToday(ctx, v.InstitutionID)
	if err != nil {
		return nil, err
	}
	d := &complaintPageData{C: v, Can: map[string]bool{}, Others: map[int64]bool{},
		Severities: complaint.Severities(), Grades: complaint.Grades(), Ways: complaint.FeedbackWays()}
	d.Pill = s.cat.T(q.Lang, "cp.st."+v.Status)
	if d.Cats, err = s.Complaints.Categories(ctx, v.InstitutionID); err != nil {
		return nil, err
	}
	reached := true
	for _, st := range complaint.Statuses() {
		now := st == v.Status
		if now {
			reached = false
		}
		d.Flow = append(d.Flow, flowStep{Status: st, Done: reached, Now: now})
	}
	for _, c := range v.Clocks {
		row := clockRow{Clock: c, Label: s.cat.T(q.Lang, "cp.m."+c.Milestone), Deadline: deadlineText(&c, pol.Loc), State: "cp.colour." + c.Colour}
		if !c.MetAt.IsZero() {
			row.MetAt = c.MetAt.In(pol.Loc).Format("2006-01-02 15:04")
		} else if c.Colour == complaint.Met {
			row.State = "cpr.skipped"
		}
		d.Clocks = append(d.Clocks, row)
	}
	for _, a := range complaint.Actions() {
		d.Can[a] = complaint.Can(q.P, v.Complaint, a)
	}
	all, err := s.Org.Departments(ctx, q.P, v.InstitutionID)
	if err != nil {
		return nil, err
	}
	d.AllDepts = all
	for _, id := range v.DepartmentIDs {
		if id != v.DepartmentID {
			d.Others[id] = true
		}
		for _, x := range all {
			if x.ID == id {
				d.Depts = append(d.Depts, x.Name)
			}
		}
	}
	if d.Can[complaint.ActReassign] {
		if d.Owners, err = s.Complaints.OwnerChoices(ctx, q.P, id); err != nil {
			return nil, err
		}
	}
	if v.EncounterID != 0 {
		if enc, _, err := s.Patients.Stay(ctx, q.P, v.EncounterID); err == nil {
			d.Visit = enc.VisitNumber
		}
	}
	d.Patient = pii.MaskName(v.ComplainantName)
	if d.Team, err = s.complaintTeam(ctx, q, v); err != nil {
		return nil, err
	}
	d.Abnormal = s.abnormalLinksOf(r, q, abnormal.FromComplaint, id)
	names := s.staff(ctx, q.P)
	dn := detailNames{user: names.name, cat: func(code string) string { return d.Cats.Name(q.Lang, code) },
		dept: func(id int64) string {
			for _, x := range all {
				if x.ID == id {
					return x.Name
				}
			}
			return "#" + strconv.FormatInt(id, 10)
		}}
	for _, e := range evs {
		d.Events = append(d.Events, complaintEventRow{Event: e, Who: names.who(q.Lang, e.UserID, e.Actor), Label: s.cat.T(q.Lang, "cp.ev."+e.Action),
			Text: s.eventDetail(q.Lang, dn, e.Detail)})
	}
	if v.Status == complaint.Merged {
		d.Flow = nil // a merged duplicate left the flow; its primary carries on
	}
	if d.Intake, err = s.complaintIntakeData(r, q, v); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) complaintPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.complaintData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "complaint", "complaints", d)
}

func (s *Server) complaintAct(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if !slices.Contains(complaint.Actions(), action) {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	f := r.PostForm
	in := complaint.ActionInput{Action: action, Note: f.Get("note"), Category: f.Get("category"), Severity: f.Get("severity"),
		Complexity: f.Get("complexity"), DepartmentID: formID(r, "department_id"), Plan: f.Get("plan"), Compensation: f.Get("compensation"),
		FeedbackHow: f.Get("feedback_how"), Grade: f.Get("grade"), Reason: f.Get("reason"), OwnerID: formID(r, "owner_id")}
	in.ConfirmOpenTasks = f.Get("confirm_open_tasks") == "1"
	for _, x := range f["other_depts"] {
		if id, err := strconv.ParseInt(x, 10, 64); err == nil && id > 0 {
			in.OtherDepts = append(in.OtherDepts, id)
		}
	}
	c, err := s.Complaints.Act(r.Context(), q.P, id, in)
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return err
		}
		d, derr := s.complaintData(r, q, id)
		if derr != nil {
			return err
		}
		d.F = in
		return s.renderForm(w, r, q, "complaint", "complaints", d, err)
	}
	return s.redirectFlash(w, r, "/complaints/"+strconv.FormatInt(id, 10), s.cat.T(q.Lang, "cp.flash.done", s.cat.T(q.Lang, "cp.do."+action), c.Number))
}
