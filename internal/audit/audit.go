// Package audit keeps the append-only, hash-chained audit log: who did what to
// which object, from where, and whether it worked. Each entry's hash covers
// its own fields and the previous entry's hash, so an edit, insertion or
// deletion anywhere in the chain is found by Verify.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
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
}

// New returns the audit service.
func New(db *store.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

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
	e.Hash = hashOf(e)
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

// hashOf is SHA-256 over the previous hash and every field, each
// length-prefixed so no two different entries share an encoding.
func hashOf(e Entry) string {
	h := sha256.New()
	for _, f := range []string{
		e.PrevHash,
		strconv.FormatInt(store.Micros(e.At), 10),
		strconv.FormatInt(e.ActorID, 10), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		strconv.FormatInt(e.InstitutionID, 10), e.IP, strconv.FormatBool(e.Success), e.Detail,
	} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
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
}

// Verify recomputes the whole chain in id order and names the first broken
// entry. The first surviving entry may follow pruned ones, so its prev_hash is
// taken as given; every later link must match.
func (s *Service) Verify(ctx context.Context) (Result, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+entryCols+` FROM audit_log ORDER BY id`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	res := Result{OK: true}
	prev := ""
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return res, fmt.Errorf("audit: verify scan: %w", err)
		}
		res.Checked++
		switch {
		case prev != "" && e.PrevHash != prev:
			res.OK, res.BrokenID, res.Reason = false, e.ID, "prev_hash does not match the previous entry (an entry was removed or inserted)"
		case hashOf(e) != e.Hash:
			res.OK, res.BrokenID, res.Reason = false, e.ID, "hash does not match the entry's contents (the entry was altered)"
		}
		if !res.OK {
			return res, nil
		}
		prev = e.Hash
	}
	return res, rows.Err()
}

// Prune deletes entries older than keep, which may not be shorter than
// MinRetention. Entries are removed oldest first so the surviving chain still
// verifies.
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
		// Delete a prefix of the chain (in id order): with clock skew between
		// instances "at" is not monotonic in id, and deleting by "at" alone
		// could cut an entry out of the middle of the surviving chain.
		r, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE at < $1
			AND id < COALESCE((SELECT MIN(id) FROM audit_log WHERE at >= $1), (SELECT MAX(id) + 1 FROM audit_log))`,
			store.Micros(cutoff))
		if err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
		n, _ = r.RowsAffected()
		e := Event(p, "audit.prune", "audit_log", "", 0)
		e.Detail = fmt.Sprintf("removed=%d cutoff=%s", n, cutoff.UTC().Format(time.RFC3339))
		return s.Append(ctx, tx, e)
	})
	return n, err
}
