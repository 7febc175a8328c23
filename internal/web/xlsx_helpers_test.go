package web

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxSheets reads every sheet of a downloaded workbook and checks that
// each declares the range its rows really use (streaming readers trust it).
func xlsxSheets(t *testing.T, data []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("workbook: %v", err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, sh := range f.GetSheetList() {
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		out[sh] = rows
		cols := 0
		for _, r := range rows {
			cols = max(cols, len(r))
		}
		want := "A1"
		if len(rows) > 0 && cols > 0 {
			last, _ := excelize.CoordinatesToCellName(cols, len(rows))
			want = "A1:" + last
		}
		if dim, _ := f.GetSheetDimension(sh); dim != want {
			t.Errorf("sheet %s declares %q, uses %q", sh, dim, want)
		}
	}
	return out
}

// hasRow reports whether a row starts with the given cells.
func hasRow(rows [][]string, cells ...string) bool {
	for _, r := range rows {
		if len(r) < len(cells) {
			continue
		}
		ok := true
		for i, c := range cells {
			ok = ok && r[i] == c
		}
		if ok {
			return true
		}
	}
	return false
}
