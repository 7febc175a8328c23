package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Kinds of blind-indexed values with their own normalisation.
const (
	KindPhone      = "phone"
	KindNationalID = "national_id"
)

// MinIndexSecret is the minimum blind-index secret size in bytes.
const MinIndexSecret = 32

// indexHexLen is the length of an index: 128 bits in hex.
const indexHexLen = 32

// Indexer computes blind indexes: keyed hashes of normalised values that
// allow exact-match lookup without storing the value. Its secret is
// separate from the data keys, so rotating data keys leaves indexes valid.
// An Indexer is safe for concurrent use; do not copy it.
type Indexer struct {
	pool sync.Pool // of *indexState
}

type indexState struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// NewIndexer returns an Indexer keyed with secret (at least 32 bytes; a
// copy is kept).
func NewIndexer(secret []byte) (*Indexer, error) {
	if len(secret) < MinIndexSecret {
		return nil, fmt.Errorf("pii: index secret is %d bytes, want at least %d", len(secret), MinIndexSecret)
	}
	key := append([]byte(nil), secret...)
	x := &Indexer{}
	x.pool.New = func() any {
		return &indexState{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
	}
	return x, nil
}

// ParseIndexSecret parses a standard base64 secret (at least 32 bytes once
// decoded) and returns its Indexer. Errors never contain the secret.
func ParseIndexSecret(spec string) (*Indexer, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("pii: index secret is empty")
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(spec)
	if err != nil {
		return nil, errors.New("pii: index secret is not valid standard base64")
	}
	return NewIndexer(secret)
}

// String describes the Indexer without its secret.
func (x *Indexer) String() string { return "pii.Indexer{…}" }

// GoString is String, so %#v cannot print the secret either.
func (x *Indexer) GoString() string { return x.String() }

// Index returns the blind index of value: the first 128 bits, in lower-case
// hex (32 characters), of HMAC-SHA256(secret, kind || 0x00 ||
// Normalize(kind, value)). Kinds are programmer constants and must not
// contain NUL. An empty value still gets a (non-empty) index, so it never
// matches an empty "no value" column; callers should not search for "".
func (x *Indexer) Index(kind, value string) string {
	st := x.pool.Get().(*indexState)
	st.buf = append(st.buf[:0], kind...)
	st.buf = append(st.buf, 0)
	st.buf = appendNormalized(st.buf, kind, value)
	st.mac.Reset()
	st.mac.Write(st.buf)
	st.sum = st.mac.Sum(st.sum[:0])
	st.buf = hex.AppendEncode(st.buf[:0], st.sum[:indexHexLen/2])
	idx := string(st.buf)
	if cap(st.buf) <= 1024 { // don't keep a huge buffer from a huge value
		x.pool.Put(st)
	}
	return idx
}

// Normalize returns the canonical form of v used for blind indexing:
//
//   - phone: digits only (full-width digits count), with a leading China
//     country code ("86", "+86", "0086") removed when the rest is an
//     11-digit mobile number starting with 1;
//   - national_id: surrounding space trimmed, "x" upper-cased;
//   - anything else: surrounding space trimmed.
func Normalize(kind, v string) string {
	switch kind {
	case KindPhone, KindNationalID:
		return string(appendNormalized(nil, kind, v))
	default:
		return strings.TrimSpace(v)
	}
}

func appendNormalized(dst []byte, kind, v string) []byte {
	switch kind {
	case KindPhone:
		start := len(dst)
		for _, r := range v {
			if d, ok := digitValue(r); ok {
				dst = append(dst, byte('0'+d))
			}
		}
		d := dst[start:]
		var cc int
		switch {
		case len(d) == 13 && d[0] == '8' && d[1] == '6' && d[2] == '1':
			cc = 2
		case len(d) == 15 && string(d[:4]) == "0086" && d[4] == '1':
			cc = 4
		}
		if cc > 0 {
			n := copy(d, d[cc:])
			dst = dst[:start+n]
		}
		return dst
	case KindNationalID:
		v = strings.TrimSpace(v)
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c == 'x' {
				c = 'X'
			}
			dst = append(dst, c)
		}
		return dst
	default:
		return append(dst, strings.TrimSpace(v)...)
	}
}

// digitValue reports whether r is an ASCII or full-width decimal digit and
// its value.
func digitValue(r rune) (int, bool) {
	switch {
	case '0' <= r && r <= '9':
		return int(r - '0'), true
	case '０' <= r && r <= '９':
		return int(r - '０'), true
	}
	return 0, false
}

// isDigitRune reports whether r is an ASCII or full-width decimal digit.
func isDigitRune(r rune) bool {
	_, ok := digitValue(r)
	return ok
}
