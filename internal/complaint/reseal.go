package complaint

import (
	"context"
	"database/sql"
	"fmt"

	"suifang/internal/pii"
)

// Reseal binds every complaint's sealed contact to the complaint's number
// (and moves contacts sealed with an old key to the current one), batch rows
// per transaction; idempotent. It returns how many were re-sealed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	var done int
	for after := int64(0); ; {
		var n, seen int
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, number, complainant_contact FROM complaints WHERE id > $1 ORDER BY id LIMIT $2`, after, batch)
			if err != nil {
				return fmt.Errorf("complaint: reseal: %w", err)
			}
			type row struct {
				id              int64
				number, contact string
			}
			var todo []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.number, &r.contact); err != nil {
					rows.Close()
					return fmt.Errorf("complaint: reseal: %w", err)
				}
				seen++
				after = r.id
				if s.keys.NeedsReseal(r.contact) {
					todo = append(todo, r)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("complaint: reseal: %w", err)
			}
			for _, r := range todo {
				plain, err := s.keys.OpenRow(r.contact, adContact, r.number)
				if err != nil {
					return fmt.Errorf("complaint %s: reseal contact: %w", r.number, err)
				}
				sealed, err := s.keys.SealRow(plain, adContact, r.number)
				if err != nil {
					return fmt.Errorf("complaint %s: reseal contact: %w", r.number, err)
				}
				res, err := tx.ExecContext(ctx, `UPDATE complaints SET complainant_contact = $1 WHERE id = $2 AND complainant_contact = $3`,
					sealed, r.id, r.contact)
				if err != nil {
					return fmt.Errorf("complaint %s: reseal contact: %w", r.number, err)
				}
				if k, _ := res.RowsAffected(); k == 1 {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if seen < batch {
			return done, nil
		}
	}
}

// VerifySealed opens every complaint's contact with the complaint's
// number; a contact copied from another complaint fails.
func (s *Service) VerifySealed(ctx context.Context) (int, []pii.Problem, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, number, complainant_contact FROM complaints WHERE complainant_contact <> '' ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("complaint: verify sealed: %w", err)
	}
	defer rows.Close()
	var checked int
	var bad []pii.Problem
	for rows.Next() {
		var id int64
		var number, contact string
		if err := rows.Scan(&id, &number, &contact); err != nil {
			return 0, nil, fmt.Errorf("complaint: verify sealed: %w", err)
		}
		checked++
		if p := s.keys.CheckRow(contact, adContact, number); p != "" {
			bad = append(bad, pii.Problem{ID: id, Ref: number, Column: "complainant_contact", Reason: p})
		}
	}
	return checked, bad, rows.Err()
}
