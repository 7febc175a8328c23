package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

// recorder is a provider that remembers what it was asked to send and
// fails on demand.
type recorder struct {
	mu   sync.Mutex
	sent []*notify.Delivery
	fail func(d *notify.Delivery) error
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Send(_ context.Context, d *notify.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(d); err != nil {
			return err
		}
	}
	r.sent = append(r.sent, d)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

type env struct {
	t    *testing.T
	db   *store.DB
	clk  *clock.Fake
	au   *audit.Service
	n    *notify.Service
	rec  *recorder
	inst int64
	keys *pii.Keyring
}

// setup builds the services as core does, at 2026-09-30 10:00 Beijing time,
// with every channel routed to a recording provider.
func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clk: clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)), rec: &recorder{}}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := notify.DefaultPolicy()
	pol.Routes = map[string]string{notify.SMS: "webhook", notify.WeChat: "webhook", notify.Email: "webhook", notify.Webhook: "webhook"}
	pol.Webhook.URL = "http://127.0.0.1:1/unused" // replaced by the recorder below
	pol.Instance = "test-1"
	sv, err := core.Build(db, core.Options{Now: e.clk.Now, Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(),
		Keys: keys, Index: index, Notify: pol})
	if err != nil {
		t.Fatal(err)
	}
	e.au, e.n = sv.Audit, sv.Notify
	e.n.SetProvider("webhook", e.rec)
	e.inst, err = sv.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func invite(key, phone string) notify.Message {
	return notify.Message{Channel: notify.SMS, Template: "survey.invite", To: phone, Patient: true, IdempotencyKey: key,
		Ref: "survey_invitation:" + key, Params: map[string]string{"hospital": "第一医院", "name": "张先生",
			"link": "https://sf.example.cn/s/Ab3dE9", "phone": "0571-88880000"}}
}

func (e *env) enqueue(m notify.Message) (int64, error) {
	if m.InstitutionID == 0 {
		m.InstitutionID = e.inst
	}
	var id int64
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.n.Enqueue(ctx, tx, m)
		return err
	})
	return id, err
}

func (e *env) mustEnqueue(m notify.Message) int64 {
	e.t.Helper()
	id, err := e.enqueue(m)
	if err != nil {
		e.t.Fatalf("enqueue %s: %v", m.IdempotencyKey, err)
	}
	return id
}

func (e *env) detail(id int64) *notify.Detail {
	e.t.Helper()
	d, err := e.n.Get(ctx, access.System(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) deliver() int {
	e.t.Helper()
	n, err := e.n.DeliverOnce(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if errs.KindOf(err) != kind || errs.CodeOf(err) != code {
		t.Fatalf("err = %v (%s/%s), want %s/%s", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func TestEnqueueIdempotentAndSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		id := e.mustEnqueue(invite("inv-1", "13812345678"))
		again := e.mustEnqueue(invite("inv-1", "13900000000"))
		if again != id {
			t.Fatalf("second enqueue = %d, want the first id %d", again, id)
		}
		var n int
		var rec, bodyEnc string
		db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n)
		db.R().QueryRowContext(ctx, `SELECT recipient_enc, body_enc FROM outbox WHERE id = $1`, id).Scan(&rec, &bodyEnc)
		if n != 1 {
			t.Fatalf("%d rows after a repeated enqueue", n)
		}
		if strings.Contains(rec, "138") || strings.Contains(bodyEnc, "张") || !strings.HasPrefix(rec, "v2.") {
			t.Errorf("recipient or body stored in clear (or not bound to the message): %q %q", rec, bodyEnc)
		}
		pg, err := e.n.List(ctx, access.System(), notify.Filter{InstitutionID: e.inst})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) != 1 || pg.Items[0].To != "138****5678" || pg.Counts[notify.Pending] != 1 {
			t.Fatalf("list = %+v counts %v", pg.Items, pg.Counts)
		}
		d := e.detail(id)
		if !strings.Contains(d.Text, "张先生") || d.TemplateCode != "SF_SURVEY_INVITE" || len(d.Params) != 4 || d.Params[0].Name != "hospital" {
			t.Errorf("detail = %+v", d)
		}
		// A rolled-back business change leaves no message behind.
		boom := errors.New("business change failed")
		err = db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := e.n.Enqueue(ctx, tx, func() notify.Message { m := invite("inv-2", "13812345678"); m.InstitutionID = e.inst; return m }()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n)
		if n != 1 {
			t.Errorf("rolled-back enqueue left %d rows", n)
		}
	})
}

func TestEnqueueValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for _, c := range []struct {
			edit func(*notify.Message)
			code string
		}{
			{func(m *notify.Message) { m.IdempotencyKey = "" }, "bad_idempotency_key"},
			{func(m *notify.Message) { m.Channel = "fax" }, "unknown_channel"},
			{func(m *notify.Message) { m.Template = "survey.nope" }, "unknown_template"},
			{func(m *notify.Message) { m.To = "call me" }, "bad_phone"},
			{func(m *notify.Message) { m.Params["diagnosis"] = "I21" }, "unknown_param"},
			{func(m *notify.Message) { delete(m.Params, "link") }, "missing_param"},
			{func(m *notify.Message) { m.Params["name"] = "a\nb" }, "bad_param"},
			{func(m *notify.Message) { m.Channel, m.To = notify.Email, "not an address" }, "bad_email"},
			{func(m *notify.Message) { m.Channel, m.Template, m.To = notify.InApp, "followup.assigned", "x" }, "bad_user"},
		} {
			m := invite("k", "13812345678")
			c.edit(&m)
			_, err := e.enqueue(m)
			wantErr(t, err, errs.Invalid, c.code)
		}
	})
}

func TestGuardRefusedMessageIsDeadNeverSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		m := notify.Message{Channel: notify.SMS, Template: "appointment.remind", To: "13812345678", Patient: true,
			IdempotencyKey: "appt-1", Params: map[string]string{"hospital": "第一医院", "name": "李女士", "date": "10月12日",
				"time": "09:30", "dept": "肿瘤科", "phone": "0571-88880000"}}
		id := e.mustEnqueue(m)
		d := e.detail(id)
		if d.Status != notify.Dead || !strings.Contains(d.LastError, "肿瘤") {
			t.Fatalf("status %s, error %q; want dead by the guard", d.Status, d.LastError)
		}
		e.deliver()
		if e.rec.count() != 0 {
			t.Fatal("a guarded message was sent")
		}
		// Re-sending it is refused again at sending.
		if err := e.n.Resend(ctx, access.System(), id); err != nil {
			t.Fatal(err)
		}
		e.deliver()
		if d := e.detail(id); e.rec.count() != 0 || d.Status != notify.Dead || len(d.History) != 1 || d.History[0].OK {
			t.Fatalf("after resend: sent %d, %+v", e.rec.count(), d)
		}
	})
}

func TestWorkerDeliversRetriesAndDies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ok := e.mustEnqueue(invite("ok", "13812345678"))
		flaky := e.mustEnqueue(invite("flaky", "13800000001"))
		down := e.mustEnqueue(invite("down", "13800000002"))
		refused := e.mustEnqueue(invite("refused", "13800000003"))
		fails := 0
		e.rec.fail = func(d *notify.Delivery) error {
			switch d.IdempotencyKey {
			case "flaky":
				if fails++; fails < 3 {
					return errors.New("HTTP 503")
				}
			case "down":
				return errors.New("connection refused")
			case "refused":
				return notify.Permanent(errors.New("HTTP 400: unknown number"))
			}
			return nil
		}
		if n := e.deliver(); n != 4 {
			t.Fatalf("claimed %d, want 4", n)
		}
		if d := e.detail(ok); d.Status != notify.Sent || d.SentAt.IsZero() || len(d.History) != 1 || !d.History[0].OK || d.History[0].Instance != "test-1" {
			t.Errorf("ok = %+v", d)
		}
		if d := e.detail(refused); d.Status != notify.Dead || !strings.Contains(d.LastError, "400") {
			t.Errorf("refused = %s %q", d.Status, d.LastError)
		}
		d := e.detail(flaky)
		if d.Status != notify.Pending || d.Attempts != 1 {
			t.Fatalf("flaky = %+v", d.Item)
		}
		wait := d.NextAttemptAt.Sub(e.clk.Now())
		if wait < 15*time.Second || wait > 30*time.Second {
			t.Errorf("first backoff %s, want 15–30s", wait)
		}
		// Nothing is due before the backoff ends.
		if n := e.deliver(); n != 0 {
			t.Errorf("claimed %d before the backoff ended", n)
		}
		// Two days of hourly passes, quiet nights included.
		for range 48 {
			e.clk.Advance(time.Hour)
			e.deliver()
		}
		if d := e.detail(flaky); d.Status != notify.Sent || d.Attempts != 3 {
			t.Errorf("flaky = %s after %d attempts", d.Status, d.Attempts)
		}
		d = e.detail(down)
		if d.Status != notify.Dead || d.Attempts != 8 || len(d.History) != 8 {
			t.Errorf("down = %s after %d attempts", d.Status, d.Attempts)
		}
		// Exactly one success per delivered message.
		if e.rec.count() != 2 {
			t.Errorf("sent %d, want 2", e.rec.count())
		}
		// Re-send a dead message: audited, fresh attempts, sent once.
		e.rec.fail = nil
		if err := e.n.Resend(ctx, access.System(), down); err != nil {
			t.Fatal(err)
		}
		if err := e.n.Resend(ctx, access.System(), ok); errs.CodeOf(err) != "not_dead" {
			t.Errorf("resend of a sent message = %v", err)
		}
		e.deliver()
		if d := e.detail(down); d.Status != notify.Sent {
			t.Errorf("re-sent = %s", d.Status)
		}
		list, _ := e.au.List(ctx, access.System(), audit.Filter{Action: "notify.resend"})
		if len(list) != 1 || list[0].ObjectID != fmt.Sprint(down) {
			t.Errorf("audit = %+v", list)
		}
	})
}

func TestQuietHoursHoldPatientMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.clk.Set(time.Date(2026, 9, 30, 14, 30, 0, 0, time.UTC)) // 22:30 in Beijing
		patient := e.mustEnqueue(invite("night", "13812345678"))
		staff := e.mustEnqueue(notify.Message{Channel: notify.Email, Template: "complaint.escalate", To: "head@h1.example.cn",
			IdempotencyKey: "esc-1", Params: map[string]string{"number": "TS-1", "deadline": "今天17:00", "link": "https://sf/c/1"}})
		e.deliver()
		if d := e.detail(staff); d.Status != notify.Sent {
			t.Errorf("staff message at night = %s, want sent", d.Status)
		}
		d := e.detail(patient)
		want := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) // 08:00 in Beijing
		if d.Status != notify.Pending || d.Attempts != 0 || !d.NextAttemptAt.Equal(want) {
			t.Fatalf("patient message at night: %s, %d attempts, next %s; want pending until %s", d.Status, d.Attempts, d.NextAttemptAt, want)
		}
		e.clk.Set(want.Add(time.Minute))
		e.deliver()
		if d := e.detail(patient); d.Status != notify.Sent {
			t.Errorf("after 08:00 = %s", d.Status)
		}
	})
}

func TestCancelRef(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		m := invite("r1", "13812345678")
		m.Ref, m.NotBefore = "survey_invitation:9", e.clk.Now().Add(48*time.Hour)
		id := e.mustEnqueue(m)
		m2 := invite("r2", "13812345678")
		m2.Ref = "survey_invitation:9"
		sentID := e.mustEnqueue(m2)
		e.deliver()
		var n int
		err := db.Write(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = e.n.CancelRef(ctx, tx, e.inst, "survey_invitation:9")
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("cancelled %d, %v; want 1", n, err)
		}
		e.clk.Advance(72 * time.Hour)
		e.deliver()
		if e.detail(id).Status != notify.Cancelled || e.detail(sentID).Status != notify.Sent || e.rec.count() != 1 {
			t.Errorf("after cancel: %s / %s, sent %d", e.detail(id).Status, e.detail(sentID).Status, e.rec.count())
		}
	})
}

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		nurse := &access.Principal{UserID: 7, Username: "nurse", Roles: []access.Role{access.Nurse},
			Grants: []access.Grant{{InstitutionID: e.inst}}}
		for i, c := range []string{"3", "5"} {
			e.mustEnqueue(notify.Message{Channel: notify.InApp, Template: "followup.assigned", To: "7",
				IdempotencyKey: fmt.Sprintf("asg-%d", i), Params: map[string]string{"count": c, "link": "/followup?tab=mine"}})
		}
		e.mustEnqueue(notify.Message{Channel: notify.InApp, Template: "notice.escalate", To: "8", IdempotencyKey: "other",
			Params: map[string]string{"number": "CG-H01-202610-0001", "deadline": "2026-10-20", "link": "/notices/1"}})
		if n, _ := e.n.Unread(ctx, nurse); n != 2 {
			t.Fatalf("unread = %d, want 2", n)
		}
		notes, err := e.n.Inbox(ctx, nurse, 0)
		if err != nil || len(notes) != 2 || notes[0].Text != "有5条随访任务分配给您。" || notes[0].Link != "/followup?tab=mine" {
			t.Fatalf("inbox = %+v, %v", notes, err)
		}
		// In-app messages are delivered on enqueue and never reach a provider.
		e.deliver()
		if e.rec.count() != 0 {
			t.Error("an in-app message went to a provider")
		}
		// Another user's notification cannot be marked by this one.
		var other int64
		db.R().QueryRowContext(ctx, `SELECT id FROM outbox WHERE idempotency_key = 'other'`).Scan(&other)
		e.n.MarkRead(ctx, nurse, other)
		if n, _ := e.n.Unread(ctx, &access.Principal{UserID: 8}); n != 1 {
			t.Error("marking read crossed users")
		}
		if err := e.n.MarkRead(ctx, nurse, notes[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.n.Unread(ctx, nurse); n != 1 {
			t.Errorf("unread after one read = %d", n)
		}
		e.n.MarkRead(ctx, nurse, 0)
		if n, _ := e.n.Unread(ctx, nurse); n != 0 {
			t.Errorf("unread after all read = %d", n)
		}
		// A nurse may not see the outbox.
		_, err = e.n.List(ctx, nurse, notify.Filter{InstitutionID: e.inst})
		wantErr(t, err, errs.Forbidden, "outbox_forbidden")
	})
}

func TestTemplateOverride(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		quality := &access.Principal{UserID: 3, Username: "qc", Roles: []access.Role{access.Quality},
			Grants: []access.Grant{{InstitutionID: e.inst}}}
		in := notify.TemplateInput{Body: "{name}，请填写问卷 {link}（咨询 {phone}）", SMSCode: "SMS_123456"}
		_, text, err := e.n.Preview(ctx, quality, e.inst, "survey.invite", notify.SMS, in)
		if err != nil || !strings.Contains(text, "张先生") {
			t.Fatalf("preview = %q, %v", text, err)
		}
		bad := in
		bad.Body = "{name}，您的诊断 {diagnosis}"
		err = e.n.SaveTemplate(ctx, quality, e.inst, "survey.invite", notify.SMS, bad)
		wantErr(t, err, errs.Invalid, "bad_template")
		bad.Body = "{name}，肿瘤科随访问卷 {link}"
		err = e.n.SaveTemplate(ctx, quality, e.inst, "survey.invite", notify.SMS, bad)
		wantErr(t, err, errs.Invalid, "guard_refused")
		bad = in
		bad.SMSCode = ""
		wantErr(t, e.n.SaveTemplate(ctx, quality, e.inst, "survey.invite", notify.SMS, bad), errs.Invalid, "bad_template")
		if err := e.n.SaveTemplate(ctx, quality, e.inst, "survey.invite", notify.SMS, in); err != nil {
			t.Fatal(err)
		}
		id := e.mustEnqueue(invite("t1", "13812345678"))
		if d := e.detail(id); d.TemplateCode != "SMS_123456" || !strings.HasPrefix(d.Text, "张先生，请填写问卷") {
			t.Errorf("with override: %q %q", d.TemplateCode, d.Text)
		}
		list, _ := e.n.Templates(ctx, quality, e.inst)
		custom := 0
		for _, tp := range list {
			if tp.Custom {
				custom++
			}
		}
		if len(list) != len(notify.Defaults()) || custom != 1 {
			t.Errorf("templates: %d, %d custom", len(list), custom)
		}
		if err := e.n.ResetTemplate(ctx, quality, e.inst, "survey.invite", notify.SMS); err != nil {
			t.Fatal(err)
		}
		if tp, _ := e.n.Template(ctx, quality, e.inst, "survey.invite", notify.SMS); tp.Custom || tp.SMSCode != "SF_SURVEY_INVITE" {
			t.Errorf("after reset: %+v", tp)
		}
		nurse := &access.Principal{UserID: 4, Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.inst}}}
		wantErr(t, e.n.SaveTemplate(ctx, nurse, e.inst, "survey.invite", notify.SMS, in), errs.Forbidden, "outbox_forbidden")
	})
}

// A recipient copied from another message in the database (to redirect a
// survey or receipt) does not open on the message it was copied onto: that
// message is never sent, to anyone.
func TestCopiedRecipientIsNotSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		victim := e.mustEnqueue(invite("inv-victim", "13812345678"))
		other := e.mustEnqueue(invite("inv-other", "13900001111"))
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET recipient_enc = (SELECT recipient_enc FROM outbox WHERE id = $1) WHERE id = $2`, other, victim)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.deliver()
		for _, d := range e.rec.sent {
			if d.IdempotencyKey == "inv-victim" {
				t.Fatalf("the tampered message went to %s", d.To)
			}
		}
		if d := e.detail(victim); d.Status == notify.Sent || !strings.Contains(d.LastError, "decrypted") {
			t.Errorf("tampered message: %s %q", d.Status, d.LastError)
		}
	})
}

// TestOutboxMasksLiveLinks: whoever reads a message in the outbox (the
// detail page, the dead list, a resend) sees the survey link's token cut
// short and a verification code hidden, while the provider still gets the
// real link. Before the mask, the detail showed the whole live link.
func TestOutboxMasksLiveLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		const token = "Qm7wXc2Rt9bKpL4sNvYd8ZaHe3Jf6Ug5"
		m := invite("inv-mask", "13812345678")
		m.Params["link"] = "https://sf.example.cn/s/" + token
		id := e.mustEnqueue(m)
		code := e.mustEnqueue(notify.Message{Channel: notify.SMS, Template: "verify.code", To: "13900001234",
			IdempotencyKey: "code-mask", Params: map[string]string{"hospital": "第一医院", "code": "482915"}})
		for _, id := range []int64{id, code} {
			d := e.detail(id)
			all := d.Subject + d.Text
			for _, p := range d.Params {
				all += " " + p.Value
			}
			if strings.Contains(all, token) || strings.Contains(all, token[4:12]) || strings.Contains(all, "482915") || !d.Masked {
				t.Fatalf("message %d shows a live secret: %q %+v", id, d.Text, d.Params)
			}
		}
		if d := e.detail(id); !strings.Contains(d.Text, "https://sf.example.cn/s/Qm7w…") {
			t.Errorf("masked link %q", d.Text)
		}
		e.deliver()
		found := 0
		for _, d := range e.rec.sent {
			if strings.Contains(d.Text, "/s/"+token) || strings.Contains(d.Text, "482915") {
				found++
			}
		}
		if found != 2 {
			t.Fatalf("the providers got %d of the 2 real messages", found)
		}
	})
}

// TestCodeCapsHoldUnderConcurrency: eight simultaneous requests for one
// number (on PostgreSQL, each its own transaction) send exactly the three
// codes the hourly cap allows; the others get a LimitError.
func TestCodeCapsHoldUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		sent, limited := 0, 0
		for i := range 8 {
			wg.Go(func() {
				err := db.Write(ctx, func(tx *sql.Tx) error {
					tok, err := e.n.SendCode(ctx, tx, notify.CodeRequest{InstitutionID: e.inst, Phone: "13812340000",
						Client: fmt.Sprintf("10.1.0.%d", i), Ref: fmt.Sprintf("complaint:%d", i+1)})
					var lim *notify.LimitError
					if errors.As(err, &lim) && tok != "" {
						mu.Lock()
						limited++
						mu.Unlock()
						return nil
					}
					if err == nil {
						mu.Lock()
						sent++
						mu.Unlock()
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if sent != 3 || limited != 5 {
			t.Fatalf("sent %d, limited %d; want 3 and 5", sent, limited)
		}
		if e.deliver(); e.rec.count() != 3 {
			t.Fatalf("%d code messages delivered, want 3", e.rec.count())
		}
	})
}

// TestOldReceiptOverrideFallsBack: an institution saved its receipt with
// {name} while the template still took it. The receipt no longer does, so
// the saved text would leave the name's placeholder unfilled: the
// built-in text goes out instead, without the name.
func TestOldReceiptOverrideFallsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO notify_templates (institution_id, template_key, channel, subject, body,
				sms_code, updated_by, updated_at) VALUES ($1, 'complaint.received', 'sms', '', $2, 'SMS_OLD', 0, 0)`, e.inst,
				"【{hospital}】{name}您好，已收到您的意见（编号{number}），{days}个工作日内答复。")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		id := e.mustEnqueue(notify.Message{Channel: notify.SMS, Template: "complaint.received", To: "13812345678", Patient: true,
			IdempotencyKey: "receipt-old", Params: map[string]string{"hospital": "第一医院", "number": "K7MQ-X9PA-4TZB", "days": "5"}})
		d := e.detail(id)
		if d.Status != notify.Pending || d.TemplateCode != "SF_COMPLAINT_RECEIPT" || !strings.Contains(d.Text, "K7MQ-X9PA-4TZB") ||
			strings.Contains(d.Text, "{name}") {
			t.Fatalf("receipt %s %q %q", d.Status, d.TemplateCode, d.Text)
		}
	})
}
