package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/intake"
	"suifang/internal/org"
)

// stepRoles are the roles a plan step can go to, in display order.
var stepRoles = []access.Role{access.Nurse, access.Doctor, access.Agent, access.ThirdParty, access.DeptHead}

// outcomeList is every discharge outcome a rule can match.
var outcomeList = []intake.Outcome{intake.Cured, intake.Improved, intake.NotCured, intake.Died, intake.Other}

// blankSteps is how many empty step rows the form offers for adding.
const blankSteps = 3

// maxStepRows bounds the rows read from a (possibly tampered) form.
const maxStepRows = 40

type ruleRow struct {
	*followup.Rule
	Depts    string
	ICDs     string
	Outcomes []string
	Surgery  string // "", yes, no
	Ages     string
	Any      bool // matches every discharge
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	list, err := s.Followup.Rules(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	rows := make([]ruleRow, 0, len(list))
	for _, rl := range list {
		m := rl.Match
		row := ruleRow{Rule: rl, Depts: strings.Join(m.Departments, ", "), ICDs: strings.Join(m.ICDPrefixes, ", ")}
		for _, o := range m.Outcomes {
			row.Outcomes = append(row.Outcomes, string(o))
		}
		if m.Surgery != nil {
			row.Surgery = map[bool]string{true: "yes", false: "no"}[*m.Surgery]
		}
		if m.MinAge != nil || m.MaxAge != nil {
			row.Ages = strings.TrimSpace(itoaPtr(m.MinAge) + " – " + itoaPtr(m.MaxAge))
		}
		row.Any = rl.IsDefault || len(m.Departments) == 0 && len(m.ICDPrefixes) == 0 && m.Surgery == nil &&
			m.MinAge == nil && m.MaxAge == nil && len(m.Outcomes) == 0
		rows = append(rows, row)
	}
	return s.render(w, r, q, http.StatusOK, "rules", "rules", rulesView{Inst: inst, Insts: insts, List: rows})
}

// rulesView lists an institution's plan rules.
type rulesView struct {
	Inst  *org.Institution
	Insts []*org.Institution
	List  []ruleRow
}

// stepRow is one step of the rule form, as text so bad input is kept.
type stepRow struct {
	Idx          int
	Key          string
	Level        string
	Role         string
	Channel      string
	Start        string
	Due          string
	Purpose      string
	WorkingDays  bool
	Satisfaction bool
	FirstContact bool
	ForDeceased  bool
	Invalid      bool
}

type outcomeCheck struct {
	Value   string
	Checked bool
}

// ruleForm is the rule editor's data.
type ruleForm struct {
	ID        int64
	Inst      *org.Institution
	IsDefault bool
	Version   int
	Name      string
	Priority  string
	Active    bool
	Depts     string
	ICDs      string
	Surgery   string // any, yes, no
	MinAge    string
	MaxAge    string
	Outcomes  []outcomeCheck
	Steps     []stepRow
	Rows      int
	Roles     []access.Role
	Channels  []string
	Levels    []int
}

func (f *ruleForm) finish() {
	for len(f.Steps) > 0 && f.Steps[len(f.Steps)-1].blank() {
		f.Steps = f.Steps[:len(f.Steps)-1]
	}
	for range blankSteps {
		f.Steps = append(f.Steps, stepRow{Level: "1", Role: string(access.Nurse), Channel: "phone"})
	}
	for i := range f.Steps {
		f.Steps[i].Idx = i
	}
	f.Rows = len(f.Steps)
	f.Roles, f.Channels, f.Levels = stepRoles, followup.Channels(), []int{1, 2, 3, 0}
}

func (st stepRow) blank() bool {
	return strings.TrimSpace(st.Key) == "" && strings.TrimSpace(st.Purpose) == ""
}

func itoaPtr(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func formOf(rl *followup.Rule, inst *org.Institution) *ruleForm {
	m := rl.Match
	f := &ruleForm{ID: rl.ID, Inst: inst, IsDefault: rl.IsDefault, Version: rl.Version, Name: rl.Name,
		Priority: strconv.Itoa(rl.Priority), Active: rl.Active, Depts: strings.Join(m.Departments, ", "),
		ICDs: strings.Join(m.ICDPrefixes, ", "), Surgery: "any", MinAge: itoaPtr(m.MinAge), MaxAge: itoaPtr(m.MaxAge)}
	if m.Surgery != nil {
		f.Surgery = map[bool]string{true: "yes", false: "no"}[*m.Surgery]
	}
	for _, o := range outcomeList {
		f.Outcomes = append(f.Outcomes, outcomeCheck{Value: string(o), Checked: slices.Contains(m.Outcomes, o)})
	}
	for _, st := range rl.Steps {
		f.Steps = append(f.Steps, stepRow{Key: st.Key, Level: strconv.Itoa(st.Level), Role: string(st.Role), Channel: st.Channel,
			Start: strconv.Itoa(st.Start), Due: strconv.Itoa(st.Due), Purpose: st.Purpose, WorkingDays: st.WorkingDays,
			Satisfaction: st.Satisfaction, FirstContact: st.FirstContact, ForDeceased: st.ForDeceased})
	}
	f.finish()
	return f
}

// splitList reads "0301, 0402；W05" style lists (ASCII or Chinese
// separators, spaces).
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
	}) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// readRule reads the rule form into the form (for re-display) and a rule.
// Numbers that do not parse are form errors; everything else is the
// service's to judge.
func readRule(r *http.Request, f *ruleForm) (followup.Rule, error) {
	if err := r.ParseForm(); err != nil {
		return followup.Rule{}, errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	v := r.PostFormValue
	f.Name, f.Priority, f.Active = v("name"), strings.TrimSpace(v("priority")), v("active") == "1"
	f.Depts, f.ICDs, f.Surgery = v("departments"), v("icd_prefixes"), v("surgery")
	f.MinAge, f.MaxAge = strings.TrimSpace(v("min_age")), strings.TrimSpace(v("max_age"))
	f.Outcomes = nil
	for _, o := range outcomeList {
		f.Outcomes = append(f.Outcomes, outcomeCheck{Value: string(o), Checked: slices.Contains(r.PostForm["outcomes"], string(o))})
	}
	n, _ := strconv.Atoi(v("rows"))
	n = min(max(n, 0), maxStepRows)
	f.Steps = nil
	for i := range n {
		p := fmt.Sprintf("s%d_", i)
		f.Steps = append(f.Steps, stepRow{Key: strings.TrimSpace(v(p + "key")), Level: v(p + "level"), Role: v(p + "role"),
			Channel: v(p + "channel"), Start: strings.TrimSpace(v(p + "start")), Due: strings.TrimSpace(v(p + "due")),
			Purpose: strings.TrimSpace(v(p + "purpose")), WorkingDays: v(p+"working_days") == "1",
			Satisfaction: v(p+"satisfaction") == "1", FirstContact: v(p+"first_contact") == "1", ForDeceased: v(p+"for_deceased") == "1"})
	}

	rl := followup.Rule{ID: f.ID, InstitutionID: f.Inst.ID, Name: f.Name, Active: f.Active}
	var bad error
	num := func(field, s string, def int) int {
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil && bad == nil {
			bad = errs.Field(field, "bad_number", "enter a whole number")
		}
		return n
	}
	rl.Priority = num("priority", f.Priority, 100)
	if f.MinAge != "" {
		a := num("min_age", f.MinAge, 0)
		rl.Match.MinAge = &a
	}
	if f.MaxAge != "" {
		a := num("max_age", f.MaxAge, 0)
		rl.Match.MaxAge = &a
	}
	rl.Match.Departments, rl.Match.ICDPrefixes = splitList(f.Depts), splitList(f.ICDs)
	switch f.Surgery {
	case "yes", "no":
		b := f.Surgery == "yes"
		rl.Match.Surgery = &b
	default:
		f.Surgery = "any"
	}
	for _, o := range f.Outcomes {
		if o.Checked {
			rl.Match.Outcomes = append(rl.Match.Outcomes, intake.Outcome(o.Value))
		}
	}
	for i := range f.Steps {
		st := &f.Steps[i]
		if st.blank() {
			continue
		}
		step := followup.Step{Key: st.Key, Role: access.Role(st.Role), Channel: st.Channel, Purpose: st.Purpose,
			WorkingDays: st.WorkingDays, Satisfaction: st.Satisfaction, FirstContact: st.FirstContact, ForDeceased: st.ForDeceased}
		before := bad
		step.Level = num("steps", st.Level, 0)
		step.Start = num("steps", st.Start, 0)
		step.Due = num("steps", st.Due, 0)
		if bad != nil && before == nil {
			st.Invalid = true
		}
		rl.Steps = append(rl.Steps, step)
	}
	return rl, bad
}

// stepRE finds the step a service message names: "step L2: …" or "step 3: …".
var stepRE = regexp.MustCompile(`^step ([^:]+):`)

// markStep flags the step row a service error is about.
func (f *ruleForm) markStep(err error) {
	e, ok := errs.As(err)
	if !ok || e.Fields["steps"] == "" {
		return
	}
	m := stepRE.FindStringSubmatch(e.Msg)
	if m == nil {
		return
	}
	n := 0
	for i := range f.Steps {
		st := &f.Steps[i]
		if st.blank() {
			continue
		}
		n++
		if st.Key == m[1] || strconv.Itoa(n) == m[1] {
			st.Invalid = true
			return
		}
	}
}

// ruleByID finds a rule of an institution p touches; inst narrows the search.
func (s *Server) ruleByID(r *http.Request, q *req, id int64) (*followup.Rule, *org.Institution, error) {
	ctx := r.Context()
	list, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return nil, nil, err
	}
	want := formID(r, "inst")
	for _, inst := range list {
		if want != 0 && inst.ID != want || inst.Kind == org.KindGroup {
			continue
		}
		rules, err := s.Followup.Rules(ctx, q.P, inst.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, rl := range rules {
			if rl.ID == id {
				return rl, inst, nil
			}
		}
	}
	return nil, nil, errs.New(errs.NotFound, "rule_not_found", "no such rule")
}

func (s *Server) ruleNew(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	inst, _, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	f := formOf(&followup.Rule{Priority: 100, Active: true}, inst)
	return s.render(w, r, q, http.StatusOK, "rule_form", "rules", f)
}

func (s *Server) ruleEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rl, inst, err := s.ruleByID(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "rule_form", "rules", formOf(rl, inst))
}

func (s *Server) ruleCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	inst, _, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	return s.ruleSave(w, r, q, &ruleForm{Inst: inst})
}

func (s *Server) ruleUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rl, inst, err := s.ruleByID(r, q, id)
	if err != nil {
		return err
	}
	return s.ruleSave(w, r, q, &ruleForm{ID: rl.ID, Inst: inst, IsDefault: rl.IsDefault, Version: rl.Version})
}

func (s *Server) ruleSave(w http.ResponseWriter, r *http.Request, q *req, f *ruleForm) error {
	rl, err := readRule(r, f)
	if err == nil {
		if f.IsDefault {
			rl.Active = true // the default rule is always on; the form has no switch for it
		}
		_, err = s.Followup.SaveRule(r.Context(), q.P, rl)
	}
	if err != nil {
		f.markStep(err)
		f.finish()
		return s.renderForm(w, r, q, "rule_form", "rules", f, err)
	}
	return s.redirect(w, r, "/admin/rules?inst="+strconv.FormatInt(f.Inst.ID, 10), "rule_saved")
}

// ruleReapply re-plans the open tasks an older version of the rule made.
func (s *Server) ruleReapply(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rl, inst, err := s.ruleByID(r, q, id)
	if err != nil {
		return err
	}
	cal, err := s.Calendar.Calendar(r.Context(), inst.ID)
	if err != nil {
		return err
	}
	n, err := s.Followup.ReapplyRule(r.Context(), q.P, rl.ID, cal)
	if err != nil {
		return err
	}
	return s.redirectFlash(w, r, "/admin/rules?inst="+strconv.FormatInt(inst.ID, 10),
		s.cat.T(q.Lang, "rules.reapplied", rl.Name, n))
}
