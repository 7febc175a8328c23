package followup

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/patient"
	"suifang/internal/store"
)

// Task statuses.
const (
	Open        = "open"
	Done        = "done"
	Unreachable = "unreachable"
	Cancelled   = "cancelled"
)

// Service is the door to plans, worklists, attempts and records.
type Service struct {
	db       *store.DB
	audit    *audit.Service
	patients *patient.Service
	now      func() time.Time
	log      *slog.Logger
	policy   Policy
	dialer   Dialer
	caseHook func(ctx context.Context, tx *sql.Tx, c CaseOpened) error
	overflow *overflowCache // tab counts past CountCap, briefly reused
}

// Policy holds the follow-up settings an institution may change.
type Policy struct {
	MaxNoAnswer int           // no-answer/busy attempts before "unreachable" (3)
	ClaimFor    time.Duration // how long a claim keeps others away (30 min)
}

// DefaultPolicy follows seed 001: three tries, then record the reason.
func DefaultPolicy() Policy { return Policy{MaxNoAnswer: 3, ClaimFor: 30 * time.Minute} }

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB       *store.DB        // the database
	Audit    *audit.Service   // the audit log, written in the callers' transactions
	Patients *patient.Service // the patient archive
	Now      func() time.Time // the clock (time.Now in production)
	Log      *slog.Logger     // nil: discard
	Policy   Policy           // the configured rules
	Dialer   Dialer           // nil: no click-to-dial
}

// New returns the follow-up service. dialer may be nil (tel: links only).
func New(d Deps) *Service {
	db, au, patients, now, log, pol, dialer := d.DB, d.Audit, d.Patients, d.Now, d.Log, d.Policy, d.Dialer
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, patients: patients, now: now, log: log, policy: pol, dialer: dialer,
		overflow: newOverflowCache(overflowTTL)}
}

// Planned is one task a rule step produces for an encounter.
type Planned struct {
	Step         Step
	DepartmentID int64
	Earliest     calendar.Date
	Due          calendar.Date
}

// PlanFor computes the tasks rule r makes for a discharge. It is pure: the
// same discharge, rule and calendar always give the same plan.
//
// A stay that ended in death (outcome 死亡) or a patient known deceased
// gets no clinical and no satisfaction call — no medication advice phoned
// to a bereaved family — only the rule's steps marked ForDeceased, if any.
func PlanFor(r *Rule, enc *patient.Encounter, pat *patient.Patient, cal *calendar.Calendar) []Planned {
	if pat.DoNotContact || enc.DischargeDate.IsZero() {
		return nil
	}
	dead := Dead(enc, pat)
	var out []Planned
	d := enc.DischargeDate
	for _, st := range r.Steps {
		if st.ForDeceased != dead {
			continue
		}
		earliest := d.AddDays(st.Start)
		var due calendar.Date
		if st.WorkingDays {
			due = cal.AddWorkingDays(d, st.Due)
		} else {
			due = d.AddDays(st.Due)
			if st.Due > 0 {
				due = cal.NextWorkingDay(due) // 节假日顺延
			}
		}
		if due.Before(earliest) {
			earliest = due
		}
		out = append(out, Planned{Step: st, DepartmentID: deptFor(st.Role, enc), Earliest: earliest, Due: due})
	}
	return out
}

// Dead reports whether the patient of a stay is known to have died.
func Dead(enc *patient.Encounter, pat *patient.Patient) bool {
	return pat.Deceased || enc.Outcome == intake.Died
}

// FactsOf extracts what rules match on.
func FactsOf(enc *patient.Encounter, pat *patient.Patient) Facts {
	f := Facts{DeptCode: enc.DeptCode, WardCode: enc.WardCode, Surgery: enc.Surgery, Outcome: enc.Outcome, Age: pat.Age(enc.DischargeDate)}
	for _, dg := range enc.Diagnoses {
		f.ICDCodes = append(f.ICDCodes, strings.ToUpper(strings.TrimSpace(dg.Code)))
	}
	return f
}

// Choose returns the first matching rule (rules sorted by priority).
func Choose(rules []*Rule, f Facts) *Rule {
	for _, r := range rules {
		if !r.IsDefault && r.Matches(f) {
			return r
		}
	}
	for _, r := range rules {
		if r.IsDefault && r.Active {
			return r
		}
	}
	return nil
}

// Planner plans follow-ups for one institution inside an import; it holds
// the institution's rules and calendar so a million discharges do not reload
// them a million times.
type Planner struct {
	s     *Service
	inst  int64
	rules []*Rule
	cal   *calendar.Calendar
	// SkipBefore: discharges before this date get no plan (an import option
	// for go-live backlogs); zero plans everything.
	SkipBefore calendar.Date
}

// NewPlanner loads inst's rules; cal is its working-day calendar.
func (s *Service) NewPlanner(ctx context.Context, inst int64, cal *calendar.Calendar) (*Planner, error) {
	rules, err := s.rules(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		// An institution created before plan rules existed gets the
		// defaults, once: two instances starting imports at the same
		// moment take turns on a lock and the second finds the rules.
		if err := s.db.Write(ctx, func(tx *sql.Tx) error {
			if err := s.db.SerializeKey(ctx, tx, seedKey(inst)); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM plan_rules WHERE institution_id = $1`, inst).Scan(&n); err != nil {
				return fmt.Errorf("followup: count rules: %w", err)
			}
			if n > 0 {
				return nil
			}
			return s.SeedInstitution(ctx, tx, inst)
		}); err != nil {
			return nil, err
		}
		if rules, err = s.rules(ctx, s.db.R(), inst); err != nil {
			return nil, err
		}
	}
	return &Planner{s: s, inst: inst, rules: rules, cal: cal}, nil
}

// seedKey is the advisory lock of seeding inst's default rules.
func seedKey(inst int64) int64 { return 0x5352_0000_0000_0000 + inst }

// Result counts what Apply did to tasks.
type Result struct {
	Created   int
	Cancelled int
	Replanned int // open tasks moved to a corrected discharge date
	Skipped   bool
}

// Apply brings the tasks of an encounter in line with what patient.Apply
// just did, in the same transaction: a new discharge gets its plan (late
// discharges too, their passed deadlines shown as overdue); a cancelled
// discharge or admission cancels every open task it created; re-sending a
// discharge creates nothing twice (one task per encounter and step key).
func (pl *Planner) Apply(ctx context.Context, tx store.Querier, ch *patient.Change) (Result, error) {
	var res Result
	enc := ch.Encounter
	now := store.Micros(pl.s.now())
	if enc.Status != patient.Discharged || enc.Visit() {
		// An outpatient or emergency visit is no discharge: no plan, and a
		// stay corrected into a visit loses the open tasks it had.
		if ch.PrevStatus == patient.Discharged || enc.Status == patient.Cancelled || enc.Visit() && ch.Updated {
			r, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET status = $1, close_reason = $2, closed_at = $3, updated_at = $3
				WHERE encounter_id = $4 AND status = $5`, Cancelled, "encounter_"+enc.Status, now, enc.ID, Open)
			if err != nil {
				return res, fmt.Errorf("followup: cancel tasks: %w", err)
			}
			n, _ := r.RowsAffected()
			res.Cancelled = int(n)
		}
		return res, nil
	}
	if ch.Updated && ch.PrevStatus == patient.Discharged {
		// A08 moved the stay to another department or ward: open tasks follow.
		// Two statements, not one CASE of parameters: PostgreSQL types an
		// all-parameter CASE as text and refuses it for a bigint column.
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET department_id = $1, updated_at = $2
			WHERE encounter_id = $3 AND status = $4 AND assignee_role = $5`,
			deptFor(access.Nurse, enc), now, enc.ID, Open, string(access.Nurse)); err != nil {
			return res, fmt.Errorf("followup: move tasks: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET department_id = $1, updated_at = $2
			WHERE encounter_id = $3 AND status = $4 AND assignee_role <> $5`,
			deptFor(access.Doctor, enc), now, enc.ID, Open, string(access.Nurse)); err != nil {
			return res, fmt.Errorf("followup: move tasks: %w", err)
		}
	}
	if Dead(enc, ch.Patient) {
		// The HIS says the patient died: the calls planned for any stay
		// of the patient close, in this transaction.
		n, err := closePatientTasks(ctx, tx, enc.PatientID, "deceased", now, closeDeath)
		if err != nil {
			return res, err
		}
		res.Cancelled += n
	}
	if !pl.SkipBefore.IsZero() && enc.DischargeDate.Before(pl.SkipBefore) {
		res.Skipped = true
		return res, nil
	}
	if !ch.Created && ch.PrevStatus == patient.Discharged {
		// The plan exists already; nothing is made twice. A corrected
		// discharge date (a re-sent A03 or an A08) moves its open tasks.
		if ch.Updated && !ch.PrevDischargeDate.IsZero() && ch.PrevDischargeDate != enc.DischargeDate {
			n, err := pl.replan(ctx, tx, ch)
			res.Replanned = n
			return res, err
		}
		return res, nil
	}
	// A new discharge, or one re-sent after a cancellation: tasks the
	// cancellation closed open again with fresh windows; all others stay.
	rule, plan := pl.plan(ch)
	for _, t := range plan {
		r, err := tx.ExecContext(ctx, `INSERT INTO followup_tasks (`+taskInsertCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)
			ON CONFLICT (encounter_id, step_key) DO UPDATE SET status = excluded.status, earliest_date = excluded.earliest_date,
				due_date = excluded.due_date, next_date = excluded.next_date, department_id = excluded.department_id,
				close_reason = '', closed_at = 0, attempts = 0, claimed_by = 0, claimed_at = 0, updated_at = excluded.updated_at
			WHERE followup_tasks.status = 'cancelled' AND followup_tasks.close_reason IN ('encounter_admitted', 'encounter_cancelled')`,
			taskArgs(enc, rule, t, now)...)
		if err != nil {
			return res, fmt.Errorf("followup: create task: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Created += int(n)
	}
	return res, nil
}

// replan moves the open tasks of a stay whose discharge date changed. A
// task whose rule is unchanged since it was planned gets the window that
// rule gives the new date; a task made by a rule edited since keeps its
// own window length, shifted by the same number of days (an edited rule
// never rewrites a plan silently; ReapplyRule does that on purpose). A task
// already being worked keeps its next contact date.
func (pl *Planner) replan(ctx context.Context, tx store.Querier, ch *patient.Change) (int, error) {
	enc := ch.Encounter
	rows, err := tx.QueryContext(ctx, `SELECT id, rule_id, rule_version, step_key, earliest_date, due_date, next_date, attempts
		FROM followup_tasks WHERE encounter_id = $1 AND status = $2`, enc.ID, Open)
	if err != nil {
		return 0, fmt.Errorf("followup: replan: %w", err)
	}
	type moved struct {
		id                  int64
		earliest, due, next calendar.Date
	}
	var todo []moved
	shift := enc.DischargeDate.DaysSince(ch.PrevDischargeDate)
	for rows.Next() {
		var id, ruleID int64
		var version, attempts int
		var key, e, d, n string
		if err := rows.Scan(&id, &ruleID, &version, &key, &e, &d, &n, &attempts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("followup: replan: %w", err)
		}
		oldE, _ := calendar.ParseDate(e)
		oldD, _ := calendar.ParseDate(d)
		next, _ := calendar.ParseDate(n)
		m := moved{id: id, earliest: oldE.AddDays(shift), due: pl.cal.NextWorkingDay(oldD.AddDays(shift))}
		for _, r := range pl.rules {
			if r.ID != ruleID || r.Version != version {
				continue
			}
			for _, t := range PlanFor(r, enc, ch.Patient, pl.cal) {
				if t.Step.Key == key {
					m.earliest, m.due = t.Earliest, t.Due
				}
			}
		}
		m.next = m.earliest
		if attempts > 0 && m.earliest.Before(next) {
			m.next = next
		}
		todo = append(todo, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("followup: replan: %w", err)
	}
	now := store.Micros(pl.s.now())
	for _, m := range todo {
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET earliest_date = $1, due_date = $2, next_date = $3, updated_at = $4
			WHERE id = $5`, m.earliest.String(), m.due.String(), m.next.String(), now, m.id); err != nil {
			return 0, fmt.Errorf("followup: replan: %w", err)
		}
	}
	return len(todo), nil
}

// plan is the rule and the tasks a discharge gets (none without a rule).
func (pl *Planner) plan(ch *patient.Change) (*Rule, []Planned) {
	rule := Choose(pl.rules, FactsOf(ch.Encounter, ch.Patient))
	if rule == nil {
		return nil, nil
	}
	return rule, PlanFor(rule, ch.Encounter, ch.Patient, pl.cal)
}

// taskInsertCols are the columns taskArgs fills, in order.
const taskInsertCols = `institution_id, encounter_id, patient_id, rule_id, rule_version, step_key, level, purpose, assignee_role,
	department_id, channel, satisfaction, first_contact, earliest_date, due_date, next_date, status, created_at, updated_at, for_deceased`

func taskArgs(enc *patient.Encounter, rule *Rule, t Planned, now int64) []any {
	return []any{enc.InstitutionID, enc.ID, enc.PatientID, rule.ID, rule.Version, t.Step.Key, t.Step.Level, t.Step.Purpose,
		string(t.Step.Role), t.DepartmentID, t.Step.Channel, t.Step.Satisfaction, t.Step.FirstContact, t.Earliest.String(),
		t.Due.String(), t.Earliest.String(), Open, now, now, t.Step.ForDeceased}
}

// taskRows per multi-row INSERT: 20 parameters each.
const taskRows = 250

// ApplyNew plans the stays patient.Bulk just created, with one multi-row
// INSERT per taskRows tasks instead of one upsert per task: a new stay has
// no tasks yet, so nothing can conflict. Results are in the order of chs.
func (pl *Planner) ApplyNew(ctx context.Context, tx store.Querier, chs []*patient.Change) ([]Result, error) {
	res := make([]Result, len(chs))
	now := store.Micros(pl.s.now())
	var args []any
	for i, ch := range chs {
		enc := ch.Encounter
		if !ch.Created || enc.Status != patient.Discharged || enc.Visit() {
			continue // an admission gets its plan when its discharge arrives; a visit gets none
		}
		if !pl.SkipBefore.IsZero() && enc.DischargeDate.Before(pl.SkipBefore) {
			res[i].Skipped = true
			continue
		}
		rule, plan := pl.plan(ch)
		for _, t := range plan {
			args = append(args, taskArgs(enc, rule, t, now)...)
		}
		res[i].Created = len(plan)
	}
	const cols = 20
	err := store.Chunks(len(args)/cols, taskRows, func(lo, hi int) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO followup_tasks (`+taskInsertCols+`) VALUES `+pl.s.db.Values(hi-lo, cols),
			args[lo*cols:hi*cols]...); err != nil {
			return fmt.Errorf("followup: create tasks: %w", err)
		}
		return nil
	})
	return res, err
}

// deptFor is the department a step's task belongs to: nurses work by ward,
// everyone else by clinical department; whichever is known stands in.
func deptFor(role access.Role, enc *patient.Encounter) int64 {
	if role == access.Nurse && enc.WardID != 0 || enc.DepartmentID == 0 {
		return enc.WardID
	}
	return enc.DepartmentID
}

// ReapplyRule re-plans the OPEN tasks made by an older version of a rule:
// windows, purposes and channels follow the rule's current steps. Done and
// closed tasks are history and never change. Returns how many changed.
func (s *Service) ReapplyRule(ctx context.Context, p *access.Principal, ruleID int64, cal *calendar.Calendar) (int, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	r, err := scanRule(s.db.R().QueryRowContext(ctx, `SELECT `+ruleCols+` FROM plan_rules WHERE id = $1`, ruleID))
	if err != nil {
		return 0, errs.New(errs.NotFound, "rule_not_found", "no such rule")
	}
	type row struct {
		id, enc int64
		key     string
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, encounter_id, step_key FROM followup_tasks
		WHERE rule_id = $1 AND rule_version < $2 AND status = $3`, r.ID, r.Version, Open)
	if err != nil {
		return 0, fmt.Errorf("followup: reapply: %w", err)
	}
	var todo []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.id, &x.enc, &x.key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("followup: reapply: %w", err)
		}
		todo = append(todo, x)
	}
	rows.Close()
	n := 0
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		now := store.Micros(s.now())
		for _, x := range todo {
			enc, err := s.patients.Encounter(ctx, tx, x.enc)
			if err != nil {
				return err
			}
			pat, err := s.patients.Get(ctx, tx, enc.PatientID)
			if err != nil {
				return err
			}
			var planned *Planned
			for _, t := range PlanFor(r, enc, pat, cal) {
				if t.Step.Key == x.key {
					planned = &t
				}
			}
			if planned == nil { // the step left the rule
				_, err = tx.ExecContext(ctx, `UPDATE followup_tasks SET status=$1, close_reason=$2, closed_at=$3, updated_at=$3 WHERE id=$4`,
					Cancelled, "rule_changed", now, x.id)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE followup_tasks SET rule_version=$1, level=$2, purpose=$3, assignee_role=$4, channel=$5,
					satisfaction=$6, earliest_date=$7, due_date=$8, next_date = CASE WHEN attempts = 0 THEN $7 ELSE next_date END,
					updated_at=$9, first_contact=$11 WHERE id=$10`, r.Version, planned.Step.Level, planned.Step.Purpose, string(planned.Step.Role),
					planned.Step.Channel, planned.Step.Satisfaction, planned.Earliest.String(), planned.Due.String(), now, x.id,
					planned.Step.FirstContact)
			}
			if err != nil {
				return fmt.Errorf("followup: reapply task %d: %w", x.id, err)
			}
			n++
		}
		e := audit.Event(p, "rule.reapply", "plan_rule", fmt.Sprint(r.ID), r.InstitutionID)
		e.Detail = fmt.Sprintf("version=%d tasks=%d", r.Version, n)
		return s.audit.Append(ctx, tx, e)
	})
	return n, err
}
