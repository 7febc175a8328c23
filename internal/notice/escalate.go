package notice

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/store"
)

// Escalation steps.
const (
	EscalateHead    = 1 // the department head hears of the overdue notice
	EscalateQuality = 2 // then the quality department
)

// InService reports whether t falls inside pol's service hours on a
// working day: escalations wait for a time someone can act on them.
func InService(pol calendar.Policy, t time.Time) bool {
	loc := pol.Loc
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	t = t.In(loc)
	if !pol.Cal.IsWorkingDay(calendar.DateOf(t)) {
		return false
	}
	h := pol.Hours
	if h.Validate() != nil {
		h = calendar.ServiceHours{Start: 0, End: 1440}
	}
	m := t.Hour()*60 + t.Minute()
	return m >= h.Start && m < h.End
}

// Escalate runs one pass of the escalation worker over every institution:
// a notice whose deadline has passed with the department's work undone
// goes to the department head; EscalateDays working days after the
// deadline it goes to the quality department. Each step happens once per
// notice — the step is recorded with a conditional update in the same
// transaction as its notifications, whose idempotency keys name the step —
// so any number of instances may run the worker. It acts only inside an
// institution's service hours on working days. It returns the number of
// steps taken.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	st := make([]any, 0, len(openForDept))
	ph := make([]string, 0, len(openForDept))
	for _, x := range openForDept {
		st = append(st, x)
		ph = append(ph, fmt.Sprintf("$%d", len(st)))
	}
	open := "status IN (" + strings.Join(ph, ",") + ")"
	rows, err := s.db.R().QueryContext(ctx, `SELECT DISTINCT institution_id FROM notices WHERE `+open+` AND escalation < 2`, st...)
	if err != nil {
		return 0, fmt.Errorf("notice: escalate: %w", err)
	}
	var insts []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("notice: escalate: %w", err)
		}
		insts = append(insts, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("notice: escalate: %w", err)
	}
	total := 0
	for _, inst := range insts {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := s.escalateInstitution(ctx, inst, open, st)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) escalateInstitution(ctx context.Context, inst int64, open string, st []any) (int, error) {
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if !InService(pol, now) {
		return 0, nil
	}
	set, err := s.settings(ctx, s.db.R(), inst)
	if err != nil {
		return 0, err
	}
	today := calendar.DateOf(now.In(pol.Loc))
	args := append([]any(nil), st...)
	args = append(args, inst, today.String())
	rows, err := s.db.R().QueryContext(ctx, fmt.Sprintf(`SELECT id, deadline, escalation FROM notices WHERE %s AND institution_id = $%d
		AND escalation < 2 AND deadline < $%d ORDER BY id`, open, len(args)-1, len(args)), args...)
	if err != nil {
		return 0, fmt.Errorf("notice: overdue: %w", err)
	}
	type due struct {
		id       int64
		deadline calendar.Date
		level    int
	}
	var list []due
	for rows.Next() {
		var d due
		var dl string
		if err := rows.Scan(&d.id, &dl, &d.level); err != nil {
			rows.Close()
			return 0, fmt.Errorf("notice: overdue: %w", err)
		}
		d.deadline, _ = calendar.ParseDate(dl)
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("notice: overdue: %w", err)
	}
	done := 0
	for _, d := range list {
		target := EscalateHead
		if pol.Cal.AddWorkingDays(d.deadline, set.EscalateDays).Before(today) {
			target = EscalateQuality
		}
		for step := d.level + 1; step <= target; step++ {
			ok, err := s.escalateStep(ctx, inst, d.id, step, open, st)
			if err != nil {
				return done, err
			}
			if !ok {
				break
			}
			done++
		}
	}
	return done, nil
}

// escalateStep takes one step on one notice unless another instance took
// it (or the department caught up) meanwhile.
func (s *Service) escalateStep(ctx context.Context, inst, id int64, step int, open string, st []any) (bool, error) {
	took := false
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// The chain lock first, as every writer of notices takes it, so two
		// transactions never wait on each other's locks.
		if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
			return err
		}
		args := append([]any(nil), st...)
		args = append(args, step, store.Micros(s.now()), id, step-1)
		k := len(st)
		r, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE notices SET escalation = $%d, updated_at = $%d WHERE id = $%d AND escalation = $%d AND %s`,
			k+1, k+2, k+3, k+4, open), args...)
		if err != nil {
			return fmt.Errorf("notice: escalate %d: %w", id, err)
		}
		if c, _ := r.RowsAffected(); c == 0 {
			return nil
		}
		took = true
		n, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		var to []int64
		who := "dept_head"
		if step == EscalateHead {
			to, err = s.staff(ctx, tx, n.InstitutionID, n.DepartmentID, access.DeptHead)
			if len(to) == 0 {
				to = []int64{n.OwnerID} // a department without a head: its owner hears it
			}
		} else {
			who = "quality"
			to, err = s.quality(ctx, tx, n.InstitutionID)
		}
		if err != nil {
			return err
		}
		var names []string
		for _, u := range to {
			names = append(names, strconv.FormatInt(u, 10))
			if err := s.tell(ctx, tx, n, "notice.escalate", "escalate"+strconv.Itoa(step), u); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("level=%d to=%s users=%s deadline=%s", step, who, strings.Join(names, ","), n.Deadline)
		if err := s.appendEvent(ctx, tx, nil, n, "escalate", n.Status, n.Status, detail); err != nil {
			return err
		}
		e := audit.Event(access.System(), "notice.escalate", "notice", n.Number, n.InstitutionID)
		e.Detail = detail
		return s.audit.Append(ctx, tx, e)
	})
	return took, err
}
