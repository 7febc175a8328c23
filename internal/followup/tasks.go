package followup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/patient"
	"suifang/internal/store"
)

// Task is one planned follow-up.
type Task struct {
	ID            int64
	InstitutionID int64
	EncounterID   int64
	PatientID     int64
	RuleID        int64
	RuleVersion   int
	StepKey       string
	Level         int
	Purpose       string
	Role          access.Role
	DepartmentID  int64
	AssigneeID    int64
	Channel       string
	Satisfaction  bool
	Earliest      calendar.Date
	Due           calendar.Date
	Next          calendar.Date // when it is next due to be worked (after a retry)
	Status        string
	Attempts      int
	ClaimedBy     int64
	ClaimedAt     time.Time
	CloseReason   string
	ClosedAt      time.Time
	// Joined for worklists.
	PatientName   string
	MRN           string
	VisitNumber   string
	DeptName      string
	WardName      string
	DischargeDate calendar.Date
	DNC           bool
	// NoPhone: the patient has no usable phone number (none was sent, or
	// every one sent was dropped at import).
	NoPhone bool
}

// Overdue reports whether an open task is past its due date on day today.
func (t *Task) Overdue(today calendar.Date) bool { return t.Status == Open && t.Due.Before(today) }

const taskCols = `t.id, t.institution_id, t.encounter_id, t.patient_id, t.rule_id, t.rule_version, t.step_key, t.level, t.purpose,
	t.assignee_role, t.department_id, t.assignee_id, t.channel, t.satisfaction, t.earliest_date, t.due_date, t.next_date, t.status,
	t.attempts, t.claimed_by, t.claimed_at, t.close_reason, t.closed_at, p.name, p.mrn, e.visit_number, e.dept_name, e.ward_name,
	e.discharge_date, p.do_not_contact, NOT EXISTS (SELECT 1 FROM patient_phones pp WHERE pp.patient_id = t.patient_id)`

const taskFrom = ` FROM followup_tasks t JOIN patients p ON p.id = t.patient_id JOIN encounters e ON e.id = t.encounter_id`

func scanTask(sc interface{ Scan(...any) error }) (*Task, error) {
	t := &Task{}
	var role, earliest, due, next, ddate string
	var claimed, closed int64
	if err := sc.Scan(&t.ID, &t.InstitutionID, &t.EncounterID, &t.PatientID, &t.RuleID, &t.RuleVersion, &t.StepKey, &t.Level,
		&t.Purpose, &role, &t.DepartmentID, &t.AssigneeID, &t.Channel, &t.Satisfaction, &earliest, &due, &next, &t.Status,
		&t.Attempts, &t.ClaimedBy, &claimed, &t.CloseReason, &closed, &t.PatientName, &t.MRN, &t.VisitNumber, &t.DeptName,
		&t.WardName, &ddate, &t.DNC, &t.NoPhone); err != nil {
		return nil, err
	}
	t.Role, t.ClaimedAt, t.ClosedAt = access.Role(role), store.Time(claimed), store.Time(closed)
	t.Earliest, _ = calendar.ParseDate(earliest)
	t.Due, _ = calendar.ParseDate(due)
	t.Next, _ = calendar.ParseDate(next)
	if ddate != "" {
		t.DischargeDate, _ = calendar.ParseDate(ddate)
	}
	return t, nil
}

// Tab is a worklist view.
type Tab string

const (
	TabToday    Tab = "today"    // open, to be worked today (incl. retries due today), not overdue
	TabOverdue  Tab = "overdue"  // open and past the due date
	TabUpcoming Tab = "upcoming" // open, window not yet open
	TabMine     Tab = "mine"     // claimed by me or assigned to me, open
	TabDone     Tab = "done"     // closed in any way
)

// Tabs in display order.
func Tabs() []Tab { return []Tab{TabToday, TabOverdue, TabMine, TabUpcoming, TabDone} }

// Filter narrows a worklist.
type Filter struct {
	InstitutionID int64
	Tab           Tab
	Level         int    // 0 any
	DepartmentID  int64  // 0 any in scope
	Channel       string // "" any
	Role          access.Role
	Limit         int
	Offset        int
}

// CountCap bounds the tab counts: counting stops after CountCap+1 tasks,
// so a count above CountCap means "more than CountCap". An exact count of
// a backlog of a million overdue tasks cost seconds per page view and tells
// the nurse nothing a "1000+" does not.
const CountCap = 1000

// Worklist is one page of tasks plus the counts of every tab.
type Worklist struct {
	Today  calendar.Date
	Tasks  []*Task
	Counts map[Tab]int // at most CountCap+1
	Total  int         // tasks in the current tab, at most CountCap+1
}

// roleFilter limits a worklist to the steps the caller's roles do; people
// who oversee (admins, quality, leadership, department heads) see every role.
func roleFilter(p *access.Principal, want access.Role) []access.Role {
	if p.Agency() {
		// An outside agency works only the steps routed to it (and what is
		// assigned to its user, added by the caller), whatever it asks for.
		return []access.Role{access.ThirdParty}
	}
	if want != "" {
		return []access.Role{want}
	}
	if p.HasAny(access.SysAdmin, access.Quality, access.Leadership, access.DeptHead) {
		return nil
	}
	var out []access.Role
	for _, r := range []access.Role{access.Nurse, access.Doctor, access.Agent, access.ThirdParty} {
		if p.Has(r) {
			out = append(out, r)
		}
	}
	if p.Has(access.Agent) || p.Has(access.ThirdParty) {
		// The service centre also picks up what clinical staff left undone.
		return nil
	}
	return out
}

// where builds the scope and filter clause shared by lists and counts.
func (s *Service) where(p *access.Principal, f Filter, today calendar.Date) (string, []any, error) {
	if !p.TouchesInstitution(f.InstitutionID) {
		return "", nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds = append(conds, "t.institution_id = "+arg(f.InstitutionID))
	if f.DepartmentID != 0 {
		if !p.SeesDepartment(f.InstitutionID, f.DepartmentID) {
			return "", nil, errs.New(errs.Forbidden, "out_of_scope", "this department is outside your data scope")
		}
		conds = append(conds, "t.department_id = "+arg(f.DepartmentID))
	} else if !p.SeesInstitution(f.InstitutionID) {
		var ids []string
		for _, g := range p.Grants {
			if g.InstitutionID == f.InstitutionID && g.DepartmentID != 0 {
				ids = append(ids, arg(g.DepartmentID))
			}
		}
		if len(ids) == 0 {
			return "", nil, errs.New(errs.Forbidden, "out_of_scope", "no department of this institution is in your data scope")
		}
		conds = append(conds, "t.department_id IN ("+strings.Join(ids, ",")+")")
	}
	if roles := roleFilter(p, f.Role); len(roles) > 0 {
		var rs []string
		for _, r := range roles {
			rs = append(rs, arg(string(r)))
		}
		own := ""
		if p.UserID != 0 {
			own = " OR t.assignee_id = " + arg(p.UserID)
		}
		conds = append(conds, "(t.assignee_role IN ("+strings.Join(rs, ",")+")"+own+")")
	}
	if f.Level != 0 {
		conds = append(conds, "t.level = "+arg(f.Level))
	}
	if f.Channel != "" {
		conds = append(conds, "t.channel = "+arg(f.Channel))
	}
	return strings.Join(conds, " AND "), args, nil
}

// tabBase adapts the shared scope clause to a tab. For "mine", a unary
// plus on institution_id stops the planner from walking the institution's
// whole worklist index (it has no statistics to know that is millions of
// rows) so it reads the few claimed and assigned tasks instead: 0.5 s → 0.1 ms
// on a million stays.
func tabBase(tab Tab, base string) string {
	if tab == TabMine {
		return strings.Replace(base, "t.institution_id = ", "+t.institution_id = ", 1)
	}
	return base
}

func tabCond(tab Tab, today string, me int64, args *[]any) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	switch tab {
	case TabOverdue:
		return "t.status = " + arg(Open) + " AND t.due_date < " + arg(today)
	case TabUpcoming:
		// next_date never passes due_date, so the redundant due_date term
		// lets the worklist index seek instead of scanning every open task.
		d := arg(today)
		return "t.status = " + arg(Open) + " AND t.next_date > " + d + " AND t.due_date > " + d
	case TabMine:
		if me == 0 {
			return "1 = 0" // integrations and the system hold no claims
		}
		// The "<> 0" terms match the partial claim/assignment indexes
		// (migration 0007), which SQLite uses only when the query says so.
		m := arg(me)
		return "t.status = " + arg(Open) + " AND ((t.claimed_by = " + m + " AND t.claimed_by <> 0) OR (t.assignee_id = " + m + " AND t.assignee_id <> 0))"
	case TabDone:
		// IN, not <>, so the index seeks each closed status.
		return "t.status IN (" + arg(Done) + "," + arg(Unreachable) + "," + arg(Cancelled) + ")"
	default:
		d := arg(today)
		return "t.status = " + arg(Open) + " AND t.next_date <= " + d + " AND t.due_date >= " + d
	}
}

// Worklist returns the caller's tasks for one tab, most urgent first, and
// the counts for every tab. today is the institution's local date.
func (s *Service) Worklist(ctx context.Context, p *access.Principal, f Filter, today calendar.Date) (*Worklist, error) {
	base, args, err := s.where(p, f, today)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Tab == "" {
		f.Tab = TabToday
	}
	wl := &Worklist{Today: today, Counts: map[Tab]int{}}
	err = s.db.Read(ctx, func(tx *sql.Tx) error {
		for _, tab := range Tabs() {
			a := append([]any(nil), args...)
			q := fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM followup_tasks t WHERE %s AND %s LIMIT %d) c`,
				tabBase(tab, base), tabCond(tab, today.String(), p.UserID, &a), CountCap+1)
			key := fmt.Sprintf("%s|%v", q, a)
			if s.overflow.overflows(key, s.now()) {
				wl.Counts[tab] = CountCap + 1
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, q, a...).Scan(&n); err != nil {
				return fmt.Errorf("followup: count %s: %w", tab, err)
			}
			if n > CountCap {
				s.overflow.remember(key, s.now())
			}
			wl.Counts[tab] = n
		}
		wl.Total = wl.Counts[f.Tab]
		a := append([]any(nil), args...)
		order := ` ORDER BY t.due_date, t.level, t.next_date, t.id`
		if f.Tab == TabDone {
			order = ` ORDER BY t.closed_at DESC, t.id DESC`
		}
		// Upcoming tasks sort by deadline too: the index is in due_date
		// order, so a page stops after 50 rows instead of sorting every
		// future task (0.4 s for one department of a million stays).
		q := `SELECT ` + taskCols + taskFrom + ` WHERE ` + tabBase(f.Tab, base) + ` AND ` + tabCond(f.Tab, today.String(), p.UserID, &a) + order
		a = append(a, f.Limit, f.Offset)
		q += fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(a)-1, len(a))
		rows, err := tx.QueryContext(ctx, q, a...)
		if err != nil {
			return fmt.Errorf("followup: worklist: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return fmt.Errorf("followup: scan task: %w", err)
			}
			wl.Tasks = append(wl.Tasks, t)
		}
		return rows.Err()
	})
	return wl, err
}

// Task returns one task if p's scope covers its department.
func (s *Service) Task(ctx context.Context, p *access.Principal, id int64) (*Task, error) {
	return s.task(ctx, s.db.R(), p, id)
}

func (s *Service) task(ctx context.Context, q store.Querier, p *access.Principal, id int64) (*Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "task_not_found", "no such follow-up task")
	}
	if err != nil {
		return nil, fmt.Errorf("followup: read task: %w", err)
	}
	if !p.SeesDepartment(t.InstitutionID, t.DepartmentID) || !routed(p, t) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this follow-up is outside your data scope")
	}
	return t, nil
}

// TaskPatient returns a task p may work with its patient and stay: the
// task's scope is the reach of the call, so an agency sees the patient of
// its task (even once closed) and nobody else's.
func (s *Service) TaskPatient(ctx context.Context, p *access.Principal, id int64) (*Task, *patient.Patient, *patient.Encounter, error) {
	t, err := s.Task(ctx, p, id)
	if err != nil {
		return nil, nil, nil, err
	}
	pat, err := s.patients.Get(ctx, s.db.R(), t.PatientID)
	if err != nil {
		return nil, nil, nil, err
	}
	enc, err := s.patients.Encounter(ctx, s.db.R(), t.EncounterID)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, pat, enc, nil
}

// routed reports whether task t is within p's reach by role: everyone's
// but an outside agency's, whose reach is the steps planned for the
// third_party role and the tasks assigned to its user. Plan rules route a
// step to the agency by giving it that role.
func routed(p *access.Principal, t *Task) bool {
	return !p.Agency() || t.Role == access.ThirdParty || (p.UserID != 0 && t.AssigneeID == p.UserID)
}

// RoutedPatient reports whether an agency principal has an open task for
// the patient: the patient room asks before it shows an agency a patient
// or reveals her phone (the reach a call needs, no more).
func (s *Service) RoutedPatient(ctx context.Context, q store.Querier, p *access.Principal, patientID int64) (bool, error) {
	if q == nil {
		q = s.db.R()
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_tasks WHERE patient_id = $1 AND status = $2
		AND (assignee_role = $3 OR (assignee_id = $4 AND assignee_id <> 0))`,
		patientID, Open, string(access.ThirdParty), p.UserID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("followup: routed patient: %w", err)
	}
	return n > 0, nil
}

// Claim reserves an open task for p so two agents do not call the same
// patient. A claim lapses after Policy.ClaimFor; claiming a task someone
// else holds is a conflict.
func (s *Service) Claim(ctx context.Context, p *access.Principal, id int64) error {
	t, err := s.Task(ctx, p, id)
	if err != nil {
		return err
	}
	if t.Status != Open {
		return errs.New(errs.Conflict, "task_closed", "this follow-up is already closed")
	}
	now := s.now()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET claimed_by = $1, claimed_at = $2, updated_at = $2
			WHERE id = $3 AND status = $4 AND (claimed_by = 0 OR claimed_by = $1 OR claimed_at < $5)`,
			p.UserID, store.Micros(now), id, Open, store.Micros(now.Add(-s.policy.ClaimFor)))
		if err != nil {
			return fmt.Errorf("followup: claim: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "task_claimed", "someone else is working on this follow-up")
		}
		return nil
	})
}

// Release gives a claimed task back.
func (s *Service) Release(ctx context.Context, p *access.Principal, id int64) error {
	if _, err := s.Task(ctx, p, id); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET claimed_by = 0, claimed_at = 0 WHERE id = $1 AND claimed_by = $2`, id, p.UserID)
		return err
	})
}

// HeldByOther reports whether someone other than p holds a live claim on
// t, under the configured claim time (the worklist greys such tasks).
func (s *Service) HeldByOther(t *Task, p *access.Principal) bool {
	return t.ClaimedBy != 0 && t.ClaimedBy != p.UserID && s.now().Sub(t.ClaimedAt) < s.policy.ClaimFor
}

// requireClaim refuses work on a task someone else currently holds.
func (s *Service) requireClaim(t *Task, p *access.Principal) error {
	if s.HeldByOther(t, p) {
		return errs.New(errs.Conflict, "task_claimed", "someone else is working on this follow-up")
	}
	return nil
}

// Attempt outcomes (requirements §3).
const (
	Reached      = "reached"
	NoAnswer     = "no_answer"
	Busy         = "busy"
	WrongNumber  = "wrong_number"
	Disconnected = "disconnected" // 停机/空号/电话不详
	Refused      = "refused"
	Deceased     = "deceased"
)

// Outcomes lists attempt outcomes in display order.
func Outcomes() []string {
	return []string{Reached, NoAnswer, Busy, WrongNumber, Disconnected, Refused, Deceased}
}

// AttemptInput is one logged contact attempt.
type AttemptInput struct {
	Outcome string
	Channel string
	Note    string
}

// AttemptResult says what the attempt did to the task.
type AttemptResult struct {
	Status   string        // the task's status afterwards
	Next     calendar.Date // when it comes back (retries)
	Attempts int
	Closed   int // other open tasks of the patient closed (refused, deceased)
}

// Attempt logs a contact attempt and applies its retry rule: no answer or
// busy comes back the next working day until Policy.MaxNoAnswer tries, then
// the task is unreachable; a wrong or dead number is unreachable at once
// with that reason; a refusal marks the patient do-not-contact and closes
// every open task; a death closes every open task and marks the patient.
func (s *Service) Attempt(ctx context.Context, p *access.Principal, taskID int64, in AttemptInput, cal *calendar.Calendar, today calendar.Date) (AttemptResult, error) {
	var res AttemptResult
	if !validOutcome(in.Outcome) {
		return res, errs.Field("outcome", "bad_outcome", "choose what happened on this attempt")
	}
	if in.Channel == "" {
		in.Channel = "phone"
	}
	if !validChannel(in.Channel) {
		return res, errs.Field("channel", "bad_channel", "unknown contact channel")
	}
	if len(in.Note) > 2000 {
		return res, errs.Field("note", "note_too_long", "the note may have at most 2000 characters")
	}
	now := s.now()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		t, err := s.task(ctx, tx, p, taskID)
		if err != nil {
			return err
		}
		if t.Status != Open {
			return errs.New(errs.Conflict, "task_closed", "this follow-up is already closed")
		}
		if err := s.requireClaim(t, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_attempts (institution_id, task_id, patient_id, user_id, at, channel, outcome, note)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, t.InstitutionID, t.ID, t.PatientID, p.UserID, store.Micros(now), in.Channel, in.Outcome, in.Note); err != nil {
			return fmt.Errorf("followup: log attempt: %w", err)
		}
		res.Attempts, res.Status, res.Next = t.Attempts+1, Open, t.Next
		reason := ""
		switch in.Outcome {
		case NoAnswer, Busy:
			// Only unanswered calls count towards "unreachable"; a reached
			// call that did not finish the follow-up is not a failed try.
			var missed int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_attempts WHERE task_id = $1 AND outcome IN ($2, $3)`,
				t.ID, NoAnswer, Busy).Scan(&missed); err != nil {
				return fmt.Errorf("followup: count attempts: %w", err)
			}
			if missed >= s.policy.MaxNoAnswer {
				res.Status, reason = Unreachable, "no_answer_"+fmt.Sprint(missed)
			} else {
				res.Next = cal.AddWorkingDays(today, 1)
			}
		case WrongNumber, Disconnected:
			res.Status, reason = Unreachable, in.Outcome
		case Refused:
			res.Status, reason = Cancelled, "refused"
			if err := s.patients.SetDoNotContact(ctx, tx, p, t.PatientID, "refused follow-up: "+in.Note); err != nil {
				return err
			}
		case Deceased:
			res.Status, reason = Cancelled, "deceased"
			if err := s.patients.SetDeceased(ctx, tx, p, t.PatientID, "contact attempt: "+in.Note); err != nil {
				return err
			}
		}
		nowUS := store.Micros(now)
		closedAt := int64(0)
		if res.Status != Open {
			closedAt = nowUS
		}
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET attempts = $1, status = $2, next_date = $3, close_reason = $4,
			closed_at = $5, updated_at = $6 WHERE id = $7`, res.Attempts, res.Status, res.Next.String(), reason, closedAt, nowUS, t.ID); err != nil {
			return fmt.Errorf("followup: update task: %w", err)
		}
		if in.Outcome == Refused || in.Outcome == Deceased {
			if res.Closed, err = closePatientTasks(ctx, tx, t.PatientID, reason, nowUS, in.Outcome == Deceased); err != nil {
				return err
			}
		}
		e := audit.Event(p, "followup.attempt", "followup_task", fmt.Sprint(t.ID), t.InstitutionID)
		e.Detail = fmt.Sprintf("outcome=%s attempts=%d status=%s", in.Outcome, res.Attempts, res.Status)
		return s.audit.Append(ctx, tx, e)
	})
	return res, err
}

func validOutcome(o string) bool {
	for _, x := range Outcomes() {
		if x == o {
			return true
		}
	}
	return false
}

func validChannel(c string) bool {
	for _, x := range channels {
		if x == c {
			return true
		}
	}
	return false
}

// Attempt is a logged contact attempt.
type Attempt struct {
	ID      int64
	TaskID  int64
	UserID  int64
	At      time.Time
	Channel string
	Outcome string
	Note    string
}

// PatientAttempts lists earlier contacts with the patient of a task the
// caller may see, newest first.
func (s *Service) PatientAttempts(ctx context.Context, p *access.Principal, taskID int64) ([]Attempt, error) {
	t, err := s.Task(ctx, p, taskID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, task_id, user_id, at, channel, outcome, note FROM contact_attempts
		WHERE patient_id = $1 ORDER BY at DESC, id DESC LIMIT 100`, t.PatientID)
	if err != nil {
		return nil, fmt.Errorf("followup: attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at int64
		if err := rows.Scan(&a.ID, &a.TaskID, &a.UserID, &at, &a.Channel, &a.Outcome, &a.Note); err != nil {
			return nil, fmt.Errorf("followup: attempts: %w", err)
		}
		a.At = store.Time(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Dialer places a call through the hospital's CTI system so nobody dials by
// hand. Implementations are plugged in by the app (an HTTP hook).
type Dialer interface {
	Dial(ctx context.Context, agent *access.Principal, phone string) error
}

// Dial asks the CTI hook to call the patient of a task, and audits it (the
// full number leaves Suifang). Without a hook it is a clear error; the UI
// still offers the tel: link.
func (s *Service) Dial(ctx context.Context, p *access.Principal, taskID int64) error {
	t, err := s.Task(ctx, p, taskID)
	if err != nil {
		return err
	}
	if s.dialer == nil {
		return errs.New(errs.Invalid, "no_dialer", "no telephone system (CTI) is connected; use the phone number link")
	}
	pat, err := s.patients.Get(ctx, nil, t.PatientID)
	if err != nil {
		return err
	}
	if pat.DoNotContact {
		return errs.New(errs.Conflict, "do_not_contact", "this patient asked not to be contacted")
	}
	if len(pat.Phones) == 0 {
		return errs.New(errs.Invalid, "no_phone", "this patient has no phone number")
	}
	if err := s.dialer.Dial(ctx, p, pat.Phones[0]); err != nil {
		return fmt.Errorf("followup: dial: %w", err)
	}
	return s.audit.Record(ctx, audit.Event(p, "followup.dial", "followup_task", fmt.Sprint(t.ID), t.InstitutionID))
}
