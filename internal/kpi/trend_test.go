package kpi_test

import (
	"reflect"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/kpi"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// TestTrendEqualsMonths: the one-pass trend is, month by month, the total
// of ReportByCode (one Compute per month) for a hospital, a department
// head's slice and a group; August, September and October all hold
// stays or answers (the October records answer September's stays).
func TestTrendEqualsMonths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		sys := access.System()
		g := testkit.Must(t)(w.e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "G1", Name: "杭州医疗集团", Kind: org.KindGroup, Active: true}))
		if err := w.e.Org.UpdateInstitution(ctx, sys, w.inst, org.InstitutionInput{Code: "H1", Name: "杭州市第一人民医院",
			Kind: org.KindHospital, ParentID: g, Active: true}); err != nil {
			t.Fatal(err)
		}
		testkit.Must(t)(w.e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H2", Name: "杭州市第二人民医院",
			Kind: org.KindHospital, ParentID: g, Active: true}))
		resp := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY05'`)
		head := &access.Principal{UserID: 900, Username: "huxi_zr", Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: resp}}, InstitutionID: w.inst}
		first := kpi.Month{Year: 2025, Month: time.November}
		for _, c := range []struct {
			name, code string
			p          *access.Principal
		}{{"hospital", "H1", sys}, {"head", "H1", head}, {"group", "G1", sys}} {
			rows, err := w.e.KPI.TrendByCode(ctx, c.p, c.code, first, 12)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			m, nonEmpty := first, 0
			for i := range 12 {
				rep, err := w.e.KPI.ReportByCode(ctx, c.p, c.code, m)
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, m, err)
				}
				if !reflect.DeepEqual(rows[i], rep.Total) {
					t.Errorf("%s %s: trend %+v\nmonth %+v", c.name, m, rows[i], rep.Total)
				}
				if rep.Total.Discharges+rep.Total.SatisfactionAnswers > 0 {
					nonEmpty++
				}
				m = m.Next()
			}
			// August, September (stays) and October (answers).
			if nonEmpty < 3 && c.name != "head" {
				t.Errorf("%s: only %d months hold figures; the comparison proves little", c.name, nonEmpty)
			}
		}
		nurse := &access.Principal{UserID: 901, Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: w.inst}}, InstitutionID: w.inst}
		if _, err := w.e.KPI.TrendByCode(ctx, nurse, "H1", first, 12); !isKind(err, errs.Forbidden) {
			t.Errorf("a nurse read the trend: %v", err)
		}
	})
}
