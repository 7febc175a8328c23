package kpi

import (
	"context"
	"slices"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// scope is what a department head may see of an institution: the stays
// discharged from, or through, the departments and wards granted to them.
// A nil scope is the whole institution.
type scope struct{ depts []int64 }

func (sc *scope) keeps(dept, ward int64) bool {
	return sc == nil || slices.Contains(sc.depts, dept) || ward != 0 && slices.Contains(sc.depts, ward)
}

// showsDept: a department's row is shown only to who sees all of it; a
// ward head sees their ward's row, not a partial department.
func (sc *scope) showsDept(dept int64) bool { return sc == nil || slices.Contains(sc.depts, dept) }

// scopeOf: leadership, quality, administrators and an institution's API
// tokens (data warehouses pull the figures) see the institution; a
// department head their departments and wards (as complaint reports do);
// nobody else reads KPIs.
func scopeOf(p *access.Principal, inst int64) (*scope, error) {
	if p.HasAny(access.SysAdmin, access.Quality, access.Leadership, access.DeptHead, access.Integration) && p.SeesInstitution(inst) {
		return nil, nil
	}
	if p.Has(access.DeptHead) {
		var ds []int64
		for _, g := range p.Grants {
			if g.InstitutionID == inst && g.DepartmentID != 0 {
				ds = append(ds, g.DepartmentID)
			}
		}
		if len(ds) > 0 {
			return &scope{depts: ds}, nil
		}
	}
	return nil, errs.New(errs.Forbidden, "kpi_forbidden", "follow-up figures are for leadership, quality and department heads")
}

// CanRead reports whether p may read inst's follow-up figures (for links).
func CanRead(p *access.Principal, inst int64) bool {
	_, err := scopeOf(p, inst)
	return err == nil
}

// Report is institution inst's month within p's scope: a department head
// gets their own rows and a total of their own stays.
func (s *Service) Report(ctx context.Context, p *access.Principal, inst int64, m Month) (*Report, error) {
	sc, err := scopeOf(p, inst)
	if err != nil {
		return nil, err
	}
	return s.compute(ctx, inst, m, sc)
}

// Institutions finds institutions by code and lists a group's members;
// org.Service satisfies it.
type Institutions interface {
	InstitutionByCode(ctx context.Context, code string) (*org.Institution, error)
	Institutions(ctx context.Context, p *access.Principal) ([]*org.Institution, error)
}

// ReportByCode is the month of the institution with code: a hospital's
// departments, or for a group one row per member hospital p sees whole
// (a group report adds up whole hospitals, never a department head's
// slice of one).
func (s *Service) ReportByCode(ctx context.Context, p *access.Principal, code string, m Month) (*Report, error) {
	in, err := s.insts.InstitutionByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if in.Kind != org.KindGroup {
		rep, err := s.Report(ctx, p, in.ID, m)
		if err != nil {
			return nil, err
		}
		rep.Institution, rep.Name = in.Code, in.Name
		return rep, nil
	}
	all, err := s.insts.Institutions(ctx, p)
	if err != nil {
		return nil, err
	}
	t, err := s.targets(ctx, s.db.R(), in.ID)
	if err != nil {
		return nil, err
	}
	rep := &Report{InstitutionID: in.ID, Institution: in.Code, Name: in.Name, Group: true, Month: m, Targets: t}
	for _, mem := range all {
		if mem.ParentID != in.ID || mem.Kind == org.KindGroup {
			continue
		}
		if sc, err := scopeOf(p, mem.ID); err != nil || sc != nil {
			continue
		}
		r, err := s.compute(ctx, mem.ID, m, nil)
		if err != nil {
			return nil, err
		}
		row := r.Total
		row.ID, row.Code, row.Name = mem.ID, mem.Code, mem.Name
		rep.Total.add(&row)
		rep.Departments = append(rep.Departments, row)
	}
	if len(rep.Departments) == 0 {
		return nil, errs.New(errs.Forbidden, "kpi_forbidden", "no member institution of this group is in your data scope")
	}
	slices.SortFunc(rep.Departments, func(a, b Row) int {
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	rep.Total.finish(rep.Targets)
	return rep, nil
}
