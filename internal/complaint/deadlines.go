// Deadlines: the milestone clocks of a complaint under its SLA policy,
// the stored next deadline the escalation worker reads, and which policy
// applies.

package complaint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/store"
)

// Clock is one milestone of one complaint as the lists and pages show it.
type Clock struct {
	Milestone string
	Deadline  Deadline
	MetAt     time.Time
	Colour    string
}

// Clocks computes every milestone of c's policy at now.
func Clocks(pol calendar.Policy, sla *SLAPolicy, c *Complaint, now time.Time) []Clock {
	if sla == nil {
		return nil
	}
	cl := c.Clock()
	out := make([]Clock, 0, len(sla.Targets))
	for _, t := range sla.Targets {
		d := Due(pol, cl, t, c.MultiDept())
		met := c.MetAt(t.Milestone)
		if !met.IsZero() && d.Paused {
			// Met before the current wait: measure it against the clock as
			// it stood then.
			d = Due(pol, clockUntil(cl, met), t, c.MultiDept())
		}
		colour := Colour(pol, cl, d, now, met)
		if met.IsZero() && (c.Status == Archived || c.Status == Merged) {
			colour = Met // an archived complaint owes nothing more
		}
		out = append(out, Clock{Milestone: t.Milestone, Deadline: d, MetAt: met, Colour: colour})
	}
	return out
}

// clockUntil drops the pauses that began after t.
func clockUntil(c calendar.Clock, t time.Time) calendar.Clock {
	out := calendar.Clock{Started: c.Started}
	for _, p := range c.Pauses {
		if p.From.Before(t) {
			out.Pauses = append(out.Pauses, p)
		}
	}
	return out
}

// Worst is the colour a list shows for a complaint: red before amber before
// paused before green.
func Worst(cs []Clock) string {
	rank := map[string]int{Red: 4, Amber: 3, Paused: 2, Green: 1}
	best := ""
	for _, c := range cs {
		if rank[c.Colour] > rank[best] {
			best = c.Colour
		}
	}
	if best == "" {
		return Met
	}
	return best
}

// Policies returns inst's SLA policies: its own, or the defaults when it
// has none.
func (s *Service) policies(ctx context.Context, q store.Querier, inst int64) ([]*SLAPolicy, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, category, severity, complexity, targets FROM complaint_policies
		WHERE institution_id = $1 ORDER BY id`, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: policies: %w", err)
	}
	defer rows.Close()
	var out []*SLAPolicy
	for rows.Next() {
		p := &SLAPolicy{}
		var targets string
		if err := rows.Scan(&p.ID, &p.Name, &p.Category, &p.Severity, &p.Complexity, &targets); err != nil {
			return nil, fmt.Errorf("complaint: policies: %w", err)
		}
		if p.Targets, err = ParseTargets(targets); err != nil {
			return nil, fmt.Errorf("complaint: stored policy %q: %w", p.Name, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return DefaultPolicies(), nil
	}
	return out, nil
}

// policyFor chooses c's SLA policy; the defaults answer when none of the
// institution's policies matches.
func (s *Service) policyFor(ctx context.Context, q store.Querier, c *Complaint) (*SLAPolicy, error) {
	pols, err := s.policies(ctx, q, c.InstitutionID)
	if err != nil {
		return nil, err
	}
	return choose(pols, c), nil
}

func choose(pols []*SLAPolicy, c *Complaint) *SLAPolicy {
	if p := ChoosePolicy(pols, c.Category, c.Severity, c.Complexity); p != nil {
		return p
	}
	return ChoosePolicy(DefaultPolicies(), c.Category, c.Severity, c.Complexity)
}

// refreshDue stores the earliest deadline of c's milestones neither met
// nor escalated yet, which the escalation worker reads (0: none, or the
// clock is paused). c must be as stored.
func (s *Service) refreshDue(ctx context.Context, tx *sql.Tx, c *Complaint, pol calendar.Policy) error {
	next, err := s.nextDue(ctx, tx, c, pol)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE complaints SET next_due = $1 WHERE id = $2`, next, c.ID); err != nil {
		return fmt.Errorf("complaint: next due: %w", err)
	}
	return nil
}

func (s *Service) nextDue(ctx context.Context, tx *sql.Tx, c *Complaint, pol calendar.Policy) (int64, error) {
	if c.Status == Archived || c.Status == Merged || c.Paused {
		return 0, nil
	}
	sla, err := s.policyFor(ctx, tx, c)
	if err != nil {
		return 0, err
	}
	done, err := s.escalated(ctx, tx, c.ID)
	if err != nil {
		return 0, err
	}
	return nextDueOf(pol, sla, c, done), nil
}

// nextDueOf is the earliest deadline (micros) among c's milestones that are
// neither met nor escalated; 0 when there is none or the clock is paused.
func nextDueOf(pol calendar.Policy, sla *SLAPolicy, c *Complaint, escalated []string) int64 {
	if c.Status == Archived || c.Status == Merged || c.Paused {
		return 0
	}
	var next time.Time
	cl := c.Clock()
	for _, t := range sla.Targets {
		if !c.MetAt(t.Milestone).IsZero() || slices.Contains(escalated, t.Milestone) {
			continue
		}
		d := Due(pol, cl, t, c.MultiDept())
		if !d.Paused && (next.IsZero() || d.At.Before(next)) {
			next = d.At
		}
	}
	if next.IsZero() {
		return 0
	}
	return store.Micros(next)
}

// escalated lists the milestones of complaint id already escalated.
func (s *Service) escalated(ctx context.Context, q store.Querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT milestone FROM complaint_escalations WHERE complaint_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: escalations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
