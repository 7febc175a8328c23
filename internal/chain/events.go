package chain

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"suifang/internal/access"
	"suifang/internal/store"
)

// Genesis is the prev_hash of each institution's first event.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one step of a workflow's history (a notice's, a complaint's):
// who moved the subject from one status to another, and why.
type Event struct {
	ID            int64
	InstitutionID int64
	SubjectID     int64 // the notice or complaint
	At            time.Time
	UserID        int64
	Actor         string
	Action        string
	From, To      string
	Detail        string
	PrevHash      string
	Hash          string
}

// EventLog is an append-only, per-institution hash-chained event table with
// the columns id, institution_id, <subject>, at, user_id, actor, action,
// from_status, to_status, detail, prev_hash, hash. Notices and complaints
// keep their histories this way; the table and column names come from code,
// never from input.
type EventLog struct {
	table, subject, room string
}

// NewEventLog describes table, whose subject column is subject; room
// prefixes errors ("notice").
func NewEventLog(table, subject, room string) EventLog {
	return EventLog{table: table, subject: subject, room: room}
}

func (l EventLog) cols() string {
	return `id, institution_id, ` + l.subject + `, at, user_id, actor, action, from_status, to_status, detail, prev_hash, hash`
}

// Append links an event into the institution's chain at instant at. The
// caller holds the chain lock (one writer per institution chain).
func (l EventLog) Append(ctx context.Context, tx *sql.Tx, at time.Time, p *access.Principal, inst, subject int64,
	action, from, to, detail string) error {
	if p == nil {
		p = access.System()
	}
	ev := &Event{InstitutionID: inst, SubjectID: subject, At: at.UTC().Truncate(time.Microsecond), UserID: p.UserID,
		Actor: p.Username, Action: action, From: from, To: to, Detail: detail, PrevHash: Genesis}
	err := tx.QueryRowContext(ctx, `SELECT hash FROM `+l.table+` WHERE institution_id = $1 ORDER BY id DESC LIMIT 1`, inst).Scan(&ev.PrevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: chain head: %w", l.room, err)
	}
	ev.Hash = EventHash(ev)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+l.table+` (institution_id, `+l.subject+`, at, user_id, actor, action, from_status,
		to_status, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, ev.InstitutionID, ev.SubjectID,
		store.Micros(ev.At), ev.UserID, ev.Actor, ev.Action, ev.From, ev.To, ev.Detail, ev.PrevHash, ev.Hash); err != nil {
		return fmt.Errorf("%s: store event: %w", l.room, err)
	}
	return nil
}

// EventHash covers every stored field and the previous hash, each
// length-prefixed so no two different events share an encoding.
func EventHash(e *Event) string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, strconv.FormatInt(e.InstitutionID, 10), strconv.FormatInt(e.SubjectID, 10),
		strconv.FormatInt(store.Micros(e.At), 10), strconv.FormatInt(e.UserID, 10), e.Actor, e.Action, e.From, e.To, e.Detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	e := &Event{}
	var at int64
	err := sc.Scan(&e.ID, &e.InstitutionID, &e.SubjectID, &at, &e.UserID, &e.Actor, &e.Action, &e.From, &e.To, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = store.Time(at)
	return e, err
}

// List is one subject's history, oldest first. The caller checked scope.
func (l EventLog) List(ctx context.Context, q store.Querier, subject int64) ([]*Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+l.cols()+` FROM `+l.table+` WHERE `+l.subject+` = $1 ORDER BY id`, subject)
	if err != nil {
		return nil, fmt.Errorf("%s: events: %w", l.room, err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: events: %w", l.room, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Verify recomputes every institution's chain and names the first broken
// event of each.
func (l EventLog) Verify(ctx context.Context, q store.Querier) ([]Result, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+l.cols()+` FROM `+l.table+` ORDER BY institution_id, id`)
	if err != nil {
		return nil, fmt.Errorf("%s: verify: %w", l.room, err)
	}
	defer rows.Close()
	w := NewWalker(Genesis, "event")
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: verify: %w", l.room, err)
		}
		w.Add(Link{InstitutionID: e.InstitutionID, ID: e.ID, PrevHash: e.PrevHash, Hash: e.Hash, Computed: EventHash(e)})
	}
	return w.Results(), rows.Err()
}
