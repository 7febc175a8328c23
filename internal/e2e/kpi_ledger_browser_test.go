package e2e

// The monthly ledger (台账) in a browser: quality opens a department's
// month of the demo data, sees masked rows, prints it on A4 landscape with
// the signature line, and the print layout hides the navigation.

import (
	"fmt"
	"net/http"
	"testing"
)

func TestBrowserKPILedger(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)
	// The department with the most September discharges in the demo.
	var inst, dept int64
	var n int
	if err := s.App.DB.R().QueryRowContext(t.Context(), `SELECT institution_id, department_id, COUNT(*) FROM encounters
		WHERE status = 'discharged' AND class = 'inpatient' AND department_id <> 0
		AND discharge_date >= '2026-09-01' AND discharge_date < '2026-10-01'
		GROUP BY institution_id, department_id ORDER BY COUNT(*) DESC, department_id LIMIT 1`).Scan(&inst, &dept, &n); err != nil {
		t.Fatal(err)
	}
	q := b.loggedIn(t, "quality")
	if st := q.open(fmt.Sprintf("/kpi/ledger?inst=%d&dept=%d&month=2026-09", inst, dept)); st != http.StatusOK {
		t.Fatalf("ledger = %d", st)
	}
	q.wantText("出院患者随访台账", "督查签名", "督查人签名：", fmt.Sprintf("共 %d 人次", n))
	q.wantNoUntranslated()
	if got := q.eval(`document.querySelectorAll('#ledger-table tbody tr').length`); fmt.Sprint(got) != fmt.Sprint(n) {
		t.Errorf("%v rows, want %d", got, n)
	}
	q.shot("70-kpi-ledger.png")
	q.media("print")
	q.shot("71-kpi-ledger-print.png")
	if q.eval(`getComputedStyle(document.querySelector('.sidenav')).display`) != "none" ||
		q.eval(`getComputedStyle(document.querySelector('#ledger-excel')).display`) != "none" ||
		q.eval(`getComputedStyle(document.querySelector('.kpi-ledger-sign')).display`) == "none" ||
		q.eval(`getComputedStyle(document.querySelector('#ledger-table thead')).display`) != "table-header-group" {
		t.Error("the print layout keeps the navigation or the button, hides the signatures or the repeated header")
	}
	q.media("")
}
