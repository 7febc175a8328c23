package followup_test

import (
	"testing"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/intake"
	"suifang/internal/patient"
)

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func seedCal() *calendar.Calendar { return calendar.New(calendar.Seed()...) }

func defaultRules() []*followup.Rule {
	var out []*followup.Rule
	for _, r := range followup.DefaultRules() {
		out = append(out, &r)
	}
	return out
}

func ruleNamed(t *testing.T, rules []*followup.Rule, def bool, surgery bool) *followup.Rule {
	t.Helper()
	for _, r := range rules {
		if def && r.IsDefault {
			return r
		}
		if !def && !r.IsDefault && (r.Match.Surgery != nil) == surgery {
			return r
		}
	}
	t.Fatal("rule not found")
	return nil
}

// planByKey indexes a plan by step key.
func planByKey(ps []followup.Planned) map[string]followup.Planned {
	m := map[string]followup.Planned{}
	for _, p := range ps {
		m[p.Step.Key] = p
	}
	return m
}

func TestPlanDefaultRuleNationalDay(t *testing.T) {
	cal := seedCal()
	def := ruleNamed(t, defaultRules(), true, false)
	enc := &patient.Encounter{DischargeDate: day("2026-09-30"), DepartmentID: 10, WardID: 20, Outcome: intake.Improved}
	plan := followup.PlanFor(def, enc, &patient.Patient{}, cal)
	if len(plan) != 4 {
		t.Fatalf("plan has %d steps, want 4: %+v", len(plan), plan)
	}
	m := planByKey(plan)
	want := []struct {
		key, earliest, due string
		dept               int64
		role               access.Role
	}{
		{"L1", "2026-09-30", "2026-09-30", 20, access.Nurse},
		// 3 working days: Oct 1–7 are the National Day holiday, Oct 8 and 9
		// count, Oct 10 (a Saturday) is an adjusted working day (调休).
		{"FIRST", "2026-09-30", "2026-10-10", 20, access.Nurse},
		{"L2", "2026-10-01", "2026-10-14", 10, access.Doctor},
		// 2026-10-30 is a Friday: a working day, so it stays.
		{"L3", "2026-10-07", "2026-10-30", 10, access.Agent},
	}
	for _, w := range want {
		p, ok := m[w.key]
		if !ok {
			t.Errorf("step %s missing", w.key)
			continue
		}
		if p.Earliest.String() != w.earliest || p.Due.String() != w.due {
			t.Errorf("%s: earliest %s due %s, want %s %s", w.key, p.Earliest, p.Due, w.earliest, w.due)
		}
		if p.DepartmentID != w.dept || p.Step.Role != w.role {
			t.Errorf("%s: department %d role %s, want %d %s", w.key, p.DepartmentID, p.Step.Role, w.dept, w.role)
		}
	}
	if !m["FIRST"].Step.FirstContact || !m["L3"].Step.Satisfaction {
		t.Errorf("FIRST must be the first-contact step and L3 the satisfaction step")
	}
	if got := cal.WorkingDaysBetween(day("2026-09-30"), m["FIRST"].Due); got != 3 {
		t.Errorf("FIRST is %d working days after discharge, want 3", got)
	}
}

func TestPlanDeadlinesRollForward(t *testing.T) {
	cal := seedCal()
	def := ruleNamed(t, defaultRules(), true, false)
	// Discharged on Saturday 2026-09-05: L2 (14 days) lands on Saturday
	// 09-19 and rolls to Sunday 09-20, an adjusted working day; L3 (30 days)
	// lands on 10-05, inside the National Day holiday, and rolls to 10-08.
	m := planByKey(followup.PlanFor(def, &patient.Encounter{DischargeDate: day("2026-09-05")}, &patient.Patient{}, cal))
	if got := m["L2"].Due.String(); got != "2026-09-20" {
		t.Errorf("L2 due %s, want 2026-09-20 (调休 working Sunday)", got)
	}
	if got := m["L3"].Due.String(); got != "2026-10-08" {
		t.Errorf("L3 due %s, want 2026-10-08 (after the holiday)", got)
	}
	// The discharge-day step is never rolled: it is due on the day itself.
	if got := m["L1"].Due.String(); got != "2026-09-05" {
		t.Errorf("L1 due %s, want the discharge day", got)
	}
	// Nurse steps fall back to the department when the ward is unknown.
	m = planByKey(followup.PlanFor(def, &patient.Encounter{DischargeDate: day("2026-09-30"), DepartmentID: 7}, &patient.Patient{}, cal))
	if m["L1"].DepartmentID != 7 || m["L2"].DepartmentID != 7 {
		t.Errorf("departments without a ward: L1 %d L2 %d, want 7", m["L1"].DepartmentID, m["L2"].DepartmentID)
	}
}

func TestPlanKeyPatients(t *testing.T) {
	cal := seedCal()
	rules := defaultRules()
	enc := &patient.Encounter{DischargeDate: day("2026-09-30"), Surgery: true,
		Diagnoses: []intake.Diagnosis{{Code: "K35.8", Name: "急性阑尾炎"}}}
	pat := &patient.Patient{BirthDate: day("1958-03-12")}
	r := followup.Choose(rules, followup.FactsOf(enc, pat))
	if r == nil || r.IsDefault || r.Match.Surgery == nil {
		t.Fatalf("surgery patient got rule %+v, want the surgery rule", r)
	}
	m := planByKey(followup.PlanFor(r, enc, pat, cal))
	if len(m) != 6 {
		t.Errorf("key plan has %d steps, want 6", len(m))
	}
	// K7: 10-07 is a holiday → 10-08; K90: 12-29 is a Tuesday.
	if m["K7"].Due.String() != "2026-10-08" || m["K90"].Due.String() != "2026-12-29" {
		t.Errorf("K7 due %s, K90 due %s; want 2026-10-08, 2026-12-29", m["K7"].Due, m["K90"].Due)
	}
	if m["K90"].Earliest.String() != "2026-12-19" {
		t.Errorf("K90 earliest %s, want 2026-12-19", m["K90"].Earliest)
	}

	// Chronic disease by ICD-10 prefix (I10 hypertension), lower case too.
	enc2 := &patient.Encounter{DischargeDate: day("2026-09-30"), Diagnoses: []intake.Diagnosis{{Code: "j18.9"}, {Code: "i10.x01"}}}
	r2 := followup.Choose(rules, followup.FactsOf(enc2, pat))
	if r2 == nil || r2.IsDefault || r2.Match.Surgery != nil {
		t.Fatalf("hypertension patient got rule %+v, want the chronic rule", r2)
	}
	if _, ok := planByKey(followup.PlanFor(r2, enc2, pat, cal))["K90"]; !ok {
		t.Error("chronic plan lacks K90")
	}
	// Surgery AND chronic: the surgery rule has the better priority.
	enc3 := &patient.Encounter{DischargeDate: day("2026-09-30"), Surgery: true, Diagnoses: []intake.Diagnosis{{Code: "I10"}}}
	if r3 := followup.Choose(rules, followup.FactsOf(enc3, pat)); r3 != r {
		t.Errorf("surgery+chronic chose %q, want %q", r3.Name, r.Name)
	}
	// A general patient gets the default rule.
	enc4 := &patient.Encounter{DischargeDate: day("2026-09-30"), Diagnoses: []intake.Diagnosis{{Code: "J18.9"}}}
	if r4 := followup.Choose(rules, followup.FactsOf(enc4, pat)); r4 == nil || !r4.IsDefault {
		t.Errorf("general patient chose %+v, want the default rule", r4)
	}
}

func TestPlanDeceasedAndDoNotContact(t *testing.T) {
	cal := seedCal()
	rules := defaultRules()
	def := ruleNamed(t, rules, true, false)
	// A death gets no call at all by default: no nurse's level-1 call, no
	// first contact, no doctor's level-2 call, no satisfaction call.
	died := &patient.Encounter{DischargeDate: day("2026-09-30"), Outcome: intake.Died}
	if m := planByKey(followup.PlanFor(def, died, &patient.Patient{}, cal)); len(m) != 0 {
		t.Errorf("outcome died: plan %v, want none", keys(m))
	}
	if m := planByKey(followup.PlanFor(def, &patient.Encounter{DischargeDate: day("2026-09-30")}, &patient.Patient{Deceased: true}, cal)); len(m) != 0 {
		t.Errorf("deceased patient: plan %v, want none", keys(m))
	}
	surgery := ruleNamed(t, rules, false, true)
	if m := planByKey(followup.PlanFor(surgery, died, &patient.Patient{}, cal)); len(m) != 0 {
		t.Errorf("key plan for a death: %v, want none", keys(m))
	}
	// A rule may add a bereavement-care step: only a death gets it.
	care := *surgery
	care.Steps = append(append([]followup.Step(nil), surgery.Steps...), followup.Step{Key: "CARE", Level: 0, Role: access.Agent,
		Channel: "phone", Start: 7, Due: 14, ForDeceased: true, Purpose: "家属慰问：致哀，告知如需病历复印等手续的办理方式"})
	if m := planByKey(followup.PlanFor(&care, died, &patient.Patient{}, cal)); len(m) != 1 || m["CARE"].Due.String() != "2026-10-14" {
		t.Errorf("bereavement step for a death: %v", keys(m))
	}
	if m := planByKey(followup.PlanFor(&care, &patient.Encounter{DischargeDate: day("2026-09-30"), Outcome: intake.Improved}, &patient.Patient{}, cal)); len(m) != 6 {
		t.Errorf("living patient: plan %v, want the six key steps without CARE", keys(m))
	} else if _, ok := m["CARE"]; ok {
		t.Error("a living patient got the bereavement step")
	}
	if p := followup.PlanFor(def, &patient.Encounter{DischargeDate: day("2026-09-30")}, &patient.Patient{DoNotContact: true}, cal); len(p) != 0 {
		t.Errorf("do-not-contact patient got %d tasks", len(p))
	}
	if p := followup.PlanFor(def, &patient.Encounter{}, &patient.Patient{}, cal); len(p) != 0 {
		t.Errorf("encounter without discharge date got %d tasks", len(p))
	}
}

func keys(m map[string]followup.Planned) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPlanChoose(t *testing.T) {
	yes := true
	minAge := 65
	rules := []*followup.Rule{
		{ID: 1, Name: "inactive cardiology", Priority: 1, Active: false, Match: followup.Match{Departments: []string{"0301"}}},
		{ID: 2, Name: "cardiology elderly", Priority: 5, Active: true, Match: followup.Match{Departments: []string{"0301"}, MinAge: &minAge}},
		{ID: 3, Name: "surgery", Priority: 10, Active: true, Match: followup.Match{Surgery: &yes}},
		{ID: 4, Name: "died", Priority: 15, Active: true, Match: followup.Match{Outcomes: []intake.Outcome{intake.Died}}},
		{ID: 9, Name: "default", Priority: 1000, Active: true, IsDefault: true},
	}
	cases := []struct {
		f    followup.Facts
		want int64
	}{
		{followup.Facts{DeptCode: "0301", Age: 70}, 2},
		{followup.Facts{WardCode: "0301", Age: 70}, 2},                // ward codes match too
		{followup.Facts{DeptCode: "0301", Age: 40}, 9},                // too young; inactive rule skipped
		{followup.Facts{DeptCode: "0301", Age: -1}, 9},                // unknown age never matches an age bound
		{followup.Facts{DeptCode: "0301", Age: 70, Surgery: true}, 2}, // first by priority
		{followup.Facts{DeptCode: "0401", Surgery: true, Age: 70}, 3},
		{followup.Facts{Outcome: intake.Died, Age: 30}, 4},
		{followup.Facts{Age: 30}, 9},
	}
	for i, c := range cases {
		got := followup.Choose(rules, c.f)
		if got == nil || got.ID != c.want {
			t.Errorf("case %d %+v: chose %+v, want rule %d", i, c.f, got, c.want)
		}
	}
	if got := followup.Choose(rules[:4], followup.Facts{Age: 30}); got != nil {
		t.Errorf("no default rule: chose %q, want nil", got.Name)
	}
	// An inactive default rule is not used.
	off := &followup.Rule{ID: 5, Name: "off default", IsDefault: true}
	if got := followup.Choose([]*followup.Rule{off}, followup.Facts{}); got != nil {
		t.Errorf("inactive default chosen")
	}
}

func TestPlanRuleValidate(t *testing.T) {
	good := func() followup.Rule {
		return followup.Rule{Name: " 测试规则 ", Priority: 50, Active: true, Match: followup.Match{ICDPrefixes: []string{"I21"}},
			Steps: []followup.Step{{Key: " A ", Level: 2, Role: access.Doctor, Channel: "phone", Start: 1, Due: 7, Purpose: "x"}}}
	}
	r := good()
	if err := r.Validate(); err != nil {
		t.Fatalf("good rule: %v", err)
	}
	if r.Name != "测试规则" || r.Steps[0].Key != "A" {
		t.Errorf("Validate did not trim: name %q key %q", r.Name, r.Steps[0].Key)
	}
	for _, rule := range followup.DefaultRules() {
		if err := rule.Validate(); err != nil {
			t.Errorf("default rule %q invalid: %v", rule.Name, err)
		}
	}
	cases := []struct {
		name  string
		edit  func(r *followup.Rule)
		field string
		code  string
	}{
		{"empty name", func(r *followup.Rule) { r.Name = "  " }, "name", "bad_rule_name"},
		{"no steps", func(r *followup.Rule) { r.Steps = nil }, "steps", "no_steps"},
		{"duplicate key", func(r *followup.Rule) { r.Steps = append(r.Steps, r.Steps[0]) }, "steps", "bad_step_key"},
		{"empty key", func(r *followup.Rule) { r.Steps[0].Key = "" }, "steps", "bad_step_key"},
		{"level", func(r *followup.Rule) { r.Steps[0].Level = 4 }, "steps", "bad_step_level"},
		{"role", func(r *followup.Rule) { r.Steps[0].Role = access.Integration }, "steps", "bad_step_role"},
		{"channel", func(r *followup.Rule) { r.Steps[0].Channel = "fax" }, "steps", "bad_step_channel"},
		{"window backwards", func(r *followup.Rule) { r.Steps[0].Start, r.Steps[0].Due = 7, 3 }, "steps", "bad_step_window"},
		{"negative start", func(r *followup.Rule) { r.Steps[0].Start = -1 }, "steps", "bad_step_window"},
		{"too far", func(r *followup.Rule) { r.Steps[0].Due = 4000 }, "steps", "bad_step_window"},
		{"purpose", func(r *followup.Rule) { r.Steps[0].Purpose = " " }, "steps", "bad_step_purpose"},
		{"icd prefix", func(r *followup.Rule) { r.Match.ICDPrefixes = []string{"I21", "TOOLONGPREFIX"} }, "icd_prefixes", "bad_icd_prefix"},
	}
	for _, c := range cases {
		r := good()
		c.edit(&r)
		err := r.Validate()
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || e.Code != c.code || e.Fields[c.field] == "" {
			t.Errorf("%s: got %v, want Invalid %s on field %s", c.name, err, c.code, c.field)
		}
	}
	// Working-day steps may have Due < Start (Due counts working days).
	r = good()
	r.Steps[0].Start, r.Steps[0].Due, r.Steps[0].WorkingDays = 5, 3, true
	if err := r.Validate(); err != nil {
		t.Errorf("working-day step with due < start: %v", err)
	}
}
