package notify

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Provider names.
const (
	ProviderLog     = "log"
	ProviderWebhook = "webhook"
	ProviderSMTP    = "smtp"
)

// Policy is how the outbox delivers: retries, worker sizing, quiet hours and
// which provider carries each channel.
type Policy struct {
	MaxAttempts int           // attempts before a message is dead
	Backoff     time.Duration // wait after the first failure; doubles each time
	MaxBackoff  time.Duration
	// Lease is how long a worker owns the rows it claimed. A crashed
	// instance's claims are picked up by others once it runs out, so it must
	// comfortably exceed the time to send one batch.
	Lease       time.Duration
	Batch       int           // rows claimed at once
	Concurrency int           // messages in flight per instance
	Poll        time.Duration // wait between claims when the outbox is idle
	Quiet       QuietHours
	// Routes maps a channel to a provider name; a channel not named goes to
	// the log provider.
	Routes  map[string]string
	Webhook WebhookConfig
	SMTP    SMTPConfig
	// Caps limit the verification codes strangers can have sent.
	Caps Caps
	// Instance names this process in attempts and claims ("" = host:pid).
	Instance string
}

// DefaultPolicy is the documented default: the log provider for everything,
// 8 attempts, quiet hours 21:00–08:00.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: 8, Backoff: 30 * time.Second, MaxBackoff: time.Hour, Lease: 2 * time.Minute,
		Batch: 100, Concurrency: 8, Poll: time.Second, Quiet: QuietHours{Start: 21 * 60, End: 8 * 60},
		Webhook: WebhookConfig{Timeout: 10 * time.Second}, SMTP: SMTPConfig{Timeout: 30 * time.Second}, Caps: DefaultCaps()}
}

// backoff is the wait before attempt n+1 after n failed attempts:
// exponential, capped, with jitter over its upper half so a burst of
// failures (the SMS platform was down) does not retry in lock-step.
func (p Policy) backoff(n int) time.Duration {
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// QuietHours is a daily window, in the institution's local time, in which
// no patient message goes out. Start == End means no quiet hours.
type QuietHours struct {
	Start, End int // minutes after midnight
}

// Off reports whether there is no window.
func (q QuietHours) Off() bool { return q.Start == q.End }

// In reports whether local time t falls in the window.
func (q QuietHours) In(t time.Time) bool {
	if q.Off() {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if q.Start < q.End {
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End // across midnight
}

// Opens returns when the window that t is in ends (t itself when t is
// outside it), in t's location.
func (q QuietHours) Opens(t time.Time) time.Time {
	if !q.In(t) {
		return t
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	end := day.Add(time.Duration(q.End) * time.Minute)
	if !end.After(t) {
		end = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location()).Add(time.Duration(q.End) * time.Minute)
	}
	return end
}

func (q QuietHours) String() string {
	if q.Off() {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// ParseQuietHours reads "21:00-08:00", or "off" for none.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return QuietHours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM or off", s)
	}
	start, err := parseClock(a)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	if start == end {
		return QuietHours{}, fmt.Errorf("quiet hours %q: start and end are the same (write off for none)", s)
	}
	return QuietHours{Start: start, End: end}, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return hh*60 + mm, nil
}

// ParseRoutes reads the --notify-provider value: one provider for every
// channel ("webhook"), or a list "sms=webhook,email=smtp,*=log" where *
// names the rest. InApp never leaves the server and cannot be routed.
func ParseRoutes(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	valid := func(p string) bool { return slices.Contains([]string{ProviderLog, ProviderWebhook, ProviderSMTP}, p) }
	if !strings.ContainsAny(s, "=,") {
		if !valid(s) {
			return nil, fmt.Errorf("unknown provider %q (log, webhook or smtp)", s)
		}
		for _, ch := range []string{SMS, WeChat, Email, Webhook} {
			out[ch] = s
		}
		return routesOK(out)
	}
	rest := ""
	for item := range strings.SplitSeq(s, ",") {
		ch, p, ok := strings.Cut(strings.TrimSpace(item), "=")
		ch, p = strings.TrimSpace(ch), strings.TrimSpace(p)
		if !ok || !valid(p) {
			return nil, fmt.Errorf("%q: want channel=provider with provider log, webhook or smtp", item)
		}
		switch {
		case ch == "*":
			rest = p
		case slices.Contains([]string{SMS, WeChat, Email, Webhook}, ch):
			if _, dup := out[ch]; dup {
				return nil, fmt.Errorf("channel %s is routed twice", ch)
			}
			out[ch] = p
		default:
			return nil, fmt.Errorf("%q: unknown channel %q (sms, wechat, email, webhook or *)", item, ch)
		}
	}
	if rest != "" {
		for _, ch := range []string{SMS, WeChat, Email, Webhook} {
			if _, ok := out[ch]; !ok {
				out[ch] = rest
			}
		}
	}
	return routesOK(out)
}

// routesOK refuses the one pairing that cannot work: SMTP can only carry
// e-mail.
func routesOK(r map[string]string) (map[string]string, error) {
	for ch, p := range r {
		if p == ProviderSMTP && ch != Email {
			return nil, fmt.Errorf("smtp can carry only the email channel, not %s", ch)
		}
	}
	return r, nil
}
