// Package auth owns staff accounts, roles and data scopes, password login with
// lockout, database-backed sessions with an idle timeout, and API tokens for
// integrations. It turns a session or token into an access.Principal that
// every other service checks.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Policy holds the security settings; every one is configurable.
type Policy struct {
	MaxFailures   int           // failed logins before lockout (5)
	LockoutFor    time.Duration // how long a lockout lasts (30 min)
	IdleTimeout   time.Duration // session ends after this long unused (30 min)
	MaxSessionAge time.Duration // session ends after this long regardless (12 h)
	Password      PasswordRules
	Hash          HashParams
}

// DefaultPolicy is the 等保2.0-minded default.
func DefaultPolicy() Policy {
	return Policy{
		MaxFailures:   5,
		LockoutFor:    30 * time.Minute,
		IdleTimeout:   30 * time.Minute,
		MaxSessionAge: 12 * time.Hour,
		Password:      DefaultPasswordRules(),
		Hash:          DefaultHashParams(),
	}
}

// Service is the door to accounts, sessions and tokens.
type Service struct {
	db    *store.DB
	audit *audit.Service
	now   func() time.Time
	pol   Policy
	log   *slog.Logger
	// dummyHash keeps a failed login for an unknown user as slow as one for a
	// known user, so timing does not reveal which user names exist. It is
	// made on first use: hashing at start would cost every cold start ~60 ms.
	dummyOnce sync.Once
	dummyHash string
}

// New returns the auth service.
func New(db *store.DB, au *audit.Service, now func() time.Time, pol Policy, log *slog.Logger) (*Service, error) {
	return &Service{db: db, audit: au, now: now, pol: pol, log: log}, nil
}

// Policy returns the active security policy.
func (s *Service) Policy() Policy { return s.pol }

// User is a staff account.
type User struct {
	ID                 int64
	Username           string
	DisplayName        string
	HomeInstitutionID  int64
	Phone              string
	Roles              []access.Role
	Grants             []access.Grant
	MustChangePassword bool
	FailedLogins       int
	LockedUntil        time.Time
	Active             bool
	CreatedAt          time.Time
	LastLoginAt        time.Time
	LastLoginIP        string
	PrevLoginAt        time.Time // the login before the current session's
	PrevLoginIP        string
}

// Locked reports whether u is locked out at now.
func (u *User) Locked(now time.Time) bool { return u.LockedUntil.After(now) }

// Session is the result of a successful login.
type Session struct {
	Token string // the cookie value; only its hash is stored
	User  *User
}

func randomToken(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

var errBadCredentials = errs.New(errs.Unauthenticated, "bad_credentials", "wrong user name or password")

// Login checks a password and opens a session. Five failures lock the
// account; a locked account refuses even the right password until the lock
// expires. Every attempt is audited.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (*Session, error) {
	now := s.now()
	u, hash, err := s.userByName(ctx, s.db.R(), username)
	if errs.Is(err, errs.NotFound) {
		s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("not-a-real-password", s.pol.Hash) })
		CheckPassword(s.dummyHash, password)
		s.recordLogin(ctx, 0, 0, username, ip, false, "unknown_user")
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !u.Active {
		s.recordLogin(ctx, u.ID, u.HomeInstitutionID, username, ip, false, "account_disabled")
		return nil, errs.New(errs.Unauthenticated, "account_disabled", "this account is disabled")
	}
	if u.Locked(now) {
		s.recordLogin(ctx, u.ID, u.HomeInstitutionID, username, ip, false, "account_locked")
		return nil, &errs.Error{Kind: errs.Unauthenticated, Code: "account_locked",
			Msg: "account locked after too many failed logins; try again after " + u.LockedUntil.Format(time.RFC3339)}
	}
	if !CheckPassword(hash, password) {
		return nil, s.loginFailed(ctx, u, ip)
	}
	tok, err := randomToken("")
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0,
			prev_login_at = last_login_at, prev_login_ip = last_login_ip, last_login_at = $1, last_login_ip = $2 WHERE id = $3`,
			store.Micros(now), truncate(ip, 64), u.ID); err != nil {
			return fmt.Errorf("auth: reset failures: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ip, user_agent)
			VALUES ($1,$2,$3,$3,$4,$5)`, tokenHash(tok), u.ID, store.Micros(now), ip, truncate(userAgent, 255)); err != nil {
			return fmt.Errorf("auth: create session: %w", err)
		}
		e := audit.Entry{ActorID: u.ID, Actor: u.Username, Action: "auth.login", ObjectType: "user",
			ObjectID: fmt.Sprint(u.ID), InstitutionID: u.HomeInstitutionID, IP: ip, Success: true}
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	u.PrevLoginAt, u.PrevLoginIP = u.LastLoginAt, u.LastLoginIP
	u.FailedLogins, u.LockedUntil, u.LastLoginAt, u.LastLoginIP = 0, time.Time{}, now, ip
	return &Session{Token: tok, User: u}, nil
}

func (s *Service) loginFailed(ctx context.Context, u *User, ip string) error {
	now := s.now()
	var locked time.Time
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// Increment in SQL and decide on the returned count, so concurrent
		// failures on two instances all count and the fifth one locks.
		var failures int
		if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`,
			u.ID).Scan(&failures); err != nil {
			return fmt.Errorf("auth: count failure: %w", err)
		}
		if failures >= s.pol.MaxFailures {
			locked = now.Add(s.pol.LockoutFor)
		}
		detail := fmt.Sprintf("bad_password failures=%d", failures)
		if !locked.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = $1, failed_logins = 0 WHERE id = $2`,
				store.Micros(locked), u.ID); err != nil {
				return fmt.Errorf("auth: lock: %w", err)
			}
			detail += " locked_until=" + locked.UTC().Format(time.RFC3339)
		}
		return s.audit.Append(ctx, tx, audit.Entry{ActorID: u.ID, Actor: u.Username, Action: "auth.login",
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), InstitutionID: u.HomeInstitutionID, IP: ip, Detail: detail})
	})
	if err != nil {
		return err
	}
	if !locked.IsZero() {
		return &errs.Error{Kind: errs.Unauthenticated, Code: "account_locked",
			Msg: "account locked after too many failed logins; try again after " + locked.Format(time.RFC3339)}
	}
	return errBadCredentials
}

// recordLogin audits a refused login under the user's home institution, so
// that institution's quality staff see attempts on their accounts.
func (s *Service) recordLogin(ctx context.Context, uid, inst int64, username, ip string, ok bool, detail string) {
	e := audit.Entry{ActorID: uid, Actor: truncate(username, 64), Action: "auth.login", ObjectType: "user",
		ObjectID: fmt.Sprint(uid), InstitutionID: inst, IP: ip, Success: ok, Detail: detail}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.Error("audit login", "err", err)
	}
}

// Logout ends the session behind token.
func (s *Service) Logout(ctx context.Context, token string, p *access.Principal) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		if p == nil {
			return nil
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "auth.logout", "user", fmt.Sprint(p.UserID), p.InstitutionID))
	})
}

// touchEvery limits last_seen writes: an idle timeout measured in minutes
// does not need a database write on every request.
const touchEvery = time.Minute

// Authenticate resolves a session token. An idle or too-old session is
// deleted and refused with code "session_expired".
func (s *Service) Authenticate(ctx context.Context, token, ip string) (*access.Principal, *User, error) {
	if token == "" {
		return nil, nil, errs.New(errs.Unauthenticated, "no_session", "please log in")
	}
	now := s.now()
	h := tokenHash(token)
	var uid, created, seen int64
	err := s.db.R().QueryRowContext(ctx, `SELECT user_id, created_at, last_seen_at FROM sessions WHERE token_hash = $1`, h).
		Scan(&uid, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errs.New(errs.Unauthenticated, "no_session", "please log in")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: read session: %w", err)
	}
	if now.Sub(store.Time(seen)) > s.pol.IdleTimeout || now.Sub(store.Time(created)) > s.pol.MaxSessionAge {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, h); err != nil {
				return fmt.Errorf("auth: expire session: %w", err)
			}
			return s.audit.Append(ctx, tx, audit.Entry{ActorID: uid, Action: "auth.session_expired",
				ObjectType: "user", ObjectID: fmt.Sprint(uid), IP: ip, Success: true})
		})
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, errs.New(errs.Unauthenticated, "session_expired", "your session expired; please log in again")
	}
	u, err := s.user(ctx, s.db.R(), uid)
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, errs.New(errs.Unauthenticated, "account_disabled", "this account is disabled")
	}
	if now.Sub(store.Time(seen)) >= touchEvery {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, store.Micros(now), h)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	p, err := s.principal(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	p.IP = ip
	return p, u, nil
}

// PurgeSessions deletes sessions idle past the timeout; the server runs it
// periodically so the table does not grow without bound.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	cut := s.now().Add(-s.pol.IdleTimeout)
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1`, store.Micros(cut))
		if err != nil {
			return fmt.Errorf("auth: purge sessions: %w", err)
		}
		n, _ = r.RowsAffected()
		return nil
	})
	return n, err
}

// ChangePassword sets a new password for the caller, checking the old one and
// the rules, and clears the forced-change flag. Other sessions of the user end.
func (s *Service) ChangePassword(ctx context.Context, p *access.Principal, token, oldPW, newPW string) error {
	_, hash, err := s.userByName(ctx, s.db.R(), p.Username)
	if err != nil {
		return err
	}
	if !CheckPassword(hash, oldPW) {
		return errs.Field("old_password", "bad_old_password", "the current password is wrong")
	}
	if oldPW == newPW {
		return errs.Field("password", "password_unchanged", "the new password must differ from the current one")
	}
	if err := s.pol.Password.Check(newPW, p.Username); err != nil {
		return err
	}
	nh, err := HashPassword(newPW, s.pol.Hash)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2,
			password_changed_at = $3, updated_at = $3 WHERE id = $4`, nh, false, store.Micros(now), p.UserID); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, p.UserID, tokenHash(token)); err != nil {
			return fmt.Errorf("auth: end other sessions: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "auth.password_change", "user", fmt.Sprint(p.UserID), p.InstitutionID))
	})
}

// truncate cuts client-supplied text to at most n bytes for storage. It keeps
// the result valid UTF-8 without NUL bytes (PostgreSQL refuses both) and never
// cuts a character in half.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
