package notice

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// MaxAttachment is the largest evidence file a notice takes.
const MaxAttachment = 10 << 20

// Content types evidence may have (the allow-list).
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Sniff decides a file's type from its bytes, never from its name or the
// browser's claim, and answers "" for anything outside the allow-list. A
// docx or xlsx is a zip holding the part that makes it one.
func Sniff(b []byte) string {
	switch ct := http.DetectContentType(b); ct {
	case TypePDF, TypePNG, TypeJPEG:
		return ct
	case "application/zip":
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return ""
		}
		types := false
		kind := ""
		for _, f := range zr.File {
			switch f.Name {
			case "[Content_Types].xml":
				types = true
			case "word/document.xml":
				kind = TypeDOCX
			case "xl/workbook.xml":
				if kind == "" {
					kind = TypeXLSX
				}
			}
		}
		if types {
			return kind
		}
	}
	return ""
}

// extFor is the file extension stored names get for each type.
var extFor = map[string]string{TypePDF: ".pdf", TypePNG: ".png", TypeJPEG: ".jpg", TypeDOCX: ".docx", TypeXLSX: ".xlsx"}

// cleanName keeps the base of an uploaded file's name, printable and at
// most 120 characters, with the extension its sniffed type has.
func cleanName(name, ct string) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "")
	}
	ext := extFor[ct]
	// No hidden files or dot-only names on the downloader's disk.
	base := strings.Trim(strings.TrimSuffix(name, path.Ext(name)), ". ")
	if base == "" {
		base = "evidence"
	}
	if r := []rune(base); len(r) > 120 {
		base = string(r[:120])
	}
	return base + ext
}

// CleanName is cleanName for the other rooms that keep evidence files
// (complaints), so every stored name is cleaned the same way.
func CleanName(name, ct string) string { return cleanName(name, ct) }

// Attachment is one evidence file (without its bytes).
type Attachment struct {
	ID          int64
	NoticeID    int64
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
	UserID      int64
	Actor       string
	At          time.Time
}

// Attach stores an evidence file on a notice. The department side adds
// evidence until the notice is verified; quality may add its own.
func (s *Service) Attach(ctx context.Context, p *access.Principal, id int64, filename string, data []byte) (*Attachment, error) {
	if len(data) == 0 {
		return nil, errs.Field("file", "empty_file", "choose a file to upload")
	}
	if len(data) > MaxAttachment {
		return nil, errs.Field("file", "attachment_too_large", "a file may have at most 10 MB")
	}
	ct := Sniff(data)
	if ct == "" {
		return nil, errs.Field("file", "bad_file_type", "evidence must be a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file")
	}
	sum := sha256.Sum256(data)
	a := &Attachment{NoticeID: id, Filename: cleanName(filename, ct), ContentType: ct, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), UserID: p.UserID, Actor: p.Username, At: s.now().UTC().Truncate(time.Microsecond)}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		n, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(p, n) {
			return errs.New(errs.Forbidden, "out_of_scope", "this notice is outside your data scope")
		}
		if !(deptSide(p, n) || qualitySide(p, n)) {
			return errs.New(errs.Forbidden, "notice_action_forbidden", "your role may not add evidence to this notice")
		}
		if n.Status == Closed || n.Status == Verified {
			return errs.New(errs.Conflict, "bad_transition", "the notice is "+n.Status+"; evidence can no longer be added")
		}
		if err := s.db.SerializeKey(ctx, tx, chainKey(n.InstitutionID)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO notice_attachments (institution_id, notice_id, filename, content_type, size, sha256,
			data, user_id, actor, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`, n.InstitutionID, n.ID, a.Filename, a.ContentType,
			a.Size, a.SHA256, data, a.UserID, a.Actor, store.Micros(a.At)).Scan(&a.ID); err != nil {
			return fmt.Errorf("notice: store attachment: %w", err)
		}
		detail := fmt.Sprintf("attachment=%d %s %s %d bytes sha256=%s", a.ID, a.Filename, a.ContentType, a.Size, a.SHA256)
		if err := s.appendEvent(ctx, tx, p, n, "attach", n.Status, n.Status, detail); err != nil {
			return err
		}
		e := audit.Event(p, "notice.attach", "notice", n.Number, n.InstitutionID)
		e.Detail = detail
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

const attachCols = `id, notice_id, filename, content_type, size, sha256, user_id, actor, at`

func scanAttachment(sc interface{ Scan(...any) error }, extra ...any) (*Attachment, error) {
	a := &Attachment{}
	var at int64
	err := sc.Scan(append([]any{&a.ID, &a.NoticeID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.UserID, &a.Actor, &at}, extra...)...)
	a.At = store.Time(at)
	return a, err
}

// Attachments lists a notice's evidence, oldest first.
func (s *Service) Attachments(ctx context.Context, p *access.Principal, id int64) ([]*Attachment, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+attachCols+` FROM notice_attachments WHERE notice_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("notice: attachments: %w", err)
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("notice: attachments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Download returns one evidence file with its bytes; every download is
// audited.
func (s *Service) Download(ctx context.Context, p *access.Principal, id, attachmentID int64) (*Attachment, []byte, error) {
	if err := p.RequireStaff(); err != nil {
		return nil, nil, err
	}
	n, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	a, err := scanAttachment(s.db.R().QueryRowContext(ctx, `SELECT `+attachCols+`, data FROM notice_attachments WHERE id = $1 AND notice_id = $2`,
		attachmentID, id), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errs.New(errs.NotFound, "attachment_not_found", "no such attachment")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("notice: read attachment: %w", err)
	}
	e := audit.Event(p, "notice.download", "notice", n.Number, n.InstitutionID)
	e.Detail = fmt.Sprintf("attachment=%d %s", a.ID, a.Filename)
	if err := s.audit.Record(ctx, e); err != nil {
		return nil, nil, err
	}
	return a, data, nil
}
