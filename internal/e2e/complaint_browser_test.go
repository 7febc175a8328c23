package e2e

// The complaint walk in a browser: the service centre types a phone
// complaint while listening, accepts and assesses it, the investigation
// drafts a plan, the department head returns it once and approves the
// second, the complainant is told and satisfied, and the case is archived.
// The history shows every step, the clocks are coloured.

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"suifang/internal/complaint"
)

func TestBrowserComplaintWalk(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	_, deps := h01(t, s)
	b := newBrowser(t, s)

	// 1. The agent registers a phone complaint; the content is missing at
	// first and the form comes back with the input kept.
	agent := b.loggedIn(t, "agent")
	if st := agent.clickNav(`.sidenav a[href="/complaints"]`); st != http.StatusOK {
		t.Fatalf("complaints = %d", st)
	}
	agent.wantText("投诉管理", "我负责的")
	if st := agent.clickNav(`#new-complaint`); st != http.StatusOK {
		t.Fatalf("new complaint = %d", st)
	}
	agent.fill("#complainant_name", "王建国")
	agent.setValue("#complainant_role", "relative")
	agent.fill("#contact", "139 1234 5678")
	agent.setValue("#department_id", itoa(deps["0301"]))
	agent.setValue("#category", "service_attitude")
	if st := agent.clickNav(`#complaint-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("empty content = %d, want 422", st)
	}
	if !agent.exists(`#content[aria-invalid=true]`) || agent.value("#complainant_name") != "王建国" ||
		agent.value("#department_id") != itoa(deps["0301"]) || agent.value("#category") != "service_attitude" {
		t.Fatal("the refused form lost the input or did not mark the content")
	}
	agent.fill("#content", "父亲住院期间夜里按呼叫铃二十分钟无人应答，护士态度生硬。")
	agent.fill("#asks", "希望科室说明情况并道歉")
	agent.shot("40-complaint-intake.png")
	if st := agent.clickNav(`#complaint-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("register = %d", st)
	}
	flash := agent.text(".flash.ok")
	number := regexp.MustCompile(`TS-H01-\d{8}-\d{4}`).FindString(flash)
	if number == "" {
		t.Fatalf("flash after registering = %q", flash)
	}
	path := agent.path()
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/complaints/"), 10, 64)
	if err != nil {
		t.Fatalf("complaint page %s", path)
	}
	agent.wantText(number, "已登记", "王*国", "139 **** 5678", "受理", "初步评估", "反馈投诉人")
	agent.wantNoText("139 1234 5678")
	agent.wantNoUntranslated()

	// 2. Accept, assess (骨科 is involved too), investigate, draft a plan.
	if st := agent.clickNav(`#accept-form button`); st != http.StatusOK {
		t.Fatalf("accept = %d", st)
	}
	agent.setValue("#severity", "serious")
	agent.do(chromedp.Click(chromedp.CSS(`#assess-form details.cp-others summary`)))
	agent.check(`#assess-form input[name=other_depts][value="` + itoa(deps["0405"]) + `"]`)
	if st := agent.clickNav(`#assess-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("assess = %d", st)
	}
	agent.fill("#team", "医务：刘医生；护理：周护士长；行政：客服中心赵随访")
	if st := agent.clickNav(`#investigate-form button`); st != http.StatusOK {
		t.Fatalf("investigate = %d", st)
	}
	agent.fill("#plan", "向家属解释夜间人力安排并致歉")
	if st := agent.clickNav(`#plan-form button`); st != http.StatusOK {
		t.Fatalf("draft = %d", st)
	}
	agent.wantText("方案待审批", "等待科主任审批处理方案")
	agent.shot("41-complaint-plan.png")

	// 3. 陈主任 returns the plan, then approves the better one.
	head := b.loggedIn(t, "head")
	head.open("/complaints?tab=dept")
	head.wantText(number)
	if st := head.clickNav(`main table a[href="` + path + `"]`); st != http.StatusOK {
		t.Fatalf("open = %d", st)
	}
	if st := head.clickNav(`#return-form button`); st != http.StatusUnprocessableEntity {
		t.Fatalf("return without reason = %d, want 422", st)
	}
	head.fill("#return-note", "请补充呼叫铃响应的整改措施")
	if st := head.clickNav(`#return-form button`); st != http.StatusOK {
		t.Fatalf("return = %d", st)
	}
	head.wantText("调查中", "退回方案")
	agent.open(path)
	agent.wantText("方案被退回", "请补充呼叫铃响应的整改措施")
	agent.fill("#plan", "向家属解释并致歉；夜班呼叫铃五分钟内响应，护士长每周抽查")
	if st := agent.clickNav(`#plan-form button`); st != http.StatusOK {
		t.Fatalf("redraft = %d", st)
	}
	head.open(path)
	if st := head.clickNav(`#approve-form button`); st != http.StatusOK {
		t.Fatalf("approve = %d", st)
	}
	head.wantText("方案已批准")

	// 4. The agent tells the complainant, records satisfaction, archives.
	agent.open(path)
	agent.setValue("#feedback_how", "phone")
	agent.fill("#feedback-note", "电话告知家属处理结果，家属接受道歉")
	if st := agent.clickNav(`#feedback-form button`); st != http.StatusOK {
		t.Fatalf("feedback = %d", st)
	}
	agent.check(`#satisfaction-form input[value=satisfied]`)
	if st := agent.clickNav(`#satisfaction-form button`); st != http.StatusOK {
		t.Fatalf("satisfaction = %d", st)
	}
	if st := agent.clickNav(`#archive-form button`); st != http.StatusOK {
		t.Fatalf("archive = %d", st)
	}
	agent.wantText("已归档", "登记", "受理", "评估", "开始调查", "提交方案", "退回方案", "批准方案", "反馈投诉人", "满意度", "归档")
	agent.wantNoUntranslated()
	agent.shot("42-complaint-archived.png")
	// The printable handling sheet shows the return and the approval.
	if st := agent.clickNav(`#complaint-print`); st != http.StatusOK {
		t.Fatalf("sheet = %d", st)
	}
	agent.wantText("医疗投诉及纠纷处理表", number, "退回方案", "批准方案", "请补充呼叫铃响应的整改措施", "处理时限", "科室负责人签字")
	agent.wantNoUntranslated()
	agent.wantFits(1366)
	agent.shot("45-complaint-sheet.png")

	c, err := s.App.Complaints.Get(ctx, systemPrincipal(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != complaint.Archived || c.Number != number || len(c.DepartmentIDs) != 2 || c.Satisfaction != "satisfied" {
		t.Fatalf("stored complaint: %s %s %v %s", c.Status, c.Number, c.DepartmentIDs, c.Satisfaction)
	}
	evs, err := s.App.Complaints.Events(ctx, systemPrincipal(), id)
	if err != nil || len(evs) != 11 {
		t.Fatalf("%d events (%v), want register … archive", len(evs), err)
	}

	// 5. The list in quality's view and the intake form on a phone.
	quality := b.loggedIn(t, "quality")
	quality.open("/complaints?tab=all&status=all")
	quality.wantText(number, "已归档")
	quality.wantNoUntranslated()
	quality.shot("43-complaint-list.png")
	phone := b.loggedInPhone(t, "agent")
	phone.open("/complaints/new")
	phone.wantText("登记投诉")
	phone.shot("44-complaint-intake-phone.png")
}
