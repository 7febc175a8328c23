// Package kpi is the one place follow-up KPIs are defined (issue 12,
// docs/kpis.md): the monthly cohort of discharges, who is due a follow-up,
// coverage, first-contact timeliness, level completion, satisfaction and
// NPS, per discharge department, per ward and in total, with each
// institution's targets. Dashboards, ledgers, sign-off, appraisal and
// roll-ups read these figures; none of them defines its own.
package kpi

import (
	"context"
	"log/slog"
	"time"

	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/store"
)

// Calendars gives an institution's working-day calendar and time zone;
// caldb.Service satisfies it.
type Calendars interface {
	Policy(ctx context.Context, inst int64) (calendar.Policy, error)
}

// Deps is what the KPI service is built from.
type Deps struct {
	DB        *store.DB
	Audit     *audit.Service
	Calendars Calendars
	Orgs      Institutions
	Phones    Phones           // masks the ledger's phone numbers
	Now       func() time.Time // the clock (time.Now in production)
	Log       *slog.Logger     // nil discards
}

// Service computes KPIs and keeps each institution's targets.
type Service struct {
	db     *store.DB
	audit  *audit.Service
	cals   Calendars
	insts  Institutions
	phones Phones
	now    func() time.Time
	log    *slog.Logger
}

// New builds the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{db: d.DB, audit: d.Audit, cals: d.Calendars, insts: d.Orgs, phones: d.Phones, now: d.Now, log: d.Log}
}

// Row is one department's, ward's or institution's figures for a month.
// Counts add up across rows; rates are derived (nil when the denominator
// is 0) by finish.
type Row struct {
	ID   int64 // department, ward or institution id; 0 for a total
	Code string
	Name string

	Discharges          int // the cohort
	Deceased            int // cohort stays excluded as deceased
	DoNotContact        int // cohort stays excluded as do-not-contact before discharge
	Due                 int
	Covered             int
	Unreachable         int
	Refused             int
	FirstContactOnTime  int
	Level1Planned       int
	Level1Done          int
	Level2Planned       int
	Level2Done          int
	Level3Planned       int
	Level3Done          int
	SatisfactionAnswers int
	Satisfied           int
	BasicallySatisfied  int
	Dissatisfied        int
	NPSAnswers          int
	Promoters           int
	Detractors          int

	Coverage           *float64
	FirstContactRate   *float64
	Level1Rate         *float64
	Level2Rate         *float64
	Level3Rate         *float64
	SatisfactionRate   *float64
	NPS                *float64 // −100…100
	RecommendationRate *float64 // share of 0–10 answers that are 9 or 10

	// Below names the KPIs under the institution's target (Target* names).
	Below []string
}

// KPI names, as Row.Below lists them.
const (
	KCoverage     = "coverage"
	KFirstContact = "first_contact"
	KSatisfaction = "satisfaction"
)

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

func (r *Row) add(o *Row) {
	r.Discharges += o.Discharges
	r.Deceased += o.Deceased
	r.DoNotContact += o.DoNotContact
	r.Due += o.Due
	r.Covered += o.Covered
	r.Unreachable += o.Unreachable
	r.Refused += o.Refused
	r.FirstContactOnTime += o.FirstContactOnTime
	r.Level1Planned += o.Level1Planned
	r.Level1Done += o.Level1Done
	r.Level2Planned += o.Level2Planned
	r.Level2Done += o.Level2Done
	r.Level3Planned += o.Level3Planned
	r.Level3Done += o.Level3Done
	r.SatisfactionAnswers += o.SatisfactionAnswers
	r.Satisfied += o.Satisfied
	r.BasicallySatisfied += o.BasicallySatisfied
	r.Dissatisfied += o.Dissatisfied
	r.NPSAnswers += o.NPSAnswers
	r.Promoters += o.Promoters
	r.Detractors += o.Detractors
}

// finish derives the rates and the flags against t.
func (r *Row) finish(t Targets) {
	r.Coverage = ratio(r.Covered, r.Due)
	r.FirstContactRate = ratio(r.FirstContactOnTime, r.Due)
	r.Level1Rate = ratio(r.Level1Done, r.Level1Planned)
	r.Level2Rate = ratio(r.Level2Done, r.Level2Planned)
	r.Level3Rate = ratio(r.Level3Done, r.Level3Planned)
	r.SatisfactionRate = ratio(r.Satisfied+r.BasicallySatisfied, r.SatisfactionAnswers)
	r.RecommendationRate = ratio(r.Promoters, r.NPSAnswers)
	if r.NPSAnswers > 0 {
		n := float64(r.Promoters-r.Detractors) * 100 / float64(r.NPSAnswers)
		r.NPS = &n
	}
	r.Below = nil
	// A rate below target by a basis point or more is flagged: the
	// comparison is on integers, so 0.9 against 9000 is never a float tie.
	below := func(k string, v *float64, bp int) {
		if v != nil && int(*v*10000+1e-9) < bp {
			r.Below = append(r.Below, k)
		}
	}
	below(KCoverage, r.Coverage, t.Coverage)
	below(KFirstContact, r.FirstContactRate, t.FirstContact)
	below(KSatisfaction, r.SatisfactionRate, t.Satisfaction)
}

// Report is one institution's month (or a group's: one row per member in
// Departments, no wards).
type Report struct {
	InstitutionID int64
	Institution   string // code
	Name          string
	Group         bool
	Month         Month
	Targets       Targets
	Departments   []Row
	Wards         []Row
	Total         Row
}
