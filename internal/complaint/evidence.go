package complaint

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/notice"
	"suifang/internal/store"
)

// MaxEvidence is the largest evidence file a complaint takes.
const MaxEvidence = notice.MaxAttachment

// Attach stores an evidence file on complaint id: the owner, quality or a
// team member adds it until the complaint is archived. The type is sniffed
// from the bytes against the notice room's allow-list, never taken from
// the name; the bytes stay in the database, outside any web root.
func (s *Service) Attach(ctx context.Context, p *access.Principal, id int64, filename, note string, data []byte) (*Evidence, error) {
	note = strings.TrimSpace(note)
	switch {
	case len(data) == 0:
		return nil, errs.Field("file", "empty_file", "choose a file to upload")
	case len(data) > MaxEvidence:
		return nil, errs.Field("file", "attachment_too_large", "a file may have at most 10 MB")
	case tooLong(note, maxShort):
		return nil, errs.Field("evidence_note", "too_long_200", "at most 200 characters")
	}
	ct := notice.Sniff(data)
	if ct == "" {
		return nil, errs.Field("file", "bad_file_type", "evidence must be a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file")
	}
	sum := sha256.Sum256(data)
	ev := &Evidence{Filename: notice.CleanName(filename, ct), ContentType: ct, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Note: note, UserID: p.UserID, Actor: p.Username, At: s.now().UTC().Truncate(time.Microsecond)}
	err := s.teamChange(ctx, p, id, false, func(tx *sql.Tx, c *Complaint) (string, string, error) {
		ev.ComplaintID = c.ID
		if err := tx.QueryRowContext(ctx, `INSERT INTO complaint_evidence (institution_id, complaint_id, filename, content_type, size, sha256,
			note, data, user_id, actor, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`, c.InstitutionID, c.ID, ev.Filename,
			ev.ContentType, ev.Size, ev.SHA256, ev.Note, data, ev.UserID, ev.Actor, store.Micros(ev.At)).Scan(&ev.ID); err != nil {
			return "", "", fmt.Errorf("complaint: store evidence: %w", err)
		}
		detail := fmt.Sprintf("evidence=%d %s %s %d bytes sha256=%s", ev.ID, ev.Filename, ev.ContentType, ev.Size, ev.SHA256)
		if note != "" {
			detail += "\n" + note
		}
		return "evidence", detail, nil
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

const evidenceCols = `id, complaint_id, filename, content_type, size, sha256, note, user_id, actor, at`

func scanEvidence(sc interface{ Scan(...any) error }, extra ...any) (*Evidence, error) {
	ev := &Evidence{}
	var at int64
	err := sc.Scan(append([]any{&ev.ID, &ev.ComplaintID, &ev.Filename, &ev.ContentType, &ev.Size, &ev.SHA256, &ev.Note, &ev.UserID,
		&ev.Actor, &at}, extra...)...)
	ev.At = store.Time(at)
	return ev, err
}

// Download returns one evidence file with its bytes to someone who may
// see the complaint; every download is audited.
func (s *Service) Download(ctx context.Context, p *access.Principal, id, evidenceID int64) (*Evidence, []byte, error) {
	if err := p.RequireStaff(); err != nil {
		return nil, nil, err
	}
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	ev, err := scanEvidence(s.db.R().QueryRowContext(ctx, `SELECT `+evidenceCols+`, data FROM complaint_evidence WHERE id = $1 AND complaint_id = $2`,
		evidenceID, id), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errs.New(errs.NotFound, "attachment_not_found", "no such evidence file")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("complaint: read evidence: %w", err)
	}
	e := audit.Event(p, "complaint.download", "complaint", c.Number, c.InstitutionID)
	e.Detail = fmt.Sprintf("evidence=%d %s", ev.ID, ev.Filename)
	if err := s.audit.Record(ctx, e); err != nil {
		return nil, nil, err
	}
	return ev, data, nil
}
