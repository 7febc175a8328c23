// Package audit keeps the append-only, hash-chained audit log: who did what to
// which object, from where, and whether it worked. Each entry's hash is an
// HMAC (under the chain key, kept outside the database) of its own fields and
// the previous entry's hash, so an edit, insertion or deletion anywhere in
// the chain is found by Verify, and cannot be hidden by recomputing the
// chain without the key. Checkpoints (checkpoint.go) anchor the heads of
// every chain so that cutting rows off the end shows too.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/chain"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// chainLockKey serialises appends across instances on PostgreSQL.
const chainLockKey int64 = 0x61756469745f6c67

// genesis is the prev_hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// MinRetention is the legal floor (网络安全法: at least six months); Prune
// refuses anything shorter.
const MinRetention = 183 * 24 * time.Hour

// Entry is one audit record.
type Entry struct {
	ID            int64
	At            time.Time
	ActorID       int64
	Actor         string
	Action        string
	ObjectType    string
	ObjectID      string
	InstitutionID int64
	IP            string
	Success       bool
	Detail        string
	PrevHash      string
	Hash          string
}

// Service appends to and reads the audit log.
type Service struct {
	db      *store.DB
	now     func() time.Time
	refused refusals // the cap on refusal entries (Refused)
	key     *chain.Key
}

// New returns an audit service keyed with a fixed, public test key: for
// tests that wire services by hand. Deployments build it through core with
// the configured chain key (NewKeyed).
func New(db *store.DB, now func() time.Time) *Service { return NewKeyed(db, now, nil) }

// NewKeyed returns the audit service whose chains are keyed with key (nil:
// the public test key of New).
func NewKeyed(db *store.DB, now func() time.Time, key *chain.Key) *Service {
	if key == nil {
		key = TestKey()
	}
	return &Service{db: db, now: now, key: key}
}

// TestKey is a chain key anyone can know; it protects nothing and exists so
// hand-wired tests need no secret.
func TestKey() *chain.Key {
	k, _ := chain.NewKey([]byte("suifang public test chain key....")) // 32 bytes
	return k
}

// ChainKey is the key every room's hash chain is computed with.
func (s *Service) ChainKey() *chain.Key { return s.key }

// Event fills actor fields of an entry from p.
func Event(p *access.Principal, action, objType, objID string, inst int64) Entry {
	e := Entry{Action: action, ObjectType: objType, ObjectID: objID, InstitutionID: inst, Success: true}
	if p != nil {
		e.ActorID, e.Actor, e.IP = p.UserID, p.Username, p.IP
	}
	return e
}

// Append adds e inside the caller's transaction, so the audit entry commits
// or rolls back with the change it describes.
func (s *Service) Append(ctx context.Context, tx *sql.Tx, e Entry) error {
	if e.Action == "" {
		return fmt.Errorf("audit: entry without action")
	}
	if err := s.db.SerializeKey(ctx, tx, chainLockKey); err != nil {
		return err
	}
	prev := genesis
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.At = s.now().UTC().Truncate(time.Microsecond)
	e.PrevHash = prev
	e.Hash = hashOf(s.key, e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(at, actor_id, actor, action, object_type, object_id, institution_id, ip, success, detail, prev_hash, hash)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		store.Micros(e.At), e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.InstitutionID,
		e.IP, e.Success, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// Record appends e in a transaction of its own (for events that change
// nothing else, such as a failed login).
func (s *Service) Record(ctx context.Context, e Entry) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error { return s.Append(ctx, tx, e) })
}

// hashOf is the HMAC (plain SHA-256 with a nil key, for entries from before
// the cut-over) of the previous hash and every field, each length-prefixed
// so no two different entries share an encoding.
func hashOf(k *chain.Key, e Entry) string {
	return k.Sum(e.PrevHash,
		strconv.FormatInt(store.Micros(e.At), 10),
		strconv.FormatInt(e.ActorID, 10), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		strconv.FormatInt(e.InstitutionID, 10), e.IP, strconv.FormatBool(e.Success), e.Detail)
}

// Filter narrows List.
type Filter struct {
	Action        string // prefix match, e.g. "auth."
	Actor         string
	InstitutionID int64
	BeforeID      int64 // cursor: entries with a smaller id
	Limit         int
}

const entryCols = `id, at, actor_id, actor, action, object_type, object_id, institution_id, ip, success, detail, prev_hash, hash`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var at int64
	err := sc.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID,
		&e.InstitutionID, &e.IP, &e.Success, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = store.Time(at)
	return e, err
}

// List returns entries newest first. Administrators see everything; quality
// staff and leadership see entries of the institutions they oversee.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]Entry, error) {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Leadership) {
		return nil, errs.New(errs.Forbidden, "audit_forbidden", "you may not read the audit log")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Action != "" {
		// A prefix compare, not LIKE: "_" and case would differ between engines.
		args = append(args, len(f.Action), f.Action)
		where = append(where, fmt.Sprintf("substr(action, 1, $%d) = $%d", len(args)-1, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	if f.InstitutionID > 0 {
		if err := p.RequireInstitution(f.InstitutionID); err != nil {
			return nil, err
		}
		add("institution_id = $%d", f.InstitutionID)
	} else if !p.Global {
		// Only institutions p oversees as a whole: a department grant does
		// not open the institution's log (an explicit filter refuses it too).
		var insts []int64
		for _, id := range p.Institutions() {
			if p.SeesInstitution(id) {
				insts = append(insts, id)
			}
		}
		if len(insts) == 0 {
			return nil, nil
		}
		var ph []string
		for _, id := range insts {
			args = append(args, id)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "institution_id IN ("+strings.Join(ph, ",")+")")
	}
	q := `SELECT ` + entryCols + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: scan: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Result is the outcome of Verify.
type Result struct {
	Checked  int
	OK       bool
	BrokenID int64  // first entry that fails, 0 if none
	Reason   string // why it fails
	// FirstID is the oldest surviving entry; PrunedUpTo the last id a
	// recorded prune removed (0: never pruned).
	FirstID, PrunedUpTo int64
}

// pruneMark is what a prune records about the entries it removed: the last
// id and that entry's hash, which the first survivor's prev_hash must name.
type pruneMark struct {
	upTo int64
	hash string
}

// parsePrune reads "upto=N last_hash=H" from an audit.prune detail; ok is
// false for a prune that removed nothing or predates the marks.
func parsePrune(detail string) (m pruneMark, ok bool) {
	for _, f := range strings.Fields(detail) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "upto":
			m.upTo, _ = strconv.ParseInt(v, 10, 64)
		case "last_hash":
			m.hash = v
		}
	}
	return m, m.upTo > 0 && m.hash != ""
}

// Verify recomputes the whole chain in id order and names the first broken
// entry. Entries up to the cut-over carry plain SHA-256 hashes, later ones
// HMACs under the chain key. The first surviving entry may follow pruned
// ones only if a surviving audit.prune entry names it: the id it pruned up
// to and the hash of the last entry it removed; otherwise the oldest entries
// were deleted by hand.
func (s *Service) Verify(ctx context.Context) (Result, error) {
	r := s.db.R()
	hs, err := chain.NewHasher(ctx, r, s.key, "audit_log")
	if err != nil {
		return Result{}, err
	}
	rows, err := r.QueryContext(ctx, `SELECT `+entryCols+` FROM audit_log ORDER BY id`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	res := Result{OK: true}
	prev, firstPrev := "", ""
	var marks []pruneMark
	legacyPrune := false
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return res, fmt.Errorf("audit: verify scan: %w", err)
		}
		res.Checked++
		if res.Checked == 1 {
			res.FirstID, firstPrev = e.ID, e.PrevHash
		}
		switch {
		case prev != "" && e.PrevHash != prev:
			res.OK, res.BrokenID, res.Reason = false, e.ID, "prev_hash does not match the previous entry (an entry was removed or inserted)"
		case hashOf(hs.For(e.ID), e) != e.Hash:
			res.OK, res.BrokenID, res.Reason = false, e.ID, "hash does not match the entry's contents (the entry was altered, or the chain recomputed without the key)"
		}
		if !res.OK {
			return res, nil
		}
		if e.Action == "audit.prune" {
			if m, ok := parsePrune(e.Detail); ok {
				marks = append(marks, m)
			} else if e.ID <= hs.PlainUpTo {
				legacyPrune = true
			}
		}
		prev = e.Hash
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("audit: verify: %w", err)
	}
	if res.Checked == 0 || firstPrev == genesis {
		return res, nil
	}
	for _, m := range marks {
		if m.hash == firstPrev && m.upTo < res.FirstID {
			res.PrunedUpTo = m.upTo
			return res, nil
		}
	}
	// A log pruned before prunes recorded their marks: its first survivor
	// is old, and a prune of that time is on record.
	if legacyPrune && res.FirstID <= hs.PlainUpTo {
		return res, nil
	}
	res.OK, res.BrokenID = false, res.FirstID
	res.Reason = "the entries before it were deleted, and no recorded prune removed them"
	return res, nil
}

// Prune deletes entries older than keep, which may not be shorter than
// MinRetention. Entries are removed oldest first so the surviving chain still
// verifies; the prune's own entry records the last id removed and its hash,
// which is how Verify tells a prune from a deletion.
func (s *Service) Prune(ctx context.Context, p *access.Principal, keep time.Duration) (int64, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	if keep < MinRetention {
		return 0, errs.Field("keep", "retention_too_short", "audit entries must be kept at least 6 months")
	}
	cutoff := s.now().Add(-keep)
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.db.SerializeKey(ctx, tx, chainLockKey); err != nil {
			return err
		}
		// Delete a prefix of the chain (in id order): with clock skew between
		// instances "at" is not monotonic in id, and deleting by "at" alone
		// could cut an entry out of the middle of the surviving chain.
		const prefix = `at < $1 AND id < COALESCE((SELECT MIN(id) FROM audit_log WHERE at >= $1), (SELECT MAX(id) + 1 FROM audit_log))`
		var last pruneMark
		err := tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log WHERE `+prefix+` ORDER BY id DESC LIMIT 1`,
			store.Micros(cutoff)).Scan(&last.upTo, &last.hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("audit: prune: %w", err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE `+prefix, store.Micros(cutoff))
		if err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
		n, _ = r.RowsAffected()
		e := Event(p, "audit.prune", "audit_log", "", 0)
		e.Detail = fmt.Sprintf("removed=%d cutoff=%s", n, cutoff.UTC().Format(time.RFC3339))
		if n > 0 {
			e.Detail += fmt.Sprintf(" upto=%d last_hash=%s", last.upTo, last.hash)
		}
		return s.Append(ctx, tx, e)
	})
	return n, err
}
