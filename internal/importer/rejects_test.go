package importer_test

import (
	"database/sql"
	"strings"
	"testing"

	"suifang/internal/audit"
	"suifang/internal/importer"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// A rejected row carries the patient's ID number and phone like any other:
// the database keeps only a masked copy in raw and the full text sealed;
// the report shows the masked copy and the audited download the full row.
func TestRejectsAreSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		bad := strings.Replace(row("H1", "M4", "V4", "赵四", "2026-13-45"), ",男,,", ",男,11010519491231002X,", 1)
		rep := e.importCSV(sysadmin(), header+row("H1", "M1", "V1", "李建国", "2026-09-30 09:30")+bad, importer.Options{})
		if rep.Rejected != 1 || rep.Rejects[0].Line != 3 {
			t.Fatalf("report %+v", rep)
		}
		var raw, enc string
		if err := db.R().QueryRowContext(ctx, `SELECT raw, raw_enc FROM import_rejects WHERE batch_id = $1`, rep.BatchID).Scan(&raw, &enc); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"11010519491231002X", "13800138000"} {
			if strings.Contains(raw, secret) || strings.Contains(enc, secret) {
				t.Errorf("import_rejects holds %s in plain text: raw %q", secret, raw)
			}
		}
		if !strings.Contains(raw, "赵四") || !strings.HasPrefix(enc, "v2.t1.") {
			t.Errorf("raw %q, raw_enc %.10q", raw, enc)
		}
		shown, err := e.imp.Rejects(ctx, sysadmin(), rep.BatchID)
		if err != nil || len(shown) != 1 || shown[0].Raw != raw {
			t.Fatalf("report rejects %+v, %v", shown, err)
		}
		full, err := e.imp.RevealRejects(ctx, sysadmin(), rep.BatchID)
		if err != nil || len(full) != 1 || !strings.Contains(full[0].Raw, "11010519491231002X") || !strings.Contains(full[0].Raw, "13800138000") {
			t.Fatalf("download rejects %+v, %v", full, err)
		}
		if list, _ := e.au.List(ctx, sysadmin(), audit.Filter{Action: "import.rejects_download"}); len(list) != 1 {
			t.Errorf("the full view was audited %d times, want 1", len(list))
		}
		// Moved onto another line's row, the sealed text does not open.
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE import_rejects SET line = 9 WHERE batch_id = $1`, rep.BatchID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.imp.RevealRejects(ctx, sysadmin(), rep.BatchID); err == nil {
			t.Error("a reject moved to another line still opens")
		}
	})
}
