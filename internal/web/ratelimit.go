package web

import (
	"math"
	"sync"
	"time"
)

// limiter is a per-address token bucket: each address may make burst
// requests at once and then one every per. It lives in this process's
// memory, so with several instances behind a load balancer each counts on
// its own (the limit per address is then up to n times higher); that is
// enough to stop one phone or script hammering the patient pages.
type limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	burst   float64
	per     time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the memory a flood of addresses can take; full buckets
// (idle addresses) are dropped first when it is reached.
const maxBuckets = 50000

func newLimiter(now func() time.Time, burst int, per time.Duration) *limiter {
	return &limiter{now: now, burst: float64(burst), per: per, buckets: map[string]*bucket{}}
}

// allow takes one token for addr and reports whether there was one, and if
// not, how long until there is.
func (l *limiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[addr] = b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(el)/float64(l.per))
		b.at = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.per))
	}
	b.tokens--
	return true, 0
}

func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst * float64(l.per))
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets { // all busy: start over rather than grow
		clear(l.buckets)
	}
}
