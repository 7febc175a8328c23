package complaint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/notice"
	"suifang/internal/store"
)

// Actions move a complaint along its flow.
const (
	ActAccept       = "accept"       // the owner takes it on (受理)
	ActAssess       = "assess"       // classified: category, severity, complexity, departments
	ActReclassify   = "reclassify"   // classification changed later; deadlines follow
	ActInvestigate  = "investigate"  // the investigation team starts
	ActNote         = "note"         // an interview note or finding
	ActDraftPlan    = "draft_plan"   // explanation, apology, remedy, compensation
	ActApprove      = "approve"      // the department head approves the plan
	ActReturn       = "return"       // … or returns it, with a reason
	ActFeedback     = "feedback"     // the complainant is told: how and what
	ActSatisfaction = "satisfaction" // the complainant's satisfaction with the outcome
	ActRectify      = "rectify"      // a rectification notice goes to the department
	ActRevisit      = "revisit"      // the complainant is visited again after rectification
	ActArchive      = "archive"      // the case is archived
	ActReopen       = "reopen"       // an archived or concluded case is opened again
	ActPause        = "pause"        // waiting on the complainant or a third party
	ActResume       = "resume"       // the wait is over
	ActReassign     = "reassign"     // handed over to another owner
)

// Actions lists the actions in flow order.
func Actions() []string {
	return []string{ActAccept, ActAssess, ActReclassify, ActInvestigate, ActNote, ActDraftPlan, ActApprove, ActReturn, ActFeedback,
		ActSatisfaction, ActRectify, ActRevisit, ActArchive, ActReopen, ActPause, ActResume, ActReassign}
}

// open are the statuses before archiving.
var open = []string{Registered, Accepted, Assessed, Investigating, PlanDrafted, Approved, FeedbackGiven, Satisfaction,
	Rectification, Revisit}

// flow says from which statuses an action may start and where it leads
// ("" keeps the status).
var flow = map[string]struct {
	from []string
	to   string
}{
	ActAccept:       {[]string{Registered}, Accepted},
	ActAssess:       {[]string{Accepted}, Assessed},
	ActReclassify:   {[]string{Assessed, Investigating, PlanDrafted, Approved, FeedbackGiven, Satisfaction, Rectification, Revisit}, ""},
	ActInvestigate:  {[]string{Assessed}, Investigating},
	ActNote:         {open, ""},
	ActDraftPlan:    {[]string{Investigating}, PlanDrafted},
	ActApprove:      {[]string{PlanDrafted}, Approved},
	ActReturn:       {[]string{PlanDrafted}, Investigating},
	ActFeedback:     {[]string{Approved}, FeedbackGiven},
	ActSatisfaction: {[]string{FeedbackGiven}, Satisfaction},
	ActRectify:      {[]string{Satisfaction}, Rectification},
	ActRevisit:      {[]string{Rectification}, Revisit},
	ActArchive:      {[]string{Satisfaction, Revisit}, Archived},
	ActReopen:       {[]string{Satisfaction, Rectification, Revisit, Archived}, Investigating},
	ActPause:        {open, ""},
	ActResume:       {open, ""},
	ActReassign:     {open, ""},
}

// ActionInput is one action with what it needs.
type ActionInput struct {
	Action string
	Note   string // note, investigate (the team), return and reopen (reason), revisit, archive
	// assess / reclassify
	Category, Severity, Complexity string
	DepartmentID                   int64
	OtherDepts                     []int64
	// draft_plan
	Plan, Compensation string
	// feedback
	FeedbackHow string // phone, in person, letter, e-mail, WeChat
	// satisfaction
	Grade string
	// pause
	Reason string // complainant or third_party
	// reassign
	OwnerID int64
	// draft_plan: draft although investigation tasks are still open
	ConfirmOpenTasks bool
}

// FeedbackWays are how the complainant can be told the outcome.
var feedbackWays = []string{"phone", "in_person", "letter", "email", "wechat"}

// FeedbackWays lists them in form order.
func FeedbackWays() []string { return slices.Clone(feedbackWays) }

// handler reports whether p handles c: its owner, quality (or an
// administrator) for the institution, or an integration (an API token,
// e.g. the complaint centre's system) acting for the whole institution.
// Approving, returning and reopening stay with named people.
func handler(p *access.Principal, c *Complaint) bool {
	return (p.UserID != 0 && p.UserID == c.OwnerID) || quality(p, c) ||
		p.Has(access.Integration) && p.SeesInstitution(c.InstitutionID)
}

func quality(p *access.Principal, c *Complaint) bool {
	return p.HasAny(access.Quality, access.SysAdmin) && p.SeesInstitution(c.InstitutionID)
}

// deptHead reports whether p heads c's responsible department.
func deptHead(p *access.Principal, c *Complaint) bool {
	return p.Has(access.DeptHead) && p.SeesDepartment(c.InstitutionID, c.DepartmentID)
}

// Can reports whether p may take action a on c now (for showing forms).
func Can(p *access.Principal, c *Complaint, a string) bool {
	f, ok := flow[a]
	if !ok || !slices.Contains(f.from, c.Status) {
		return false
	}
	switch a {
	case ActPause:
		if c.Paused {
			return false
		}
	case ActResume:
		if !c.Paused {
			return false
		}
	}
	switch a {
	case ActApprove, ActReturn:
		return deptHead(p, c) || quality(p, c)
	case ActReopen:
		return quality(p, c)
	case ActReassign:
		return handler(p, c) || deptHead(p, c)
	case ActNote:
		return handler(p, c) || deptHead(p, c)
	}
	return handler(p, c)
}

func (in *ActionInput) normalize() error {
	for _, f := range []*string{&in.Note, &in.Category, &in.Severity, &in.Complexity, &in.Plan, &in.Compensation, &in.FeedbackHow,
		&in.Grade, &in.Reason} {
		*f = strings.TrimSpace(*f)
	}
	long := func(s string) bool { return utf8.RuneCountInString(s) > maxText }
	if !slices.Contains(Actions(), in.Action) {
		return errs.Field("action", "bad_action", "unknown action")
	}
	switch {
	case long(in.Note):
		return errs.Field("note", "too_long", "at most 4000 characters")
	case long(in.Plan):
		return errs.Field("plan", "too_long", "at most 4000 characters")
	case utf8.RuneCountInString(in.Compensation) > maxShort:
		return errs.Field("compensation", "too_long", "at most 200 characters")
	}
	switch in.Action {
	case ActAssess, ActReclassify:
		switch {
		case !categoryCodeRE.MatchString(in.Category): // the institution's list is checked in apply
			return errs.Field("category", "bad_category", "choose a category")
		case !slices.Contains(Severities(), in.Severity):
			return errs.Field("severity", "bad_severity", "severity is general, serious or major")
		case in.Complexity != Simple && in.Complexity != Complex:
			return errs.Field("complexity", "bad_complexity", "a complaint is simple or complex")
		}
	case ActNote:
		if in.Note == "" {
			return errs.Field("note", "missing_note", "write the note")
		}
	case ActDraftPlan:
		if in.Plan == "" {
			return errs.Field("plan", "missing_plan", "write the handling plan: explanation, apology, remedy")
		}
	case ActReturn, ActReopen:
		if in.Note == "" {
			return errs.Field("note", "missing_reason", "say why")
		}
	case ActFeedback:
		if !slices.Contains(feedbackWays, in.FeedbackHow) {
			return errs.Field("feedback_how", "bad_feedback_how", "choose how the complainant was told")
		}
		if in.Note == "" {
			return errs.Field("note", "missing_feedback", "write down what the complainant was told")
		}
	case ActSatisfaction:
		if !slices.Contains(grades, in.Grade) {
			return errs.Field("grade", "bad_grade", "choose the complainant's satisfaction")
		}
	case ActRevisit:
		if in.Note == "" {
			return errs.Field("note", "missing_note", "write down what the revisit found")
		}
	case ActPause:
		if in.Reason != WaitComplainant && in.Reason != WaitThirdParty {
			return errs.Field("reason", "bad_pause_reason", "the wait is on the complainant or a third party")
		}
	case ActReassign:
		if in.OwnerID <= 0 {
			return errs.Field("owner_id", "bad_owner", "choose the new owner")
		}
	}
	return nil
}

// Act takes one action on a complaint as p, in one transaction with its
// event, its audit entry and its notifications.
func (s *Service) Act(ctx context.Context, p *access.Principal, id int64, in ActionInput) (*Complaint, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	var out *Complaint
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(p, c) {
			return errs.New(errs.Forbidden, "out_of_scope", "this complaint is outside your data scope")
		}
		// Under the chain lock, read again: another instance may have moved
		// the complaint meanwhile.
		if err := s.db.SerializeKey(ctx, tx, chainKey(c.InstitutionID)); err != nil {
			return err
		}
		if c, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if !Can(p, c, in.Action) {
			f := flow[in.Action]
			switch {
			case !slices.Contains(f.from, c.Status):
				return errs.New(errs.Conflict, "bad_transition", fmt.Sprintf("the complaint is %s; it cannot take %s now", c.Status, in.Action))
			case in.Action == ActPause && c.Paused:
				return errs.New(errs.Conflict, "already_paused", "the clocks are already paused")
			case in.Action == ActResume && !c.Paused:
				return errs.New(errs.Conflict, "not_paused", "the clocks are running")
			}
			return errs.New(errs.Forbidden, "complaint_action_forbidden", "your role may not do this to the complaint")
		}
		detail, err := s.apply(ctx, tx, p, c, in)
		if err != nil {
			return err
		}
		from, to := c.Status, flow[in.Action].to
		if to == "" {
			to = from
		}
		if err := s.appendEvent(ctx, tx, p, c, in.Action, from, to, detail); err != nil {
			return err
		}
		if out, err = s.get(ctx, tx, c.ID); err != nil {
			return err
		}
		pol, err := s.cals.Policy(ctx, c.InstitutionID)
		if err != nil {
			return err
		}
		if err := s.refreshDue(ctx, tx, out, pol); err != nil {
			return err
		}
		e := audit.Event(p, "complaint."+in.Action, "complaint", c.Number, c.InstitutionID)
		e.Detail = fmt.Sprintf("%s → %s", from, to)
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// apply makes the action's change and returns the event's detail.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, p *access.Principal, c *Complaint, in ActionInput) (string, error) {
	now := store.Micros(s.now())
	set := func(q string, args ...any) error {
		args = append(args, now, c.ID)
		n := len(args)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE complaints SET %s, updated_at = $%d WHERE id = $%d`, q, n-1, n), args...); err != nil {
			return fmt.Errorf("complaint: %s: %w", in.Action, err)
		}
		return nil
	}
	to := flow[in.Action].to
	switch in.Action {
	case ActAccept:
		return in.Note, set(`status = $1, accepted_at = $2`, to, now)
	case ActAssess, ActReclassify:
		dept := in.DepartmentID
		if dept == 0 {
			dept = c.DepartmentID
		}
		depts, err := s.checkDepartments(ctx, tx, c.InstitutionID, dept, in.OtherDepts)
		if err != nil {
			return "", err
		}
		if err := s.checkCategory(ctx, tx, c.InstitutionID, in.Category, c.Category); err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM complaint_departments WHERE complaint_id = $1`, c.ID); err != nil {
			return "", fmt.Errorf("complaint: departments: %w", err)
		}
		for _, d := range depts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_departments (complaint_id, department_id) VALUES ($1,$2)`, c.ID, d); err != nil {
				return "", fmt.Errorf("complaint: departments: %w", err)
			}
		}
		detail := fmt.Sprintf("category=%s severity=%s complexity=%s departments=%s", in.Category, in.Severity, in.Complexity, joinIDs(depts))
		if in.Note != "" {
			detail += "\n" + in.Note
		}
		var err2 error
		if in.Action == ActAssess {
			err2 = set(`status = $1, assessed_at = $2, category = $3, severity = $4, complexity = $5, department_id = $6`,
				to, now, in.Category, in.Severity, in.Complexity, dept)
		} else {
			err2 = set(`category = $1, severity = $2, complexity = $3, department_id = $4`, in.Category, in.Severity, in.Complexity, dept)
		}
		if err2 != nil {
			return "", err2
		}
		if in.Severity == Major && c.Severity != Major {
			c.Severity = Major
			if err := s.alertMajor(ctx, tx, c); err != nil {
				return "", err
			}
		}
		return detail, nil
	case ActInvestigate:
		// The team is its members, or a note naming it when it has none.
		names, err := memberNames(ctx, tx, c.ID)
		if err != nil {
			return "", err
		}
		if in.Note == "" && len(names) == 0 {
			return "", errs.Field("note", "missing_team", "name the investigation team (medical, nursing, administration members)")
		}
		detail := strings.TrimSpace("team=" + in.Note)
		if len(names) > 0 {
			detail = strings.TrimSpace("members=" + strings.Join(names, "、") + "\n" + in.Note)
		}
		return detail, set(`status = $1`, to)
	case ActNote:
		return in.Note, nil
	case ActDraftPlan:
		// Open investigation tasks hold the plan back unless the owner
		// confirms drafting it anyway; the confirmation is in the history.
		openN, err := openTaskCount(ctx, tx, c.ID)
		if err != nil {
			return "", err
		}
		if openN > 0 && !in.ConfirmOpenTasks {
			return "", errs.Field("confirm_open_tasks", "open_tasks", fmt.Sprintf("%d investigation tasks are still open: finish or cancel them, or confirm drafting the plan anyway", openN))
		}
		detail := "plan=" + in.Plan
		if openN > 0 {
			detail += fmt.Sprintf("\nopen_tasks=%d confirmed", openN)
		}
		if in.Compensation != "" {
			detail += "\ncompensation=" + in.Compensation
		}
		return detail, set(`status = $1, plan = $2, compensation = $3, return_reason = ''`, to, in.Plan, in.Compensation)
	case ActApprove:
		return in.Note, set(`status = $1, plan_at = $2`, to, now)
	case ActReturn:
		if err := set(`status = $1, return_reason = $2`, to, in.Note); err != nil {
			return "", err
		}
		return in.Note, s.tell(ctx, tx, c, "complaint.assigned", "returned"+strconv.FormatInt(now, 10), "", c.OwnerID)
	case ActFeedback:
		return "how=" + in.FeedbackHow + "\n" + in.Note, set(`status = $1, feedback_at = $2, feedback_how = $3, feedback = $4`,
			to, now, in.FeedbackHow, in.Note)
	case ActSatisfaction:
		return "grade=" + in.Grade, set(`status = $1, closed_at = $2, satisfaction = $3`, to, now, in.Grade)
	case ActRectify:
		noticeID := int64(0)
		if s.notices != nil {
			summary := "投诉 " + c.Number + "：" + c.Content
			if in.Note != "" {
				summary = in.Note + "（投诉 " + c.Number + "）"
			}
			if r := []rune(summary); len(r) > 4900 {
				summary = string(r[:4900])
			}
			n, err := s.notices.Raise(ctx, tx, notice.RaiseInput{InstitutionID: c.InstitutionID, SourceKind: notice.FromComplaint,
				SourceRef: "complaint:" + strconv.FormatInt(c.ID, 10), PatientID: c.PatientID, EncounterID: c.EncounterID,
				Topic: topicOf(c.Category), Summary: summary, DepartmentID: c.DepartmentID, By: p})
			if err != nil {
				return "", err
			}
			noticeID = n.ID
			in.Note = strings.TrimSpace("notice=" + n.Number + "\n" + in.Note)
		}
		return in.Note, set(`status = $1, notice_id = $2`, to, noticeID)
	case ActRevisit:
		return in.Note, set(`status = $1, rectified_at = $2`, to, now)
	case ActArchive:
		if c.Paused {
			return "", errs.New(errs.Conflict, "complaint_paused", "resume the clocks before archiving")
		}
		return in.Note, set(`status = $1, archived_at = $2`, to, now)
	case ActReopen:
		return in.Note, set(`status = $1, archived_at = 0`, to)
	case ActPause:
		if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_pauses (complaint_id, reason, from_at) VALUES ($1,$2,$3)`,
			c.ID, in.Reason, now); err != nil {
			return "", fmt.Errorf("complaint: pause: %w", err)
		}
		return "reason=" + in.Reason + "\n" + in.Note, set(`paused = $1`, true)
	case ActResume:
		if _, err := tx.ExecContext(ctx, `UPDATE complaint_pauses SET to_at = $1 WHERE complaint_id = $2 AND to_at = 0`, now, c.ID); err != nil {
			return "", fmt.Errorf("complaint: resume: %w", err)
		}
		return in.Note, set(`paused = $1`, false)
	case ActReassign:
		if in.OwnerID == c.OwnerID {
			return "", errs.Field("owner_id", "same_owner", "this person already owns the complaint")
		}
		ok, err := s.eligibleOwner(ctx, tx, c, in.OwnerID)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", errs.Field("owner_id", "bad_owner", "the owner must be an active member of the institution or of a department involved")
		}
		if err := set(`owner_id = $1`, in.OwnerID); err != nil {
			return "", err
		}
		detail := strings.TrimSpace(fmt.Sprintf("owner %d → %d\n%s", c.OwnerID, in.OwnerID, in.Note))
		c.OwnerID = in.OwnerID
		return detail, s.tell(ctx, tx, c, "complaint.assigned", "owner"+strconv.FormatInt(now, 10), "", c.OwnerID)
	}
	return "", fmt.Errorf("complaint: unhandled action %s", in.Action)
}

// eligibleOwner reports whether user may own c: an active user with an
// institution-wide grant or a grant on a department involved.
func (s *Service) eligibleOwner(ctx context.Context, q store.Querier, c *Complaint, user int64) (bool, error) {
	cands, err := s.Owners(ctx, q, c)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(cands, func(x Candidate) bool { return x.ID == user }), nil
}

// Candidate is a person who may own a complaint.
type Candidate struct {
	ID   int64
	Name string
}

// Owners lists who may own c (for the reassign form): active users of the
// institution (institution-wide) or of a department involved.
func (s *Service) Owners(ctx context.Context, q store.Querier, c *Complaint) ([]Candidate, error) {
	args := []any{true, c.InstitutionID}
	ph := []string{"0"}
	for _, d := range c.DepartmentIDs {
		args = append(args, d)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id, u.display_name FROM users u JOIN user_scopes sc ON sc.user_id = u.id
		WHERE u.active = $1 AND sc.institution_id = $2 AND sc.department_id IN (`+strings.Join(ph, ",")+`) ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: owners: %w", err)
	}
	defer rows.Close()
	var out []Candidate
	for rows.Next() {
		var x Candidate
		if err := rows.Scan(&x.ID, &x.Name); err != nil {
			return nil, fmt.Errorf("complaint: owners: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// OwnerChoices lists who may own complaint id, for p's reassign form.
func (s *Service) OwnerChoices(ctx context.Context, p *access.Principal, id int64) ([]Candidate, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.Owners(ctx, s.db.R(), c)
}
