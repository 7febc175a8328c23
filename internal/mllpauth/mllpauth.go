// Package mllpauth decides which HL7 senders may send over MLLP and for
// which institution. An administrator allows a source address range and,
// optionally, the sending application (MSH-3.1) and facility (MSH-4.1) it
// must name; a message that matches an entry may only touch that entry's
// institution. Refusals are audited, at most one entry per source address
// per minute with a count of the rest, so a flood cannot grow the audit
// log without bound.
//
// The rules live here, not in the listener (internal/hl7 stays a pure
// protocol package) and not in the MLLP handler (an adapter).
package mllpauth

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
)

// Sender is one allow-list entry.
type Sender struct {
	ID              int64
	InstitutionID   int64
	InstitutionCode string
	Prefix          netip.Prefix
	App             string // MSH-3.1 the sender must name; "" = any
	Facility        string // MSH-4.1 the sender must name; "" = any
	Note            string
	CreatedAt       time.Time
	CreatedBy       string
}

// AllowInput is what `suifang mllp allow` gives.
type AllowInput struct {
	Institution string // institution code
	Source      string // "10.1.2.0/24", "10.1.2.7", "fd00::/64"
	App         string
	Facility    string
	Note        string
}

// Deps are what the service needs.
type Deps struct {
	DB    *store.DB
	Audit *audit.Service
	Org   *org.Service
	Now   func() time.Time
	Log   *slog.Logger
}

// Service keeps the allow-list and decides on each message.
type Service struct {
	d Deps

	mu      sync.Mutex
	windows map[string]*window // refusals per source address, this minute
}

// New returns the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, windows: map[string]*window{}}
}

// Field limits: MSH-3.1/MSH-4.1 are IS/HD namespace ids (20 characters in
// the standard; Chinese HIS sometimes send longer names).
const (
	maxName = 64
	maxNote = 200
)

// ParseSource reads an address ("10.1.2.7", "fd00::7") or a range in CIDR
// notation ("10.1.2.0/24"). A range with host bits set ("10.1.2.5/24") is
// refused rather than silently widened, and so is a range of every
// address (/0): that would allow the whole network.
func ParseSource(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, errs.Field("cidr", "missing_source", "give the sender's address or address range, e.g. 10.1.2.0/24")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errs.Field("cidr", "bad_source", fmt.Sprintf("%q is not an IP address or CIDR range", clip(s, 60)))
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errs.Field("cidr", "bad_source", fmt.Sprintf("%q is not an IP address or CIDR range", clip(s, 60)))
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errs.Field("cidr", "bad_source", "write an IPv4 range as IPv4 (10.1.2.0/24)")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Masked() != p {
		return netip.Prefix{}, errs.Field("cidr", "bad_source",
			fmt.Sprintf("%s has host bits set; did you mean %s?", p, p.Masked()))
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, errs.Field("cidr", "source_too_wide", "a range of every address allows the whole network; name the interface engine's address or subnet")
	}
	return p, nil
}

// cleanName checks an MSH-3.1/MSH-4.1 value: no HL7 delimiters, no
// control characters, at most maxName characters.
func cleanName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > maxName || !utf8.ValidString(v) {
		return "", errs.Field(field, "bad_"+field, fmt.Sprintf("%s must be at most %d characters", field, maxName))
	}
	for _, r := range v {
		if unicode.IsControl(r) || strings.ContainsRune(`|^~\&`, r) {
			return "", errs.Field(field, "bad_"+field, fmt.Sprintf("%s may not contain control characters or HL7 delimiters |^~\\&", field))
		}
	}
	return v, nil
}

// Allow adds an entry; only system administrators may.
func (s *Service) Allow(ctx context.Context, p *access.Principal, in AllowInput) (*Sender, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	prefix, err := ParseSource(in.Source)
	if err != nil {
		return nil, err
	}
	app, err := cleanName("app", in.App)
	if err != nil {
		return nil, err
	}
	fac, err := cleanName("facility", in.Facility)
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > maxNote {
		return nil, errs.Field("note", "bad_note", fmt.Sprintf("the note must be at most %d characters", maxNote))
	}
	inst, err := s.d.Org.InstitutionByCode(ctx, in.Institution)
	if err != nil {
		return nil, err
	}
	if inst.Kind == org.KindGroup {
		return nil, errs.Field("institution", "group_institution", "allow senders for a hospital or clinic, not a group: discharges belong to one")
	}
	snd := &Sender{InstitutionID: inst.ID, InstitutionCode: inst.Code, Prefix: prefix, App: app, Facility: fac, Note: note,
		CreatedAt: s.d.Now().UTC().Truncate(time.Microsecond), CreatedBy: p.Username}
	err = s.d.DB.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO mllp_senders (institution_id, cidr, sending_app, sending_facility, note, created_at, created_by)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
			snd.InstitutionID, prefix.String(), app, fac, note, store.Micros(snd.CreatedAt), snd.CreatedBy).Scan(&snd.ID)
		if store.IsUniqueViolation(err) {
			return errs.New(errs.Conflict, "sender_exists", "this sender is already allowed for the institution")
		}
		if err != nil {
			return fmt.Errorf("mllpauth: insert sender: %w", err)
		}
		e := audit.Event(p, "mllp.allow", "mllp_sender", strconv.FormatInt(snd.ID, 10), inst.ID)
		e.Detail = snd.describe()
		return s.d.Audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return snd, nil
}

// describe is the entry in one line for the audit log and the CLI.
func (snd *Sender) describe() string {
	any := func(v string) string {
		if v == "" {
			return "*"
		}
		return v
	}
	return fmt.Sprintf("institution=%s source=%s app=%s facility=%s", snd.InstitutionCode, snd.Prefix, any(snd.App), any(snd.Facility))
}

// Revoke deletes an entry; only system administrators may.
func (s *Service) Revoke(ctx context.Context, p *access.Principal, id int64) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	return s.d.DB.Write(ctx, func(tx *sql.Tx) error {
		list, err := s.list(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errs.New(errs.NotFound, "sender_not_found", fmt.Sprintf("no allowed sender has the id %d", id))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mllp_senders WHERE id = $1`, id); err != nil {
			return fmt.Errorf("mllpauth: delete sender: %w", err)
		}
		e := audit.Event(p, "mllp.revoke", "mllp_sender", strconv.FormatInt(id, 10), list[0].InstitutionID)
		e.Detail = list[0].describe()
		return s.d.Audit.Append(ctx, tx, e)
	})
}

// List returns the entries; only system administrators may read them.
func (s *Service) List(ctx context.Context, p *access.Principal) ([]Sender, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	return s.list(ctx, s.d.DB.R(), 0)
}

func (s *Service) list(ctx context.Context, q store.Querier, id int64) ([]Sender, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.institution_id, i.code, m.cidr, m.sending_app, m.sending_facility, m.note, m.created_at, m.created_by
		FROM mllp_senders m JOIN institutions i ON i.id = m.institution_id
		WHERE $1 = 0 OR m.id = $1 ORDER BY i.code, m.id`, id)
	if err != nil {
		return nil, fmt.Errorf("mllpauth: list senders: %w", err)
	}
	defer rows.Close()
	var out []Sender
	for rows.Next() {
		var snd Sender
		var cidr string
		var at int64
		if err := rows.Scan(&snd.ID, &snd.InstitutionID, &snd.InstitutionCode, &cidr, &snd.App, &snd.Facility, &snd.Note, &at, &snd.CreatedBy); err != nil {
			return nil, fmt.Errorf("mllpauth: read sender: %w", err)
		}
		if snd.Prefix, err = netip.ParsePrefix(cidr); err != nil {
			return nil, fmt.Errorf("mllpauth: sender %d has a bad range %q: %w", snd.ID, cidr, err)
		}
		snd.CreatedAt = store.Time(at)
		out = append(out, snd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mllpauth: list senders: %w", err)
	}
	return out, nil
}

// Empty reports whether no sender is allowed anywhere (a fresh install).
func (s *Service) Empty(ctx context.Context) (bool, error) {
	var n int
	if err := s.d.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mllp_senders`).Scan(&n); err != nil {
		return false, fmt.Errorf("mllpauth: count senders: %w", err)
	}
	return n == 0, nil
}
