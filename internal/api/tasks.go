package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/pii"
)

// taskJSON is one follow-up task; the patient's name is masked.
type taskJSON struct {
	ID           int64   `json:"id"`
	VisitNumber  string  `json:"visit_number"`
	PatientMRN   string  `json:"patient_mrn"`
	PatientName  string  `json:"patient_name"`
	Step         string  `json:"step"`
	Level        int     `json:"level"`
	Purpose      string  `json:"purpose"`
	Role         string  `json:"role"`
	DepartmentID *int64  `json:"department_id"`
	Channel      string  `json:"channel"`
	EarliestDate string  `json:"earliest_date"`
	DueDate      string  `json:"due_date"`
	NextDate     string  `json:"next_date"`
	Status       string  `json:"status"`
	Attempts     int     `json:"attempts"`
	CloseReason  *string `json:"close_reason"`
}

func taskOf(t *followup.Task) taskJSON {
	return taskJSON{ID: t.ID, VisitNumber: t.VisitNumber, PatientMRN: t.MRN, PatientName: pii.MaskName(t.PatientName),
		Step: t.StepKey, Level: t.Level, Purpose: t.Purpose, Role: string(t.Role), DepartmentID: optID(t.DepartmentID),
		Channel: t.Channel, EarliestDate: t.Earliest.String(), DueDate: t.Due.String(), NextDate: t.Next.String(),
		Status: t.Status, Attempts: t.Attempts, CloseReason: optString(t.CloseReason)}
}

type tabCountsJSON struct {
	Today    int `json:"today"`
	Overdue  int `json:"overdue"`
	Upcoming int `json:"upcoming"`
	Mine     int `json:"mine"`
	Done     int `json:"done"`
}

type taskPage struct {
	Items      []taskJSON    `json:"items"`
	NextCursor *string       `json:"next_cursor"`
	Today      string        `json:"today"`
	Tab        string        `json:"tab"`
	Total      int           `json:"total"`
	Counts     tabCountsJSON `json:"counts"`
}

// workRoles are the roles a plan step can be assigned to.
var workRoles = []access.Role{access.Nurse, access.Doctor, access.Agent, access.ThirdParty}

// listTasks is the worklist of the token's institution. An integration
// holds no claims and no assignments, so its "mine" tab is always empty.
func (s *server) listTasks(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var fe fieldErrors
	f := followup.Filter{InstitutionID: p.InstitutionID, Tab: followup.TabToday}
	if v := q.Get("tab"); v != "" {
		if !slices.Contains(followup.Tabs(), followup.Tab(v)) {
			fe.add(errs.Field("tab", "bad_tab", "tab must be today, overdue, upcoming, mine or done"))
		}
		f.Tab = followup.Tab(v)
	}
	f.Level = int(queryInt(q, "level", 0, 9, &fe))
	f.DepartmentID = queryInt(q, "department_id", 1, 1<<53, &fe)
	if v := q.Get("channel"); v != "" {
		if !slices.Contains(followup.Channels(), v) {
			fe.add(errs.Field("channel", "bad_channel", "unknown contact channel"))
		}
		f.Channel = v
	}
	if v := q.Get("role"); v != "" {
		if !slices.Contains(workRoles, access.Role(v)) {
			fe.add(errs.Field("role", "bad_role", "role must be nurse, doctor, agent or third_party"))
		}
		f.Role = access.Role(v)
	}
	f.Limit, f.Offset = pageParams(q, &fe)
	if err := fe.err(); err != nil {
		return nil, err
	}
	today, _, err := s.localDay(r.Context(), p.InstitutionID)
	if err != nil {
		return nil, err
	}
	wl, err := s.d.Followup.Worklist(r.Context(), p, f, today)
	if err != nil {
		return nil, err
	}
	if p.UserID == 0 { // "claimed by or assigned to me" means nothing for a token
		wl.Counts[followup.TabMine] = 0
		if f.Tab == followup.TabMine {
			wl.Tasks, wl.Total = nil, 0
		}
	}
	page := taskPage{Items: make([]taskJSON, 0, len(wl.Tasks)), Today: today.String(), Tab: string(f.Tab), Total: wl.Total,
		Counts: tabCountsJSON{Today: wl.Counts[followup.TabToday], Overdue: wl.Counts[followup.TabOverdue],
			Upcoming: wl.Counts[followup.TabUpcoming], Mine: wl.Counts[followup.TabMine], Done: wl.Counts[followup.TabDone]}}
	for _, t := range wl.Tasks {
		page.Items = append(page.Items, taskOf(t))
	}
	if next := f.Offset + len(wl.Tasks); len(wl.Tasks) == f.Limit && next < wl.Total {
		c := encodeCursor(int64(next))
		page.NextCursor = &c
	}
	return page, nil
}

// errTaskNotFound answers both "no such task" and "another institution's
// task", so a token cannot probe other institutions.
var errTaskNotFound = errs.New(errs.NotFound, "task_not_found", "no such follow-up task")

// notFoundTask hides scope failures behind errTaskNotFound.
func notFoundTask(err error) error { return hideAs(errTaskNotFound, err) }

// taskByID returns a task of the token's institution.
func (s *server) taskByID(ctx context.Context, p *access.Principal, raw string) (*followup.Task, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, errTaskNotFound
	}
	t, err := s.d.Followup.Task(ctx, p, id)
	if err != nil {
		return nil, notFoundTask(err)
	}
	if t.InstitutionID != p.InstitutionID {
		return nil, errTaskNotFound
	}
	return t, nil
}

func (s *server) getTask(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	t, err := s.taskByID(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return taskOf(t), nil
}

var errIntegrationClaim = errs.New(errs.Conflict, "integration_cannot_claim",
	"API tokens do not claim tasks: a claim reserves a task for a person. Log attempts and complete the task without claiming; a task a person holds answers 409 task_claimed")

// claimTask reserves a task for the caller. Integrations act for the whole
// institution and never hold claims, so for them this answers 409.
func (s *server) claimTask(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	t, err := s.taskByID(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if p.UserID == 0 || p.Has(access.Integration) {
		return nil, errIntegrationClaim
	}
	if err := s.d.Followup.Claim(r.Context(), p, t.ID); err != nil {
		return nil, notFoundTask(err)
	}
	if t, err = s.taskByID(r.Context(), p, r.PathValue("id")); err != nil {
		return nil, err
	}
	return taskOf(t), nil
}

type attemptIn struct {
	Outcome string `json:"outcome"`
	Channel string `json:"channel"`
	Note    string `json:"note"`
}

type attemptJSON struct {
	Status           string  `json:"status"`
	NextDate         *string `json:"next_date"`
	Attempts         int     `json:"attempts"`
	OtherTasksClosed int     `json:"other_tasks_closed"`
}

// postAttempt logs one contact attempt and applies its retry rule.
func (s *server) postAttempt(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	t, err := s.taskByID(ctx, p, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in attemptIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	today, cal, err := s.localDay(ctx, t.InstitutionID)
	if err != nil {
		return nil, err
	}
	res, err := s.d.Followup.Attempt(ctx, p, t.ID, followup.AttemptInput{Outcome: in.Outcome, Channel: in.Channel, Note: in.Note}, cal, today)
	if err != nil {
		return nil, notFoundTask(err)
	}
	j := attemptJSON{Status: res.Status, Attempts: res.Attempts, OtherTasksClosed: res.Closed}
	if res.Status == followup.Open {
		j.NextDate = optDate(res.Next)
	}
	return j, nil
}

type completeIn struct {
	Channel            string `json:"channel"`
	TreatmentEffect    string `json:"treatment_effect"`
	Satisfaction       string `json:"satisfaction"`
	MedicationGuidance string `json:"medication_guidance"`
	RevisitAdvice      string `json:"revisit_advice"`
	NPS                *int   `json:"nps"`
	Opinions           string `json:"opinions"`
	OpinionProblem     bool   `json:"opinion_problem"`
	RevisitNeeded      bool   `json:"revisit_needed"`
	RecordingConsent   bool   `json:"recording_consent"`
	RecordingRef       string `json:"recording_ref"`
}

type recordCreatedJSON struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
	Hash   string `json:"hash"`
	At     string `json:"at"`
	// CaseOpened: the record handed its department a case (a notice).
	CaseOpened bool `json:"case_opened"`
}

// completeTask records a reached follow-up; the record is numbered and
// chained, the task is done.
func (s *server) completeTask(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	t, err := s.taskByID(ctx, p, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in completeIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	rin := followup.RecordInput{Channel: in.Channel, TreatmentEffect: in.TreatmentEffect, Satisfaction: in.Satisfaction,
		MedicationGuidance: in.MedicationGuidance, RevisitAdvice: in.RevisitAdvice, NPS: -1, Opinions: in.Opinions,
		OpinionProblem: in.OpinionProblem, RevisitNeeded: in.RevisitNeeded, RecordingConsent: in.RecordingConsent,
		RecordingRef: in.RecordingRef}
	if in.NPS != nil {
		if *in.NPS < 0 {
			return nil, errs.Field("nps", "bad_nps", "the recommendation score is 0 to 10; leave nps out when it was not asked")
		}
		rin.NPS = *in.NPS
	}
	rec, err := s.d.Followup.Complete(ctx, p, t.ID, rin)
	if err != nil {
		return nil, notFoundTask(err)
	}
	return created(recordCreatedJSON{ID: rec.ID, Number: rec.Number, Hash: rec.Hash, At: rec.At.UTC().Format(timeLayout),
		CaseOpened: rec.OpenedCase}), nil
}
