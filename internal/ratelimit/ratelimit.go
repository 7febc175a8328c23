// Package ratelimit is an in-memory token bucket per key (a client address,
// usually). It lives in one process's memory, so with several instances
// behind a load balancer each counts on its own (the limit per key is then
// up to n times higher); that is enough to stop one phone or script
// hammering a page, and keeps the check free of database writes.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter lets each key take burst tokens at once and then one every per.
type Limiter struct {
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

// maxBuckets bounds the memory a flood of keys can take; full buckets
// (idle keys) are dropped first when it is reached.
const maxBuckets = 50000

// New returns a limiter on clock now. A burst below 1 is taken as 1.
func New(now func() time.Time, burst int, per time.Duration) *Limiter {
	return &Limiter{now: now, burst: float64(max(burst, 1)), per: per, buckets: map[string]*bucket{}}
}

// Allow takes one token for key and reports whether there was one, and if
// not, how long until there is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.per))
	}
	b.tokens--
	return true, 0
}

// Refund gives back a token taken by Allow, for an attempt that turned out
// not to count (a successful login, a request refused for another reason).
func (l *Limiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key)
	b.tokens = math.Min(l.burst, b.tokens+1)
}

// fill returns key's bucket topped up to now; the caller holds mu.
func (l *Limiter) fill(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(el)/float64(l.per))
		b.at = now
	}
	return b
}

func (l *Limiter) sweep(now time.Time) {
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
