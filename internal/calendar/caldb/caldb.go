// Package caldb keeps each institution's working-day calendar in the
// database: the statutory holidays and adjusted working days (调休) it was
// seeded with, the edits its administrators made, and the years it imported
// from a State Council notice. The date arithmetic itself is package calendar.
package caldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
)

// Service is the door to stored calendars.
type Service struct {
	db      *store.DB
	audit   *audit.Service
	org     *org.Service
	now     func() time.Time
	changed []ChangeHook
}

// ChangeHook runs inside the transaction that changed an institution's
// calendar or service hours, with the calendar policy as that transaction
// sees it, so a room that stores deadlines computed from it (complaints'
// next_due) recomputes them in the same commit. It keeps this package
// free of the rooms that depend on it.
type ChangeHook func(ctx context.Context, tx *sql.Tx, inst int64, pol calendar.Policy) error

// OnChange adds a change hook; call it while wiring, before serving.
func (s *Service) OnChange(h ChangeHook) { s.changed = append(s.changed, h) }

// Changed runs the change hooks for inst inside tx: the calendar's own
// edits call it, and core wires the institution's service-hours change to
// it.
func (s *Service) Changed(ctx context.Context, tx *sql.Tx, inst int64) error {
	if len(s.changed) == 0 {
		return nil
	}
	pol, err := s.policyIn(ctx, tx, inst)
	if err != nil {
		return err
	}
	for _, h := range s.changed {
		if err := h(ctx, tx, inst, pol); err != nil {
			return err
		}
	}
	return nil
}

// policyIn is Policy as transaction q sees it: a reader connection would
// not see the edit being made.
func (s *Service) policyIn(ctx context.Context, q store.Querier, inst int64) (calendar.Policy, error) {
	i, err := s.org.LookupIn(ctx, q, inst)
	if err != nil {
		return calendar.Policy{}, err
	}
	ys, err := s.years(ctx, q, inst)
	if err != nil {
		return calendar.Policy{}, err
	}
	h, err := calendar.ParseServiceHours(i.ServiceHours)
	if err != nil {
		return calendar.Policy{}, fmt.Errorf("caldb: institution %d service hours: %w", inst, err)
	}
	return calendar.Policy{Cal: calendar.New(ys...), Hours: h, Loc: i.Location()}, nil
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB    *store.DB        // the database
	Audit *audit.Service   // the audit log, written in the callers' transactions
	Org   *org.Service     // institutions and departments
	Now   func() time.Time // the clock (time.Now in production)
}

// New returns the calendar service.
func New(d Deps) *Service {
	db, au, o, now := d.DB, d.Audit, d.Org, d.Now
	return &Service{db: db, audit: au, org: o, now: now}
}

// SeedInstitution copies the built-in statutory calendar into a new
// institution; it is an org creation hook, so it runs in that transaction.
func (s *Service) SeedInstitution(ctx context.Context, tx *sql.Tx, inst int64) error {
	for _, y := range calendar.Seed() {
		if err := s.writeYear(ctx, tx, inst, y); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) writeYear(ctx context.Context, tx *sql.Tx, inst int64, y calendar.Year) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_days WHERE institution_id = $1 AND day >= $2 AND day <= $3`,
		inst, fmt.Sprintf("%04d-01-01", y.Year), fmt.Sprintf("%04d-12-31", y.Year)); err != nil {
		return fmt.Errorf("caldb: clear year %d: %w", y.Year, err)
	}
	for _, e := range y.Days {
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_days (institution_id, day, off_day, name) VALUES ($1,$2,$3,$4)`,
			inst, e.Date.String(), e.OffDay, e.Name); err != nil {
			return fmt.Errorf("caldb: write %s: %w", e.Date, err)
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (institution_id, year, papers, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (institution_id, year) DO UPDATE SET papers = excluded.papers, updated_at = excluded.updated_at`,
		inst, y.Year, strings.Join(y.Papers, "\n"), store.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("caldb: write year %d: %w", y.Year, err)
	}
	return nil
}

// years loads every stored year of inst.
func (s *Service) years(ctx context.Context, q store.Querier, inst int64) ([]calendar.Year, error) {
	rows, err := q.QueryContext(ctx, `SELECT year, papers FROM calendar_years WHERE institution_id = $1 ORDER BY year`, inst)
	if err != nil {
		return nil, fmt.Errorf("caldb: read years: %w", err)
	}
	var ys []calendar.Year
	idx := map[int]int{}
	for rows.Next() {
		var y calendar.Year
		var papers string
		if err := rows.Scan(&y.Year, &papers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("caldb: scan year: %w", err)
		}
		if papers != "" {
			y.Papers = strings.Split(papers, "\n")
		}
		idx[y.Year] = len(ys)
		ys = append(ys, y)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT day, off_day, name FROM calendar_days WHERE institution_id = $1 ORDER BY day`, inst)
	if err != nil {
		return nil, fmt.Errorf("caldb: read days: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, name string
		var off bool
		if err := rows.Scan(&day, &off, &name); err != nil {
			return nil, fmt.Errorf("caldb: scan day: %w", err)
		}
		d, err := calendar.ParseDate(day)
		if err != nil {
			return nil, fmt.Errorf("caldb: stored day %q: %w", day, err)
		}
		i, ok := idx[d.Year]
		if !ok {
			// An edit in a year without imported data: the year now has data.
			idx[d.Year] = len(ys)
			i = len(ys)
			ys = append(ys, calendar.Year{Year: d.Year})
		}
		ys[i].Days = append(ys[i].Days, calendar.Exception{Date: d, Name: name, OffDay: off})
	}
	return ys, rows.Err()
}

// Calendar returns inst's calendar for deadline arithmetic. It checks no
// scope: services call it after checking theirs.
func (s *Service) Calendar(ctx context.Context, inst int64) (*calendar.Calendar, error) {
	ys, err := s.years(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	return calendar.New(ys...), nil
}

// Policy returns inst's calendar with its service hours and time zone.
func (s *Service) Policy(ctx context.Context, inst int64) (calendar.Policy, error) {
	i, err := s.org.Lookup(ctx, inst)
	if err != nil {
		return calendar.Policy{}, err
	}
	cal, err := s.Calendar(ctx, inst)
	if err != nil {
		return calendar.Policy{}, err
	}
	h, err := calendar.ParseServiceHours(i.ServiceHours)
	if err != nil {
		return calendar.Policy{}, fmt.Errorf("caldb: institution %d service hours: %w", inst, err)
	}
	return calendar.Policy{Cal: cal, Hours: h, Loc: i.Location()}, nil
}

// YearView is one year of an institution's calendar as the admin page shows it.
type YearView struct {
	Year    int
	HasData bool
	Papers  []string
	Days    []calendar.Exception
	// Years lists every year with data, for navigation.
	Years []int
}

// View returns one year of inst's calendar; anyone who touches inst may look.
func (s *Service) View(ctx context.Context, p *access.Principal, inst int64, year int) (*YearView, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	if _, err := s.org.Lookup(ctx, inst); err != nil {
		return nil, err
	}
	ys, err := s.years(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	v := &YearView{Year: year}
	for _, y := range ys {
		v.Years = append(v.Years, y.Year)
		if y.Year == year {
			v.HasData, v.Papers, v.Days = true, y.Papers, y.Days
		}
	}
	return v, nil
}

// MissingYears reports which of the given years have no data for inst (the
// admin page warns, since those years fall back to plain Mon–Fri).
func (s *Service) MissingYears(ctx context.Context, inst int64, years ...int) ([]int, error) {
	cal, err := s.Calendar(ctx, inst)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, y := range years {
		if !cal.HasYear(y) {
			out = append(out, y)
		}
	}
	return out, nil
}

// SetDay adds or changes one exception day of inst (admin only).
func (s *Service) SetDay(ctx context.Context, p *access.Principal, inst int64, e calendar.Exception) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	if _, err := s.org.Lookup(ctx, inst); err != nil {
		return err
	}
	e.Name = strings.TrimSpace(e.Name)
	if !e.Date.Valid() || e.Date.Year < calendar.MinYear || e.Date.Year > calendar.MaxYear {
		return errs.Field("date", "bad_date", "enter a valid date such as 2026-10-01")
	}
	if err := (calendar.Year{Year: e.Date.Year, Days: []calendar.Exception{e}}).Validate(); err != nil {
		return errs.Field("name", "bad_name", "give the day a name (at most 64 characters), e.g. 国庆节")
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO calendar_days (institution_id, day, off_day, name) VALUES ($1,$2,$3,$4)
			ON CONFLICT (institution_id, day) DO UPDATE SET off_day = excluded.off_day, name = excluded.name`,
			inst, e.Date.String(), e.OffDay, e.Name)
		if err != nil {
			return fmt.Errorf("caldb: set day: %w", err)
		}
		if err := s.ensureYear(ctx, tx, inst, e.Date.Year); err != nil {
			return err
		}
		if err := s.Changed(ctx, tx, inst); err != nil {
			return err
		}
		ev := audit.Event(p, "calendar.set_day", "calendar_day", e.Date.String(), inst)
		ev.Detail = fmt.Sprintf("off_day=%t name=%s", e.OffDay, e.Name)
		return s.audit.Append(ctx, tx, ev)
	})
}

func (s *Service) ensureYear(ctx context.Context, tx *sql.Tx, inst int64, year int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (institution_id, year, papers, updated_at) VALUES ($1,$2,'',$3)
		ON CONFLICT (institution_id, year) DO UPDATE SET updated_at = excluded.updated_at`, inst, year, store.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("caldb: touch year: %w", err)
	}
	return nil
}

// DeleteDay removes one exception, so the day follows Mon–Fri again.
func (s *Service) DeleteDay(ctx context.Context, p *access.Principal, inst int64, d calendar.Date) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM calendar_days WHERE institution_id = $1 AND day = $2`, inst, d.String())
		if err != nil {
			return fmt.Errorf("caldb: delete day: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "day_not_found", "this date has no exception")
		}
		if err := s.Changed(ctx, tx, inst); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "calendar.delete_day", "calendar_day", d.String(), inst))
	})
}

// ImportYear replaces one whole year of inst with y (a year's State Council
// notice in the holiday-cn JSON shape). inst 0 imports into every institution.
func (s *Service) ImportYear(ctx context.Context, p *access.Principal, inst int64, y calendar.Year) (int, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	if err := y.Validate(); err != nil {
		return 0, errs.Field("file", "bad_calendar", err.Error())
	}
	var targets []int64
	if inst != 0 {
		if _, err := s.org.Lookup(ctx, inst); err != nil {
			return 0, err
		}
		targets = []int64{inst}
	} else {
		list, err := s.org.Institutions(ctx, p)
		if err != nil {
			return 0, err
		}
		for _, i := range list {
			targets = append(targets, i.ID)
		}
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, id := range targets {
			if err := s.writeYear(ctx, tx, id, y); err != nil {
				return err
			}
			if err := s.Changed(ctx, tx, id); err != nil {
				return err
			}
			ev := audit.Event(p, "calendar.import", "calendar_year", fmt.Sprint(y.Year), id)
			ev.Detail = fmt.Sprintf("days=%d papers=%s", len(y.Days), strings.Join(y.Papers, " "))
			if err := s.audit.Append(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return len(targets), err
}

// AddWorkdays answers "n working days after from" for inst (the API and the
// CLI use it); counting starts the day after from.
func (s *Service) AddWorkdays(ctx context.Context, p *access.Principal, inst int64, from string, n int) (string, error) {
	if !p.TouchesInstitution(inst) {
		return "", errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	d, err := calendar.ParseDate(from)
	if err != nil {
		return "", errs.Field("from", "bad_date", "from must be a date like 2026-09-30")
	}
	if n < -3650 || n > 3650 {
		return "", errs.Field("n", "bad_n", "n must be between -3650 and 3650")
	}
	cal, err := s.Calendar(ctx, inst)
	if err != nil {
		return "", err
	}
	return cal.AddWorkingDays(d, n).String(), nil
}

// IsWorkday answers whether date is a working day at inst.
func (s *Service) IsWorkday(ctx context.Context, p *access.Principal, inst int64, date string) (bool, error) {
	if !p.TouchesInstitution(inst) {
		return false, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	d, err := calendar.ParseDate(date)
	if err != nil {
		return false, errs.Field("date", "bad_date", "date must look like 2026-10-10")
	}
	cal, err := s.Calendar(ctx, inst)
	if err != nil {
		return false, err
	}
	return cal.IsWorkingDay(d), nil
}
