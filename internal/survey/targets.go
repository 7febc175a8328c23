package survey

import (
	"context"
	"fmt"

	"suifang/internal/kpi"
)

// TargetReader gives an institution's KPI targets (the kpi room); results
// mark the satisfaction rate below them, so no threshold lives in code.
type TargetReader interface {
	TargetsOf(ctx context.Context, inst int64) (kpi.Targets, error)
}

func (s *Service) targetsOf(ctx context.Context, inst int64) (kpi.Targets, error) {
	if s.targets == nil {
		return kpi.DefaultTargets(), nil
	}
	t, err := s.targets.TargetsOf(ctx, inst)
	if err != nil {
		return t, fmt.Errorf("survey: targets: %w", err)
	}
	return t, nil
}

// SatisfactionBelow: the satisfaction rate (满意率) is under the
// institution's target.
func (r *Results) SatisfactionBelow() bool {
	return kpi.Below(r.SatisfactionRate(), r.Targets.Satisfaction)
}
