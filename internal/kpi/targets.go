package kpi

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Targets are an institution's KPI targets in basis points (9000 = 90%).
// Hospitals change targets, never definitions.
type Targets struct {
	Coverage        int // 随访率
	FirstContact    int // 首次随访及时率
	Satisfaction    int // 满意率
	ComplaintOnTime int // 投诉各环节按时率
	ComplaintClosed int // 投诉闭环率
	Appointment     int // 预约率 (once appointments exist)
	// RecommendGrowth: the recommendation rate (share answering 9–10)
	// must rise by this much on the same month last year (3000 = +30%).
	RecommendGrowth int
}

// DefaultTargets are issue 12's defaults.
func DefaultTargets() Targets {
	return Targets{Coverage: 9000, FirstContact: 9500, Satisfaction: 9600, ComplaintOnTime: 10000,
		ComplaintClosed: 9800, Appointment: 8500, RecommendGrowth: 3000}
}

func (t Targets) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"coverage", t.Coverage}, {"first_contact", t.FirstContact}, {"satisfaction", t.Satisfaction},
		{"complaint_on_time", t.ComplaintOnTime}, {"complaint_closure", t.ComplaintClosed}, {"appointment_rate", t.Appointment}} {
		if f.v < 0 || f.v > 10000 {
			return errs.Field(f.name, "bad_target", "a target is between 0% and 100%")
		}
	}
	// Growth may exceed 100% (doubling) but not absurdly, nor be negative.
	if t.RecommendGrowth < 0 || t.RecommendGrowth > 100000 {
		return errs.Field("recommendation_growth", "bad_target", "the growth target is between 0% and 1000%")
	}
	return nil
}

func (s *Service) targets(ctx context.Context, q store.Querier, inst int64) (Targets, error) {
	t := DefaultTargets()
	err := q.QueryRowContext(ctx, `SELECT coverage, first_contact, satisfaction, complaint_on_time, complaint_closure,
		appointment_rate, recommendation_growth FROM kpi_targets WHERE institution_id = $1`, inst).
		Scan(&t.Coverage, &t.FirstContact, &t.Satisfaction, &t.ComplaintOnTime, &t.ComplaintClosed, &t.Appointment, &t.RecommendGrowth)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultTargets(), nil
	}
	if err != nil {
		return t, fmt.Errorf("kpi: targets: %w", err)
	}
	return t, nil
}

// mayReadTargets: whoever may read the institution's reports.
func mayReadTargets(p *access.Principal, inst int64) error {
	if _, err := scopeOf(p, inst); err != nil {
		return err
	}
	return nil
}

// Targets returns inst's targets (the defaults until someone sets them).
func (s *Service) Targets(ctx context.Context, p *access.Principal, inst int64) (Targets, error) {
	if err := mayReadTargets(p, inst); err != nil {
		return Targets{}, err
	}
	return s.targets(ctx, s.db.R(), inst)
}

// MaySetTargets: system administrators and quality (医务/质控) of inst.
func MaySetTargets(p *access.Principal, inst int64) bool {
	return (p.IsAdmin() || p.Has(access.Quality)) && p.SeesInstitution(inst)
}

// SetTargets changes inst's targets: system administrators and quality
// (医务/质控) of the institution only; audited with old and new values.
func (s *Service) SetTargets(ctx context.Context, p *access.Principal, inst int64, t Targets) error {
	if !MaySetTargets(p, inst) {
		return errs.New(errs.Forbidden, "kpi_targets_forbidden", "targets are set by administrators and quality")
	}
	if err := t.validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		old, err := s.targets(ctx, tx, inst)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO kpi_targets (institution_id, coverage, first_contact, satisfaction,
			complaint_on_time, complaint_closure, appointment_rate, recommendation_growth, updated_by, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
			ON CONFLICT (institution_id) DO UPDATE SET coverage = excluded.coverage, first_contact = excluded.first_contact,
				satisfaction = excluded.satisfaction, complaint_on_time = excluded.complaint_on_time,
				complaint_closure = excluded.complaint_closure, appointment_rate = excluded.appointment_rate,
				recommendation_growth = excluded.recommendation_growth, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at`,
			inst, t.Coverage, t.FirstContact, t.Satisfaction, t.ComplaintOnTime, t.ComplaintClosed, t.Appointment,
			t.RecommendGrowth, p.UserID, store.Micros(s.now())); err != nil {
			return fmt.Errorf("kpi: set targets: %w", err)
		}
		e := audit.Event(p, "kpi.targets", "institution", fmt.Sprint(inst), inst)
		e.Detail = fmt.Sprintf("old=%+v new=%+v", old, t)
		return s.audit.Append(ctx, tx, e)
	})
}

// TargetsOf returns inst's targets without a principal: for rooms that
// flag their own figures (complaint reports, survey results) after
// checking their reader's scope themselves.
func (s *Service) TargetsOf(ctx context.Context, inst int64) (Targets, error) {
	return s.targets(ctx, s.db.R(), inst)
}

// Below reports whether a whole percent (-1: no data) falls short of a
// target in basis points. No data is never below target.
func Below(pct, target int) bool { return pct >= 0 && pct*100 < target }

// TargetReader gives an institution's targets: the kpi service, as the
// complaint reports and survey results see it. Reports mark each figure
// below target, so no threshold lives in their code.
type TargetReader interface {
	TargetsOf(ctx context.Context, inst int64) (Targets, error)
}

// TargetsFrom reads inst's targets through r, or the defaults when no
// reader is wired (a room built alone in a test).
func TargetsFrom(ctx context.Context, r TargetReader, inst int64) (Targets, error) {
	if r == nil {
		return DefaultTargets(), nil
	}
	t, err := r.TargetsOf(ctx, inst)
	if err != nil {
		return t, fmt.Errorf("kpi: targets of institution %d: %w", inst, err)
	}
	return t, nil
}
