package web

import (
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/errs"
	"suifang/internal/kpi"
	"suifang/internal/org"
)

// The KPI targets page (/admin/kpi-targets): an institution's targets, as
// percentages. Administrators and quality save them; the kpi room decides
// who may and what is valid, this page only turns text into basis points.

// kpiTargetField is one target on the form, as typed so bad input is kept.
type kpiTargetField struct {
	Name  string // form field, also the kpi room's error field
	Value string
}

type kpiTargetsData struct {
	Inst    *org.Institution
	Insts   []*org.Institution
	Fields  []kpiTargetField
	CanEdit bool
	Action  string
}

// kpiTargetNames in form order, each with its place in kpi.Targets.
var kpiTargetNames = []string{"coverage", "first_contact", "satisfaction", "complaint_on_time", "complaint_closure",
	"appointment_rate", "recommendation_growth"}

func kpiTargetSlots(t *kpi.Targets) []*int {
	return []*int{&t.Coverage, &t.FirstContact, &t.Satisfaction, &t.ComplaintOnTime, &t.ComplaintClosed,
		&t.Appointment, &t.RecommendGrowth}
}

// formatBP prints basis points as a percentage without trailing zeros.
func formatBP(bp int) string {
	return strconv.FormatFloat(float64(bp)/100, 'f', -1, 64)
}

// parsePercent reads "96", "96.5", "96.25 %" or "96％" as basis points
// (at most two decimals; no sign, no exponent).
func parsePercent(s string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "%"), "％"))
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 6 || len(frac) > 2 || dot && frac == "" {
		return 0, false
	}
	bp := 0
	for _, c := range whole + frac + strings.Repeat("0", 2-len(frac)) {
		if c < '0' || c > '9' {
			return 0, false
		}
		bp = bp*10 + int(c-'0')
	}
	return bp, true
}

func (s *Server) kpiTargetsData(r *http.Request, q *req) (*kpiTargetsData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	return &kpiTargetsData{Inst: inst, Insts: insts, CanEdit: kpi.MaySetTargets(q.P, inst.ID),
		Action: cpAdminURL("/admin/kpi-targets", inst, insts)}, nil
}

func (s *Server) kpiTargetsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.kpiTargetsData(r, q)
	if err != nil {
		return err
	}
	t, err := s.KPI.Targets(r.Context(), q.P, d.Inst.ID)
	if err != nil {
		return err
	}
	for i, v := range kpiTargetSlots(&t) {
		d.Fields = append(d.Fields, kpiTargetField{Name: kpiTargetNames[i], Value: formatBP(*v)})
	}
	return s.render(w, r, q, http.StatusOK, "kpi_targets", "kpi_targets", d)
}

func (s *Server) kpiTargetsSave(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.kpiTargetsData(r, q)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	var t kpi.Targets
	bad := map[string]string{}
	for i, v := range kpiTargetSlots(&t) {
		name := kpiTargetNames[i]
		text := r.PostForm.Get(name)
		d.Fields = append(d.Fields, kpiTargetField{Name: name, Value: text})
		bp, ok := parsePercent(text)
		if !ok {
			bad[name] = "bad_target"
		}
		*v = bp
	}
	if len(bad) > 0 {
		err = &errs.Error{Kind: errs.Invalid, Code: "bad_target", Msg: "a target is a percentage such as 96 or 97.5", Fields: bad}
	} else {
		err = s.KPI.SetTargets(r.Context(), q.P, d.Inst.ID, t)
	}
	if err != nil {
		return s.renderForm(w, r, q, "kpi_targets", "kpi_targets", d, err)
	}
	return s.redirectFlash(w, r, d.Action, s.cat.T(q.Lang, "kt.flash.saved", d.Inst.Name))
}
