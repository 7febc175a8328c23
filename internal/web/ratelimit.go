package web

import (
	"time"

	"suifang/internal/ratelimit"
)

// limiter is the per-address token bucket of the patient and public pages
// (see internal/ratelimit, which the login throttle shares).
type limiter struct{ l *ratelimit.Limiter }

func newLimiter(now func() time.Time, burst int, per time.Duration) *limiter {
	return &limiter{l: ratelimit.New(now, burst, per)}
}

// allow takes one token for addr and reports whether there was one, and if
// not, how long until there is.
func (l *limiter) allow(addr string) (bool, time.Duration) { return l.l.Allow(addr) }
