package followup

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
)

// EncounterTasks lists the tasks of one encounter that p's scope covers, in
// plan order (due date, then level).
func (s *Service) EncounterTasks(ctx context.Context, p *access.Principal, encounterID int64) ([]*Task, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.encounter_id = $1
		ORDER BY t.due_date, t.level, t.id`, encounterID)
	if err != nil {
		return nil, fmt.Errorf("followup: encounter tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("followup: scan task: %w", err)
		}
		if p.SeesDepartment(t.InstitutionID, t.DepartmentID) && routed(p, t) {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// ExportFilter selects the tasks ExportTasks writes.
type ExportFilter struct {
	InstitutionID int64         // 0: every institution (global principals only)
	Status        string        // "" every status; else open, done, unreachable or cancelled
	From, To      calendar.Date // due-date range, both inclusive; zero is open-ended
}

// ExportRow is one exported task: what a data warehouse or a spreadsheet
// needs, and no patient identifier beyond the MRN.
type ExportRow struct {
	TaskID       int64
	Institution  string // institution code
	VisitNumber  string
	MRN          string
	Level        int
	Step         string
	Purpose      string
	Due          calendar.Date
	Status       string
	Role         access.Role
	DeptCode     string // "" when the task has no known department
	DeptName     string
	AssigneeID   int64 // 0 when the task is for the role, not a person
	AssigneeUser string
	AssigneeName string
	Attempts     int
	CloseReason  string
}

// Statuses lists the task statuses.
func Statuses() []string { return []string{Open, Done, Unreachable, Cancelled} }

// ExportTasks streams the tasks f selects to fn, one row at a time in
// institution, due-date and id order, without holding them in memory; fn's
// error stops the export and is returned. The export is audited with the
// number of rows written.
func (s *Service) ExportTasks(ctx context.Context, p *access.Principal, f ExportFilter, fn func(ExportRow) error) (int, error) {
	if err := p.RequireStaff(); err != nil {
		return 0, err
	}
	if f.InstitutionID == 0 && !p.Global {
		return 0, errs.New(errs.Forbidden, "out_of_scope", "exporting every institution needs a global principal")
	}
	if f.InstitutionID != 0 {
		if err := p.RequireInstitution(f.InstitutionID); err != nil {
			return 0, err
		}
	}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.InstitutionID != 0 {
		conds = append(conds, "t.institution_id = "+arg(f.InstitutionID))
	}
	if f.Status != "" {
		ok := false
		for _, st := range Statuses() {
			ok = ok || st == f.Status
		}
		if !ok {
			return 0, errs.Field("status", "bad_status", "status must be open, done, unreachable or cancelled")
		}
		conds = append(conds, "t.status = "+arg(f.Status))
	}
	if !f.From.IsZero() {
		conds = append(conds, "t.due_date >= "+arg(f.From.String()))
	}
	if !f.To.IsZero() {
		conds = append(conds, "t.due_date <= "+arg(f.To.String()))
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return 0, errs.Field("to", "bad_range", "the due-date range ends before it starts")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	q := `SELECT t.id, i.code, e.visit_number, p.mrn, t.level, t.step_key, t.purpose, t.due_date, t.status, t.assignee_role,
		COALESCE(d.code, ''), COALESCE(d.name, ''), t.assignee_id, COALESCE(u.username, ''), COALESCE(u.display_name, ''),
		t.attempts, t.close_reason
		FROM followup_tasks t JOIN institutions i ON i.id = t.institution_id JOIN encounters e ON e.id = t.encounter_id
		JOIN patients p ON p.id = t.patient_id LEFT JOIN departments d ON d.id = t.department_id
		LEFT JOIN users u ON u.id = t.assignee_id` + where + ` ORDER BY t.institution_id, t.due_date, t.id`
	n := 0
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("followup: export: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r ExportRow
			var due, role string
			if err := rows.Scan(&r.TaskID, &r.Institution, &r.VisitNumber, &r.MRN, &r.Level, &r.Step, &r.Purpose, &due, &r.Status,
				&role, &r.DeptCode, &r.DeptName, &r.AssigneeID, &r.AssigneeUser, &r.AssigneeName, &r.Attempts, &r.CloseReason); err != nil {
				return fmt.Errorf("followup: export: %w", err)
			}
			r.Role = access.Role(role)
			r.Due, _ = calendar.ParseDate(due)
			if err := fn(r); err != nil {
				return err
			}
			n++
		}
		return rows.Err()
	})
	if err != nil {
		return n, err
	}
	e := audit.Event(p, "followup.export", "followup_task", "", f.InstitutionID)
	e.Detail = fmt.Sprintf("status=%s from=%s to=%s rows=%d", f.Status, dateOrEmpty(f.From), dateOrEmpty(f.To), n)
	return n, s.audit.Record(ctx, e)
}

func dateOrEmpty(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
