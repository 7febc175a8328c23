package complaint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// PolicyAdmin is the SLA policy page of one institution.
type PolicyAdmin struct {
	// Policies are the institution's own, or the built-in defaults while
	// it has none (Own false).
	Policies []*SLAPolicy
	Own      bool
	CanEdit  bool
	// Matrix shows which policy wins for every category × severity ×
	// complexity: what ChoosePolicy answers for a new complaint.
	Matrix     []MatrixRow
	Categories CategorySet
	// Shadowed names the institution's policies that win no cell of the
	// matrix: an equally specific older policy always answers first.
	Shadowed map[string]bool
}

// MatrixRow is one category's line of the matrix: a cell per severity
// and complexity, in Severities() × {simple, complex} order.
type MatrixRow struct {
	Category Category
	Cells    []MatrixCell
}

// MatrixCell names the policy that applies; Builtin when none of the
// institution's own matched and a built-in default answers.
type MatrixCell struct {
	Severity, Complexity string
	Policy               string
	Builtin              bool
}

// Policies returns inst's SLA policies with the matrix of which applies
// to what, for anyone who touches the institution; CanEdit says whether p
// may change them.
func (s *Service) Policies(ctx context.Context, p *access.Principal, inst int64) (*PolicyAdmin, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	own, err := s.ownPolicies(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	cats, err := s.categories(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	v := &PolicyAdmin{Policies: own, Own: len(own) > 0, CanEdit: canAdmin(p, inst), Categories: cats, Shadowed: map[string]bool{}}
	wins := map[string]bool{}
	if !v.Own {
		v.Policies = DefaultPolicies()
	}
	for _, c := range cats {
		row := MatrixRow{Category: c}
		for _, sev := range Severities() {
			for _, cx := range []string{Simple, Complex} {
				cell := MatrixCell{Severity: sev, Complexity: cx}
				if pol := ChoosePolicy(own, c.Code, sev, cx); pol != nil {
					cell.Policy, wins[pol.Name] = pol.Name, true
				} else if pol := ChoosePolicy(DefaultPolicies(), c.Code, sev, cx); pol != nil {
					cell.Policy, cell.Builtin = pol.Name, true
				}
				row.Cells = append(row.Cells, cell)
			}
		}
		v.Matrix = append(v.Matrix, row)
	}
	for _, pol := range own {
		if !wins[pol.Name] {
			v.Shadowed[pol.Name] = true
		}
	}
	return v, nil
}

// Policy returns one of inst's own policies (for the edit form).
func (s *Service) Policy(ctx context.Context, p *access.Principal, inst, id int64) (*SLAPolicy, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	own, err := s.ownPolicies(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(own, func(x *SLAPolicy) bool { return x.ID == id })
	if i < 0 {
		return nil, errs.New(errs.NotFound, "policy_not_found", "no such policy")
	}
	return own[i], nil
}

// ownPolicies reads inst's stored policies only (no defaults).
func (s *Service) ownPolicies(ctx context.Context, q store.Querier, inst int64) ([]*SLAPolicy, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_policies WHERE institution_id = $1`, inst).Scan(&n); err != nil {
		return nil, fmt.Errorf("complaint: policies: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return s.policies(ctx, q, inst)
}

// PolicyInput is a new or changed policy as the form gives it. Empty
// match fields match any; Targets is the engine's text form
// ("accepted=1h, plan=3wd, feedback=5wd/10wd").
type PolicyInput struct {
	Name, Category, Severity, Complexity, Targets string
}

// check normalises in and returns its parsed targets; a bad targets text
// is a field error wrapping the *TargetError that names the part.
func (s *Service) checkPolicy(ctx context.Context, q store.Querier, inst int64, in *PolicyInput) ([]Target, error) {
	for _, f := range []*string{&in.Name, &in.Category, &in.Severity, &in.Complexity, &in.Targets} {
		*f = strings.TrimSpace(*f)
	}
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 64:
		return nil, errs.Field("name", "bad_policy_name", "give the policy a name (at most 64 characters)")
	case in.Severity != "" && !slices.Contains(Severities(), in.Severity):
		return nil, errs.Field("severity", "bad_severity", "severity is general, serious or major")
	case in.Complexity != "" && in.Complexity != Simple && in.Complexity != Complex:
		return nil, errs.Field("complexity", "bad_complexity", "a complaint is simple or complex")
	case utf8.RuneCountInString(in.Targets) > 1000:
		return nil, errs.Field("targets", "policy_targets_too_long", "at most 1000 characters")
	}
	if in.Category != "" {
		cats, err := s.categories(ctx, q, inst)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(cats.Codes(), in.Category) {
			return nil, errs.Field("category", "bad_category", "choose a category")
		}
	}
	ts, err := ParseTargets(in.Targets)
	if err != nil {
		fe := errs.Field("targets", "bad_targets", err.Error())
		fe.Err = err
		return nil, fe
	}
	in.Targets = FormatTargets(ts)
	return ts, nil
}

// BadTargets returns the part of a policy's targets text a save refused
// and why, when that is what err is about.
func BadTargets(err error) (*TargetError, bool) {
	var te *TargetError
	ok := errors.As(err, &te)
	return te, ok
}

// CopyDefaultPolicies stores the built-in defaults as inst's own policies
// so quality can edit them. The deadlines do not move: the targets are
// the same.
func (s *Service) CopyDefaultPolicies(ctx context.Context, p *access.Principal, inst int64) error {
	if err := requireAdmin(p, inst); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
			return err
		}
		own, err := s.ownPolicies(ctx, tx, inst)
		if err != nil {
			return err
		}
		if len(own) > 0 {
			return errs.New(errs.Conflict, "policies_exist", "this institution already has its own policies")
		}
		for _, d := range DefaultPolicies() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_policies (institution_id, name, category, severity, complexity, targets, updated_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7)`, inst, d.Name, d.Category, d.Severity, d.Complexity, FormatTargets(d.Targets),
				store.Micros(s.now())); err != nil {
				return fmt.Errorf("complaint: copy policies: %w", err)
			}
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "complaint.policy_copy_defaults", "institution", fmt.Sprint(inst), inst))
	})
}

// CreatePolicy adds a policy to inst and recomputes the stored next
// deadline of its open complaints in the same transaction. It returns the
// policy's id.
func (s *Service) CreatePolicy(ctx context.Context, p *access.Principal, inst int64, in PolicyInput) (int64, error) {
	if err := requireAdmin(p, inst); err != nil {
		return 0, err
	}
	var id int64
	err := s.changePolicies(ctx, p, inst, func(tx *sql.Tx) (*audit.Entry, error) {
		if _, err := s.checkPolicy(ctx, tx, inst, &in); err != nil {
			return nil, err
		}
		if err := s.sameMatch(ctx, tx, inst, 0, in); err != nil {
			return nil, err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO complaint_policies (institution_id, name, category, severity, complexity, targets, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`, inst, in.Name, in.Category, in.Severity, in.Complexity, in.Targets,
			store.Micros(s.now())).Scan(&id)
		if store.IsUniqueViolation(err) {
			return nil, errs.Field("name", "policy_name_taken", "a policy with this name exists")
		}
		if err != nil {
			return nil, fmt.Errorf("complaint: create policy: %w", err)
		}
		e := audit.Event(p, "complaint.policy_create", "complaint_policy", fmt.Sprint(id), inst)
		e.Detail = policyDetail(in)
		return &e, nil
	})
	return id, err
}

// UpdatePolicy changes one of inst's policies; open complaints' next
// deadlines follow in the same transaction.
func (s *Service) UpdatePolicy(ctx context.Context, p *access.Principal, inst, id int64, in PolicyInput) error {
	if err := requireAdmin(p, inst); err != nil {
		return err
	}
	return s.changePolicies(ctx, p, inst, func(tx *sql.Tx) (*audit.Entry, error) {
		if _, err := s.checkPolicy(ctx, tx, inst, &in); err != nil {
			return nil, err
		}
		if err := s.sameMatch(ctx, tx, inst, id, in); err != nil {
			return nil, err
		}
		r, err := tx.ExecContext(ctx, `UPDATE complaint_policies SET name = $1, category = $2, severity = $3, complexity = $4, targets = $5,
			updated_at = $6 WHERE id = $7 AND institution_id = $8`, in.Name, in.Category, in.Severity, in.Complexity, in.Targets,
			store.Micros(s.now()), id, inst)
		if store.IsUniqueViolation(err) {
			return nil, errs.Field("name", "policy_name_taken", "a policy with this name exists")
		}
		if err != nil {
			return nil, fmt.Errorf("complaint: update policy: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil, errs.New(errs.NotFound, "policy_not_found", "no such policy")
		}
		e := audit.Event(p, "complaint.policy_update", "complaint_policy", fmt.Sprint(id), inst)
		e.Detail = policyDetail(in)
		return &e, nil
	})
}

// DeletePolicy removes one of inst's policies; the complaints it governed
// fall to the next matching policy (or the built-in defaults) and their
// next deadlines follow in the same transaction.
func (s *Service) DeletePolicy(ctx context.Context, p *access.Principal, inst, id int64) error {
	if err := requireAdmin(p, inst); err != nil {
		return err
	}
	return s.changePolicies(ctx, p, inst, func(tx *sql.Tx) (*audit.Entry, error) {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM complaint_policies WHERE id = $1 AND institution_id = $2`, id, inst).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "policy_not_found", "no such policy")
		}
		if err != nil {
			return nil, fmt.Errorf("complaint: delete policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM complaint_policies WHERE id = $1`, id); err != nil {
			return nil, fmt.Errorf("complaint: delete policy: %w", err)
		}
		e := audit.Event(p, "complaint.policy_delete", "complaint_policy", fmt.Sprint(id), inst)
		e.Detail = "name=" + name
		return &e, nil
	})
}

// sameMatch refuses a second policy with exactly the same match: the first
// would always win and the other would silently never apply.
func (s *Service) sameMatch(ctx context.Context, tx *sql.Tx, inst, self int64, in PolicyInput) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_policies WHERE institution_id = $1 AND id <> $2
		AND category = $3 AND severity = $4 AND complexity = $5`, inst, self, in.Category, in.Severity, in.Complexity).Scan(&n); err != nil {
		return fmt.Errorf("complaint: policy match: %w", err)
	}
	if n > 0 {
		return errs.Field("category", "policy_same_match", "another policy matches exactly the same complaints")
	}
	return nil
}

func policyDetail(in PolicyInput) string {
	return fmt.Sprintf("name=%s category=%s severity=%s complexity=%s targets=%s", in.Name, in.Category, in.Severity, in.Complexity,
		in.Targets)
}

// changePolicies runs one policy change under the institution's chain
// lock (the escalation worker and every complaint writer take it first),
// recomputes the open complaints' next deadlines and audits the change
// with how many moved, all in one transaction.
func (s *Service) changePolicies(ctx context.Context, p *access.Principal, inst int64, change func(tx *sql.Tx) (*audit.Entry, error)) error {
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
			return err
		}
		e, err := change(tx)
		if err != nil {
			return err
		}
		moved, err := s.RefreshOpen(ctx, tx, inst, pol)
		if err != nil {
			return err
		}
		e.Detail += fmt.Sprintf(" next_due_changed=%d", moved)
		return s.audit.Append(ctx, tx, *e)
	})
}

// refreshBatch is how many open complaints one step of RefreshOpen reads.
const refreshBatch = 500

// RefreshOpen recomputes next_due (the deadline the escalation worker
// waits for) of every open complaint of inst under calendar policy pol
// and the institution's SLA policies as tx sees them, and returns how many
// changed. It runs in the caller's transaction — a policy edit here, a
// calendar or service-hours edit through the calendar's change hook — so
// the cause and the new deadlines commit together. It reads in id order,
// refreshBatch at a time, and writes only the rows that moved.
func (s *Service) RefreshOpen(ctx context.Context, tx *sql.Tx, inst int64, pol calendar.Policy) (int, error) {
	pols, err := s.policies(ctx, tx, inst)
	if err != nil {
		return 0, err
	}
	moved := 0
	for after := int64(0); ; {
		cs, stored, err := s.openBatch(ctx, tx, inst, after)
		if err != nil {
			return moved, err
		}
		if len(cs) == 0 {
			return moved, nil
		}
		after = cs[len(cs)-1].ID
		if err := s.details(ctx, tx, cs); err != nil {
			return moved, err
		}
		done, err := s.escalatedOf(ctx, tx, cs)
		if err != nil {
			return moved, err
		}
		var ids, dues []int64
		for i, c := range cs {
			if next := nextDueOf(pol, choose(pols, c), c, done[c.ID]); next != stored[i] {
				ids, dues = append(ids, c.ID), append(dues, next)
			}
		}
		if err := s.setNextDue(ctx, tx, ids, dues); err != nil {
			return moved, err
		}
		moved += len(ids)
	}
}

// openBatch reads the next refreshBatch open, running complaints of inst
// after id: only what the deadlines need, never the sealed contact.
func (s *Service) openBatch(ctx context.Context, tx *sql.Tx, inst, after int64) ([]*Complaint, []int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, category, severity, complexity, department_id, status, received_at, paused, accepted_at,
		assessed_at, plan_at, feedback_at, closed_at, rectified_at, next_due FROM complaints
		WHERE institution_id = $1 AND status <> $2 AND id > $3 ORDER BY id LIMIT $4`, inst, Archived, after, refreshBatch)
	if err != nil {
		return nil, nil, fmt.Errorf("complaint: open complaints: %w", err)
	}
	defer rows.Close()
	var cs []*Complaint
	var stored []int64
	for rows.Next() {
		c := &Complaint{InstitutionID: inst}
		var rec, acc, ass, plan, fb, closed, rect, next int64
		if err := rows.Scan(&c.ID, &c.Category, &c.Severity, &c.Complexity, &c.DepartmentID, &c.Status, &rec, &c.Paused, &acc, &ass,
			&plan, &fb, &closed, &rect, &next); err != nil {
			return nil, nil, fmt.Errorf("complaint: open complaints: %w", err)
		}
		c.ReceivedAt, c.AcceptedAt, c.AssessedAt, c.PlanAt = store.Time(rec), store.Time(acc), store.Time(ass), store.Time(plan)
		c.FeedbackAt, c.ClosedAt, c.RectifiedAt = store.Time(fb), store.Time(closed), store.Time(rect)
		cs, stored = append(cs, c), append(stored, next)
	}
	return cs, stored, rows.Err()
}

// escalatedOf lists the escalated milestones of each of cs.
func (s *Service) escalatedOf(ctx context.Context, tx *sql.Tx, cs []*Complaint) (map[int64][]string, error) {
	args := make([]any, len(cs))
	ph := make([]string, len(cs))
	for i, c := range cs {
		args[i], ph[i] = c.ID, fmt.Sprintf("$%d", i+1)
	}
	rows, err := tx.QueryContext(ctx, `SELECT complaint_id, milestone FROM complaint_escalations WHERE complaint_id IN (`+
		strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: escalations: %w", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var m string
		if err := rows.Scan(&id, &m); err != nil {
			return nil, fmt.Errorf("complaint: escalations: %w", err)
		}
		out[id] = append(out[id], m)
	}
	return out, rows.Err()
}

// setNextDue writes the moved deadlines, one statement per batch (a
// statement per row cost PostgreSQL a round trip each: 10,000 moved rows
// took 2.6 s that way, see docs/benchmarks.md). The CASE names each row;
// the CAST keeps PostgreSQL from typing the values as text.
func (s *Service) setNextDue(ctx context.Context, tx *sql.Tx, ids, dues []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(ids))
	b.WriteString(`UPDATE complaints SET next_due = CASE id`)
	for i, id := range ids {
		args = append(args, id, dues[i])
		fmt.Fprintf(&b, ` WHEN %s THEN CAST(%s AS BIGINT)`, s.db.Param(len(args)-1), s.db.Param(len(args)))
	}
	b.WriteString(` END WHERE id IN `)
	b.WriteString(s.db.In(len(ids), len(args)+1))
	for _, id := range ids {
		args = append(args, id)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("complaint: next due: %w", err)
	}
	return nil
}

// CalendarChanged is the calendar's change hook: inst's working days or
// service hours changed in tx, so its open complaints' next deadlines
// are recomputed under the new calendar policy in the same commit. It
// takes the chain lock, like every complaint writer, so the escalation
// worker does not write a deadline from the old calendar meanwhile.
func (s *Service) CalendarChanged(ctx context.Context, tx *sql.Tx, inst int64, pol calendar.Policy) error {
	if err := s.db.SerializeKey(ctx, tx, chainKey(inst)); err != nil {
		return err
	}
	_, err := s.RefreshOpen(ctx, tx, inst, pol)
	return err
}
