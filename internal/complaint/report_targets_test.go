package complaint_test

import (
	"testing"

	"suifang/internal/kpi"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// The report's red marks follow the institution's KPI targets, not fixed
// thresholds: March's figures (closure 40%, satisfaction 67%, on time 56%,
// accepted 60%, plan 50%) are all red at the defaults (98/96/100%), and
// turn plain once quality lowers the targets to what the hospital agreed.
func TestReportFlagsFollowTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := reportFixture(t, db)
		mar := month(t, "2026-03")
		r, err := e.cs.Report(ctx, e.quality, e.inst, mar)
		if err != nil {
			t.Fatal(err)
		}
		if !r.ClosureBelow() || !r.SatisfactionBelow() || !r.OnTimeBelow() || !r.MilestoneBelow(r.Milestones[0]) {
			t.Fatalf("at the default targets every March figure is red: closure %v satisfaction %v on time %v accepted %v",
				r.ClosureBelow(), r.SatisfactionBelow(), r.OnTimeBelow(), r.MilestoneBelow(r.Milestones[0]))
		}
		if r.MilestoneBelow(r.Milestones[7]) {
			t.Error("a milestone with nothing due is never red")
		}

		tg := kpi.DefaultTargets()
		tg.ComplaintClosed, tg.Satisfaction, tg.ComplaintOnTime = 4000, 6500, 5500
		if err := e.sv.KPI.SetTargets(ctx, e.quality, e.inst, tg); err != nil {
			t.Fatal(err)
		}
		r, err = e.cs.Report(ctx, e.quality, e.inst, mar)
		if err != nil {
			t.Fatal(err)
		}
		if r.ClosureBelow() || r.SatisfactionBelow() || r.OnTimeBelow() || r.MilestoneBelow(r.Milestones[0]) {
			t.Errorf("at 40/65/55%% nothing of 40/67/56/60%% is red: closure %v satisfaction %v on time %v accepted %v",
				r.ClosureBelow(), r.SatisfactionBelow(), r.OnTimeBelow(), r.MilestoneBelow(r.Milestones[0]))
		}
		if !r.MilestoneBelow(r.Milestones[2]) {
			t.Errorf("plan on time %d%% is still under 55%%", r.Milestones[2].Rate())
		}

		// And back: one point above the closure rate makes it red again.
		tg.ComplaintClosed = 4100
		if err := e.sv.KPI.SetTargets(ctx, e.quality, e.inst, tg); err != nil {
			t.Fatal(err)
		}
		if r, err = e.cs.Report(ctx, e.quality, e.inst, mar); err != nil || !r.ClosureBelow() {
			t.Errorf("closure 40%% under a 41%% target is red (%v)", err)
		}
	})
}
