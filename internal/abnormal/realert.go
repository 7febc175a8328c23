package abnormal

import (
	"context"
	"database/sql"
	"fmt"

	"suifang/internal/access"
	"suifang/internal/notice"
	"suifang/internal/store"
)

// Realert runs one pass of the re-alert worker: a report nobody has
// acknowledged RealertAfter service hours after it was filed alerts
// leadership once more (quality when the institution has no leadership
// account). Exactly once however many instances run it: the conditional
// UPDATE that clears realert_due and the messages, whose idempotency keys
// name the step, commit in one transaction, and a second instance finds
// nothing left to clear. It acts only inside the institution's service
// hours on working days. It returns the number of reports re-alerted.
func (s *Service) Realert(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, institution_id FROM abnormal_reports WHERE realert_due > 0 AND realert_due <= $1
		ORDER BY institution_id, id`, store.Micros(now))
	if err != nil {
		return 0, fmt.Errorf("abnormal: realert: %w", err)
	}
	type due struct{ id, inst int64 }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.inst); err != nil {
			rows.Close()
			return 0, fmt.Errorf("abnormal: realert: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("abnormal: realert: %w", err)
	}
	total := 0
	inService := map[int64]bool{}
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		in, ok := inService[d.inst]
		if !ok {
			pol, err := s.cals.Policy(ctx, d.inst)
			if err != nil {
				return total, err
			}
			in = notice.InService(pol, now)
			inService[d.inst] = in
		}
		if !in {
			continue // nobody is there to act: wait for the next opening
		}
		done := false
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			done = false
			// The chain lock first, as every writer of reports takes it.
			if err := s.db.SerializeKey(ctx, tx, chainKey(d.inst)); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE abnormal_reports SET realert_due = 0, realerted_at = $1, updated_at = $1
				WHERE id = $2 AND realert_due > 0 AND realert_due <= $1 AND status = $3`, store.Micros(now), d.id, Reported)
			if err != nil {
				return fmt.Errorf("abnormal: realert %d: %w", d.id, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another instance did it, or it was acknowledged meanwhile
			}
			r, err := s.get(ctx, tx, d.id)
			if err != nil {
				return err
			}
			roles := []access.Role{access.Leadership}
			leaders, err := s.usersWith(ctx, tx, r.InstitutionID, roles)
			if err != nil {
				return err
			}
			if len(leaders) == 0 {
				roles = []access.Role{access.Quality}
			}
			done = true
			return s.alert(ctx, tx, r, "abnormal.realert", "realert", roles)
		})
		if err != nil {
			return total, err
		}
		if done {
			total++
		}
	}
	return total, nil
}
