package notify

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func testDelivery() *Delivery {
	return &Delivery{ID: 42, IdempotencyKey: "survey_invite:42", Channel: SMS, Institution: "H1", Template: "survey.invite",
		TemplateCode: "SF_SURVEY_INVITE", To: "13812345678", Text: "【一院】张先生您好",
		Params: []Param{{"hospital", "一院"}, {"name", "张先生"}}, Instance: "i1"}
}

func TestWebhookSignsAndClassifies(t *testing.T) {
	status := http.StatusOK
	var got WebhookBody
	var hdr http.Header
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ = io.ReadAll(r.Body)
		hdr = r.Header.Clone()
		json.Unmarshal(raw, &got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	p := newWebhook(WebhookConfig{URL: srv.URL, Secret: "s3cret", Timeout: 2 * time.Second})
	if err := p.Send(context.Background(), testDelivery()); err != nil {
		t.Fatal(err)
	}
	if hdr.Get("X-Suifang-Signature") != Sign("s3cret", raw) || !strings.HasPrefix(hdr.Get("X-Suifang-Signature"), "sha256=") {
		t.Errorf("signature %q does not match the body", hdr.Get("X-Suifang-Signature"))
	}
	if hdr.Get("Idempotency-Key") != "survey_invite:42" || got.IdempotencyKey != "survey_invite:42" || got.ID != 42 ||
		got.TemplateCode != "SF_SURVEY_INVITE" || got.Institution != "H1" || got.To != "13812345678" ||
		len(got.Params) != 2 || got.Params[1].Value != "张先生" {
		t.Errorf("body = %+v, headers %v", got, hdr)
	}
	for code, permanent := range map[int]bool{400: true, 404: true, 422: true, 408: false, 429: false, 500: false, 503: false} {
		status = code
		err := p.Send(context.Background(), testDelivery())
		if err == nil || IsPermanent(err) != permanent {
			t.Errorf("HTTP %d: err %v, permanent %v; want permanent=%v", code, err, IsPermanent(err), permanent)
		}
	}
	srv.Close()
	if err := p.Send(context.Background(), testDelivery()); err == nil || IsPermanent(err) {
		t.Errorf("unreachable receiver: %v, want a retryable error", err)
	}
}

// smtpServer is a minimal SMTP receiver: enough of RFC 5321 for net/smtp.
type smtpServer struct {
	ln     net.Listener
	mu     sync.Mutex
	rcpt   []string
	data   []string
	refuse bool // answer RCPT with 550
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			if s.refuse {
				say("550 no such mailbox")
				continue
			}
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.TrimSpace(line[8:]))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.data = append(s.data, b.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func TestSMTPProvider(t *testing.T) {
	srv := newSMTPServer(t)
	p := smtpProvider{SMTPConfig{Addr: srv.ln.Addr().String(), From: "suifang@h1.example.cn", Timeout: 5 * time.Second}}
	d := testDelivery()
	d.Channel, d.To, d.Subject, d.Text = Email, "zhang@example.cn", "第一医院出院随访问卷", "张先生您好：\n请填写问卷。"
	if err := p.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	if len(srv.rcpt) != 1 || !strings.Contains(srv.rcpt[0], "zhang@example.cn") || len(srv.data) != 1 {
		t.Fatalf("received rcpt %v, %d messages", srv.rcpt, len(srv.data))
	}
	msg := srv.data[0]
	srv.mu.Unlock()
	head, bodyPart, _ := strings.Cut(msg, "\r\n\r\n")
	if !strings.Contains(head, "Subject: =?UTF-8?b?") || !strings.Contains(head, "Message-ID: <") || !strings.Contains(head, "charset=UTF-8") {
		t.Errorf("headers:\n%s", head)
	}
	text, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(bodyPart, "\r\n", ""))
	if err != nil || string(text) != "张先生您好：\r\n请填写问卷。" {
		t.Errorf("body = %q, %v", text, err)
	}
	srv.refuse = true
	if err := p.Send(context.Background(), d); !IsPermanent(err) {
		t.Errorf("550 on RCPT: %v, want permanent", err)
	}
	down := smtpProvider{SMTPConfig{Addr: "127.0.0.1:1", From: "a@b.cn", Timeout: time.Second}}
	if err := down.Send(context.Background(), d); err == nil || IsPermanent(err) {
		t.Errorf("unreachable relay: %v, want retryable", err)
	}
}

func TestLogProviderHidesText(t *testing.T) {
	var b strings.Builder
	p := logProvider{slog.New(slog.NewTextHandler(&b, nil))}
	if err := p.Send(context.Background(), testDelivery()); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "138****5678") || strings.Contains(out, "张先生") || strings.Contains(out, "13812345678") {
		t.Errorf("log line = %s", out)
	}
}
