package complaint_test

import (
	"testing"

	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestRecordExportAuditsInScopeOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c := e.register(e.agent, e.phoneComplaint())
		// The orthopaedic nurse sees neither the department nor the case.
		wantErr(t, e.cs.RecordExport(ctx, e.orthoNurse, c.ID, "sheet.pdf"), errs.Forbidden, "out_of_scope")
		wantErr(t, e.cs.RecordExport(ctx, e.quality, c.ID, " "), errs.Invalid, "complaint_export_kind")
		if err := e.cs.RecordExport(ctx, e.head, c.ID, "sheet.pdf"); err != nil {
			t.Fatal(err)
		}
		got, err := e.sv.Audit.List(ctx, e.quality, audit.Filter{Action: "complaint.export"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ObjectID != c.Number || got[0].Actor != "head" || got[0].Detail != "sheet.pdf" ||
			got[0].InstitutionID != e.inst {
			t.Fatalf("audit entries %+v; want one export by head of %s", got, c.Number)
		}
	})
}
