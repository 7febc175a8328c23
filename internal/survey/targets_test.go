package survey_test

import (
	"fmt"
	"testing"

	"suifang/internal/access"
	"suifang/internal/kpi"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/survey"
)

// The satisfaction rate is red below the institution's target, not below
// a fixed 96%: ten discharged patients answer the SMS survey, nine
// satisfied and one not (90%). Red at the default 96%, plain once the
// hospital sets 90%, red again at 91%.
func TestResultsFlagFollowsTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for i := range 10 {
			e.discharge(fmt.Sprintf("10%04d", i), fmt.Sprintf("ZY2026%04d", i))
		}
		if n, err := e.sur.InviteDue(ctx); err != nil || n != 10 {
			t.Fatalf("InviteDue = %d, %v; want 10", n, err)
		}
		for i, m := range e.out.byTemplate("survey.invite") {
			a := happy()
			if i == 0 {
				a["overall"], a["overall_why"] = []string{survey.Dissatisfied}, []string{"出院手续办了一上午"}
			}
			answerAll(t, e.sur, tokenOf(t, m), a)
		}
		results := func() *survey.Results {
			t.Helper()
			rs, err := e.sur.Results(ctx, access.System(), survey.ResultFilter{QuestionnaireID: e.qid("inpatient_satisfaction"), Month: "2026-09"})
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		rs := results()
		if rs.SatisfactionRate() != 90 || !rs.SatisfactionBelow() {
			t.Fatalf("satisfaction %d%% red %v; want 90%% red under the default 96%%", rs.SatisfactionRate(), rs.SatisfactionBelow())
		}
		set := func(bp int) {
			t.Helper()
			tg := kpi.DefaultTargets()
			tg.Satisfaction = bp
			if err := e.sv.KPI.SetTargets(ctx, access.System(), e.inst, tg); err != nil {
				t.Fatal(err)
			}
		}
		set(9000)
		if rs := results(); rs.SatisfactionBelow() {
			t.Error("90% meets a 90% target")
		}
		set(9100)
		if rs := results(); !rs.SatisfactionBelow() {
			t.Error("90% is under a 91% target")
		}
	})
}
