// Package store opens Suifang's database — an embedded SQLite file or a
// PostgreSQL server — applies the embedded migrations and offers the small
// transaction helpers every room uses. SQL text itself lives with the room that
// owns the table; only what truly differs between engines is decided here.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	_ "modernc.org/sqlite"             // registers driver "sqlite"
)

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Querier is what both *sql.DB and *sql.Tx offer; store methods accept it so a
// caller decides whether a read happens inside its transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. With SQLite, writes go through a single connection
// (SQLite allows one writer; queuing in Go beats busy-waiting in the engine)
// and reads through a pool; with PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	log     *slog.Logger
	// writers bounds concurrent write transactions on PostgreSQL to half
	// the pool. A writer may read through the pool while it holds an
	// advisory lock (a calendar, a lookup); were every connection held by
	// writers queued on that lock, the holder would wait for a connection
	// forever. With at most half the pool writing, each writer always
	// finds one. SQLite has its own writer connection and needs none.
	writers chan struct{}
}

// Options tune Open.
type Options struct {
	Logger      *slog.Logger
	BusyTimeout time.Duration // SQLite: how long a statement waits for a lock
	MaxReaders  int           // SQLite reader pool size; PostgreSQL pool size
}

// IsPostgresURL reports whether dsn names a PostgreSQL server.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn (a SQLite file path or a postgres:// URL). It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.MaxReaders <= 0 {
		opt.MaxReaders = max(4, runtime.NumCPU()*2)
	}
	if dsn == "" {
		return nil, errors.New("store: empty database location")
	}
	var db *DB
	var err error
	if IsPostgresURL(dsn) {
		db, err = openPostgres(dsn, opt)
	} else {
		db, err = openSQLite(dsn, opt)
	}
	if err != nil {
		return nil, err
	}
	db.log = opt.Logger
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(dsn string, opt Options) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(opt.MaxReaders + 2)
	pool.SetMaxIdleConns(opt.MaxReaders)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Dialect: Postgres, write: pool, read: pool, writers: make(chan struct{}, max(1, (opt.MaxReaders+2)/2))}, nil
}

func openSQLite(path string, opt Options) (*DB, error) {
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if err := privateFiles(path, opt.Logger); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Worklists read many index pages: a 64 MiB page cache and memory-mapped
	// reads keep them out of read(2) calls.
	q.Add("_pragma", "cache_size(-65536)")
	// A URI filename: '%' and '#' in the path (a test's temp dir named
	// "sqlite#01", a folder called "100%") are escaped or SQLite would read
	// them as an escape and a fragment.
	base := "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(path) + "?"
	// Only readers map the file: mapped pages count as the process's
	// resident memory, and a bulk import through a mapped writer grew to
	// 546 MB on a 2.5 GB database; the writer's page cache is enough for it.
	rq := url.Values{"_pragma": append(append([]string(nil), q["_pragma"]...), "mmap_size(1073741824)", "query_only(1)")}
	// Writers take the lock at BEGIN so two writers never deadlock upgrading
	// from a read lock; readers use plain deferred transactions.
	w, err := sql.Open("sqlite", base+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", base+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(opt.MaxReaders)
	r.SetMaxIdleConns(opt.MaxReaders)
	return &DB{Dialect: SQLite, write: w, read: r}, nil
}

// privateFiles makes the database file readable by its owner only (0600)
// before SQLite opens it: it holds patient data, and SQLite gives the -wal
// and -shm files it creates the database file's mode. A file created with a
// looser mode by an older version is tightened, with a warning.
func privateFiles(path string, log *slog.Logger) error {
	if path == "" || path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("store: create database file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("store: make %s private: %w", p, err)
		}
		log.Warn("database file was readable by other users; made it owner-only (0600)", "file", p, "was", st.Mode().Perm().String())
	}
	return nil
}

// Ping checks that the database answers. The SQLite writer is pinged first so
// the file and WAL exist before the read-only pool touches them.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping readers: %w", err)
		}
	}
	return nil
}

// Close closes every pool.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// R is the pool for reads outside a transaction.
func (db *DB) R() Querier { return db.read }

// Write runs fn in a read-write transaction and commits when fn returns nil.
// Use it for every change that must be atomic, audit entry included.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.writers != nil {
		select {
		case db.writers <- struct{}{}:
			defer func() { <-db.writers }()
		case <-ctx.Done():
			return fmt.Errorf("store: wait to write: %w", ctx.Err())
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Read runs fn in a read-only snapshot so several queries see one state.
func (db *DB) Read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.Dialect == Postgres})
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only, nothing to keep
	return fn(tx)
}

// SerializeKey takes a transaction-scoped lock named by key, so appends to a
// hash chain from two instances cannot interleave. SQLite serialises writers
// already, so it needs nothing.
func (db *DB) SerializeKey(ctx context.Context, tx *sql.Tx, key int64) error {
	if db.Dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return fmt.Errorf("store: advisory lock %d: %w", key, err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine, so services can answer "already exists" instead of 500.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// IsTransient reports whether err is a failure that running the same
// transaction again may not meet: a PostgreSQL deadlock or serialization
// failure, or a SQLite database that stayed locked past the busy timeout.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40P01") || strings.Contains(s, "SQLSTATE 40001") ||
		strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

// Micros converts an instant to the stored form: UTC microseconds since the
// Unix epoch. Both engines compare and index integers identically, which text
// timestamps in SQLite do not guarantee.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Time converts a stored instant back; 0 is the zero time.
func Time(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// NullMicros is Micros for optional instants: zero becomes SQL NULL.
func NullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}
