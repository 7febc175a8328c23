package complaint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// The investigation (调查): a team of medical, nursing and administration
// members, a task per member, structured interview notes and evidence
// files. The owner and quality run the team; members see the complaint,
// do their tasks and add notes and evidence. Every change is an event in
// the complaint's chain and an audit entry, and an archived complaint's
// investigation is frozen until it is reopened.

// Disciplines of a team member.
var disciplines = []string{"medical", "nursing", "administration"}

// disciplineZH names a discipline in the history's text.
var disciplineZH = map[string]string{"medical": "医务", "nursing": "护理", "administration": "行政"}

// Disciplines lists them in form order.
func Disciplines() []string { return slices.Clone(disciplines) }

// Task statuses.
const (
	TaskOpen      = "open"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// DefaultTaskDays is a task's default budget in working days.
const DefaultTaskDays = 3

// Member is one person on a complaint's investigation team.
type Member struct {
	ID          int64
	ComplaintID int64
	UserID      int64
	Name        string
	Discipline  string
	AddedBy     int64
	At          time.Time
	RemovedAt   time.Time // zero while on the team
}

// Active reports whether m is still on the team.
func (m *Member) Active() bool { return m.RemovedAt.IsZero() }

// Task is one piece of investigation work for one member.
type Task struct {
	ID          int64
	ComplaintID int64
	MemberID    int64
	AssigneeID  int64
	Assignee    string
	What        string
	Due         string // YYYY-MM-DD, the institution's local date
	Status      string
	Result      string
	CreatedBy   int64
	CreatedAt   time.Time
	ClosedBy    int64
	ClosedAt    time.Time
}

// Interview is a structured interview note.
type Interview struct {
	ID              int64
	ComplaintID     int64
	Interviewee     string
	IntervieweeRole string
	HeldAt          time.Time
	Place           string
	Summary         string
	UserID          int64
	Actor           string
	At              time.Time
}

// Evidence is one evidence file (without its bytes).
type Evidence struct {
	ID          int64
	ComplaintID int64
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
	Note        string
	UserID      int64
	Actor       string
	At          time.Time
}

// Team is everything of a complaint's investigation, for its page and its
// handling sheet.
type Team struct {
	Members    []*Member // active ones first, then those removed
	Tasks      []*Task   // open ones first, by due date
	Interviews []*Interview
	Evidence   []*Evidence
	OpenTasks  int
}

// StaffChoice is a person who may join a team, with the department whose
// grant brought them in (0: institution-wide).
type StaffChoice struct {
	ID       int64
	Name     string
	DeptID   int64
	DeptName string
}

// TaskItem is an open task of mine with its complaint.
type TaskItem struct {
	*Task
	Number string
}

// manages reports whether p runs c's team: its owner or quality.
func manages(p *access.Principal, c *Complaint) bool { return handler(p, c) }

// member reports whether p is on c's team now.
func member(p *access.Principal, c *Complaint) bool {
	return p != nil && p.UserID != 0 && slices.Contains(c.MemberIDs, p.UserID)
}

// TeamRights says what p may do to c's investigation now: manage runs the
// team (members, tasks), work adds interview notes and evidence.
func TeamRights(p *access.Principal, c *Complaint) (manage, work bool) {
	if c.Status == Archived {
		return false, false
	}
	m := manages(p, c)
	return m, m || member(p, c)
}

// teamChange runs one change to a complaint's investigation as p: the
// complaint read under the chain lock, the rights checked, the change,
// its event and its audit entry, in one transaction.
func (s *Service) teamChange(ctx context.Context, p *access.Principal, id int64, needManage bool,
	change func(tx *sql.Tx, c *Complaint) (action, detail string, err error)) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		c, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(p, c) {
			return errs.New(errs.Forbidden, "out_of_scope", "this complaint is outside your data scope")
		}
		if err := s.db.SerializeKey(ctx, tx, chainKey(c.InstitutionID)); err != nil {
			return err
		}
		if c, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if c.Status == Archived {
			return errs.New(errs.Conflict, "complaint_archived", "the complaint is archived; reopen it to change the investigation")
		}
		manage, work := TeamRights(p, c)
		if (needManage && !manage) || !work {
			return errs.New(errs.Forbidden, "complaint_team_forbidden", "only the owner, quality or a team member may do this")
		}
		action, detail, err := change(tx, c)
		if err != nil {
			return err
		}
		if err := s.appendEvent(ctx, tx, p, c, action, c.Status, c.Status, detail); err != nil {
			return err
		}
		e := audit.Event(p, "complaint."+action, "complaint", c.Number, c.InstitutionID)
		e.Detail = firstLine(detail)
		return s.audit.Append(ctx, tx, e)
	})
}

// firstLine keeps free text (a summary, a result) out of the audit log;
// the complaint's own history holds it.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// StaffChoices lists who may join complaint id's team: the active staff of
// its institution, each once, grouped by the department of their grant
// (institution-wide grants first).
func (s *Service) StaffChoices(ctx context.Context, p *access.Principal, id int64) ([]StaffChoice, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.staffChoices(ctx, s.db.R(), c.InstitutionID)
}

func (s *Service) staffChoices(ctx context.Context, q store.Querier, inst int64) ([]StaffChoice, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.display_name, sc.department_id, COALESCE(d.name, '')
		FROM users u JOIN user_scopes sc ON sc.user_id = u.id LEFT JOIN departments d ON d.id = sc.department_id
		WHERE u.active = $1 AND sc.institution_id = $2 ORDER BY sc.department_id, u.id`, true, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: staff choices: %w", err)
	}
	defer rows.Close()
	var out []StaffChoice
	seen := map[int64]bool{}
	for rows.Next() {
		var x StaffChoice
		if err := rows.Scan(&x.ID, &x.Name, &x.DeptID, &x.DeptName); err != nil {
			return nil, fmt.Errorf("complaint: staff choices: %w", err)
		}
		if !seen[x.ID] {
			seen[x.ID] = true
			out = append(out, x)
		}
	}
	return out, rows.Err()
}

// AddMember puts a member of the institution's staff on complaint id's
// team and tells them in-app; the owner or quality does it.
func (s *Service) AddMember(ctx context.Context, p *access.Principal, id, user int64, discipline string) (*Member, error) {
	discipline = strings.TrimSpace(discipline)
	switch {
	case user <= 0:
		return nil, errs.Field("member_user", "bad_member", "choose a member of staff")
	case !slices.Contains(disciplines, discipline):
		return nil, errs.Field("discipline", "bad_discipline", "a member is medical, nursing or administration")
	}
	m := &Member{UserID: user, Discipline: discipline, AddedBy: p.UserID, At: s.now().UTC().Truncate(time.Microsecond)}
	err := s.teamChange(ctx, p, id, true, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		choices, err := s.staffChoices(ctx, tx, c.InstitutionID)
		if err != nil {
			return "", "", err
		}
		i := slices.IndexFunc(choices, func(x StaffChoice) bool { return x.ID == user })
		if i < 0 {
			return "", "", errs.Field("member_user", "bad_member", "the member must be active staff of this institution")
		}
		if slices.Contains(c.MemberIDs, user) {
			return "", "", errs.Field("member_user", "already_member", "this person is already on the team")
		}
		m.ComplaintID, m.Name = c.ID, choices[i].Name
		if err := tx.QueryRowContext(ctx, `INSERT INTO complaint_members (institution_id, complaint_id, user_id, discipline, added_by, at)
			VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, c.InstitutionID, c.ID, user, discipline, p.UserID, store.Micros(m.At)).Scan(&m.ID); err != nil {
			return "", "", fmt.Errorf("complaint: add member: %w", err)
		}
		if err := s.tell(ctx, tx, c, "complaint.team", "member"+strconv.FormatInt(m.ID, 10), "", user); err != nil {
			return "", "", err
		}
		return "member_add", fmt.Sprintf("%s（%s） member=%d user=%d", m.Name, disciplineZH[discipline], m.ID, user), nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RemoveMember takes a member off the team; their open tasks are
// cancelled with them, so no task is left with someone off the team.
func (s *Service) RemoveMember(ctx context.Context, p *access.Principal, id, memberID int64) error {
	return s.teamChange(ctx, p, id, true, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		var user int64
		var name string
		err := tx.QueryRowContext(ctx, `SELECT m.user_id, u.display_name FROM complaint_members m JOIN users u ON u.id = m.user_id
			WHERE m.id = $1 AND m.complaint_id = $2 AND m.removed_at = 0`, memberID, c.ID).Scan(&user, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", errs.New(errs.NotFound, "member_not_found", "no such member on this team")
		}
		if err != nil {
			return "", "", fmt.Errorf("complaint: member: %w", err)
		}
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE complaint_members SET removed_at = $1, removed_by = $2 WHERE id = $3`, now, p.UserID, memberID); err != nil {
			return "", "", fmt.Errorf("complaint: remove member: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE complaint_tasks SET status = $1, closed_by = $2, closed_at = $3 WHERE member_id = $4 AND status = $5`,
			TaskCancelled, p.UserID, now, memberID, TaskOpen)
		if err != nil {
			return "", "", fmt.Errorf("complaint: cancel member's tasks: %w", err)
		}
		n, _ := res.RowsAffected()
		return "member_remove", fmt.Sprintf("%s member=%d user=%d cancelled_tasks=%d", name, memberID, user, n), nil
	})
}

// TaskInput is a new task.
type TaskInput struct {
	MemberID int64
	What     string
	Due      string // YYYY-MM-DD; "" is DefaultTaskDays working days from today
}

// AddTask gives a team member a task; the owner or quality does it. The
// assignee is told in-app.
func (s *Service) AddTask(ctx context.Context, p *access.Principal, id int64, in TaskInput) (*Task, error) {
	in.What, in.Due = strings.TrimSpace(in.What), strings.TrimSpace(in.Due)
	switch {
	case in.MemberID <= 0:
		return nil, errs.Field("task_member", "bad_member", "choose the member who does it")
	case in.What == "" || tooLong(in.What, 1000):
		return nil, errs.Field("task_what", "bad_task", "say what is to be done (at most 1000 characters)")
	}
	var due calendar.Date
	if in.Due != "" {
		d, err := calendar.ParseDate(in.Due)
		if err != nil {
			return nil, errs.Field("task_due", "bad_date", "a date looks like 2026-10-08")
		}
		due = d
	}
	t := &Task{MemberID: in.MemberID, What: in.What, Status: TaskOpen, CreatedBy: p.UserID, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.teamChange(ctx, p, id, true, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		err := tx.QueryRowContext(ctx, `SELECT m.user_id, u.display_name FROM complaint_members m JOIN users u ON u.id = m.user_id
			WHERE m.id = $1 AND m.complaint_id = $2 AND m.removed_at = 0`, in.MemberID, c.ID).Scan(&t.AssigneeID, &t.Assignee)
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", errs.Field("task_member", "bad_member", "the task goes to a member of this team")
		}
		if err != nil {
			return "", "", fmt.Errorf("complaint: member: %w", err)
		}
		pol, err := s.cals.Policy(ctx, c.InstitutionID)
		if err != nil {
			return "", "", err
		}
		today := calendar.DateOf(s.now().In(pol.Loc))
		if due.IsZero() {
			due = pol.Cal.AddWorkingDays(today, DefaultTaskDays)
		} else if due.Before(today) {
			return "", "", errs.Field("task_due", "due_in_past", "the due date cannot be in the past")
		}
		t.ComplaintID, t.Due = c.ID, due.String()
		if err := tx.QueryRowContext(ctx, `INSERT INTO complaint_tasks (institution_id, complaint_id, member_id, assignee_id, what, due_on,
			status, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`, c.InstitutionID, c.ID, t.MemberID,
			t.AssigneeID, t.What, t.Due, t.Status, t.CreatedBy, store.Micros(t.CreatedAt)).Scan(&t.ID); err != nil {
			return "", "", fmt.Errorf("complaint: add task: %w", err)
		}
		if err := s.tell(ctx, tx, c, "complaint.task", "task"+strconv.FormatInt(t.ID, 10), "", t.AssigneeID); err != nil {
			return "", "", err
		}
		return "task_add", fmt.Sprintf("%s due=%s task=%d member=%d\n%s", t.Assignee, t.Due, t.ID, t.MemberID, t.What), nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// openTask reads task tid of complaint c while it is open.
func (s *Service) openTask(ctx context.Context, tx *sql.Tx, c *Complaint, tid int64) (*Task, error) {
	t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.id = $1 AND t.complaint_id = $2`, tid, c.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "complaint_task_not_found", "no such task on this complaint")
	}
	if err != nil {
		return nil, fmt.Errorf("complaint: task: %w", err)
	}
	if t.Status != TaskOpen {
		return nil, errs.New(errs.Conflict, "complaint_task_closed", "the task is already "+t.Status)
	}
	return t, nil
}

// DoneTask marks a task done with its result; only its assignee does.
func (s *Service) DoneTask(ctx context.Context, p *access.Principal, id, tid int64, result string) error {
	result = strings.TrimSpace(result)
	if result == "" || tooLong(result, maxText) {
		return errs.Field("result", "bad_result", "write down what you found (at most 4000 characters)")
	}
	return s.teamChange(ctx, p, id, false, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		t, err := s.openTask(ctx, tx, c, tid)
		if err != nil {
			return "", "", err
		}
		if t.AssigneeID != p.UserID {
			return "", "", errs.New(errs.Forbidden, "complaint_task_forbidden", "only the member the task was given to marks it done")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE complaint_tasks SET status = $1, result = $2, closed_by = $3, closed_at = $4 WHERE id = $5`,
			TaskDone, result, p.UserID, store.Micros(s.now()), tid); err != nil {
			return "", "", fmt.Errorf("complaint: task done: %w", err)
		}
		return "task_done", fmt.Sprintf("task=%d\n%s", tid, result), nil
	})
}

// CancelTask withdraws an open task; the owner or quality does it.
func (s *Service) CancelTask(ctx context.Context, p *access.Principal, id, tid int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if tooLong(reason, maxText) {
		return errs.Field("reason", "too_long", "at most 4000 characters")
	}
	return s.teamChange(ctx, p, id, true, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		if _, err := s.openTask(ctx, tx, c, tid); err != nil {
			return "", "", err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE complaint_tasks SET status = $1, result = $2, closed_by = $3, closed_at = $4 WHERE id = $5`,
			TaskCancelled, reason, p.UserID, store.Micros(s.now()), tid); err != nil {
			return "", "", fmt.Errorf("complaint: cancel task: %w", err)
		}
		return "task_cancel", strings.TrimSpace(fmt.Sprintf("task=%d\n%s", tid, reason)), nil
	})
}

// InterviewInput is an interview note as the form gives it.
type InterviewInput struct {
	Interviewee string
	Role        string // the interviewee's role: 当班护士, 家属 …
	HeldAt      string // local "2006-01-02T15:04" (the datetime-local input) or "2006-01-02 15:04"
	Place       string
	Summary     string
}

// ParseLocalMinute reads a local date and time to the minute, as a
// datetime-local input sends it or as typed with a space.
func ParseLocalMinute(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("complaint: %q is not a date and time like 2026-10-08 14:30", s)
}

// AddInterview records an interview note; the owner, quality or a member
// does it. Notes are never edited: a correction is another note.
func (s *Service) AddInterview(ctx context.Context, p *access.Principal, id int64, in InterviewInput) (*Interview, error) {
	for _, f := range []*string{&in.Interviewee, &in.Role, &in.HeldAt, &in.Place, &in.Summary} {
		*f = strings.TrimSpace(*f)
	}
	switch {
	case in.Interviewee == "" || tooLong(in.Interviewee, maxShort):
		return nil, errs.Field("iv_name", "bad_interviewee", "name who was interviewed (at most 200 characters)")
	case tooLong(in.Role, maxShort):
		return nil, errs.Field("iv_role", "too_long_200", "at most 200 characters")
	case tooLong(in.Place, maxShort):
		return nil, errs.Field("iv_place", "too_long_200", "at most 200 characters")
	case in.Summary == "" || tooLong(in.Summary, maxText):
		return nil, errs.Field("iv_summary", "bad_interview_summary", "write what was said (at most 4000 characters)")
	}
	iv := &Interview{Interviewee: in.Interviewee, IntervieweeRole: in.Role, Place: in.Place, Summary: in.Summary, UserID: p.UserID,
		Actor: p.Username, At: s.now().UTC().Truncate(time.Microsecond)}
	err := s.teamChange(ctx, p, id, false, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		pol, err := s.cals.Policy(ctx, c.InstitutionID)
		if err != nil {
			return "", "", err
		}
		held, err := ParseLocalMinute(in.HeldAt, pol.Loc)
		if err != nil {
			return "", "", errs.Field("iv_at", "bad_interview_time", "give the date and time, like 2026-10-08 14:30")
		}
		if held.After(iv.At.Add(time.Minute)) || iv.At.Sub(held) > 366*24*time.Hour {
			return "", "", errs.Field("iv_at", "bad_interview_time", "the interview took place in the last year, not in the future")
		}
		iv.ComplaintID, iv.HeldAt = c.ID, held.UTC()
		if err := tx.QueryRowContext(ctx, `INSERT INTO complaint_interviews (institution_id, complaint_id, interviewee, interviewee_role,
			held_at, place, summary, user_id, actor, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`, c.InstitutionID, c.ID,
			iv.Interviewee, iv.IntervieweeRole, store.Micros(iv.HeldAt), iv.Place, iv.Summary, iv.UserID, iv.Actor, store.Micros(iv.At)).Scan(&iv.ID); err != nil {
			return "", "", fmt.Errorf("complaint: add interview: %w", err)
		}
		return "interview", fmt.Sprintf("interview=%d %s（%s）%s %s\n%s", iv.ID, iv.Interviewee, iv.IntervieweeRole,
			held.Format("2006-01-02 15:04"), iv.Place, iv.Summary), nil
	})
	if err != nil {
		return nil, err
	}
	return iv, nil
}

// Team returns complaint id's investigation for someone who may see it.
func (s *Service) Team(ctx context.Context, p *access.Principal, id int64) (*Team, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	q := s.db.R()
	t := &Team{}
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.complaint_id, m.user_id, u.display_name, m.discipline, m.added_by, m.at, m.removed_at
		FROM complaint_members m JOIN users u ON u.id = m.user_id WHERE m.complaint_id = $1 ORDER BY m.removed_at <> 0, m.id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: members: %w", err)
	}
	for rows.Next() {
		m := &Member{}
		var at, removed int64
		if err := rows.Scan(&m.ID, &m.ComplaintID, &m.UserID, &m.Name, &m.Discipline, &m.AddedBy, &at, &removed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("complaint: members: %w", err)
		}
		m.At, m.RemovedAt = store.Time(at), store.Time(removed)
		t.Members = append(t.Members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: members: %w", err)
	}
	if t.Tasks, err = s.tasks(ctx, q, `t.complaint_id = $1 ORDER BY t.status <> 'open', t.due_on, t.id`, id); err != nil {
		return nil, err
	}
	for _, x := range t.Tasks {
		if x.Status == TaskOpen {
			t.OpenTasks++
		}
	}
	rows, err = q.QueryContext(ctx, `SELECT id, complaint_id, interviewee, interviewee_role, held_at, place, summary, user_id, actor, at
		FROM complaint_interviews WHERE complaint_id = $1 ORDER BY held_at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: interviews: %w", err)
	}
	for rows.Next() {
		iv := &Interview{}
		var held, at int64
		if err := rows.Scan(&iv.ID, &iv.ComplaintID, &iv.Interviewee, &iv.IntervieweeRole, &held, &iv.Place, &iv.Summary, &iv.UserID,
			&iv.Actor, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("complaint: interviews: %w", err)
		}
		iv.HeldAt, iv.At = store.Time(held), store.Time(at)
		t.Interviews = append(t.Interviews, iv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: interviews: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT `+evidenceCols+` FROM complaint_evidence WHERE complaint_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvidence(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: evidence: %w", err)
		}
		t.Evidence = append(t.Evidence, ev)
	}
	return t, rows.Err()
}

const taskCols = `t.id, t.complaint_id, t.member_id, t.assignee_id, u.display_name, t.what, t.due_on, t.status, t.result, t.created_by,
	t.created_at, t.closed_by, t.closed_at`

const taskFrom = ` FROM complaint_tasks t JOIN users u ON u.id = t.assignee_id`

func scanTask(sc interface{ Scan(...any) error }, extra ...any) (*Task, error) {
	t := &Task{}
	var created, closed int64
	err := sc.Scan(append([]any{&t.ID, &t.ComplaintID, &t.MemberID, &t.AssigneeID, &t.Assignee, &t.What, &t.Due, &t.Status, &t.Result,
		&t.CreatedBy, &created, &t.ClosedBy, &closed}, extra...)...)
	t.CreatedAt, t.ClosedAt = store.Time(created), store.Time(closed)
	return t, err
}

func (s *Service) tasks(ctx context.Context, q store.Querier, where string, args ...any) ([]*Task, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// MyTasks lists p's open investigation tasks in institution inst, the
// soonest due first; an archived complaint's tasks are frozen with it and
// left out.
func (s *Service) MyTasks(ctx context.Context, p *access.Principal, inst int64) ([]*TaskItem, error) {
	if p == nil || p.UserID == 0 {
		return nil, nil
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+taskCols+`, c.number`+taskFrom+` JOIN complaints c ON c.id = t.complaint_id
		WHERE t.assignee_id = $1 AND t.status = $2 AND t.institution_id = $3 AND c.status <> $4 ORDER BY t.due_on, t.id LIMIT 200`,
		p.UserID, TaskOpen, inst, Archived)
	if err != nil {
		return nil, fmt.Errorf("complaint: my tasks: %w", err)
	}
	defer rows.Close()
	var out []*TaskItem
	for rows.Next() {
		it := &TaskItem{}
		if it.Task, err = scanTask(rows, &it.Number); err != nil {
			return nil, fmt.Errorf("complaint: my tasks: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// openTaskCount counts complaint id's open tasks.
func openTaskCount(ctx context.Context, q store.Querier, id int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_tasks WHERE complaint_id = $1 AND status = $2`, id, TaskOpen).Scan(&n); err != nil {
		return 0, fmt.Errorf("complaint: open tasks: %w", err)
	}
	return n, nil
}

// memberNames lists the active members of complaint id as "name（discipline）".
func memberNames(ctx context.Context, q store.Querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.display_name, m.discipline FROM complaint_members m JOIN users u ON u.id = m.user_id
		WHERE m.complaint_id = $1 AND m.removed_at = 0 ORDER BY m.id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, d string
		if err := rows.Scan(&name, &d); err != nil {
			return nil, fmt.Errorf("complaint: members: %w", err)
		}
		out = append(out, name+"（"+disciplineZH[d]+"）")
	}
	return out, rows.Err()
}
