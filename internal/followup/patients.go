package followup

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// How closePatientTasks closes: every open task (a refusal,
// do-not-contact), or every one but the bereavement-care steps (a death).
const (
	closeAll   = false
	closeDeath = true
)

// closePatientTasks cancels the open tasks of a patient with reason, in tx,
// and returns how many. A death keeps the ForDeceased steps open: they are
// the calls meant for the family.
func closePatientTasks(ctx context.Context, tx store.Querier, patientID int64, reason string, now int64, death bool) (int, error) {
	q := `UPDATE followup_tasks SET status = $1, close_reason = $2, closed_at = $3, updated_at = $3
		WHERE patient_id = $4 AND status = $5`
	args := []any{Cancelled, reason, now, patientID, Open}
	if death {
		q += ` AND for_deceased = $6`
		args = append(args, false)
	}
	r, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("followup: close patient tasks: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

func flagReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" || utf8.RuneCountInString(r) > 500 {
		return "", errs.Field("reason", "missing_reason", "give the reason (at most 500 characters)")
	}
	return r, nil
}

// MarkDoNotContact marks a patient do-not-contact by hand (the patient said
// so in a letter, at the desk, through a complaint) and closes every open
// task, the way a refusal on a call does. Anyone whose scope covers a stay
// of the patient may do it: stopping calls must never wait for a manager.
// It returns how many tasks were closed.
func (s *Service) MarkDoNotContact(ctx context.Context, p *access.Principal, patientID int64, reason string) (int, error) {
	reason, err := flagReason(reason)
	if err != nil {
		return 0, err
	}
	closed := 0
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		pat, err := s.patients.CheckScope(ctx, tx, p, patientID)
		if err != nil {
			return err
		}
		if pat.DoNotContact {
			return errs.New(errs.Conflict, "already_do_not_contact", "this patient is already marked do-not-contact")
		}
		if err := s.patients.SetDoNotContact(ctx, tx, p, patientID, reason); err != nil {
			return err
		}
		closed, err = closePatientTasks(ctx, tx, patientID, "do_not_contact", store.Micros(s.now()), closeAll)
		return err
	})
	return closed, err
}

// mayClearDNC are the roles that may lift do-not-contact: the service
// centre that talks to the patient, quality and department heads. Lifting
// it means calls start again, so it is narrower than setting it.
var mayClearDNC = []access.Role{access.SysAdmin, access.Quality, access.Agent, access.DeptHead}

// ClearDoNotContact lifts the flag when the patient asks to be followed up
// again. Closed tasks stay closed; later discharges are planned as usual.
func (s *Service) ClearDoNotContact(ctx context.Context, p *access.Principal, patientID int64, reason string) error {
	if !p.HasAny(mayClearDNC...) {
		return errs.New(errs.Forbidden, "may_not_clear_dnc", "only the service centre, quality or a department head may lift do-not-contact")
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := s.patients.CheckScope(ctx, tx, p, patientID); err != nil {
			return err
		}
		return s.patients.ClearDoNotContact(ctx, tx, p, patientID, reason)
	})
}

// MarkDeceased records a death learnt outside a call (the family wrote, the
// HIS did not say) and closes the patient's open follow-ups, clinical and
// satisfaction alike (the death rule of PlanFor), in one transaction.
// It returns how many tasks were closed.
//
// An outside agency may not: what it learns on a call it records as the
// call's outcome (Attempt with Deceased), which keeps the call's context.
func (s *Service) MarkDeceased(ctx context.Context, p *access.Principal, patientID int64, reason string) (int, error) {
	if err := p.RequireStaff(); err != nil {
		return 0, err
	}
	reason, err := flagReason(reason)
	if err != nil {
		return 0, err
	}
	closed := 0
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		pat, err := s.patients.CheckScope(ctx, tx, p, patientID)
		if err != nil {
			return err
		}
		if pat.Deceased {
			return errs.New(errs.Conflict, "already_deceased", "this patient is already recorded as deceased")
		}
		if err := s.patients.SetDeceased(ctx, tx, p, patientID, reason); err != nil {
			return err
		}
		closed, err = closePatientTasks(ctx, tx, patientID, "deceased", store.Micros(s.now()), closeDeath)
		return err
	})
	return closed, err
}

// PatientFile is the follow-up side of a patient's page: every task, contact
// attempt and record the caller's scope covers. (Cases are notices now; the
// notice room lists them.)
type PatientFile struct {
	Tasks    []*Task
	Attempts []Attempt
	Records  []*Record
}

// PatientFile gathers the follow-ups of a patient p may see, newest first.
func (s *Service) PatientFile(ctx context.Context, p *access.Principal, patientID int64) (*PatientFile, error) {
	if _, err := s.patients.CheckScope(ctx, nil, p, patientID); err != nil {
		return nil, err
	}
	f := &PatientFile{}
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.patient_id = $1
			ORDER BY e.discharge_date DESC, t.due_date, t.level, t.id`, patientID)
		if err != nil {
			return fmt.Errorf("followup: patient tasks: %w", err)
		}
		seen := map[int64]bool{}
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("followup: patient tasks: %w", err)
			}
			if p.SeesDepartment(t.InstitutionID, t.DepartmentID) && routed(p, t) {
				f.Tasks = append(f.Tasks, t)
				seen[t.ID] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT id, task_id, user_id, at, channel, outcome, note FROM contact_attempts
			WHERE patient_id = $1 ORDER BY at DESC, id DESC LIMIT 200`, patientID)
		if err != nil {
			return fmt.Errorf("followup: patient attempts: %w", err)
		}
		for rows.Next() {
			var a Attempt
			var at int64
			if err := rows.Scan(&a.ID, &a.TaskID, &a.UserID, &at, &a.Channel, &a.Outcome, &a.Note); err != nil {
				rows.Close()
				return fmt.Errorf("followup: patient attempts: %w", err)
			}
			a.At = store.Time(at)
			if seen[a.TaskID] {
				f.Attempts = append(f.Attempts, a)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+recordCols+` FROM followup_records WHERE patient_id = $1 ORDER BY id DESC`, patientID)
		if err != nil {
			return fmt.Errorf("followup: patient records: %w", err)
		}
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("followup: patient records: %w", err)
			}
			if seen[r.TaskID] {
				f.Records = append(f.Records, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// MoveDepartment moves inst's open follow-ups from department from to to,
// in the caller's transaction (the org hook beside patient's). Closed
// tasks are history and stay where they were done.
func (s *Service) MoveDepartment(ctx context.Context, tx *sql.Tx, inst, from, to int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET department_id = $1, updated_at = $2
		WHERE institution_id = $3 AND department_id = $4 AND status = $5`, to, store.Micros(s.now()), inst, from, Open); err != nil {
		return fmt.Errorf("followup: move department: %w", err)
	}
	return nil
}
