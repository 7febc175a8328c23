package e2e

// Complaint intake in a browser: the service centre types this week's
// suggestion-box slips as a batch (one row wrong, so nothing is saved until
// it is fixed), then a caller complains again about what she reported ten
// minutes ago: the intake form warns of the duplicate before saving, the agent
// registers it anyway and merges it into the first one.

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"suifang/internal/complaint"
)

func TestBrowserComplaintIntake(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, deps := h01(t, s)
	b := newBrowser(t, s)

	// 1. Suggestion-box batch: three slips, the second names a department
	// the hospital does not have.
	agent := b.loggedIn(t, "agent")
	agent.open("/complaints")
	if st := agent.clickNav(`#batch-complaints`); st != http.StatusOK {
		t.Fatalf("batch page = %d", st)
	}
	agent.wantText("意见箱批量录入", "开箱日期", "从 Excel 粘贴")
	slip := func(row int, box, text, name, dept string) {
		r := "#slip-" + strconv.Itoa(row) + " "
		agent.fill(r+`input[name=box]`, box)
		agent.fill(r+`textarea[name=text]`, text)
		if name != "" {
			agent.fill(r+`input[name=name]`, name)
		}
		if dept != "" {
			agent.fill(r+`input[name=dept]`, dept)
		}
	}
	slip(1, "门诊大厅", "挂号窗口排队太久，早上只开了两个窗口。", "", "")
	slip(2, "住院部三楼", "病房卫生间地面很脏，垃圾桶好几天没人倒。", "王五", "骨伤科")
	slip(3, "急诊", "夜间急诊候诊时间太长，没有人解释原因。", "", "心血管内科")
	if st := agent.clickNav(`#register-slips`); st != http.StatusUnprocessableEntity {
		t.Fatalf("batch with a bad row = %d, want 422", st)
	}
	agent.wantText("第 2 行", "没有这个名称或编码的科室")
	if !agent.exists(`#slip-2.bad input[name=dept][aria-invalid=true]`) || agent.exists(`#slip-1.bad`) {
		t.Fatal("the bad row is not the one marked")
	}
	if agent.value(`#slip-2 input[name=dept]`) != "骨伤科" || agent.value(`#slip-3 textarea[name=text]`) != "夜间急诊候诊时间太长，没有人解释原因。" ||
		agent.value(`#slip-1 textarea[name=text]`) != "挂号窗口排队太久，早上只开了两个窗口。" {
		t.Fatal("the refused batch lost input")
	}
	agent.shot("46-complaint-batch-error.png")
	agent.fill(`#slip-2 input[name=dept]`, "骨科")
	if st := agent.clickNav(`#register-slips`); st != http.StatusOK {
		t.Fatalf("batch = %d", st)
	}
	agent.wantText("已登记 3 张意见条", "意见箱")
	mine, err := s.App.Complaints.List(ctx, systemPrincipal(), complaint.Filter{InstitutionID: inst, Tab: complaint.TabAll})
	if err != nil {
		t.Fatal(err)
	}
	boxed := 0
	for _, c := range mine.Items {
		if c.Channel == "suggestion_box" && c.ReceivedAt.After(s.Clock.Now().Add(-time.Minute)) {
			boxed++
		}
	}
	if boxed != 3 {
		t.Errorf("%d slips registered now, want 3", boxed)
	}
	agent.wantNoUntranslated()
	agent.shot("47-complaint-batch-done.png")

	// 2. A call, then the same caller again ten minutes later.
	register := func(content string) int64 {
		t.Helper()
		agent.open("/complaints/new")
		agent.fill("#complainant_name", "赵丽")
		agent.setValue("#complainant_role", "relative")
		agent.fill("#contact", "137 0000 2468")
		agent.setValue("#department_id", strconv.FormatInt(deps["0405"], 10))
		agent.fill("#content", content)
		return agent.clickNav(`#complaint-form button[type=submit]`)
	}
	if st := register("我母亲术后换药时护士动作粗暴，伤口出血，护士还说是我们自己没看好。要求护士长道歉。"); st != http.StatusOK {
		t.Fatalf("first call = %d", st)
	}
	first := agent.path()
	firstNumber := agent.text("h1 code")
	s.Clock.Advance(10 * time.Minute) // sessions end after 30 idle minutes
	if st := register("我妈做完手术换药的时候护士很粗暴，伤口都出血了，还怪我们没看好，要求护士长道歉！"); st != http.StatusOK {
		t.Fatalf("second call = %d", st)
	}
	agent.wantPath("/complaints")
	agent.wantText("可能是重复投诉", firstNumber, "同一联系方式", "相似度")
	if agent.value("#content") == "" || agent.value("#complainant_name") != "赵丽" {
		t.Fatal("the warning lost the input")
	}
	agent.shot("48-complaint-duplicate-warning.png")
	agent.check("#confirm_duplicate")
	if st := agent.clickNav(`#complaint-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("register anyway = %d", st)
	}
	second := agent.path()
	if second == first || !strings.HasPrefix(second, "/complaints/") {
		t.Fatalf("second complaint at %s", second)
	}
	agent.wantText("疑似重复", firstNumber, "将本投诉并入")

	// 3. The agent merges the second into the first.
	dialogs := agent.acceptDialogs()
	firstID := strings.TrimPrefix(first, "/complaints/")
	agent.fill(`#merge-into-`+firstID+` input[name=note]`, "同一事件，家属再次来电")
	agent.shot("49-complaint-possible-duplicates.png")
	if st := agent.clickNav(`#merge-into-` + firstID + ` button`); st != http.StatusOK {
		t.Fatalf("merge = %d", st)
	}
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "不能撤销") {
			t.Errorf("confirm said %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Error("no confirmation before merging")
	}
	agent.wantText("已合并", "本投诉是重复投诉，已合并到", firstNumber, "合并到另一投诉", "已合并到另一投诉，在那里继续处理")
	agent.wantNoUntranslated()
	if agent.exists(`.flowbar li`) || agent.exists(`#accept-form`) {
		t.Error("a merged complaint still shows its flow or an action")
	}
	agent.shot("50-complaint-merged-duplicate.png")
	agent.open(first)
	agent.wantText("已并入的重复投诉", "我妈做完手术换药的时候", "并入重复投诉")
	agent.wantNoUntranslated()
	agent.wantFits(1366)
	agent.shot("51-complaint-merged-primary.png")
	id, _ := strconv.ParseInt(strings.TrimPrefix(second, "/complaints/"), 10, 64)
	c, err := s.App.Complaints.Get(ctx, systemPrincipal(), id)
	if err != nil || c.Status != complaint.Merged || strconv.FormatInt(c.MergedInto, 10) != firstID {
		t.Fatalf("stored duplicate: %+v %v", c, err)
	}

	// 4. The batch form on a phone.
	phone := b.loggedInPhone(t, "agent")
	phone.open("/complaints/batch")
	phone.wantText("意见箱批量录入")
	phone.wantFits(390)
	phone.shot("52-complaint-batch-phone.png")
}
