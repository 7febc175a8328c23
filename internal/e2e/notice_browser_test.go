package e2e

// The notice walk in a browser: quality raises a notice for the ward, the
// ward's head accepts it, hands in the root cause, the action and a photo
// as evidence; quality returns it once, verifies the second submission and
// closes it. The history shows every step.

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"suifang/internal/notice"
)

func TestBrowserNoticeFlow(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	_, deps := h01(t, s)
	b := newBrowser(t, s)

	// 1. Quality raises a notice about nursing for the ward, by hand.
	quality := b.loggedIn(t, "quality")
	if st := quality.clickNav(`.sidenav a[href="/notices"]`); st != http.StatusOK {
		t.Fatalf("notices = %d", st)
	}
	quality.wantText("抄告单", "全部", "已逾期")
	if st := quality.clickNav(`a.btn.primary[href^="/notices/new"]`); st != http.StatusOK {
		t.Fatalf("new notice = %d", st)
	}
	// Summary left empty: the form comes back with the field marked.
	quality.setValue("#topic", "nurses")
	quality.setValue("#department_id", itoa(deps["0301W1"]))
	if st := quality.clickNav(`form.notice-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("empty summary = %d, want 422", st)
	}
	if !quality.exists(`#summary[aria-invalid=true]`) || quality.value("#department_id") != itoa(deps["0301W1"]) {
		t.Fatal("the refused form lost the department or did not mark the summary")
	}
	quality.fill("#summary", "多名患者反映夜班护士巡视不及时，呼叫铃响应慢。")
	if st := quality.clickNav(`form.notice-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("raise = %d", st)
	}
	flash := quality.text(".flash.ok")
	number := regexp.MustCompile(`CG-H01-\d{6}-\d{4}`).FindString(flash)
	if number == "" || !strings.Contains(flash, "心血管内科一病区") {
		t.Fatalf("flash after raising = %q", flash)
	}
	noticePath := quality.path()
	quality.wantText(number, "已下发", "护理", "陈主任", "等待科室签收")
	quality.wantNoUntranslated()
	quality.shot("30-notice-raised.png")
	var id int64
	for _, r := range noticePath[len("/notices/"):] {
		id = id*10 + int64(r-'0')
	}

	// 2. 陈主任 finds it under 本科室, accepts it and submits the
	// rectification with a photo of the new rota.
	head := b.loggedIn(t, "head")
	head.open("/notices")
	head.wantText("本科室", number)
	if st := head.clickNav(`main table a[href="` + noticePath + `"]`); st != http.StatusOK {
		t.Fatalf("open notice = %d", st)
	}
	if st := head.clickNav(`#accept-form button`); st != http.StatusOK {
		t.Fatalf("accept = %d", st)
	}
	head.wantText("已签收 "+number, "提交整改")
	png := filepath.Join(t.TempDir(), "新排班表.png")
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"), 0o644); err != nil {
		t.Fatal(err)
	}
	head.upload("#file", png)
	if st := head.clickNav(`#attach-form button`); st != http.StatusOK {
		t.Fatalf("upload = %d", st)
	}
	head.wantText("已上传 新排班表.png")
	if !head.exists(`#files a[href^="` + noticePath + `/attachments/"]`) {
		t.Fatal("the evidence is not listed")
	}
	// Without the action taken the form comes back, the root cause kept.
	head.fill("#root_cause", "夜班护士配置不足，巡视制度执行不到位")
	if st := head.clickNav(`#submit-form button`); st != http.StatusUnprocessableEntity {
		t.Fatalf("submit without action = %d, want 422", st)
	}
	if head.value("#root_cause") != "夜班护士配置不足，巡视制度执行不到位" || !head.exists(`#action_taken[aria-invalid=true]`) {
		t.Fatal("the refused submission lost the root cause or did not mark the action")
	}
	head.fill("#action_taken", "增加夜班护士一名")
	if st := head.clickNav(`#submit-form button`); st != http.StatusOK {
		t.Fatalf("submit = %d", st)
	}
	head.wantText("待验证", "等待质控科验证", "增加夜班护士一名")
	head.wantNoUntranslated()
	head.shot("31-notice-submitted.png")

	// 3. Quality returns it: the action is too vague.
	quality.open(noticePath)
	quality.fill("#reason", "措施不具体，请写明巡视频次和考核办法")
	if st := quality.clickNav(`#return-form button`); st != http.StatusOK {
		t.Fatalf("return = %d", st)
	}
	quality.wantText("已退回", "措施不具体")
	quality.shot("32-notice-returned.png")

	// 4. The head resubmits; quality verifies and closes.
	head.open(noticePath)
	head.wantText("质控科退回整改", "措施不具体")
	head.fill("#action_taken", "增加夜班护士一名；每小时巡视一次并签字，护士长每周抽查，纳入绩效考核")
	if st := head.clickNav(`#submit-form button`); st != http.StatusOK {
		t.Fatalf("resubmit = %d", st)
	}
	quality.open(noticePath)
	if st := quality.clickNav(`#verify-form button`); st != http.StatusOK {
		t.Fatalf("verify = %d", st)
	}
	quality.wantText("已验证")
	if st := quality.clickNav(`#close-form button`); st != http.StatusOK {
		t.Fatalf("close = %d", st)
	}
	quality.wantText("已关闭", number, "下发", "签收", "提交整改", "退回整改", "验证通过", "上传材料")
	quality.wantNoUntranslated()
	quality.shot("33-notice-closed.png")

	n, err := s.App.Notices.Get(ctx, systemPrincipal(), id)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != notice.Closed || n.Number != number || !strings.Contains(n.ActionTaken, "每小时巡视") {
		t.Fatalf("stored notice: %s %s %q", n.Status, n.Number, n.ActionTaken)
	}
	evs, err := s.App.Notices.Events(ctx, systemPrincipal(), id)
	if err != nil || len(evs) != 8 {
		t.Fatalf("%d events (%v), want raise, accept, attach, submit, return, submit, verify, close", len(evs), err)
	}

	// 5. The list on a 1366×768 screen and the notice on a phone.
	quality.open("/notices?tab=all")
	quality.wantText(number, "已关闭")
	quality.shot("34-notices.png")
	phone := b.loggedInPhone(t, "head")
	phone.open(noticePath)
	phone.wantText(number, "已关闭")
	phone.wantFits(390)
	phone.shot("35-notice-phone.png")
	phone.open("/notices")
	phone.wantFits(390)
	phone.shot("36-notices-phone.png")
}
