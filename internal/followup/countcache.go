package followup

import (
	"sync"
	"time"
)

// overflowCache remembers which tab counts overflowed CountCap. Counting
// up to the cap still reads a thousand index entries per tab on every page
// view; a count past the cap shows "1000+", which a few writes do not
// change, so it is reused for a short while. Counts under the cap are
// always fresh, so a claim or a record shows at once. The cache is per
// instance and only ever says "more than CountCap".
type overflowCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	expires map[string]time.Time
}

const overflowTTL = 30 * time.Second

func newOverflowCache(ttl time.Duration) *overflowCache {
	return &overflowCache{ttl: ttl, expires: map[string]time.Time{}}
}

// overflows reports whether key's count overflowed less than ttl ago.
func (c *overflowCache) overflows(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.expires[key]
	if ok && now.Before(exp) {
		return true
	}
	if ok {
		delete(c.expires, key)
	}
	return false
}

// remember records that key's count overflowed at now.
func (c *overflowCache) remember(key string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.expires) >= 4096 {
		// Bounded: drop what has expired, or everything if nothing has.
		for k, exp := range c.expires {
			if !now.Before(exp) {
				delete(c.expires, k)
			}
		}
		if len(c.expires) >= 4096 {
			clear(c.expires)
		}
	}
	c.expires[key] = now.Add(c.ttl)
}
