// Package followup turns discharges into follow-up plans by rule, serves the
// worklists nurses, doctors and agents work from, logs every contact attempt
// with its retry rule, and keeps the completed follow-up records — numbered,
// append-only and hash-chained per institution.
package followup

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/store"
)

// Channels a follow-up can use (requirements §3).
var channels = []string{"phone", "sms", "wechat", "web", "letter", "home_visit", "onsite"}

// Channels lists the contact channels in display order.
func Channels() []string { return slices.Clone(channels) }

// Match says which discharges a rule applies to. Empty lists match anything.
type Match struct {
	Departments []string         `json:"departments,omitempty"`  // department or ward codes
	ICDPrefixes []string         `json:"icd_prefixes,omitempty"` // e.g. "I21", "E11"
	Surgery     *bool            `json:"surgery,omitempty"`
	MinAge      *int             `json:"min_age,omitempty"`
	MaxAge      *int             `json:"max_age,omitempty"`
	Outcomes    []intake.Outcome `json:"outcomes,omitempty"`
}

// Step is one follow-up a rule plans.
type Step struct {
	Key     string      `json:"key"`   // unique within the plan: "L1", "FIRST", "L2", …
	Level   int         `json:"level"` // 1 nurse, 2 doctor, 3 service centre, 0 other
	Purpose string      `json:"purpose"`
	Role    access.Role `json:"role"` // who does it: nurse, doctor, agent, third_party
	Channel string      `json:"channel"`
	// Start and Due are offsets from the discharge date. Due counts working
	// days when WorkingDays is set (counting starts the day after);
	// otherwise calendar days, with a deadline on a holiday rolled forward.
	Start       int  `json:"start"`
	Due         int  `json:"due"`
	WorkingDays bool `json:"working_days"`
	// Satisfaction steps ask about satisfaction.
	Satisfaction bool `json:"satisfaction,omitempty"`
	// FirstContact steps are met by whichever follow-up of the stay is
	// completed first (the "first contact within 3 working days" rule).
	FirstContact bool `json:"first_contact,omitempty"`
	// ForDeceased steps (a condolence or bereavement-care contact with the
	// family) are planned only when the patient died; every other step is
	// planned only when the patient did not. No default rule has one.
	ForDeceased bool `json:"for_deceased,omitempty"`
}

// Rule is a plan rule of one institution. Rules are tried by priority; the
// first that matches wins; the default rule matches everything.
type Rule struct {
	ID            int64
	InstitutionID int64
	Name          string
	Priority      int
	IsDefault     bool
	Active        bool
	Match         Match
	Steps         []Step
	Version       int
}

// Matches reports whether r applies to a discharge.
func (r *Rule) Matches(f Facts) bool {
	if !r.Active {
		return false
	}
	if r.IsDefault {
		return true
	}
	m := r.Match
	if len(m.Departments) > 0 && !slices.Contains(m.Departments, f.DeptCode) && !slices.Contains(m.Departments, f.WardCode) {
		return false
	}
	if len(m.ICDPrefixes) > 0 {
		hit := false
		for _, d := range f.ICDCodes {
			for _, p := range m.ICDPrefixes {
				if strings.HasPrefix(d, strings.ToUpper(p)) {
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
	}
	if m.Surgery != nil && *m.Surgery != f.Surgery {
		return false
	}
	if m.MinAge != nil && (f.Age < 0 || f.Age < *m.MinAge) {
		return false
	}
	if m.MaxAge != nil && (f.Age < 0 || f.Age > *m.MaxAge) {
		return false
	}
	if len(m.Outcomes) > 0 && !slices.Contains(m.Outcomes, f.Outcome) {
		return false
	}
	return true
}

// Facts are what rules match on.
type Facts struct {
	DeptCode, WardCode string
	ICDCodes           []string // upper-case
	Surgery            bool
	Age                int // -1 unknown
	Outcome            intake.Outcome
}

func ptr[T any](v T) *T { return &v }

// chronicICD are ICD-10 prefixes of the chronic diseases seed 000 names as
// key patients: hypertension, diabetes, heart failure, COPD, CKD, stroke.
var chronicICD = []string{"I10", "I11", "I12", "I13", "I15", "E10", "E11", "E13", "E14", "I50", "J44", "N18", "I63", "I64"}

// baseSteps is the three-level plan of requirements §2.
func baseSteps() []Step {
	return []Step{
		{Key: "L1", Level: 1, Role: access.Nurse, Channel: "phone", Start: 0, Due: 0,
			Purpose: "一级随访（责任护士，出院当日）：核实地址电话与主治医生，告知随访安排，用药指导，健康宣教"},
		{Key: "FIRST", Level: 1, Role: access.Nurse, Channel: "phone", Start: 0, Due: 3, WorkingDays: true, FirstContact: true,
			Purpose: "首次随访（出院后 3 个工作日内完成）"},
		{Key: "L2", Level: 2, Role: access.Doctor, Channel: "phone", Start: 1, Due: 14,
			Purpose: "二级随访（主治医生，2 周内）：康复情况、生活指导、用药、健康宣教、复诊时间、病情变化的处理"},
		{Key: "L3", Level: 3, Role: access.Agent, Channel: "phone", Start: 7, Due: 30, Satisfaction: true,
			Purpose: "三级随访（客服中心，1 个月内）：问候、复诊提醒、满意度调查、征求意见、确认医生已随访并指导"},
	}
}

func keySteps() []Step {
	return append(baseSteps(),
		Step{Key: "K7", Level: 2, Role: access.Doctor, Channel: "phone", Start: 5, Due: 7,
			Purpose: "重点患者 7 天随访：恢复情况、伤口/症状、用药依从性"},
		Step{Key: "K90", Level: 3, Role: access.Agent, Channel: "phone", Start: 80, Due: 90,
			Purpose: "重点患者 90 天随访：长期康复、复诊与慢病管理"},
	)
}

// DefaultRules is the rule set a new institution starts with.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "术后患者（重点）", Priority: 10, Active: true, Match: Match{Surgery: ptr(true)}, Steps: keySteps()},
		{Name: "慢病患者（重点）", Priority: 20, Active: true, Match: Match{ICDPrefixes: chronicICD}, Steps: keySteps()},
		{Name: "一般患者", Priority: 1000, Active: true, IsDefault: true, Steps: baseSteps()},
	}
}

// Validate checks a rule an administrator edited.
func (r *Rule) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 64 {
		return errs.Field("name", "bad_rule_name", "give the rule a name (at most 64 characters)")
	}
	if len(r.Steps) == 0 {
		return errs.Field("steps", "no_steps", "a rule needs at least one follow-up step")
	}
	seen := map[string]bool{}
	for i := range r.Steps {
		st := &r.Steps[i]
		st.Key = strings.TrimSpace(st.Key)
		if st.Key == "" || len(st.Key) > 16 || seen[st.Key] {
			return errs.Field("steps", "bad_step_key", fmt.Sprintf("step %d: key must be unique, 1–16 characters", i+1))
		}
		seen[st.Key] = true
		if st.Level < 0 || st.Level > 3 {
			return errs.Field("steps", "bad_step_level", fmt.Sprintf("step %s: level must be 0–3", st.Key))
		}
		if !slices.Contains([]access.Role{access.Nurse, access.Doctor, access.Agent, access.ThirdParty, access.DeptHead}, st.Role) {
			return errs.Field("steps", "bad_step_role", fmt.Sprintf("step %s: unknown role", st.Key))
		}
		if !slices.Contains(channels, st.Channel) {
			return errs.Field("steps", "bad_step_channel", fmt.Sprintf("step %s: unknown channel", st.Key))
		}
		if st.Start < 0 || st.Due < st.Start && !st.WorkingDays || st.Due > 3650 {
			return errs.Field("steps", "bad_step_window", fmt.Sprintf("step %s: the window must start on or after discharge and end after it starts", st.Key))
		}
		if strings.TrimSpace(st.Purpose) == "" {
			return errs.Field("steps", "bad_step_purpose", fmt.Sprintf("step %s: describe its purpose", st.Key))
		}
	}
	for _, p := range r.Match.ICDPrefixes {
		if strings.TrimSpace(p) == "" || len(p) > 8 {
			return errs.Field("icd_prefixes", "bad_icd_prefix", "ICD-10 prefixes look like I21 or E11.9")
		}
	}
	return nil
}

const ruleCols = `id, institution_id, name, priority, is_default, active, match_json, steps_json, version`

func scanRule(sc interface{ Scan(...any) error }) (*Rule, error) {
	r := &Rule{}
	var m, st string
	if err := sc.Scan(&r.ID, &r.InstitutionID, &r.Name, &r.Priority, &r.IsDefault, &r.Active, &m, &st, &r.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(m), &r.Match); err != nil {
		return nil, fmt.Errorf("followup: rule %d match: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(st), &r.Steps); err != nil {
		return nil, fmt.Errorf("followup: rule %d steps: %w", r.ID, err)
	}
	return r, nil
}

func (s *Service) rules(ctx context.Context, q store.Querier, inst int64) ([]*Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleCols+` FROM plan_rules WHERE institution_id = $1 ORDER BY priority, id`, inst)
	if err != nil {
		return nil, fmt.Errorf("followup: read rules: %w", err)
	}
	defer rows.Close()
	var out []*Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rules lists an institution's plan rules in the order they are tried.
func (s *Service) Rules(ctx context.Context, p *access.Principal, inst int64) ([]*Rule, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	return s.rules(ctx, s.db.R(), inst)
}

// SeedInstitution gives a new institution the default rules; it is an org
// creation hook and runs in that transaction.
func (s *Service) SeedInstitution(ctx context.Context, tx *sql.Tx, inst int64) error {
	for _, r := range DefaultRules() {
		r.InstitutionID = inst
		if err := insertRule(ctx, tx, &r, store.Micros(s.now())); err != nil {
			return err
		}
	}
	return nil
}

func insertRule(ctx context.Context, tx *sql.Tx, r *Rule, now int64) error {
	m, _ := json.Marshal(r.Match)
	st, _ := json.Marshal(r.Steps)
	if r.Version == 0 {
		r.Version = 1
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO plan_rules (institution_id, name, priority, is_default, active, match_json, steps_json, version, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
		r.InstitutionID, r.Name, r.Priority, r.IsDefault, r.Active, string(m), string(st), r.Version, now).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("followup: insert rule: %w", err)
	}
	return nil
}

// SaveRule creates (ID 0) or changes a rule (admin only). A change bumps the
// version; tasks already planned keep the version they were made with until
// someone re-applies the rule on purpose (ReapplyRule).
func (s *Service) SaveRule(ctx context.Context, p *access.Principal, r Rule) (int64, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	if err := r.Validate(); err != nil {
		return 0, err
	}
	now := store.Micros(s.now())
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		action := "rule.create"
		if r.ID == 0 {
			r.Active = true
			if err := insertRule(ctx, tx, &r, now); err != nil {
				return err
			}
		} else {
			old, err := scanRule(tx.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM plan_rules WHERE id = $1`, r.ID))
			if err != nil {
				return errs.New(errs.NotFound, "rule_not_found", "no such rule")
			}
			if old.InstitutionID != r.InstitutionID {
				return errs.New(errs.NotFound, "rule_not_found", "no such rule")
			}
			if old.IsDefault && !r.Active {
				return errs.Field("active", "default_rule_active", "the default rule cannot be switched off")
			}
			r.IsDefault = old.IsDefault
			m, _ := json.Marshal(r.Match)
			st, _ := json.Marshal(r.Steps)
			if _, err := tx.ExecContext(ctx, `UPDATE plan_rules SET name=$1, priority=$2, active=$3, match_json=$4, steps_json=$5,
				version = version + 1, updated_at=$6 WHERE id=$7`, r.Name, r.Priority, r.Active, string(m), string(st), now, r.ID); err != nil {
				return fmt.Errorf("followup: update rule: %w", err)
			}
			action = "rule.update"
		}
		e := audit.Event(p, action, "plan_rule", fmt.Sprint(r.ID), r.InstitutionID)
		e.Detail = "name=" + r.Name
		return s.audit.Append(ctx, tx, e)
	})
	return r.ID, err
}
