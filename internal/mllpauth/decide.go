package mllpauth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
)

// Attempt is who sent a message and what its header says.
type Attempt struct {
	Remote   netip.Addr
	App      string // MSH-3.1
	Facility string // MSH-4.1 (PV1-3.4.1 when MSH-4 is empty): where the import would route it
	Event    string // MSH-9, for the audit detail
	Control  string // MSH-10, for the audit detail
}

// Why a message was refused; the MLLP handler maps it to the ERR location.
const (
	RefusedAddress     = "address"     // no entry covers the source address
	RefusedApp         = "app"         // MSH-3 matches no entry for the address
	RefusedFacility    = "facility"    // MSH-4 matches no entry for the address and application
	RefusedInstitution = "institution" // MSH-4 names another institution than the entry's
	RefusedAmbiguous   = "ambiguous"   // entries of several institutions match
)

// Decision is the answer for one message.
type Decision struct {
	Allowed bool
	// Refused says why not (one of the Refused* reasons).
	Refused string
	// InstitutionID and InstitutionCode bind the message: it may only
	// touch this institution. Zero on an open install (see Authorize).
	InstitutionID   int64
	InstitutionCode string
	SenderID        int64
}

// Principal is who an allowed message imports as: an integration identity
// scoped to the bound institution, so the importer's own scope check
// refuses a message that would route anywhere else. On an open install it
// is the system (the behaviour before the allow-list existed).
func (d Decision) Principal(remote string) *access.Principal {
	if d.InstitutionID == 0 {
		p := access.System()
		p.Username, p.IP = "mllp", remote
		return p
	}
	return &access.Principal{Username: fmt.Sprintf("mllp:%d", d.SenderID), Name: "HL7 MLLP", InstitutionID: d.InstitutionID,
		Roles: []access.Role{access.Integration}, Grants: []access.Grant{{InstitutionID: d.InstitutionID}}, IP: remote}
}

// Authorize decides on one message. With no entries at all (a fresh
// single-hospital install) only loopback senders are accepted and nothing
// binds them; the listener refuses to start on any other address in that
// state. Otherwise an entry must cover the source address, name the same
// application and facility when it names them, and the message's facility
// must not be the code of another institution. Entries of one institution
// may overlap; entries of two institutions matching one message are
// resolved by the facility naming one of them, else refused.
func (s *Service) Authorize(ctx context.Context, a Attempt) (Decision, error) {
	list, err := s.list(ctx, s.d.DB.R(), 0)
	if err != nil {
		return Decision{}, err
	}
	remote := a.Remote.Unmap()
	if len(list) == 0 {
		if remote.IsLoopback() {
			return Decision{Allowed: true}, nil
		}
		return Decision{Refused: RefusedAddress}, nil
	}
	var byAddr, byApp, byFac []Sender
	for _, snd := range list {
		if !snd.Prefix.Contains(remote) {
			continue
		}
		byAddr = append(byAddr, snd)
		if snd.App != "" && !strings.EqualFold(snd.App, strings.TrimSpace(a.App)) {
			continue
		}
		byApp = append(byApp, snd)
		if snd.Facility != "" && !strings.EqualFold(snd.Facility, strings.TrimSpace(a.Facility)) {
			continue
		}
		byFac = append(byFac, snd)
	}
	switch {
	case len(byAddr) == 0:
		return Decision{Refused: RefusedAddress}, nil
	case len(byApp) == 0:
		return Decision{Refused: RefusedApp}, nil
	case len(byFac) == 0:
		return Decision{Refused: RefusedFacility}, nil
	}
	// The facility may be another institution's code: that institution is
	// only reachable through an entry of its own.
	named := int64(0)
	if fac := strings.TrimSpace(a.Facility); fac != "" {
		inst, err := s.d.Org.InstitutionByCode(ctx, fac)
		switch {
		case err == nil:
			named = inst.ID
		case !errs.Is(err, errs.NotFound):
			return Decision{}, err
		}
	}
	var pick *Sender
	insts := map[int64]bool{}
	for i := range byFac {
		snd := &byFac[i]
		if named != 0 && snd.InstitutionID != named {
			continue
		}
		insts[snd.InstitutionID] = true
		if pick == nil {
			pick = snd
		}
	}
	switch {
	case pick == nil:
		return Decision{Refused: RefusedInstitution}, nil
	case len(insts) > 1:
		return Decision{Refused: RefusedAmbiguous}, nil
	}
	return Decision{Allowed: true, InstitutionID: pick.InstitutionID, InstitutionCode: pick.InstitutionCode, SenderID: pick.ID}, nil
}

// Refusal auditing: the first refusal from an address in a minute is an
// audit entry at once; the rest of that minute are counted and written as
// one entry when the minute is over (FlushRefusals, or the next refusal).
// At most maxWindows addresses are tracked; beyond that refusals pool
// under "*", so memory stays bounded too.
const (
	refusalWindow = time.Minute
	maxWindows    = 4096
	poolKey       = "*"
)

type window struct {
	start      time.Time
	suppressed int
	last       Attempt
	reason     string
}

// Refused records a refused message: audited at most once a minute per
// source address. It reports whether an audit entry was written now.
func (s *Service) Refused(ctx context.Context, a Attempt, reason string) (bool, error) {
	key := a.Remote.Unmap().String()
	now := s.d.Now()
	s.mu.Lock()
	if _, ok := s.windows[key]; !ok && len(s.windows) >= maxWindows {
		s.prune(now)
		if len(s.windows) >= maxWindows {
			key = poolKey
		}
	}
	w := s.windows[key]
	if w != nil && now.Sub(w.start) < refusalWindow {
		w.suppressed++
		w.last, w.reason = a, reason
		s.mu.Unlock()
		return false, nil
	}
	var earlier *window
	if w != nil && w.suppressed > 0 {
		earlier = w
	}
	s.windows[key] = &window{start: now}
	s.mu.Unlock()
	if earlier != nil {
		if err := s.auditCount(ctx, key, earlier); err != nil {
			return false, err
		}
	}
	e := audit.Event(nil, "mllp.refused", "mllp_sender", key, 0)
	e.Actor, e.IP, e.Success = "mllp", key, false
	e.Detail = detail(a, reason)
	if err := s.d.Audit.Record(ctx, e); err != nil {
		return false, fmt.Errorf("mllpauth: audit refusal: %w", err)
	}
	return true, nil
}

// FlushRefusals writes the counts of minutes that are over; the MLLP
// listener calls it every minute.
func (s *Service) FlushRefusals(ctx context.Context) error {
	now := s.d.Now()
	type due struct {
		key string
		w   *window
	}
	var out []due
	s.mu.Lock()
	for k, w := range s.windows {
		if now.Sub(w.start) >= refusalWindow {
			if w.suppressed > 0 {
				out = append(out, due{k, w})
			}
			delete(s.windows, k)
		}
	}
	s.mu.Unlock()
	for _, d := range out {
		if err := s.auditCount(ctx, d.key, d.w); err != nil {
			return err
		}
	}
	return nil
}

// prune drops finished windows that have nothing to report (under s.mu).
func (s *Service) prune(now time.Time) {
	for k, w := range s.windows {
		if now.Sub(w.start) >= refusalWindow && w.suppressed == 0 {
			delete(s.windows, k)
		}
	}
}

func (s *Service) auditCount(ctx context.Context, key string, w *window) error {
	e := audit.Event(nil, "mllp.refused", "mllp_sender", key, 0)
	e.Actor, e.IP, e.Success = "mllp", key, false
	e.Detail = fmt.Sprintf("%d more refused in the minute from %s; last: %s", w.suppressed,
		w.start.UTC().Format(time.RFC3339), detail(w.last, w.reason))
	if err := s.d.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("mllpauth: audit refusal count: %w", err)
	}
	return nil
}

// detail is the refusal in one line; the header values are the sender's
// text, so they are clipped and stripped of control characters.
func detail(a Attempt, reason string) string {
	return fmt.Sprintf("reason=%s app=%s facility=%s event=%s control=%s",
		reason, safe(a.App), safe(a.Facility), safe(a.Event), safe(a.Control))
}

func safe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return '_'
		}
		return r
	}, s)
	return clip(s, 40)
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
