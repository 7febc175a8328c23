package importer

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"suifang/internal/intake"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// adRejectRaw binds a rejected row's sealed text to its column.
const adRejectRaw = "import_rejects.raw"

// rejectRow is the row key a reject's sealed text is bound to: its batch
// and line.
func rejectRow(batch int64, line int) string {
	return strconv.FormatInt(batch, 10) + "/" + strconv.Itoa(line)
}

// storeRejects writes rejects of batch: the full text sealed (a rejected
// row carries ID numbers and phones like any other), a masked copy for the
// report and the download.
func (s *Service) storeRejects(ctx context.Context, tx store.Querier, batch int64, rjs []intake.Reject) error {
	for _, rj := range rjs {
		sealed, err := s.keys.SealRow(rj.Raw, adRejectRaw, rejectRow(batch, rj.Line))
		if err != nil {
			return fmt.Errorf("importer: seal reject: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_rejects (batch_id, line, source, field, reason, raw, raw_enc)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, batch, rj.Line, rj.Source, rj.Field, rj.Reason, pii.MaskText(rj.Raw), sealed); err != nil {
			return fmt.Errorf("importer: store reject: %w", err)
		}
	}
	return nil
}

// Reseal seals the plain text of rejects stored before it was sealed
// (masking raw in place), and re-seals sealed text under an old key,
// batch rows per transaction; idempotent. It returns how many rows changed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	// Rows not yet sealed, or not row-bound under the current key, drop out
	// of the query as they are done (substr, not LIKE: key ids may hold _).
	current := "v2." + s.keys.CurrentID() + "."
	var done int
	for {
		var n, seen int
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT batch_id, line, raw, raw_enc FROM import_rejects
				WHERE (raw_enc = '' AND raw <> '') OR (raw_enc <> '' AND substr(raw_enc, 1, $1) <> $2) LIMIT $3`,
				len(current), current, batch)
			if err != nil {
				return fmt.Errorf("importer: reseal: %w", err)
			}
			type row struct {
				batch    int64
				line     int
				raw, enc string
			}
			var todo []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.batch, &r.line, &r.raw, &r.enc); err != nil {
					rows.Close()
					return fmt.Errorf("importer: reseal: %w", err)
				}
				todo = append(todo, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("importer: reseal: %w", err)
			}
			seen = len(todo)
			for _, r := range todo {
				key := rejectRow(r.batch, r.line)
				plain, masked := r.raw, pii.MaskText(r.raw)
				if r.enc != "" {
					if plain, err = s.keys.OpenRow(r.enc, adRejectRaw, key); err != nil {
						return fmt.Errorf("importer: reseal reject %s: %w", key, err)
					}
					masked = r.raw
				}
				sealed, err := s.keys.SealRow(plain, adRejectRaw, key)
				if err != nil {
					return fmt.Errorf("importer: reseal reject %s: %w", key, err)
				}
				res, err := tx.ExecContext(ctx, `UPDATE import_rejects SET raw = $1, raw_enc = $2
					WHERE batch_id = $3 AND line = $4 AND raw = $5 AND raw_enc = $6`, masked, sealed, r.batch, r.line, r.raw, r.enc)
				if err != nil {
					return fmt.Errorf("importer: reseal reject %s: %w", key, err)
				}
				k, _ := res.RowsAffected()
				n += int(k)
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		// Done, or nothing changed (rows changed under us): stop.
		if seen < batch || n == 0 {
			return done, nil
		}
	}
}

// VerifySealed checks every reject's sealed text opens on its own batch and
// line, and that none still holds plain text.
func (s *Service) VerifySealed(ctx context.Context) (int, []pii.Problem, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT batch_id, line, raw, raw_enc FROM import_rejects
		WHERE raw <> '' OR raw_enc <> '' ORDER BY batch_id, line`)
	if err != nil {
		return 0, nil, fmt.Errorf("importer: verify sealed: %w", err)
	}
	defer rows.Close()
	var checked int
	var bad []pii.Problem
	for rows.Next() {
		var b int64
		var line int
		var raw, enc string
		if err := rows.Scan(&b, &line, &raw, &enc); err != nil {
			return 0, nil, fmt.Errorf("importer: verify sealed: %w", err)
		}
		checked++
		key := rejectRow(b, line)
		if enc == "" {
			bad = append(bad, pii.Problem{Ref: key, Column: "raw", Reason: "holds plain text (run 'suifang keys reseal')"})
		} else if p := s.keys.CheckRow(enc, adRejectRaw, key); p != "" {
			bad = append(bad, pii.Problem{Ref: key, Column: "raw_enc", Reason: p})
		}
	}
	return checked, bad, rows.Err()
}
