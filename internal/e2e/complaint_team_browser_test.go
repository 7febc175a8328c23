package e2e

// The investigation of a complaint in a browser: the owner puts a nurse of
// another department on the team and gives her a task; she finds it under
// "my complaint tasks", marks it done with her findings, uploads a
// screenshot as evidence and downloads it again.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"suifang/internal/complaint"
)

// evidencePNG writes a small real PNG and returns its path and bytes.
func evidencePNG(t *testing.T) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for x := range 64 {
		for y := range 40 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 6), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "呼叫铃记录.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, buf.Bytes()
}

func TestBrowserComplaintTeam(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, deps := h01(t, s)
	b := newBrowser(t, s)

	// An orthopaedic complaint the agent received and assessed: the
	// cardiology nurse sees nothing of it yet.
	ap := principalOf(t, s, "agent")
	c, err := s.App.Complaints.Register(ctx, ap, complaint.Input{InstitutionID: inst, Channel: "phone", ComplainantName: "何文静",
		ComplainantRole: "relative", Contact: "139 0000 1111", DepartmentID: deps["0405"], Category: "service_attitude",
		Content: "母亲术后夜间呼叫无人应答，护士解释不耐烦。", Asks: "希望说明情况"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []complaint.ActionInput{{Action: complaint.ActAccept},
		{Action: complaint.ActAssess, Category: "service_attitude", Severity: "general", Complexity: "simple", OtherDepts: []int64{deps["0301"]}}} {
		if _, err := s.App.Complaints.Act(ctx, ap, c.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	path := "/complaints/" + strconv.FormatInt(c.ID, 10)
	nurse := b.loggedIn(t, "nurse")
	if st := nurse.open(path); st != http.StatusForbidden {
		t.Fatalf("nurse before joining = %d, want 403", st)
	}

	// 1. The agent adds 周护士 (nursing) to the team.
	agent := b.loggedIn(t, "agent")
	agent.open(path)
	agent.wantText("调查", "尚未组建调查组")
	agent.do(chromedp.Click(chromedp.CSS(`details:has(#member-form) > summary`)))
	if st := agent.clickNav(`#member-form button`); st != http.StatusUnprocessableEntity {
		t.Fatalf("member without a person = %d, want 422", st)
	}
	if !agent.exists(`#member_user[aria-invalid=true]`) {
		t.Fatal("the refused member form does not mark the person")
	}
	nurseID := principalOf(t, s, "nurse").UserID
	agent.setValue("#member_user", strconv.FormatInt(nurseID, 10))
	agent.setValue("#discipline", "nursing")
	if st := agent.clickNav(`#member-form button`); st != http.StatusOK {
		t.Fatalf("add member = %d", st)
	}
	agent.wantText("周护士 已加入调查组")

	// 2. … and gives her a task with the default due date.
	agent.do(chromedp.Click(chromedp.CSS(`details:has(#task-form) > summary`)))
	agent.fill("#task_what", "调取当晚呼叫铃记录并说明应答情况")
	if st := agent.clickNav(`#task-form button`); st != http.StatusOK {
		t.Fatalf("add task = %d", st)
	}
	// Wednesday 2026-09-30 + 3 working days over National Day = 2026-10-10.
	agent.wantText("任务已分配给 周护士，期限 2026-10-10", "1 项任务未完成")
	agent.wantNoUntranslated()
	agent.shot("cteam-1-owner.png")

	// 3. The nurse finds it under "my complaint tasks" and marks it done.
	nurse.open("/complaints")
	nurse.wantText("我的投诉调查任务", c.Number, "调取当晚呼叫铃记录")
	nurse.shot("cteam-2-my-tasks.png")
	if st := nurse.clickNav(`#my-tasks a[href^="` + path + `"]`); st != http.StatusOK {
		t.Fatalf("open from my tasks = %d", st)
	}
	if nurse.exists(`#member-form`) || nurse.exists(`#task-form`) {
		t.Fatal("a member is offered the team management forms")
	}
	nurse.fill(`.ct-done textarea`, "23:10 呼叫，23:31 应答；当班护士同时处理两名危重患者")
	if st := nurse.clickNav(`.ct-done button`); st != http.StatusOK {
		t.Fatalf("task done = %d", st)
	}
	nurse.wantText("任务已完成", "23:31 应答")

	// 4. She uploads a PNG screenshot as evidence and downloads it again.
	file, data := evidencePNG(t)
	nurse.do(chromedp.Click(chromedp.CSS(`details:has(#evidence-form) > summary`)))
	nurse.upload(`#evidence_file`, file)
	nurse.fill("#evidence_note", "呼叫铃系统截图")
	if st := nurse.clickNav(`#evidence-form button`); st != http.StatusOK {
		t.Fatalf("upload = %d", st)
	}
	nurse.wantText("已上传 呼叫铃记录.png", "呼叫铃系统截图")
	href := nurse.eval(`document.querySelector('#team-files a').getAttribute('href')`).(string)
	got := run(nurse, "download", chromedp.Evaluate[map[string]string](fmt.Sprintf(`fetch(%q).then(async r => ({
		status: String(r.status), type: r.headers.get('content-type') || '', disposition: r.headers.get('content-disposition') || '',
		nosniff: r.headers.get('x-content-type-options') || '', size: String((await r.arrayBuffer()).byteLength)}))`, href), chromedp.EvalAwaitPromise))
	if got["status"] != "200" || got["type"] != "image/png" || got["nosniff"] != "nosniff" || got["size"] != strconv.Itoa(len(data)) ||
		got["disposition"] == "" || got["disposition"][:10] != "attachment" {
		t.Fatalf("download %v, want 200 image/png attachment nosniff of %d bytes", got, len(data))
	}
	nurse.wantNoUntranslated()
	nurse.shot("cteam-3-member.png")

	// The owner sees the finished task and the file; so does the sheet.
	agent.open(path)
	agent.wantText("已完成", "23:31 应答", "呼叫铃记录.png")
	agent.wantFits(1366)
	agent.shot("cteam-4-owner-after.png")
	if st := agent.clickNav(`#complaint-print`); st != http.StatusOK {
		t.Fatalf("sheet = %d", st)
	}
	agent.wantText("调查组及任务", "周护士", "附件清单", "呼叫铃记录.png")
	agent.shot("cteam-5-sheet.png")
	phone := b.loggedInPhone(t, "nurse")
	phone.open(path + "#investigation")
	phone.wantText("调查组", "证据材料")
	phone.wantFits(390)
	phone.shot("cteam-6-phone.png")

	evs, err := s.App.Complaints.Events(ctx, systemPrincipal(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range evs {
		acts = append(acts, e.Action)
	}
	want := []string{"register", "accept", "assess", "member_add", "task_add", "task_done", "evidence"}
	if fmt.Sprint(acts) != fmt.Sprint(want) {
		t.Fatalf("history %v, want %v", acts, want)
	}
}
