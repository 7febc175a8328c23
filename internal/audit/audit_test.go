package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/clock"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

var ctx = context.Background()

// all returns every entry oldest first, read directly so no scope applies.
func all(t *testing.T, au *audit.Service) []audit.Entry {
	t.Helper()
	es, err := au.List(ctx, access.System(), audit.Filter{Limit: 500})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

func record(t *testing.T, au *audit.Service, action string, inst int64) {
	t.Helper()
	e := audit.Event(access.System(), action, "thing", action, inst)
	if err := au.Record(ctx, e); err != nil {
		t.Fatalf("record %s: %v", action, err)
	}
}

func countRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if err := db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dropUpdateTrigger plays an attacker with direct database access.
func dropUpdateTrigger(t *testing.T, db *store.DB) {
	t.Helper()
	if db.Dialect == store.Postgres {
		exec(t, db, `DROP TRIGGER audit_log_no_update ON audit_log`)
	} else {
		exec(t, db, `DROP TRIGGER audit_log_no_update`)
	}
}

func TestChainAppendRecordVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)

		res, err := au.Verify(ctx)
		if err != nil || !res.OK || res.Checked != 0 || res.BrokenID != 0 {
			t.Fatalf("empty chain: %+v, %v", res, err)
		}

		p := &access.Principal{UserID: 7, Username: "alice", IP: "10.0.0.7"}
		e := audit.Event(p, "user.create", "user", "42", 3)
		e.Detail = "详情 with unicode"
		if err := au.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second + 1500*time.Nanosecond) // sub-microsecond part is truncated
		failed := audit.Event(nil, "auth.login", "user", "0", 0)
		failed.Success = false
		if err := au.Record(ctx, failed); err != nil {
			t.Fatal(err)
		}
		// Two appends in one transaction.
		err = db.Write(ctx, func(tx *sql.Tx) error {
			for _, a := range []string{"department.create", "department.update"} {
				if err := au.Append(ctx, tx, audit.Event(p, a, "department", "5", 3)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// An append in a transaction that rolls back leaves no trace.
		boom := fmt.Errorf("boom")
		err = db.Write(ctx, func(tx *sql.Tx) error {
			if err := au.Append(ctx, tx, audit.Event(p, "institution.update", "institution", "3", 3)); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("rolled-back write: %v", err)
		}
		// An entry without action is refused.
		if err := au.Record(ctx, audit.Entry{Actor: "x"}); err == nil {
			t.Fatal("entry without action accepted")
		}
		clk.Advance(time.Hour)
		record(t, au, "token.create", 3)

		res, err = au.Verify(ctx)
		if err != nil || !res.OK || res.Checked != 5 || res.BrokenID != 0 || res.Reason != "" {
			t.Fatalf("verify: %+v, %v", res, err)
		}
		es := all(t, au)
		if len(es) != 5 {
			t.Fatalf("entries: %d", len(es))
		}
		wantActions := []string{"user.create", "auth.login", "department.create", "department.update", "token.create"}
		for i, e := range es {
			if e.Action != wantActions[i] {
				t.Errorf("entry %d action %q, want %q", i, e.Action, wantActions[i])
			}
			if len(e.Hash) != 64 || e.Hash == e.PrevHash {
				t.Errorf("entry %d hash %q", i, e.Hash)
			}
			if i == 0 && e.PrevHash != genesis {
				t.Errorf("first prev_hash %q", e.PrevHash)
			}
			if i > 0 && e.PrevHash != es[i-1].Hash {
				t.Errorf("entry %d prev_hash does not link to entry %d", i, i-1)
			}
		}
		first := es[0]
		if first.ActorID != 7 || first.Actor != "alice" || first.IP != "10.0.0.7" || first.InstitutionID != 3 ||
			first.ObjectType != "user" || first.ObjectID != "42" || !first.Success || first.Detail != "详情 with unicode" {
			t.Errorf("round trip: %+v", first)
		}
		if !first.At.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("at = %v", first.At)
		}
		if es[1].Success || es[1].Actor != "" {
			t.Errorf("failed login entry: %+v", es[1])
		}
		if want := time.Date(2026, 3, 2, 9, 0, 1, 1000, time.UTC); !es[1].At.Equal(want) {
			t.Errorf("at = %v, want %v (microseconds)", es[1].At, want)
		}
	})
}

func TestAuditLogRefusesUpdates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		au := audit.New(db, newClock().Now)
		record(t, au, "user.create", 1)
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE audit_log SET actor = 'mallory'`)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("update of audit_log: %v", err)
		}
	})
}

func TestVerifyDetectsTampering(t *testing.T) {
	// Six entries; k is the 1-based position of the entry the attacker touches.
	cases := []struct {
		name       string
		tamper     func(t *testing.T, db *store.DB, es []audit.Entry)
		brokenPos  int // 1-based position of the first broken entry
		reasonPart string
	}{
		{"alter actor", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET actor = 'mallory' WHERE id = $1`, es[2].ID)
		}, 3, "altered"},
		{"alter detail", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET detail = 'nothing happened' WHERE id = $1`, es[3].ID)
		}, 4, "altered"},
		{"flip success", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET success = $1 WHERE id = $2`, false, es[1].ID)
		}, 2, "altered"},
		{"backdate", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET at = at - 1 WHERE id = $1`, es[4].ID)
		}, 5, "altered"},
		{"alter institution of last", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET institution_id = 99 WHERE id = $1`, es[5].ID)
		}, 6, "altered"},
		{"alter first", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET object_id = 'x' WHERE id = $1`, es[0].ID)
		}, 1, "altered"},
		{"rewrite hash to match edit", func(t *testing.T, db *store.DB, es []audit.Entry) {
			// The attacker edits entry 3 and replaces its hash with one that
			// hides nothing: the next entry's link breaks.
			exec(t, db, `UPDATE audit_log SET actor = 'mallory', hash = $1 WHERE id = $2`, strings.Repeat("a", 64), es[2].ID)
		}, 3, "altered"},
		{"alter prev_hash", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET prev_hash = $1 WHERE id = $2`, es[0].Hash, es[2].ID)
		}, 3, "removed or inserted"},
		{"two edits name the first", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `UPDATE audit_log SET actor = 'x' WHERE id = $1`, es[4].ID)
			exec(t, db, `UPDATE audit_log SET actor = 'y' WHERE id = $1`, es[1].ID)
		}, 2, "altered"},
		{"delete middle", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id = $1`, es[2].ID)
		}, 4, "removed"},
		{"delete two in the middle", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id IN ($1, $2)`, es[1].ID, es[2].ID)
		}, 4, "removed"},
		{"insert forged entry", func(t *testing.T, db *store.DB, es []audit.Entry) {
			exec(t, db, `INSERT INTO audit_log (at, action, success, prev_hash, hash) VALUES ($1, 'user.create', $2, $3, $4)`,
				store.Micros(es[5].At), true, genesis, strings.Repeat("b", 64))
		}, 7, "removed or inserted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				clk := newClock()
				au := audit.New(db, clk.Now)
				for i := range 6 {
					record(t, au, fmt.Sprintf("test.step%d", i), int64(i))
					clk.Advance(time.Minute)
				}
				es := all(t, au)
				if res, err := au.Verify(ctx); err != nil || !res.OK || res.Checked != 6 {
					t.Fatalf("before tampering: %+v %v", res, err)
				}
				dropUpdateTrigger(t, db)
				tc.tamper(t, db, es)
				res, err := au.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var wantID int64
				if tc.brokenPos <= len(es) {
					wantID = es[tc.brokenPos-1].ID
				} else {
					after := all(t, au)
					wantID = after[len(after)-1].ID
				}
				if res.OK || res.BrokenID != wantID || !strings.Contains(res.Reason, tc.reasonPart) {
					t.Fatalf("verify = %+v; want broken id %d with reason containing %q", res, wantID, tc.reasonPart)
				}
				// Checked counts entries read up to and including the broken one.
				var upTo int
				if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE id <= $1`, wantID).Scan(&upTo); err != nil {
					t.Fatal(err)
				}
				if res.Checked != upTo {
					t.Errorf("checked = %d, want %d", res.Checked, upTo)
				}
			})
		})
	}
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)
		for range 3 {
			record(t, au, "old.entry", 1)
		}
		clk.Advance(100 * 24 * time.Hour)
		record(t, au, "mid.entry", 1)
		record(t, au, "mid.entry", 1)
		clk.Advance(100 * 24 * time.Hour)
		record(t, au, "new.entry", 1)

		refused := []struct {
			name string
			p    *access.Principal
			keep time.Duration
			kind errs.Kind
			code string
		}{
			{"nil principal", nil, audit.MinRetention, errs.Forbidden, "admin_only"},
			{"quality", &access.Principal{UserID: 2, Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: 1}}}, audit.MinRetention, errs.Forbidden, "admin_only"},
			{"leadership", &access.Principal{UserID: 3, Roles: []access.Role{access.Leadership}}, 365 * 24 * time.Hour, errs.Forbidden, "admin_only"},
			{"keep just under six months", access.System(), audit.MinRetention - time.Second, errs.Invalid, "retention_too_short"},
			{"keep one day", access.System(), 24 * time.Hour, errs.Invalid, "retention_too_short"},
			{"keep zero", access.System(), 0, errs.Invalid, "retention_too_short"},
			{"keep negative", access.System(), -time.Hour, errs.Invalid, "retention_too_short"},
		}
		for _, tc := range refused {
			n, err := au.Prune(ctx, tc.p, tc.keep)
			if n != 0 || !errs.Is(err, tc.kind) || errs.CodeOf(err) != tc.code {
				t.Errorf("%s: prune = %d, %v; want %v %s", tc.name, n, err, tc.kind, tc.code)
			}
		}
		if got := countRows(t, db); got != 6 {
			t.Fatalf("refused prunes changed the log: %d rows", got)
		}

		// now = T0+200d; keeping 183 days cuts at T0+17d: the three old entries go.
		n, err := au.Prune(ctx, access.System(), audit.MinRetention)
		if err != nil || n != 3 {
			t.Fatalf("prune = %d, %v; want 3", n, err)
		}
		es := all(t, au)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, " "); got != "mid.entry mid.entry new.entry audit.prune" {
			t.Fatalf("after prune: %s", got)
		}
		if last := es[len(es)-1]; last.Actor != "system" || !strings.Contains(last.Detail, "removed=3") {
			t.Errorf("prune entry: %+v", last)
		}
		res, err := au.Verify(ctx)
		if err != nil || !res.OK || res.Checked != 4 {
			t.Fatalf("verify after prune: %+v, %v", res, err)
		}
		// Nothing older remains: a second prune removes nothing but is recorded.
		n, err = au.Prune(ctx, access.System(), audit.MinRetention)
		if err != nil || n != 0 {
			t.Fatalf("second prune = %d, %v", n, err)
		}
		if res, err := au.Verify(ctx); err != nil || !res.OK || res.Checked != 5 {
			t.Fatalf("verify after second prune: %+v, %v", res, err)
		}
		// Pruning everything leaves a chain that starts over and verifies.
		clk.Advance(400 * 24 * time.Hour)
		n, err = au.Prune(ctx, access.System(), audit.MinRetention)
		if err != nil || n != 5 {
			t.Fatalf("prune all = %d, %v", n, err)
		}
		if res, err := au.Verify(ctx); err != nil || !res.OK || res.Checked != 1 {
			t.Fatalf("verify after pruning all: %+v, %v", res, err)
		}
	})
}

// With clock skew (two instances, or the clock stepped back) "at" is not
// monotonic in id; pruning must still remove only a prefix of the chain.
func TestPruneWithSkewedClockKeepsChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)
		record(t, au, "a", 1) // T0
		clk.Advance(10 * 24 * time.Hour)
		record(t, au, "b", 1) // T0+10d
		clk.Advance(-20 * 24 * time.Hour)
		record(t, au, "c", 1) // T0-10d: older than b, but later in the chain
		clk.Advance(30 * 24 * time.Hour)
		record(t, au, "d", 1) // T0+20d
		// now T0+20d+168d: cutoff T0+5d. a and c are older; b is not.
		clk.Advance(audit.MinRetention - 15*24*time.Hour)
		n, err := au.Prune(ctx, access.System(), audit.MinRetention)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("pruned %d, want 1 (only the prefix before b)", n)
		}
		res, err := au.Verify(ctx)
		if err != nil || !res.OK {
			t.Fatalf("chain broken by prune: %+v, %v", res, err)
		}
	})
}

func TestListScopeAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)
		// institution 1: 3 entries, institution 2: 2 entries, none: 1 entry.
		for _, r := range []struct {
			action string
			inst   int64
		}{
			{"auth.login", 1}, {"user.create", 1}, {"auth.logout", 1},
			{"auth.login", 2}, {"institution.update", 2},
			{"auth.login", 0},
		} {
			record(t, au, r.action, r.inst)
			clk.Advance(time.Second)
		}
		role := func(r access.Role, gs ...access.Grant) *access.Principal {
			return &access.Principal{UserID: 9, Username: "u", Roles: []access.Role{r}, Grants: gs}
		}
		h1, h2 := access.Grant{InstitutionID: 1}, access.Grant{InstitutionID: 2}
		deptOfH1 := access.Grant{InstitutionID: 1, DepartmentID: 5}

		forbidden := map[string]*access.Principal{
			"nil":         nil,
			"nurse":       role(access.Nurse, h1),
			"doctor":      role(access.Doctor, h1),
			"agent":       role(access.Agent, h1),
			"dept head":   role(access.DeptHead, h1),
			"third party": role(access.ThirdParty, h1),
			"integration": role(access.Integration, h1),
		}
		for name, p := range forbidden {
			es, err := au.List(ctx, p, audit.Filter{})
			if !errs.Is(err, errs.Forbidden) || es != nil {
				t.Errorf("%s: list = %d entries, %v; want Forbidden", name, len(es), err)
			}
		}

		cases := []struct {
			name string
			p    *access.Principal
			f    audit.Filter
			want []int64 // institution of each entry, newest first
			kind errs.Kind
		}{
			{"admin sees all", access.System(), audit.Filter{}, []int64{0, 2, 2, 1, 1, 1}, 0},
			{"admin filters institution", access.System(), audit.Filter{InstitutionID: 2}, []int64{2, 2}, 0},
			{"quality of H1", role(access.Quality, h1), audit.Filter{}, []int64{1, 1, 1}, 0},
			{"quality of H1 asks for H1", role(access.Quality, h1), audit.Filter{InstitutionID: 1}, []int64{1, 1, 1}, 0},
			{"quality of H1 asks for H2", role(access.Quality, h1), audit.Filter{InstitutionID: 2}, nil, errs.Forbidden},
			{"leadership of H1 and H2", role(access.Leadership, h1, h2), audit.Filter{}, []int64{2, 2, 1, 1, 1}, 0},
			{"quality without scope", role(access.Quality), audit.Filter{}, nil, 0},
			{"quality of one department sees nothing", role(access.Quality, deptOfH1), audit.Filter{}, nil, 0},
			{"quality of one department asks for H1", role(access.Quality, deptOfH1), audit.Filter{InstitutionID: 1}, nil, errs.Forbidden},
			{"action prefix", access.System(), audit.Filter{Action: "auth."}, []int64{0, 2, 1, 1}, 0},
			{"action exact", access.System(), audit.Filter{Action: "auth.login"}, []int64{0, 2, 1}, 0},
			{"action prefix in scope", role(access.Quality, h1), audit.Filter{Action: "auth."}, []int64{1, 1}, 0},
			{"percent is not a wildcard", access.System(), audit.Filter{Action: "%.create"}, nil, 0},
			{"underscore is not a wildcard", access.System(), audit.Filter{Action: "auth_"}, nil, 0},
			{"prefix is case-sensitive", access.System(), audit.Filter{Action: "AUTH."}, nil, 0},
			{"no match", access.System(), audit.Filter{Action: "calendar."}, nil, 0},
			{"limit", access.System(), audit.Filter{Limit: 2}, []int64{0, 2}, 0},
		}
		for _, tc := range cases {
			es, err := au.List(ctx, tc.p, tc.f)
			if tc.kind != 0 {
				if !errs.Is(err, tc.kind) {
					t.Errorf("%s: err %v, want %v", tc.name, err, tc.kind)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.InstitutionID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: institutions %v, want %v", tc.name, got, tc.want)
			}
			for i := 1; i < len(es); i++ {
				if es[i].ID >= es[i-1].ID {
					t.Errorf("%s: not newest first", tc.name)
				}
			}
		}

		// Paging with BeforeID and filtering by actor.
		page1, err := au.List(ctx, access.System(), audit.Filter{Limit: 4})
		if err != nil || len(page1) != 4 {
			t.Fatalf("page 1: %d %v", len(page1), err)
		}
		page2, err := au.List(ctx, access.System(), audit.Filter{Limit: 4, BeforeID: page1[3].ID})
		if err != nil || len(page2) != 2 || page2[0].ID >= page1[3].ID {
			t.Fatalf("page 2: %d %v", len(page2), err)
		}
		if es, err := au.List(ctx, access.System(), audit.Filter{Actor: "system"}); err != nil || len(es) != 6 {
			t.Errorf("actor filter: %d %v", len(es), err)
		}
		if es, err := au.List(ctx, access.System(), audit.Filter{Actor: "nobody"}); err != nil || len(es) != 0 {
			t.Errorf("actor filter nobody: %d %v", len(es), err)
		}
	})
}
