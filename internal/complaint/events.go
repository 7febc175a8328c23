package complaint

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"suifang/internal/chain"
	"time"

	"suifang/internal/access"
	"suifang/internal/store"
)

// Event is one step of a complaint's history.
type Event struct {
	ID            int64
	InstitutionID int64
	ComplaintID   int64
	At            time.Time
	UserID        int64
	Actor         string
	Action        string
	From, To      string
	Detail        string
	PrevHash      string
	Hash          string
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// appendEvent links an event into the institution's chain. The caller
// holds the chain lock.
func (s *Service) appendEvent(ctx context.Context, tx *sql.Tx, p *access.Principal, c *Complaint, action, from, to, detail string) error {
	if p == nil {
		p = access.System()
	}
	ev := &Event{InstitutionID: c.InstitutionID, ComplaintID: c.ID, At: s.now().UTC().Truncate(time.Microsecond), UserID: p.UserID,
		Actor: p.Username, Action: action, From: from, To: to, Detail: detail, PrevHash: genesis}
	err := tx.QueryRowContext(ctx, `SELECT hash FROM complaint_events WHERE institution_id = $1 ORDER BY id DESC LIMIT 1`, c.InstitutionID).Scan(&ev.PrevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("complaint: chain head: %w", err)
	}
	ev.Hash = eventHash(ev)
	if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_events (institution_id, complaint_id, at, user_id, actor, action, from_status,
		to_status, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, ev.InstitutionID, ev.ComplaintID,
		store.Micros(ev.At), ev.UserID, ev.Actor, ev.Action, ev.From, ev.To, ev.Detail, ev.PrevHash, ev.Hash); err != nil {
		return fmt.Errorf("complaint: store event: %w", err)
	}
	return nil
}

// eventHash covers every stored field and the previous hash, each
// length-prefixed so no two different events share an encoding.
func eventHash(e *Event) string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, strconv.FormatInt(e.InstitutionID, 10), strconv.FormatInt(e.ComplaintID, 10),
		strconv.FormatInt(store.Micros(e.At), 10), strconv.FormatInt(e.UserID, 10), e.Actor, e.Action, e.From, e.To, e.Detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

const eventCols = `id, institution_id, complaint_id, at, user_id, actor, action, from_status, to_status, detail, prev_hash, hash`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	e := &Event{}
	var at int64
	err := sc.Scan(&e.ID, &e.InstitutionID, &e.ComplaintID, &at, &e.UserID, &e.Actor, &e.Action, &e.From, &e.To, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = store.Time(at)
	return e, err
}

// Events lists a complaint's history, oldest first.
func (s *Service) Events(ctx context.Context, p *access.Principal, id int64) ([]*Event, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+eventCols+` FROM complaint_events WHERE complaint_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: events: %w", err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ChainResult is the verification of one institution's chain.
type ChainResult = chain.Result

// VerifyEvents recomputes every institution's complaint event chain and names
// the first broken event of each.
func (s *Service) VerifyEvents(ctx context.Context) ([]ChainResult, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+eventCols+` FROM complaint_events ORDER BY institution_id, id`)
	if err != nil {
		return nil, fmt.Errorf("complaint: verify: %w", err)
	}
	defer rows.Close()
	w := chain.NewWalker(genesis, "event")
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: verify: %w", err)
		}
		w.Add(chain.Link{InstitutionID: e.InstitutionID, ID: e.ID, PrevHash: e.PrevHash, Hash: e.Hash, Computed: eventHash(e)})
	}
	return w.Results(), rows.Err()
}
