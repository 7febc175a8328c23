package complaint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"suifang/internal/access"
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
			chunk := ids[:min(escalateBatch, len(ids))]
			ids = ids[len(chunk):]
			n := 0
			err := s.db.Write(ctx, func(tx *sql.Tx) error {
				n = 0
				// The chain lock first, as every writer of complaints takes
				// it, so two transactions never wait on each other's locks.
				if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
					return err
				}
				pols, err := s.policies(ctx, tx, inst)
				if err != nil {
					return err
				}
				b := &batch{pol: pol, pols: pols, now: now, staff: map[string][]int64{}}
				for _, id := range chunk {
					k, err := s.escalateOne(ctx, tx, b, id)
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

// batch is what one transaction of the worker reads once.
type batch struct {
	pol   calendar.Policy
	pols  []*SLAPolicy
	now   time.Time
	staff map[string][]int64 // "dept/role" → user ids
}

func (s *Service) staffOf(ctx context.Context, tx *sql.Tx, b *batch, inst, dept int64, r access.Role) ([]int64, error) {
	k := fmt.Sprintf("%d/%s", dept, r)
	if ids, ok := b.staff[k]; ok {
		return ids, nil
	}
	ids, err := s.usersWith(ctx, tx, inst, dept, r)
	b.staff[k] = ids
	return ids, err
}

// escalateOne escalates every passed, unmet milestone of complaint id not
// escalated yet, then stores its next deadline.
func (s *Service) escalateOne(ctx context.Context, tx *sql.Tx, b *batch, id int64) (int, error) {
	// Read under the chain lock: another instance may have just done it.
	var nextDue int64
	if err := tx.QueryRowContext(ctx, `SELECT next_due FROM complaints WHERE id = $1`, id).Scan(&nextDue); err != nil {
		return 0, fmt.Errorf("complaint: escalate %d: %w", id, err)
	}
	if nextDue == 0 || nextDue > store.Micros(b.now) {
		return 0, nil
	}
	c, err := s.get(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	done, err := s.escalated(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	sla := choose(b.pols, c)
	n := 0
	if c.Status != Archived && c.Status != Merged && !c.Paused {
		cl := c.Clock()
		for _, t := range sla.Targets {
			if !c.MetAt(t.Milestone).IsZero() || slices.Contains(done, t.Milestone) {
				continue
			}
			d := Due(b.pol, cl, t, c.MultiDept())
			if d.Paused || b.now.Before(d.At) {
				continue
			}
			level := min(c.Escalation+1, LevelLeadership)
			// The primary key is the last guard of "exactly once".
			r, err := tx.ExecContext(ctx, `INSERT INTO complaint_escalations (complaint_id, milestone, institution_id, level, due_at, at)
				VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (complaint_id, milestone) DO NOTHING`,
				c.ID, t.Milestone, c.InstitutionID, level, store.Micros(d.At), store.Micros(b.now))
			if err != nil {
				return n, fmt.Errorf("complaint: escalate %d: %w", c.ID, err)
			}
			done = append(done, t.Milestone)
			if k, _ := r.RowsAffected(); k == 0 {
				continue
			}
			if err := s.escalateTo(ctx, tx, b, c, t, d, level); err != nil {
				return n, err
			}
			c.Escalation = level
			n++
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE complaints SET escalation = $1, accountability = $2, next_due = $3, updated_at = $4 WHERE id = $5`,
		c.Escalation, c.Accountability, nextDueOf(b.pol, sla, c, done), store.Micros(b.now), c.ID)
	if err != nil {
		return n, fmt.Errorf("complaint: escalate %d: %w", c.ID, err)
	}
	return n, nil
}

// escalateTo tells the level's people about passed milestone t and records
// the step in the complaint's history (the event chain is its audit trail);
// a passed feedback milestone opens the accountability review.
func (s *Service) escalateTo(ctx context.Context, tx *sql.Tx, b *batch, c *Complaint, t Target, d Deadline, level int) error {
	var to []int64
	var err error
	who := ""
	switch level {
	case LevelHead:
		who = "dept_head"
		to, err = s.staffOf(ctx, tx, b, c.InstitutionID, c.DepartmentID, access.DeptHead)
	case LevelQuality:
		who = "quality"
		to, err = s.staffOf(ctx, tx, b, c.InstitutionID, 0, access.Quality)
	default:
		who = "leadership"
		to, err = s.staffOf(ctx, tx, b, c.InstitutionID, 0, access.Leadership)
	}
	if err != nil {
		return err
	}
	if len(to) == 0 {
		to = []int64{c.OwnerID} // nobody at that level: at least the owner hears it
	}
	deadline := d.Date.String()
	if t.Unit == Hours {
		deadline = d.At.In(b.pol.Loc).Format("2006-01-02 15:04")
	}
	for _, u := range to {
		if err := s.tell(ctx, tx, c, "complaint.escalate", "escalate:"+t.Milestone, deadline, u); err != nil {
			return err
		}
	}
	detail := fmt.Sprintf("milestone=%s deadline=%s level=%d to=%s users=%s", t.Milestone, deadline, level, who, joinIDs(to))
	if err := s.appendEvent(ctx, tx, nil, c, "escalate", c.Status, c.Status, detail); err != nil {
		return err
	}
	if t.Milestone == MFeedback && !c.Accountability {
		c.Accountability = true
		return s.appendEvent(ctx, tx, nil, c, "accountability_review", c.Status, c.Status, "no feedback to the complainant by "+deadline)
	}
	return nil
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
