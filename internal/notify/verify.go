package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"suifang/internal/errs"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Verification codes prove that a member of the public holds the mobile
// number they typed before anything else is sent to it: a public form
// could otherwise make the hospital text any number in China. The code
// SMS is the one message a stranger can trigger, so it is fixed wording
// with the hospital's name and six digits, and it is capped per number
// and per client address in the database, so every instance counts the
// same sends.

const (
	// CodeTTL is how long a code may be entered.
	CodeTTL = 10 * time.Minute
	// CodeAttempts is how many wrong entries a code survives.
	CodeAttempts = 5
	// kindClient is the blind-index kind of client addresses.
	kindClient = "public_client"
	// publicSMSLock serialises the cap check and the send across
	// PostgreSQL instances, so two requests cannot both take the last one.
	publicSMSLock int64 = 0x5346_5053_4d53 // "SFPSMS"
	adPhone             = "phone_codes.phone"
)

// Caps limit the SMS strangers can make Suifang send.
type Caps struct {
	PerNumberHour int // codes to one number in any hour
	PerNumberDay  int // … in any 24 hours
	PerClientHour int // codes requested from one client address in any hour
}

// DefaultCaps: three codes an hour and ten a day to one number, ten an
// hour from one address (a hospital's guest Wi-Fi shares an address).
func DefaultCaps() Caps { return Caps{PerNumberHour: 3, PerNumberDay: 10, PerClientHour: 10} }

// LimitError says a cap stopped a code; RetryAfter is when the oldest
// counted send leaves its window.
type LimitError struct {
	Which      string // "number" or "client"
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("notify: too many codes for this %s; try again in %s", e.Which, e.RetryAfter.Round(time.Second))
}

// Unwrap classifies the refusal for adapters that do not know the type.
func (e *LimitError) Unwrap() error {
	return errs.New(errs.Conflict, "sms_limit", "too many verification messages; try again later")
}

// CodeRequest asks for a code to prove control of Phone.
type CodeRequest struct {
	InstitutionID int64
	Phone         string // a mainland mobile number
	Client        string // the requesting client's address, for its cap
	Ref           string // what the verification unlocks, e.g. "complaint:42"
}

// CodeState is a verification as the page that asks for the code shows
// it.
type CodeState struct {
	Ref         string
	PhoneMasked string
	Sent        bool // a code went out and can still be entered
	Verified    bool
	ExpiresAt   time.Time
	Left        int // wrong entries left for the current code
}

// CodeCheck is the outcome of entering a code.
type CodeCheck struct {
	Ref      string
	Verified bool   // the number is verified (now or before)
	Now      bool   // … by this entry
	Problem  string // wrong, expired, locked, format, none_sent
	Left     int
}

func sha(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SendCode starts a verification of r.Phone and sends the first code. It
// returns the token the requester's browser keeps to enter the code. A cap
// still returns the token (the verification exists, a code may be asked
// for later) with a *LimitError, and the caller should commit tx.
func (s *Service) SendCode(ctx context.Context, tx *sql.Tx, r CodeRequest) (string, error) {
	phone := strings.TrimSpace(r.Phone)
	if d := pii.Normalize(pii.KindPhone, phone); len(d) != 11 || d[0] != '1' {
		return "", invalid("phone", "bad_phone", "a verification code goes to an 11-digit mobile number")
	}
	if s.index == nil {
		return "", errors.New("notify: verification codes need the blind-index key")
	}
	if r.InstitutionID <= 0 || strings.TrimSpace(r.Ref) == "" || len(r.Ref) > 200 {
		return "", invalid("ref", "bad_ref", "a verification needs an institution and what it unlocks")
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	// Bound to its row by the token's hash (known before the INSERT): a
	// number copied onto another verification does not open there.
	enc, err := s.keys.SealRow(pii.Normalize(pii.KindPhone, phone), adPhone, sha(token))
	if err != nil {
		return "", fmt.Errorf("notify: seal phone: %w", err)
	}
	now := store.Micros(s.now())
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO phone_codes (institution_id, token_hash, ref, phone_enc, phone_idx, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, r.InstitutionID, sha(token), r.Ref, enc,
		s.index.Index(pii.KindPhone, phone), now).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("notify: store verification: %w", err)
	}
	return token, s.issue(ctx, tx, id, token, r.Client)
}

// ResendCode sends a fresh code for the verification of token, under the
// same caps; the previous code stops working. A verified number gets
// nothing more.
func (s *Service) ResendCode(ctx context.Context, tx *sql.Tx, token, client string) error {
	var id, verified int64
	err := tx.QueryRowContext(ctx, `SELECT id, verified_at FROM phone_codes WHERE token_hash = $1`, sha(token)).Scan(&id, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return errCodeNotFound()
	}
	if err != nil {
		return fmt.Errorf("notify: find verification: %w", err)
	}
	if verified != 0 {
		return nil
	}
	return s.issue(ctx, tx, id, token, client)
}

func errCodeNotFound() error {
	return errs.New(errs.NotFound, "verification_not_found", "no such verification")
}

// issue checks the caps, draws a code, stores its hash and queues the SMS.
func (s *Service) issue(ctx context.Context, tx *sql.Tx, id int64, token, client string) error {
	if err := s.db.SerializeKey(ctx, tx, publicSMSLock); err != nil {
		return err
	}
	var inst int64
	var phoneEnc, phoneIdx string
	var sends int
	if err := tx.QueryRowContext(ctx, `SELECT institution_id, phone_enc, phone_idx, sends FROM phone_codes WHERE id = $1`, id).
		Scan(&inst, &phoneEnc, &phoneIdx, &sends); err != nil {
		return fmt.Errorf("notify: read verification: %w", err)
	}
	clientIdx := s.index.Index(kindClient, strings.TrimSpace(client))
	now := s.now()
	if err := s.underCaps(ctx, tx, phoneIdx, clientIdx, now); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return fmt.Errorf("notify: random code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	sends++
	if _, err := tx.ExecContext(ctx, `UPDATE phone_codes SET code_hash = $1, expires_at = $2, attempts = 0, sends = $3, updated_at = $4
		WHERE id = $5`, sha(token, code), store.Micros(now.Add(CodeTTL)), sends, store.Micros(now), id); err != nil {
		return fmt.Errorf("notify: store code: %w", err)
	}
	// Keep the counting table to the last day; the index on at makes this
	// a short range delete.
	if _, err := tx.ExecContext(ctx, `DELETE FROM public_sms WHERE at < $1`, store.Micros(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("notify: prune sends: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO public_sms (phone_idx, client_idx, at) VALUES ($1, $2, $3)`,
		phoneIdx, clientIdx, store.Micros(now)); err != nil {
		return fmt.Errorf("notify: count send: %w", err)
	}
	phone, err := s.keys.OpenRow(phoneEnc, adPhone, sha(token))
	if err != nil {
		return fmt.Errorf("notify: open phone: %w", err)
	}
	var hospital string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, inst).Scan(&hospital); err != nil {
		return fmt.Errorf("notify: institution: %w", err)
	}
	// Not a patient message: the person is waiting for it, quiet hours or not.
	_, err = s.Enqueue(ctx, tx, Message{InstitutionID: inst, Channel: SMS, Template: "verify.code", To: phone,
		Params: map[string]string{"hospital": hospital, "code": code}, Ref: fmt.Sprintf("phone_code:%d", id),
		IdempotencyKey: fmt.Sprintf("phone_code:%d:%d", id, sends)})
	return err
}

// underCaps refuses a send that would pass a cap.
func (s *Service) underCaps(ctx context.Context, tx *sql.Tx, phoneIdx, clientIdx string, now time.Time) error {
	caps := s.pol.Caps
	for _, c := range []struct {
		col, val, which string
		window          time.Duration
		max             int
	}{
		{"phone_idx", phoneIdx, "number", time.Hour, caps.PerNumberHour},
		{"phone_idx", phoneIdx, "number", 24 * time.Hour, caps.PerNumberDay},
		{"client_idx", clientIdx, "client", time.Hour, caps.PerClientHour},
	} {
		var n int
		var oldest int64
		// The column name is one of the two above, never input.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(at), 0) FROM public_sms WHERE `+c.col+` = $1 AND at > $2`,
			c.val, store.Micros(now.Add(-c.window))).Scan(&n, &oldest); err != nil {
			return fmt.Errorf("notify: count sends: %w", err)
		}
		if n >= c.max {
			wait := store.Time(oldest).Add(c.window).Sub(now)
			return &LimitError{Which: c.which, RetryAfter: max(wait, time.Second)}
		}
	}
	return nil
}

// CheckCode records one entry of code for the verification of token. A
// wrong, late or malformed entry is an answer, not an error, so the caller
// commits tx and the spent attempt counts.
func (s *Service) CheckCode(ctx context.Context, tx *sql.Tx, token, code string) (*CodeCheck, error) {
	var id, expires, verified int64
	var attempts int
	var hash string
	out := &CodeCheck{}
	err := tx.QueryRowContext(ctx, `SELECT id, ref, code_hash, expires_at, attempts, verified_at FROM phone_codes
		WHERE token_hash = $1`, sha(token)).Scan(&id, &out.Ref, &hash, &expires, &attempts, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errCodeNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("notify: find verification: %w", err)
	}
	now := s.now()
	out.Left = max(CodeAttempts-attempts, 0)
	code, wellFormed := NormalizeCode(code)
	switch {
	case verified != 0:
		out.Verified = true
		return out, nil
	case hash == "":
		out.Problem = "none_sent"
		return out, nil
	case attempts >= CodeAttempts:
		out.Problem = "locked"
		return out, nil
	case !now.Before(store.Time(expires)):
		out.Problem = "expired"
		return out, nil
	case !wellFormed:
		out.Problem = "format" // a typo in the shape costs no attempt
		return out, nil
	}
	if subtle.ConstantTimeCompare([]byte(sha(token, code)), []byte(hash)) != 1 {
		if _, err := tx.ExecContext(ctx, `UPDATE phone_codes SET attempts = attempts + 1, updated_at = $1 WHERE id = $2`,
			store.Micros(now), id); err != nil {
			return nil, fmt.Errorf("notify: count attempt: %w", err)
		}
		out.Problem, out.Left = "wrong", max(CodeAttempts-attempts-1, 0)
		if out.Left == 0 {
			out.Problem = "locked"
		}
		return out, nil
	}
	// The conditional update makes two simultaneous right entries verify once.
	res, err := tx.ExecContext(ctx, `UPDATE phone_codes SET verified_at = $1, updated_at = $1 WHERE id = $2 AND verified_at = 0`,
		store.Micros(now), id)
	if err != nil {
		return nil, fmt.Errorf("notify: verify: %w", err)
	}
	n, _ := res.RowsAffected()
	out.Verified, out.Now = true, n == 1
	return out, nil
}

// CodeState reads the verification of token for the page that asks for
// the code.
func (s *Service) CodeState(ctx context.Context, q store.Querier, token string) (*CodeState, error) {
	var enc, hash string
	var expires, verified int64
	var attempts int
	st := &CodeState{}
	err := q.QueryRowContext(ctx, `SELECT ref, phone_enc, code_hash, expires_at, attempts, verified_at FROM phone_codes
		WHERE token_hash = $1`, sha(token)).Scan(&st.Ref, &enc, &hash, &expires, &attempts, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errCodeNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("notify: find verification: %w", err)
	}
	phone, err := s.keys.OpenRow(enc, adPhone, sha(token))
	if err != nil {
		return nil, fmt.Errorf("notify: open phone: %w", err)
	}
	st.PhoneMasked = pii.MaskPhone(phone)
	st.Verified = verified != 0
	st.ExpiresAt = store.Time(expires)
	st.Left = max(CodeAttempts-attempts, 0)
	st.Sent = hash != "" && st.Left > 0 && s.now().Before(st.ExpiresAt)
	return st, nil
}

// NormalizeCode reads a typed code: full-width digits folded, spaces and
// hyphens dropped ("382 915", "３８２９１５"). It reports whether the result
// is six ASCII digits.
func NormalizeCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, fold(s))
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return "", false
	}
	return code, true
}
