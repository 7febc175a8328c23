package notify

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"suifang/internal/store"
)

// claimed is one row a worker owns until its lease runs out.
type claimed struct {
	id            int64
	inst          int64
	channel       string
	template      string
	code          string
	recEnc        string
	bodyEnc       string
	key           string
	patient       bool
	attempts      int
	leaseDeadline time.Time
}

// Run delivers until ctx ends. app.Serve starts it beside the other
// workers; several instances may run it on one PostgreSQL database.
func (s *Service) Run(ctx context.Context) {
	s.log.Info("notify: outbox worker started", "instance", s.instance, "batch", s.pol.Batch, "concurrency", s.pol.Concurrency)
	for {
		n, err := s.DeliverOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("notify: deliver", "err", err)
		}
		if n >= s.pol.Batch && err == nil {
			continue // more may be waiting
		}
		t := time.NewTimer(s.pol.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// DeliverOnce claims one batch of due messages and sends them, at most
// Concurrency at a time. It returns how many it claimed.
func (s *Service) DeliverOnce(ctx context.Context) (int, error) {
	rows, err := s.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	work := make(chan *claimed)
	var wg sync.WaitGroup
	for range min(s.pol.Concurrency, len(rows)) {
		wg.Go(func() {
			for c := range work {
				s.deliver(ctx, c)
			}
		})
	}
	for _, c := range rows {
		if ctx.Err() != nil {
			break
		}
		work <- c
	}
	close(work)
	wg.Wait()
	return len(rows), nil
}

// claim takes a lease on up to Batch due rows. On PostgreSQL, SKIP LOCKED
// lets several instances claim side by side without waiting on each other
// or taking the same row; a row whose lease ran out (its instance died) is
// due again. SQLite has one writer, so the plain UPDATE is already atomic.
func (s *Service) claim(ctx context.Context) ([]*claimed, error) {
	now := s.now()
	lock := ""
	if s.db.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []*claimed
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET locked_until = $1, locked_by = $2
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $3 AND locked_until <= $3
				ORDER BY next_attempt_at, id LIMIT $4`+lock+`)
			RETURNING id, institution_id, channel, template_key, template_code, recipient_enc, body_enc, idempotency_key,
				patient, attempts`,
			store.Micros(now.Add(s.pol.Lease)), s.instance, store.Micros(now), s.pol.Batch)
		if err != nil {
			return fmt.Errorf("notify: claim: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c := &claimed{}
			if err := rows.Scan(&c.id, &c.inst, &c.channel, &c.template, &c.code, &c.recEnc, &c.bodyEnc, &c.key,
				&c.patient, &c.attempts); err != nil {
				return fmt.Errorf("notify: claim: %w", err)
			}
			// Stop sending from a batch well before the lease ends, so a
			// slow batch never overlaps another instance's claim.
			c.leaseDeadline = now.Add(s.pol.Lease * 3 / 4)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// RETURNING order is unspecified; send oldest first.
	slices.SortFunc(out, func(a, b *claimed) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

// deliver sends one claimed message and records the outcome. The message is
// marked sent the moment its provider accepts it, so a crash can repeat at
// most the messages in flight at that instant.
func (s *Service) deliver(ctx context.Context, c *claimed) {
	now := s.now()
	if !now.Before(c.leaseDeadline) {
		return // left for the next claim once the lease has run out
	}
	info, err := s.institution(ctx, c.inst)
	if err != nil {
		s.log.Error("notify: institution", "id", c.id, "err", err)
		return
	}
	if c.patient && s.pol.Quiet.In(now.In(info.loc)) {
		// Quiet hours: no attempt is spent, the message waits for the window.
		opens := s.pol.Quiet.Opens(now.In(info.loc))
		s.release(ctx, c, opens)
		return
	}
	d, err := s.open(c, info)
	if err == nil && c.channel != InApp {
		var b body
		b.Subject, b.Text, b.Params = d.Subject, d.Text, d.Params
		err = check(c.channel, &b)
	}
	if err != nil {
		// Undecryptable or refused by the guard: no retry can help.
		s.finish(ctx, c, "", Permanent(err))
		return
	}
	p := s.providers[s.route(c.channel)]
	sctx, cancel := context.WithTimeout(ctx, max(s.pol.Webhook.Timeout, s.pol.SMTP.Timeout, 5*time.Second)+time.Second)
	err = p.Send(sctx, d)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Shutting down mid-send: the outcome is unknown, so leave the row
		// to the lease rather than spend an attempt on it.
		return
	}
	s.finish(ctx, c, p.Name(), err)
}

func (s *Service) route(ch string) string {
	if p, ok := s.pol.Routes[ch]; ok {
		return p
	}
	return ProviderLog
}

// open decrypts a claimed row into a Delivery.
func (s *Service) open(c *claimed, info instInfo) (*Delivery, error) {
	to, err := s.keys.OpenRow(c.recEnc, adRecipient, rowKey(c.inst, c.key))
	if err != nil {
		return nil, fmt.Errorf("recipient cannot be decrypted: %w", err)
	}
	raw, err := s.keys.OpenRow(c.bodyEnc, adBody, rowKey(c.inst, c.key))
	if err != nil {
		return nil, fmt.Errorf("body cannot be decrypted: %w", err)
	}
	var b body
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return &Delivery{ID: c.id, IdempotencyKey: c.key, Channel: c.channel, Institution: info.code, Template: c.template,
		TemplateCode: c.code, To: to, Subject: b.Subject, Text: b.Text, Params: b.Params, Instance: s.instance}, nil
}

// finish records an attempt: sent, retry later, or dead.
func (s *Service) finish(ctx context.Context, c *claimed, provider string, sendErr error) {
	now := s.now()
	at := store.Micros(now)
	// The outcome must be written even when the worker is stopping: a sent
	// message left pending would be sent again.
	ctx = context.WithoutCancel(ctx)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		switch {
		case sendErr == nil:
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, updated_at = $1,
				locked_until = 0, locked_by = '', last_error = '', provider = $2 WHERE id = $3`, at, provider, c.id)
		case IsPermanent(sendErr) || c.attempts+1 >= s.pol.MaxAttempts:
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET status = 'dead', attempts = attempts + 1, updated_at = $1,
				locked_until = 0, locked_by = '', last_error = $2, provider = $3 WHERE id = $4 AND status = 'pending'`,
				at, clip(sendErr.Error()), provider, c.id)
		default:
			next := now.Add(s.pol.backoff(c.attempts + 1))
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2,
				locked_until = 0, locked_by = '', last_error = $3, provider = $4 WHERE id = $5 AND status = 'pending'`,
				store.Micros(next), at, clip(sendErr.Error()), provider, c.id)
		}
		if err != nil {
			return err
		}
		msg := ""
		if sendErr != nil {
			msg = clip(sendErr.Error())
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO outbox_attempts (message_id, at, ok, provider, instance, error)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.id, at, sendErr == nil, provider, s.instance, msg)
		return err
	})
	if err != nil {
		s.log.Error("notify: record attempt", "id", c.id, "err", err)
	}
	if sendErr != nil {
		s.log.Warn("notify: attempt failed", "id", c.id, "attempt", c.attempts+1, "err", sendErr)
	}
}

// release gives a claimed row back, due again at next.
func (s *Service) release(ctx context.Context, c *claimed, next time.Time) {
	err := s.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $1, locked_until = 0, locked_by = '', updated_at = $2
			WHERE id = $3 AND locked_by = $4`, store.Micros(next), store.Micros(s.now()), c.id, s.instance)
		return err
	})
	if err != nil {
		s.log.Error("notify: release", "id", c.id, "err", err)
	}
}

func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 500 {
		s = s[:500]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// institution returns the code and zone of inst, cached: both change
// rarely and the worker asks for every message.
func (s *Service) institution(ctx context.Context, inst int64) (instInfo, error) {
	s.mu.Lock()
	info, ok := s.insts[inst]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	var code, tz string
	err := s.db.R().QueryRowContext(ctx, `SELECT code, timezone FROM institutions WHERE id = $1`, inst).Scan(&code, &tz)
	if errors.Is(err, sql.ErrNoRows) {
		return info, fmt.Errorf("notify: institution %d not found", inst)
	}
	if err != nil {
		return info, fmt.Errorf("notify: read institution: %w", err)
	}
	info = instInfo{code: code, loc: time.FixedZone("CST", 8*3600)}
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		info.loc = loc
	}
	s.mu.Lock()
	s.insts[inst] = info
	s.mu.Unlock()
	return info, nil
}
