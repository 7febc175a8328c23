package e2e

// The loop of issue 4 in one browser walk: quality designs a questionnaire
// and makes it the SMS invitation, the administrator plans an SMS step for
// the ward, a discharge is imported, the survey worker's sweep queues the
// invitation, the patient answers 不满意 about the nurses on a phone, the
// record and the ward's notice appear, the ward head rectifies, quality
// closes with a recovery survey, and that survey waits in the outbox.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"suifang/internal/access"
	"suifang/internal/followup"
	"suifang/internal/notice"
)

func TestBrowserSurveyToNoticeWalk(t *testing.T) {
	began := time.Now()
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, deps := h01(t, s)
	sys := systemPrincipal()
	b := newBrowser(t, s)
	mark := time.Now()
	step := func(name string) {
		t.Logf("%s took %s", name, time.Since(mark).Round(time.Millisecond))
		mark = time.Now()
	}

	// 1. Quality designs a two-item questionnaire: satisfaction with the
	// nurses (a 不满意 raises a nursing notice) and a free-text comment.
	quality := b.loggedIn(t, "quality")
	dialogs := quality.acceptDialogs()
	if st := quality.open(fmt.Sprintf("/surveys?inst=%d", inst)); st != http.StatusOK {
		t.Fatalf("/surveys = %d", st)
	}
	quality.fill("#title", "出院护理满意度短信问卷")
	quality.fill("#key", "ward_nursing_sms")
	quality.setValue("#purpose", "inpatient")
	if st := quality.clickNav(`form[action="/surveys"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("create questionnaire = %d", st)
	}
	var vid int64
	if _, err := fmt.Sscanf(quality.path(), "/surveys/versions/%d/edit", &vid); err != nil {
		t.Fatalf("after creating, the browser is at %s, want the designer", quality.where())
	}
	quality.wantText("问卷已创建，请设计题目。", "设计问卷")
	// The new questionnaire starts with an "overall" item: replace it.
	if got := quality.value(`input[name="i0.link"]`); got != "overall" {
		t.Fatalf("first designer row is %q, want the starter item overall", got)
	}
	// Centred, so the sticky save bar does not cover the box.
	quality.eval(`document.querySelector('input[name="i0.del"]').scrollIntoView({block: "center"}), true`)
	quality.check(`input[name="i0.del"]`)
	quality.fill("#sections", "护理服务")
	quality.fill(`input[name="i1.link"]`, "nurses")
	quality.fill(`input[name="i1.text"]`, "住院期间，您对护士的服务满意吗？")
	quality.setValue(`select[name="i1.type"]`, "satisfaction")
	quality.setValue(`select[name="i1.topic"]`, "nurses")
	quality.setValue(`select[name="i1.element"]`, "satisfaction")
	quality.fill(`input[name="i1.weight"]`, "10")
	quality.check(`input[name="i1.req"]`)
	quality.fill(`input[name="i2.link"]`, "comment")
	quality.fill(`input[name="i2.text"]`, "您对护理工作还有什么意见或建议？")
	quality.setValue(`select[name="i2.type"]`, "text")
	quality.setValue(`select[name="i2.element"]`, "opinions")
	// The designer's cards lay their fields out in a grid at desk width.
	wantStyle(quality, ".sv-item-grid", "display", "grid")
	quality.shot("60-walk-designer.png")
	if st := quality.clickNav(`button[name=then][value=publish]`); st != http.StatusOK {
		t.Fatalf("save and publish = %d", st)
	}
	select {
	case msg := <-dialogs:
		t.Logf("publish asked: %s", msg)
	default:
		t.Error("publishing asked for no confirmation")
	}
	quality.wantText("已发布。新的邀请将使用此版本。", "出院护理满意度短信问卷", "住院期间，您对护士的服务满意吗？", "您对护理工作还有什么意见或建议？")
	quality.wantNoText("总的来说，您满意吗？")
	quality.wantNoUntranslated()
	v, err := s.App.Survey.Version(ctx, sys, vid)
	if err != nil {
		t.Fatal(err)
	}
	if items := v.Body.Items(); v.Status != "published" || len(items) != 2 || items[0].LinkID != "nurses" || items[0].Topic != "nurses" ||
		items[0].Type != "satisfaction" || !items[0].Required || items[1].LinkID != "comment" || items[1].Type != "text" {
		t.Fatalf("published version: status %s, items %+v", v.Status, v.Body.Items())
	}
	// It becomes the questionnaire SMS follow-ups invite to.
	quality.open(fmt.Sprintf("/surveys/settings?inst=%d", inst))
	quality.setValue("#InviteKey", "ward_nursing_sms")
	quality.fill("#ServicePhone", "0571-88886666")
	if st := quality.clickNav(`form[action="/surveys/settings"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("save settings = %d", st)
	}
	quality.wantText("问卷设置已保存。")
	if got := quality.value("#InviteKey"); got != "ward_nursing_sms" {
		t.Fatalf("invitation questionnaire after saving = %q", got)
	}
	quality.shot("61-walk-settings.png")
	st, err := s.App.Survey.Settings(ctx, sys, inst)
	if err != nil || st.InviteKey != "ward_nursing_sms" || st.ServicePhone != "0571-88886666" {
		t.Fatalf("stored settings %+v (%v)", st, err)
	}
	step("1 design")

	// 2. The administrator plans one SMS satisfaction step, on the day of
	// discharge, for the ward 0301W1; then imports a discharge from it.
	admin := b.loggedIn(t, "admin")
	admin.open(fmt.Sprintf("/admin/rules/new?inst=%d", inst))
	admin.fill("#name", "心内一病区短信满意度")
	admin.fill("#priority", "5")
	admin.fill("#departments", "0301W1")
	admin.fill(`input[name="s0_key"]`, "SMS")
	admin.setValue(`select[name="s0_level"]`, "3")
	admin.setValue(`select[name="s0_role"]`, "agent")
	admin.setValue(`select[name="s0_channel"]`, "sms")
	admin.fill(`input[name="s0_start"]`, "0")
	admin.fill(`input[name="s0_due"]`, "3")
	admin.check(`input[name="s0_satisfaction"]`)
	admin.fill(`input[name="s0_purpose"]`, "出院当日短信满意度调查")
	if st := admin.clickNav(`form.rule-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("save rule = %d", st)
	}
	admin.wantText("规则已保存", "心内一病区短信满意度")
	admin.shot("62-walk-rule.png")

	pat := walkPatients()[0] // 张晓明, discharged today from 心血管内科一病区
	admin.open("/imports")
	admin.setValue("#institution", itoa(inst))
	admin.upload("#file", writeWalkCSV(t, []walkPatient{pat}))
	if st := admin.clickNav(`form[action="/imports"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("import = %d", st)
	}
	admin.wantText("导入报告", "心内科出院患者-20260930.csv")
	admin.shot("63-walk-import.png")
	enc, err := s.App.Patients.EncounterByVisit(ctx, sys, inst, pat.Visit)
	if err != nil {
		t.Fatalf("the imported stay: %v", err)
	}
	if enc.WardID != deps["0301W1"] {
		t.Fatalf("stay in ward %d, want 0301W1", enc.WardID)
	}
	tasks, err := s.App.Followup.EncounterTasks(ctx, sys, enc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].StepKey != "SMS" || tasks[0].Channel != "sms" || tasks[0].Next.String() != "2026-09-30" {
		for _, tk := range tasks {
			t.Logf("task %s channel %s next %s", tk.StepKey, tk.Channel, tk.Next)
		}
		t.Fatalf("the stay has %d tasks, want the one SMS step due today", len(tasks))
	}
	task := tasks[0]
	step("2 rule and import")

	// 3. The survey worker's sweep (run here rather than waiting for its
	// minute) invites the patient; the outbox holds the SMS with the link.
	if _, err := s.App.Survey.InviteDue(ctx); err != nil {
		t.Fatal(err)
	}
	var invID int64
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT id FROM survey_invitations WHERE task_id = $1`, task.ID).Scan(&invID); err != nil {
		t.Fatalf("no invitation for task %d: %v", task.ID, err)
	}
	invMsg := outboxMessage(t, s, "survey.invite", fmt.Sprintf("survey_invitation:%d", invID))
	quality.open(fmt.Sprintf("/admin/outbox/%d", invMsg))
	quality.wantText("survey.invite", "短信", "138****5601", "示范市第一人民医院", "张先生", "0571-88886666")
	quality.wantNoText(pat.Phone, pat.Name)
	// Staff see the link cut short: a live link would let them answer
	// for the patient. The patient's SMS carries the whole token.
	token, err := s.App.Survey.TokenOf(ctx, access.System(), invID)
	if err != nil {
		t.Fatal(err)
	}
	path := "/s/" + token
	if text := quality.text(".message-text"); strings.Contains(text, token) || !strings.Contains(text, "/s/"+token[:4]+"…") {
		t.Fatalf("the outbox shows %q, want the survey link masked", text)
	}
	quality.wantNoUntranslated()
	quality.shot("64-walk-outbox-invite.png")
	step("3 invitation")

	// 4. The patient opens the link on a phone and says 不满意 about the
	// nurses, with a comment.
	ph := b.session(t)
	ph.do(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if st := ph.open(path); st != http.StatusOK {
		t.Fatalf("open %s = %d", path, st)
	}
	ph.wantText("示范市第一人民医院", "出院护理满意度短信问卷", "住院期间，您对护士的服务满意吗？", "您对护理工作还有什么意见或建议？", "0571-88886666")
	ph.wantNoText(pat.Name)
	ph.do(chromedp.Click(chromedp.CSS(`label:has(> input[name="a.nurses"][value="dissatisfied"]) > span`)))
	if !ph.exists(`input[name="a.nurses"][value="dissatisfied"]:checked`) {
		t.Fatal("tapping 不满意 did not choose it")
	}
	ph.fill(`textarea[name="a.comment"]`, "夜间呼叫铃响了很久护士才来")
	ph.wantFits(390)
	ph.shot("65-walk-phone-answer.png")
	if st := ph.clickNav(`button.sv-next`); st != http.StatusOK {
		t.Fatalf("submit = %d", st)
	}
	ph.wantText("感谢您的反馈！", "0571-88886666")
	ph.wantFits(390)
	ph.shot("66-walk-phone-thanks.png")
	step("4 patient")

	// 5. The follow-up record holds the 不满意 and the comment.
	recs, err := s.App.Followup.TaskRecords(ctx, sys, task.ID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records of task %d: %d (%v)", task.ID, len(recs), err)
	}
	rec := recs[0]
	if rec.Satisfaction != followup.Dissatisfied || rec.Channel != "sms" || !strings.Contains(rec.Opinions, "呼叫铃") {
		t.Fatalf("record = %+v", rec.RecordInput)
	}
	quality.open(fmt.Sprintf("/followup/records?inst=%d&number=%s", inst, rec.Number))
	row := quality.rowText("main table", rec.Number)
	if !containsAll(row, rec.Number, pat.Masked(), pat.MRN, "不满意") || strings.Contains(row, pat.Name) {
		t.Fatalf("record row = %q, want the number, %s, the MRN and 不满意", row, pat.Masked())
	}
	quality.shot("67-walk-record.png")
	step("5 record")

	// 6. The nursing notice went to the ward: 陈主任 accepts it, hands in
	// the root cause and the action; quality verifies and closes it with a
	// recovery survey.
	// One complaint, one notice: the record the survey wrote raises none of its own.
	var count int
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM notices WHERE patient_id = $1`, enc.PatientID).Scan(&count); err != nil || count != 1 {
		logNotices(t, s, enc.PatientID)
		t.Fatalf("%d notices about the patient (%v), want 1", count, err)
	}
	var noticeID int64
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT id FROM notices WHERE source_kind = $1 AND patient_id = $2 AND topic = $3`,
		notice.FromSurvey, enc.PatientID, "nurses").Scan(&noticeID); err != nil {
		t.Fatalf("no nursing notice from the answer: %v", err)
	}
	n, err := s.App.Notices.Get(ctx, sys, noticeID)
	if err != nil {
		t.Fatal(err)
	}
	if n.DepartmentID != deps["0301W1"] || n.Status != notice.Issued || !strings.Contains(n.Summary, "不满意") {
		t.Fatalf("notice %s: department %d status %s summary %q; want the ward, issued, 不满意", n.Number, n.DepartmentID, n.Status, n.Summary)
	}
	logNotices(t, s, enc.PatientID)
	noticePath := fmt.Sprintf("/notices/%d", noticeID)
	head := b.loggedIn(t, "head")
	head.open("/notices")
	if row := head.rowText("main table", n.Number); !containsAll(row, "已下发", "护理", "心血管内科一病区", "不满意", pat.Masked()) {
		t.Fatalf("head's notice row = %q", row)
	}
	if st := head.clickNav(`main table a[href="` + noticePath + `"]`); st != http.StatusOK {
		t.Fatalf("open notice = %d", st)
	}
	head.wantText(n.Number, "满意度调查", "住院期间，您对护士的服务满意吗：不满意")
	wantStyle(head, ".flowbar", "display", "flex")
	if st := head.clickNav(`#accept-form button`); st != http.StatusOK {
		t.Fatalf("accept = %d", st)
	}
	head.wantText("已签收 " + n.Number)
	head.fill("#root_cause", "夜班护士人手不足，呼叫铃响应无人盯守")
	head.fill("#action_taken", "夜班增加一名护士；呼叫铃三分钟未应答自动转护士长手机")
	if st := head.clickNav(`#submit-form button`); st != http.StatusOK {
		t.Fatalf("submit = %d", st)
	}
	head.wantText(n.Number+" 的整改已提交质控科。", "待验证")
	quality.open(noticePath)
	if st := quality.clickNav(`#verify-form button`); st != http.StatusOK {
		t.Fatalf("verify = %d", st)
	}
	quality.wantText(n.Number+" 验证通过。", "已验证")
	quality.check(`#close-form input[name=send_recovery]`)
	if st := quality.clickNav(`#close-form button`); st != http.StatusOK {
		t.Fatalf("close = %d", st)
	}
	quality.wantText(n.Number+" 已关闭。", "已关闭", "夜班增加一名护士")
	quality.wantNoUntranslated()
	quality.shot("68-walk-notice-closed.png")
	if n, err = s.App.Notices.Get(ctx, sys, noticeID); err != nil || n.Status != notice.Closed || !n.SendRecovery {
		t.Fatalf("stored notice after closing: %+v (%v)", n, err)
	}
	step("6 notice")

	// 7. The recovery survey waits in the outbox for the patient.
	var recID int64
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT id FROM survey_invitations WHERE notice_ref = $1`,
		fmt.Sprintf("notice:%d", noticeID)).Scan(&recID); err != nil {
		t.Fatalf("no recovery invitation: %v", err)
	}
	recMsg := outboxMessage(t, s, "notice.recovery_survey", fmt.Sprintf("survey_invitation:%d", recID))
	quality.open(fmt.Sprintf("/admin/outbox/%d", recMsg))
	quality.wantText("notice.recovery_survey", "短信", "138****5601", "我院已就您反映的问题进行改进")
	if text := quality.text(".message-text"); !strings.Contains(text, "/s/") || strings.Contains(text, token) {
		t.Fatalf("the recovery SMS shows %q (the first survey's token was %s)", text, token)
	}
	if rec, err := s.App.Survey.TokenOf(ctx, access.System(), recID); err != nil || rec == token {
		t.Fatalf("the recovery survey's token %q (%v) is the first survey's", rec, err)
	}
	quality.shot("69-walk-outbox-recovery.png")
	step("7 recovery")
	t.Logf("walk took %s in all", time.Since(began).Round(time.Millisecond))
}

// wantStyle fails unless the first element sel matches has the computed
// style prop = want (a stylesheet block left open hides whole sections).
func wantStyle(tb *tab, sel, prop, want string) {
	tb.t.Helper()
	if got := tb.eval(fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).getPropertyValue(%q)`, sel, prop)); got != want {
		tb.t.Errorf("%s: %s { %s: %v }, want %s", tb.where(), sel, prop, got, want)
	}
}

// outboxMessage is the id of the one outbox message of template for ref.
func outboxMessage(t *testing.T, s *server, template, ref string) int64 {
	t.Helper()
	var ids []int64
	rows, err := s.App.DB.R().QueryContext(t.Context(), `SELECT id FROM outbox WHERE template_key = $1 AND ref = $2 ORDER BY id`, template, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		t.Fatalf("outbox messages %s for %s: %v, want one", template, ref, ids)
	}
	return ids[0]
}

// logNotices logs every notice raised about a patient, for the report.
func logNotices(t *testing.T, s *server, patient int64) {
	t.Helper()
	rows, err := s.App.DB.R().QueryContext(t.Context(), `SELECT number, source_kind, source_ref, topic, department_id FROM notices
		WHERE patient_id = $1 ORDER BY id`, patient)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var number, kind, ref, topic string
		var dept int64
		if err := rows.Scan(&number, &kind, &ref, &topic, &dept); err != nil {
			t.Fatal(err)
		}
		t.Logf("notice %s: %s %s topic %s department %d", number, kind, ref, topic, dept)
	}
}
