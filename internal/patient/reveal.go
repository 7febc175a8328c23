package patient

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/store"
)

// RevealLimits caps how many full values (ID number, phone, address) one
// caller may reveal in a fixed window: a person at work reveals a number
// for a call or a form, never two hundred in three seconds. Counts live in
// the database so the cap holds across instances.
type RevealLimits struct {
	Window      time.Duration // default one hour
	Staff       int           // hospital staff per window (default 120)
	Agency      int           // an outside agency per window (default 40)
	Integration int           // an API token per window (default 1000)
}

// DefaultRevealLimits are the limits when none are configured.
func DefaultRevealLimits() RevealLimits {
	return RevealLimits{Window: time.Hour, Staff: 120, Agency: 40, Integration: 1000}
}

func (l RevealLimits) withDefaults() RevealLimits {
	d := DefaultRevealLimits()
	if l.Window <= 0 {
		l.Window = d.Window
	}
	if l.Staff <= 0 {
		l.Staff = d.Staff
	}
	if l.Agency <= 0 {
		l.Agency = d.Agency
	}
	if l.Integration <= 0 {
		l.Integration = d.Integration
	}
	return l
}

// of is p's cap per window.
func (l RevealLimits) of(p *access.Principal) int {
	switch {
	case p.Agency():
		return l.Agency
	case p.Has(access.Integration):
		return l.Integration
	default:
		return l.Staff
	}
}

// Outbox queues the alert to quality; notify.Service satisfies it.
type Outbox interface {
	Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// SetRevealLimits sets the caps and the outbox that alerts quality when a
// caller goes over (nil: no alert, the cap still holds).
func (s *Service) SetRevealLimits(l RevealLimits, o Outbox) {
	s.reveals, s.outbox = l.withDefaults(), o
}

// revealActor keys the count: the user, or the token's name (API tokens
// carry no user id).
func revealActor(p *access.Principal) string {
	if p.UserID != 0 {
		return "u:" + strconv.FormatInt(p.UserID, 10)
	}
	return "n:" + p.Username
}

// countReveal counts one reveal by p in tx and reports whether p is over
// the cap. The first reveal over it in a window alerts quality of inst, in
// tx; later ones do not (once per window).
func (s *Service) countReveal(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (bool, error) {
	l := s.reveals.withDefaults()
	now := s.now()
	start := now.Truncate(l.Window)
	actor := revealActor(p)
	// Earlier windows of this caller are no longer needed.
	if _, err := tx.ExecContext(ctx, `DELETE FROM reveal_windows WHERE actor = $1 AND window_start < $2`,
		actor, store.Micros(start)); err != nil {
		return false, fmt.Errorf("patient: reveal count: %w", err)
	}
	var n int
	var alerted bool
	err := tx.QueryRowContext(ctx, `INSERT INTO reveal_windows (actor, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (actor, window_start) DO UPDATE SET count = reveal_windows.count + 1
		RETURNING count, alerted`, actor, store.Micros(start)).Scan(&n, &alerted)
	if err != nil {
		return false, fmt.Errorf("patient: reveal count: %w", err)
	}
	limit := l.of(p)
	if n <= limit {
		return false, nil
	}
	if !alerted {
		if _, err := tx.ExecContext(ctx, `UPDATE reveal_windows SET alerted = $1 WHERE actor = $2 AND window_start = $3`,
			true, actor, store.Micros(start)); err != nil {
			return false, fmt.Errorf("patient: reveal alert: %w", err)
		}
		if err := s.alertQuality(ctx, tx, p, inst, n, l.Window, start); err != nil {
			return false, err
		}
	}
	return true, nil
}

// alertQuality tells the quality staff of inst in-app that p went over the
// cap: the user name and the count, no patient.
func (s *Service) alertQuality(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64, n int, window time.Duration, start time.Time) error {
	if s.outbox == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = $1
		JOIN user_scopes sc ON sc.user_id = u.id WHERE u.active = $2 AND sc.department_id = 0
		AND (sc.institution_id = $3 OR sc.institution_id = (SELECT COALESCE(parent_id, 0) FROM institutions WHERE id = $3))
		ORDER BY u.id`, string(access.Quality), true, inst)
	if err != nil {
		return fmt.Errorf("patient: quality staff: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("patient: quality staff: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("patient: quality staff: %w", err)
	}
	who := p.Username
	if p.Name != "" && p.Name != p.Username {
		who = p.Name + "（" + p.Username + "）"
	}
	for _, q := range ids {
		m := notify.Message{InstitutionID: inst, Channel: notify.InApp, Template: "patient.reveal_limit", To: strconv.FormatInt(q, 10),
			Ref: "reveal_limit:" + revealActor(p), Params: map[string]string{"user": who, "count": strconv.Itoa(n), "window": windowText(window)},
			IdempotencyKey: fmt.Sprintf("reveal_limit:%s:%d:%d", revealActor(p), store.Micros(start), q)}
		_, err := s.outbox.Enqueue(ctx, tx, m)
		if errs.Is(err, errs.Invalid) {
			// The content guard refused the name (a display name may look
			// like a sensitive department): name the account by its key.
			m.Params["user"] = revealActor(p)
			_, err = s.outbox.Enqueue(ctx, tx, m)
		}
		if err != nil {
			return fmt.Errorf("patient: reveal alert: %w", err)
		}
	}
	return nil
}

// CountReveal counts, in tx, one reveal by p of a full value another room
// keeps (a complainant's contact) under the same cap. refusal is non-nil
// when p is over it: the caller commits tx (keeping the count and the
// alert) and answers with refusal instead of the value.
func (s *Service) CountReveal(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (refusal, err error) {
	over, err := s.countReveal(ctx, tx, p, inst)
	if err != nil || !over {
		return nil, err
	}
	return s.errRevealLimit(p), nil
}

// windowText says a window the way the alert reads it: 1小时, 30分钟.
func windowText(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "小时"
	}
	return strconv.Itoa(int(d/time.Minute)) + "分钟"
}

// errRevealLimit is the refusal past the cap.
func (s *Service) errRevealLimit(p *access.Principal) error {
	l := s.reveals.withDefaults()
	return errs.New(errs.Forbidden, "reveal_limit",
		fmt.Sprintf("you have reached the limit of %d full values per %s; quality has been told", l.of(p), l.Window))
}
