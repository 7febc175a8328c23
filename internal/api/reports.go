package api

import (
	"net/http"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/kpi"
)

// Parameters of the report routes.
var (
	queryInstitution = param{Name: "institution", In: "query", Required: true,
		Description: "institution code; a group's code gives one row per member hospital",
		Schema:      obj{"type": "string", "minLength": 1, "maxLength": 32}}
	queryMonth = param{Name: "month", In: "query", Required: true,
		Description: "the month of discharges, in the institution's time zone",
		Schema:      obj{"type": "string", "pattern": `^[0-9]{4}-(0[1-9]|1[0-2])$`, "examples": []string{"2026-09"}}}
)

// reportRoutes are the KPI reports integrators and data warehouses pull.
func reportRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/reports/followup", handle: (*server).followupReport,
			Op: operation{ID: "getFollowupReport", Summary: "A month's follow-up KPIs per discharge department and in total",
				Description: "Definitions in docs/kpis.md: the cohort is the month's inpatient discharges not cancelled (A13); due excludes " +
					"the deceased and patients do-not-contact before discharge; rates are fractions 0–1, null when the denominator is 0; " +
					"NPS is on −100…100. For a group code each row is a member hospital.",
				Params: []param{queryInstitution, queryMonth}, Schema: "FollowupReport", Errors: []int{400, 403, 404, 503}}},
	}
}

var errReportsUnavailable = &httpError{status: http.StatusServiceUnavailable, code: "reports_unavailable",
	detail: "follow-up reports are not available on this server"}

// kpiRowJSON is exactly issue 12's row.
type kpiRowJSON struct {
	DepartmentCode      string   `json:"department_code"`
	DepartmentName      string   `json:"department_name"`
	Discharges          int      `json:"discharges"`
	Due                 int      `json:"due"`
	Covered             int      `json:"covered"`
	Coverage            *float64 `json:"coverage"`
	Unreachable         int      `json:"unreachable"`
	Refused             int      `json:"refused"`
	FirstContactOnTime  int      `json:"first_contact_on_time"`
	FirstContactRate    *float64 `json:"first_contact_rate"`
	Level1Planned       int      `json:"level1_planned"`
	Level1Done          int      `json:"level1_done"`
	Level2Planned       int      `json:"level2_planned"`
	Level2Done          int      `json:"level2_done"`
	Level3Planned       int      `json:"level3_planned"`
	Level3Done          int      `json:"level3_done"`
	SatisfactionAnswers int      `json:"satisfaction_answers"`
	Satisfied           int      `json:"satisfied"`
	BasicallySatisfied  int      `json:"basically_satisfied"`
	Dissatisfied        int      `json:"dissatisfied"`
	SatisfactionRate    *float64 `json:"satisfaction_rate"`
	NPS                 *float64 `json:"nps"`
}

type kpiReportJSON struct {
	Institution string       `json:"institution"`
	Month       string       `json:"month"`
	Departments []kpiRowJSON `json:"departments"`
	Total       kpiRowJSON   `json:"total"`
}

func kpiRowOf(r kpi.Row) kpiRowJSON {
	return kpiRowJSON{DepartmentCode: r.Code, DepartmentName: r.Name, Discharges: r.Discharges, Due: r.Due, Covered: r.Covered,
		Coverage: r.Coverage, Unreachable: r.Unreachable, Refused: r.Refused, FirstContactOnTime: r.FirstContactOnTime,
		FirstContactRate: r.FirstContactRate, Level1Planned: r.Level1Planned, Level1Done: r.Level1Done,
		Level2Planned: r.Level2Planned, Level2Done: r.Level2Done, Level3Planned: r.Level3Planned, Level3Done: r.Level3Done,
		SatisfactionAnswers: r.SatisfactionAnswers, Satisfied: r.Satisfied, BasicallySatisfied: r.BasicallySatisfied,
		Dissatisfied: r.Dissatisfied, SatisfactionRate: r.SatisfactionRate, NPS: r.NPS}
}

func (s *server) followupReport(r *http.Request, p *access.Principal) (any, error) {
	if s.d.KPI == nil {
		return nil, errReportsUnavailable
	}
	q := r.URL.Query()
	var fe fieldErrors
	code := strings.TrimSpace(q.Get("institution"))
	if code == "" || len(code) > 32 {
		fe.add(errs.Field("institution", "bad_institution", "give the institution code"))
	}
	m, err := kpi.ParseMonth(q.Get("month"))
	if err != nil {
		if e, ok := errs.As(err); ok {
			fe.add(e)
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	rep, err := s.d.KPI.ReportByCode(r.Context(), p, code, m)
	if err != nil {
		return nil, err
	}
	out := kpiReportJSON{Institution: rep.Institution, Month: m.String(), Departments: make([]kpiRowJSON, 0, len(rep.Departments)),
		Total: kpiRowOf(rep.Total)}
	out.Total.DepartmentCode, out.Total.DepartmentName = "", ""
	for _, d := range rep.Departments {
		out.Departments = append(out.Departments, kpiRowOf(d))
	}
	return out, nil
}

func reportSchemas() obj {
	count := obj{"type": "integer", "minimum": 0}
	rate := obj{"type": []string{"number", "null"}, "minimum": 0, "maximum": 1,
		"description": "a fraction 0–1; null when the denominator is 0"}
	row := obj{
		"department_code": obj{"type": "string", "description": "the discharge department's code (a member hospital's for a group; empty in the total)"},
		"department_name": obj{"type": "string"},
		"discharges":      count, "due": count, "covered": count, "coverage": rate, "unreachable": count, "refused": count,
		"first_contact_on_time": count, "first_contact_rate": rate,
		"level1_planned": count, "level1_done": count, "level2_planned": count, "level2_done": count,
		"level3_planned": count, "level3_done": count,
		"satisfaction_answers": count, "satisfied": count, "basically_satisfied": count, "dissatisfied": count,
		"satisfaction_rate": rate,
		"nps": obj{"type": []string{"number", "null"}, "minimum": -100, "maximum": 100,
			"description": "net promoter score of the 0–10 answers (9–10 promote, 0–6 detract); null without answers"},
	}
	required := make([]string, 0, len(row))
	for k := range row {
		required = append(required, k)
	}
	return obj{
		"FollowupRow": obj{"type": "object", "additionalProperties": false, "required": required, "properties": row},
		"FollowupReport": obj{"type": "object", "additionalProperties": false,
			"required": []string{"institution", "month", "departments", "total"},
			"properties": obj{
				"institution": obj{"type": "string"},
				"month":       obj{"type": "string", "examples": []string{"2026-09"}},
				"departments": obj{"type": "array", "items": ref("schemas", "FollowupRow")},
				"total":       ref("schemas", "FollowupRow"),
			}},
	}
}
