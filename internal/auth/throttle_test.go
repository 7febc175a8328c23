package auth_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// One address walking through user names is stopped after the burst, before
// any hashing, with TooMany and a retry time; other addresses and good
// logins are not held back. On main every attempt hashed.
func TestLoginThrottledPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "gao.yan", []access.Role{access.Nurse})
		const scanner = "10.66.0.3"
		for i := range 10 {
			_, err := e.auth.Login(ctx, fmt.Sprintf("nurse%02d", i), "Aa123456", scanner, "curl/8.5")
			wantErr(t, "within the burst", err, errs.Unauthenticated, "bad_credentials")
		}
		hashed := e.auth.Gate().Stats().Done
		audited := len(e.entries(t, "auth.login"))
		_, err := e.auth.Login(ctx, "gao.yan", goodPW, scanner, "curl/8.5")
		wantErr(t, "after the burst", err, errs.TooMany, "login_throttled")
		if fe, _ := errs.As(err); fe == nil || fe.RetryAfter != 30*time.Second {
			t.Errorf("retry after %v, want 30s", fe)
		}
		if d := e.auth.Gate().Stats().Done - hashed; d != 0 {
			t.Errorf("a throttled attempt ran %d hashes", d)
		}
		if n := len(e.entries(t, "auth.login")); n != audited {
			t.Errorf("throttled attempts wrote %d audit entries", n-audited)
		}
		// Another address is not affected, and good logins never spend
		// the allowance.
		for range 15 {
			if _, err := e.auth.Login(ctx, "gao.yan", goodPW, "10.20.3.8", "Chrome"); err != nil {
				t.Fatalf("good login from another address: %v", err)
			}
		}
		e.clk.Advance(30 * time.Second)
		_, err = e.auth.Login(ctx, "gao.yan", goodPW, scanner, "")
		if err != nil {
			t.Fatalf("after the refill: %v", err)
		}
	})
}

// throttleEnv is setup with a gate of n slots and the given wait.
func throttleEnv(t *testing.T, db *store.DB, n int, wait time.Duration) *env {
	t.Helper()
	e := setup(t, db)
	pol := testPolicy()
	pol.Throttle.HashConcurrency, pol.Throttle.HashWait = n, wait
	var err error
	if e.auth, err = auth.New(auth.Deps{DB: db, Audit: e.audit, Now: e.clk.Now, Policy: pol}); err != nil {
		t.Fatal(err)
	}
	return e
}

// Concurrent bogus logins from many addresses never hash more at once than
// the gate has slots; those that find the queue full are sent away busy
// rather than waiting in an unbounded line.
func TestConcurrentLoginsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := throttleEnv(t, db, 2, time.Hour) // a waiter waits as long as it takes
		before := e.auth.Gate().Stats()
		var wg sync.WaitGroup
		var mu sync.Mutex
		refused := 0
		for i := range 40 {
			wg.Go(func() {
				// Names sprayed over unknown accounts: no lock can refuse
				// them early, so each is hashed or refused busy.
				_, err := e.auth.Login(ctx, fmt.Sprintf("guess%02d", i), "Wrong-pass1", fmt.Sprintf("10.77.%d.%d", i/8, i%8), "")
				switch errs.CodeOf(err) {
				case "bad_credentials":
				case "login_busy":
					mu.Lock()
					refused++
					mu.Unlock()
				default:
					t.Errorf("bogus login: %v", err)
				}
			})
		}
		wg.Wait()
		st := e.auth.Gate().Stats()
		if st.Slots != 2 || st.Peak > 2 || st.Peak < 1 {
			t.Fatalf("gate %+v: want 2 slots, at most 2 at once", st)
		}
		if int(st.Done-before.Done)+refused != 40 || int(st.Refused-before.Refused) != refused {
			t.Fatalf("gate %+v, %d refused: every attempt either hashed or refused", st, refused)
		}
		// Refusals cost nothing: the audit log has only the hashed ones.
		if n := len(e.entries(t, "auth.login")); n != int(st.Done-before.Done) {
			t.Errorf("%d audit entries for %d checked attempts", n, st.Done-before.Done)
		}
	})
}

// With every slot taken and no wait allowed, logins are refused at once
// with TooMany; nothing is counted against the account or the address, and
// the right password works once a slot frees up.
func TestLoginBusyWhenGateFull(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := throttleEnv(t, db, 1, 0)
		e.user(t, "xu.qing", []access.Role{access.Nurse})
		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() {
			done <- e.auth.Gate().Run(ctx, func() { close(held); <-release })
		}()
		<-held
		for i := range 12 { // more than the address burst: busy refusals do not spend it
			_, err := e.auth.Login(ctx, "xu.qing", "Wrong-pass1", "10.8.8.8", "")
			wantErr(t, fmt.Sprintf("busy %d", i), err, errs.TooMany, "login_busy")
			if fe, _ := errs.As(err); fe == nil || fe.RetryAfter <= 0 {
				t.Fatalf("busy without a retry time: %v", err)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM login_failures`); n != 0 {
			t.Errorf("%d failure rows from unchecked attempts", n)
		}
		if st := e.auth.Gate().Stats(); st.Refused != 12 {
			t.Errorf("refused %d, want 12", st.Refused)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.Login(ctx, "xu.qing", goodPW, "10.8.8.8", ""); err != nil {
			t.Fatalf("after the slot freed: %v", err)
		}
	})
}

func TestHashSlots(t *testing.T) {
	for _, c := range []struct {
		budget int64
		mem    uint32
		cores  int
		want   int
	}{
		{256 << 20, 64 * 1024, 2, 2},  // cores bind
		{256 << 20, 64 * 1024, 16, 4}, // memory binds
		{32 << 20, 64 * 1024, 8, 1},   // never below one
		{1 << 30, 19 * 1024, 64, 53},
	} {
		if got := auth.HashSlots(c.budget, c.mem, c.cores); got != c.want {
			t.Errorf("HashSlots(%d MiB, %d KiB, %d cores) = %d, want %d", c.budget>>20, c.mem, c.cores, got, c.want)
		}
	}
}

// With the open hashing slots taken by a flood, a login from the address
// the account last logged in from still gets the reserved slot; the same
// password from a new address waits its turn like everyone else.
func TestKnownAddressKeepsAReservedSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := throttleEnv(t, db, 2, 0) // one open slot, one reserved; no waiting
		e.user(t, "jiang.hua", []access.Role{access.Nurse})
		const ward = "10.20.3.41"
		if _, err := e.auth.Login(ctx, "jiang.hua", goodPW, ward, ""); err != nil {
			t.Fatal(err)
		}
		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() { done <- e.auth.Gate().Run(ctx, func() { close(held); <-release }) }()
		<-held
		_, err := e.auth.Login(ctx, "jiang.hua", "Wrong-pass1", "172.16.0.9", "")
		wantErr(t, "flood attempt", err, errs.TooMany, "login_busy")
		_, err = e.auth.Login(ctx, "jiang.hua", goodPW, "10.20.3.99", "")
		wantErr(t, "right password from a new address", err, errs.TooMany, "login_busy")
		if _, err := e.auth.Login(ctx, "jiang.hua", goodPW, ward, ""); err != nil {
			t.Fatalf("nurse at her workstation while the open slot is taken: %v", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
