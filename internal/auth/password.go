package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"suifang/internal/errs"
	"suifang/internal/store"
)

// HashParams are the argon2id cost settings. Stored hashes carry their own
// parameters, so raising the cost later still verifies old hashes.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultHashParams follow RFC 9106's second recommendation (64 MiB) with two
// passes, about 60 ms on a 2-core server.
func DefaultHashParams() HashParams { return HashParams{Memory: 64 * 1024, Time: 2, Threads: 2} }

// HashPassword returns a PHC-format argon2id hash of pw.
func HashPassword(pw string, hp HashParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, hp.Time, hp.Memory, hp.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, hp.Memory, hp.Time, hp.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the PHC hash. A malformed hash
// never matches.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var hp HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &hp.Memory, &hp.Time, &hp.Threads); err != nil {
		return false
	}
	if hp.Memory == 0 || hp.Memory > 1<<22 || hp.Time == 0 || hp.Time > 20 || hp.Threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, hp.Time, hp.Memory, hp.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// PasswordRules is the password policy (等保2.0 asks for length and mixed classes).
type PasswordRules struct {
	MinLength  int
	MinClasses int // of: lower case, upper case, digits, symbols
	// History is how many previous passwords (the current one included) a
	// new one may not repeat; 0 turns the check off.
	History int
}

// DefaultPasswordRules: at least 8 characters from at least 3 classes, not
// one of the last 5.
func DefaultPasswordRules() PasswordRules {
	return PasswordRules{MinLength: 8, MinClasses: 3, History: 5}
}

// Check returns an Invalid error naming the field "password" when pw breaks
// the rules. username may not appear in the password.
func (r PasswordRules) Check(pw, username string) error {
	if utf8.RuneCountInString(pw) < r.MinLength {
		return errs.Field("password", "password_too_short", fmt.Sprintf("password must have at least %d characters", r.MinLength))
	}
	if len(pw) > 256 {
		return errs.Field("password", "password_too_long", "password may have at most 256 bytes")
	}
	var lower, upper, digit, other bool
	for _, c := range pw {
		switch {
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	if n < r.MinClasses {
		return errs.Field("password", "password_too_simple",
			fmt.Sprintf("password must mix at least %d of: lower case, upper case, digits, symbols", r.MinClasses))
	}
	if username != "" && len(username) >= 3 && strings.Contains(strings.ToLower(pw), strings.ToLower(username)) {
		return errs.Field("password", "password_contains_username", "password may not contain the user name")
	}
	return nil
}

// checkPassword is CheckPassword through the hashing gate; prio marks a
// caller who may use the reserved slot (see Gate).
func (s *Service) checkPassword(ctx context.Context, prio bool, hash, pw string) (bool, error) {
	var ok bool
	err := s.gate.run(ctx, prio, func() { ok = CheckPassword(hash, pw) })
	return ok, err
}

// hashPassword is HashPassword through the hashing gate. Only people
// already logged in (or the seed and CLI) set passwords, so it has priority.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	var h string
	var herr error
	if err := s.gate.RunPriority(ctx, func() { h, herr = HashPassword(pw, s.pol.Hash) }); err != nil {
		return "", err
	}
	return h, herr
}

// checkHistory refuses pw when it is the current password (hash current,
// when given) or one of the older ones kept in password_history: History
// in all. Each comparison is an argon2id run through the gate, so a change
// costs at most History hashes and never more memory than the gate allows.
func (s *Service) checkHistory(ctx context.Context, uid int64, current, pw string) error {
	n := s.pol.Password.History
	if n <= 0 {
		return nil
	}
	var hashes []string
	if current != "" {
		hashes = append(hashes, current)
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT password_hash FROM password_history WHERE user_id = $1
		ORDER BY id DESC LIMIT $2`, uid, n-1)
	if err != nil {
		return fmt.Errorf("auth: read password history: %w", err)
	}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return fmt.Errorf("auth: scan password history: %w", err)
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auth: read password history: %w", err)
	}
	for _, h := range hashes {
		same, err := s.checkPassword(ctx, true, h, pw)
		if err != nil {
			return err
		}
		if same {
			return errs.Field("password", "password_reused",
				fmt.Sprintf("the new password may not be one of the last %d", n))
		}
	}
	return nil
}

// remember puts a replaced password's hash into the history and keeps only
// the History-1 newest (the current password is the History-th).
func (s *Service) remember(ctx context.Context, tx *sql.Tx, uid int64, oldHash string) error {
	keep := s.pol.Password.History - 1
	if keep <= 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM password_history WHERE user_id = $1`, uid)
		return wrapHistory(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1,$2,$3)`,
		uid, oldHash, store.Micros(s.now())); err != nil {
		return wrapHistory(err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM password_history WHERE user_id = $1 AND id NOT IN
		(SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)`, uid, keep)
	return wrapHistory(err)
}

func wrapHistory(err error) error {
	if err != nil {
		return fmt.Errorf("auth: password history: %w", err)
	}
	return nil
}
