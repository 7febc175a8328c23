package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// tokenPrefix marks Suifang API tokens so secret scanners and people can
// recognise a leaked one.
const tokenPrefix = "sft_"

// Token is an API token for an integration (HIS interface engine, data
// warehouse). Only its SHA-256 is stored; the plain value is shown once.
type Token struct {
	ID            int64
	InstitutionID int64
	Name          string
	Prefix        string // first characters, to recognise it in the list
	CreatedBy     int64
	CreatedAt     time.Time
	LastUsedAt    time.Time
	RevokedAt     time.Time
}

// CreateToken makes a token scoped to one institution and returns its plain
// value, which is never retrievable again.
func (s *Service) CreateToken(ctx context.Context, p *access.Principal, inst int64, name string) (string, *Token, error) {
	if err := p.RequireAdmin(); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "", nil, errs.Field("name", "bad_name", "give the token a name (at most 64 characters)")
	}
	var n int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions WHERE id = $1`, inst).Scan(&n); err != nil {
		return "", nil, fmt.Errorf("auth: check institution: %w", err)
	}
	if n == 0 {
		return "", nil, errs.Field("institution_id", "bad_institution", "choose an institution")
	}
	plain, err := randomToken(tokenPrefix)
	if err != nil {
		return "", nil, err
	}
	t := &Token{InstitutionID: inst, Name: name, Prefix: plain[:len(tokenPrefix)+6], CreatedBy: p.UserID, CreatedAt: s.now().UTC()}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (institution_id, name, prefix, token_hash, created_by, created_at)
			VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, inst, name, t.Prefix, tokenHash(plain), sql.NullInt64{Int64: p.UserID, Valid: p.UserID != 0}, store.Micros(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		e := audit.Event(p, "token.create", "api_token", fmt.Sprint(t.ID), inst)
		e.Detail = "name=" + name
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// ListTokens lists the tokens of the institutions p administers.
func (s *Service) ListTokens(ctx context.Context, p *access.Principal) ([]Token, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, institution_id, name, prefix, COALESCE(created_by, 0), created_at, last_used_at, revoked_at
		FROM api_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var c, u, r int64
		if err := rows.Scan(&t.ID, &t.InstitutionID, &t.Name, &t.Prefix, &t.CreatedBy, &c, &u, &r); err != nil {
			return nil, fmt.Errorf("auth: scan token: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = store.Time(c), store.Time(u), store.Time(r)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token from working, at once.
func (s *Service) RevokeToken(ctx context.Context, p *access.Principal, id int64) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var inst int64
		err := tx.QueryRowContext(ctx, `SELECT institution_id FROM api_tokens WHERE id = $1`, id).Scan(&inst)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "token_not_found", "no such token")
		}
		if err != nil {
			return fmt.Errorf("auth: read token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0`,
			store.Micros(s.now()), id); err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "token.revoke", "api_token", fmt.Sprint(id), inst))
	})
}

// AuthenticateToken resolves a bearer token to an integration principal that
// sees exactly the token's institution.
func (s *Service) AuthenticateToken(ctx context.Context, plain, ip string) (*access.Principal, error) {
	if !strings.HasPrefix(plain, tokenPrefix) {
		return nil, errs.New(errs.Unauthenticated, "bad_token", "invalid API token")
	}
	var id, inst, revoked, used int64
	var name string
	err := s.db.R().QueryRowContext(ctx, `SELECT t.id, t.institution_id, t.name, t.revoked_at, t.last_used_at
		FROM api_tokens t JOIN institutions i ON i.id = t.institution_id WHERE t.token_hash = $1 AND i.active = $2`,
		tokenHash(plain), true).Scan(&id, &inst, &name, &revoked, &used)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && revoked != 0) {
		return nil, errs.New(errs.Unauthenticated, "bad_token", "invalid API token")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read token: %w", err)
	}
	now := s.now()
	if now.Sub(store.Time(used)) >= touchEvery {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, store.Micros(now), id)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("auth: touch token: %w", err)
		}
	}
	return &access.Principal{Username: "token:" + name, Name: name, InstitutionID: inst, IP: ip,
		Roles: []access.Role{access.Integration}, Grants: []access.Grant{{InstitutionID: inst}}}, nil
}
