package complaint

import (
	"context"

	"suifang/internal/kpi"
)

// targetsOf reads the institution's KPI targets (the defaults when no
// reader is wired).
func (s *Service) targetsOf(ctx context.Context, inst int64) (kpi.Targets, error) {
	return kpi.TargetsFrom(ctx, s.targets, inst)
}

// ClosureBelow: the closure rate (闭环率) is under the institution's target.
func (r *Report) ClosureBelow() bool { return kpi.Below(r.ClosureRate(), r.Targets.ComplaintClosed) }

// OnTimeBelow: the pooled on-time rate is under the target.
func (r *Report) OnTimeBelow() bool { return kpi.Below(r.OnTimeRate(), r.Targets.ComplaintOnTime) }

// SatisfactionBelow: the complainants' satisfaction is under the target.
func (r *Report) SatisfactionBelow() bool {
	return kpi.Below(r.SatisfactionRate(), r.Targets.Satisfaction)
}

// MilestoneBelow: one milestone's on-time rate is under the target.
func (r *Report) MilestoneBelow(m MilestoneRate) bool {
	return kpi.Below(m.Rate(), r.Targets.ComplaintOnTime)
}
