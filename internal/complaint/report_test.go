package complaint_test

import (
	"slices"
	"testing"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// reportFixture plays seven complaints on the fake clock (2026, Beijing,
// service hours 08:00–17:30, the built-in simple and complex policies):
//
//	A Mon 03-02 09:00 phone, 流程, 心内, handled within the hour, archived
//	E Fri 02-27 10:00 phone, 流程, 心内 (a February letter registered on 03-02), never accepted
//	B Tue 03-03 09:00 counter, 服务态度, 心内+骨科 (several departments), 较重: plan,
//	  simple answer and closure late; feedback on 03-13 late for 5 working days
//	  but on time for the 10 of several departments; rectification never done
//	C Wed 03-04 09:00 phone, 费用, 骨科: paused 03-04 11:00 – 03-11 11:00, so
//	  its plan met on 03-12 is on time (03-16, not 03-09); archived
//	D Thu 03-05 09:00 wechat, 医疗质量, 心内, 重大, complex: accepted at 11:00
//	  (late), then paused until now
//	F Tue 03-31 23:30 suggestion box, 流程, 心内: never accepted
//	G Wed 04-01 00:10 (April in Beijing, still March in UTC): never accepted
//
// then escalates on Wed 05-20 10:00 and reports from there.
func reportFixture(t *testing.T, db *store.DB) *env {
	e := setup(t, db)
	at := func(month time.Month, day, hour, min int) {
		e.clk.Set(time.Date(2026, month, day, hour, min, 0, 0, e.loc))
	}
	in := func(ch, cat string, dept int64, content string) complaint.Input {
		x := e.phoneComplaint()
		x.VisitNumber, x.DepartmentID, x.Channel, x.Category, x.Content = "", dept, ch, cat, content
		return x
	}

	// A: everything on 03-02 within the hour.
	a := e.phoneComplaint()
	a.Content = "出院结算时等候两小时无人解释"
	ca := e.register(e.agent, a)
	at(3, 2, 9, 20)
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActAccept})
	at(3, 2, 9, 40)
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "process", Severity: complaint.General, Complexity: complaint.Simple})
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActInvestigate, Note: "医务：李医生"})
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "解释并致歉"})
	at(3, 2, 10, 0)
	e.act(e.head, ca.ID, complaint.ActionInput{Action: complaint.ActApprove})
	at(3, 2, 10, 10)
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "电话告知"})
	at(3, 2, 10, 20)
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "satisfied"})
	at(3, 2, 10, 30)
	e.act(e.agent, ca.ID, complaint.ActionInput{Action: complaint.ActArchive})

	// E: received in February.
	ie := in("phone", "process", e.cardio, "门诊等候太久")
	ie.ReceivedAt = time.Date(2026, 2, 27, 10, 0, 0, 0, e.loc)
	e.register(e.agent, ie)

	// B: two departments, several milestones late.
	at(3, 3, 9, 0)
	ib := in("counter", "service_attitude", e.cardio, "护士态度生硬，等候时间长")
	ib.Severity = complaint.Serious
	cb := e.register(e.agent, ib)
	at(3, 3, 9, 30)
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActAccept})
	at(3, 3, 10, 0)
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "service_attitude", Severity: complaint.Serious,
		Complexity: complaint.Simple, OtherDepts: []int64{e.ortho}})
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActInvestigate, Note: "护理：王护士长"})
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "致歉"})

	// C: paused for a week.
	at(3, 4, 9, 0)
	cc := e.register(e.agent, in("phone", "fees", e.ortho, "费用清单不清楚"))
	at(3, 4, 9, 30)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActAccept})
	at(3, 4, 10, 0)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "fees", Severity: complaint.General, Complexity: complaint.Simple})
	at(3, 4, 11, 0)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActPause, Reason: complaint.WaitComplainant})

	// D: major and complex, accepted late, then paused for good.
	at(3, 5, 9, 0)
	id := in("wechat", "medical_quality", e.cardio, "手术后伤口感染")
	id.Severity, id.Complexity = complaint.Major, complaint.Complex
	cd := e.register(e.agent, id)
	at(3, 5, 11, 0)
	e.act(e.agent, cd.ID, complaint.ActionInput{Action: complaint.ActAccept})
	at(3, 5, 11, 30)
	e.act(e.agent, cd.ID, complaint.ActionInput{Action: complaint.ActPause, Reason: complaint.WaitThirdParty})

	// B's plan approved late, on Monday 03-09.
	at(3, 9, 10, 0)
	e.act(e.head, cb.ID, complaint.ActionInput{Action: complaint.ActApprove})
	// C resumes and finishes on 03-12.
	at(3, 11, 11, 0)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActResume})
	at(3, 12, 9, 0)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActInvestigate, Note: "财务：赵科长"})
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "逐项解释费用"})
	at(3, 12, 10, 0)
	e.act(e.quality, cc.ID, complaint.ActionInput{Action: complaint.ActApprove})
	at(3, 12, 10, 30)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "电话解释"})
	at(3, 12, 11, 0)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "dissatisfied"})
	at(3, 12, 11, 30)
	e.act(e.agent, cc.ID, complaint.ActionInput{Action: complaint.ActArchive})
	// B: feedback and satisfaction on Friday 03-13, then left open.
	at(3, 13, 10, 0)
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "in_person", Note: "当面致歉"})
	at(3, 13, 11, 0)
	e.act(e.agent, cb.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "basic"})

	// F and G from the suggestion box, opened on 04-01.
	at(4, 1, 8, 0)
	f := in("suggestion_box", "process", e.cardio, "病房卫生间等候排队")
	f.ReceivedAt = time.Date(2026, 3, 31, 23, 30, 0, 0, e.loc)
	e.register(e.agent, f)
	g := in("suggestion_box", "environment", e.ortho, "走廊灯坏了")
	g.ReceivedAt = time.Date(2026, 4, 1, 0, 10, 0, 0, e.loc)
	e.register(e.agent, g)

	at(5, 20, 10, 0)
	n, err := e.cs.Escalate(ctx)
	// B: rectified; E, F, G: all seven simple milestones; C, A archived; D paused.
	if err != nil || n != 1+7+7+7 {
		t.Fatalf("escalated %d (%v), want 22", n, err)
	}
	return e
}

func month(t *testing.T, at string) complaint.Period {
	t.Helper()
	p, err := complaint.ParsePeriod("month", at, calendar.Date{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type rate struct{ onTime, late int }

func TestReportHandCalculated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := reportFixture(t, db)
		r, err := e.cs.Report(ctx, e.quality, e.inst, month(t, "2026-03"))
		if err != nil {
			t.Fatal(err)
		}
		// March (Beijing): A, B, C, D, F. E is February's, G April's.
		f := r.Figures
		if f.Received != 5 || f.Open != 3 || f.Archived != 2 || f.ClosedInPeriod != 2 || f.ClosureRate() != 40 {
			t.Errorf("received %d open %d archived %d closed in period %d (%d%%); want 5, 3 (B D F), 2 (A C), 2, 40%%",
				f.Received, f.Open, f.Archived, f.ClosedInPeriod, f.ClosureRate())
		}
		counts := func(cs []complaint.Count) map[string]int {
			m := map[string]int{}
			for _, c := range cs {
				if c.N > 0 {
					k := c.Key
					if c.Name != "" {
						k = c.Name
					}
					m[k] = c.N
				}
			}
			return m
		}
		wantMap(t, "by category", counts(r.ByCategory), map[string]int{"process": 2, "service_attitude": 1, "fees": 1, "medical_quality": 1})
		wantMap(t, "by channel", counts(r.ByChannel), map[string]int{"phone": 2, "counter": 1, "wechat": 1, "suggestion_box": 1})
		wantMap(t, "by severity", counts(r.BySeverity), map[string]int{"general": 3, "serious": 1, "major": 1})
		// B counts for both departments it involves.
		wantMap(t, "by department", counts(r.ByDepartment), map[string]int{"心血管内科": 4, "骨科": 2})
		if len(r.ByCategory) != len(complaint.Categories()) || r.ByDepartment[0].Name != "心血管内科" {
			t.Errorf("breakdowns list every category (%d) and the busiest department first (%s)", len(r.ByCategory), r.ByDepartment[0].Name)
		}
		// Milestones, by hand (deadlines in the fixture's comment):
		//   accepted   A✓ B✓ C✓ D✗(11:00 > 10:00) F✗(unmet)        3/5
		//   assessed   A✓ B✓ C✓ F✗; D paused, left out              3/4
		//   plan       A✓ B✗(03-09 > 03-06) C✓(03-16 after the pause) F✗   2/4
		//   answer_simple A✓ B✗(03-04) C✓(03-12) F✗                2/4
		//   feedback   A✓ B✓(10 wd: 03-17) C✓ F✗                    3/4
		//   closed     A✓ B✗(7 d: 03-10) C✓ F✗                      2/4
		//   rectified  B✗ F✗ (unmet, passed); A, C archived without it   0/2
		//   answer_complex D paused: nothing due                     0/0
		want := map[string]rate{"accepted": {3, 2}, "assessed": {3, 1}, "plan": {2, 2}, "answer_simple": {2, 2}, "feedback": {3, 1},
			"closed": {2, 2}, "rectified": {0, 2}, "answer_complex": {0, 0}}
		for _, m := range r.Milestones {
			if w := want[m.Milestone]; m.OnTime != w.onTime || m.Late != w.late {
				t.Errorf("%s: on time %d late %d, want %d %d", m.Milestone, m.OnTime, m.Late, w.onTime, w.late)
			}
		}
		if got := r.Milestones[6]; got.Skipped != 2 || got.Pending != 1 {
			t.Errorf("rectified: skipped %d (A, C archived) pending %d (D paused); want 2 1", got.Skipped, got.Pending)
		}
		if on, due := f.OnTime(); on != 15 || due != 27 || f.OnTimeRate() != 56 {
			t.Errorf("pooled %d/%d = %d%%, want 15/27 = 56%%", on, due, f.OnTimeRate())
		}
		if r.Milestones[0].Rate() != 60 || r.Milestones[7].Rate() != -1 {
			t.Errorf("rates %d %d, want 60 and none", r.Milestones[0].Rate(), r.Milestones[7].Rate())
		}
		// Escalations: B's rectification and F's seven milestones; F opened
		// the accountability review.
		if f.Escalations != 8 || f.Accountability != 1 {
			t.Errorf("escalations %d accountability %d, want 8 1", f.Escalations, f.Accountability)
		}
		// Satisfaction: A satisfied, B basic, C dissatisfied → 2/3.
		if f.Satisfied != 1 || f.Basic != 1 || f.Dissatisfied != 1 || f.SatisfactionRate() != 67 {
			t.Errorf("satisfaction %d/%d/%d %d%%", f.Satisfied, f.Basic, f.Dissatisfied, f.SatisfactionRate())
		}
		// Working days to feedback: A 0 (same day), B 03-03 → 03-13 = 8,
		// C 03-04 → 03-12 = 6 (pauses are part of the complainant's wait).
		if f.FeedbackN != 3 || f.FeedbackDays != 14 || f.AvgFeedbackDays() != 4.7 {
			t.Errorf("feedback days %d over %d = %v, want 14 over 3 = 4.7", f.FeedbackDays, f.FeedbackN, f.AvgFeedbackDays())
		}
		if r.Previous != nil || r.Months != nil || r.TopTerms != nil {
			t.Error("a month has no quarterly analysis")
		}

		// The week of 03-02: A, B, C, D.
		wk, err := complaint.ParsePeriod("week", "2026-03-04", calendar.Date{})
		if err != nil {
			t.Fatal(err)
		}
		rw, err := e.cs.Report(ctx, e.leader, e.inst, wk)
		if err != nil || rw.Received != 4 || wk.From.String() != "2026-03-02" || wk.Key() != "2026-W10" {
			t.Errorf("week %s (%s): %d received (%v), want 2026-03-02 W10 and 4", wk.From, wk.Key(), rw.Received, err)
		}
		// April: G alone.
		ra, err := e.cs.Report(ctx, e.quality, e.inst, month(t, "2026-04"))
		if err != nil || ra.Received != 1 || ra.ByCategory[2].N != 1 {
			t.Errorf("april: %d received, environment %d (%v)", ra.Received, ra.ByCategory[2].N, err)
		}
	})
}

func wantMap(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}

func TestReportQuarterAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := reportFixture(t, db)
		q, err := complaint.ParsePeriod("quarter", "2026-Q1", calendar.Date{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.cs.Report(ctx, e.quality, e.inst, q)
		if err != nil {
			t.Fatal(err)
		}
		// Q1: E (February) and March's five.
		if r.Received != 6 || r.Previous == nil || r.Previous.Received != 0 || len(r.Months) != 6 {
			t.Fatalf("Q1 received %d, previous %+v, %d months; want 6, an empty Q4 2025, six months", r.Received, r.Previous, len(r.Months))
		}
		var keys []string
		var got []int
		for _, m := range r.Months {
			keys = append(keys, m.Period.Key())
			got = append(got, m.Received)
		}
		if !slices.Equal(keys, []string{"2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"}) ||
			!slices.Equal(got, []int{0, 0, 0, 0, 1, 5}) {
			t.Errorf("months %v %v", keys, got)
		}
		// February: E's seven milestones all passed unmet.
		if feb := r.Months[4]; feb.OnTimeRate() != 0 || feb.Escalations != 7 || feb.Accountability != 1 {
			t.Errorf("february: on time %d%% escalations %d accountability %d", feb.OnTimeRate(), feb.Escalations, feb.Accountability)
		}
		if mar := r.Months[5]; mar.Received != 5 || mar.OnTimeRate() != 56 {
			t.Errorf("march inside the quarter: %d, %d%%", mar.Received, mar.OnTimeRate())
		}
		// Causes: 流程 × 心内 (A, E, F) first.
		if c := r.TopCauses[0]; c.Category != "process" || c.Name != "心血管内科" || c.N != 3 {
			t.Errorf("top cause %+v", c)
		}
		// 等候 is in A, B, E and F; nothing else recurs in two complaints.
		if len(r.TopTerms) != 1 || r.TopTerms[0] != (complaint.Term{Text: "等候", N: 4}) {
			t.Errorf("terms %v", r.TopTerms)
		}

		// The head of 心血管内科 sees the complaints involving it: A, B, D, F.
		rh, err := e.cs.Report(ctx, e.head, e.inst, month(t, "2026-03"))
		if err != nil || rh.Received != 4 || len(rh.Departments) != 1 {
			t.Errorf("head: %d received, scope %v (%v); want 4 and one department", rh.Received, rh.Departments, err)
		}
		// Nobody else.
		_, err = e.cs.Report(ctx, e.orthoNurse, e.inst, month(t, "2026-03"))
		wantErr(t, err, errs.Forbidden, "complaint_report_forbidden")
		_, err = e.cs.Report(ctx, e.agent, e.inst, month(t, "2026-03"))
		wantErr(t, err, errs.Forbidden, "complaint_report_forbidden")
		if complaint.CanReport(e.agent, e.inst) || !complaint.CanReport(e.head, e.inst) {
			t.Error("CanReport disagrees with Report")
		}

		// The workbook has the quarter's sheets.
		x, err := complaint.ReportXLSX(r, complaint.ReportLabels{T: func(k string, _ ...any) string { return k },
			Category: func(c string) string { return c }, Dept: "第一医院"})
		if err != nil || len(x) < 1000 || string(x[:2]) != "PK" {
			t.Errorf("workbook %d bytes (%v)", len(x), err)
		}
	})
}
