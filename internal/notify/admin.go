package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Item is one message as the admin outbox lists it: the recipient masked,
// the text not opened.
type Item struct {
	ID             int64
	InstitutionID  int64
	Channel        string
	Template       string
	TemplateCode   string
	To             string // masked
	IdempotencyKey string
	Ref            string
	Patient        bool
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	Provider       string
	CreatedAt      time.Time
	SentAt         time.Time
}

// Attempt is one try at sending.
type Attempt struct {
	At       time.Time
	OK       bool
	Provider string
	Instance string
	Error    string
}

// Detail is one message with its text and attempts. Live secrets in the
// text — a patient's survey link token, a verification code — are masked
// (Masked says so): the delivery still carries them, but whoever reads
// the outbox cannot open a patient's survey or verify someone's number.
type Detail struct {
	Item
	Subject string
	Text    string
	Params  []Param
	Masked  bool
	History []Attempt // every attempt, oldest first
}

// secretParams are parameters whose whole value is a secret for the
// recipient alone.
var secretParams = []string{"code"}

// surveyLinkRE finds a patient link's token (/s/{token}); the first four
// characters stay so a message can still be told from another.
var surveyLinkRE = regexp.MustCompile(`/s/([A-Za-z0-9_-]{4})[A-Za-z0-9_-]+`)

// maskSecrets hides what d's recipient alone may use and sets Masked when
// it hid anything.
func (d *Detail) maskSecrets() {
	hide := func(s string) string {
		out := surveyLinkRE.ReplaceAllString(s, "/s/$1…")
		for _, p := range d.Params {
			if slices.Contains(secretParams, p.Name) && p.Value != "" {
				out = strings.ReplaceAll(out, p.Value, "••••••")
			}
		}
		if out != s {
			d.Masked = true
		}
		return out
	}
	d.Subject, d.Text = hide(d.Subject), hide(d.Text)
	params := make([]Param, len(d.Params))
	for i, p := range d.Params {
		v := hide(p.Value)
		if slices.Contains(secretParams, p.Name) && p.Value != "" {
			v, d.Masked = "••••••", true
		}
		params[i] = Param{Name: p.Name, Value: v}
	}
	d.Params = params
}

// Filter narrows the admin list.
type Filter struct {
	InstitutionID int64 // required unless the caller is global
	Status        string
	Channel       string
	BeforeID      int64 // cursor: messages older than this id
	Limit         int
}

// Page is one page of the admin list and the count of every status.
type Page struct {
	Items  []*Item
	Counts map[string]int
	Next   int64 // cursor for the next page, 0 at the end
}

// canAdmin is who may watch and re-send messages: system administrators
// and quality staff (医务/质控) of the institution.
func canAdmin(p *access.Principal, inst int64) error {
	if p.IsAdmin() && p.SeesInstitution(inst) {
		return nil
	}
	if p.Has(access.Quality) && p.SeesInstitution(inst) {
		return nil
	}
	return errs.New(errs.Forbidden, "outbox_forbidden", "only system administrators and quality staff of this institution may manage messages")
}

const itemCols = `id, institution_id, channel, template_key, template_code, recipient_mask, idempotency_key, ref, patient,
	status, attempts, next_attempt_at, last_error, provider, created_at, sent_at`

func scanItem(sc interface{ Scan(...any) error }) (*Item, error) {
	it := &Item{}
	var next, created, sent int64
	if err := sc.Scan(&it.ID, &it.InstitutionID, &it.Channel, &it.Template, &it.TemplateCode, &it.To, &it.IdempotencyKey,
		&it.Ref, &it.Patient, &it.Status, &it.Attempts, &next, &it.LastError, &it.Provider, &created, &sent); err != nil {
		return nil, err
	}
	it.NextAttemptAt, it.CreatedAt, it.SentAt = store.Time(next), store.Time(created), store.Time(sent)
	// A provider's error may echo the message it refused.
	it.LastError = surveyLinkRE.ReplaceAllString(it.LastError, "/s/$1…")
	return it, nil
}

// List pages through an institution's outgoing messages, newest first.
// In-app notifications are a user's own and are not listed.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (*Page, error) {
	if f.InstitutionID == 0 && !p.Global {
		return nil, invalid("institution", "no_institution", "choose an institution")
	}
	if f.InstitutionID != 0 {
		if err := canAdmin(p, f.InstitutionID); err != nil {
			return nil, err
		}
	} else if !p.IsAdmin() && !p.Has(access.Quality) {
		return nil, canAdmin(p, 0)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := []string{"channel <> 'inapp'"}, []any{}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.InstitutionID != 0 {
		where = append(where, "institution_id = "+arg(f.InstitutionID))
	}
	if f.Channel != "" {
		where = append(where, "channel = "+arg(f.Channel))
	}
	counts := map[string]int{}
	rows, err := s.db.R().QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox WHERE `+strings.Join(where, " AND ")+
		` GROUP BY status`, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: count: %w", err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("notify: count: %w", err)
		}
		counts[st] = n
	}
	rows.Close()
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	q := `SELECT ` + itemCols + ` FROM outbox WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ` + arg(f.Limit+1)
	rows, err = s.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	defer rows.Close()
	pg := &Page{Counts: counts}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: list: %w", err)
		}
		pg.Items = append(pg.Items, it)
	}
	if len(pg.Items) > f.Limit {
		pg.Items = pg.Items[:f.Limit]
		pg.Next = pg.Items[f.Limit-1].ID
	}
	return pg, rows.Err()
}

// Get returns one message with its text and every attempt.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (*Detail, error) {
	row := s.db.R().QueryRowContext(ctx, `SELECT `+itemCols+`, body_enc FROM outbox WHERE id = $1 AND channel <> 'inapp'`, id)
	d := &Detail{}
	var bodyEnc string
	var next, created, sent int64
	it := &d.Item
	err := row.Scan(&it.ID, &it.InstitutionID, &it.Channel, &it.Template, &it.TemplateCode, &it.To, &it.IdempotencyKey,
		&it.Ref, &it.Patient, &it.Status, &it.Attempts, &next, &it.LastError, &it.Provider, &created, &sent, &bodyEnc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "message_not_found", "no such message")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: get: %w", err)
	}
	if err := canAdmin(p, it.InstitutionID); err != nil {
		return nil, err
	}
	it.NextAttemptAt, it.CreatedAt, it.SentAt = store.Time(next), store.Time(created), store.Time(sent)
	it.LastError = surveyLinkRE.ReplaceAllString(it.LastError, "/s/$1…")
	if raw, err := s.keys.OpenRow(bodyEnc, adBody, rowKey(it.InstitutionID, it.IdempotencyKey)); err == nil {
		var b body
		if json.Unmarshal([]byte(raw), &b) == nil {
			d.Subject, d.Text, d.Params = b.Subject, b.Text, b.Params
			d.maskSecrets()
		}
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT at, ok, provider, instance, error FROM outbox_attempts
		WHERE message_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("notify: attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Attempt
		var at int64
		if err := rows.Scan(&at, &a.OK, &a.Provider, &a.Instance, &a.Error); err != nil {
			return nil, fmt.Errorf("notify: attempts: %w", err)
		}
		a.At = store.Time(at)
		a.Error = surveyLinkRE.ReplaceAllString(a.Error, "/s/$1…")
		d.History = append(d.History, a)
	}
	return d, rows.Err()
}

// Resend puts a dead message back in the queue with fresh attempts. It is
// audited: re-sending is a decision someone takes. A message the content
// guard refused is refused again at sending; change the template instead.
func (s *Service) Resend(ctx context.Context, p *access.Principal, id int64) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var inst int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT institution_id, status FROM outbox WHERE id = $1 AND channel <> 'inapp'`, id).Scan(&inst, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "message_not_found", "no such message")
		}
		if err != nil {
			return fmt.Errorf("notify: resend: %w", err)
		}
		if err := canAdmin(p, inst); err != nil {
			return err
		}
		if status != Dead {
			return errs.New(errs.Conflict, "not_dead", "only a dead message can be re-sent")
		}
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1,
			locked_until = 0, locked_by = '', updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return fmt.Errorf("notify: resend: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "notify.resend", "outbox", strconv.FormatInt(id, 10), inst))
	})
}

// Note is an in-app notification in a staff user's inbox.
type Note struct {
	ID        int64
	Template  string
	Text      string
	Link      string // a path inside Suifang, when the message carries one
	CreatedAt time.Time
	Read      bool
}

// Inbox returns the caller's latest in-app notifications, newest first.
func (s *Service) Inbox(ctx context.Context, p *access.Principal, limit int) ([]*Note, error) {
	if p == nil || p.UserID == 0 {
		return nil, errs.New(errs.Forbidden, "no_inbox", "only staff users have an inbox")
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, institution_id, idempotency_key, template_key, body_enc, created_at, read_at FROM outbox
		WHERE user_id = $1 AND channel = 'inapp' AND status = 'sent' ORDER BY id DESC LIMIT $2`, p.UserID, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: inbox: %w", err)
	}
	defer rows.Close()
	var out []*Note
	for rows.Next() {
		n := &Note{}
		var enc, idem string
		var inst, created, read int64
		if err := rows.Scan(&n.ID, &inst, &idem, &n.Template, &enc, &created, &read); err != nil {
			return nil, fmt.Errorf("notify: inbox: %w", err)
		}
		n.CreatedAt, n.Read = store.Time(created), read != 0
		if raw, err := s.keys.OpenRow(enc, adBody, rowKey(inst, idem)); err == nil {
			var b body
			if json.Unmarshal([]byte(raw), &b) == nil {
				n.Text, n.Link = b.Text, b.Link
			}
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Unread counts the caller's unread in-app notifications.
func (s *Service) Unread(ctx context.Context, p *access.Principal) (int, error) {
	if p == nil || p.UserID == 0 {
		return 0, nil
	}
	var n int
	err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND channel = 'inapp'
		AND status = 'sent' AND read_at = 0`, p.UserID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("notify: unread: %w", err)
	}
	return n, nil
}

// MarkRead marks one of the caller's notifications read (id 0: all of them).
func (s *Service) MarkRead(ctx context.Context, p *access.Principal, id int64) error {
	if p == nil || p.UserID == 0 {
		return errs.New(errs.Forbidden, "no_inbox", "only staff users have an inbox")
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		q := `UPDATE outbox SET read_at = $1 WHERE user_id = $2 AND channel = 'inapp' AND read_at = 0`
		args := []any{store.Micros(s.now()), p.UserID}
		if id != 0 {
			q += ` AND id = $3`
			args = append(args, id)
		}
		_, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("notify: mark read: %w", err)
		}
		return nil
	})
}

// Templates lists every template as the institution uses it.
func (s *Service) Templates(ctx context.Context, p *access.Principal, inst int64) ([]*Template, error) {
	if err := canAdmin(p, inst); err != nil {
		return nil, err
	}
	var out []*Template
	for _, d := range Defaults() {
		t, err := s.lookupTemplate(ctx, s.db.R(), inst, d.Key, d.Channel)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Template returns one template as the institution uses it.
func (s *Service) Template(ctx context.Context, p *access.Principal, inst int64, key, channel string) (*Template, error) {
	if err := canAdmin(p, inst); err != nil {
		return nil, err
	}
	t, err := s.lookupTemplate(ctx, s.db.R(), inst, key, channel)
	if errs.Is(err, errs.Invalid) {
		return nil, errs.New(errs.NotFound, "template_not_found", "no such template")
	}
	return t, err
}

// TemplateInput is an institution's edit of a template.
type TemplateInput struct {
	Subject string
	Body    string
	SMSCode string
}

// Preview renders the edited template with sample parameters and runs the
// content guard; the error marks the field at fault.
func (s *Service) Preview(ctx context.Context, p *access.Principal, inst int64, key, channel string, in TemplateInput) (subject, text string, err error) {
	t, err := s.Template(ctx, p, inst, key, channel)
	if err != nil {
		return "", "", err
	}
	t.Subject, t.Body, t.SMSCode = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body), strings.TrimSpace(in.SMSCode)
	if bad := checkOverride(t); len(bad) > 0 {
		e := &errs.Error{Kind: errs.Invalid, Code: "bad_template", Fields: map[string]string{}}
		for _, f := range []string{"subject", "body", "sms_code"} {
			if msg, ok := bad[f]; ok {
				e.Fields[f] = "invalid"
				if e.Msg == "" {
					e.Msg = msg
				}
			}
		}
		return "", "", e
	}
	b, err := render(t, SampleParams(t))
	if err != nil {
		return "", "", err
	}
	if err := check(channel, b); err != nil {
		return b.Subject, b.Text, &errs.Error{Kind: errs.Invalid, Code: "guard_refused", Msg: err.Error(),
			Fields: map[string]string{"body": "guard"}}
	}
	return b.Subject, b.Text, nil
}

// SaveTemplate stores an institution's version of a template after the
// same checks as Preview. Audited.
func (s *Service) SaveTemplate(ctx context.Context, p *access.Principal, inst int64, key, channel string, in TemplateInput) error {
	if _, _, err := s.Preview(ctx, p, inst, key, channel, in); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		now := store.Micros(s.now())
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_templates (institution_id, template_key, channel, subject, body, sms_code, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (institution_id, template_key, channel) DO UPDATE SET subject = excluded.subject, body = excluded.body,
				sms_code = excluded.sms_code, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			inst, key, channel, strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body), strings.TrimSpace(in.SMSCode), p.UserID, now)
		if err != nil {
			return fmt.Errorf("notify: save template: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "notify.template.save", "template", key+"/"+channel, inst))
	})
}

// ResetTemplate drops the institution's version, back to the built-in one.
func (s *Service) ResetTemplate(ctx context.Context, p *access.Principal, inst int64, key, channel string) error {
	if _, err := s.Template(ctx, p, inst, key, channel); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_templates WHERE institution_id = $1 AND template_key = $2 AND channel = $3`,
			inst, key, channel); err != nil {
			return fmt.Errorf("notify: reset template: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "notify.template.reset", "template", key+"/"+channel, inst))
	})
}
