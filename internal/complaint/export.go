package complaint

import (
	"context"
	"database/sql"
	"strings"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
)

// RecordExport audits that p takes complaint id out of the system as a
// file (what names it, e.g. "sheet.pdf"). The adapter calls it before it
// sends the file, so an export nobody can trace never leaves: the scope
// check is the same as for reading the complaint.
func (s *Service) RecordExport(ctx context.Context, p *access.Principal, id int64, what string) error {
	// Files leave the hospital's control; an outside agency exports none.
	if err := p.RequireStaff(); err != nil {
		return err
	}
	what = strings.TrimSpace(what)
	if what == "" || len(what) > 40 {
		return errs.New(errs.Invalid, "complaint_export_kind", "say what is exported")
	}
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		e := audit.Event(p, "complaint.export", "complaint", c.Number, c.InstitutionID)
		e.Detail = what
		return s.audit.Append(ctx, tx, e)
	})
}
