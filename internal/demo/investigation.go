package demo

import (
	"context"
	"fmt"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/org"
)

// seedInvestigation gives the demo's complaints under investigation a
// team member (刘医生), a task and an interview note, and files two abnormal reports (one
// taken in charge by the leader, one still waiting), so those pages are not
// empty on first start. Everything goes through the services at "now".
func (h *demoHistory) seedInvestigation(ctx context.Context, inst *org.Institution, cs *complaint.Service, ab *abnormal.Service,
	users map[string]int64) error {
	h.clk = h.e.Now()
	who := map[string]*access.Principal{}
	for _, name := range []string{"quality", "leader"} {
		p, err := h.e.Auth.PrincipalFor(ctx, users[name])
		if err != nil {
			return fmt.Errorf("demo: principal %s: %w", name, err)
		}
		who[name] = p
	}
	q := who["quality"]
	list, err := cs.List(ctx, q, complaint.Filter{InstitutionID: inst.ID, Tab: complaint.TabAll, Status: complaint.Investigating, Limit: 2})
	if err != nil {
		return fmt.Errorf("demo: complaints under investigation: %w", err)
	}
	held := h.clk.In(inst.Location()).Add(-2 * time.Hour).Format("2006-01-02 15:04")
	for _, c := range list.Items {
		// The doctor alone: the nurse's and quality's inboxes stay as the
		// other demo stories leave them.
		doctor, err := cs.AddMember(ctx, q, c.ID, users["doctor"], "medical")
		if err != nil {
			return fmt.Errorf("demo: team of %s: %w", c.Number, err)
		}
		if _, err := cs.AddTask(ctx, q, c.ID, complaint.TaskInput{MemberID: doctor.ID,
			What: "核对病程记录与医嘱执行情况，写明诊疗经过"}); err != nil {
			return fmt.Errorf("demo: task on %s: %w", c.Number, err)
		}
		if _, err := cs.AddInterview(ctx, q, c.ID, complaint.InterviewInput{Interviewee: "当班护士", Role: "责任护士", HeldAt: held,
			Place: "护士站", Summary: "当晚同时处理两名危重患者，未能及时应答；承认解释时语气生硬。"}); err != nil {
			return fmt.Errorf("demo: interview on %s: %w", c.Number, err)
		}
	}
	in := abnormal.Input{InstitutionID: inst.ID, Kind: "dispute", Severity: abnormal.Urgent,
		Summary: "家属多次来电称要“讨说法”，并提到已咨询律师，存在纠纷升级风险。"}
	if len(list.Items) > 0 {
		in.ComplaintID = list.Items[0].ID
	}
	r, err := ab.Raise(ctx, q, in)
	if err != nil {
		return fmt.Errorf("demo: abnormal report: %w", err)
	}
	if _, err := ab.Act(ctx, who["leader"], r.ID, abnormal.ActionInput{Action: abnormal.ActAcknowledge}); err != nil {
		return fmt.Errorf("demo: acknowledge %s: %w", r.Number, err)
	}
	if _, err := ab.Raise(ctx, h.nurse, abnormal.Input{InstitutionID: inst.ID, Kind: "insurance_fraud", Severity: abnormal.Normal,
		Summary: "随访时患者称住院期间未做的两项检查出现在费用清单上，疑似虚记费用。"}); err != nil {
		return fmt.Errorf("demo: abnormal report: %w", err)
	}
	h.e.Log.Info("demo investigations created", "complaints", len(list.Items), "abnormal_reports", 2)
	return nil
}
