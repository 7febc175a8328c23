package kpi

import (
	"context"
	"fmt"
	"sort"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/store"
)

// Values the KPI reads from other rooms' tables. They are the stored
// spellings (followup, intake, patient); a test pins each against its room.
const (
	encDischarged = "discharged"
	encInpatient  = "inpatient"
	outcomeDied   = "died" // intake.Died, 死亡
	taskDone      = "done"
	taskUnreach   = "unreachable"
	taskCancelled = "cancelled"
	reasonRefused = "refused"
	satSatisfied  = "satisfied"
	satBasically  = "basically"
	satDissatisf  = "dissatisfied"
)

// firstContactWorkingDays is the first-contact window when a stay has no
// first-contact task to read it from (requirements §2: 3 working days).
const firstContactWorkingDays = 3

// stay is one cohort discharge and what happened to it.
type stay struct {
	id                    int64
	deptID, wardID        int64
	deptCode, deptName    string
	wardCode, wardName    string
	discharge             calendar.Date
	deceased, dnc         bool
	tasks                 int
	nonCancelled, unreach int
	refused               bool
	deadline              calendar.Date // the first-contact task's due date
	firstReached          int64         // micros of the first record, 0: none
	planned, done         [4]int        // per level 1–3
}

// cohortWhere selects the month's discharges of an institution: one SQL
// text for both engines, the dates computed in Go.
const cohortWhere = `e.institution_id = $1 AND e.status = $2 AND e.class = $3 AND e.discharge_date >= $4 AND e.discharge_date < $5`

// Compute is the month of institution inst from the raw rows, unscoped:
// every department and ward. A later roll-up must equal it. Callers check
// scope (Report); Compute is for them and for tests.
func (s *Service) Compute(ctx context.Context, inst int64, m Month) (*Report, error) {
	return s.compute(ctx, inst, m, nil)
}

// policyAndTargets is what every computation of an institution starts
// from: its calendar and time zone (months are local) and its targets.
func (s *Service) policyAndTargets(ctx context.Context, inst int64) (calendar.Policy, Targets, error) {
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return pol, Targets{}, fmt.Errorf("kpi: calendar: %w", err)
	}
	if pol.Loc == nil {
		return pol, Targets{}, fmt.Errorf("kpi: institution %d has no time zone", inst)
	}
	t, err := s.targets(ctx, s.db.R(), inst)
	return pol, t, err
}

// compute is Compute restricted to the stays and answers sc keeps (nil:
// all).
func (s *Service) compute(ctx context.Context, inst int64, m Month, sc *scope) (*Report, error) {
	pol, t, err := s.policyAndTargets(ctx, inst)
	if err != nil {
		return nil, err
	}
	loc := pol.Loc
	q := s.db.R()
	args := []any{inst, encDischarged, encInpatient, m.First().String(), m.Next().First().String()}
	stays, err := loadStays(ctx, q, args)
	if err != nil {
		return nil, err
	}
	if err := loadTasks(ctx, q, args, stays); err != nil {
		return nil, err
	}
	if err := loadFirstRecords(ctx, q, args, stays); err != nil {
		return nil, err
	}
	agg := newAggregate(sc)
	for _, st := range stays {
		agg.add(st.deptID, st.deptCode, st.deptName, st.wardID, st.wardCode, st.wardName, st.row(pol.Cal, loc))
	}
	from, to := m.bounds(loc)
	if err := s.answers(ctx, q, inst, store.Micros(from), store.Micros(to), func(int64) *aggregate { return agg }); err != nil {
		return nil, err
	}
	rep := &Report{InstitutionID: inst, Month: m, Targets: t}
	rep.Departments, rep.Wards, rep.Total = agg.rows(t)
	return rep, nil
}

func loadStays(ctx context.Context, q store.Querier, args []any) (map[int64]*stay, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.department_id, e.dept_code, e.dept_name, e.ward_id, e.ward_code, e.ward_name,
		e.discharge_date, e.outcome, p.deceased, p.do_not_contact
		FROM encounters e JOIN patients p ON p.id = e.patient_id WHERE `+cohortWhere, args...)
	if err != nil {
		return nil, fmt.Errorf("kpi: cohort: %w", err)
	}
	defer rows.Close()
	out := map[int64]*stay{}
	for rows.Next() {
		st := &stay{}
		var day, outcome string
		if err := rows.Scan(&st.id, &st.deptID, &st.deptCode, &st.deptName, &st.wardID, &st.wardCode, &st.wardName,
			&day, &outcome, &st.deceased, &st.dnc); err != nil {
			return nil, fmt.Errorf("kpi: cohort: %w", err)
		}
		if st.discharge, err = calendar.ParseDate(day); err != nil {
			return nil, fmt.Errorf("kpi: stay %d: %w", st.id, err)
		}
		st.deceased = st.deceased || outcome == outcomeDied
		out[st.id] = st
	}
	return out, rows.Err()
}

func loadTasks(ctx context.Context, q store.Querier, args []any, stays map[int64]*stay) error {
	rows, err := q.QueryContext(ctx, `SELECT t.encounter_id, t.level, t.status, t.close_reason, t.first_contact, t.due_date
		FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id WHERE `+cohortWhere, args...)
	if err != nil {
		return fmt.Errorf("kpi: tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var enc int64
		var level int
		var status, reason, due string
		var first bool
		if err := rows.Scan(&enc, &level, &status, &reason, &first, &due); err != nil {
			return fmt.Errorf("kpi: tasks: %w", err)
		}
		st := stays[enc]
		if st == nil {
			continue
		}
		st.tasks++
		if reason == reasonRefused {
			st.refused = true
		}
		if first {
			if d, err := calendar.ParseDate(due); err == nil && (st.deadline.IsZero() || d.Before(st.deadline)) {
				st.deadline = d
			}
		}
		if status == taskCancelled {
			continue
		}
		st.nonCancelled++
		if status == taskUnreach {
			st.unreach++
		}
		if level >= 1 && level <= 3 {
			st.planned[level]++
			if status == taskDone {
				st.done[level]++
			}
		}
	}
	return rows.Err()
}

// loadFirstRecords finds each stay's first reached follow-up: its earliest
// record by any channel. Corrections come later than what they correct,
// so the minimum is an original.
func loadFirstRecords(ctx context.Context, q store.Querier, args []any, stays map[int64]*stay) error {
	// Through the stay's tasks: records are indexed by task, not by stay,
	// and reading them per cohort stay keeps the month's cost to its own
	// rows (a join on records.encounter_id scanned all records per stay).
	rows, err := q.QueryContext(ctx, `SELECT t.encounter_id, MIN(r.at) FROM encounters e
		JOIN followup_tasks t ON t.encounter_id = e.id JOIN followup_records r ON r.task_id = t.id
		WHERE `+cohortWhere+` GROUP BY t.encounter_id`, args...)
	if err != nil {
		return fmt.Errorf("kpi: records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var enc, at int64
		if err := rows.Scan(&enc, &at); err != nil {
			return fmt.Errorf("kpi: records: %w", err)
		}
		if st := stays[enc]; st != nil {
			st.firstReached = at
		}
	}
	return rows.Err()
}

// row is the stay's contribution to its department's figures. A stay
// excluded from the due population (deceased, do-not-contact before
// discharge) counts in the cohort only.
func (st *stay) row(cal *calendar.Calendar, loc *time.Location) *Row {
	r := &Row{Discharges: 1}
	switch {
	case st.deceased:
		r.Deceased = 1
		return r
	case st.dnc && st.tasks == 0:
		// The planner makes no task for a patient flagged do-not-contact
		// at discharge (followup.PlanFor); a flag set later (a refusal on
		// the call) leaves the stay's tasks, and the stay due.
		r.DoNotContact = 1
		return r
	}
	r.Due = 1
	if st.firstReached != 0 {
		r.Covered = 1
		deadline := st.deadline
		if deadline.IsZero() {
			deadline = cal.AddWorkingDays(st.discharge, firstContactWorkingDays)
		}
		if !calendar.DateOf(store.Time(st.firstReached).In(loc)).After(deadline) {
			r.FirstContactOnTime = 1
		}
	}
	if st.refused {
		r.Refused = 1
	}
	if st.nonCancelled > 0 && st.unreach == st.nonCancelled {
		r.Unreachable = 1
	}
	r.Level1Planned, r.Level1Done = st.planned[1], st.done[1]
	r.Level2Planned, r.Level2Done = st.planned[2], st.done[2]
	r.Level3Planned, r.Level3Done = st.planned[3], st.done[3]
	return r
}

// answers adds the satisfaction and 0–10 answers of the records made in
// [from, to) to the departments of their stays, in the aggregate that
// aggOf gives for the original's instant (a trend keeps one per month). A
// corrected record counts once, at its original's time, with its latest
// version's answers.
func (s *Service) answers(ctx context.Context, q store.Querier, inst, from, to int64, aggOf func(at int64) *aggregate) error {
	type rec struct {
		amends             int64
		at                 int64
		sat                string
		nps                int
		deptID, wardID     int64
		deptCode, deptName string
		wardCode, wardName string
	}
	// Corrections are later than their originals, so every correction of
	// a record made since from is itself since from.
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.amends_id, r.at, r.satisfaction, r.nps, e.department_id, e.dept_code,
		e.dept_name, e.ward_id, e.ward_code, e.ward_name
		FROM followup_records r JOIN encounters e ON e.id = r.encounter_id
		WHERE r.institution_id = $1 AND r.at >= $2 ORDER BY r.id`, inst, from)
	if err != nil {
		return fmt.Errorf("kpi: answers: %w", err)
	}
	defer rows.Close()
	recs := map[int64]*rec{}
	var order []int64
	latest := map[int64]int64{} // original or correction id → its correction
	for rows.Next() {
		var id int64
		r := &rec{}
		if err := rows.Scan(&id, &r.amends, &r.at, &r.sat, &r.nps, &r.deptID, &r.deptCode, &r.deptName,
			&r.wardID, &r.wardCode, &r.wardName); err != nil {
			return fmt.Errorf("kpi: answers: %w", err)
		}
		recs[id] = r
		order = append(order, id)
		if r.amends != 0 {
			latest[r.amends] = id
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("kpi: answers: %w", err)
	}
	for _, id := range order {
		orig := recs[id]
		if orig.amends != 0 || orig.at >= to {
			continue
		}
		cur := orig
		for next, ok := latest[id]; ok; next, ok = latest[next] {
			cur, id = recs[next], next
		}
		r := &Row{}
		switch cur.sat {
		case satSatisfied:
			r.Satisfied = 1
		case satBasically:
			r.BasicallySatisfied = 1
		case satDissatisf:
			r.Dissatisfied = 1
		}
		r.SatisfactionAnswers = r.Satisfied + r.BasicallySatisfied + r.Dissatisfied
		if cur.nps >= 0 && cur.nps <= 10 {
			r.NPSAnswers = 1
			switch {
			case cur.nps >= 9:
				r.Promoters = 1
			case cur.nps <= 6:
				r.Detractors = 1
			}
		}
		aggOf(orig.at).add(orig.deptID, orig.deptCode, orig.deptName, orig.wardID, orig.wardCode, orig.wardName, r)
	}
	return nil
}

// aggregate sums stays and answers per department, per ward and in total.
type aggregate struct {
	depts, wards map[int64]*Row
	total        Row
	sc           *scope
}

func newAggregate(sc *scope) *aggregate {
	return &aggregate{depts: map[int64]*Row{}, wards: map[int64]*Row{}, sc: sc}
}

func (a *aggregate) add(dept int64, dcode, dname string, ward int64, wcode, wname string, r *Row) {
	if !a.sc.keeps(dept, ward) {
		return
	}
	a.total.add(r)
	d := a.depts[dept]
	if d == nil && a.sc.showsDept(dept) {
		d = &Row{ID: dept, Code: dcode, Name: dname}
		a.depts[dept] = d
	}
	if d != nil {
		d.add(r)
	}
	if ward == 0 {
		return
	}
	w := a.wards[ward]
	if w == nil {
		w = &Row{ID: ward, Code: wcode, Name: wname}
		a.wards[ward] = w
	}
	w.add(r)
}

// rows finishes every row against t, departments and wards by code.
func (a *aggregate) rows(t Targets) ([]Row, []Row, Row) {
	list := func(m map[int64]*Row) []Row {
		out := make([]Row, 0, len(m))
		for _, r := range m {
			r.finish(t)
			out = append(out, *r)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Code != out[j].Code {
				return out[i].Code < out[j].Code
			}
			return out[i].ID < out[j].ID
		})
		return out
	}
	a.total.finish(t)
	return list(a.depts), list(a.wards), a.total
}
