package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Where a department came from.
const (
	SourceAdmin = ""     // set up by an administrator
	SourceHIS   = "his"  // created by an import from the code and name the HIS sent: to review
	SourceAuto  = "auto" // the quality office Suifang created for a notice no rule could place: to review
)

// HISDepartment is a department or ward code an import met, with the name
// the HIS gave it.
type HISDepartment struct {
	Code, Name, Kind string
}

// HISCodes returns the map imports resolve HIS department and ward codes
// with: every department's own code, overridden by the administrator's
// mappings of HIS codes to departments.
func (s *Service) HISCodes(ctx context.Context, inst int64) (map[string]int64, error) {
	out := map[string]int64{}
	rows, err := s.db.R().QueryContext(ctx, `SELECT code, id FROM departments WHERE institution_id = $1`, inst)
	if err != nil {
		return nil, fmt.Errorf("org: department codes: %w", err)
	}
	if err := scanCodes(rows, out); err != nil {
		return nil, err
	}
	rows, err = s.db.R().QueryContext(ctx, `SELECT his_code, department_id FROM department_his_codes WHERE institution_id = $1`, inst)
	if err != nil {
		return nil, fmt.Errorf("org: HIS codes: %w", err)
	}
	return out, scanCodes(rows, out)
}

func scanCodes(rows *sql.Rows, into map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			return fmt.Errorf("org: codes: %w", err)
		}
		into[code] = id
	}
	return rows.Err()
}

// hisCode cleans a code as the HIS sent it; "" when it cannot be a code.
func hisCode(c string) string {
	c = strings.TrimSpace(c)
	if c == "" || utf8.RuneCountInString(c) > 32 || !utf8.ValidString(c) {
		return ""
	}
	for _, r := range c {
		if unicode.IsControl(r) {
			return ""
		}
	}
	return c
}

// EnsureHISDepartments creates the departments an import names that inst
// does not know, from the code and name the HIS sent, marked SourceHIS so
// the departments page lists them for review, and returns code → id for
// every code given. A stay is then never stored without its department
// (a 不满意 on it could not be routed). Two instances meeting the same new
// code at once both get the one department: the INSERT skips a code
// already taken and the id is read back.
func (s *Service) EnsureHISDepartments(ctx context.Context, inst int64, ds []HISDepartment) (map[string]int64, error) {
	out := map[string]int64{}
	if len(ds) == 0 {
		return out, nil
	}
	now := store.Micros(s.now())
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			code := hisCode(d.Code)
			if code == "" {
				continue
			}
			name := strings.TrimSpace(d.Name)
			if name == "" || utf8.RuneCountInString(name) > 100 {
				name = code
			}
			kind := d.Kind
			if kind != DeptWard {
				kind = DeptClinical
			}
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO departments (institution_id, code, name, kind, active, source, created_at, updated_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$7) ON CONFLICT (institution_id, code) DO NOTHING RETURNING id`,
				inst, code, name, kind, true, SourceHIS, now).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				err = tx.QueryRowContext(ctx, `SELECT id FROM departments WHERE institution_id = $1 AND code = $2`, inst, code).Scan(&id)
				if err != nil {
					return fmt.Errorf("org: read HIS department %s: %w", code, err)
				}
				out[code] = id
				continue
			}
			if err != nil {
				return fmt.Errorf("org: create HIS department %s: %w", code, err)
			}
			out[code] = id
			e := audit.Event(access.System(), "department.from_his", "department", fmt.Sprint(id), inst)
			e.Detail = fmt.Sprintf("code=%s name=%s kind=%s", code, name, kind)
			if err := s.audit.Append(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// HISMapping maps a code the HIS sends to a department of the institution.
type HISMapping struct {
	HISCode      string
	DepartmentID int64
	DeptCode     string
	DeptName     string
}

// HISMappings lists inst's HIS-code mappings by code.
func (s *Service) HISMappings(ctx context.Context, p *access.Principal, inst int64) ([]HISMapping, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT m.his_code, m.department_id, d.code, d.name FROM department_his_codes m
		JOIN departments d ON d.id = m.department_id WHERE m.institution_id = $1 ORDER BY m.his_code`, inst)
	if err != nil {
		return nil, fmt.Errorf("org: HIS mappings: %w", err)
	}
	defer rows.Close()
	var out []HISMapping
	for rows.Next() {
		var m HISMapping
		if err := rows.Scan(&m.HISCode, &m.DepartmentID, &m.DeptCode, &m.DeptName); err != nil {
			return nil, fmt.Errorf("org: HIS mappings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DepartmentMoved runs in the transaction that maps a HIS code onto a
// department, when a department an import created for that code is folded
// into it: rooms that file rows by department (stays, open follow-ups)
// move them from from to to.
type DepartmentMoved func(ctx context.Context, tx *sql.Tx, inst, from, to int64) error

// OnDepartmentMoved adds such a hook. Call it while wiring.
func (s *Service) OnDepartmentMoved(h DepartmentMoved) { s.moved = append(s.moved, h) }

// MapHISCode makes imports of inst file the HIS code code under department
// dept (admin only). When an earlier import created a department from that
// code (marked "from HIS"), it is folded into dept: its stays and open
// follow-ups move there (the hooks) and it is switched off; notices already
// raised stay with it, as handed-over documents its staff can pass on.
// It returns whether a department was folded.
func (s *Service) MapHISCode(ctx context.Context, p *access.Principal, inst int64, code string, dept int64) (bool, error) {
	if err := p.RequireAdmin(); err != nil {
		return false, err
	}
	code = hisCode(code)
	if code == "" {
		return false, errs.Field("his_code", "bad_his_code", "the HIS code: 1–32 characters")
	}
	target, err := s.department(ctx, dept)
	if err != nil || target.InstitutionID != inst {
		return false, errs.Field("department_id", "his_bad_department", "choose a department of this institution")
	}
	if target.Code == code {
		return false, errs.Field("his_code", "his_code_is_own", "this is the department's own code; imports find it already")
	}
	folded := false
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO department_his_codes (institution_id, his_code, department_id, updated_at)
			VALUES ($1,$2,$3,$4) ON CONFLICT (institution_id, his_code) DO UPDATE SET department_id = excluded.department_id,
			updated_at = excluded.updated_at`, inst, code, dept, now); err != nil {
			return fmt.Errorf("org: map HIS code: %w", err)
		}
		var auto int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM departments WHERE institution_id = $1 AND code = $2 AND source = $3 AND active = $4`,
			inst, code, SourceHIS, true).Scan(&auto)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("org: HIS department: %w", err)
		}
		if auto != 0 && auto != dept {
			for _, h := range s.moved {
				if err := h(ctx, tx, inst, auto, dept); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE departments SET active = $1, updated_at = $2 WHERE id = $3`, false, now, auto); err != nil {
				return fmt.Errorf("org: fold HIS department: %w", err)
			}
			folded = true
		}
		e := audit.Event(p, "department.map_his", "department", fmt.Sprint(dept), inst)
		e.Detail = fmt.Sprintf("his_code=%s folded=%d", code, auto)
		return s.audit.Append(ctx, tx, e)
	})
	return folded, err
}

// UnmapHISCode removes a mapping (admin only); later imports create or use
// the department whose own code it is.
func (s *Service) UnmapHISCode(ctx context.Context, p *access.Principal, inst int64, code string) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM department_his_codes WHERE institution_id = $1 AND his_code = $2`, inst, code)
		if err != nil {
			return fmt.Errorf("org: unmap HIS code: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "his_code_not_found", "no such HIS code mapping")
		}
		e := audit.Event(p, "department.unmap_his", "institution", fmt.Sprint(inst), inst)
		e.Detail = "his_code=" + code
		return s.audit.Append(ctx, tx, e)
	})
}

// qualityWords name an institution's quality office (质控科, 医务科 …).
var qualityWords = []string{"质控", "质量", "医务"}

// QualityOffice returns the department a notice goes to when no routing
// rule finds one: the institution's active quality office (the first
// office whose name says 质控, 质量 or 医务); else any active office; else
// a 质控科 it creates, marked SourceAuto for review — a record must never
// fail to save for want of a department. It runs in the caller's
// transaction.
func (s *Service) QualityOffice(ctx context.Context, tx *sql.Tx, inst int64) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM departments WHERE institution_id = $1 AND kind = $2 AND active = $3 ORDER BY id`,
		inst, DeptOffice, true)
	if err != nil {
		return 0, fmt.Errorf("org: offices: %w", err)
	}
	var first, quality int64
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return 0, fmt.Errorf("org: offices: %w", err)
		}
		if first == 0 {
			first = id
		}
		for _, w := range qualityWords {
			if quality == 0 && strings.Contains(name, w) {
				quality = id
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("org: offices: %w", err)
	}
	if quality != 0 {
		return quality, nil
	}
	if first != 0 {
		return first, nil
	}
	const code = "QC"
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO departments (institution_id, code, name, kind, active, source, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$7) ON CONFLICT (institution_id, code) DO NOTHING RETURNING id`,
		inst, code, "质控科", DeptOffice, true, SourceAuto, store.Micros(s.now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `SELECT id FROM departments WHERE institution_id = $1 AND code = $2`, inst, code).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("org: create quality office: %w", err)
	}
	e := audit.Event(access.System(), "department.auto", "department", fmt.Sprint(id), inst)
	e.Detail = "code=QC name=质控科 kind=office (a notice found no department)"
	return id, s.audit.Append(ctx, tx, e)
}
