package api

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"testing"

	"suifang/internal/access"
	"suifang/internal/followup"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestFollowupReport pulls a month's KPIs as a data warehouse does: one
// discharge of H1 (Friday 2026-08-28, 科室CARD, ward NEUR) reached on
// Tuesday 2026-09-01 (testNow, 17:00 in Beijing).
func TestFollowupReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		e.deps.KPI = e.kit.KPI
		e.h = New(e.deps)
		ctx := context.Background()
		var res map[string]any
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, discharge("ZY1", "M1")), http.StatusCreated, &res)
		var first int64
		if err := db.R().QueryRowContext(ctx, `SELECT id FROM followup_tasks WHERE step_key = 'FIRST'`).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if _, err := e.kit.Followup.Complete(ctx, access.System(), first, followup.RecordInput{Channel: "phone", TreatmentEffect: "improved",
			Satisfaction: followup.Basically, NPS: 7, MedicationGuidance: "继续口服抗生素至疗程结束", RevisitAdvice: "一周后呼吸科门诊复查胸片"}); err != nil {
			t.Fatal(err)
		}

		// August: the stay is due and covered; its first contact on 09-01
		// is within 3 working days of 08-28 (08-31, 09-01, 09-02). Levels
		// (J18.9 is no key diagnosis: L1, FIRST, L2, L3): level 1 2 planned,
		// 1 done (FIRST); level 2 1/0; level 3 1/0. The record is
		// September's, so August has no answers: satisfaction and NPS null.
		w := e.do("GET", "/api/v1/reports/followup?institution=H1&month=2026-08", e.tok1)
		raw := decode(t, w)
		dep := raw["departments"].([]any)
		if len(dep) != 1 {
			t.Fatalf("departments %v", dep)
		}
		keys := func(m map[string]any) []string {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			return ks
		}
		wantKeys := []string{"basically_satisfied", "covered", "coverage", "department_code", "department_name", "discharges",
			"dissatisfied", "due", "first_contact_on_time", "first_contact_rate", "level1_done", "level1_planned", "level2_done",
			"level2_planned", "level3_done", "level3_planned", "nps", "refused", "satisfaction_answers", "satisfaction_rate",
			"satisfied", "unreachable"}
		sort.Strings(wantKeys)
		if got := keys(dep[0].(map[string]any)); !slices.Equal(got, wantKeys) {
			t.Errorf("row keys %v", got)
		}
		if got := keys(raw); !slices.Equal(got, []string{"departments", "institution", "month", "total"}) {
			t.Errorf("report keys %v", got)
		}
		var aug kpiReportJSON
		wantJSON(t, w, &aug)
		one := 1.0
		want := kpiRowJSON{DepartmentCode: "CARD", DepartmentName: "心内科", Discharges: 1, Due: 1, Covered: 1, Coverage: &one,
			FirstContactOnTime: 1, FirstContactRate: &one, Level1Planned: 2, Level1Done: 1, Level2Planned: 1, Level3Planned: 1}
		if aug.Institution != "H1" || aug.Month != "2026-08" || !sameRow(aug.Departments[0], want) {
			t.Errorf("August: %+v", aug)
		}
		want.DepartmentCode, want.DepartmentName = "", ""
		if !sameRow(aug.Total, want) {
			t.Errorf("August total: %+v", aug.Total)
		}
		if raw["total"].(map[string]any)["nps"] != nil || raw["total"].(map[string]any)["satisfaction_rate"] != nil {
			t.Errorf("rates without answers are not null: %v", raw["total"])
		}

		// September: no discharges (coverage null); one answer, 基本满意
		// and 7 (passive): satisfaction 1/1, NPS (0 − 0)/1 = 0.
		var sep kpiReportJSON
		wantJSON(t, e.do("GET", "/api/v1/reports/followup?institution=H1&month=2026-09", e.tok1), &sep)
		zero := 0.0
		if sep.Total.Coverage != nil || sep.Total.SatisfactionAnswers != 1 || sep.Total.BasicallySatisfied != 1 ||
			sep.Total.SatisfactionRate == nil || *sep.Total.SatisfactionRate != 1 || sep.Total.NPS == nil || *sep.Total.NPS != zero {
			t.Errorf("September total: %+v", sep.Total)
		}

		wantProblem(t, e.do("GET", "/api/v1/reports/followup?institution=H1&month=2026-8", e.tok1), http.StatusBadRequest, "bad_month")
		wantProblem(t, e.do("GET", "/api/v1/reports/followup?month=2026-08", e.tok1), http.StatusBadRequest, "bad_institution")
		wantProblem(t, e.do("GET", "/api/v1/reports/followup?institution=H1&month=2026-08", e.tok2), http.StatusForbidden, "kpi_forbidden")
		wantProblem(t, e.do("GET", "/api/v1/reports/followup?institution=NOPE&month=2026-08", e.tok1), http.StatusNotFound, "institution_not_found")
		wantProblem(t, e.do("GET", "/api/v1/reports/followup?institution=H1&month=2026-08", ""), http.StatusUnauthorized, "missing_token")
	})
}

func sameRow(a, b kpiRowJSON) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	ok := eq(a.Coverage, b.Coverage) && eq(a.FirstContactRate, b.FirstContactRate) && eq(a.SatisfactionRate, b.SatisfactionRate) && eq(a.NPS, b.NPS)
	a.Coverage, a.FirstContactRate, a.SatisfactionRate, a.NPS = nil, nil, nil, nil
	b.Coverage, b.FirstContactRate, b.SatisfactionRate, b.NPS = nil, nil, nil, nil
	return ok && a == b
}
