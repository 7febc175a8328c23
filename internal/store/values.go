package store

import (
	"strconv"
	"strings"
)

// Values returns the VALUES list of a multi-row INSERT: rows groups of cols
// placeholders. One statement for many rows saves the per-statement cost
// that dominates small inserts on both engines. PostgreSQL gets $1, $2, …;
// SQLite gets plain ? because the driver looks each numbered parameter's
// name up in a list, which made a 5,000-parameter statement quadratic (half
// the import's CPU in a profile).
func (db *DB) Values(rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * cols * 5)
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			if db.Dialect == Postgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Chunks calls f for consecutive [lo, hi) ranges of at most size items
// covering n, so a multi-row statement stays under the engines' parameter
// limits (SQLite 32,766, PostgreSQL 65,535) and its text repeats, which lets
// a TxStmts compile it once.
func Chunks(n, size int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := f(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// Param is placeholder number n: "$n" on PostgreSQL, "?" on SQLite (see
// Values for why). On SQLite a statement using ? must use it throughout.
func (db *DB) Param(n int) string {
	if db.Dialect == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// In returns an IN list of n placeholders whose first is number first.
func (db *DB) In(n, first int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(db.Param(first + i))
	}
	b.WriteByte(')')
	return b.String()
}
