package e2e

import (
	"net/http"
	"sync"
	"testing"

	"suifang/internal/app"
	"suifang/internal/store/storetest"
)

// Two instances on one PostgreSQL database: they start (and migrate)
// together, a session made on one works on the other, a lockout counted on
// both locks, and the audit chain they append to together still verifies.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	dsn := storetest.NewPostgresDSN(t)
	var a, b *server
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = startOn(t, dsn, false) }()
	go func() { defer wg.Done(); b = startOn(t, dsn, false) }()
	wg.Wait()
	if a == nil || b == nil {
		t.Fatal("an instance failed to start")
	}
	if _, err := a.App.SeedDemo(t.Context()); err != nil {
		t.Fatal(err)
	}

	ca := a.client(t)
	if r := ca.login("admin", app.DemoPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("login on A = %d", r.Status)
	}
	// The same cookie jar, pointed at B.
	cb := &client{t: t, s: b, jar: ca.jar, hc: ca.hc}
	for _, ck := range ca.jar.Cookies(mustURL(a.URL)) {
		cb.jar.SetCookies(mustURL(b.URL), []*http.Cookie{ck})
	}
	if r := cb.get("/"); r.Status != 200 {
		t.Fatalf("session from A on B = %d", r.Status)
	}

	// Failed logins alternate between instances; the fifth locks.
	for i := 0; i < 5; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		s.client(t).login("doctor", "Wrong#Passw0rd")
	}
	if r := b.client(t).login("doctor", app.DemoPassword); r.Status == http.StatusSeeOther {
		t.Fatal("doctor not locked after five failures spread over two instances")
	}

	// Concurrent audited writes from both instances keep one unbroken chain.
	var wg2 sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			s.client(t).login("agent", "Wrong#Passw0rd"+string(rune('a'+i)))
		}()
	}
	wg2.Wait()
	res, err := a.App.Audit.Verify(t.Context())
	if err != nil || !res.OK {
		t.Fatalf("audit chain after concurrent appends: %+v %v", res, err)
	}
	if res.Checked < 30 {
		t.Fatalf("only %d audit entries", res.Checked)
	}
}
