package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"suifang/internal/importer"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// A HIS export opened and saved in LibreOffice Calc (testdata of package
// intake): two ID numbers lost their last digits and 0301 became 301. No
// row of it is stored, and every reject says how to fix the file; the
// department code is not matched to 0301 silently, nor taken for a new
// department.
func TestImporterSpreadsheetDamage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "intake", "testdata", "spreadsheet", "his-export-libreoffice.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := setup(t, db, "H1")
		rep, err := e.imp.Import(ctx, sysadmin(), strings.NewReader(string(data)), importer.Options{Filename: "出院患者.xlsx"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != 0 || rep.Rejected != 3 || len(rep.Rejects) != 3 {
			t.Fatalf("report %+v", rep)
		}
		fields := map[string]int{}
		for _, rj := range rep.Rejects {
			fields[rj.Field]++
			if !strings.Contains(rj.Reason, ".xlsx 导入模板") || !strings.Contains(rj.Reason, "as text") {
				t.Errorf("reject %+v does not say how to fix the file", rj)
			}
		}
		if fields["身份证号"] != 2 || fields["科室代码"] != 1 {
			t.Errorf("reject fields %v", fields)
		}
		for _, rj := range rep.Rejects {
			if rj.Field == "科室代码" && (rj.Line != 4 || !strings.Contains(rj.Reason, "科室代码 301 不存在，而已有科室代码 0301")) {
				t.Errorf("department reject %+v", rj)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM encounters`); n != 0 {
			t.Errorf("%d encounters stored from a damaged file", n)
		}
	})
}
