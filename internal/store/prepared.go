package store

import (
	"context"
	"database/sql"
)

// TxStmts is a write transaction that compiles each distinct statement once
// and reuses it for the rest of the transaction. SQLite spends more time
// compiling a statement than running a small insert, so a bulk import that
// applies 500 rows per transaction compiles each statement once, not 500
// times. (Statements are not kept across transactions: with SQLite's single
// writer connection, preparing on the pool inside a transaction would wait
// for the connection the transaction holds.) It satisfies Querier.
type TxStmts struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// Stmts wraps tx for repeated statements; they close with the transaction.
func (db *DB) Stmts(tx *sql.Tx) *TxStmts {
	return &TxStmts{tx: tx, stmts: map[string]*sql.Stmt{}}
}

// Tx is the underlying transaction.
func (t *TxStmts) Tx() *sql.Tx { return t.tx }

func (t *TxStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = s
	return s, nil
}

// ExecContext runs a statement in the transaction.
func (t *TxStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs a query in the transaction.
func (t *TxStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row query in the transaction; a preparation
// error surfaces from Scan, as with *sql.Tx.
func (t *TxStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return t.tx.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}
