package complaint_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/auth"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/notify"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// handset receives what the real outbox delivers, as the complainant's
// phone would.
type handset struct {
	mu  sync.Mutex
	got []*notify.Delivery
}

func (h *handset) Name() string { return "handset" }

func (h *handset) Send(_ context.Context, d *notify.Delivery) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, d)
	return nil
}

// delivered runs the outbox once and returns every SMS delivered to
// phone so far. The verification codes go through the real outbox (the
// fake one records only the complaint room's own messages).
func (e *env) delivered(phone string) []*notify.Delivery {
	e.t.Helper()
	h := e.phones()
	if _, err := e.sv.Notify.DeliverOnce(ctx); err != nil {
		e.t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*notify.Delivery
	for _, d := range h.got {
		if d.To == phone {
			out = append(out, d)
		}
	}
	return out
}

var handsets sync.Map // *env → *handset

func (e *env) phones() *handset {
	h, loaded := handsets.LoadOrStore(e, &handset{})
	if !loaded {
		e.sv.Notify.SetProvider(notify.ProviderLog, h.(*handset))
	}
	return h.(*handset)
}

// codeFor returns the latest verification code texted to phone.
func (e *env) codeFor(phone string) string {
	e.t.Helper()
	got := e.delivered(phone)
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].Template == "verify.code" {
			for _, p := range got[i].Params {
				if p.Name == "code" {
					return p.Value
				}
			}
		}
	}
	e.t.Fatalf("no code texted to %s", phone)
	return ""
}

// codesTo counts the codes texted to phone so far.
func (e *env) codesTo(phone string) int {
	e.t.Helper()
	n := 0
	for _, d := range e.delivered(phone) {
		if d.Template == "verify.code" {
			n++
		}
	}
	return n
}

func TestRegisterPublicAndTrack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h, err := e.cs.PublicHospital(ctx, "H1")
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "第一医院" || len(h.Depts) != 2 {
			t.Fatalf("hospital %+v", h)
		}
		_, err = e.cs.PublicHospital(ctx, "NOPE")
		wantErr(t, err, errs.NotFound, "complaint_hospital_not_found")

		in := complaint.PublicInput{Name: "李华", Phone: "139-0000-1234", Role: "relative", DepartmentID: e.ortho,
			Content: "夜间呼叫无人应答", Asks: "改进夜班巡视"}
		bad := in
		bad.Phone = "010-12345678" // a landline gets no receipt and cannot be checked
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "bad_phone")
		bad = in
		bad.Role = "other"
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "bad_complainant_role")
		bad = in
		bad.DepartmentID = 0
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "missing_department")

		rc, err := e.cs.RegisterPublic(ctx, "H1", in)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Hospital != "第一医院" || rc.FeedbackDays != 5 || strings.HasPrefix(rc.TrackingCode, "TS-") {
			t.Fatalf("receipt %+v", rc)
		}
		// Nothing goes to the typed number but the code; once it is
		// entered, the receipt goes with the tracking code.
		if sms := e.outbox.of("complaint.received"); len(sms) != 0 {
			t.Fatalf("a receipt before verification: %+v", sms)
		}
		code := e.codeFor("13900001234")
		if v, err := e.cs.VerifyPublic(ctx, rc.Verify, code); err != nil || !v.Verified {
			t.Fatalf("verify: %+v %v", v, err)
		}
		sms := e.outbox.of("complaint.received")
		if len(sms) != 1 || sms[0].To != "13900001234" || sms[0].Params["number"] != rc.TrackingCode {
			t.Fatalf("receipt messages %+v", sms)
		}

		st, err := e.cs.Track(ctx, strings.ToLower(rc.TrackingCode), "1234")
		if err != nil {
			t.Fatal(err)
		}
		if st.Phase != "received" || len(st.Steps) != 1 || st.Steps[0].Step != "received" || st.Hospital != "第一医院" {
			t.Fatalf("status %+v", st)
		}
		for _, try := range [][2]string{{rc.TrackingCode, "4321"}, {"AAAA-BBBB-CCCC", "1234"}, {"", "1234"}, {rc.TrackingCode, "12a4"}} {
			_, err := e.cs.Track(ctx, try[0], try[1])
			wantErr(t, err, errs.NotFound, "complaint_track_not_found")
		}

		// The event names the website; quality owns it.
		list, err := e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		c := list.Items[0]
		if c.Channel != "website" || c.OwnerID != e.quality.UserID {
			t.Fatalf("complaint %+v", c.Complaint)
		}
		evs, err := e.cs.Events(ctx, e.quality, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Actor != "website" || evs[0].Action != "register" || evs[len(evs)-1].Action != "contact_verified" {
			t.Fatalf("events %+v … %+v", evs[0], evs[len(evs)-1])
		}

		e.clk.Advance(5 * time.Minute)
		e.act(e.quality, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		st, err = e.cs.Track(ctx, rc.TrackingCode, "1234")
		if err != nil {
			t.Fatal(err)
		}
		if st.Phase != "handling" || len(st.Steps) != 2 || st.Steps[1].Step != "accepted" {
			t.Fatalf("after accept %+v", st)
		}
	})
}

func TestNormalizeTrackingCode(t *testing.T) {
	for in, want := range map[string]string{
		"K7MQ-X9PA-4TZB":    "K7MQ-X9PA-4TZB",
		"k7mq x9pa 4tzb":    "K7MQ-X9PA-4TZB",
		"K7MQX9PA4TZB":      "K7MQ-X9PA-4TZB",
		"K7MQ-X9PA-4TZ":     "",
		"K7MQ-X9PA-4TZBB":   "",
		"K0MQ-X9PA-4TZB":    "", // 0 is not in the alphabet
		"Ｋ7MQ-X9PA-4TZB":    "",
		"":                  "",
		"K7MQ-X9PA-4TZB;--": "",
	} {
		if got := complaint.NormalizeTrackingCode(in); got != want {
			t.Errorf("NormalizeTrackingCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeTrackingCode(f *testing.F) {
	for _, s := range []string{"K7MQ-X9PA-4TZB", "k7mq x9pa 4tzb", "K7MQX9PA4TZB", "", "----", "Ｋ7MQ", "ABCD-EFGH-JKMN-P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := complaint.NormalizeTrackingCode(s)
		if got == "" {
			return
		}
		if len(got) != 14 || got[4] != '-' || got[9] != '-' {
			t.Fatalf("%q normalized to malformed %q", s, got)
		}
		if again := complaint.NormalizeTrackingCode(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

// publicForm is a public complaint as a stranger might type it.
func publicForm(e *env, phone, client string) complaint.PublicInput {
	return complaint.PublicInput{Name: "王芳", Phone: phone, Role: "patient", DepartmentID: e.ortho,
		Content: "术后换药时护士态度生硬，询问伤口情况无人解释。", Asks: "希望科室改进沟通", Client: client}
}

// TestPublicReceiptCarriesNoFormText: the name field of the public form
// once went verbatim into the hospital-signed receipt SMS, so anyone could
// make the hospital text a phishing line to any number. Neither the code
// SMS nor the receipt carries any text from the form now.
func TestPublicReceiptCarriesNoFormText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		in := publicForm(e, "13912345678", "203.0.113.7")
		in.Name = "点击领取退款 http://evil.example"
		in.Content = "您的医保账户异常，请点击 http://evil.example/refund 领取退款"
		in.Asks = "回复验证码领取"
		rc, err := e.cs.RegisterPublic(ctx, "H1", in)
		if err != nil {
			t.Fatal(err)
		}
		code := e.codeFor("13912345678")
		if _, err := e.cs.VerifyPublic(ctx, rc.Verify, code); err != nil {
			t.Fatal(err)
		}
		sent := e.outbox.of("complaint.received")
		if len(sent) != 1 {
			t.Fatalf("%d receipts, want 1", len(sent))
		}
		var all []string
		for k, v := range sent[0].Params {
			all = append(all, k+"="+v)
		}
		for _, d := range e.delivered("13912345678") {
			all = append(all, d.Text)
			for _, p := range d.Params {
				all = append(all, p.Value)
			}
		}
		for _, s := range all {
			for _, bad := range []string{"点击", "退款", "evil", "http", "领取", "王芳"} {
				if strings.Contains(s, bad) {
					t.Fatalf("a message to the typed number carries form text %q: %q", bad, s)
				}
			}
		}
		if _, ok := sent[0].Params["name"]; ok || len(sent[0].Params) != 3 || sent[0].Params["number"] != rc.TrackingCode {
			t.Fatalf("receipt params %v", sent[0].Params)
		}
		// The receipt's templates take no name at all, on any channel, so
		// neither a caller nor an institution's override can put one back.
		for _, ch := range notify.Channels() {
			if tp, ok := notify.Default("complaint.received", ch); ok {
				for _, p := range tp.Params {
					if p != "hospital" && p != "number" && p != "days" {
						t.Errorf("complaint.received/%s takes {%s}", ch, p)
					}
				}
			}
		}
	})
}

// TestPublicVerificationBeforeAnyMessage: a public complaint is stored
// and its tracking code shown at once, but nothing but the code reaches
// the typed number until its holder enters that code; wrong, late and
// exhausted codes send nothing.
func TestPublicVerificationBeforeAnyMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		rc, err := e.cs.RegisterPublic(ctx, "H1", publicForm(e, "13700001111", "198.51.100.20"))
		if err != nil {
			t.Fatal(err)
		}
		if rc.TrackingCode == "" || rc.Verify == "" || !rc.CodeSent || rc.PhoneMasked != "137****1111" || rc.Verified {
			t.Fatalf("receipt %+v", rc)
		}
		// The complaint exists whatever happens to the SMS.
		if _, err := e.cs.Track(ctx, rc.TrackingCode, "1111"); err != nil {
			t.Fatal(err)
		}
		code := e.codeFor("13700001111")
		if len(code) != 6 {
			t.Fatalf("code %q", code)
		}
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
		noReceipt := func(when string) {
			t.Helper()
			if sms := e.outbox.of("complaint.received"); len(sms) != 0 {
				t.Fatalf("%s: a receipt went out: %+v", when, sms)
			}
		}
		v, err := e.cs.VerifyPublic(ctx, rc.Verify, "12 34")
		if err != nil || v.Problem != "format" || v.Left != 5 {
			t.Fatalf("malformed: %+v %v", v, err)
		}
		v, err = e.cs.VerifyPublic(ctx, rc.Verify, wrong)
		if err != nil || v.Problem != "wrong" || v.Left != 4 || v.Verified {
			t.Fatalf("wrong: %+v %v", v, err)
		}
		noReceipt("wrong code")
		_, err = e.cs.VerifyPublic(ctx, "not-a-token", code)
		wantErr(t, err, errs.NotFound, "complaint_verify_not_found")

		// Eleven minutes later the code has expired; a new one is sent and
		// the old one no longer works.
		e.clk.Advance(11 * time.Minute)
		if v, _ := e.cs.VerifyPublic(ctx, rc.Verify, code); v.Problem != "expired" {
			t.Fatalf("late: %+v", v)
		}
		noReceipt("expired code")
		if v, err := e.cs.ResendPublic(ctx, rc.Verify, "198.51.100.20"); err != nil || !v.CodeSent || v.RetryAfter != 0 {
			t.Fatalf("resend: %+v %v", v, err)
		}
		fresh := e.codeFor("13700001111")
		if fresh != code {
			if v, _ := e.cs.VerifyPublic(ctx, rc.Verify, code); v.Problem != "wrong" {
				t.Fatalf("old code after resend: %+v", v)
			}
		}
		v, err = e.cs.VerifyPublic(ctx, rc.Verify, fresh)
		if err != nil || !v.Verified || v.Problem != "" {
			t.Fatalf("right code: %+v %v", v, err)
		}
		// Posted again (a double tap), it queues nothing more.
		if _, err := e.cs.VerifyPublic(ctx, rc.Verify, fresh); err != nil {
			t.Fatal(err)
		}
		if sms := e.outbox.of("complaint.received"); len(sms) != 1 || sms[0].To != "13700001111" {
			t.Fatalf("receipts %+v", sms)
		}

		// Five wrong entries spend a code; even the right one is refused
		// then, and no receipt goes out.
		rc2, err := e.cs.RegisterPublic(ctx, "H1", publicForm(e, "13700002222", "198.51.100.20"))
		if err != nil {
			t.Fatal(err)
		}
		code2 := e.codeFor("13700002222")
		bad := fmt.Sprintf("%06d", (atoi(code2)+7)%1000000)
		for i := range 5 {
			v, _ := e.cs.VerifyPublic(ctx, rc2.Verify, bad)
			if (i < 4 && v.Problem != "wrong") || (i == 4 && v.Problem != "locked") || v.Left != 4-i {
				t.Fatalf("entry %d: %+v", i+1, v)
			}
		}
		if v, _ := e.cs.VerifyPublic(ctx, rc2.Verify, code2); v.Verified || v.Problem != "locked" {
			t.Fatalf("right code after five wrong: %+v", v)
		}
		if sms := e.outbox.of("complaint.received"); len(sms) != 1 {
			t.Fatalf("receipts %+v", sms)
		}
		// Only the code hash is stored, never the code.
		var hashes string
		if err := db.R().QueryRowContext(ctx, `SELECT code_hash || token_hash FROM phone_codes ORDER BY id LIMIT 1`).Scan(&hashes); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(hashes, fresh) || strings.Contains(hashes, rc.Verify) {
			t.Fatal("the code or the token is stored in clear")
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestPublicSMSCaps: codes to one number are capped at 3 an hour and 10 a
// day, and from one client address at 10 an hour. The counts are in the
// database, so a second instance (a second set of services on the same
// database) sees them. A capped request still files the complaint.
func TestPublicSMSCaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		other := setup2(t, e) // a second instance on the same database
		phone := "13600003333"
		for i := range 3 {
			cs := e.cs
			if i%2 == 1 {
				cs = other
			}
			rc, err := cs.RegisterPublic(ctx, "H1", publicForm(e, phone, fmt.Sprintf("10.0.0.%d", i+1)))
			if err != nil || !rc.CodeSent {
				t.Fatalf("complaint %d: %+v %v", i+1, rc, err)
			}
		}
		rc, err := other.RegisterPublic(ctx, "H1", publicForm(e, phone, "10.0.0.9"))
		if err != nil {
			t.Fatal(err)
		}
		if rc.CodeSent || rc.RetryAfter <= 0 || rc.RetryAfter > time.Hour || rc.TrackingCode == "" || rc.Verify == "" {
			t.Fatalf("fourth code in an hour: %+v", rc)
		}
		if _, err := e.cs.Track(ctx, rc.TrackingCode, "3333"); err != nil {
			t.Fatalf("the capped complaint was not filed: %v", err)
		}
		// A resend is capped the same way.
		if v, err := e.cs.ResendPublic(ctx, rc.Verify, "10.0.0.9"); err != nil || v.RetryAfter <= 0 || v.CodeSent {
			t.Fatalf("capped resend: %+v %v", v, err) // no code exists yet, so none can be entered
		}
		if n := e.codesTo(phone); n != 3 {
			t.Fatalf("%d codes texted, want 3", n)
		}
		// An hour on, the capped complaint may ask again.
		e.clk.Advance(61 * time.Minute)
		if v, err := e.cs.ResendPublic(ctx, rc.Verify, "10.0.0.9"); err != nil || !v.CodeSent || v.RetryAfter != 0 {
			t.Fatalf("resend an hour later: %+v %v", v, err)
		}
		// Ten a day: two more hours of three reach 10 (the 11th refused).
		e.clk.Advance(61 * time.Minute)
		sent := 4
		for sent < 10 {
			for i := 0; i < 3 && sent < 10; i++ {
				if v, err := e.cs.ResendPublic(ctx, rc.Verify, "10.0.1.1"); err != nil || v.RetryAfter != 0 {
					t.Fatalf("send %d: %+v %v", sent+1, v, err)
				}
				sent++
			}
			e.clk.Advance(61 * time.Minute)
		}
		v, err := e.cs.ResendPublic(ctx, rc.Verify, "10.0.1.1")
		if err != nil || v.RetryAfter <= time.Hour {
			t.Fatalf("eleventh code in a day: %+v %v", v, err)
		}
		if n := e.codesTo(phone); n != 10 {
			t.Fatalf("%d codes texted, want 10", n)
		}

		// One address, many numbers: ten an hour.
		for i := range 10 {
			rc, err := e.cs.RegisterPublic(ctx, "H1", publicForm(e, fmt.Sprintf("135000044%02d", i), "192.0.2.50"))
			if err != nil || !rc.CodeSent {
				t.Fatalf("address complaint %d: %+v %v", i+1, rc, err)
			}
		}
		rc, err = other.RegisterPublic(ctx, "H1", publicForm(e, "13500004499", "192.0.2.50"))
		if err != nil || rc.CodeSent || rc.RetryAfter <= 0 {
			t.Fatalf("eleventh code from one address: %+v %v", rc, err)
		}
		if n := e.codesTo("13500004499"); n != 0 {
			t.Fatalf("the capped number got %d codes", n)
		}
	})
}

// setup2 builds a second set of services on e's database, as a second
// instance behind the load balancer would.
func setup2(t *testing.T, e *env) *complaint.Service {
	t.Helper()
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := core.Build(e.db, core.Options{Now: e.clk.Now, Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(),
		Keys: keys, Index: index, Outbox: e.outbox})
	if err != nil {
		t.Fatal(err)
	}
	sv.Notify.SetProvider(notify.ProviderLog, e.phones())
	return sv.Complaints
}
