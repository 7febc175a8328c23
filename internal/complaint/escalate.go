package complaint

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/notice"
	"suifang/internal/store"
)

// Escalation levels: each passed milestone escalates once, one level
// higher than the complaint's last escalation, so a complaint that keeps
// missing its deadlines climbs from the owner's head to quality to
// leadership.
const (
	LevelHead       = 1 // the head of the responsible department (科主任)
	LevelQuality    = 2 // the quality department (医务/质控)
	LevelLeadership = 3 // hospital leadership (院领导)
)

// escalateBatch bounds one transaction of the worker, so a backlog after a
// holiday commits in steps and never holds the chain lock for long.
const escalateBatch = 200

// Escalate runs one pass of the escalation worker: every milestone that
// has passed unmet escalates exactly once — the row in
// complaint_escalations (primary key complaint + milestone) is written in
// the same transaction as its notifications, whose idempotency keys name
// the milestone, so any number of instances may run it. It acts only
// inside an institution's service hours on working days, and a passed
// feedback milestone opens an accountability review (责任倒查). It returns
// the number of milestones escalated.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, institution_id FROM complaints WHERE next_due > 0 AND next_due <= $1
		ORDER BY institution_id, id`, store.Micros(now))
	if err != nil {
		return 0, fmt.Errorf("complaint: escalate: %w", err)
	}
	byInst := map[int64][]int64{}
	var insts []int64
	for rows.Next() {
		var id, inst int64
		if err := rows.Scan(&id, &inst); err != nil {
			rows.Close()
			return 0, fmt.Errorf("complaint: escalate: %w", err)
		}
		if _, ok := byInst[inst]; !ok {
			insts = append(insts, inst)
		}
		byInst[inst] = append(byInst[inst], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("complaint: escalate: %w", err)
	}
	total := 0
	for _, inst := range insts {
		pol, err := s.cals.Policy(ctx, inst)
		if err != nil {
			return total, err
		}
		if !notice.InService(pol, now) {
			continue // nobody is there to act: wait for the next opening
		}
		ids := byInst[inst]
		for len(ids) > 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			batch := ids[:min(escalateBatch, len(ids))]
			ids = ids[len(batch):]
			n := 0
			err := s.db.Write(ctx, func(tx *sql.Tx) error {
				n = 0
				// The chain lock first, as every writer of complaints takes
				// it, so two transactions never wait on each other's locks.
				if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
					return err
				}
				for _, id := range batch {
					k, err := s.escalateOne(ctx, tx, pol, id, now)
					if err != nil {
						return err
					}
					n += k
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
		}
	}
	return total, nil
}

// escalateOne escalates every passed, unmet milestone of complaint id not
// escalated yet, then recomputes its next deadline.
func (s *Service) escalateOne(ctx context.Context, tx *sql.Tx, pol calendar.Policy, id int64, now time.Time) (int, error) {
	c, err := s.get(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	done := 0
	if c.Status != Archived && !c.Paused {
		sla, err := s.policyFor(ctx, tx, c)
		if err != nil {
			return 0, err
		}
		cl := c.Clock()
		for _, t := range sla.Targets {
			if !c.MetAt(t.Milestone).IsZero() {
				continue
			}
			d := Due(pol, cl, t, c.MultiDept())
			if d.Paused || now.Before(d.At) {
				continue
			}
			level := min(c.Escalation+1, LevelLeadership)
			r, err := tx.ExecContext(ctx, `INSERT INTO complaint_escalations (complaint_id, milestone, institution_id, level, due_at, at)
				VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (complaint_id, milestone) DO NOTHING`,
				c.ID, t.Milestone, c.InstitutionID, level, store.Micros(d.At), store.Micros(now))
			if err != nil {
				return done, fmt.Errorf("complaint: escalate %d: %w", c.ID, err)
			}
			if k, _ := r.RowsAffected(); k == 0 {
				continue // escalated before (another instance, or an earlier pass)
			}
			if err := s.escalateTo(ctx, tx, pol, c, t, d, level); err != nil {
				return done, err
			}
			c.Escalation = level
			done++
		}
	}
	return done, s.refreshDue(ctx, tx, c, pol)
}

// escalateTo tells the level's people about passed milestone t, records
// the step and, for the feedback milestone, opens the accountability
// review.
func (s *Service) escalateTo(ctx context.Context, tx *sql.Tx, pol calendar.Policy, c *Complaint, t Target, d Deadline, level int) error {
	var to []int64
	var err error
	who := ""
	switch level {
	case LevelHead:
		who = "dept_head"
		to, err = s.usersWith(ctx, tx, c.InstitutionID, c.DepartmentID, access.DeptHead)
	case LevelQuality:
		who = "quality"
		to, err = s.usersWith(ctx, tx, c.InstitutionID, 0, access.Quality)
	default:
		who = "leadership"
		to, err = s.usersWith(ctx, tx, c.InstitutionID, 0, access.Leadership)
	}
	if err != nil {
		return err
	}
	if len(to) == 0 {
		to = []int64{c.OwnerID} // nobody at that level: at least the owner hears it
	}
	deadline := d.Date.String()
	if t.Unit == Hours {
		deadline = d.At.In(pol.Loc).Format("2006-01-02 15:04")
	}
	for _, u := range to {
		if err := s.tell(ctx, tx, c, "complaint.escalate", "escalate:"+t.Milestone, deadline, u); err != nil {
			return err
		}
	}
	review := t.Milestone == MFeedback && !c.Accountability
	if _, err := tx.ExecContext(ctx, `UPDATE complaints SET escalation = $1, accountability = $2, updated_at = $3 WHERE id = $4`,
		level, c.Accountability || review, store.Micros(s.now()), c.ID); err != nil {
		return fmt.Errorf("complaint: escalate %d: %w", c.ID, err)
	}
	detail := fmt.Sprintf("milestone=%s deadline=%s level=%d to=%s users=%s", t.Milestone, deadline, level, who, joinIDs(to))
	if err := s.appendEvent(ctx, tx, nil, c, "escalate", c.Status, c.Status, detail); err != nil {
		return err
	}
	if review {
		c.Accountability = true
		if err := s.appendEvent(ctx, tx, nil, c, "accountability_review", c.Status, c.Status,
			"no feedback to the complainant by "+deadline); err != nil {
			return err
		}
	}
	e := audit.Event(access.System(), "complaint.escalate", "complaint", c.Number, c.InstitutionID)
	e.Detail = detail
	return s.audit.Append(ctx, tx, e)
}

// Escalation is one escalated milestone, for the page.
type Escalation struct {
	Milestone string
	Level     int
	DueAt, At time.Time
}

// Escalations lists complaint id's escalations, oldest first.
func (s *Service) Escalations(ctx context.Context, p *access.Principal, id int64) ([]Escalation, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT milestone, level, due_at, at FROM complaint_escalations WHERE complaint_id = $1
		ORDER BY at, level`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: escalations: %w", err)
	}
	defer rows.Close()
	var out []Escalation
	for rows.Next() {
		var e Escalation
		var due, at int64
		if err := rows.Scan(&e.Milestone, &e.Level, &due, &at); err != nil {
			return nil, fmt.Errorf("complaint: escalations: %w", err)
		}
		e.DueAt, e.At = store.Time(due), store.Time(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
