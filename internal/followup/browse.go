package followup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// RecordFilter selects records for the record browser. Dates are local
// days of the institution, both inclusive.
type RecordFilter struct {
	InstitutionID int64
	DepartmentID  int64 // 0: every department in scope
	From, To      calendar.Date
	Satisfaction  string // "" any
	Level         int    // 0 any
	Number        string // record number or its beginning
	Limit         int    // 1–200, default 50
	Offset        int
}

// RecordRow is one line of the record browser.
type RecordRow struct {
	*Record
	Level        int
	DepartmentID int64
	DeptName     string
	PatientName  string // plain; adapters mask it
	MRN          string
	Amended      bool // a later record corrects this one
}

// RecordPage is one page of the browser and the number of all matches.
type RecordPage struct {
	Rows  []*RecordRow
	Total int
}

func (s *Service) location(ctx context.Context, q store.Querier, inst int64) (*time.Location, error) {
	var tz string
	if err := q.QueryRowContext(ctx, `SELECT timezone FROM institutions WHERE id = $1`, inst).Scan(&tz); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "institution_not_found", "no such institution")
		}
		return nil, fmt.Errorf("followup: institution: %w", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return loc, nil
}

const recordRowCols = `r.id, r.institution_id, r.number, r.task_id, r.encounter_id, r.patient_id, r.user_id, r.actor, r.at, r.channel,
	r.treatment_effect, r.satisfaction, r.medication_guidance, r.revisit_advice, r.nps, r.opinions, r.opinion_problem, r.revisit_needed,
	r.recording_consent, r.recording_ref, r.amends_id, r.amend_reason, r.prev_hash, r.hash,
	t.level, t.department_id, e.dept_name, e.ward_name, p.name, p.mrn,
	(SELECT COUNT(*) FROM followup_records x WHERE x.amends_id = r.id)`

const recordRowFrom = ` FROM followup_records r JOIN followup_tasks t ON t.id = r.task_id JOIN encounters e ON e.id = r.encounter_id
	JOIN patients p ON p.id = r.patient_id`

func scanRecordRow(sc interface{ Scan(...any) error }) (*RecordRow, error) {
	row := &RecordRow{Record: &Record{}}
	r := row.Record
	var at int64
	var ward string
	var amended int
	err := sc.Scan(&r.ID, &r.InstitutionID, &r.Number, &r.TaskID, &r.EncounterID, &r.PatientID, &r.UserID, &r.Actor, &at,
		&r.Channel, &r.TreatmentEffect, &r.Satisfaction, &r.MedicationGuidance, &r.RevisitAdvice, &r.NPS, &r.Opinions,
		&r.OpinionProblem, &r.RevisitNeeded, &r.RecordingConsent, &r.RecordingRef, &r.AmendsID, &r.AmendReason, &r.PrevHash, &r.Hash,
		&row.Level, &row.DepartmentID, &row.DeptName, &ward, &row.PatientName, &row.MRN, &amended)
	if err != nil {
		return nil, err
	}
	r.At = store.Time(at)
	if row.DeptName == "" {
		row.DeptName = ward
	}
	row.Amended = amended > 0
	return row, nil
}

// Records lists the records f selects that p's scope covers, newest first.
func (s *Service) Records(ctx context.Context, p *access.Principal, f RecordFilter) (*RecordPage, error) {
	if !p.TouchesInstitution(f.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, errs.Field("to", "bad_range", "the date range ends before it starts")
	}
	if f.Satisfaction != "" && f.Satisfaction != Satisfied && f.Satisfaction != Basically && f.Satisfaction != Dissatisfied {
		return nil, errs.Field("satisfaction", "bad_satisfaction", "satisfaction must be satisfied, basically or dissatisfied")
	}
	if f.Level < 0 || f.Level > 9 {
		return nil, errs.Field("level", "bad_level", "level must be 0–9")
	}
	f.Number = strings.ToUpper(strings.TrimSpace(f.Number))
	if len(f.Number) > 64 {
		return nil, errs.Field("number", "bad_record_number", "a record number has at most 64 characters")
	}
	loc, err := s.location(ctx, s.db.R(), f.InstitutionID)
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds = append(conds, "r.institution_id = "+arg(f.InstitutionID))
	if f.DepartmentID != 0 {
		if !p.SeesDepartment(f.InstitutionID, f.DepartmentID) {
			return nil, errs.New(errs.Forbidden, "out_of_scope", "this department is outside your data scope")
		}
		conds = append(conds, "t.department_id = "+arg(f.DepartmentID))
	} else if !p.SeesInstitution(f.InstitutionID) {
		var ids []string
		for _, g := range p.Grants {
			if g.InstitutionID == f.InstitutionID && g.DepartmentID != 0 {
				ids = append(ids, arg(g.DepartmentID))
			}
		}
		conds = append(conds, "t.department_id IN ("+strings.Join(ids, ",")+")")
	}
	if p.Agency() {
		conds = append(conds, "(t.assignee_role = "+arg(string(access.ThirdParty))+" OR t.assignee_id = "+arg(p.UserID)+")")
	}
	if !f.From.IsZero() {
		conds = append(conds, "r.at >= "+arg(store.Micros(f.From.In(loc))))
	}
	if !f.To.IsZero() {
		conds = append(conds, "r.at < "+arg(store.Micros(f.To.AddDays(1).In(loc))))
	}
	if f.Satisfaction != "" {
		conds = append(conds, "r.satisfaction = "+arg(f.Satisfaction))
	}
	if f.Level != 0 {
		conds = append(conds, "t.level = "+arg(f.Level))
	}
	if f.Number != "" {
		// Numbers are SF-<code>-<day>-<seq>: a prefix range uses the index.
		conds = append(conds, "r.number >= "+arg(f.Number)+" AND r.number < "+arg(f.Number+"~"))
	}
	where := " WHERE " + strings.Join(conds, " AND ")
	page := &RecordPage{}
	err = s.db.Read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_records r JOIN followup_tasks t ON t.id = r.task_id`+where,
			args...).Scan(&page.Total); err != nil {
			return fmt.Errorf("followup: count records: %w", err)
		}
		a := append(args, f.Limit, f.Offset)
		rows, err := tx.QueryContext(ctx, `SELECT `+recordRowCols+recordRowFrom+where+
			fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d OFFSET $%d`, len(a)-1, len(a)), a...)
		if err != nil {
			return fmt.Errorf("followup: records: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			row, err := scanRecordRow(rows)
			if err != nil {
				return fmt.Errorf("followup: records: %w", err)
			}
			page.Rows = append(page.Rows, row)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// RecordView is one record with its place in the institution's hash chain
// and its amendment chain.
type RecordView struct {
	*RecordRow
	Position   int       // 1-based place in the institution's chain
	ChainLen   int       // records in the institution's chain
	PrevNumber string    // the record before it in the chain ("" for the first)
	Versions   []*Record // original first, then every correction, in order
	Latest     bool      // no later record corrects this one
	CanAmend   bool      // p may append a correction (to the latest version)
}

// Record returns one record p's scope covers, with its chain position and
// its amendment chain (original → corrections).
func (s *Service) Record(ctx context.Context, p *access.Principal, id int64) (*RecordView, error) {
	v := &RecordView{}
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		row, err := scanRecordRow(tx.QueryRowContext(ctx, `SELECT `+recordRowCols+recordRowFrom+` WHERE r.id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "record_not_found", "no such follow-up record")
		}
		if err != nil {
			return fmt.Errorf("followup: read record: %w", err)
		}
		if !p.SeesDepartment(row.InstitutionID, row.DepartmentID) {
			return errs.New(errs.Forbidden, "out_of_scope", "this follow-up record is outside your data scope")
		}
		if p.Agency() {
			if _, err := s.task(ctx, tx, p, row.TaskID); err != nil {
				return err
			}
		}
		v.RecordRow = row
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_records WHERE institution_id = $1 AND id <= $2`,
			row.InstitutionID, row.ID).Scan(&v.Position); err != nil {
			return fmt.Errorf("followup: chain position: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_records WHERE institution_id = $1`,
			row.InstitutionID).Scan(&v.ChainLen); err != nil {
			return fmt.Errorf("followup: chain length: %w", err)
		}
		err = tx.QueryRowContext(ctx, `SELECT number FROM followup_records WHERE institution_id = $1 AND id < $2 ORDER BY id DESC LIMIT 1`,
			row.InstitutionID, row.ID).Scan(&v.PrevNumber)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("followup: previous record: %w", err)
		}
		// A task has one original record; its corrections hang off it (or
		// off each other), so the task's records are the version chain.
		rows, err := tx.QueryContext(ctx, `SELECT `+recordCols+` FROM followup_records WHERE task_id = $1 ORDER BY id`, row.TaskID)
		if err != nil {
			return fmt.Errorf("followup: versions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return fmt.Errorf("followup: versions: %w", err)
			}
			v.Versions = append(v.Versions, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	v.Versions = versionChain(v.Versions, v.ID)
	v.Latest = len(v.Versions) > 0 && v.Versions[len(v.Versions)-1].ID == v.ID
	v.CanAmend = v.Latest && mayAmend(p, v.Record, v.DepartmentID) == nil
	return v, nil
}

// versionChain keeps, of a task's records, the ones linked to record id by
// amendments: its root and everything that corrects the root, in order.
func versionChain(recs []*Record, id int64) []*Record {
	byID := map[int64]*Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	root := byID[id]
	for root != nil && root.AmendsID != 0 && byID[root.AmendsID] != nil {
		root = byID[root.AmendsID]
	}
	if root == nil {
		return nil
	}
	in := map[int64]bool{root.ID: true}
	out := []*Record{root}
	for _, r := range recs { // id order: a correction comes after what it corrects
		if r.ID != root.ID && in[r.AmendsID] {
			in[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}

// mayAmend says who may correct a record: its author, the head of the
// task's department, and quality (医务/质控), each within their scope.
// Administrators run the system and do not write clinical records.
func mayAmend(p *access.Principal, r *Record, dept int64) error {
	if !p.SeesDepartment(r.InstitutionID, dept) {
		return errs.New(errs.Forbidden, "out_of_scope", "this follow-up record is outside your data scope")
	}
	if p.UserID != 0 && p.UserID == r.UserID {
		return nil
	}
	// An integration corrects what the same token recorded.
	if p.UserID == 0 && r.UserID == 0 && p.Has(access.Integration) && p.Username != "" && p.Username == r.Actor {
		return nil
	}
	if p.HasAny(access.Quality, access.DeptHead) {
		return nil
	}
	return errs.New(errs.Forbidden, "may_not_amend", "only the record's author, the department head or quality may correct it")
}
