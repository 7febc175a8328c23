package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// Delivery is one message as a provider sends it: rendered, recipient in
// clear. It exists only in memory while the worker sends.
type Delivery struct {
	ID             int64
	IdempotencyKey string
	Channel        string
	Institution    string // institution code
	Template       string
	TemplateCode   string
	To             string
	Subject        string
	Text           string
	Params         []Param
	Instance       string
}

// Param is one SMS template parameter, in the template's order.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Provider carries messages of one kind out of Suifang. Send returns nil
// once the far side has accepted the message; an error wrapped by
// Permanent means retrying cannot help.
type Provider interface {
	Name() string
	Send(ctx context.Context, d *Delivery) error
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (the message goes dead).
func Permanent(err error) error { return &permanentError{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// logProvider writes each message to the log; the admin outbox shows it as
// sent. The text itself is not logged: it carries the patient's name and
// logs are kept and shipped with less care than the database.
type logProvider struct{ log *slog.Logger }

func (logProvider) Name() string { return ProviderLog }

func (l logProvider) Send(_ context.Context, d *Delivery) error {
	l.log.Info("notify: message (log provider)", "id", d.ID, "channel", d.Channel, "template", d.Template,
		"institution", d.Institution, "to", maskRecipient(d.Channel, d.To), "chars", len([]rune(d.Text)))
	return nil
}

// WebhookConfig is the generic HTTP receiver a hospital's own SMS platform
// (or any integration) can implement.
type WebhookConfig struct {
	URL     string
	Secret  string // HMAC-SHA256 key for X-Suifang-Signature
	Timeout time.Duration
}

type webhookProvider struct {
	cfg WebhookConfig
	hc  *http.Client
}

func newWebhook(cfg WebhookConfig) *webhookProvider {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &webhookProvider{cfg: cfg, hc: &http.Client{Timeout: cfg.Timeout, Transport: tr,
		// A redirect would re-post the body somewhere the secret was not
		// meant for.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (*webhookProvider) Name() string { return ProviderWebhook }

// WebhookBody is the JSON a webhook receiver gets.
type WebhookBody struct {
	ID             int64   `json:"id"`
	IdempotencyKey string  `json:"idempotency_key"`
	Channel        string  `json:"channel"`
	Institution    string  `json:"institution"`
	To             string  `json:"to"`
	Template       string  `json:"template"`
	TemplateCode   string  `json:"template_code,omitempty"`
	Params         []Param `json:"params"`
	Subject        string  `json:"subject,omitempty"`
	Text           string  `json:"text"`
}

// Sign is the X-Suifang-Signature value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (w *webhookProvider) Send(ctx context.Context, d *Delivery) error {
	params := d.Params
	if params == nil {
		params = []Param{}
	}
	body, err := json.Marshal(WebhookBody{ID: d.ID, IdempotencyKey: d.IdempotencyKey, Channel: d.Channel,
		Institution: d.Institution, To: d.To, Template: d.Template, TemplateCode: d.TemplateCode, Params: params,
		Subject: d.Subject, Text: d.Text})
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Idempotency-Key", d.IdempotencyKey)
	req.Header.Set("X-Suifang-Signature", Sign(w.cfg.Secret, body))
	req.Header.Set("X-Suifang-Instance", d.Instance)
	res, err := w.hc.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	switch c := res.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 || c < 200:
		return fmt.Errorf("webhook: HTTP %d: %s", c, strings.TrimSpace(string(snippet)))
	default:
		// The receiver refused this message itself (bad number, unknown
		// template): sending it again would be refused again.
		return Permanent(fmt.Errorf("webhook: HTTP %d: %s", c, strings.TrimSpace(string(snippet))))
	}
}

// SMTPConfig is the mail relay for the email channel.
type SMTPConfig struct {
	Addr     string // host:port
	From     string
	User     string
	Password string
	Timeout  time.Duration
}

type smtpProvider struct{ cfg SMTPConfig }

func (smtpProvider) Name() string { return ProviderSMTP }

func (p smtpProvider) Send(ctx context.Context, d *Delivery) error {
	timeout := p.cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	dl := time.Now().Add(timeout)
	if t, ok := ctx.Deadline(); ok && t.Before(dl) {
		dl = t
	}
	conn, err := (&net.Dialer{Deadline: dl}).DialContext(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	conn.SetDeadline(dl)
	host, _, _ := net.SplitHostPort(p.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp: starttls: %w", err)
		}
	}
	if p.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", p.cfg.User, p.cfg.Password, host)); err != nil {
			return smtpErr("auth", err)
		}
	}
	if err := c.Mail(p.cfg.From); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	if err := c.Rcpt(d.To); err != nil {
		return smtpErr("RCPT TO", err)
	}
	wc, err := c.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := wc.Write(mailMessage(p.cfg.From, d)); err != nil {
		return fmt.Errorf("smtp: write: %w", err)
	}
	if err := wc.Close(); err != nil {
		return smtpErr("end of data", err)
	}
	return c.Quit()
}

// smtpErr makes a 5xx reply permanent: the server refused the message
// itself (no such mailbox), which a retry cannot change.
func smtpErr(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(fmt.Errorf("smtp %s: %w", step, err))
	}
	return fmt.Errorf("smtp %s: %w", step, err)
}

// mailMessage builds a UTF-8 text message. The Message-ID derives from the
// idempotency key, so a mail system that sees the same message twice (after
// a crash) can tell.
func mailMessage(from string, d *Delivery) []byte {
	var b bytes.Buffer
	h := sha256.Sum256([]byte(d.IdempotencyKey))
	domain := "suifang.local"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = strings.Trim(from[i+1:], "<> ")
	}
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", d.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("UTF-8", d.Subject))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(h[:16]), domain)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(d.Text, "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}
