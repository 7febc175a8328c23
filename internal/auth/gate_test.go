package auth

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"suifang/internal/errs"
)

// The wait for a slot is timed by an injected timer, and the queue is
// bounded: a caller past the queue is refused at once.
func TestGateWaitAndQueue(t *testing.T) {
	g := NewGate(1, time.Second, 2)
	fire := make(chan time.Time)
	var asked []time.Duration
	var mu sync.Mutex
	g.after = func(d time.Duration) <-chan time.Time {
		mu.Lock()
		asked = append(asked, d)
		mu.Unlock()
		return fire
	}
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	go g.Run(ctx, func() { close(held); <-release })
	<-held

	results := make(chan error, 2)
	for range 2 {
		go func() { results <- g.Run(ctx, func() { t.Error("a waiter ran while the slot was held") }) }()
	}
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.queued == 2 })
	if err := g.Run(ctx, func() { t.Error("ran past a full queue") }); errs.CodeOf(err) != "login_busy" {
		t.Fatalf("third waiter: %v", err)
	}
	close(fire) // both waits time out
	for range 2 {
		if err := <-results; errs.KindOf(err) != errs.TooMany {
			t.Fatalf("timed-out waiter: %v", err)
		}
	}
	mu.Lock()
	if len(asked) != 2 || asked[0] != time.Second {
		t.Errorf("timer asked for %v", asked)
	}
	mu.Unlock()
	if st := g.Stats(); st.Refused != 3 || st.Done != 0 {
		t.Errorf("stats %+v", st)
	}
	close(release)
	waitFor(t, func() bool { return g.Stats().Done == 1 })
	ran := false
	if err := g.Run(ctx, func() { ran = true }); err != nil || !ran {
		t.Fatalf("free slot: %v", err)
	}

	// A waiter whose request ends gives up with the context's error.
	g2 := NewGate(1, time.Second, 4)
	g2.after = func(time.Duration) <-chan time.Time { return nil }
	held2, release2 := make(chan struct{}), make(chan struct{})
	go g2.Run(ctx, func() { close(held2); <-release2 })
	<-held2
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := g2.Run(cctx, func() {}); err != context.Canceled {
		t.Errorf("cancelled waiter: %v", err)
	}
	close(release2)
}

// waitFor spins until cond holds: the goroutines it waits for need no
// time to pass, only to be scheduled.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 1e7 {
			t.Fatal("condition never held")
		}
		runtime.Gosched()
	}
}
