package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// cpEnv is a page environment with the complaint room wired: hospital H1
// with two clinical departments, a quality officer and a nurse of the
// second department.
type cpEnv struct {
	*pageEnv
	clk *clock.Fake
	sv  *core.Services
	db  *store.DB
	web *Server
}

func newComplaintEnv(t *testing.T) *cpEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	// Tuesday 2026-10-13, 10:00 in Beijing: a working day.
	clk := clock.NewFake(time.Date(2026, 10, 13, 2, 0, 0, 0, time.UTC))
	keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	sv, err := core.Build(db, core.Options{Now: clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index})
	if err != nil {
		t.Fatal(err)
	}
	e := &cpEnv{pageEnv: &pageEnv{t: t, auth: sv.Auth, cal: sv.Calendar}, clk: clk, sv: sv, db: db}
	sys := access.System()
	if e.h1, err = sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"}); err != nil {
		t.Fatal(err)
	}
	if e.deptA, err = sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0301", Name: "心血管内科", Kind: org.DeptClinical}); err != nil {
		t.Fatal(err)
	}
	if e.deptB, err = sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0401", Name: "骨科", Kind: org.DeptClinical}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.UserInput{
		{Username: "admin", DisplayName: "管理员", Roles: []access.Role{access.SysAdmin}},
		{Username: "quality", DisplayName: "质控王", Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: e.h1}}},
		{Username: "nurseb", DisplayName: "骨科护士", Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptB}}},
	} {
		u.Password, u.HomeInstitutionID, u.Active = adminPW, e.h1, true
		if _, err := sv.Auth.CreateUser(ctx, sys, u); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Deps{Auth: sv.Auth, Org: sv.Org, Audit: sv.Audit, Calendar: sv.Calendar, Patients: sv.Patients, Followup: sv.Followup,
		Importer: sv.Importer, Complaints: sv.Complaints, Notify: sv.Notify, Log: slog.New(slog.DiscardHandler), Now: clk.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.web = s
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *cpEnv) principal(username string) *access.Principal {
	e.t.Helper()
	p, err := e.sv.Auth.PrincipalFor(context.Background(), e.user(username).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (e *cpEnv) anon() *client {
	return (&svEnv{pageEnv: e.pageEnv}).anon()
}

var codeRE = regexp.MustCompile(`id="cp-code">([A-Z0-9-]+)<`)

// file posts the public form and returns the tracking code shown.
func (e *cpEnv) file(c *client, phone string) string {
	e.t.Helper()
	r := c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {phone}, "role": {"relative"}, "department_id": {itoa(e.deptA)},
		"occurred_on": {"2026-10-12"}, "content": {"夜间呼叫护士二十分钟无人应答。"}, "asks": {"希望改进夜班巡视。"}})
	want(e.t, r, http.StatusOK, "投诉已收到", "第一医院")
	m := codeRE.FindStringSubmatch(r.body)
	if m == nil {
		e.t.Fatalf("no tracking code on the receipt\n%s", excerpt(r.body))
	}
	return m[1]
}

func TestComplaintPublicPage(t *testing.T) {
	e := newComplaintEnv(t)
	c := e.anon()
	want(t, c.get("/c/H1"), http.StatusOK, "投诉与建议", "第一医院", "心血管内科", "骨科")
	want(t, c.get("/c/NOPE"), http.StatusNotFound, "找不到该医院")

	// Refused input: everything typed comes back, the faulty field marked.
	r := c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {"12345"}, "role": {"patient"}, "department_id": {itoa(e.deptA)},
		"content": {"候诊时间过长"}})
	want(t, r, http.StatusUnprocessableEntity, "请填写11位手机号", `value="李华"`, "候诊时间过长", `value="12345"`)
	r = c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {"13900001234"}, "role": {"patient"}, "content": {"候诊时间过长"}})
	want(t, r, http.StatusUnprocessableEntity, "请选择科室")
	r = c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {"13900001234"}, "role": {"patient"}, "department_id": {itoa(e.deptA)}})
	want(t, r, http.StatusUnprocessableEntity, "请写下发生的经过")

	code := e.file(c, "139 0000 1234")
	if !regexp.MustCompile(`^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$`).MatchString(code) {
		t.Fatalf("tracking code %q", code)
	}
	// It is a complaint like any other: channel website, owned by quality,
	// and the receipt never shows the sequential number.
	q := e.principal("quality")
	list, err := e.sv.Complaints.List(context.Background(), q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d complaints, want 1", len(list.Items))
	}
	got := list.Items[0]
	if got.Channel != "website" || got.TrackingCode != code || got.OwnerName != "质控王" || got.ComplainantRole != "relative" ||
		got.DepartmentID != e.deptA {
		t.Fatalf("stored %+v", got.Complaint)
	}
	if strings.Contains(r.body, got.Number) {
		t.Fatal("the receipt shows the sequential number")
	}
}

func TestComplaintTracking(t *testing.T) {
	e := newComplaintEnv(t)
	c := e.anon()
	code := e.file(c, "13900001234")
	want(t, c.get("/c/track"), http.StatusOK, "查询投诉进度")

	// A typed code in lower case with spaces still finds it.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	r := c.post("/c/track", url.Values{"code": {typed}, "last4": {"1234"}})
	want(t, r, http.StatusOK, "已收到，等待受理", "收到投诉", "第一医院", code)
	wantNot(t, r, "质控王", "夜间呼叫", "TS-H1")

	// Wrong digits and an unknown code read exactly the same.
	c2 := e.anon()
	wrong := c2.post("/c/track", url.Values{"code": {code}, "last4": {"9999"}})
	other := code[:len(code)-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(code, "A")]
	unknown := c2.post("/c/track", url.Values{"code": {other}, "last4": {"1234"}})
	want(t, wrong, http.StatusNotFound, "没有找到")
	if strip(wrong.body, code) != strip(unknown.body, other) || wrong.status != unknown.status {
		t.Fatalf("wrong digits and unknown code differ:\n%s\n---\n%s", excerpt(wrong.body), excerpt(unknown.body))
	}
	garbage := c2.post("/c/track", url.Values{"code": {"<x>"}, "last4": {"12"}})
	if strip(garbage.body, "&lt;x&gt;") != strip(wrong.body, code) {
		t.Fatal("a malformed lookup answers differently")
	}

	// After acceptance the public page shows the step, no staff names.
	q := e.principal("quality")
	list, err := e.sv.Complaints.List(context.Background(), q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(10 * time.Minute)
	if _, err := e.sv.Complaints.Act(context.Background(), q, list.Items[0].ID, complaint.ActionInput{Action: complaint.ActAccept,
		Note: "已联系家属，内部备注"}); err != nil {
		t.Fatal(err)
	}
	r = e.anon().post("/c/track", url.Values{"code": {code}, "last4": {"1234"}})
	want(t, r, http.StatusOK, "处理中", "已受理")
	wantNot(t, r, "质控王", "内部备注", "quality")
}

// strip blanks the echoed code so two answers can be compared.
func strip(body, code string) string { return strings.ReplaceAll(body, code, "") }

func TestComplaintPublicThrottle(t *testing.T) {
	e := newComplaintEnv(t)
	c := e.anon()
	ok, limited := 0, 0
	for i := 0; i < 200; i++ {
		resp, err := c.c.PostForm(e.srv.URL+"/c/track", url.Values{"code": {"AAAA-BBBB-CCCC"}, "last4": {"0000"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusNotFound:
			ok++
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if ok != cpPublicBurst || limited != 200-cpPublicBurst {
		t.Fatalf("%d answered, %d throttled; want %d and %d", ok, limited, cpPublicBurst, 200-cpPublicBurst)
	}
	// Filing shares the bucket: a flood of complaints is throttled too.
	r := c.post("/c/H1", url.Values{"name": {"x"}, "phone": {"13900001234"}, "role": {"patient"}, "department_id": {itoa(e.deptA)},
		"content": {"x"}})
	want(t, r, http.StatusTooManyRequests)
	e.clk.Advance(cpPublicEvery)
	want(t, c.post("/c/track", url.Values{"code": {"AAAA-BBBB-CCCC"}, "last4": {"0000"}}), http.StatusNotFound, "没有找到")
}

func TestComplaintSheet(t *testing.T) {
	e := newComplaintEnv(t)
	e.file(e.anon(), "13900001234")
	ctx := context.Background()
	q := e.principal("quality")
	list, err := e.sv.Complaints.List(ctx, q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	id := list.Items[0].ID
	e.clk.Advance(10 * time.Minute)
	if _, err := e.sv.Complaints.Act(ctx, q, id, complaint.ActionInput{Action: complaint.ActAccept}); err != nil {
		t.Fatal(err)
	}
	page := "/complaints/" + itoa(id)
	qc := e.login("quality", adminPW)
	want(t, qc.get(page), http.StatusOK, page+"/sheet", "打印处理表")
	r := qc.get(page + "/sheet")
	want(t, r, http.StatusOK, "医疗投诉及纠纷处理表", list.Items[0].Number, "夜间呼叫护士", "希望改进夜班巡视", "处理时限", "审批",
		"尚无审批记录", "处理经过", "质控王", "科室负责人签字")
	// The other department's nurse may not print it.
	nb := e.login("nurseb", adminPW)
	want(t, nb.get(page+"/sheet"), http.StatusForbidden)
}

// phoneBox receives what the outbox delivers, as the complainant's phone.
type phoneBox struct {
	mu  sync.Mutex
	got []*notify.Delivery
}

func (p *phoneBox) Name() string { return "phone" }

func (p *phoneBox) Send(_ context.Context, d *notify.Delivery) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, d)
	return nil
}

// lastCode delivers the outbox and returns the newest code texted to phone.
func (p *phoneBox) lastCode(t *testing.T, e *cpEnv, phone string) string {
	t.Helper()
	if _, err := e.sv.Notify.DeliverOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.got) - 1; i >= 0; i-- {
		if d := p.got[i]; d.To == phone && d.Template == "verify.code" {
			return d.Params[1].Value
		}
	}
	t.Fatalf("no code texted to %s", phone)
	return ""
}

var verifyRE = regexp.MustCompile(`name="verify" value="([A-Za-z0-9_-]+)"`)

// TestComplaintPublicVerify walks the no-script number check: the receipt
// page asks for the texted code, a wrong code is marked (422), the right
// one verifies and queues the receipt; a capped resend answers 429 with
// Retry-After and still shows the tracking code.
func TestComplaintPublicVerify(t *testing.T) {
	e := newComplaintEnv(t)
	box := &phoneBox{}
	e.sv.Notify.SetProvider(notify.ProviderLog, box)
	c := e.anon()
	r := c.post("/c/H1", url.Values{"name": {"点击领取退款 http://evil.example"}, "phone": {"13900001234"}, "role": {"relative"},
		"department_id": {itoa(e.deptA)}, "content": {"夜间呼叫护士二十分钟无人应答。"}})
	want(t, r, http.StatusOK, "投诉已收到", "验证码已发送至 139****1234", `action="/c/H1/verify"`, "不验证也可以")
	code := codeRE.FindStringSubmatch(r.body)[1]
	m := verifyRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no verification token on the receipt\n%s", excerpt(r.body))
	}
	token := m[1]
	sms := box.lastCode(t, e, "13900001234")
	wrong := "000000"
	if sms == wrong {
		wrong = "111111"
	}
	e.clk.Advance(cpPublicEvery)
	r = c.post("/c/H1/verify", url.Values{"verify": {token}, "sms_code": {wrong}})
	want(t, r, http.StatusUnprocessableEntity, "验证码不正确，还可以再试 4 次", code, `aria-invalid="true"`)
	e.clk.Advance(cpPublicEvery)
	r = c.post("/c/H1/verify", url.Values{"verify": {token}, "sms_code": {sms}})
	want(t, r, http.StatusOK, "手机号 139****1234 已验证", code)
	wantNot(t, r, `name="sms_code"`)
	// Only now the receipt: the code and fixed wording, no form text.
	box.lastCode(t, e, "13900001234")
	receipts := 0
	for _, d := range box.got {
		if d.Template == "complaint.received" {
			receipts++
			if strings.Contains(d.Text, "退款") || strings.Contains(d.Text, "evil") || !strings.Contains(d.Text, code) {
				t.Fatalf("receipt %q", d.Text)
			}
		}
	}
	if receipts != 1 {
		t.Fatalf("%d receipts", receipts)
	}
	e.clk.Advance(cpPublicEvery)
	want(t, c.post("/c/H1/verify", url.Values{"verify": {"forged"}, "sms_code": {sms}}), http.StatusNotFound, "验证已失效")

	// A second complaint with another number: two resends reach the
	// hourly cap of three codes; the third answers 429.
	e.clk.Advance(cpPublicEvery)
	r = c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {"13900005678"}, "role": {"patient"},
		"department_id": {itoa(e.deptA)}, "content": {"候诊时间过长"}})
	want(t, r, http.StatusOK)
	token2 := verifyRE.FindStringSubmatch(r.body)[1]
	for range 2 {
		e.clk.Advance(cpPublicEvery)
		want(t, c.post("/c/H1/resend", url.Values{"verify": {token2}}), http.StatusOK, "验证码已发送至 139****5678")
	}
	e.clk.Advance(cpPublicEvery)
	resp, err := c.c.PostForm(e.srv.URL+"/c/H1/resend", url.Values{"verify": {token2}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "验证短信发送次数已达上限") || !strings.Contains(string(body), "id=\"cp-code\"") {
		t.Fatalf("capped resend: %d %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), excerpt(string(body)))
	}
}

// TestOutboxPageHidesLiveLinks: quality opens 消息发送 and a message's
// detail; the patient's survey link shows only its first characters and
// the verification code not at all. Before, the detail printed the live
// link, which opened the patient's questionnaire.
func TestOutboxPageHidesLiveLinks(t *testing.T) {
	e := newComplaintEnv(t)
	const token = "Zr8kPq3TnW6yBv2HxM9cJd4fLs7gRa5E"
	var invite int64
	err := e.db.Write(context.Background(), func(tx *sql.Tx) error {
		var err error
		invite, err = e.sv.Notify.Enqueue(context.Background(), tx, notify.Message{InstitutionID: e.h1, Channel: notify.SMS,
			Template: "survey.invite", To: "13812345678", Patient: true, IdempotencyKey: "page-invite", Ref: "survey_invitation:9",
			Params: map[string]string{"hospital": "第一医院", "name": "张先生", "link": "https://sf.example.cn/s/" + token,
				"phone": "0571-88880000"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	box := &phoneBox{}
	e.sv.Notify.SetProvider(notify.ProviderLog, box)
	e.file(e.anon(), "13900001234")
	sms := box.lastCode(t, e, "13900001234")
	var codeMsg int64
	for _, d := range box.got {
		if d.Template == "verify.code" {
			codeMsg = d.ID
		}
	}
	q := e.login("quality", adminPW)
	list := q.get("/admin/outbox?inst=" + itoa(e.h1) + "&status=sent")
	want(t, list, http.StatusOK, "survey.invite", "verify.code")
	for _, id := range []int64{invite, codeMsg} {
		r := q.get("/admin/outbox/" + itoa(id))
		want(t, r, http.StatusOK, "已隐藏")
		wantNot(t, r, token, token[4:], sms)
	}
	want(t, q.get("/admin/outbox/"+itoa(invite)), http.StatusOK, "https://sf.example.cn/s/Zr8k…")
	// The delivered invitation carried the real link.
	found := false
	for _, d := range box.got {
		found = found || strings.Contains(d.Text, "/s/"+token)
	}
	if !found {
		t.Fatal("the provider did not get the real link")
	}
}
