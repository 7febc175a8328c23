package e2e

// The public complaint page on a phone: a relative opens /c/H01 from the
// hospital's site, gets the phone number wrong once, files, keeps the
// tracking code, and looks the progress up with it.

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserComplaintPublic(t *testing.T) {
	s := start(t, "sqlite")
	_, deps := h01(t, s)
	b := newBrowser(t, s)
	ph := b.session(t)
	ph.do(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if st := ph.open("/c/H01"); st != http.StatusOK {
		t.Fatalf("open /c/H01 = %d", st)
	}
	ph.wantText("投诉与建议", "您的姓名", "涉及科室")
	ph.wantNoUntranslated()
	ph.wantFits(390)
	ph.fill("#cp-name", "赵敏")
	ph.fill("#cp-phone", "1390000")
	ph.check(`input[name=role][value=relative]`)
	ph.setValue("#cp-dept", itoa(deps["0301"]))
	ph.fill("#cp-content", "母亲出院结算时排队两小时，窗口只开一个。")
	ph.fill("#cp-asks", "希望增加结算窗口")
	if st := ph.clickNav(`#cp-public button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone = %d, want 422", st)
	}
	ph.wantText("请填写11位手机号")
	if ph.value("#cp-name") != "赵敏" || ph.value("#cp-dept") != itoa(deps["0301"]) {
		t.Fatal("the refused form lost the input")
	}
	ph.wantFits(390)
	ph.shot("46-complaint-public-phone.png")
	ph.fill("#cp-phone", "13900005678")
	if st := ph.clickNav(`#cp-public button[type=submit]`); st != http.StatusOK {
		t.Fatalf("file = %d", st)
	}
	code := ph.text("#cp-code")
	ph.wantText("投诉已收到", "工作日内")
	ph.wantFits(390)
	ph.shot("47-complaint-public-receipt.png")

	ph.open("/c/track")
	ph.fill("#cp-code-in", code)
	ph.fill("#cp-last4", "5678")
	if st := ph.clickNav(`main form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("track = %d", st)
	}
	ph.wantText("已收到，等待受理", "收到投诉", code)
	ph.wantFits(390)
	ph.shot("48-complaint-track-phone.png")
}
