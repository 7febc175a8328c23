package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/org"
)

// demoComplaint is one complaint the demo tells, from receipt to where it
// stands today.
type demoComplaint struct {
	daysAgo  int    // working days before today it came in; -1: just now; -2: so its first clock is amber now
	by       string // who received it (and owns it)
	channel  string
	name     string
	role     string
	contact  string
	dept     string   // responsible department code
	others   []string // further departments involved
	category string
	severity string
	complex  bool
	content  string
	asks     string
	steps    []string // actions, in order; "approve@head" names who acts
}

// demoComplaintCases are H01's complaints of the last weeks: every status,
// one reopened, one returned by the head, one waiting on the complainant,
// one 重大 (which alerts leadership) and one involving several departments.
// Landline contacts, so no receipt goes out from the demo.
var demoComplaintCases = []demoComplaint{
	{daysAgo: 19, by: "quality", channel: "counter", name: "张秀兰", role: "patient", contact: "0571-86012345", dept: "0301",
		category: "service_attitude", content: "住院期间夜班护士对呼叫铃响应慢，语气生硬。", asks: "希望科室加强服务意识教育。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve@head", "feedback", "satisfaction", "archive"}},
	{daysAgo: 18, by: "quality", channel: "email", name: "李建国", role: "relative", contact: "jianguo.li@example.cn", dept: "0405",
		category: "medical_quality", complex: true, content: "父亲髋关节置换术后切口感染，认为术前告知不充分。", asks: "要求说明情况并减免后续治疗费用。",
		steps: []string{"accept", "assess", "investigate", "note", "draft_plan", "approve", "feedback", "satisfaction", "rectify", "revisit", "archive"}},
	{daysAgo: 17, by: "agent", channel: "followup_call", name: "王桂芳", role: "patient", contact: "0571-87654321", dept: "0402",
		category: "fees", content: "出院结算时发现一项检查重复收费。", asks: "退还重复收取的费用。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve", "feedback", "satisfaction", "archive"}},
	{daysAgo: 16, by: "quality", channel: "phone", name: "赵明", role: "relative", contact: "0571-85550101", dept: "0601",
		category: "environment", content: "儿科病房卫生间多日未清洁，有异味。", asks: "尽快整改。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve", "feedback", "satisfaction", "rectify", "revisit", "archive", "reopen"}},
	{daysAgo: 14, by: "quality", channel: "website", name: "陈立", role: "patient", contact: "0571-85550202", dept: "0501",
		category: "process", content: "产检预约后到院仍需排队两小时。", asks: "改进预约流程。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve", "feedback", "satisfaction", "rectify", "revisit"}},
	{daysAgo: 12, by: "quality", channel: "suggestion_box", name: "匿名患者", role: "other", dept: "0402",
		category: "ethics", content: "反映外科个别医生暗示收受红包。", asks: "查实处理。", complex: true,
		steps: []string{"accept", "assess", "investigate", "note", "draft_plan", "approve", "feedback", "satisfaction", "rectify"}},
	{daysAgo: 10, by: "agent", channel: "followup_call", name: "孙丽", role: "patient", contact: "0571-85550303", dept: "0301",
		category: "service_attitude", content: "出院随访时反映医生查房时间太短，病情没有解释清楚。", asks: "希望医生再解释一次病情。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve@head", "feedback", "satisfaction"}},
	{daysAgo: 9, by: "quality", channel: "wechat", name: "周强", role: "relative", contact: "0571-85550404", dept: "0405",
		category: "process", content: "母亲术后转科等待时间过长。", asks: "说明原因。", complex: true,
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve", "feedback"}},
	{daysAgo: 8, by: "quality", channel: "email", name: "吴芳", role: "patient", contact: "wufang@example.cn", dept: "0301",
		category: "service_attitude", content: "心内科门诊护士分诊时态度不耐烦。", asks: "道歉。", complex: true,
		steps: []string{"accept", "assess", "investigate", "draft_plan", "return@head", "note"}},
	{daysAgo: 7, by: "quality", channel: "counter", name: "郑海", role: "patient", contact: "0571-85550505", dept: "0402",
		category: "fees", content: "住院押金退还迟迟未到账。", asks: "尽快退还。", complex: true,
		steps: []string{"accept", "assess", "investigate", "pause"}},
	{daysAgo: 6, by: "quality", channel: "phone", name: "刘伟", role: "relative", contact: "0571-85550606", dept: "0301",
		category: "medical_quality", severity: complaint.Major, complex: true,
		content: "父亲急性心梗入院后介入治疗延误，家属认为存在医疗过错。", asks: "要求医院调查并给出书面答复。",
		steps: []string{"accept", "assess", "investigate", "note", "draft_plan"}},
	{daysAgo: 5, by: "quality", channel: "counter", name: "黄敏", role: "patient", contact: "0571-85550707", dept: "0402",
		others: []string{"0601", "9001"}, category: "process", complex: true,
		content: "女儿从外科转儿科期间两科室互相推诿，客服中心也未给出答复。", asks: "明确责任科室并答复。",
		steps: []string{"accept", "assess", "investigate"}},
	{daysAgo: 4, by: "quality", channel: "website", name: "林静", role: "patient", contact: "0571-85550808", dept: "0501",
		category: "environment", complex: true, content: "产科病房空调温度过低。", asks: "调整温度。",
		steps: []string{"accept", "assess", "investigate", "draft_plan", "approve"}},
	{daysAgo: 3, by: "agent", channel: "phone", name: "何平", role: "patient", contact: "0571-85550909", dept: "0405",
		category: "service_attitude", complex: true, content: "骨科换药时医生动作粗暴。", asks: "希望改进。",
		steps: []string{"accept", "assess", "investigate", "draft_plan"}},
	{daysAgo: 3, by: "quality", channel: "suggestion_box", name: "马丽", role: "relative", dept: "0601",
		category: "other", content: "儿科候诊区缺少母婴室。", asks: "增设母婴室。",
		steps: []string{"accept"}},
	{daysAgo: 2, by: "quality", channel: "wechat", name: "高峰", role: "patient", contact: "0571-85551010", dept: "0402",
		category: "fees", complex: true, content: "医保报销比例与告知不一致。", asks: "解释并更正。",
		steps: []string{"accept", "assess"}},
	{daysAgo: 2, by: "agent", channel: "phone", name: "罗娟", role: "patient", contact: "0571-85551111", dept: "0301",
		category: "process", content: "心内科复诊挂号难，号源太少。", asks: "增加号源。"},
	{daysAgo: 1, by: "quality", channel: "counter", name: "梁军", role: "relative", contact: "0571-85551212", dept: "0405",
		category: "environment", complex: true, content: "骨科病区走廊堆放杂物，轮椅难以通过。", asks: "清理走廊。",
		steps: []string{"accept", "assess", "investigate"}},
	{daysAgo: -2, by: "agent", channel: "phone", name: "宋洁", role: "patient", contact: "0571-85551313", dept: "0501",
		category: "service_attitude", content: "产科门诊导诊人员答复不清。", asks: "希望改进。"},
	{daysAgo: -1, by: "quality", channel: "counter", name: "谢涛", role: "patient", contact: "0571-85551414", dept: "0601",
		category: "fees", content: "儿科门诊雾化治疗收费标准不清楚。", asks: "公示收费标准。"},
}

// demoStepText gives each action plausible words.
var demoStepText = map[string]string{
	complaint.ActInvestigate: "医务科 陈主任；护理部 周护士长；客服中心 赵随访",
	complaint.ActNote:        "已约谈当事医护人员并调阅病历记录，情况基本属实。",
	complaint.ActDraftPlan:   "向投诉人说明情况并当面致歉；科室组织专题培训，改进相关流程。",
	complaint.ActReturn:      "方案未说明整改措施和责任人，请补充后再报。",
	complaint.ActFeedback:    "已电话向投诉人说明调查结果和处理方案，投诉人表示理解。",
	complaint.ActRectify:     "科室一周内完成整改并提交整改报告。",
	complaint.ActRevisit:     "回访投诉人，整改措施已落实，投诉人认可。",
	complaint.ActArchive:     "处理完毕，资料齐全，予以归档。",
	complaint.ActReopen:      "投诉人再次来电反映问题仍未解决，重新调查。",
}

// seedComplaints plays demoComplaintCases through the complaint service on the
// demo clock, every step at office hours on a working day and all of them
// in time order (the institution's event chain runs forward in time).
func (h *demoHistory) seedComplaints(ctx context.Context, inst *org.Institution, cs *complaint.Service, users, depts map[string]int64) error {
	pol, err := h.e.Calendar.Policy(ctx, inst.ID)
	if err != nil {
		return err
	}
	who := map[string]*access.Principal{}
	for _, name := range []string{"quality", "agent", "head"} {
		if who[name], err = h.e.Auth.PrincipalFor(ctx, users[name]); err != nil {
			return fmt.Errorf("demo: principal %s: %w", name, err)
		}
	}
	now := h.e.Now()
	loc := inst.Location()
	r := rand.New(rand.NewPCG(demoSeed, 77))
	open, close := 8*60+30, 17*60
	if pol.Hours.Validate() == nil {
		open, close = pol.Hours.Start, pol.Hours.End-30
	}
	// office moves t into service hours of a working day.
	office := func(t time.Time) time.Time {
		t = t.In(loc)
		d := calendar.DateOf(t)
		mins := t.Hour()*60 + t.Minute()
		if !pol.Cal.IsWorkingDay(d) || mins >= close {
			d = pol.Cal.NextWorkingDay(d.AddDays(1))
			return d.In(loc).Add(time.Duration(open+r.IntN(90)) * time.Minute)
		}
		if mins < open {
			return d.In(loc).Add(time.Duration(open+r.IntN(60)) * time.Minute)
		}
		return t
	}
	// workDaysAgo is the working day n working days before today.
	workDaysAgo := func(n int) calendar.Date {
		d := h.today
		for n > 0 {
			d = d.AddDays(-1)
			if pol.Cal.IsWorkingDay(d) {
				n--
			}
		}
		return d
	}
	type act struct {
		at  time.Time
		seq int
		do  func(ctx context.Context) error
	}
	var acts []act
	ids := make([]int64, len(demoComplaintCases))
	for i, dc := range demoComplaintCases {
		if dc.severity == "" {
			dc.severity = complaint.General
		}
		complexity := complaint.Simple
		if dc.complex {
			complexity = complaint.Complex
		}
		var at time.Time
		switch dc.daysAgo {
		case -1:
			at = now.Add(-5 * time.Minute)
		case -2:
			at = amberStart(pol, dc, complexity, now)
		default:
			at = workDaysAgo(dc.daysAgo).In(loc).Add(time.Duration(open+r.IntN(close-open-120)) * time.Minute)
		}
		in := complaint.Input{InstitutionID: inst.ID, Channel: dc.channel, ComplainantName: dc.name, ComplainantRole: dc.role,
			Contact: dc.contact, Content: dc.content, Asks: dc.asks, Category: dc.category, Severity: dc.severity,
			Complexity: complexity, DepartmentID: depts["H01/"+dc.dept]}
		p := who[dc.by]
		acts = append(acts, act{at: at, seq: len(acts), do: func(ctx context.Context) error {
			c, err := cs.Register(ctx, p, in)
			if err != nil {
				return fmt.Errorf("register %s: %w", dc.name, err)
			}
			ids[i] = c.ID
			return nil
		}})
		var others []int64
		for _, o := range dc.others {
			others = append(others, depts["H01/"+o])
		}
		grades := complaint.Grades()
		for _, step := range dc.steps {
			action, actor := step, dc.by
			if k := len(step) - len("@head"); k > 0 && step[k:] == "@head" {
				action, actor = step[:k], "head"
			}
			switch action {
			case complaint.ActApprove, complaint.ActReturn:
				if actor != "head" { // the head approves only for 心血管内科, quality for the rest
					actor = "quality"
				}
			case complaint.ActReopen:
				actor = "quality"
			}
			// Acceptance within the hour; later steps half a day to a
			// couple of working days apart, never past now.
			gap := time.Duration(10+r.IntN(40)) * time.Minute
			if action != complaint.ActAccept {
				gap = time.Duration(3+r.IntN(20)) * time.Hour
			}
			next := office(at.Add(gap))
			if !next.Before(now) {
				next = at.Add(now.Sub(at) / 2)
			}
			at = next
			ai := complaint.ActionInput{Action: action, Note: demoStepText[action]}
			switch action {
			case complaint.ActAssess:
				ai.Category, ai.Severity, ai.Complexity, ai.OtherDepts = dc.category, dc.severity, complexity, others
			case complaint.ActDraftPlan:
				ai.Plan, ai.Note = ai.Note, ""
				if dc.category == "fees" {
					ai.Compensation = "退还多收费用"
				}
			case complaint.ActFeedback:
				ai.FeedbackHow = complaint.FeedbackWays()[r.IntN(2)]
			case complaint.ActSatisfaction:
				ai.Grade = grades[0]
				if r.IntN(4) == 0 {
					ai.Grade = grades[1]
				}
			case complaint.ActPause:
				ai.Reason, ai.Note = complaint.WaitComplainant, "等待投诉人提供银行账户信息。"
			}
			p := who[actor]
			acts = append(acts, act{at: at, seq: len(acts), do: func(ctx context.Context) error {
				if _, err := cs.Act(ctx, p, ids[i], ai); err != nil {
					return fmt.Errorf("%s on %s: %w", ai.Action, dc.name, err)
				}
				return nil
			}})
		}
	}
	slices.SortStableFunc(acts, func(a, b act) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	for _, x := range acts {
		h.clk = x.at
		if err := x.do(ctx); err != nil {
			return fmt.Errorf("demo: complaint at %s: %w", x.at.Format(time.DateTime), err)
		}
	}
	h.e.Log.Info("demo complaints created", "complaints", len(demoComplaintCases), "actions", len(acts))
	return nil
}

// amberStart finds a receipt instant at which a new complaint's first
// clock (acceptance within the hour) shows amber now, whatever the hour
// the demo starts at.
func amberStart(pol calendar.Policy, dc demoComplaint, complexity string, now time.Time) time.Time {
	sla := complaint.ChoosePolicy(complaint.DefaultPolicies(), dc.category, dc.severity, complexity)
	for k := 1; k < 14*24*12; k++ {
		at := now.Add(-time.Duration(k) * 5 * time.Minute)
		c := &complaint.Complaint{ReceivedAt: at, Status: complaint.Registered, Category: dc.category, Severity: dc.severity, Complexity: complexity}
		if complaint.Worst(complaint.Clocks(pol, sla, c, now)) == complaint.Amber {
			return at
		}
	}
	return now.Add(-50 * time.Minute)
}
