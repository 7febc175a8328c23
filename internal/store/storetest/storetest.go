// Package storetest gives tests a fresh, migrated database on every engine
// available: always SQLite in a temp dir, and PostgreSQL when
// SUIFANG_TEST_POSTGRES names a server (scripts/test and .ci/run start one).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"suifang/internal/store"
)

// EnvPostgres is the variable holding an admin URL of a throw-away server.
const EnvPostgres = "SUIFANG_TEST_POSTGRES"

// Each runs fn once per engine as a subtest named after it.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, Postgres(t))
	})
}

// SQLite opens a migrated database file in t's temp dir.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "test.db"))
}

// Postgres creates a fresh database on the test server (skipping the test when
// there is none) and drops it when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := NewPostgresDSN(t)
	return open(t, dsn)
}

// DSN returns a location for a fresh database of the named engine
// ("sqlite" or "postgres"), for tests that open it themselves (the app).
func DSN(t testing.TB, engine string) string {
	if engine == "postgres" {
		return NewPostgresDSN(t)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// NewPostgresDSN creates an empty database and returns its URL.
func NewPostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skip(EnvPostgres + " not set: PostgreSQL tests skipped")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "suifang_t_" + hex.EncodeToString(b)
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("open admin: %v", err)
	}
	if _, err := adb.Exec(`CREATE DATABASE ` + name); err != nil {
		adb.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		adb.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}
