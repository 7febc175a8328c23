package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"suifang/internal/store"
)

// The database file and SQLite's -wal and -shm files hold patient data:
// only their owner may read them, whatever the umask, and a file an older
// version left world-readable is tightened on open.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022) // the common default, which gave 0644
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	check := func(path string) {
		t.Helper()
		db, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(p), err)
			}
			if m := st.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %v, want -rw-------", filepath.Base(p), m)
			}
		}
	}
	check(filepath.Join(dir, "new.db"))

	legacy := filepath.Join(dir, "legacy.db")
	if err := os.WriteFile(legacy, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check(legacy)
}
