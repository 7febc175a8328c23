package chain

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// State is the digest of the subject row's key fields just after the
	// event, so an edit of the row itself (not only of its history) shows.
	State    string
	PrevHash string
	Hash     string
}

// EventLog is an append-only, per-institution hash-chained event table with
// the columns id, institution_id, <subject>, at, user_id, actor, action,
// from_status, to_status, detail, prev_hash, hash. Notices and complaints
// keep their histories this way; the table and column names come from code,
// never from input.
type EventLog struct {
	table, subject, room string
	rows                 string   // the subjects' table ("complaints")
	state                []string // its columns the state digest covers
}

// NewEventLog describes table, whose subject column is subject, a row of
// table rows; room prefixes errors ("notice"). Each event's hash also
// covers a digest of state, columns of the subject row that change only
// together with an event (status, owner, department, …): verify compares
// the row's digest now with its last event's, so editing the row directly
// is caught. Columns that move without an event (a recomputed deadline, an
// escalation level) must not be listed; code that changes a listed column
// appends an event in the same transaction, after its UPDATE.
func NewEventLog(table, subject, room, rows string, state ...string) EventLog {
	return EventLog{table: table, subject: subject, room: room, rows: rows, state: state}
}

func (l EventLog) cols() string {
	return `id, institution_id, ` + l.subject + `, at, user_id, actor, action, from_status, to_status, detail, state, prev_hash, hash`
}

// Append links an event into the institution's chain at instant at, keyed
// with k. The caller holds the chain lock (one writer per institution
// chain) and has already written the subject row's new state.
func (l EventLog) Append(ctx context.Context, tx *sql.Tx, k *Key, at time.Time, p *access.Principal, inst, subject int64,
	action, from, to, detail string) error {
	if p == nil {
		p = access.System()
	}
	if k == nil {
		return fmt.Errorf("%s: event without a chain key", l.room)
	}
	ev := &Event{InstitutionID: inst, SubjectID: subject, At: at.UTC().Truncate(time.Microsecond), UserID: p.UserID,
		Actor: p.Username, Action: action, From: from, To: to, Detail: detail, PrevHash: Genesis}
	err := tx.QueryRowContext(ctx, `SELECT hash FROM `+l.table+` WHERE institution_id = $1 ORDER BY id DESC LIMIT 1`, inst).Scan(&ev.PrevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: chain head: %w", l.room, err)
	}
	if ev.State, _, err = l.stateOf(ctx, tx, subject); err != nil {
		return err
	}
	ev.Hash = EventHash(k, ev)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+l.table+` (institution_id, `+l.subject+`, at, user_id, actor, action, from_status,
		to_status, detail, state, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`, ev.InstitutionID, ev.SubjectID,
		store.Micros(ev.At), ev.UserID, ev.Actor, ev.Action, ev.From, ev.To, ev.Detail, ev.State, ev.PrevHash, ev.Hash); err != nil {
		return fmt.Errorf("%s: store event: %w", l.room, err)
	}
	return nil
}

// stateOf digests the subject row's state columns; ref is its number.
func (l EventLog) stateOf(ctx context.Context, q store.Querier, subject int64) (digest, ref string, err error) {
	vals := make([]sql.NullString, len(l.state)+1)
	dst := make([]any, len(vals))
	for i := range vals {
		dst[i] = &vals[i]
	}
	err = q.QueryRowContext(ctx, `SELECT number, `+strings.Join(l.state, ", ")+` FROM `+l.rows+` WHERE id = $1`, subject).Scan(dst...)
	if err != nil {
		return "", "", fmt.Errorf("%s: state of %d: %w", l.room, subject, err)
	}
	return digestOf(vals[1:]), vals[0].String, nil
}

func digestOf(vals []sql.NullString) string {
	h := sha256.New()
	for _, v := range vals {
		fmt.Fprintf(h, "%d:%s;", len(v.String), v.String)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EventHash covers every stored field and the previous hash, each
// length-prefixed so no two different events share an encoding. A keyed
// event (k != nil) also covers its state digest; events from before the
// cut-over (k == nil) had none.
func EventHash(k *Key, e *Event) string {
	f := []string{e.PrevHash, strconv.FormatInt(e.InstitutionID, 10), strconv.FormatInt(e.SubjectID, 10),
		strconv.FormatInt(store.Micros(e.At), 10), strconv.FormatInt(e.UserID, 10), e.Actor, e.Action, e.From, e.To, e.Detail}
	if k != nil {
		f = append(f, e.State)
	}
	return k.Sum(f...)
}

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	e := &Event{}
	var at int64
	err := sc.Scan(&e.ID, &e.InstitutionID, &e.SubjectID, &at, &e.UserID, &e.Actor, &e.Action, &e.From, &e.To, &e.Detail, &e.State,
		&e.PrevHash, &e.Hash)
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

// Verify recomputes every institution's chain with k (plain SHA-256 up to
// the table's cut-over) and names the first broken event of each; then it
// compares each subject row's state with the digest its last event
// recorded, and names the first row that differs.
func (l EventLog) Verify(ctx context.Context, q store.Querier, k *Key) ([]Result, error) {
	hs, err := NewHasher(ctx, q, k, l.table)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+l.cols()+` FROM `+l.table+` ORDER BY institution_id, id`)
	if err != nil {
		return nil, fmt.Errorf("%s: verify: %w", l.room, err)
	}
	defer rows.Close()
	w := NewWalker(Genesis, "event")
	type last struct {
		inst, event int64
		state       string
	}
	lasts := map[int64]last{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: verify: %w", l.room, err)
		}
		w.Add(Link{InstitutionID: e.InstitutionID, ID: e.ID, PrevHash: e.PrevHash, Hash: e.Hash, Computed: EventHash(hs.For(e.ID), e)})
		if cur, ok := lasts[e.SubjectID]; !ok || e.ID > cur.event {
			lasts[e.SubjectID] = last{inst: e.InstitutionID, event: e.ID, state: e.State}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: verify: %w", l.room, err)
	}
	rows.Close()
	res := w.Results()
	if len(l.state) == 0 {
		return res, nil
	}
	// Subjects whose last event predates state digests are not judged.
	srows, err := q.QueryContext(ctx, `SELECT id, number, `+strings.Join(l.state, ", ")+` FROM `+l.rows+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("%s: verify state: %w", l.room, err)
	}
	defer srows.Close()
	vals := make([]sql.NullString, len(l.state)+1)
	dst := make([]any, len(vals)+1)
	var id int64
	dst[0] = &id
	for i := range vals {
		dst[i+1] = &vals[i]
	}
	for srows.Next() {
		if err := srows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("%s: verify state: %w", l.room, err)
		}
		lt, ok := lasts[id]
		if !ok || lt.state == "" || digestOf(vals[1:]) == lt.state {
			continue
		}
		for i := range res {
			if r := &res[i]; r.InstitutionID == lt.inst && r.OK {
				r.OK, r.BrokenID, r.BrokenRef = false, lt.event, vals[0].String
				r.Reason = "the " + l.rows + " row " + vals[0].String + " differs from the state its last event recorded (the row was edited outside the application)"
			}
		}
	}
	return res, srows.Err()
}
