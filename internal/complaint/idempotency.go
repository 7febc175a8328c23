package complaint

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// An API client whose POST timed out sends it again with the same
// Idempotency-Key. The register event of the complaint the first request
// made carries the key and a fingerprint of the input, so the retry finds
// that complaint instead of making a second one, on any instance and after
// a restart. There is no table of its own: the lookup runs in the
// registering transaction under the institution's chain lock, which every
// registration takes, so two retries racing each other cannot both miss.

// IdempotencyWindow is how long a key is remembered; the lookup reads the
// caller's complaints of this window only.
const IdempotencyWindow = 24 * time.Hour

// MaxIdempotencyKey bounds a key's length.
const MaxIdempotencyKey = 128

// ValidIdempotencyKey reports whether k is 1 to MaxIdempotencyKey visible
// ASCII characters (no spaces), e.g. a UUID.
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

const (
	keyPrefix = "idempotency_key="
	fpPrefix  = " input="
)

// idempotencyLine is the register event's last detail line.
func idempotencyLine(key, fp string) string { return keyPrefix + key + fpPrefix + fp }

// parseIdempotencyLine reads the key and fingerprint back from an event's
// detail: its last line, when that line is one idempotencyLine wrote. A
// key holds no spaces, so the first " input=" ends it.
func parseIdempotencyLine(detail string) (key, fp string, ok bool) {
	line := detail[strings.LastIndexByte(detail, '\n')+1:]
	rest, found := strings.CutPrefix(line, keyPrefix)
	if !found {
		return "", "", false
	}
	key, fp, found = strings.Cut(rest, fpPrefix)
	if !found || !ValidIdempotencyKey(key) || len(fp) != 32 || strings.Trim(fp, "0123456789abcdef") != "" {
		return "", "", false
	}
	return key, fp, true
}

// fingerprint hashes a normalized input so a key reused for another
// complaint is refused rather than answered with the wrong one. The contact
// is left out: a hash of a phone number is reversed by trying them all, and
// the contact is sealed at rest for that reason.
func fingerprint(in *Input) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, s := range []string{in.Channel, in.ComplainantName, in.ComplainantRole, in.VisitNumber, in.OccurredOn, in.Location,
		in.People, in.Content, in.Asks, in.Category, in.Severity, in.Complexity} {
		field(s)
	}
	field(fmt.Sprint(in.DepartmentID, in.OtherDepts))
	if !in.ReceivedAt.IsZero() {
		field(fmt.Sprint(store.Micros(in.ReceivedAt)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// replay looks for the complaint p registered with in's idempotency key in
// the window. When there is one it is read into *out, marked Replayed, and
// done is true. The caller holds the chain lock.
func (s *Service) replay(ctx context.Context, tx *sql.Tx, p *access.Principal, in *Input, out **Complaint) (done bool, err error) {
	if !ValidIdempotencyKey(in.IdempotencyKey) {
		return false, errs.Field("idempotency_key", "bad_idempotency_key",
			fmt.Sprintf("an idempotency key is 1 to %d visible ASCII characters without spaces", MaxIdempotencyKey))
	}
	since := store.Micros(s.now().Add(-IdempotencyWindow))
	rows, err := tx.QueryContext(ctx, `SELECT e.complaint_id, e.detail FROM complaints c
		JOIN complaint_events e ON e.complaint_id = c.id AND e.action = $1
		WHERE c.institution_id = $2 AND c.created_by = $3 AND c.created_at >= $4 AND e.actor = $5 ORDER BY c.id`,
		"register", in.InstitutionID, p.UserID, since, p.Username)
	if err != nil {
		return false, fmt.Errorf("complaint: idempotency: %w", err)
	}
	var id int64
	var fp string
	for rows.Next() {
		var cid int64
		var detail string
		if err := rows.Scan(&cid, &detail); err != nil {
			rows.Close()
			return false, fmt.Errorf("complaint: idempotency: %w", err)
		}
		if k, f, ok := parseIdempotencyLine(detail); ok && k == in.IdempotencyKey && id == 0 {
			id, fp = cid, f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("complaint: idempotency: %w", err)
	}
	if id == 0 {
		return false, nil
	}
	if fp != fingerprint(in) {
		return false, errs.New(errs.Conflict, "idempotency_key_reused",
			"this idempotency key was used for a different complaint in the last 24 hours; send a new key for a new complaint")
	}
	c, err := s.get(ctx, tx, id)
	if err != nil {
		return false, err
	}
	c.Replayed = true
	*out = c
	return true, nil
}
