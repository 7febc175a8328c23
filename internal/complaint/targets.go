package complaint

import (
	"context"
	"fmt"

	"suifang/internal/kpi"
)

// TargetReader gives an institution's KPI targets (the kpi room); the
// report marks each figure below them, so no threshold lives in code.
type TargetReader interface {
	TargetsOf(ctx context.Context, inst int64) (kpi.Targets, error)
}

func (s *Service) targetsOf(ctx context.Context, inst int64) (kpi.Targets, error) {
	if s.targets == nil {
		return kpi.DefaultTargets(), nil
	}
	t, err := s.targets.TargetsOf(ctx, inst)
	if err != nil {
		return t, fmt.Errorf("complaint: targets: %w", err)
	}
	return t, nil
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
