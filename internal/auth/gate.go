package auth

import (
	"context"
	"runtime"
	"sync"
	"time"

	"suifang/internal/errs"
)

// Gate bounds how many argon2id computations run at once. Each one holds
// HashParams.Memory (64 MiB by default), so without a bound a flood of
// bogus logins takes the server's memory and starves real logins. A caller
// that gets no slot within the wait, or finds the queue full, is refused
// with TooMany instead of queueing for ever.
//
// With two slots or more, one is kept for priority callers: a login from
// an address the account last logged in from, and password work by
// someone already logged in. A flood from elsewhere then slows itself
// but cannot keep the nurse at her usual workstation out.
type Gate struct {
	slots    chan struct{} // any caller
	reserved chan struct{} // priority callers only (nil with one slot)
	wait     time.Duration
	maxQueue int
	// after is time.After; tests pass a channel they fire themselves.
	after func(time.Duration) <-chan time.Time

	mu      sync.Mutex
	queued  int
	running int
	stats   GateStats
}

// GateStats counts what the gate did since start (for metrics and tests).
type GateStats struct {
	Slots   int
	Peak    int   // most computations that ever ran at once
	Done    int64 // computations run
	Refused int64 // callers sent away busy
}

// errBusy is what a caller without a slot gets; a second is about one
// hash on a small server.
var errBusy = errs.Throttled("login_busy", "the server is busy checking passwords; try again in a moment", 2*time.Second)

// NewGate returns a gate with n slots in all (at least 1), one of them
// reserved for priority callers when n ≥ 2. A caller waits at most wait
// for a slot, and at most maxQueue callers wait at once.
func NewGate(n int, wait time.Duration, maxQueue int) *Gate {
	n = max(n, 1)
	g := &Gate{wait: wait, maxQueue: max(maxQueue, 0), after: time.After, stats: GateStats{Slots: n}}
	if n >= 2 {
		g.slots, g.reserved = make(chan struct{}, n-1), make(chan struct{}, 1)
	} else {
		g.slots = make(chan struct{}, 1)
	}
	return g
}

// HashSlots sizes the gate from a memory budget: as many hashes as fit in
// budget bytes at memKiB each, but no more than there are cores (argon2 is
// CPU-bound, more at once only makes each slower) and at least one.
func HashSlots(budget int64, memKiB uint32, cores int) int {
	per := int64(memKiB) * 1024
	if per <= 0 {
		return max(cores, 1)
	}
	return max(1, min(cores, int(budget/per)))
}

// DefaultHashSlots is HashSlots on this machine's cores.
func DefaultHashSlots(budget int64, memKiB uint32) int {
	return HashSlots(budget, memKiB, runtime.NumCPU())
}

// Run calls f holding a slot, or returns a TooMany error when none frees up
// in time, or ctx's error when the caller gives up first.
func (g *Gate) Run(ctx context.Context, f func()) error { return g.run(ctx, false, f) }

// RunPriority is Run for a priority caller, which may also take the
// reserved slot.
func (g *Gate) RunPriority(ctx context.Context, f func()) error { return g.run(ctx, true, f) }

func (g *Gate) run(ctx context.Context, prio bool, f func()) error {
	release, err := g.acquire(ctx, prio)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.running++
	g.stats.Peak = max(g.stats.Peak, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.stats.Done++
		g.mu.Unlock()
		release()
	}()
	f()
	return nil
}

// acquire takes a slot and returns what gives it back. The reserved
// channel is nil for ordinary callers, and a nil channel never receives.
func (g *Gate) acquire(ctx context.Context, prio bool) (func(), error) {
	var reserved chan struct{}
	if prio {
		reserved = g.reserved
	}
	free := func(c chan struct{}) func() { return func() { <-c } }
	select {
	case g.slots <- struct{}{}:
		return free(g.slots), nil
	case reserved <- struct{}{}:
		return free(reserved), nil
	default:
	}
	g.mu.Lock()
	if g.wait <= 0 || g.queued >= g.maxQueue {
		g.stats.Refused++
		g.mu.Unlock()
		return nil, errBusy
	}
	g.queued++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.queued--
		g.mu.Unlock()
	}()
	timeout := g.after(g.wait)
	select {
	case g.slots <- struct{}{}:
		return free(g.slots), nil
	case reserved <- struct{}{}:
		return free(reserved), nil
	case <-timeout:
		g.mu.Lock()
		g.stats.Refused++
		g.mu.Unlock()
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stats returns the gate's counters.
func (g *Gate) Stats() GateStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}
