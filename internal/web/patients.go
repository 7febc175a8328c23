package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/notice"
	"suifang/internal/org"
	"suifang/internal/patient"
)

// searchPage is how many patients one search page shows.
const searchPage = 20

type patientSearchData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	Q        string
	Searched bool
	Hits     []patient.Hit
	Total    int
	From, To int
	PrevURL  string
	NextURL  string
}

func searchURL(inst int64, multi bool, q string, offset int) string {
	v := url.Values{}
	if multi {
		v.Set("inst", strconv.FormatInt(inst, 10))
	}
	v.Set("q", q)
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return "/patients?" + v.Encode()
}

// patientSearch finds patients by name, MRN, visit number, phone or ID
// number in one box; the service decides what the caller may see.
func (s *Server) patientSearch(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	d := patientSearchData{Inst: inst, Insts: insts, Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Q == "" {
		return s.render(w, r, q, http.StatusOK, "patients", "patients", d)
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(0, offset)
	res, err := s.Patients.Search(r.Context(), q.P, patient.Query{InstitutionID: inst.ID, Text: d.Q, Limit: searchPage, Offset: offset})
	if err != nil {
		return s.renderForm(w, r, q, "patients", "patients", d, err)
	}
	d.Searched, d.Hits, d.Total = true, res.Hits, res.Total
	multi := len(insts) > 1
	if len(res.Hits) > 0 {
		d.From, d.To = offset+1, offset+len(res.Hits)
	}
	if offset > 0 {
		d.PrevURL = searchURL(inst.ID, multi, d.Q, max(0, offset-searchPage))
	}
	if offset+len(res.Hits) < res.Total {
		d.NextURL = searchURL(inst.ID, multi, d.Q, offset+searchPage)
	}
	return s.render(w, r, q, http.StatusOK, "patients", "patients", d)
}

type encounterRow struct {
	*patient.Encounter
	OutcomeKey string
}

type patientTaskRow struct {
	*followup.Task
	Purpose     string
	Pill        string
	PillClass   string
	CloseReason string
}

type patientRecordRow struct {
	*followup.Record
	Who string
}

type patientData struct {
	V          *patient.View
	File       *followup.PatientFile
	Stays      []encounterRow
	Tasks      []patientTaskRow
	Attempts   []attemptRow
	Records    []patientRecordRow
	Notices    []*notice.Notice
	Revealed   map[string]string // field → full value, after an audited reveal
	Tels       []telLink
	CanClear   bool
	Reason     map[string]string // the reason typed into a form that failed
	OpenAction string            // the flag form that failed, kept open
}

// patientData gathers the patient page; both services check scope.
func (s *Server) patientData(r *http.Request, q *req, id int64) (*patientData, error) {
	ctx := r.Context()
	pat, err := s.Patients.CheckScope(ctx, nil, q.P, id)
	if err != nil {
		return nil, err
	}
	_, today, err := s.instToday(ctx, pat.InstitutionID)
	if err != nil {
		return nil, err
	}
	v, err := s.Patients.View(ctx, q.P, id, today)
	if err != nil {
		return nil, err
	}
	f, err := s.Followup.PatientFile(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	d := &patientData{V: v, File: f, Revealed: map[string]string{}, Reason: map[string]string{},
		CanClear: q.P.HasAny(access.SysAdmin, access.Quality, access.Agent, access.DeptHead)}
	for _, e := range v.Encounters {
		row := encounterRow{Encounter: e, OutcomeKey: "fu.none"}
		if e.Outcome != "" {
			row.OutcomeKey = "fu.outcome." + string(e.Outcome)
		}
		d.Stays = append(d.Stays, row)
	}
	for _, t := range f.Tasks {
		row := patientTaskRow{Task: t, Purpose: shortPurpose(t.Purpose)}
		row.Pill, row.PillClass = s.taskStatus(q.Lang, t, today)
		row.CloseReason = s.closeReason(q.Lang, t.CloseReason)
		d.Tasks = append(d.Tasks, row)
	}
	names := s.staff(ctx, q.P)
	for _, a := range f.Attempts {
		d.Attempts = append(d.Attempts, attemptRow{Attempt: a, Who: names.name(a.UserID), ThisTask: true})
	}
	for _, rec := range f.Records {
		d.Records = append(d.Records, patientRecordRow{Record: rec, Who: authorName(names, rec)})
	}
	if s.Notices != nil {
		if d.Notices, err = s.Notices.ForPatient(ctx, q.P, id); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// closeReason is a task's close reason in the user's language.
func (s *Server) closeReason(lang, reason string) string {
	if reason == "" {
		return ""
	}
	head, tail, _ := strings.Cut(reason, ":")
	if strings.HasPrefix(head, "no_answer_") {
		head = "no_answer"
	}
	if s.cat.Has(lang, "fu.close."+head) {
		return strings.TrimSpace(s.cat.T(lang, "fu.close."+head) + " " + tail)
	}
	return reason
}

func (s *Server) patientPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.patientData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "patient", "patients", d)
}

// revealFields are what the patient page may show in full.
var revealFields = []string{"phone", "national_id", "address"}

// patientReveal shows one full value once; the service audits it and the
// page is not stored (no-store), so a reload masks it again.
func (s *Server) patientReveal(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	field := r.PostFormValue("field")
	if !contains(revealFields, field) {
		return errs.Field("field", "bad_field", "field must be national_id, phone or address")
	}
	d, err := s.patientData(r, q, id)
	if err != nil {
		return err
	}
	v, err := s.Patients.Reveal(r.Context(), q.P, id, field)
	if err != nil {
		return err
	}
	d.Revealed[field] = v
	if field == "phone" {
		for _, n := range strings.Split(v, ", ") {
			if n = strings.TrimSpace(n); n != "" {
				d.Tels = append(d.Tels, telOf(n))
			}
		}
	}
	return s.render(w, r, q, http.StatusOK, "patient", "patients", d)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// patientFlag runs one flag change and re-shows the page: the notice on
// success, the form with the typed reason and the problem marked on error.
func (s *Server) patientFlag(w http.ResponseWriter, r *http.Request, q *req, action string,
	do func(id int64, reason string) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	reason := r.PostFormValue("reason")
	text, err := do(id, reason)
	if err != nil {
		if _, ok := errs.As(err); !ok || errs.Is(err, errs.Forbidden) || errs.Is(err, errs.NotFound) {
			return err
		}
		d, derr := s.patientData(r, q, id)
		if derr != nil {
			return err
		}
		d.Reason[action], d.OpenAction = reason, action
		return s.renderForm(w, r, q, "patient", "patients", d, err)
	}
	return s.redirectFlash(w, r, "/patients/"+strconv.FormatInt(id, 10), text)
}

func (s *Server) patientSetDNC(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.patientFlag(w, r, q, "dnc", func(id int64, reason string) (string, error) {
		n, err := s.Followup.MarkDoNotContact(r.Context(), q.P, id, reason)
		return s.cat.T(q.Lang, "pat.flash.dnc", n), err
	})
}

func (s *Server) patientClearDNC(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.patientFlag(w, r, q, "dnc_clear", func(id int64, reason string) (string, error) {
		err := s.Followup.ClearDoNotContact(r.Context(), q.P, id, reason)
		return s.cat.T(q.Lang, "pat.flash.dnc_cleared"), err
	})
}

func (s *Server) patientDeceased(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.patientFlag(w, r, q, "deceased", func(id int64, reason string) (string, error) {
		n, err := s.Followup.MarkDeceased(r.Context(), q.P, id, reason)
		return s.cat.T(q.Lang, "pat.flash.deceased", n), err
	})
}
