// Package org owns the shape of the hospital group: institutions (集团, 医院,
// 院区, 门诊部) and their departments and wards (科室/病区). Every other row
// that belongs to an institution points at one of these.
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Institution kinds.
const (
	KindGroup    = "group"
	KindHospital = "hospital"
	KindClinic   = "clinic"
)

// Department kinds.
const (
	DeptClinical = "clinical" // 临床科室
	DeptWard     = "ward"     // 病区
	DeptOffice   = "office"   // 职能部门 (客服中心, 医务科 …)
)

// Institution is a hospital group, hospital, campus or clinic.
type Institution struct {
	ID           int64
	Code         string
	Name         string
	Kind         string
	ParentID     int64
	Timezone     string
	ServiceHours string
	Active       bool
}

// Location returns the institution's time zone (Asia/Shanghai when unset).
func (i *Institution) Location() *time.Location {
	if loc, err := time.LoadLocation(i.Timezone); err == nil && i.Timezone != "" {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Department is a clinical department, ward or office of an institution.
type Department struct {
	ID            int64
	InstitutionID int64
	Code          string
	Name          string
	Kind          string
	ParentID      int64
	Active        bool
	// Source says where the department came from: SourceHIS or SourceAuto
	// mark one Suifang created, listed "to review" until an administrator
	// saves it.
	Source string
}

// ToReview reports whether an administrator has yet to look at d.
func (d *Department) ToReview() bool { return d.Source != SourceAdmin }

// Hook runs inside the transaction that creates an institution, so rooms
// that keep per-institution defaults (the working-day calendar) set them up
// atomically.
type Hook func(ctx context.Context, tx *sql.Tx, instID int64) error

// Service is the door to institutions and departments.
type Service struct {
	db      *store.DB
	audit   *audit.Service
	now     func() time.Time
	created []Hook
	hours   []Hook
	moved   []DepartmentMoved
}

// OnHoursChanged adds a hook that runs inside the transaction that changes
// an institution's service hours or time zone, so rooms that store
// deadlines computed from them (complaints) recompute them atomically.
// Call it while wiring, before serving.
func (s *Service) OnHoursChanged(h Hook) { s.hours = append(s.hours, h) }

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB       *store.DB        // the database
	Audit    *audit.Service   // the audit log, written in the callers' transactions
	Now      func() time.Time // the clock (time.Now in production)
	OnCreate []Hook           // run in the transaction that creates an institution
}

// New returns the org service; hooks run when an institution is created.
func New(d Deps) *Service {
	db, au, now, onCreate := d.DB, d.Audit, d.Now, d.OnCreate
	return &Service{db: db, audit: au, now: now, created: onCreate}
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// reservedCodes cannot be institution codes: the public complaint page
// is /c/{code}, and /c/track beside it is the tracking lookup.
var reservedCodes = []string{"track"}

func checkName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return errs.Field("name", "bad_name", "name is required (at most 100 characters)")
	}
	return nil
}

// InstitutionInput is what an administrator fills in.
type InstitutionInput struct {
	Code, Name, Kind, Timezone, ServiceHours string
	ParentID                                 int64
	Active                                   bool
}

func (s *Service) checkInstitution(ctx context.Context, in *InstitutionInput, self int64) error {
	in.Code, in.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	if !codeRE.MatchString(in.Code) {
		return errs.Field("code", "bad_code", "code: 1–32 letters, digits, dot, dash or underscore")
	}
	if slices.Contains(reservedCodes, strings.ToLower(in.Code)) {
		return errs.Field("code", "code_reserved", "this code is a word the public pages use; choose another")
	}
	if err := checkName(in.Name); err != nil {
		return err
	}
	if in.Kind == "" {
		in.Kind = KindHospital
	}
	if in.Kind != KindGroup && in.Kind != KindHospital && in.Kind != KindClinic {
		return errs.Field("kind", "bad_kind", "kind must be group, hospital or clinic")
	}
	if in.Timezone == "" {
		in.Timezone = "Asia/Shanghai"
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil {
		return errs.Field("timezone", "bad_timezone", "unknown time zone")
	}
	if in.ServiceHours == "" {
		in.ServiceHours = "08:00-17:30"
	}
	h, err := calendar.ParseServiceHours(in.ServiceHours)
	if err != nil {
		return errs.Field("service_hours", "bad_service_hours", "service hours look like 08:00-17:30 (start before end)")
	}
	in.ServiceHours = h.String()
	if in.ParentID != 0 && in.Kind == KindGroup {
		// One level of grouping keeps scope expansion simple and loop-free.
		return errs.Field("parent_id", "bad_parent", "a group cannot belong to another group")
	}
	if self != 0 && in.Kind != KindGroup {
		var members int
		if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions WHERE parent_id = $1`, self).Scan(&members); err != nil {
			return fmt.Errorf("org: count members: %w", err)
		}
		if members > 0 {
			return errs.Field("kind", "group_has_members", "this group still has member institutions; move them first")
		}
	}
	if in.ParentID != 0 {
		if in.ParentID == self {
			return errs.Field("parent_id", "bad_parent", "an institution cannot belong to itself")
		}
		var kind string
		err := s.db.R().QueryRowContext(ctx, `SELECT kind FROM institutions WHERE id = $1`, in.ParentID).Scan(&kind)
		if err != nil || kind != KindGroup {
			return errs.Field("parent_id", "bad_parent", "the parent must be an existing group")
		}
	}
	return nil
}

// CreateInstitution adds an institution (admin only) and runs the creation
// hooks in the same transaction.
func (s *Service) CreateInstitution(ctx context.Context, p *access.Principal, in InstitutionInput) (int64, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	in.Active = true
	if err := s.checkInstitution(ctx, &in, 0); err != nil {
		return 0, err
	}
	now := store.Micros(s.now())
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO institutions (code, name, kind, parent_id, timezone, service_hours, active, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id`,
			in.Code, in.Name, in.Kind, nullID(in.ParentID), in.Timezone, in.ServiceHours, true, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Field("code", "code_taken", "an institution with this code already exists")
		}
		if err != nil {
			return fmt.Errorf("org: create institution: %w", err)
		}
		for _, h := range s.created {
			if err := h(ctx, tx, id); err != nil {
				return err
			}
		}
		e := audit.Event(p, "institution.create", "institution", fmt.Sprint(id), id)
		e.Detail = fmt.Sprintf("code=%s name=%s kind=%s", in.Code, in.Name, in.Kind)
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return 0, err // the insert was rolled back
	}
	return id, nil
}

// UpdateInstitution changes an institution's attributes (code included).
func (s *Service) UpdateInstitution(ctx context.Context, p *access.Principal, id int64, in InstitutionInput) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	if _, err := s.institution(ctx, s.db.R(), id); err != nil {
		return err
	}
	if err := s.checkInstitution(ctx, &in, id); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		old, err := s.institution(ctx, tx, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE institutions SET code=$1, name=$2, kind=$3, parent_id=$4, timezone=$5,
			service_hours=$6, active=$7, updated_at=$8 WHERE id=$9`,
			in.Code, in.Name, in.Kind, nullID(in.ParentID), in.Timezone, in.ServiceHours, in.Active, store.Micros(s.now()), id)
		if store.IsUniqueViolation(err) {
			return errs.Field("code", "code_taken", "an institution with this code already exists")
		}
		if err != nil {
			return fmt.Errorf("org: update institution: %w", err)
		}
		if old.ServiceHours != in.ServiceHours || old.Timezone != in.Timezone {
			for _, h := range s.hours {
				if err := h(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		e := audit.Event(p, "institution.update", "institution", fmt.Sprint(id), id)
		e.Detail = fmt.Sprintf("code=%s name=%s kind=%s active=%t hours=%s", in.Code, in.Name, in.Kind, in.Active, in.ServiceHours)
		return s.audit.Append(ctx, tx, e)
	})
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

const instCols = `id, code, name, kind, COALESCE(parent_id, 0), timezone, service_hours, active`

func scanInst(sc interface{ Scan(...any) error }) (*Institution, error) {
	i := &Institution{}
	err := sc.Scan(&i.ID, &i.Code, &i.Name, &i.Kind, &i.ParentID, &i.Timezone, &i.ServiceHours, &i.Active)
	return i, err
}

func (s *Service) institution(ctx context.Context, q store.Querier, id int64) (*Institution, error) {
	i, err := scanInst(q.QueryRowContext(ctx, `SELECT `+instCols+` FROM institutions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "institution_not_found", "no such institution")
	}
	if err != nil {
		return nil, fmt.Errorf("org: read institution: %w", err)
	}
	return i, nil
}

// Institution returns one institution p may see.
func (s *Service) Institution(ctx context.Context, p *access.Principal, id int64) (*Institution, error) {
	i, err := s.institution(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(id) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	return i, nil
}

// InstitutionByCode finds an institution by its code (imports and the CLI
// name institutions by code). It applies no scope: callers check it.
func (s *Service) InstitutionByCode(ctx context.Context, code string) (*Institution, error) {
	i, err := scanInst(s.db.R().QueryRowContext(ctx, `SELECT `+instCols+` FROM institutions WHERE code = $1`, strings.TrimSpace(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "institution_not_found", fmt.Sprintf("no institution with code %q", code))
	}
	if err != nil {
		return nil, fmt.Errorf("org: read institution: %w", err)
	}
	return i, nil
}

// Institutions lists what p touches, groups first.
func (s *Service) Institutions(ctx context.Context, p *access.Principal) ([]*Institution, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+instCols+` FROM institutions ORDER BY CASE kind WHEN 'group' THEN 0 ELSE 1 END, code`)
	if err != nil {
		return nil, fmt.Errorf("org: list institutions: %w", err)
	}
	defer rows.Close()
	var out []*Institution
	for rows.Next() {
		i, err := scanInst(rows)
		if err != nil {
			return nil, fmt.Errorf("org: scan institution: %w", err)
		}
		if p.TouchesInstitution(i.ID) {
			out = append(out, i)
		}
	}
	return out, rows.Err()
}

// DepartmentInput is what an administrator fills in.
type DepartmentInput struct {
	InstitutionID int64
	Code, Name    string
	Kind          string
	ParentID      int64
	Active        bool
}

func (s *Service) checkDepartment(ctx context.Context, in *DepartmentInput, self int64, oldCode string) error {
	in.Code, in.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	// A department made from a HIS code keeps that code as sent (imports
	// look it up by it), even when it is not one an administrator may type.
	if !codeRE.MatchString(in.Code) && (self == 0 || in.Code != oldCode) {
		return errs.Field("code", "bad_code", "code: 1–32 letters, digits, dot, dash or underscore")
	}
	if err := checkName(in.Name); err != nil {
		return err
	}
	if in.Kind == "" {
		in.Kind = DeptClinical
	}
	if in.Kind != DeptClinical && in.Kind != DeptWard && in.Kind != DeptOffice {
		return errs.Field("kind", "bad_kind", "kind must be clinical, ward or office")
	}
	if _, err := s.institution(ctx, s.db.R(), in.InstitutionID); err != nil {
		return errs.Field("institution_id", "bad_institution", "choose an institution")
	}
	if in.ParentID != 0 {
		var inst int64
		err := s.db.R().QueryRowContext(ctx, `SELECT institution_id FROM departments WHERE id = $1`, in.ParentID).Scan(&inst)
		if err != nil || inst != in.InstitutionID || in.ParentID == self {
			return errs.Field("parent_id", "bad_parent", "the parent must be another department of the same institution")
		}
	}
	return nil
}

// CreateDepartment adds a department or ward (admin only).
func (s *Service) CreateDepartment(ctx context.Context, p *access.Principal, in DepartmentInput) (int64, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	in.Active = true
	if err := s.checkDepartment(ctx, &in, 0, ""); err != nil {
		return 0, err
	}
	now := store.Micros(s.now())
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO departments (institution_id, code, name, kind, parent_id, active, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING id`,
			in.InstitutionID, in.Code, in.Name, in.Kind, nullID(in.ParentID), true, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Field("code", "code_taken", "this institution already has a department with this code")
		}
		if err != nil {
			return fmt.Errorf("org: create department: %w", err)
		}
		e := audit.Event(p, "department.create", "department", fmt.Sprint(id), in.InstitutionID)
		e.Detail = fmt.Sprintf("code=%s name=%s kind=%s", in.Code, in.Name, in.Kind)
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return 0, err // the insert was rolled back
	}
	return id, nil
}

// UpdateDepartment changes a department; its institution cannot change.
func (s *Service) UpdateDepartment(ctx context.Context, p *access.Principal, id int64, in DepartmentInput) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	old, err := s.department(ctx, id)
	if err != nil {
		return err
	}
	in.InstitutionID = old.InstitutionID
	if err := s.checkDepartment(ctx, &in, id, old.Code); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		// Saving a department is reviewing it: a "from HIS" mark goes.
		_, err := tx.ExecContext(ctx, `UPDATE departments SET code=$1, name=$2, kind=$3, parent_id=$4, active=$5, updated_at=$6,
			source=$8 WHERE id=$7`, in.Code, in.Name, in.Kind, nullID(in.ParentID), in.Active, store.Micros(s.now()), id, SourceAdmin)
		if store.IsUniqueViolation(err) {
			return errs.Field("code", "code_taken", "this institution already has a department with this code")
		}
		if err != nil {
			return fmt.Errorf("org: update department: %w", err)
		}
		e := audit.Event(p, "department.update", "department", fmt.Sprint(id), in.InstitutionID)
		e.Detail = fmt.Sprintf("code=%s name=%s kind=%s active=%t", in.Code, in.Name, in.Kind, in.Active)
		return s.audit.Append(ctx, tx, e)
	})
}

const deptCols = `id, institution_id, code, name, kind, COALESCE(parent_id, 0), active, source`

func scanDept(sc interface{ Scan(...any) error }) (*Department, error) {
	d := &Department{}
	err := sc.Scan(&d.ID, &d.InstitutionID, &d.Code, &d.Name, &d.Kind, &d.ParentID, &d.Active, &d.Source)
	return d, err
}

func (s *Service) department(ctx context.Context, id int64) (*Department, error) {
	d, err := scanDept(s.db.R().QueryRowContext(ctx, `SELECT `+deptCols+` FROM departments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "department_not_found", "no such department")
	}
	if err != nil {
		return nil, fmt.Errorf("org: read department: %w", err)
	}
	return d, nil
}

// Department returns one department, if p's scope covers it.
func (s *Service) Department(ctx context.Context, p *access.Principal, id int64) (*Department, error) {
	d, err := s.department(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireDepartment(d.InstitutionID, d.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// Departments lists the departments of inst that p may see: all of them for
// institution-wide scope, only the granted ones otherwise.
func (s *Service) Departments(ctx context.Context, p *access.Principal, inst int64) ([]*Department, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+deptCols+` FROM departments WHERE institution_id = $1 ORDER BY code`, inst)
	if err != nil {
		return nil, fmt.Errorf("org: list departments: %w", err)
	}
	defer rows.Close()
	var out []*Department
	for rows.Next() {
		d, err := scanDept(rows)
		if err != nil {
			return nil, fmt.Errorf("org: scan department: %w", err)
		}
		if p.SeesDepartment(inst, d.ID) {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}
