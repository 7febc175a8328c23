package chain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"suifang/internal/store"
)

// MinKeySize is the smallest chain key accepted, in bytes.
const MinKeySize = 32

// Key keys the chains' hashes (HMAC-SHA-256). Someone who can write to the
// database but does not hold the key cannot recompute a chain after editing
// a row, which a plain SHA-256 chain would let them do. It is kept outside
// the database, like the patient-data keys.
type Key struct{ secret []byte }

// NewKey returns a key over a copy of secret (at least MinKeySize bytes).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeySize {
		return nil, fmt.Errorf("chain: key is %d bytes, want at least %d", len(secret), MinKeySize)
	}
	return &Key{secret: append([]byte(nil), secret...)}, nil
}

// ParseKey parses a standard base64 key, as --chain-key takes it. Errors
// never contain the key.
func ParseKey(spec string) (*Key, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(spec))
	if err != nil {
		return nil, errors.New("chain: key is not valid standard base64")
	}
	return NewKey(b)
}

// DeriveKey derives a chain key from another secret (the blind-index key)
// for deployments that configured no chain key of their own: still a secret
// kept outside the database, under a label of its own.
func DeriveKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeySize {
		return nil, fmt.Errorf("chain: secret to derive from is %d bytes, want at least %d", len(secret), MinKeySize)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("suifang chain key v1"))
	return &Key{secret: m.Sum(nil)}, nil
}

// String describes the key without its secret.
func (k *Key) String() string { return "chain.Key{…}" }

// GoString is String, so %#v cannot print the secret either.
func (k *Key) GoString() string { return k.String() }

// Sum hashes fields, each length-prefixed so no two different field lists
// share an encoding: HMAC-SHA-256 under k, or plain SHA-256 when k is nil
// (rows written before the cut-over to keyed hashes). Lower-case hex.
func (k *Key) Sum(fields ...string) string {
	var h hash.Hash
	if k == nil {
		h = sha256.New()
	} else {
		h = hmac.New(sha256.New, k.secret)
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Sign is an HMAC of a whole text (a checkpoint), in hex.
func (k *Key) Sign(text string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(text))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidSig reports whether sig is k's signature of text.
func (k *Key) ValidSig(text, sig string) bool {
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(text))
	return hmac.Equal(m.Sum(nil), want)
}

// Hasher picks the hash of a stored row by its id: rows up to the chain's
// cut-over (written before chains were keyed) keep their plain SHA-256,
// every later row must carry the keyed hash.
type Hasher struct {
	Key       *Key
	PlainUpTo int64
}

// For returns the key to hash row id with (nil: plain SHA-256).
func (h Hasher) For(id int64) *Key {
	if id <= h.PlainUpTo {
		return nil
	}
	return h.Key
}

// Tables are the per-institution chains besides the audit log, in the
// order verify and checkpoints list them. Their rows have id,
// institution_id and hash columns.
func Tables() []string {
	return []string{"followup_records", "notice_events", "complaint_events", "abnormal_events"}
}

// CutOver reads the last row id of table written with a plain hash,
// recorded when keyed hashes were introduced (migration 0017). A missing
// row is an error: without it an attacker could claim every row is old.
func CutOver(ctx context.Context, q store.Querier, table string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT plain_upto FROM chain_cutover WHERE chain = $1`, table).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("chain: no cut-over recorded for %s (the chain_cutover table was altered)", table)
	}
	if err != nil {
		return 0, fmt.Errorf("chain: cut-over of %s: %w", table, err)
	}
	return n, nil
}

// NewHasher reads table's cut-over and pairs it with k.
func NewHasher(ctx context.Context, q store.Querier, k *Key, table string) (Hasher, error) {
	n, err := CutOver(ctx, q, table)
	return Hasher{Key: k, PlainUpTo: n}, err
}
