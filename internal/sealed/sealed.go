// Package sealed walks tables whose sealed columns are bound to their rows
// (pii.Keyring.SealRow): re-sealing values from before the binding or under
// a rotated-out key, and checking that every value opens on its own row.
// Patients, complaints and the outbox describe their tables; the walk is
// the same for all, so it lives here once.
package sealed

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"suifang/internal/pii"
	"suifang/internal/store"
)

// Column is a sealed column and the associated data it is sealed with.
type Column struct{ Name, AD string }

// Table describes a table with an id column: Key are the columns whose
// values, joined with "/", make the row key the values are bound to (they
// must exist before the INSERT and never change); Cols are the sealed
// columns. Names come from code, never from input.
type Table struct {
	Name string
	Key  []string
	Cols []Column
}

// RowKey joins a row's key values.
func RowKey(vals ...string) string { return strings.Join(vals, "/") }

func (t Table) selectRows() string {
	cols := append(append([]string{"id"}, t.Key...), names(t.Cols)...)
	return `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + t.Name
}

func names(cs []Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// row is one scanned row: id, key values, sealed values.
type row struct {
	id   int64
	key  []string
	vals []string
}

func (t Table) scan(rows *sql.Rows) (row, error) {
	r := row{key: make([]string, len(t.Key)), vals: make([]string, len(t.Cols))}
	dst := []any{&r.id}
	for i := range r.key {
		dst = append(dst, &r.key[i])
	}
	for i := range r.vals {
		dst = append(dst, &r.vals[i])
	}
	return r, rows.Scan(dst...)
}

// Reseal seals again, bound to its row and with the current key, every
// value of t that is not so yet, batch rows per transaction. A row changed
// meanwhile is skipped: whoever changed it sealed it the new way. It is
// idempotent and returns how many rows it re-sealed.
func Reseal(ctx context.Context, db *store.DB, keys *pii.Keyring, t Table, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	set := make([]string, len(t.Cols))
	where := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		set[i] = fmt.Sprintf("%s = $%d", c.Name, i+1)
		where[i] = fmt.Sprintf("%s = $%d", c.Name, len(t.Cols)+2+i)
	}
	update := `UPDATE ` + t.Name + ` SET ` + strings.Join(set, ", ") +
		fmt.Sprintf(` WHERE id = $%d AND `, len(t.Cols)+1) + strings.Join(where, " AND ")
	var done int
	for after := int64(0); ; {
		var n, seen int
		err := db.Write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, t.selectRows()+` WHERE id > $1 ORDER BY id LIMIT $2`, after, batch)
			if err != nil {
				return fmt.Errorf("sealed: reseal %s: %w", t.Name, err)
			}
			var todo []row
			for rows.Next() {
				r, err := t.scan(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("sealed: reseal %s: %w", t.Name, err)
				}
				seen++
				after = r.id
				for _, v := range r.vals {
					if keys.NeedsReseal(v) {
						todo = append(todo, r)
						break
					}
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("sealed: reseal %s: %w", t.Name, err)
			}
			for _, r := range todo {
				k := RowKey(r.key...)
				args := make([]any, 0, 2*len(t.Cols)+1)
				for i, c := range t.Cols {
					plain, err := keys.OpenRow(r.vals[i], c.AD, k)
					if err != nil {
						return fmt.Errorf("sealed: %s %d %s: %w", t.Name, r.id, c.Name, err)
					}
					v, err := keys.SealRow(plain, c.AD, k)
					if err != nil {
						return fmt.Errorf("sealed: %s %d %s: %w", t.Name, r.id, c.Name, err)
					}
					args = append(args, v)
				}
				args = append(args, r.id)
				for _, v := range r.vals {
					args = append(args, v)
				}
				res, err := tx.ExecContext(ctx, update, args...)
				if err != nil {
					return fmt.Errorf("sealed: reseal %s %d: %w", t.Name, r.id, err)
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

// Verify opens every sealed value of t with its row's key and names those
// that do not open there (copied from another row, or altered) or are not
// bound to a row yet. It returns how many values it checked.
func Verify(ctx context.Context, q store.Querier, keys *pii.Keyring, t Table) (int, []pii.Problem, error) {
	rows, err := q.QueryContext(ctx, t.selectRows()+` ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("sealed: verify %s: %w", t.Name, err)
	}
	defer rows.Close()
	var checked int
	var bad []pii.Problem
	for rows.Next() {
		r, err := t.scan(rows)
		if err != nil {
			return 0, nil, fmt.Errorf("sealed: verify %s: %w", t.Name, err)
		}
		k := RowKey(r.key...)
		for i, c := range t.Cols {
			if r.vals[i] == "" {
				continue
			}
			checked++
			if p := keys.CheckRow(r.vals[i], c.AD, k); p != "" {
				bad = append(bad, pii.Problem{ID: r.id, Ref: k, Column: c.Name, Reason: p})
			}
		}
	}
	return checked, bad, rows.Err()
}
