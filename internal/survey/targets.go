package survey

import (
	"context"

	"suifang/internal/kpi"
)

// targetsOf reads the institution's KPI targets (the defaults when no
// reader is wired).
func (s *Service) targetsOf(ctx context.Context, inst int64) (kpi.Targets, error) {
	return kpi.TargetsFrom(ctx, s.targets, inst)
}

// SatisfactionBelow: the satisfaction rate (满意率) is under the
// institution's target.
func (r *Results) SatisfactionBelow() bool {
	return kpi.Below(r.SatisfactionRate(), r.Targets.Satisfaction)
}
