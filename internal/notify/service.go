package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/pii"
	"suifang/internal/sealed"
	"suifang/internal/store"
)

// Statuses of a message.
const (
	Pending   = "pending"
	Sent      = "sent"
	Dead      = "dead"
	Cancelled = "cancelled"
)

// Statuses lists them in display order.
func Statuses() []string { return []string{Pending, Sent, Dead, Cancelled} }

// Associated data binding the sealed columns to their meaning.
const (
	adRecipient = "outbox.recipient"
	adBody      = "outbox.body"
)

// rowKey is the stable key of an outbox row its sealed values are bound
// to: institution and idempotency key, unique together and known before the
// INSERT, so a recipient copied onto another message does not open there.
func rowKey(inst int64, idem string) string { return sealed.RowKey(strconv.FormatInt(inst, 10), idem) }

// Service is the door to the outbox.
type Service struct {
	db        *store.DB
	audit     *audit.Service
	keys      *pii.Keyring
	index     *pii.Indexer // blind indexes for the caps on public SMS
	now       func() time.Time
	log       *slog.Logger
	pol       Policy
	providers map[string]Provider
	instance  string

	mu    sync.Mutex
	insts map[int64]instInfo // code and zone per institution, for the worker
}

type instInfo struct {
	code string
	loc  *time.Location
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB     *store.DB        // the database
	Audit  *audit.Service   // the audit log, written in the callers' transactions
	Keys   *pii.Keyring     // patient-data keys
	Index  *pii.Indexer     // the blind-index key
	Now    func() time.Time // the clock (time.Now in production)
	Log    *slog.Logger     // nil: discard
	Policy Policy           // the configured rules
}

// New returns the outbox service. It fails when a route names a provider
// that is not configured, so a bad deployment stops at start-up rather than
// piling messages into the dead list. index keys the counts behind the caps
// on public SMS (verify.go).
func New(d Deps) (*Service, error) {
	db, au, keys, index, now, log, pol := d.DB, d.Audit, d.Keys, d.Index, d.Now, d.Log, d.Policy
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := DefaultPolicy()
	if pol.Caps.PerNumberHour <= 0 {
		pol.Caps.PerNumberHour = def.Caps.PerNumberHour
	}
	if pol.Caps.PerNumberDay <= 0 {
		pol.Caps.PerNumberDay = def.Caps.PerNumberDay
	}
	if pol.Caps.PerClientHour <= 0 {
		pol.Caps.PerClientHour = def.Caps.PerClientHour
	}
	if pol.MaxAttempts <= 0 {
		pol.MaxAttempts = def.MaxAttempts
	}
	if pol.Backoff <= 0 {
		pol.Backoff = def.Backoff
	}
	if pol.MaxBackoff < pol.Backoff {
		pol.MaxBackoff = max(def.MaxBackoff, pol.Backoff)
	}
	if pol.Lease <= 0 {
		pol.Lease = def.Lease
	}
	if pol.Batch <= 0 {
		pol.Batch = def.Batch
	}
	if pol.Concurrency <= 0 {
		pol.Concurrency = def.Concurrency
	}
	if pol.Poll <= 0 {
		pol.Poll = def.Poll
	}
	s := &Service{db: db, audit: au, keys: keys, index: index, now: now, log: log, pol: pol, insts: map[int64]instInfo{},
		providers: map[string]Provider{ProviderLog: logProvider{log}}}
	if pol.Webhook.URL != "" {
		s.providers[ProviderWebhook] = newWebhook(pol.Webhook)
	}
	if pol.SMTP.Addr != "" {
		if pol.SMTP.From == "" {
			return nil, errors.New("notify: --notify-smtp-from is required with --notify-smtp-addr")
		}
		s.providers[ProviderSMTP] = smtpProvider{pol.SMTP}
	}
	for ch, p := range pol.Routes {
		if _, ok := s.providers[p]; !ok {
			return nil, fmt.Errorf("notify: channel %s is routed to %s, which is not configured", ch, p)
		}
	}
	s.instance = pol.Instance
	if s.instance == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		rand.Read(b)
		s.instance = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return s, nil
}

// SetProvider replaces the provider registered under name (tests use a
// recording one).
func (s *Service) SetProvider(name string, p Provider) { s.providers[name] = p }

// Policy returns the policy in force.
func (s *Service) Policy() Policy { return s.pol }

// body is what is sealed in body_enc: the rendered message.
type body struct {
	Subject string  `json:"subject,omitempty"`
	Text    string  `json:"text"`
	Params  []Param `json:"params,omitempty"`
	// Link is an in-app notification's target, a path inside Suifang.
	Link string `json:"link,omitempty"`
}

func invalid(field, code, msg string) error { return errs.Field(field, code, msg) }

// checkRecipient validates the address for its channel.
func checkRecipient(ch, to string) (string, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return "", invalid("to", "no_recipient", "the message has no recipient")
	}
	switch ch {
	case SMS:
		digits := 0
		for i, r := range to {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' && i == 0, r == ' ', r == '-':
			default:
				return "", invalid("to", "bad_phone", "an SMS recipient must be a phone number")
			}
		}
		if digits < 6 || digits > 20 {
			return "", invalid("to", "bad_phone", "an SMS recipient must be a phone number")
		}
	case Email:
		a, err := mail.ParseAddress(to)
		if err != nil || a.Address != to || len(to) > 254 {
			return "", invalid("to", "bad_email", "an e-mail recipient must be a bare address (name@example.cn)")
		}
	case WeChat:
		if len(to) < 6 || len(to) > 64 || strings.IndexFunc(to, func(r rune) bool {
			return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'))
		}) >= 0 {
			return "", invalid("to", "bad_openid", "a WeChat recipient must be an openid")
		}
	case InApp:
		if id, err := strconv.ParseInt(to, 10, 64); err != nil || id <= 0 {
			return "", invalid("to", "bad_user", "an in-app recipient must be a staff user id")
		}
	case Webhook:
		if utf8.RuneCountInString(to) > 200 || !utf8.ValidString(to) {
			return "", invalid("to", "bad_recipient", "the webhook recipient is longer than 200 characters")
		}
	}
	return to, nil
}

// maskRecipient is the recipient as lists and logs show it.
func maskRecipient(ch, to string) string {
	switch ch {
	case SMS:
		return pii.MaskPhone(to)
	case Email:
		local, domain, _ := strings.Cut(to, "@")
		if r, size := utf8.DecodeRuneInString(local); size > 0 {
			return string(r) + "***@" + domain
		}
		return "***@" + domain
	case WeChat:
		if len(to) > 6 {
			return to[:4] + "…" + to[len(to)-2:]
		}
		return "***"
	case InApp:
		return "user " + to
	}
	if utf8.RuneCountInString(to) > 12 {
		return string([]rune(to)[:8]) + "…"
	}
	return to
}

// lookupTemplate finds the institution's override or the built-in template.
func (s *Service) lookupTemplate(ctx context.Context, q store.Querier, inst int64, key, ch string) (*Template, error) {
	def, ok := Default(key, ch)
	if !ok {
		return nil, invalid("template", "unknown_template", fmt.Sprintf("there is no template %s for channel %s", key, ch))
	}
	var subject, bodyText, code string
	err := q.QueryRowContext(ctx, `SELECT subject, body, sms_code FROM notify_templates
		WHERE institution_id = $1 AND template_key = $2 AND channel = $3`, inst, key, ch).Scan(&subject, &bodyText, &code)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return def, nil
	case err != nil:
		return nil, fmt.Errorf("notify: read template: %w", err)
	}
	own := *def
	own.Subject, own.Body, own.SMSCode, own.Custom = subject, bodyText, code, true
	if bad := checkOverride(&own); len(bad) > 0 {
		// An override saved before the template lost a placeholder (the
		// receipt's {name}) would no longer render: the built-in text goes
		// out instead, and the template page shows the built-in version.
		s.log.Warn("notify: institution template no longer valid, using the built-in one", "institution", inst,
			"template", key, "channel", ch)
		return def, nil
	}
	return &own, nil
}

// render fills t with params after checking them against its whitelist.
func render(t *Template, params map[string]string) (*body, error) {
	for k, v := range params {
		if !slices.Contains(t.Params, k) {
			return nil, invalid("params", "unknown_param", fmt.Sprintf("template %s does not take the parameter %q; it takes %s", t.Key, k, braces(t.Params)))
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 200 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return nil, invalid("params", "bad_param", fmt.Sprintf("parameter %q is longer than 200 characters or holds control characters", k))
		}
	}
	bt, err := ParseText(t.Body)
	if err != nil {
		return nil, fmt.Errorf("notify: template %s/%s: %w", t.Key, t.Channel, err)
	}
	need := bt.Names()
	var st *Text
	if t.Channel == Email {
		if st, err = ParseText(t.Subject); err != nil {
			return nil, fmt.Errorf("notify: template %s/%s subject: %w", t.Key, t.Channel, err)
		}
		need = append(need, st.Names()...)
	}
	if t.Channel == SMS {
		// The SMS cloud fills its approved template with every parameter,
		// in order, whether our local text shows it or not.
		need = t.Params
	}
	for _, n := range need {
		if strings.TrimSpace(params[n]) == "" {
			return nil, invalid("params", "missing_param", fmt.Sprintf("template %s needs the parameter %q", t.Key, n))
		}
	}
	b := &body{Text: bt.Render(params)}
	if l := params["link"]; t.Channel == InApp && strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") {
		b.Link = l
	}
	if st != nil {
		b.Subject = st.Render(params)
	}
	if t.Channel == SMS {
		for _, n := range t.Params {
			b.Params = append(b.Params, Param{Name: n, Value: params[n]})
		}
	}
	return b, nil
}

// check runs the content guard over everything a message would show.
// In-app notifications stay inside the access-controlled UI, where staff
// see departments anyway (an escalation to 肿瘤科 must get through), so
// only the ID-number rule applies to them.
func check(ch string, b *body) error {
	parts := []string{b.Subject, b.Text, b.Link}
	for _, p := range b.Params {
		parts = append(parts, p.Value)
	}
	for _, p := range parts {
		if ch == InApp {
			if n := longestDigitRun(fold(p)); n >= 15 {
				return fmt.Errorf("content guard: %d digits in a row look like a national ID number", n)
			}
			continue
		}
		if err := Guard(p); err != nil {
			return err
		}
	}
	return nil
}

// Enqueue adds m to the outbox inside the caller's transaction tx, so the
// message exists exactly when the business change that caused it commits.
// A second call with the same institution and idempotency key returns the
// first message's id and queues nothing. A message the content guard
// refuses is stored as dead with the reason and never sent; the caller's
// change still commits. In-app messages are delivered here and now: storing
// them for the user is their delivery.
func (s *Service) Enqueue(ctx context.Context, tx *sql.Tx, m Message) (int64, error) {
	m.IdempotencyKey, m.Ref, m.Template = strings.TrimSpace(m.IdempotencyKey), strings.TrimSpace(m.Ref), strings.TrimSpace(m.Template)
	if m.InstitutionID <= 0 {
		return 0, invalid("institution", "no_institution", "the message has no institution")
	}
	if !slices.Contains(Channels(), m.Channel) {
		return 0, invalid("channel", "unknown_channel", fmt.Sprintf("unknown channel %q", m.Channel))
	}
	if m.IdempotencyKey == "" || len(m.IdempotencyKey) > 200 || !utf8.ValidString(m.IdempotencyKey) {
		return 0, invalid("idempotency_key", "bad_idempotency_key", "a message needs an idempotency key of at most 200 bytes")
	}
	if len(m.Ref) > 200 || !utf8.ValidString(m.Ref) {
		return 0, invalid("ref", "bad_ref", "the reference is longer than 200 bytes")
	}
	to, err := checkRecipient(m.Channel, m.To)
	if err != nil {
		return 0, err
	}
	// A retried business change finds its message before anything else is
	// checked, so the answer does not depend on a template edited since.
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE institution_id = $1 AND idempotency_key = $2`,
		m.InstitutionID, m.IdempotencyKey).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("notify: find message: %w", err)
	}
	t, err := s.lookupTemplate(ctx, tx, m.InstitutionID, m.Template, m.Channel)
	if err != nil {
		return 0, err
	}
	b, err := render(t, m.Params)
	if err != nil {
		return 0, err
	}
	now := s.now()
	status, reason, next := Pending, "", now
	if m.NotBefore.After(next) {
		next = m.NotBefore
	}
	var userID int64
	var sentAt int64
	if m.Channel == InApp {
		userID, _ = strconv.ParseInt(to, 10, 64)
		status, sentAt = Sent, store.Micros(now)
	}
	if err := check(m.Channel, b); err != nil {
		status, reason, sentAt = Dead, err.Error(), 0
	}
	row := rowKey(m.InstitutionID, m.IdempotencyKey)
	recEnc, err := s.keys.SealRow(to, adRecipient, row)
	if err != nil {
		return 0, fmt.Errorf("notify: seal recipient: %w", err)
	}
	raw, _ := json.Marshal(b)
	bodyEnc, err := s.keys.SealRow(string(raw), adBody, row)
	if err != nil {
		return 0, fmt.Errorf("notify: seal body: %w", err)
	}
	provider := ""
	if m.Channel == InApp {
		provider = InApp
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO outbox (institution_id, channel, template_key, template_code, recipient_enc,
		recipient_mask, body_enc, idempotency_key, ref, patient, user_id, status, next_attempt_at, last_error, provider,
		created_at, sent_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $16)
		ON CONFLICT (institution_id, idempotency_key) DO NOTHING RETURNING id`,
		m.InstitutionID, m.Channel, m.Template, t.SMSCode, recEnc, maskRecipient(m.Channel, to), bodyEnc, m.IdempotencyKey,
		m.Ref, m.Patient, userID, status, store.Micros(next), reason, provider, store.Micros(now), sentAt).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Another transaction queued the same key first (PostgreSQL, two
		// instances): its row is the message.
		err = tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE institution_id = $1 AND idempotency_key = $2`,
			m.InstitutionID, m.IdempotencyKey).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("notify: enqueue: %w", err)
	}
	if status == Dead {
		s.log.Warn("notify: message refused by the content guard", "id", id, "template", m.Template, "channel", m.Channel, "reason", reason)
	}
	return id, nil
}

// CancelRef cancels the pending messages of business object ref (the
// reminders of a survey that has been answered). Messages already sent are
// history and stay as they are.
func (s *Service) CancelRef(ctx context.Context, tx *sql.Tx, inst int64, ref string) (int, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return 0, invalid("ref", "bad_ref", "cancelling needs a reference")
	}
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'cancelled', last_error = $1, updated_at = $2
		WHERE institution_id = $3 AND ref = $4 AND status = 'pending'`, "cancelled: "+ref, store.Micros(s.now()), inst, ref)
	if err != nil {
		return 0, fmt.Errorf("notify: cancel %s: %w", ref, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
