package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"suifang/internal/abnormal"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/pii"
)

// abnormalView is the list's state, carried in its URLs.
type abnormalView struct {
	Inst   int64 // 0 when the user has one institution
	Tab    abnormal.Tab
	Kind   string
	Status string
}

func (st abnormalView) url(tab abnormal.Tab, offset int) string {
	v := url.Values{}
	if st.Inst != 0 {
		v.Set("inst", strconv.FormatInt(st.Inst, 10))
	}
	if tab != "" {
		v.Set("tab", string(tab))
	}
	if st.Kind != "" {
		v.Set("kind", st.Kind)
	}
	if st.Status != "" {
		v.Set("status", st.Status)
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return withQuery("/abnormal", v)
}

type abnormalTab struct {
	Tab     abnormal.Tab
	URL     string
	Current bool
}

type abnormalRow struct {
	*abnormal.Report
	URL string
}

type abnormalListData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	View     abnormalView
	Tabs     []abnormalTab
	Rows     []abnormalRow
	Total    int
	From, To int
	PrevURL  string
	NextURL  string
	Kinds    []string
	Statuses []string
	Filtered bool
	ClearURL string
}

const abnormalPageSize = 50

func (s *Server) abnormalList(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	st := abnormalView{Tab: abnormal.Tab(v.Get("tab")), Kind: v.Get("kind"), Status: v.Get("status")}
	if len(insts) > 1 {
		st.Inst = inst.ID
	}
	if !slices.Contains(abnormal.TabsFor(q.P, inst.ID), st.Tab) {
		st.Tab = ""
	}
	if !slices.Contains(abnormal.Kinds(), st.Kind) {
		st.Kind = ""
	}
	if !slices.Contains(abnormal.Statuses(), st.Status) {
		st.Status = ""
	}
	offset, _ := strconv.Atoi(v.Get("offset"))
	offset = max(offset, 0)
	list, err := s.Abnormal.List(r.Context(), q.P, abnormal.Filter{InstitutionID: inst.ID, Tab: st.Tab, Kind: st.Kind, Status: st.Status,
		Limit: abnormalPageSize, Offset: offset})
	if err != nil {
		return err
	}
	st.Tab = list.Tab
	d := abnormalListData{Inst: inst, Insts: insts, View: st, Total: list.Total, Kinds: abnormal.Kinds(), Statuses: abnormal.Statuses(),
		Filtered: st.Kind != "" || st.Status != ""}
	clear := st
	clear.Kind, clear.Status = "", ""
	d.ClearURL = clear.url(st.Tab, 0)
	for _, t := range list.Tabs {
		d.Tabs = append(d.Tabs, abnormalTab{Tab: t, URL: st.url(t, 0), Current: t == list.Tab})
	}
	for _, x := range list.Items {
		d.Rows = append(d.Rows, abnormalRow{Report: x, URL: "/abnormal/" + strconv.FormatInt(x.ID, 10)})
	}
	if len(d.Rows) > 0 {
		d.From, d.To = offset+1, offset+len(d.Rows)
	}
	if offset > 0 {
		d.PrevURL = st.url(st.Tab, max(0, offset-abnormalPageSize))
	}
	if offset+len(d.Rows) < list.Total {
		d.NextURL = st.url(st.Tab, offset+abnormalPageSize)
	}
	return s.render(w, r, q, http.StatusOK, "abnormal_list", "abnormal", d)
}

// abnormalNewData is the raise form: by hand, or from the record or
// complaint named in the query (?record= or ?complaint=).
type abnormalNewData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	Kinds      []string
	Severities []string
	F          abnormal.Input
	SourceRef  string // the record's or complaint's number
	SourceURL  string
}

func (s *Server) abnormalNewData(r *http.Request, q *req) (*abnormalNewData, error) {
	ctx := r.Context()
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	d := &abnormalNewData{Inst: inst, Insts: insts, Kinds: abnormal.Kinds(), Severities: abnormal.Severities(),
		F: abnormal.Input{InstitutionID: inst.ID, Kind: "dispute", Severity: abnormal.Normal}}
	src := r.URL.Query()
	if r.Method == http.MethodPost {
		src = r.PostForm
	}
	// The source is read through its room, so its scope check holds here too.
	if id, _ := strconv.ParseInt(src.Get("record"), 10, 64); id > 0 {
		rec, err := s.Followup.Record(ctx, q.P, id)
		if err != nil {
			return nil, err
		}
		d.F.RecordID, d.SourceRef, d.SourceURL = rec.ID, rec.Number, "/followup/records/"+strconv.FormatInt(rec.ID, 10)
	} else if id, _ := strconv.ParseInt(src.Get("complaint"), 10, 64); id > 0 {
		c, err := s.Complaints.Get(ctx, q.P, id)
		if err != nil {
			return nil, err
		}
		d.F.ComplaintID, d.SourceRef, d.SourceURL = c.ID, c.Number, "/complaints/"+strconv.FormatInt(c.ID, 10)
	}
	return d, nil
}

func (s *Server) abnormalNew(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.abnormalNewData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "abnormal_form", "abnormal", d)
}

func (s *Server) abnormalCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	d, err := s.abnormalNewData(r, q)
	if err != nil {
		return err
	}
	f := r.PostForm
	d.F.Kind, d.F.Severity, d.F.Summary, d.F.VisitNumber = f.Get("kind"), f.Get("severity"), f.Get("summary"), f.Get("visit_number")
	rep, err := s.Abnormal.Raise(r.Context(), q.P, d.F)
	if err != nil {
		return s.renderForm(w, r, q, "abnormal_form", "abnormal", d, err)
	}
	return s.redirectFlash(w, r, "/abnormal/"+strconv.FormatInt(rep.ID, 10), s.cat.T(q.Lang, "ab.flash.raised", rep.Number))
}

type abnormalEventRow struct {
	*abnormal.Event
	Who   string
	Label string
}

type abnormalPageData struct {
	R         *abnormal.Report
	Flow      []flowStep
	Events    []abnormalEventRow
	Can       map[string]bool
	Findings  []string
	F         abnormal.ActionInput
	SourceURL string
	Visit     string
	Patient   string
	Reporter  string
}

func (s *Server) abnormalData(r *http.Request, q *req, id int64) (*abnormalPageData, error) {
	ctx := r.Context()
	rep, err := s.Abnormal.Get(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	evs, err := s.Abnormal.Events(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	d := &abnormalPageData{R: rep, Can: map[string]bool{}, Findings: abnormal.Findings(), Reporter: rep.ReporterName}
	reached := true
	for _, st := range abnormal.Statuses() {
		now := st == rep.Status
		if now {
			reached = false
		}
		d.Flow = append(d.Flow, flowStep{Status: st, Done: reached || rep.Status == abnormal.Closed, Now: now})
	}
	for _, a := range abnormal.Actions() {
		d.Can[a] = abnormal.Can(q.P, rep, a)
	}
	switch rep.SourceKind {
	case abnormal.FromRecord:
		d.SourceURL = "/followup/records/" + strconv.FormatInt(rep.SourceID, 10)
	case abnormal.FromComplaint:
		d.SourceURL = "/complaints/" + strconv.FormatInt(rep.SourceID, 10)
	}
	if rep.EncounterID != 0 {
		if enc, _, err := s.Patients.Stay(ctx, q.P, rep.EncounterID); err == nil {
			d.Visit = enc.VisitNumber
		}
	}
	if rep.PatientID != 0 {
		// Masked, as everywhere in lists and pages; the archive is one
		// click away for those whose scope covers the patient.
		if pat, err := s.Patients.CheckScope(ctx, nil, q.P, rep.PatientID); err == nil {
			d.Patient = pii.MaskName(pat.Name)
		}
	}
	names := s.staff(ctx, q.P)
	for _, e := range evs {
		d.Events = append(d.Events, abnormalEventRow{Event: e, Who: names.who(q.Lang, e.UserID, e.Actor), Label: s.cat.T(q.Lang, "ab.ev."+e.Action)})
	}
	return d, nil
}

func (s *Server) abnormalPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.abnormalData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "abnormal", "abnormal", d)
}

func (s *Server) abnormalAct(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if !slices.Contains(abnormal.Actions(), action) {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	f := r.PostForm
	in := abnormal.ActionInput{Action: action, Note: f.Get("note"), Finding: f.Get("finding"), ReferredTo: f.Get("referred_to"),
		Conclusion: f.Get("conclusion"), Actions: f.Get("actions")}
	rep, err := s.Abnormal.Act(r.Context(), q.P, id, in)
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return err
		}
		d, derr := s.abnormalData(r, q, id)
		if derr != nil {
			return err
		}
		d.F = in
		return s.renderForm(w, r, q, "abnormal", "abnormal", d, err)
	}
	return s.redirectFlash(w, r, "/abnormal/"+strconv.FormatInt(id, 10), s.cat.T(q.Lang, "ab.flash.done", s.cat.T(q.Lang, "ab.do."+action), rep.Number))
}

// abnormalLinks is the block a follow-up record's or a complaint's page
// shows: the reports raised from it that the user may see, and the button
// to raise one.
type abnormalLinks struct {
	Reports  []*abnormal.Report
	RaiseURL string
}

func (s *Server) abnormalLinksOf(r *http.Request, q *req, kind string, id int64) abnormalLinks {
	out := abnormalLinks{RaiseURL: "/abnormal/new?" + kind + "=" + strconv.FormatInt(id, 10)}
	if s.Abnormal == nil {
		return abnormalLinks{}
	}
	reps, err := s.Abnormal.BySource(r.Context(), q.P, kind, id)
	if err != nil {
		s.Log.Warn("abnormal reports of a source", "kind", kind, "id", id, "err", err)
	}
	out.Reports = reps
	return out
}
