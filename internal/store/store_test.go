package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, err %v; want 0, nil", n, err)
		}
		p, err := db.Pending(ctx)
		if err != nil || p != 0 {
			t.Fatalf("pending = %d, %v", p, err)
		}
	})
}

func TestPortableSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 10, 10, 8, 30, 0, 123456000, time.UTC)
		var id int64
		err := db.Write(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO institutions (code, name, kind, active, created_at, updated_at)
				VALUES ($1,$2,$3,$4,$5,$5) RETURNING id`, "H1", "第一医院", "hospital", true, store.Micros(now)).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var active bool
		var at int64
		if err := db.R().QueryRowContext(ctx, `SELECT name, active, created_at FROM institutions WHERE id = $1`, id).Scan(&name, &active, &at); err != nil {
			t.Fatal(err)
		}
		if name != "第一医院" || !active || !store.Time(at).Equal(now) {
			t.Fatalf("round trip: %q %v %v", name, active, store.Time(at))
		}
		// Unique violations are recognised on both engines.
		err = db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO institutions (code, name, kind, active, created_at, updated_at)
				VALUES ($1,$2,$3,$4,$5,$5)`, "H1", "dup", "hospital", true, 0)
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
	})
}

func TestWriteRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO institutions (code, name, kind, active, created_at, updated_at)
				VALUES ('X','x','hospital',$1,0,0)`, true); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		var n int
		db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions`).Scan(&n)
		if n != 0 {
			t.Fatalf("rolled-back insert is visible: %d rows", n)
		}
	})
}

func TestAuditLogRefusesUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, action, success, prev_hash, hash) VALUES (1,'x',$1,'a','b')`, true)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE audit_log SET action = 'y'`)
			return err
		})
		if err == nil {
			t.Fatal("update of audit_log succeeded; want refusal")
		}
	})
}

// Concurrent writers on SQLite queue on the single writer connection instead
// of failing with SQLITE_BUSY.
func TestSQLiteConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- db.Write(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO institutions (code, name, kind, active, created_at, updated_at)
					VALUES ($1,'n','hospital',$2,0,0)`, "C"+string(rune('A'+i%26))+string(rune('a'+i/26)), true)
				return err
			})
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions`).Scan(&n)
	if n != 40 {
		t.Fatalf("rows = %d, want 40", n)
	}
}

func TestPlaceholders(t *testing.T) {
	pg, lite := &store.DB{Dialect: store.Postgres}, &store.DB{Dialect: store.SQLite}
	for _, c := range []struct{ got, want string }{
		{pg.Values(2, 2), "($1,$2),($3,$4)"},
		{lite.Values(2, 2), "(?,?),(?,?)"},
		{pg.In(3, 2), "($2,$3,$4)"},
		{lite.In(3, 2), "(?,?,?)"},
		{pg.Param(7), "$7"},
		{lite.Param(7), "?"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestWritersReadUnderLock: many writers queue on one advisory lock and the
// holder reads through the pool before it commits, as complaint writers
// read the calendar. With every connection held by queued writers the
// holder would wait for a connection forever; DB.Write keeps half the pool
// free of writers. The timeout turns a deadlock into a failure.
func TestWritersReadUnderLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const writers = 24
		var wg sync.WaitGroup
		errc := make(chan error, writers)
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- db.Write(ctx, func(tx *sql.Tx) error {
					if err := db.SerializeKey(ctx, tx, 42); err != nil {
						return err
					}
					var one int
					if err := db.R().QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
						return err
					}
					time.Sleep(2 * time.Millisecond) // hold the lock while others queue
					return nil
				})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
		}
	})
}

// TestSQLitePathWithHash: a second storetest.Each in one test names its
// subtest "sqlite#01"; its temp dir holds a '#', which a URI filename reads
// as the start of a fragment. Two databases under such names stay apart.
func TestSQLitePathWithHash(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var dbs []*store.DB
	for _, name := range []string{"a#1", "a#2", "100%"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, filepath.Join(dir, name, "test.db"), store.Options{})
		if err != nil {
			t.Fatalf("open under %q: %v", name, err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate under %q: %v", name, err)
		}
		dbs = append(dbs, db)
	}
	if err := dbs[0].Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO institutions (code, name, kind, timezone, service_hours, active, created_at, updated_at)
			VALUES ('H1', '医院', 'hospital', 'Asia/Shanghai', '', $1, 0, 0)`, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, db := range dbs {
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[i == 0]; n != want {
			t.Errorf("database %d holds %d institutions, want %d: the paths share a file", i, n, want)
		}
		if _, err := os.Stat(filepath.Join(dir, []string{"a#1", "a#2", "100%"}[i], "test.db")); err != nil {
			t.Errorf("no file in its own folder: %v", err)
		}
	}
}
