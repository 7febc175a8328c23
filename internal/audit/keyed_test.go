package audit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/chain"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// plainHash is an entry's hash as written before chains were keyed.
func plainHash(prev string, at int64, actorID int64, actor, action, objType, objID string, inst int64, ip string, ok bool, detail string) string {
	h := sha256.New()
	for _, f := range []string{prev, strconv.FormatInt(at, 10), strconv.FormatInt(actorID, 10), actor, action, objType, objID,
		strconv.FormatInt(inst, 10), ip, strconv.FormatBool(ok), detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// A log written before the upgrade: its entries carry plain SHA-256 up to
// the recorded cut-over and still verify, keyed entries follow on from
// them, and a plain entry after the cut-over (an attacker without the key)
// is refused.
func TestVerifyAcrossTheCutOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		prev := strings.Repeat("0", 64)
		at := store.Micros(clk.Now())
		for i, action := range []string{"auth.login", "user.create", "audit.prune"} {
			detail := fmt.Sprintf("n=%d", i)
			if action == "audit.prune" {
				detail = "removed=0 cutoff=2025-09-01T00:00:00Z" // an old prune, without marks
			}
			h := plainHash(prev, at, 1, "admin", action, "user", "1", 0, "10.1.2.3", true, detail)
			exec(t, db, `INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, institution_id, ip, success, detail, prev_hash, hash)
				VALUES ($1, 1, 'admin', $2, 'user', '1', 0, '10.1.2.3', TRUE, $3, $4, $5)`, at, action, detail, prev, h)
			prev = h
		}
		exec(t, db, `UPDATE chain_cutover SET plain_upto = (SELECT MAX(id) FROM audit_log) WHERE chain = 'audit_log'`)
		key, err := chain.NewKey([]byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		au := audit.NewKeyed(db, clk.Now, key)
		clk.Advance(time.Minute)
		if err := au.Record(ctx, audit.Event(access.System(), "user.update", "user", "1", 0)); err != nil {
			t.Fatal(err)
		}
		if res, err := au.Verify(ctx); err != nil || !res.OK || res.Checked != 4 {
			t.Fatalf("mixed log: %+v, %v", res, err)
		}
		// Another key cannot extend or verify it.
		other, _ := chain.NewKey([]byte("fedcba9876543210fedcba9876543210"))
		if res, _ := audit.NewKeyed(db, clk.Now, other).Verify(ctx); res.OK || res.BrokenID == 0 {
			t.Fatalf("verified with the wrong key: %+v", res)
		}
		// An entry appended with a plain hash after the cut-over is refused.
		var head string
		var max int64
		if err := db.R().QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&max, &head); err != nil {
			t.Fatal(err)
		}
		h := plainHash(head, at, 1, "admin", "user.delete", "user", "1", 0, "10.1.2.3", true, "")
		exec(t, db, `INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, institution_id, ip, success, detail, prev_hash, hash)
			VALUES ($1, 1, 'admin', 'user.delete', 'user', '1', 0, '10.1.2.3', TRUE, '', $2, $3)`, at, head, h)
		if res, _ := au.Verify(ctx); res.OK || res.BrokenID <= max || !strings.Contains(res.Reason, "without the key") {
			t.Fatalf("a plain entry after the cut-over: %+v", res)
		}
		// Without its cut-over row the chain cannot be judged at all.
		exec(t, db, `DELETE FROM chain_cutover WHERE chain = 'audit_log'`)
		if _, err := au.Verify(ctx); err == nil || !strings.Contains(err.Error(), "no cut-over") {
			t.Fatalf("verify without a cut-over: %v", err)
		}
	})
}

// A checkpoint body reads back to what was written, and one that is cut,
// padded or renamed does not parse.
func TestParseCheckpoint(t *testing.T) {
	body := "suifang checkpoint 1\nat 1796601600000000\nhead audit_log 0 812 812 " + strings.Repeat("a", 64) +
		"\nhead followup_records 3 77 40 " + strings.Repeat("b", 64) + "\ncutover audit_log 120\ncutover followup_records 0\n"
	c, err := audit.ParseCheckpoint(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Heads) != 2 || c.Heads[1] != (audit.Head{Chain: "followup_records", InstitutionID: 3, LastID: 77, Count: 40, Hash: strings.Repeat("b", 64)}) ||
		c.CutOver["audit_log"] != 120 || store.Micros(c.At) != 1796601600000000 {
		t.Fatalf("parsed %+v", c)
	}
	for _, bad := range []string{
		"", "suifang checkpoint 2\nat 1\n", strings.Replace(body, "followup_records 3", "patients 3", 1),
		strings.Replace(body, "at 1796601600000000", "at -5", 1), strings.Replace(body, " 77 ", "  77 ", 1),
		strings.Replace(body, "cutover audit_log 120", "cutover audit_log", 1), "suifang checkpoint 1\nhead audit_log 0 1 1 " + strings.Repeat("a", 64),
	} {
		if _, err := audit.ParseCheckpoint(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add("suifang checkpoint 1\nat 1796601600000000\nhead audit_log 0 812 812 " + strings.Repeat("a", 64) + "\ncutover audit_log 120\n")
	f.Add("suifang checkpoint 1\nat 0\n")
	f.Add("suifang checkpoint 1\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		c, err := audit.ParseCheckpoint(body)
		if err != nil {
			return
		}
		// Every table named may be put into SQL.
		for _, h := range c.Heads {
			if h.Chain != "audit_log" && !strings.HasSuffix(h.Chain, "_records") && !strings.HasSuffix(h.Chain, "_events") {
				t.Fatalf("head of table %q", h.Chain)
			}
			if h.LastID < 0 || h.Count < 0 || len(h.Hash) != 64 {
				t.Fatalf("head %+v", h)
			}
		}
	})
}

// The periodic checkpoint writes only when a head moved (its own previous
// entry does not count), and only administrators may write one.
func TestCheckpointOnlyWhenChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)
		if _, err := au.Checkpoint(ctx, &access.Principal{UserID: 5, Username: "nurse", Roles: []access.Role{access.Nurse}}, false); err == nil {
			t.Fatal("a nurse wrote a checkpoint")
		}
		if err := au.Record(ctx, audit.Event(access.System(), "user.create", "user", "1", 0)); err != nil {
			t.Fatal(err)
		}
		first, err := au.Checkpoint(ctx, access.System(), true)
		if err != nil || first == nil || len(first.Heads) != 1 || first.Heads[0].Chain != "audit_log" {
			t.Fatalf("first checkpoint: %+v, %v", first, err)
		}
		clk.Advance(10 * time.Minute)
		if again, err := au.Checkpoint(ctx, access.System(), true); err != nil || again != nil {
			t.Fatalf("checkpoint with nothing new: %+v, %v", again, err)
		}
		if err := au.Record(ctx, audit.Event(access.System(), "user.update", "user", "1", 0)); err != nil {
			t.Fatal(err)
		}
		next, err := au.Checkpoint(ctx, access.System(), true)
		if err != nil || next == nil || next.Heads[0].LastID <= first.AuditID {
			t.Fatalf("checkpoint after a change: %+v, %v", next, err)
		}
		if f, n, err := au.VerifyCheckpoints(ctx, 0, nil); err != nil || len(f) != 0 || n != 1 {
			t.Fatalf("verify checkpoints: %+v, %d, %v", f, n, err)
		}
		cps, err := au.Checkpoints(ctx)
		if err != nil || len(cps) != 2 {
			t.Fatalf("stored checkpoints: %d, %v", len(cps), err)
		}
	})
}
