package e2e

// The outbox in a browser: 质控 sees the messages the demo queued, finds
// one the content guard refused, edits a template (refused, then saved) and
// reads an escalation in the inbox whose count shows in the header.

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"suifang/internal/notify"
)

func TestBrowserOutbox(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, _ := h01(t, s)
	qc := principalOf(t, s, "quality")
	b := newBrowser(t, s)

	// The demo's notices already told quality of some; count from there.
	base, err := s.App.Notify.Unread(ctx, qc)
	if err != nil {
		t.Fatal(err)
	}
	var refused int64
	err = s.App.DB.Write(ctx, func(tx *sql.Tx) error {
		for i, phone := range []string{"13812345678", "13900001111", "13700002222"} {
			if _, err := s.App.Notify.Enqueue(ctx, tx, notify.Message{InstitutionID: inst, Channel: notify.SMS, Template: "survey.invite",
				To: phone, Patient: true, NotBefore: s.Clock.Now().Add(time.Hour), IdempotencyKey: fmt.Sprintf("walk-invite-%d", i), Ref: fmt.Sprintf("survey_invitation:%d", i),
				Params: map[string]string{"hospital": "示范市第一人民医院", "name": "王先生", "link": "https://sf.example.cn/s/Q7w2e", "phone": "0571-88880000"}}); err != nil {
				return err
			}
		}
		var err error
		refused, err = s.App.Notify.Enqueue(ctx, tx, notify.Message{InstitutionID: inst, Channel: notify.SMS, Template: "appointment.remind",
			To: "13600003333", Patient: true, IdempotencyKey: "walk-appt", Params: map[string]string{"hospital": "示范市第一人民医院",
				"name": "赵女士", "date": "10月12日", "time": "09:30", "dept": "肿瘤内科", "phone": "0571-88880000"}})
		if err != nil {
			return err
		}
		for i, number := range []string{"TS-20260930-0001", "TS-20260930-0002"} {
			if _, err := s.App.Notify.Enqueue(ctx, tx, notify.Message{InstitutionID: inst, Channel: notify.InApp, Template: "complaint.escalate",
				To: fmt.Sprint(qc.UserID), IdempotencyKey: fmt.Sprintf("walk-esc-%d", i),
				Params: map[string]string{"number": number, "deadline": "今天17:00", "link": "/notices"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The invitations are due in an hour, so the running worker leaves them
	// pending for this walk.
	// 1. The header shows two unread notifications; the outbox lists the
	// three invitations with masked numbers and one refused message.
	tb := b.loggedIn(t, "quality")
	if badge := tb.text(".inbox-link .badge"); badge != fmt.Sprint(base+2) {
		t.Errorf("header badge = %q, want %d", badge, base+2)
	}
	// The tab count is the database's: the refused message plus any dead
	// message the demo's workers produced meanwhile (none expected; each is
	// logged with its reason, so a run that finds one says why).
	dead := deadMessages(t, s)
	if dead < 1 {
		t.Fatalf("%d dead messages, want the refused one at least", dead)
	}
	if st := tb.open(fmt.Sprintf("/admin/outbox?inst=%d", inst)); st != http.StatusOK {
		t.Fatalf("/admin/outbox = %d", st)
	}
	// No exact pending count: the survey worker may queue the demo's own
	// invitations at any moment.
	tb.wantText("待发送", fmt.Sprintf("发送失败 %d", dead), "138****5678", "survey.invite")
	tb.wantNoText("13812345678")
	tb.wantNoUntranslated()
	tb.shot("40-outbox-pending.png")
	tb.open(fmt.Sprintf("/admin/outbox?inst=%d&status=dead", inst))
	tb.wantText("appointment.remind", "content guard")
	tb.open(fmt.Sprintf("/admin/outbox/%d", refused))
	tb.wantText("肿瘤", "重新发送")
	tb.shot("41-outbox-dead-message.png")

	// 2. A template edit naming a sensitive specialty is refused with the
	// text kept; a clean one is saved and used.
	tb.open(fmt.Sprintf("/admin/templates?inst=%d", inst))
	tb.wantText("survey.invite", "SF_SURVEY_INVITE", "复诊提醒")
	tb.wantNoUntranslated()
	tb.shot("42-templates.png")
	tb.open(fmt.Sprintf("/admin/templates/edit?inst=%d&key=survey.invite&channel=sms", inst))
	tb.fill("#body", "【{hospital}】{name}您好，请填写精神科随访问卷：{link}，咨询{phone}")
	if st := tb.clickNav(`button[value=save]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("saving a refused template = %d, want 422", st)
	}
	tb.wantText("内容检查未通过", "精神")
	if v := tb.value("#body"); !strings.Contains(v, "精神科随访问卷") {
		t.Errorf("the refused text was not kept: %q", v)
	}
	if !tb.exists(`#body[aria-invalid="true"]`) {
		t.Error("the body field is not marked")
	}
	tb.shot("43-template-refused.png")
	tb.fill("#body", "【{hospital}】{name}您好，请填写出院随访问卷：{link}，咨询{phone}")
	tb.fill("#sms_code", "SMS_20261001")
	if st := tb.clickNav(`button[value=save]`); st != http.StatusOK {
		t.Fatalf("save = %d", st)
	}
	tb.wantText("模板已保存", "SMS_20261001", "本院版本")

	// 3. The inbox: two unread escalations; opening one follows its link
	// and marks it read.
	tb.open("/inbox")
	tb.wantText("投诉 TS-20260930-0001 已到今天17:00仍未办结")
	tb.shot("44-inbox.png")
	if st := tb.clickNav(`ul.inbox li:first-child form:first-of-type button`); st != http.StatusOK {
		t.Fatalf("open notification = %d", st)
	}
	tb.wantPath("/notices")
	if badge, want := tb.text(".inbox-link .badge"), fmt.Sprint(base+1); badge != want && !(base == 0 && badge == "") {
		t.Errorf("header badge after reading one = %q, want %s", badge, want)
	}

	// 4. A nurse has an inbox but no outbox.
	nurse := b.loggedIn(t, "nurse")
	if nurse.exists(`a[href="/admin/outbox"]`) {
		t.Error("the nurse's menu offers the outbox")
	}
	if st := nurse.open(fmt.Sprintf("/admin/outbox?inst=%d", inst)); st != http.StatusForbidden {
		t.Errorf("nurse /admin/outbox = %d, want 403", st)
	}
	nurse.open("/inbox")
	nurse.wantText("暂无通知")

	// 5. Phone width: the outbox and the template editor stay usable.
	phone := b.loggedInPhone(t, "quality")
	phone.open(fmt.Sprintf("/admin/outbox?inst=%d", inst))
	phone.shot("45-outbox-phone.png")
	phone.open(fmt.Sprintf("/admin/templates/edit?inst=%d&key=appointment.remind&channel=sms", inst))
	phone.shot("46-template-phone.png")
}

// deadMessages counts the dead outbox messages and logs each one's reason.
func deadMessages(t *testing.T, s *server) int {
	t.Helper()
	rows, err := s.App.DB.R().QueryContext(t.Context(), `SELECT id, channel, template_key, ref, last_error FROM outbox WHERE status = 'dead'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var channel, key, ref, reason string
		if err := rows.Scan(&id, &channel, &key, &ref, &reason); err != nil {
			t.Fatal(err)
		}
		t.Logf("dead message %d %s %s %s: %s", id, channel, key, ref, reason)
		n++
	}
	return n
}
