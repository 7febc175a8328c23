package kpi

import (
	"context"
	"fmt"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
)

// TrendByCode is the totals of n months from first for the institution
// with code, within p's scope, as ReportByCode's totals would be month by
// month (a group: the members p sees whole, added up). It reads the rows
// of all n months at once instead of n times: the dashboard's 12-month
// trend.
func (s *Service) TrendByCode(ctx context.Context, p *access.Principal, code string, first Month, n int) ([]Row, error) {
	if n < 1 || n > 36 {
		return nil, fmt.Errorf("kpi: trend of %d months", n)
	}
	in, err := s.insts.InstitutionByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if in.Kind != org.KindGroup {
		sc, err := scopeOf(p, in.ID)
		if err != nil {
			return nil, err
		}
		return s.trend(ctx, in.ID, first, n, sc)
	}
	all, err := s.insts.Institutions(ctx, p)
	if err != nil {
		return nil, err
	}
	t, err := s.targets(ctx, s.db.R(), in.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Row, n)
	members := 0
	for _, mem := range all {
		if mem.ParentID != in.ID || mem.Kind == org.KindGroup {
			continue
		}
		if sc, err := scopeOf(p, mem.ID); err != nil || sc != nil {
			continue
		}
		rows, err := s.trend(ctx, mem.ID, first, n, nil)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			out[i].add(&rows[i])
		}
		members++
	}
	if members == 0 {
		return nil, errs.New(errs.Forbidden, "kpi_forbidden", "no member institution of this group is in your data scope")
	}
	for i := range out {
		out[i].finish(t)
	}
	return out, nil
}

// trend is compute's total for n months from first, in one read of each
// table: stays go to their discharge month, answers to their record's.
func (s *Service) trend(ctx context.Context, inst int64, first Month, n int, sc *scope) ([]Row, error) {
	pol, t, err := s.policyAndTargets(ctx, inst)
	if err != nil {
		return nil, err
	}
	loc := pol.Loc
	months := make([]Month, n)
	aggs := make([]*aggregate, n)
	index := map[Month]int{}
	m := first
	for i := range n {
		months[i], aggs[i], index[m] = m, newAggregate(sc), i
		m = m.Next()
	}
	last := months[n-1]
	q := s.db.R()
	args := []any{inst, encDischarged, encInpatient, first.First().String(), last.Next().First().String()}
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
	for _, st := range stays {
		aggs[index[MonthOf(st.discharge)]].add(st.deptID, st.deptCode, st.deptName, st.wardID, st.wardCode, st.wardName, st.row(pol.Cal, loc))
	}
	from, _ := first.bounds(loc)
	_, to := last.bounds(loc)
	// Month bounds in the zone, to send each answer to its month.
	bounds := make([]int64, n)
	for i, mm := range months {
		b, _ := mm.bounds(loc)
		bounds[i] = store.Micros(b)
	}
	aggOf := func(at int64) *aggregate {
		i := n - 1
		for i > 0 && at < bounds[i] {
			i--
		}
		return aggs[i]
	}
	if err := s.answers(ctx, q, inst, store.Micros(from), store.Micros(to), aggOf); err != nil {
		return nil, err
	}
	out := make([]Row, n)
	for i, a := range aggs {
		_, _, out[i] = a.rows(t)
	}
	return out, nil
}
