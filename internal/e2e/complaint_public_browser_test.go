package e2e

// The public complaint page on a phone: a relative opens /c/H01 from the
// hospital's site, gets the phone number wrong once, files, keeps the
// tracking code, types the texted code wrong once and then right (only
// then is the receipt SMS queued), and looks the progress up.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"suifang/internal/pii"
	"suifang/internal/sealed"
)

// textedCode reads the newest verification code queued for the phone, as
// the phone would receive it: the outbox row opened with the test keys.
func textedCode(t *testing.T, s *server) string {
	t.Helper()
	var enc, idem string
	var inst int64
	if err := s.App.DB.R().QueryRowContext(t.Context(), `SELECT body_enc, institution_id, idempotency_key FROM outbox
		WHERE template_key = 'verify.code' ORDER BY id DESC LIMIT 1`).Scan(&enc, &inst, &idem); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte")))
	if err != nil {
		t.Fatal(err)
	}
	// The body is sealed to its row (institution and idempotency key).
	raw, err := keys.OpenRow(enc, "outbox.body", sealed.RowKey(strconv.FormatInt(inst, 10), idem))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Params []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		t.Fatal(err)
	}
	for _, p := range b.Params {
		if p.Name == "code" {
			return p.Value
		}
	}
	t.Fatal("no code in the message")
	return ""
}

// receipts counts the complaint receipts queued so far.
func receipts(t *testing.T, s *server) int {
	t.Helper()
	var n int
	if err := s.App.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM outbox WHERE template_key = 'complaint.received'
		AND ref IN (SELECT 'complaint:' || id FROM complaints WHERE channel = 'website')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

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
	ph.wantText("投诉已收到", "工作日内", "验证码已发送至 139****5678")
	ph.wantFits(390)
	ph.shot("47-complaint-public-receipt.png")
	before := receipts(t, s)

	sms := textedCode(t, s)
	wrong := "000000"
	if sms == wrong {
		wrong = "111111"
	}
	ph.fill("#cp-sms-code", wrong)
	if st := ph.clickNav(`#cp-verify-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code = %d, want 422", st)
	}
	ph.wantText("验证码不正确，还可以再试 4 次", code)
	if n := receipts(t, s); n != before {
		t.Fatalf("a receipt was queued before the number was verified (%d → %d)", before, n)
	}
	ph.wantFits(390)
	ph.shot("47b-complaint-public-wrong-code.png")
	ph.fill("#cp-sms-code", sms)
	if st := ph.clickNav(`#cp-verify-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("right code = %d", st)
	}
	ph.wantText("手机号 139****5678 已验证", code)
	if n := receipts(t, s); n != before+1 {
		t.Fatalf("receipts %d → %d, want one more", before, n)
	}
	ph.shot("47c-complaint-public-verified.png")

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
