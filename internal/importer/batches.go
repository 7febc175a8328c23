package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Batch is one import run as it was recorded: who ran it, when, and what it
// did. InstitutionID is 0 when the file fed several institutions.
type Batch struct {
	ID            int64
	InstitutionID int64
	UserID        int64
	Filename      string
	Format        string
	Status        string // running, done, failed, interrupted
	StartedAt     time.Time
	FinishedAt    time.Time
	Messages      int
	New           int
	Updated       int
	Cancelled     int
	TasksCreated  int
	Rejects       int
	Skipped       int
	Visits        int // non-inpatient encounters stored without a plan
	Warnings      int // values dropped from stored rows
}

// StaleAfter is how long a running import may go without committing a
// batch before it is taken for dead. A batch of 2,000 messages commits in
// about a second; ten minutes leaves room for a slow disk and a long lock
// wait without calling a live import dead.
const StaleAfter = 10 * time.Minute

// MarkInterrupted ends the imports that are still 'running' but have not
// committed a batch for StaleAfter: their process was killed or lost its
// database. What they committed stays; the report says the file stopped
// part-way, so the user knows to import it again (imports are idempotent).
// It is safe on several instances at once: a live import beats more often
// than StaleAfter. It returns how many batches it marked.
func (s *Service) MarkInterrupted(ctx context.Context) (int, error) {
	now := s.now()
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_batches SET status = 'interrupted', finished_at = $1
			WHERE status = 'running' AND heartbeat_at < $2`, store.Micros(now), store.Micros(now.Add(-StaleAfter)))
		if err != nil {
			return fmt.Errorf("importer: mark interrupted imports: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Unchanged is the number of usable messages that changed nothing.
func (b *Batch) Unchanged() int { return max(0, b.Messages-b.New-b.Updated-b.Cancelled) }

const batchCols = `id, institution_id, user_id, filename, format, status, started_at, finished_at, messages, encounters_new,
	encounters_upd, cancelled, tasks_created, rejects, skipped, visits, warnings`

func scanBatch(sc interface{ Scan(...any) error }) (*Batch, error) {
	b := &Batch{}
	var started, finished int64
	if err := sc.Scan(&b.ID, &b.InstitutionID, &b.UserID, &b.Filename, &b.Format, &b.Status, &started, &finished,
		&b.Messages, &b.New, &b.Updated, &b.Cancelled, &b.TasksCreated, &b.Rejects, &b.Skipped, &b.Visits, &b.Warnings); err != nil {
		return nil, err
	}
	b.StartedAt, b.FinishedAt = store.Time(started), store.Time(finished)
	return b, nil
}

// mayReadImports admits the people who run imports: administrators,
// quality staff and the service centre.
func mayReadImports(p *access.Principal) error {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Agent) {
		return errs.New(errs.Forbidden, "import_forbidden", "you may not see discharge imports")
	}
	return nil
}

// batchScope is the SQL condition for the batches p may see: every batch
// for a global principal; otherwise the ones p ran and the ones that fed an
// institution p sees as a whole. A batch spanning several institutions
// (institution 0) is its runner's and the administrators'.
func batchScope(p *access.Principal, args *[]any) string {
	if p.Global {
		return "1 = 1"
	}
	*args = append(*args, p.UserID)
	conds := []string{fmt.Sprintf("user_id = $%d", len(*args))}
	var ids []string
	seen := map[int64]bool{}
	for _, g := range p.Grants {
		if g.DepartmentID != 0 || seen[g.InstitutionID] {
			continue
		}
		seen[g.InstitutionID] = true
		*args = append(*args, g.InstitutionID)
		ids = append(ids, fmt.Sprintf("$%d", len(*args)))
	}
	if len(ids) > 0 {
		conds = append(conds, "institution_id IN ("+strings.Join(ids, ",")+")")
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// Batches lists the most recent imports p may see, newest first.
func (s *Service) Batches(ctx context.Context, p *access.Principal, limit int) ([]Batch, error) {
	if err := mayReadImports(p); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var args []any
	where := batchScope(p, &args)
	args = append(args, limit)
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+batchCols+` FROM import_batches WHERE `+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("importer: list batches: %w", err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("importer: scan batch: %w", err)
		}
		out = append(out, *b)
	}
	return out, rows.Err()
}

// Batch returns one import p may see.
func (s *Service) Batch(ctx context.Context, p *access.Principal, id int64) (*Batch, error) {
	if err := mayReadImports(p); err != nil {
		return nil, err
	}
	args := []any{id}
	where := batchScope(p, &args)
	b, err := scanBatch(s.db.R().QueryRowContext(ctx, `SELECT `+batchCols+` FROM import_batches WHERE id = $1 AND `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "batch_not_found", "no such import")
	}
	if err != nil {
		return nil, fmt.Errorf("importer: read batch: %w", err)
	}
	return b, nil
}

// Rejects lists every row or message an import could not use, in file
// order, for the report: the text is the masked display copy (ID numbers
// and phones masked).
func (s *Service) Rejects(ctx context.Context, p *access.Principal, batchID int64) ([]intake.Reject, error) {
	if _, err := s.Batch(ctx, p, batchID); err != nil {
		return nil, err
	}
	return s.rejects(ctx, batchID, false)
}

// RevealRejects is Rejects with each row's full text opened from its sealed
// copy, for the download from which corrected rows are re-imported; the
// full view is audited.
func (s *Service) RevealRejects(ctx context.Context, p *access.Principal, batchID int64) ([]intake.Reject, error) {
	b, err := s.Batch(ctx, p, batchID)
	if err != nil {
		return nil, err
	}
	out, err := s.rejects(ctx, batchID, true)
	if err != nil {
		return nil, err
	}
	e := audit.Event(p, "import.rejects_download", "import_batch", strconv.FormatInt(batchID, 10), b.InstitutionID)
	e.Detail = "rows=" + strconv.Itoa(len(out))
	if err := s.audit.Record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) rejects(ctx context.Context, batchID int64, full bool) ([]intake.Reject, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT line, source, field, reason, raw, raw_enc FROM import_rejects
		WHERE batch_id = $1 ORDER BY line, source`, batchID)
	if err != nil {
		return nil, fmt.Errorf("importer: list rejects: %w", err)
	}
	defer rows.Close()
	var out []intake.Reject
	for rows.Next() {
		var rj intake.Reject
		var enc string
		if err := rows.Scan(&rj.Line, &rj.Source, &rj.Field, &rj.Reason, &rj.Raw, &enc); err != nil {
			return nil, fmt.Errorf("importer: scan reject: %w", err)
		}
		switch {
		case full && enc != "":
			if rj.Raw, err = s.keys.OpenRow(enc, adRejectRaw, rejectRow(batchID, rj.Line)); err != nil {
				return nil, fmt.Errorf("importer: reject line %d: %w", rj.Line, err)
			}
		case !full && enc == "":
			rj.Raw = pii.MaskText(rj.Raw) // not re-sealed yet: mask on the way out
		}
		out = append(out, rj)
	}
	return out, rows.Err()
}

// Warnings lists the values an import dropped from rows it stored, in file
// order: field, reason and the masked value.
func (s *Service) Warnings(ctx context.Context, p *access.Principal, batchID int64) ([]intake.Warning, error) {
	if _, err := s.Batch(ctx, p, batchID); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT line, source, field, reason, masked FROM import_warnings
		WHERE batch_id = $1 ORDER BY line, source`, batchID)
	if err != nil {
		return nil, fmt.Errorf("importer: list warnings: %w", err)
	}
	defer rows.Close()
	var out []intake.Warning
	for rows.Next() {
		var w intake.Warning
		if err := rows.Scan(&w.Line, &w.Source, &w.Field, &w.Reason, &w.Value); err != nil {
			return nil, fmt.Errorf("importer: scan warning: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
