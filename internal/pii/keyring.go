// Package pii protects patients' sensitive personal information (PIPL):
// field-level encryption at rest with key rotation (Keyring), keyed blind
// indexes for exact-match search (Indexer), display masking for lists and
// exports (Mask*), and GB 11643-1999 citizen ID validation.
//
// Nothing in this package ever puts key material or the protected values
// themselves into an error message or a String/GoString result.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the size of a data key (AES-256) in bytes.
const KeySize = 32

const (
	sealVersion = "v1" // ad names the column
	rowVersion  = "v2" // ad names the column and the owning row
	nonceSize   = 12
	tagSize     = 16
	maxIDLen    = 16
)

// Error is the type of this package's sentinel errors; they are constants
// so that nothing can reassign them.
type Error string

func (e Error) Error() string { return string(e) }

// Errors returned (wrapped) by Keyring.Open. Test with errors.Is.
const (
	ErrUnknownKey Error = "pii: unknown data key"
	ErrMalformed  Error = "pii: malformed sealed value"
	ErrAuth       Error = "pii: sealed value failed authentication"
)

// Keyring holds AES-256 data keys by id. The current key encrypts; the
// others are kept only to decrypt values sealed before a rotation.
// A Keyring is immutable after construction and safe for concurrent use.
type Keyring struct {
	current string
	ids     []string // current first, then the rest in configuration order
	aeads   map[string]cipher.AEAD
}

// ValidKeyID reports whether id is a usable key id: 1–16 characters of
// [a-z0-9_-].
func ValidKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseKeyring parses a key specification such as the SUIFANG_DATA_KEYS
// setting: comma-separated "id:base64key" entries (standard, padded base64
// of 32 bytes); the first entry is the current key. Blanks around entries
// are ignored. Errors name the offending entry by position (and its id when
// the id itself is valid) but never contain key material.
func ParseKeyring(spec string) (*Keyring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("pii: data key spec is empty")
	}
	var (
		order []string
		keys  = map[string][]byte{}
	)
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("pii: data key entry %d is empty", n)
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("pii: data key entry %d: want id:base64key", n)
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !ValidKeyID(id) {
			// The id is not echoed: a mangled entry may have key text here.
			return nil, fmt.Errorf("pii: data key entry %d: invalid key id (want 1-16 characters of a-z, 0-9, _ and -)", n)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("pii: data key entry %d: duplicate key id %q", n, id)
		}
		key, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("pii: data key entry %d (id %q): key is not valid standard base64", n, id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("pii: data key entry %d (id %q): key is %d bytes, want %d", n, id, len(key), KeySize)
		}
		keys[id] = key
		order = append(order, id)
	}
	return newKeyring(order[0], keys, order)
}

// NewKeyring builds a keyring from raw keys; current names the key used
// for sealing and must be present in keys. The key bytes are copied.
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	ids := make([]string, 0, len(keys))
	for id := range keys {
		if id != current {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return newKeyring(current, keys, append([]string{current}, ids...))
}

func newKeyring(current string, keys map[string][]byte, order []string) (*Keyring, error) {
	if !ValidKeyID(current) {
		return nil, errors.New("pii: invalid current key id (want 1-16 characters of a-z, 0-9, _ and -)")
	}
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("pii: current key %q is not in the keyring", current)
	}
	k := &Keyring{current: current, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, id := range order {
		key := keys[id]
		if !ValidKeyID(id) {
			return nil, errors.New("pii: invalid key id (want 1-16 characters of a-z, 0-9, _ and -)")
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("pii: key %q is %d bytes, want %d", id, len(key), KeySize)
		}
		// The same key under two ids is a botched rotation: reject it.
		for _, other := range k.ids {
			if subtle.ConstantTimeCompare(key, keys[other]) == 1 {
				return nil, fmt.Errorf("pii: keys %q and %q are identical", other, id)
			}
		}
		block, err := aes.NewCipher(key) // copies the key into its schedule
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", id, err)
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
	}
	return k, nil
}

// GenerateKeySpec returns a new "id:base64key" entry with 32 random bytes,
// ready to be prepended to SUIFANG_DATA_KEYS.
func GenerateKeySpec(id string) (string, error) {
	if !ValidKeyID(id) {
		return "", errors.New("pii: invalid key id (want 1-16 characters of a-z, 0-9, _ and -)")
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("pii: generate key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// CurrentID returns the id of the key used for sealing.
func (k *Keyring) CurrentID() string {
	if k == nil {
		return ""
	}
	return k.current
}

// IDs returns the key ids, current first.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	return slices.Clone(k.ids)
}

// String describes the keyring without key material.
func (k *Keyring) String() string {
	if k == nil {
		return "pii.Keyring(nil)"
	}
	return "pii.Keyring{current: " + k.current + ", ids: [" + strings.Join(k.ids, " ") + "]}"
}

// GoString is String, so %#v cannot print key material either.
func (k *Keyring) GoString() string { return k.String() }

// Seal encrypts plaintext with the current key (AES-256-GCM, random 96-bit
// nonce). ad is authenticated but not stored: it binds the value to its
// context (e.g. "patient.phone") so that Open with another ad fails.
// The result is "v1.<keyid>.<base64url(nonce|ciphertext|tag)>", safe for a
// TEXT column. An empty plaintext seals to "" (empty stays empty).
func (k *Keyring) Seal(plaintext, ad string) (string, error) {
	return k.seal(sealVersion, plaintext, ad)
}

// SealRow is Seal bound to the owning row too: row is a stable key of the
// row (e.g. "7/MRN0012" for a patient), written into the associated data
// with the column, so a value copied onto another row fails to open there.
// The result starts "v2.".
func (k *Keyring) SealRow(plaintext, ad, row string) (string, error) {
	return k.seal(rowVersion, plaintext, rowAD(ad, row))
}

// rowAD joins column and row; NUL cannot occur in either (programmer
// constants and keys built from ids and codes).
func rowAD(ad, row string) string { return ad + "\x00" + row }

func (k *Keyring) seal(version, plaintext, ad string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	if k == nil || k.aeads[k.current] == nil {
		return "", errors.New("pii: seal with an uninitialised keyring")
	}
	aead := k.aeads[k.current]
	// One buffer: nonce | plaintext (sealed in place) + tag | ad.
	n := nonceSize + len(plaintext) + tagSize
	buf := make([]byte, n+len(ad))
	nonce, body, adb := buf[:nonceSize], buf[nonceSize:nonceSize+len(plaintext)], buf[n:]
	copy(body, plaintext)
	copy(adb, ad)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("pii: nonce: %w", err)
	}
	raw := buf[:nonceSize+len(aead.Seal(body[:0], nonce, body, adb))]

	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(version)+1+len(k.current)+1+enc.EncodedLen(len(raw)))
	out = append(out, version...)
	out = append(out, '.')
	out = append(out, k.current...)
	out = append(out, '.')
	out = enc.AppendEncode(out, raw)
	return string(out), nil
}

// parseSealed splits a sealed value into its key id and raw payload.
// The error wraps ErrMalformed.
func parseSealed(sealed string) (id, payload string, err error) {
	_, id, payload, err = parseVersioned(sealed)
	return id, payload, err
}

// parseVersioned is parseSealed that also returns the version (v1 or v2).
func parseVersioned(sealed string) (version, id, payload string, err error) {
	version, rest, ok := strings.Cut(sealed, ".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: missing version", ErrMalformed)
	}
	if version != sealVersion && version != rowVersion {
		return "", "", "", fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	id, payload, ok = strings.Cut(rest, ".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: missing key id", ErrMalformed)
	}
	if !ValidKeyID(id) {
		return "", "", "", fmt.Errorf("%w: invalid key id", ErrMalformed)
	}
	return version, id, payload, nil
}

// Open decrypts a value produced by Seal with the same ad. "" opens to "".
// Errors wrap ErrMalformed (not a v1 sealed value), ErrUnknownKey (sealed
// with a key id this keyring lacks; the id is named) or ErrAuth (wrong key,
// wrong ad, or the value was altered).
func (k *Keyring) Open(sealed, ad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	version, id, payload, err := parseVersioned(sealed)
	if err != nil {
		return "", err
	}
	if version != sealVersion {
		return "", fmt.Errorf("%w: a row-bound value needs OpenRow", ErrMalformed)
	}
	return k.open(id, payload, ad)
}

// OpenRow opens a value of row: one sealed by SealRow for the same column
// and row, or (until it is re-sealed) one sealed by Seal for the column
// alone. A row-bound value copied from another row fails with ErrAuth.
func (k *Keyring) OpenRow(sealed, ad, row string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	version, id, payload, err := parseVersioned(sealed)
	if err != nil {
		return "", err
	}
	if version == rowVersion {
		ad = rowAD(ad, row)
	}
	return k.open(id, payload, ad)
}

// NeedsReseal reports whether sealed should be sealed again with SealRow:
// it is not bound to its row yet, or was sealed with an old key. False for
// "" and for values that do not parse.
func (k *Keyring) NeedsReseal(sealed string) bool {
	if sealed == "" || k == nil {
		return false
	}
	version, id, _, err := parseVersioned(sealed)
	return err == nil && (version != rowVersion || id != k.current)
}

// RowBound reports whether sealed was sealed by SealRow (or is ""): a
// value sealed for its column alone is not.
func RowBound(sealed string) bool {
	if sealed == "" {
		return true
	}
	version, _, _, err := parseVersioned(sealed)
	return err == nil && version == rowVersion
}

// Problem is a sealed value that does not open on its own row.
type Problem struct {
	ID     int64
	Ref    string // the row's human key (institution/MRN, a complaint number)
	Column string
	Reason string
}

// CheckRow says what is wrong with sealed as a value of row, or "": it
// does not open there (copied from another row, or altered), or it is not
// bound to a row yet. Nothing of the value appears in the answer.
func (k *Keyring) CheckRow(sealed, ad, row string) string {
	_, err := k.OpenRow(sealed, ad, row)
	switch {
	case errors.Is(err, ErrAuth):
		return "does not open on this row (copied from another row, or altered)"
	case err != nil:
		return err.Error()
	case !RowBound(sealed):
		return "not bound to its row yet (run 'suifang keys reseal'; or copied in from an older copy)"
	}
	return ""
}

func (k *Keyring) open(id, payload, ad string) (string, error) {
	var aead cipher.AEAD
	if k != nil {
		aead = k.aeads[id]
	}
	if aead == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	// The decoder skips \r and \n; refuse them so every value has exactly
	// one spelling. Strict also refuses non-zero padding bits.
	if strings.ContainsAny(payload, "\r\n") {
		return "", fmt.Errorf("%w: invalid base64", ErrMalformed)
	}
	enc := base64.RawURLEncoding.Strict()
	// One buffer: ad | decoded payload (opened in place).
	buf := make([]byte, len(ad)+enc.DecodedLen(len(payload)))
	adb := buf[:copy(buf, ad)]
	nraw, err := enc.Decode(buf[len(ad):], []byte(payload))
	if err != nil {
		return "", fmt.Errorf("%w: invalid base64", ErrMalformed)
	}
	raw := buf[len(ad) : len(ad)+nraw]
	if len(raw) < nonceSize+tagSize {
		return "", fmt.Errorf("%w: too short", ErrMalformed)
	}
	pt, err := aead.Open(raw[nonceSize:nonceSize], raw[:nonceSize], raw[nonceSize:], adb)
	if err != nil {
		return "", fmt.Errorf("%w (key %q)", ErrAuth, id)
	}
	return string(pt), nil
}

// NeedsRotation reports whether sealed was sealed with a key other than the
// current one and should be re-sealed. It is false for "" and for values
// that do not parse (Open reports those).
func (k *Keyring) NeedsRotation(sealed string) bool {
	if sealed == "" || k == nil {
		return false
	}
	id, _, err := parseSealed(sealed)
	return err == nil && id != k.current
}
