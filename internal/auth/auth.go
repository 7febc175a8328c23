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
	"suifang/internal/ratelimit"
	"suifang/internal/store"
)

// Policy holds the security settings; every one is configurable.
type Policy struct {
	MaxFailures int           // failed logins of one name from one address before that pair locks (5)
	LockoutFor  time.Duration // how long a lockout lasts, and the window failures are counted in (30 min)
	// AccountMaxFailures failures of one account from all addresses
	// together lock it for every address it has not logged in from
	// successfully (20): the ceiling against guessing from many addresses.
	AccountMaxFailures int
	IdleTimeout        time.Duration // session ends after this long unused (30 min)
	MaxSessionAge      time.Duration // session ends after this long regardless (12 h)
	Password           PasswordRules
	Hash               HashParams
	Throttle           Throttle
}

// Throttle bounds what password checking may cost, before and while hashing.
type Throttle struct {
	// AddrBurst failed logins from one client address at once, then one
	// more every AddrEvery (10, 30 s). Kept in this instance's memory.
	AddrBurst int
	AddrEvery time.Duration
	// HashConcurrency is how many argon2id computations run at once; 0
	// sizes it from HashMemoryBudget (bytes, 256 MiB) and the cores.
	HashConcurrency  int
	HashMemoryBudget int64
	// HashWait is the longest a login waits for a hashing slot before it
	// is answered "busy, retry" (1 s).
	HashWait time.Duration
}

// DefaultThrottle is the throttle of DefaultPolicy.
func DefaultThrottle() Throttle {
	return Throttle{AddrBurst: 10, AddrEvery: 30 * time.Second, HashMemoryBudget: 256 << 20, HashWait: time.Second}
}

// DefaultPolicy is the 等保2.0-minded default.
func DefaultPolicy() Policy {
	return Policy{
		MaxFailures:        5,
		LockoutFor:         30 * time.Minute,
		AccountMaxFailures: 20,
		IdleTimeout:        30 * time.Minute,
		MaxSessionAge:      12 * time.Hour,
		Password:           DefaultPasswordRules(),
		Hash:               DefaultHashParams(),
		Throttle:           DefaultThrottle(),
	}
}

// Service is the door to accounts, sessions and tokens.
type Service struct {
	db    *store.DB
	audit *audit.Service
	now   func() time.Time
	pol   Policy
	log   *slog.Logger
	// gate bounds concurrent argon2id work (logins, password changes);
	// addrs throttles failed logins per client address before any hashing.
	gate  *Gate
	addrs *ratelimit.Limiter
	// dummyHash keeps a failed login for an unknown user as slow as one for a
	// known user, so timing does not reveal which user names exist. It is
	// made on first use: hashing at start would cost every cold start ~60 ms.
	dummyOnce sync.Once
	dummyHash string
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB     *store.DB        // the database
	Audit  *audit.Service   // the audit log, written in the callers' transactions
	Now    func() time.Time // the clock (time.Now in production)
	Policy Policy           // the configured rules
	Log    *slog.Logger     // nil: discard
}

// New returns the auth service.
func New(d Deps) (*Service, error) {
	db, au, now, pol, log := d.DB, d.Audit, d.Now, d.Policy, d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	th := pol.Throttle
	slots := th.HashConcurrency
	if slots <= 0 {
		slots = DefaultHashSlots(th.HashMemoryBudget, pol.Hash.Memory)
	}
	// Eight waiters a slot: enough to absorb a burst of real logins, few
	// enough that the last waits about HashWait at most.
	return &Service{db: db, audit: au, now: now, pol: pol, log: log,
		gate:  NewGate(slots, th.HashWait, 8*slots),
		addrs: ratelimit.New(now, th.AddrBurst, th.AddrEvery)}, nil
}

// Gate returns the hashing gate (for metrics and tests).
func (s *Service) Gate() *Gate { return s.gate }

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

// errBadCredentials is the one answer to every refused login: wrong
// password, unknown name, locked or disabled account all read the same, so
// the login form tells an outsider nothing about an account. The audit log
// keeps the real reason.
var errBadCredentials = errs.New(errs.Unauthenticated, "bad_credentials",
	"login failed: wrong user name or password, or this account cannot log in now")

// errThrottled answers an address that failed too often, before any hashing.
func errThrottled(wait time.Duration) error {
	return errs.Throttled("login_throttled", "too many failed logins from this address; try again later", wait)
}

// Login checks a password and opens a session. The checks that cost
// nothing come first, so a flood of bogus logins is turned away before it
// takes argon2id's memory:
//  1. the client address has failed too often: TooMany (per instance);
//  2. this name is locked for this address (MaxFailures failures from it),
//     or the account is locked for all addresses it has not logged in from
//     (AccountMaxFailures from anywhere): refused without hashing;
//  3. the hash runs through the gate; no slot in time: TooMany.
//
// Every refusal reads as errBadCredentials except the TooMany ones, which
// say nothing about the account either. Every attempt is audited except
// the TooMany ones, which are only logged: nothing about the account was
// checked, and a flood would fill the audit log.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (*Session, error) {
	now := s.now()
	ip = truncate(ip, 64)
	if ok, wait := s.addrs.Allow(ip); !ok {
		s.log.Warn("login throttled", "ip", ip)
		return nil, errThrottled(wait)
	}
	name := failureKey(username)
	u, hash, err := s.userByName(ctx, s.db.R(), username)
	if err != nil && !errs.Is(err, errs.NotFound) {
		s.addrs.Refund(ip)
		return nil, err
	}
	if u == nil {
		u = &User{} // unknown: ID 0, no lock of its own
	}
	var pairLocked int64
	err = s.db.R().QueryRowContext(ctx, `SELECT locked_until FROM login_failures WHERE username = $1 AND ip = $2`,
		name, ip).Scan(&pairLocked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.addrs.Refund(ip)
		return nil, fmt.Errorf("auth: read login failures: %w", err)
	}
	if store.Time(pairLocked).After(now) {
		s.recordLogin(ctx, u.ID, u.HomeInstitutionID, username, ip, false, "address_locked")
		return nil, errBadCredentials
	}
	if u.ID != 0 && u.Locked(now) && !u.knownAddress(ip) {
		s.recordLogin(ctx, u.ID, u.HomeInstitutionID, username, ip, false, "account_locked")
		return nil, errBadCredentials
	}
	if u.ID == 0 {
		s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("not-a-real-password", s.pol.Hash) })
		hash = s.dummyHash
	}
	// A login from where this account last logged in may use the reserved
	// hashing slot, so a flood from elsewhere cannot starve it.
	ok, err := s.checkPassword(ctx, u.ID != 0 && u.knownAddress(ip), hash, password)
	if err != nil {
		s.addrs.Refund(ip) // not an attempt: nothing was checked
		if errs.Is(err, errs.TooMany) {
			s.log.Warn("login refused: hashing busy", "ip", ip)
		}
		return nil, err
	}
	switch {
	case u.ID == 0:
		return nil, s.loginFailed(ctx, u, username, ip, "unknown_user")
	case !u.Active:
		// Checked after the hash so a disabled account answers as slowly
		// as any other; it is not a guess, so it does not count.
		s.recordLogin(ctx, u.ID, u.HomeInstitutionID, username, ip, false, "account_disabled")
		return nil, errBadCredentials
	case !ok:
		return nil, s.loginFailed(ctx, u, username, ip, "bad_password")
	}
	s.addrs.Refund(ip) // a good login does not spend the address's allowance
	tok, err := randomToken("")
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0,
			prev_login_at = last_login_at, prev_login_ip = last_login_ip, last_login_at = $1, last_login_ip = $2 WHERE id = $3`,
			store.Micros(now), ip, u.ID); err != nil {
			return fmt.Errorf("auth: reset failures: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = $1 AND ip = $2`, name, ip); err != nil {
			return fmt.Errorf("auth: reset address failures: %w", err)
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

// knownAddress reports whether ip is one the user last logged in from; an
// account-wide lock does not apply there, so guesses from elsewhere cannot
// keep a nurse out of her own workstation.
func (u *User) knownAddress(ip string) bool {
	return ip != "" && (ip == u.LastLoginIP || ip == u.PrevLoginIP)
}

// failureKey is how a typed user name is stored in login_failures: the
// lookup's trimming, valid UTF-8, bounded.
func failureKey(username string) string { return truncate(strings.TrimSpace(username), 64) }

// loginFailed counts a failure for (name, address) and, for a real
// account, for the account, locking either at its threshold.
func (s *Service) loginFailed(ctx context.Context, u *User, username, ip, reason string) error {
	now := s.now()
	since := store.Micros(now.Add(-s.pol.LockoutFor))
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// Increment in SQL and decide on the returned count, so concurrent
		// failures on two instances all count. A count older than the
		// lockout window starts over.
		var pair int
		if err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (username, ip, failures, updated_at) VALUES ($1,$2,1,$3)
			ON CONFLICT (username, ip) DO UPDATE SET
				failures = CASE WHEN login_failures.updated_at < $4 THEN 1 ELSE login_failures.failures + 1 END,
				updated_at = $3
			RETURNING failures`, failureKey(username), ip, store.Micros(now), since).Scan(&pair); err != nil {
			return fmt.Errorf("auth: count address failure: %w", err)
		}
		detail := fmt.Sprintf("%s address_failures=%d", reason, pair)
		if pair >= s.pol.MaxFailures {
			until := now.Add(s.pol.LockoutFor)
			if _, err := tx.ExecContext(ctx, `UPDATE login_failures SET locked_until = $1, failures = 0 WHERE username = $2 AND ip = $3`,
				store.Micros(until), failureKey(username), ip); err != nil {
				return fmt.Errorf("auth: lock address: %w", err)
			}
			detail += " address_locked_until=" + until.UTC().Format(time.RFC3339)
		}
		if u.ID != 0 {
			var total int
			if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`,
				u.ID).Scan(&total); err != nil {
				return fmt.Errorf("auth: count failure: %w", err)
			}
			detail += fmt.Sprintf(" failures=%d", total)
			if total >= s.pol.AccountMaxFailures {
				until := now.Add(s.pol.LockoutFor)
				if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = $1, failed_logins = 0 WHERE id = $2`,
					store.Micros(until), u.ID); err != nil {
					return fmt.Errorf("auth: lock: %w", err)
				}
				detail += " locked_until=" + until.UTC().Format(time.RFC3339)
			}
		}
		return s.audit.Append(ctx, tx, audit.Entry{ActorID: u.ID, Actor: truncate(username, 64), Action: "auth.login",
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), InstitutionID: u.HomeInstitutionID, IP: ip, Detail: detail})
	})
	if err != nil {
		return err
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

// PurgeSessions deletes sessions idle past the timeout, and login failure
// counts that have aged out of the lockout window; the server runs it
// periodically so neither table grows without bound. It reports the
// sessions deleted.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.now()
	cut := now.Add(-s.pol.IdleTimeout)
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1`, store.Micros(cut))
		if err != nil {
			return fmt.Errorf("auth: purge sessions: %w", err)
		}
		n, _ = r.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE updated_at < $1 AND locked_until < $2`,
			store.Micros(now.Add(-s.pol.LockoutFor)), store.Micros(now)); err != nil {
			return fmt.Errorf("auth: purge login failures: %w", err)
		}
		return nil
	})
	return n, err
}

// ChangePassword sets a new password for the caller, checking the old one and
// the rules, and clears the forced-change flag. Other sessions of the user end.
func (s *Service) ChangePassword(ctx context.Context, p *access.Principal, token, oldPW, newPW string) error {
	u, hash, err := s.userByName(ctx, s.db.R(), p.Username)
	if err != nil {
		return err
	}
	ok, err := s.checkPassword(ctx, true, hash, oldPW)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Field("old_password", "bad_old_password", "the current password is wrong")
	}
	if oldPW == newPW {
		return errs.Field("password", "password_unchanged", "the new password must differ from the current one")
	}
	if err := s.pol.Password.Check(newPW, p.Username); err != nil {
		return err
	}
	if err := s.pol.Password.CheckCommon(newPW); err != nil {
		return err
	}
	// The current password was compared above; the history holds the ones before.
	if err := s.checkHistory(ctx, u.ID, "", newPW); err != nil {
		return err
	}
	nh, err := s.hashPassword(ctx, newPW)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2,
			password_changed_at = $3, updated_at = $3 WHERE id = $4`, nh, false, store.Micros(now), p.UserID); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if err := s.remember(ctx, tx, p.UserID, hash); err != nil {
			return err
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
