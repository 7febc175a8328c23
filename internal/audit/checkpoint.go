package audit

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/chain"
	"suifang/internal/store"
)

// A checkpoint anchors the head of every chain (the audit log and each
// institution's record and event chains): last id, its hash and the row
// count, signed with the chain key. It is written as an audit entry and
// into chain_checkpoints, and can be exported so that a copy lives outside
// the database. Verify compares the live chains with the latest
// checkpoints: rows cut off the end of a chain (which leaves a shorter chain
// that still links) no longer match the head a checkpoint recorded.

// checkpointMagic starts every checkpoint body (and names its format).
const checkpointMagic = "suifang checkpoint 1"

// Head is one chain's head at a checkpoint.
type Head struct {
	Chain         string // table
	InstitutionID int64  // 0 for the audit log
	LastID        int64
	Count         int64
	Hash          string
}

// Checkpoint is a signed set of heads.
type Checkpoint struct {
	ID      int64 `json:"id"`       // chain_checkpoints id (0 in a file)
	AuditID int64 `json:"audit_id"` // the audit entry that carries it
	At      time.Time
	Heads   []Head           `json:"-"`
	CutOver map[string]int64 `json:"-"`
	Body    string           `json:"body"`
	Sig     string           `json:"sig"`
}

// body renders the signed text.
func (c *Checkpoint) body() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nat %d\n", checkpointMagic, store.Micros(c.At))
	for _, h := range c.Heads {
		fmt.Fprintf(&b, "head %s %d %d %d %s\n", h.Chain, h.InstitutionID, h.LastID, h.Count, h.Hash)
	}
	for _, t := range append([]string{"audit_log"}, chain.Tables()...) {
		if n, ok := c.CutOver[t]; ok {
			fmt.Fprintf(&b, "cutover %s %d\n", t, n)
		}
	}
	return b.String()
}

// ParseCheckpoint reads a checkpoint body back. It checks the form only;
// the signature is checked by the caller.
func ParseCheckpoint(body string) (*Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) < 2 || lines[0] != checkpointMagic {
		return nil, errors.New("audit: not a checkpoint")
	}
	c := &Checkpoint{CutOver: map[string]int64{}}
	num := func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("audit: checkpoint: bad number %q", s)
		}
		return n, nil
	}
	for i, ln := range lines[1:] {
		f := strings.Split(ln, " ")
		var err error
		switch {
		case i == 0 && len(f) == 2 && f[0] == "at":
			var at int64
			at, err = num(f[1])
			c.At = store.Time(at)
		case i > 0 && len(f) == 6 && f[0] == "head" && validTable(f[1]) && len(f[5]) == 64:
			h := Head{Chain: f[1], Hash: f[5]}
			if h.InstitutionID, err = num(f[2]); err == nil {
				if h.LastID, err = num(f[3]); err == nil {
					h.Count, err = num(f[4])
				}
			}
			c.Heads = append(c.Heads, h)
		case i > 0 && len(f) == 3 && f[0] == "cutover" && validTable(f[1]):
			c.CutOver[f[1]], err = num(f[2])
		default:
			err = fmt.Errorf("audit: checkpoint: line %d is malformed", i+2)
		}
		if err != nil {
			return nil, err
		}
	}
	c.Body = body
	return c, nil
}

// validTable keeps table names from files out of SQL unless they are ours.
func validTable(t string) bool {
	if t == "audit_log" {
		return true
	}
	for _, x := range chain.Tables() {
		if x == t {
			return true
		}
	}
	return false
}

// CheckKey makes sure the chains are written with the key they were
// started with: the first call records the key's fingerprint, later ones
// compare. A changed key (a lost --chain-key, another index key) is refused
// at start instead of breaking every chain from here on.
func (s *Service) CheckKey(ctx context.Context) error {
	fp := s.key.Sign("suifang chain key fingerprint")
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var have string
		err := tx.QueryRowContext(ctx, `SELECT fingerprint FROM chain_key_check WHERE id = 1`).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO chain_key_check (id, fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fp); err != nil {
				return fmt.Errorf("audit: record chain key: %w", err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("audit: chain key check: %w", err)
		case have != fp:
			return errors.New("audit: the chain key is not the one this database's hash chains were written with (check --chain-key / SUIFANG_CHAIN_KEY and --index-key)")
		}
		return nil
	})
}

// heads reads every chain's head in q.
func heads(ctx context.Context, q store.Querier) ([]Head, map[string]int64, error) {
	var out []Head
	a := Head{Chain: "audit_log"}
	err := q.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&a.LastID, &a.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("audit: checkpoint head: %w", err)
	}
	if err == nil {
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&a.Count); err != nil {
			return nil, nil, fmt.Errorf("audit: checkpoint count: %w", err)
		}
		out = append(out, a)
	}
	cut := map[string]int64{}
	for _, t := range append([]string{"audit_log"}, chain.Tables()...) {
		n, err := chain.CutOver(ctx, q, t)
		if err != nil {
			return nil, nil, err
		}
		cut[t] = n
		if t == "audit_log" {
			continue
		}
		rows, err := q.QueryContext(ctx, `SELECT institution_id, MAX(id), COUNT(*) FROM `+t+` GROUP BY institution_id ORDER BY institution_id`)
		if err != nil {
			return nil, nil, fmt.Errorf("audit: checkpoint %s: %w", t, err)
		}
		var hs []Head
		for rows.Next() {
			h := Head{Chain: t}
			if err := rows.Scan(&h.InstitutionID, &h.LastID, &h.Count); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("audit: checkpoint %s: %w", t, err)
			}
			hs = append(hs, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("audit: checkpoint %s: %w", t, err)
		}
		for i := range hs {
			if err := q.QueryRowContext(ctx, `SELECT hash FROM `+t+` WHERE id = $1`, hs[i].LastID).Scan(&hs[i].Hash); err != nil {
				return nil, nil, fmt.Errorf("audit: checkpoint %s head: %w", t, err)
			}
		}
		out = append(out, hs...)
	}
	return out, cut, nil
}

// Checkpoint records every chain's head now: an audit entry whose detail
// is the signed body, and a chain_checkpoints row. With ifChanged it
// writes nothing when no head moved since the latest checkpoint (the
// periodic worker), and returns nil.
func (s *Service) Checkpoint(ctx context.Context, p *access.Principal, ifChanged bool) (*Checkpoint, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	var out *Checkpoint
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.db.SerializeKey(ctx, tx, chainLockKey); err != nil {
			return err
		}
		hs, cut, err := heads(ctx, tx)
		if err != nil {
			return err
		}
		c := &Checkpoint{At: s.now().UTC().Truncate(time.Microsecond), Heads: hs, CutOver: cut}
		if ifChanged {
			prev, err := s.latest(ctx, tx)
			if err != nil {
				return err
			}
			// The previous checkpoint's own audit entry is the only change.
			if prev != nil && sameHeads(prev.Heads, hs, prev.AuditID) {
				return nil
			}
		}
		c.Body = c.body()
		c.Sig = s.key.Sign(c.Body)
		e := Event(p, "audit.checkpoint", "audit_log", "", 0)
		e.Detail = c.Body + "sig " + c.Sig
		if err := s.Append(ctx, tx, e); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM audit_log`).Scan(&c.AuditID); err != nil {
			return fmt.Errorf("audit: checkpoint entry: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO chain_checkpoints (at, audit_id, body, sig) VALUES ($1,$2,$3,$4) RETURNING id`,
			store.Micros(c.At), c.AuditID, c.Body, c.Sig).Scan(&c.ID); err != nil {
			return fmt.Errorf("audit: store checkpoint: %w", err)
		}
		out = c
		return nil
	})
	return out, err
}

// sameHeads reports whether now differs from before only by the audit
// entry that recorded before (id auditID).
func sameHeads(before, now []Head, auditID int64) bool {
	if len(before) != len(now) {
		return false
	}
	for i := range now {
		b, n := before[i], now[i]
		if b.Chain == "audit_log" && n.Chain == "audit_log" {
			if n.LastID != auditID {
				return false
			}
			continue
		}
		if b != n {
			return false
		}
	}
	return true
}

// latest is the newest stored checkpoint, nil if none.
func (s *Service) latest(ctx context.Context, q store.Querier) (*Checkpoint, error) {
	var id, auditID, at int64
	var body, sig string
	err := q.QueryRowContext(ctx, `SELECT id, audit_id, at, body, sig FROM chain_checkpoints ORDER BY id DESC LIMIT 1`).
		Scan(&id, &auditID, &at, &body, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: latest checkpoint: %w", err)
	}
	c, err := ParseCheckpoint(body)
	if err != nil {
		return nil, err
	}
	c.ID, c.AuditID, c.Sig = id, auditID, sig
	return c, nil
}

// Checkpoints are the stored checkpoints, oldest first, for export.
func (s *Service) Checkpoints(ctx context.Context) ([]*Checkpoint, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, audit_id, at, body, sig FROM chain_checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*Checkpoint
	for rows.Next() {
		c := &Checkpoint{}
		var at int64
		if err := rows.Scan(&c.ID, &c.AuditID, &at, &c.Body, &c.Sig); err != nil {
			return nil, fmt.Errorf("audit: checkpoints: %w", err)
		}
		c.At = store.Time(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ExportCheckpoints writes cps as JSON lines.
func ExportCheckpoints(w io.Writer, cps []*Checkpoint) error {
	enc := json.NewEncoder(w)
	for _, c := range cps {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("audit: export checkpoints: %w", err)
		}
	}
	return nil
}

// ReadCheckpoints reads an export back (the form of each body is checked,
// signatures are checked by VerifyCheckpoints).
func ReadCheckpoints(r io.Reader) ([]*Checkpoint, error) {
	var out []*Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var raw Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("audit: checkpoint file line %d: %w", n, err)
		}
		c, err := ParseCheckpoint(raw.Body)
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint file line %d: %w", n, err)
		}
		c.ID, c.AuditID, c.Sig = raw.ID, raw.AuditID, raw.Sig
		out = append(out, c)
	}
	return out, sc.Err()
}

// Finding is one disagreement between a checkpoint and the live chains.
type Finding struct {
	CheckpointAt time.Time
	Chain        string
	Institution  int64
	Reason       string
}

// VerifyCheckpoints compares the live chains with the latest stored
// checkpoint and with extra (from an exported file): each signature must
// hold, each recorded head must still be in its chain with the same hash
// and (for record and event chains, which are never pruned) the same number
// of rows up to it, and the cut-overs must not have moved. The audit log's
// head may have been pruned away since, if Verify found the prune recorded
// (prunedUpTo).
func (s *Service) VerifyCheckpoints(ctx context.Context, prunedUpTo int64, extra []*Checkpoint) ([]Finding, int, error) {
	q := s.db.R()
	cps := extra
	last, err := s.latest(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	var out []Finding
	if last != nil {
		cps = append(cps, last)
		// The entry that carries it must still be in the log, unpruned.
		var detail string
		err := q.QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE id = $1 AND action = 'audit.checkpoint'`, last.AuditID).Scan(&detail)
		switch {
		case errors.Is(err, sql.ErrNoRows) && last.AuditID > prunedUpTo:
			out = append(out, Finding{last.At, "audit_log", 0, fmt.Sprintf("the audit entry %d that recorded the latest checkpoint is gone (the newest audit entries were deleted)", last.AuditID)})
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return nil, 0, fmt.Errorf("audit: checkpoint entry: %w", err)
		case err == nil && detail != last.Body+"sig "+last.Sig:
			out = append(out, Finding{last.At, "audit_log", 0, fmt.Sprintf("the audit entry %d differs from the checkpoint it recorded", last.AuditID)})
		}
	}
	cut := map[string]int64{}
	for _, c := range cps {
		if !s.key.ValidSig(c.Body, c.Sig) {
			out = append(out, Finding{c.At, "", 0, "the checkpoint's signature does not verify with the chain key (forged or altered)"})
			continue
		}
		for t, n := range c.CutOver {
			if _, ok := cut[t]; !ok {
				if cut[t], err = chain.CutOver(ctx, q, t); err != nil {
					return nil, 0, err
				}
			}
			if cut[t] != n {
				out = append(out, Finding{c.At, t, 0, fmt.Sprintf("the cut-over to keyed hashes moved from %d to %d", n, cut[t])})
			}
		}
		for _, h := range c.Heads {
			if f := checkHead(ctx, q, h, prunedUpTo); f != "" {
				out = append(out, Finding{c.At, h.Chain, h.InstitutionID, f})
			} else if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
	}
	return out, len(cps), nil
}

// checkHead says how the live chain disagrees with h, or "".
func checkHead(ctx context.Context, q store.Querier, h Head, prunedUpTo int64) string {
	var hash string
	var err error
	if h.Chain == "audit_log" {
		if h.LastID <= prunedUpTo {
			return ""
		}
		err = q.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = $1`, h.LastID).Scan(&hash)
	} else {
		err = q.QueryRowContext(ctx, `SELECT hash FROM `+h.Chain+` WHERE id = $1 AND institution_id = $2`, h.LastID, h.InstitutionID).Scan(&hash)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Sprintf("row %d, the chain's head at the checkpoint, is gone (rows were deleted from the end of the chain)", h.LastID)
	case err != nil:
		return "cannot read the chain: " + err.Error()
	case hash != h.Hash:
		return fmt.Sprintf("row %d no longer has the hash the checkpoint recorded (the chain was cut and rewritten)", h.LastID)
	}
	if h.Chain == "audit_log" {
		return ""
	}
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+h.Chain+` WHERE institution_id = $1 AND id <= $2`, h.InstitutionID, h.LastID).Scan(&n); err != nil {
		return "cannot count the chain: " + err.Error()
	}
	if n != h.Count {
		return fmt.Sprintf("%d rows up to row %d, the checkpoint recorded %d (rows were deleted)", n, h.LastID, h.Count)
	}
	return ""
}
