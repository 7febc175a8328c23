package patient

import (
	"context"
	"database/sql"
	"fmt"

	"suifang/internal/pii"
)

// sealedCols are the patient columns sealed with their associated data.
var sealedCols = [...]struct{ col, ad string }{
	{"national_id_enc", adNationalID}, {"phones_enc", adPhones}, {"address_enc", adAddress},
}

// Reseal binds every patient's sealed values to the patient's row (and
// moves values sealed with an old key to the current one), batch rows per
// transaction. Values already bound under the current key are left alone,
// so it is idempotent and may be interrupted. It returns how many patients
// were re-sealed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	var done int
	for after := int64(0); ; {
		var n, last int
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, institution_id, mrn, national_id_enc, phones_enc, address_enc
				FROM patients WHERE id > $1 ORDER BY id LIMIT $2`, after, batch)
			if err != nil {
				return fmt.Errorf("patient: reseal: %w", err)
			}
			type row struct {
				id, inst int64
				mrn      string
				vals     [3]string
			}
			var todo []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.inst, &r.mrn, &r.vals[0], &r.vals[1], &r.vals[2]); err != nil {
					rows.Close()
					return fmt.Errorf("patient: reseal: %w", err)
				}
				last++
				after = r.id
				if s.keys.NeedsReseal(r.vals[0]) || s.keys.NeedsReseal(r.vals[1]) || s.keys.NeedsReseal(r.vals[2]) {
					todo = append(todo, r)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("patient: reseal: %w", err)
			}
			for _, r := range todo {
				key := RowKey(r.inst, r.mrn)
				var out [3]string
				for i, c := range sealedCols {
					plain, err := s.keys.OpenRow(r.vals[i], c.ad, key)
					if err != nil {
						return fmt.Errorf("patient %d: reseal %s: %w", r.id, c.col, err)
					}
					if out[i], err = s.keys.SealRow(plain, c.ad, key); err != nil {
						return fmt.Errorf("patient %d: reseal %s: %w", r.id, c.col, err)
					}
				}
				// Only if nobody changed the row meanwhile; a changed row
				// was sealed the new way by whoever changed it.
				res, err := tx.ExecContext(ctx, `UPDATE patients SET national_id_enc = $1, phones_enc = $2, address_enc = $3
					WHERE id = $4 AND national_id_enc = $5 AND phones_enc = $6 AND address_enc = $7`,
					out[0], out[1], out[2], r.id, r.vals[0], r.vals[1], r.vals[2])
				if err != nil {
					return fmt.Errorf("patient %d: reseal: %w", r.id, err)
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
		if last < batch {
			return done, nil
		}
	}
}

// VerifySealed opens every patient's sealed values with the patient's row
// key: a value copied from another patient fails to authenticate, and a
// value not yet bound to its row (from before re-sealing, or copied in from
// an old backup) is named too.
func (s *Service) VerifySealed(ctx context.Context) (int, []pii.Problem, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, institution_id, mrn, national_id_enc, phones_enc, address_enc FROM patients ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("patient: verify sealed: %w", err)
	}
	defer rows.Close()
	var checked int
	var bad []pii.Problem
	for rows.Next() {
		var id, inst int64
		var mrn string
		var vals [3]string
		if err := rows.Scan(&id, &inst, &mrn, &vals[0], &vals[1], &vals[2]); err != nil {
			return 0, nil, fmt.Errorf("patient: verify sealed: %w", err)
		}
		key := RowKey(inst, mrn)
		for i, c := range sealedCols {
			if vals[i] == "" {
				continue
			}
			checked++
			if p := s.keys.CheckRow(vals[i], c.ad, key); p != "" {
				bad = append(bad, pii.Problem{ID: id, Ref: key, Column: c.col, Reason: p})
			}
		}
	}
	return checked, bad, rows.Err()
}
