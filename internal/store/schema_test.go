package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestDialectsDescribeOneSchema migrates a SQLite and a PostgreSQL database
// and compares what the two DDL folders built: the same tables, the same
// columns with the same kind of type and the same NOT NULL, and the same
// named indexes. The SQL text is shared by both engines, so a column or an
// index that one folder forgot is a bug that only shows on one of them.
func TestDialectsDescribeOneSchema(t *testing.T) {
	lite := storetest.SQLite(t)
	pg := storetest.Postgres(t) // skips when no server is configured
	ctx := context.Background()

	ls, err := schemaOf(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := schemaOf(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.columns) < 50 {
		t.Fatalf("SQLite schema has only %d columns: the reader is broken", len(ls.columns))
	}
	diff := func(what string, a, b map[string]string) {
		for _, k := range sortedKeys(a) {
			if v, ok := b[k]; !ok {
				t.Errorf("%s %s exists on SQLite only", what, k)
			} else if v != a[k] {
				t.Errorf("%s %s: SQLite %s, PostgreSQL %s", what, k, a[k], v)
			}
		}
		for _, k := range sortedKeys(b) {
			if _, ok := a[k]; !ok {
				t.Errorf("%s %s exists on PostgreSQL only", what, k)
			}
		}
	}
	t.Logf("SQLite: %d columns, %d indexes; PostgreSQL: %d columns, %d indexes", len(ls.columns), len(ls.indexes), len(ps.columns), len(ps.indexes))
	diff("column", ls.columns, ps.columns)
	diff("index", ls.indexes, ps.indexes)
}

type schema struct {
	columns map[string]string // table.column → "kind null|notnull"
	indexes map[string]string // index name → table
}

// typeKind folds each engine's spelling of a type into one kind: the DDL
// says INTEGER on SQLite where PostgreSQL says BIGINT, BLOB where it says
// BYTEA, and SQLite stores BOOLEAN as an integer.
func typeKind(t string) string {
	t = strings.ToUpper(t)
	switch {
	case strings.Contains(t, "INT") || t == "BOOLEAN" || t == "BOOL" || strings.Contains(t, "SERIAL"):
		return "integer"
	case strings.Contains(t, "CHAR") || t == "TEXT":
		return "text"
	case t == "BLOB" || t == "BYTEA":
		return "bytes"
	case strings.Contains(t, "REAL") || strings.Contains(t, "DOUBLE") || strings.Contains(t, "NUMERIC") || strings.Contains(t, "FLOAT"):
		return "number"
	}
	return "other:" + t
}

func schemaOf(ctx context.Context, db *store.DB) (schema, error) {
	s := schema{columns: map[string]string{}, indexes: map[string]string{}}
	q := db.R()
	if db.Dialect == store.Postgres {
		rows, err := q.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
			FROM information_schema.columns c JOIN information_schema.tables t
			  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
		if err != nil {
			return s, fmt.Errorf("columns: %w", err)
		}
		for rows.Next() {
			var tb, col, typ, null string
			if err := rows.Scan(&tb, &col, &typ, &null); err != nil {
				rows.Close()
				return s, err
			}
			s.columns[tb+"."+col] = typeKind(typ) + " " + map[string]string{"YES": "null", "NO": "notnull"}[null]
		}
		rows.Close()
		return s, readIndexes(ctx, q, s.indexes, `SELECT indexname, tablename FROM pg_indexes
			WHERE schemaname = current_schema() AND indexname NOT LIKE '%\_pkey' ESCAPE '\' AND indexname NOT LIKE '%\_key' ESCAPE '\'`)
	}

	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return s, fmt.Errorf("tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return s, err
		}
		tables = append(tables, n)
	}
	rows.Close()
	for _, tb := range tables {
		rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info($1)`, tb)
		if err != nil {
			return s, fmt.Errorf("columns of %s: %w", tb, err)
		}
		for rows.Next() {
			var col, typ string
			var notnull, pk int
			if err := rows.Scan(&col, &typ, &notnull, &pk); err != nil {
				rows.Close()
				return s, err
			}
			// A PRIMARY KEY column is NOT NULL on PostgreSQL whatever the DDL says.
			null := "null"
			if notnull == 1 || pk > 0 {
				null = "notnull"
			}
			s.columns[tb+"."+col] = typeKind(typ) + " " + null
		}
		rows.Close()
	}
	// Indexes SQLite makes for UNIQUE and PRIMARY KEY constraints are named
	// sqlite_autoindex_*; PostgreSQL names them *_key / *_pkey (skipped above).
	return s, readIndexes(ctx, q, s.indexes,
		`SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'`)
}

// readIndexes fills into with index name → table from a two-column query.
func readIndexes(ctx context.Context, q store.Querier, into map[string]string, query string) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, tb string
		if err := rows.Scan(&name, &tb); err != nil {
			return err
		}
		into[name] = tb
	}
	return rows.Err()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
