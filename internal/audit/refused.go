package audit

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"suifang/internal/access"
)

// RefusalEvery bounds refusal entries: at most one per user and route in
// this span, the next one carrying how many were held back, so a script
// hammering a forbidden URL cannot flood the log.
const RefusalEvery = time.Minute

// maxRefusalKeys bounds the memory the cap itself takes.
const maxRefusalKeys = 10000

type refusal struct {
	since time.Time // when the entry of this span was written
	held  int       // refusals since then not written
}

// refusals is the per-instance cap; each instance writes at most one entry
// per key and span, which is the point (the log stays readable).
type refusals struct {
	mu   sync.Mutex
	seen map[string]*refusal
}

// Refused records that the service refused p (Forbidden) on route (the
// matched pattern, e.g. "GET /complaints/{id}"): who, the kind of resource
// and its id as the route names them, and the error code. Both adapters
// call it from their one error path, so no handler can forget it.
func (s *Service) Refused(ctx context.Context, p *access.Principal, r *http.Request, code string) error {
	if p == nil || r == nil {
		return nil
	}
	route := r.Pattern
	if route == "" {
		route = r.Method + " " + r.URL.Path
	}
	actor := p.Username
	if p.UserID != 0 {
		actor = fmt.Sprint(p.UserID)
	}
	key := actor + "\x00" + route
	now := s.now()
	s.refused.mu.Lock()
	if s.refused.seen == nil {
		s.refused.seen = map[string]*refusal{}
	}
	f := s.refused.seen[key]
	if f != nil && now.Sub(f.since) < RefusalEvery {
		f.held++
		s.refused.mu.Unlock()
		return nil
	}
	held := 0
	if f != nil {
		held = f.held
	}
	if len(s.refused.seen) >= maxRefusalKeys {
		for k, v := range s.refused.seen {
			if now.Sub(v.since) >= RefusalEvery {
				delete(s.refused.seen, k)
			}
		}
	}
	s.refused.seen[key] = &refusal{since: now}
	s.refused.mu.Unlock()

	kind, id := resourceOf(r)
	e := Event(p, "access.refused", kind, id, p.InstitutionID)
	e.Success = false
	e.Detail = "route=" + route + " code=" + code
	if held > 0 {
		e.Detail += fmt.Sprintf(" held_back=%d", held)
	}
	return s.Record(ctx, e)
}

// resourceOf names what a route is about: the first segment after any
// /api/v1 prefix ("complaints", "patients") and the route's {id}.
func resourceOf(r *http.Request) (kind, id string) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	kind, _, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if len(kind) > 40 {
		kind = kind[:40]
	}
	id = r.PathValue("id")
	if len(id) > 40 {
		id = id[:40]
	}
	return kind, id
}
