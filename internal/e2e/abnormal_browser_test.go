package e2e

// An abnormal report (异常上报) in a browser: a ward nurse notices a
// suspected insurance fraud in a follow-up record and raises it from the
// record page; the leader finds the in-app message, takes charge, starts
// the investigation, concludes (referred to the insurance office) and
// closes; the nurse sees her report closed and linked from the record.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/abnormal"
	"suifang/internal/followup"
)

func TestBrowserAbnormalReport(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, deps := h01(t, s)

	// A demo record of the nurse's ward.
	page, err := s.App.Followup.Records(ctx, systemPrincipal(), followup.RecordFilter{InstitutionID: inst, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var rec *followup.RecordRow
	for _, r := range page.Rows {
		if r.DepartmentID == deps["0301W1"] && !r.Amended {
			rec = r
			break
		}
	}
	if rec == nil {
		t.Fatalf("no demo record of the cardiology ward among %d", len(page.Rows))
	}
	recPath := fmt.Sprintf("/followup/records/%d", rec.ID)
	b := newBrowser(t, s)

	// 1. The nurse raises it from the record; an empty description comes
	// back marked with the kind kept.
	nurse := b.loggedIn(t, "nurse")
	if st := nurse.open(recPath); st != http.StatusOK {
		t.Fatalf("record = %d", st)
	}
	nurse.wantText(rec.Number, "异常上报")
	if st := nurse.clickNav(`#raise-abnormal`); st != http.StatusOK {
		t.Fatalf("raise form = %d", st)
	}
	nurse.wantText("新建异常上报", "来自随访记录", rec.Number)
	nurse.check(`#abnormal-form input[name=kind][value=insurance_fraud]`)
	if st := nurse.clickNav(`#abnormal-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("empty summary = %d, want 422", st)
	}
	if !nurse.exists(`#summary[aria-invalid=true]`) || !nurse.exists(`#abnormal-form input[name=kind][value=insurance_fraud]:checked`) ||
		!nurse.exists(`#abnormal-form input[name=record]`) {
		t.Fatal("the refused form lost the kind or the source, or did not mark the description")
	}
	nurse.check(`#abnormal-form input[name=severity][value=urgent]`)
	nurse.fill("#summary", "回访时患者家属称其医保卡曾被他人借用住院，疑似冒名就医骗保。")
	nurse.shot("80-abnormal-raise.png")
	if st := nurse.clickNav(`#abnormal-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("raise = %d", st)
	}
	number := regexp.MustCompile(`YC-H01-\d{8}-\d{4}`).FindString(nurse.text(".flash.ok"))
	if number == "" {
		t.Fatalf("flash after raising = %q", nurse.text(".flash.ok"))
	}
	abPath := nurse.path()
	id, err := strconv.ParseInt(strings.TrimPrefix(abPath, "/abnormal/"), 10, 64)
	if err != nil {
		t.Fatalf("report page %s", abPath)
	}
	nurse.wantText(number, "已上报", "疑似骗保", "紧急", "待院领导或质控科认领", rec.Number)
	if nurse.exists(`#acknowledge-form`) {
		t.Error("the nurse is offered to take charge")
	}
	nurse.wantNoUntranslated()
	nurse.shot("81-abnormal-reported.png")
	// The record links to its report.
	nurse.open(recPath)
	if got := nurse.text(`#record-abnormal`); !strings.Contains(got, number) || !strings.Contains(got, "已上报") {
		t.Errorf("record block shows %q", got)
	}
	nurse.eval(`window.scrollTo(0, 0)`)
	nurse.shot("82-abnormal-record-link.png")

	// 2. The leader has the in-app message, naming only the number.
	leader := b.loggedIn(t, "leader")
	if leader.text(".inbox-link .badge") == "" {
		t.Error("the leader's header shows no unread messages")
	}
	leader.open("/inbox")
	leader.wantText("异常上报 " + number + " 已提交，请立即认领处理。")
	leader.shot("83-abnormal-inbox.png")
	if st := leader.clickNav(`ul.inbox li:first-child form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("open from inbox = %d", st)
	}
	leader.wantPath(abPath)
	if st := leader.clickNav(`.sidenav a[href="/abnormal"]`); st != http.StatusOK {
		t.Fatalf("list = %d", st)
	}
	leader.wantText("异常上报", "未关闭", number, "周护士")
	leader.shot("84-abnormal-list.png")
	if st := leader.clickNav(`main table a[href="` + abPath + `"]`); st != http.StatusOK {
		t.Fatalf("open = %d", st)
	}

	// 3. Take charge, investigate, conclude (referred), close.
	if st := leader.clickNav(`#acknowledge-form button`); st != http.StatusOK {
		t.Fatalf("acknowledge = %d", st)
	}
	leader.wantText("已认领", "王院长")
	leader.fill("#investigate-note", "医保办调取该患者近一年住院记录")
	if st := leader.clickNav(`#investigate-form button`); st != http.StatusOK {
		t.Fatalf("investigate = %d", st)
	}
	leader.check(`#conclude-form input[name=finding][value=referred]`)
	leader.fill("#conclusion-text", "住院期间身份核验记录与本人不符，已移交医保办进一步核查。")
	if st := leader.clickNav(`#conclude-form button`); st != http.StatusUnprocessableEntity {
		t.Fatalf("referred without where = %d, want 422", st)
	}
	if !leader.exists(`#referred_to[aria-invalid=true]`) || leader.value("#conclusion-text") == "" {
		t.Fatal("the refused conclusion lost its text or did not mark the field")
	}
	leader.fill("#referred_to", "医保办")
	leader.fill("#actions-text", "入院登记处加强人证核验")
	if st := leader.clickNav(`#conclude-form button`); st != http.StatusOK {
		t.Fatalf("conclude = %d", st)
	}
	leader.wantText("已出结论", "已移交", "医保办", "入院登记处加强人证核验")
	leader.shot("85-abnormal-concluded.png")
	if st := leader.clickNav(`#close-form button`); st != http.StatusOK {
		t.Fatalf("close = %d", st)
	}
	leader.wantText("已关闭", "上报", "提醒院领导", "认领", "开始调查", "调查结论", "关闭")
	leader.wantNoUntranslated()
	leader.eval(`window.scrollTo(0, 0)`)
	leader.shot("86-abnormal-closed.png")

	var status, finding string
	var owner int64
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT status, finding, owner_id FROM abnormal_reports WHERE id = $1`, id).
		Scan(&status, &finding, &owner); err != nil || status != abnormal.Closed || finding != "referred" || owner == 0 {
		t.Fatalf("stored %s %s owner %d: %v", status, finding, owner, err)
	}
	res, err := s.App.Abnormal.VerifyEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res {
		if !c.OK {
			t.Errorf("abnormal chain of %d broken at %d: %s", c.InstitutionID, c.BrokenID, c.Reason)
		}
	}

	// 4. The nurse sees it closed and cannot act; the agent cannot open it.
	nurse.open(abPath)
	nurse.wantText("已关闭", "医保办")
	if nurse.exists(`#reopen-form`) || nurse.exists(`#close-form`) {
		t.Error("the nurse is offered leadership's steps")
	}
	agent := b.loggedIn(t, "agent")
	if st := agent.open(abPath); st != http.StatusForbidden {
		t.Errorf("agent opens the report: %d, want 403", st)
	}

	// 5. A complaint's page offers the same button; the form names the
	// complaint as the source.
	var cid int64
	var cnum string
	if err := s.App.DB.R().QueryRowContext(ctx, `SELECT id, number FROM complaints WHERE institution_id = $1 ORDER BY id LIMIT 1`, inst).
		Scan(&cid, &cnum); err != nil {
		t.Fatal(err)
	}
	quality := b.loggedIn(t, "quality")
	quality.open(fmt.Sprintf("/complaints/%d", cid))
	if st := quality.clickNav(`#complaint-abnormal #raise-abnormal`); st != http.StatusOK {
		t.Fatalf("raise from complaint = %d", st)
	}
	quality.wantText("来自投诉", cnum)
	if quality.exists("#visit_number") {
		t.Error("a report from a complaint asks for the visit number")
	}

	// 6. Phone width.
	ph := b.loggedInPhone(t, "leader")
	for _, p := range []struct{ path, shot string }{{abPath, "87-abnormal-phone.png"}, {"/abnormal?tab=all", "88-abnormal-list-phone.png"}} {
		if st := ph.open(p.path); st != http.StatusOK {
			t.Fatalf("%s at phone width = %d", p.path, st)
		}
		ph.shot(p.shot)
	}
}
