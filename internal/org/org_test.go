package org_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/clock"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

type env struct {
	db    *store.DB
	clk   *clock.Fake
	audit *audit.Service
	org   *org.Service
}

func setup(t *testing.T, db *store.DB, hooks ...org.Hook) *env {
	e := &env{db: db, clk: newClock()}
	e.audit = audit.New(db, e.clk.Now)
	e.org = org.New(org.Deps{DB: db, Audit: e.audit, Now: e.clk.Now, OnCreate: hooks})
	return e
}

func (e *env) inst(t *testing.T, code, kind string, parent int64) int64 {
	t.Helper()
	id, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: code, Name: code + " 医院", Kind: kind, ParentID: parent})
	if err != nil {
		t.Fatalf("institution %s: %v", code, err)
	}
	return id
}

func (e *env) dept(t *testing.T, inst int64, code string, parent int64) int64 {
	t.Helper()
	id, err := e.org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: inst, Code: code, Name: code + " 科", ParentID: parent})
	if err != nil {
		t.Fatalf("department %s: %v", code, err)
	}
	return id
}

// entries returns the audit entries with action, oldest first.
func (e *env) entries(t *testing.T, action string) []audit.Entry {
	t.Helper()
	es, err := e.audit.List(ctx, access.System(), audit.Filter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Action == action {
			out = append(out, es[i])
		}
	}
	return out
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func wantErr(t *testing.T, what string, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || errs.CodeOf(err) != code {
		t.Errorf("%s: err = %v (kind %v, code %s); want %v %s", what, err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func nurseOf(gs ...access.Grant) *access.Principal {
	return &access.Principal{UserID: 50, Username: "nurse", Roles: []access.Role{access.Nurse}, Grants: gs}
}

func TestCreateInstitution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		grp := e.inst(t, "GRP", org.KindGroup, 0)
		id, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: " H-1.a ", Name: " 第一医院 ", ParentID: grp})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.org.Institution(ctx, access.System(), id)
		want := &org.Institution{ID: id, Code: "H-1.a", Name: "第一医院", Kind: org.KindHospital, ParentID: grp,
			Timezone: "Asia/Shanghai", ServiceHours: "08:00-17:30", Active: true}
		if err != nil || *got != *want {
			t.Fatalf("created %+v (%v), want %+v", got, err, want)
		}
		if got.Location().String() != "Asia/Shanghai" {
			t.Errorf("location %v", got.Location())
		}
		if byCode, err := e.org.InstitutionByCode(ctx, " H-1.a "); err != nil || byCode.ID != id {
			t.Errorf("by code: %+v %v", byCode, err)
		}
		_, err = e.org.InstitutionByCode(ctx, "NOPE")
		wantErr(t, "unknown code", err, errs.NotFound, "institution_not_found")
		es := e.entries(t, "institution.create")
		if len(es) != 2 || es[1].ObjectID != fmt.Sprint(id) || es[1].InstitutionID != id || es[1].Actor != "system" ||
			!strings.Contains(es[1].Detail, "code=H-1.a") {
			t.Errorf("audit: %+v", es)
		}

		hosp := id
		admin := &access.Principal{UserID: 1, Username: "root", Roles: []access.Role{access.SysAdmin}, Global: true}
		cases := []struct {
			name string
			p    *access.Principal
			in   org.InstitutionInput
			kind errs.Kind
			code string
		}{
			{"nurse", nurseOf(access.Grant{InstitutionID: grp}), org.InstitutionInput{Code: "X1", Name: "x"}, errs.Forbidden, "admin_only"},
			{"leadership", &access.Principal{Roles: []access.Role{access.Leadership}, Global: true}, org.InstitutionInput{Code: "X2", Name: "x"}, errs.Forbidden, "admin_only"},
			{"nil principal", nil, org.InstitutionInput{Code: "X3", Name: "x"}, errs.Forbidden, "admin_only"},
			{"empty code", admin, org.InstitutionInput{Code: "  ", Name: "x"}, errs.Invalid, "bad_code"},
			{"code with space", admin, org.InstitutionInput{Code: "H 2", Name: "x"}, errs.Invalid, "bad_code"},
			{"code starting with dash", admin, org.InstitutionInput{Code: "-H2", Name: "x"}, errs.Invalid, "bad_code"},
			{"code too long", admin, org.InstitutionInput{Code: strings.Repeat("A", 33), Name: "x"}, errs.Invalid, "bad_code"},
			{"chinese code", admin, org.InstitutionInput{Code: "医院", Name: "x"}, errs.Invalid, "bad_code"},
			{"no name", admin, org.InstitutionInput{Code: "X4", Name: " "}, errs.Invalid, "bad_name"},
			{"name too long", admin, org.InstitutionInput{Code: "X5", Name: strings.Repeat("院", 101)}, errs.Invalid, "bad_name"},
			{"bad kind", admin, org.InstitutionInput{Code: "X6", Name: "x", Kind: "campus"}, errs.Invalid, "bad_kind"},
			{"bad timezone", admin, org.InstitutionInput{Code: "X7", Name: "x", Timezone: "Mars/Olympus"}, errs.Invalid, "bad_timezone"},
			{"bad hours", admin, org.InstitutionInput{Code: "X8", Name: "x", ServiceHours: "8-17"}, errs.Invalid, "bad_service_hours"},
			{"hours 25", admin, org.InstitutionInput{Code: "X9", Name: "x", ServiceHours: "08:00-25:00"}, errs.Invalid, "bad_service_hours"},
			{"parent is a hospital", admin, org.InstitutionInput{Code: "X10", Name: "x", ParentID: hosp}, errs.Invalid, "bad_parent"},
			{"parent unknown", admin, org.InstitutionInput{Code: "X11", Name: "x", ParentID: 9999}, errs.Invalid, "bad_parent"},
			{"duplicate code", admin, org.InstitutionInput{Code: "H-1.a", Name: "again"}, errs.Invalid, "code_taken"},
			{"duplicate group code", admin, org.InstitutionInput{Code: "GRP", Name: "again", Kind: org.KindGroup}, errs.Invalid, "code_taken"},
		}
		for _, tc := range cases {
			id, err := e.org.CreateInstitution(ctx, tc.p, tc.in)
			if id != 0 {
				t.Errorf("%s: id %d", tc.name, id)
			}
			wantErr(t, tc.name, err, tc.kind, tc.code)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM institutions`); n != 2 {
			t.Errorf("%d institutions after refusals", n)
		}

		// A clinic with its own time zone and hours.
		cid, err := e.org.CreateInstitution(ctx, admin, org.InstitutionInput{Code: "C1", Name: "门诊部", Kind: org.KindClinic,
			Timezone: "Asia/Urumqi", ServiceHours: "10:00-19:00", ParentID: grp})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := e.org.Institution(ctx, admin, cid)
		if c.Kind != org.KindClinic || c.Location().String() != "Asia/Urumqi" || c.ServiceHours != "10:00-19:00" {
			t.Errorf("clinic %+v", c)
		}
		if es := e.entries(t, "institution.create"); len(es) != 3 || es[2].Actor != "root" {
			t.Errorf("audit: %+v", es)
		}
	})
}

func TestCreateInstitutionHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls []int64
		fail := false
		record := func(ctx context.Context, tx *sql.Tx, id int64) error {
			calls = append(calls, id)
			// Writes through the creating transaction see the new row.
			_, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (institution_id, year, updated_at) VALUES ($1, 2026, 0)`, id)
			return err
		}
		refuse := func(ctx context.Context, tx *sql.Tx, id int64) error {
			if fail {
				return errs.New(errs.Invalid, "hook_refused", "no")
			}
			return nil
		}
		e := setup(t, db, record, refuse)

		id := e.inst(t, "H1", org.KindHospital, 0)
		if len(calls) != 1 || calls[0] != id {
			t.Fatalf("hook calls %v, want [%d]", calls, id)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM calendar_years WHERE institution_id = $1`, id); n != 1 {
			t.Fatalf("hook row: %d", n)
		}

		fail = true
		id2, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H2", Name: "二院"})
		wantErr(t, "hook error", err, errs.Invalid, "hook_refused")
		if id2 != 0 {
			t.Errorf("id %d returned with an error", id2)
		}
		if len(calls) != 2 {
			t.Fatalf("hook calls %v", calls)
		}
		// Everything rolled back: institution, the first hook's row, the audit entry.
		if n := e.count(t, `SELECT COUNT(*) FROM institutions WHERE code = 'H2'`); n != 0 {
			t.Error("institution kept after a hook failed")
		}
		if n := e.count(t, `SELECT COUNT(*) FROM calendar_years WHERE institution_id = $1`, calls[1]); n != 0 {
			t.Error("first hook's write kept after the second failed")
		}
		if n := len(e.entries(t, "institution.create")); n != 1 {
			t.Errorf("%d institution.create entries, want 1", n)
		}
		_, err = e.org.InstitutionByCode(ctx, "H2")
		wantErr(t, "rolled back", err, errs.NotFound, "institution_not_found")

		// A plain Go error from a hook comes back unchanged.
		boom := errors.New("boom")
		e2 := setup(t, db, func(context.Context, *sql.Tx, int64) error { return boom })
		if _, err := e2.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H3", Name: "三院"}); !errors.Is(err, boom) {
			t.Errorf("hook error: %v", err)
		}
		if res, err := e.audit.Verify(ctx); err != nil || !res.OK {
			t.Errorf("audit chain: %+v %v", res, err)
		}
	})
}

func TestUpdateInstitution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		grp := e.inst(t, "G", org.KindGroup, 0)
		h1 := e.inst(t, "H1", org.KindHospital, 0)
		h2 := e.inst(t, "H2", org.KindHospital, 0)

		in := org.InstitutionInput{Code: "H1X", Name: "改名医院", Kind: org.KindHospital, ParentID: grp,
			Timezone: "Asia/Shanghai", ServiceHours: "07:30-18:00", Active: false}
		wantErr(t, "nurse", e.org.UpdateInstitution(ctx, nurseOf(access.Grant{InstitutionID: h1}), h1, in), errs.Forbidden, "admin_only")
		wantErr(t, "unknown", e.org.UpdateInstitution(ctx, access.System(), 9999, in), errs.NotFound, "institution_not_found")
		e.clk.Advance(time.Hour)
		if err := e.org.UpdateInstitution(ctx, access.System(), h1, in); err != nil {
			t.Fatal(err)
		}
		got, _ := e.org.Institution(ctx, access.System(), h1)
		want := org.Institution{ID: h1, Code: "H1X", Name: "改名医院", Kind: org.KindHospital, ParentID: grp,
			Timezone: "Asia/Shanghai", ServiceHours: "07:30-18:00", Active: false}
		if *got != want {
			t.Fatalf("updated %+v, want %+v", got, want)
		}
		var updated int64
		db.R().QueryRowContext(ctx, `SELECT updated_at FROM institutions WHERE id = $1`, h1).Scan(&updated)
		if !store.Time(updated).Equal(e.clk.Now()) {
			t.Errorf("updated_at %v", store.Time(updated))
		}

		dup := in
		dup.Code = "H2"
		wantErr(t, "duplicate code", e.org.UpdateInstitution(ctx, access.System(), h1, dup), errs.Invalid, "code_taken")
		self := org.InstitutionInput{Code: "G", Name: "集团", Kind: org.KindGroup, ParentID: grp}
		wantErr(t, "own parent", e.org.UpdateInstitution(ctx, access.System(), grp, self), errs.Invalid, "bad_parent")
		hp := in
		hp.ParentID = h2
		wantErr(t, "hospital parent", e.org.UpdateInstitution(ctx, access.System(), h1, hp), errs.Invalid, "bad_parent")
		bad := in
		bad.ServiceHours = "late"
		wantErr(t, "bad hours", e.org.UpdateInstitution(ctx, access.System(), h1, bad), errs.Invalid, "bad_service_hours")
		if got, _ := e.org.Institution(ctx, access.System(), h1); *got != want {
			t.Errorf("refused updates changed %+v", got)
		}

		es := e.entries(t, "institution.update")
		if len(es) != 1 || es[0].ObjectID != fmt.Sprint(h1) || es[0].InstitutionID != h1 ||
			!strings.Contains(es[0].Detail, "active=false") || !strings.Contains(es[0].Detail, "hours=07:30-18:00") {
			t.Errorf("audit: %+v", es)
		}
	})
}

func TestInstitutionScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h1 := e.inst(t, "H1", org.KindHospital, 0)
		grp := e.inst(t, "G", org.KindGroup, 0)
		h2 := e.inst(t, "H2", org.KindHospital, grp)
		a := e.dept(t, h1, "A", 0)

		deptOnly := nurseOf(access.Grant{InstitutionID: h1, DepartmentID: a})
		if i, err := e.org.Institution(ctx, deptOnly, h1); err != nil || i.ID != h1 {
			t.Errorf("department-scoped principal reads its institution: %v", err)
		}
		_, err := e.org.Institution(ctx, deptOnly, h2)
		wantErr(t, "other institution", err, errs.Forbidden, "out_of_scope")
		_, err = e.org.Institution(ctx, deptOnly, 9999)
		wantErr(t, "unknown", err, errs.NotFound, "institution_not_found")

		codes := func(is []*org.Institution) string {
			var c []string
			for _, i := range is {
				c = append(c, i.Code)
			}
			return strings.Join(c, ",")
		}
		for _, tc := range []struct {
			name string
			p    *access.Principal
			want string
		}{
			{"admin, groups first", access.System(), "G,H1,H2"},
			{"department of H1", deptOnly, "H1"},
			{"group and member", nurseOf(access.Grant{InstitutionID: grp}, access.Grant{InstitutionID: h2}), "G,H2"},
			{"nobody", nil, ""},
		} {
			is, err := e.org.Institutions(ctx, tc.p)
			if err != nil || codes(is) != tc.want {
				t.Errorf("%s: %s %v; want %s", tc.name, codes(is), err, tc.want)
			}
		}
	})
}

func TestDepartments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h1 := e.inst(t, "H1", org.KindHospital, 0)
		h2 := e.inst(t, "H2", org.KindHospital, 0)
		card := e.dept(t, h1, "CARD", 0)
		ward, err := e.org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: h1, Code: "CARD-W1",
			Name: "心内一病区", Kind: org.DeptWard, ParentID: card})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.org.Department(ctx, access.System(), ward)
		want := org.Department{ID: ward, InstitutionID: h1, Code: "CARD-W1", Name: "心内一病区", Kind: org.DeptWard, ParentID: card, Active: true}
		if err != nil || *d != want {
			t.Fatalf("ward %+v %v", d, err)
		}
		if d, _ := e.org.Department(ctx, access.System(), card); d.Kind != org.DeptClinical || d.ParentID != 0 {
			t.Errorf("default kind %+v", d)
		}
		// The same code in another institution is fine.
		cardH2 := e.dept(t, h2, "CARD", 0)

		cases := []struct {
			name string
			p    *access.Principal
			in   org.DepartmentInput
			kind errs.Kind
			code string
		}{
			{"nurse", nurseOf(access.Grant{InstitutionID: h1}), org.DepartmentInput{InstitutionID: h1, Code: "X", Name: "x"}, errs.Forbidden, "admin_only"},
			{"duplicate code", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "CARD", Name: "x"}, errs.Invalid, "code_taken"},
			{"parent of another institution", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "X1", Name: "x", ParentID: cardH2}, errs.Invalid, "bad_parent"},
			{"unknown parent", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "X2", Name: "x", ParentID: 9999}, errs.Invalid, "bad_parent"},
			{"unknown institution", access.System(), org.DepartmentInput{InstitutionID: 9999, Code: "X3", Name: "x"}, errs.Invalid, "bad_institution"},
			{"no institution", access.System(), org.DepartmentInput{Code: "X4", Name: "x"}, errs.Invalid, "bad_institution"},
			{"bad kind", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "X5", Name: "x", Kind: "lab"}, errs.Invalid, "bad_kind"},
			{"bad code", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "a/b", Name: "x"}, errs.Invalid, "bad_code"},
			{"no name", access.System(), org.DepartmentInput{InstitutionID: h1, Code: "X6"}, errs.Invalid, "bad_name"},
		}
		for _, tc := range cases {
			id, err := e.org.CreateDepartment(ctx, tc.p, tc.in)
			if id != 0 {
				t.Errorf("%s: id %d", tc.name, id)
			}
			wantErr(t, tc.name, err, tc.kind, tc.code)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM departments`); n != 3 {
			t.Errorf("%d departments after refusals", n)
		}

		// Update: name, kind, parent, active; the institution never changes.
		surg := e.dept(t, h1, "SURG", 0)
		e.clk.Advance(time.Minute)
		up := org.DepartmentInput{InstitutionID: h2, Code: "SURG2", Name: "普外科", Kind: org.DeptOffice, ParentID: card, Active: false}
		if err := e.org.UpdateDepartment(ctx, access.System(), surg, up); err != nil {
			t.Fatal(err)
		}
		d, _ = e.org.Department(ctx, access.System(), surg)
		if *d != (org.Department{ID: surg, InstitutionID: h1, Code: "SURG2", Name: "普外科", Kind: org.DeptOffice, ParentID: card}) {
			t.Fatalf("updated %+v", d)
		}
		dup := up
		dup.Code = "CARD"
		wantErr(t, "update to taken code", e.org.UpdateDepartment(ctx, access.System(), surg, dup), errs.Invalid, "code_taken")
		self := up
		self.ParentID = surg
		wantErr(t, "own parent", e.org.UpdateDepartment(ctx, access.System(), surg, self), errs.Invalid, "bad_parent")
		foreign := up
		foreign.ParentID = cardH2
		wantErr(t, "foreign parent", e.org.UpdateDepartment(ctx, access.System(), surg, foreign), errs.Invalid, "bad_parent")
		wantErr(t, "nurse updates", e.org.UpdateDepartment(ctx, nurseOf(access.Grant{InstitutionID: h1}), surg, up), errs.Forbidden, "admin_only")
		wantErr(t, "unknown", e.org.UpdateDepartment(ctx, access.System(), 9999, up), errs.NotFound, "department_not_found")
		// Renaming in H2 to a code used only in H1 is fine.
		if err := e.org.UpdateDepartment(ctx, access.System(), cardH2, org.DepartmentInput{Code: "SURG2", Name: "外科", Active: true}); err != nil {
			t.Errorf("code of another institution: %v", err)
		}

		created := e.entries(t, "department.create")
		updated := e.entries(t, "department.update")
		if len(created) != 4 || created[1].ObjectID != fmt.Sprint(ward) || created[1].InstitutionID != h1 ||
			!strings.Contains(created[1].Detail, "kind=ward") {
			t.Errorf("department.create audit: %+v", created)
		}
		if len(updated) != 2 || updated[0].ObjectID != fmt.Sprint(surg) || updated[0].InstitutionID != h1 ||
			!strings.Contains(updated[0].Detail, "active=false") || updated[1].InstitutionID != h2 {
			t.Errorf("department.update audit: %+v", updated)
		}
	})
}

func TestDepartmentScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h1 := e.inst(t, "H1", org.KindHospital, 0)
		h2 := e.inst(t, "H2", org.KindHospital, 0)
		a := e.dept(t, h1, "A", 0)
		b := e.dept(t, h1, "B", 0)
		c := e.dept(t, h1, "C", 0)
		x := e.dept(t, h2, "X", 0)

		inA := nurseOf(access.Grant{InstitutionID: h1, DepartmentID: a})
		inAC := nurseOf(access.Grant{InstitutionID: h1, DepartmentID: a}, access.Grant{InstitutionID: h1, DepartmentID: c})
		wide := nurseOf(access.Grant{InstitutionID: h1})

		if d, err := e.org.Department(ctx, inA, a); err != nil || d.ID != a {
			t.Errorf("own department: %v", err)
		}
		_, err := e.org.Department(ctx, inA, b)
		wantErr(t, "other department", err, errs.Forbidden, "out_of_scope")
		_, err = e.org.Department(ctx, inA, x)
		wantErr(t, "department of other institution", err, errs.Forbidden, "out_of_scope")
		_, err = e.org.Department(ctx, wide, x)
		wantErr(t, "institution-wide, other institution", err, errs.Forbidden, "out_of_scope")
		if _, err := e.org.Department(ctx, wide, b); err != nil {
			t.Errorf("institution-wide reads B: %v", err)
		}
		_, err = e.org.Department(ctx, access.System(), 9999)
		wantErr(t, "unknown", err, errs.NotFound, "department_not_found")

		codes := func(ds []*org.Department) string {
			var s []string
			for _, d := range ds {
				s = append(s, d.Code)
			}
			return strings.Join(s, ",")
		}
		for _, tc := range []struct {
			name string
			p    *access.Principal
			inst int64
			want string
			kind errs.Kind
		}{
			{"one department", inA, h1, "A", 0},
			{"two departments", inAC, h1, "A,C", 0},
			{"institution-wide", wide, h1, "A,B,C", 0},
			{"admin", access.System(), h2, "X", 0},
			{"department scope, other institution", inA, h2, "", errs.Forbidden},
			{"institution-wide, other institution", wide, h2, "", errs.Forbidden},
			{"nil principal", nil, h1, "", errs.Forbidden},
		} {
			ds, err := e.org.Departments(ctx, tc.p, tc.inst)
			if tc.kind != 0 {
				if !errs.Is(err, tc.kind) || ds != nil {
					t.Errorf("%s: %s %v; want %v", tc.name, codes(ds), err, tc.kind)
				}
				continue
			}
			if err != nil || codes(ds) != tc.want {
				t.Errorf("%s: %s %v; want %s", tc.name, codes(ds), err, tc.want)
			}
		}
	})
}

func TestInstitutionLocation(t *testing.T) {
	for tz, want := range map[string]string{"Asia/Shanghai": "Asia/Shanghai", "Asia/Urumqi": "Asia/Urumqi", "": "CST", "Nowhere/Zone": "CST"} {
		i := &org.Institution{Timezone: tz}
		loc := i.Location()
		if loc.String() != want {
			t.Errorf("%q: location %v, want %s", tz, loc, want)
		}
		if _, off := time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Zone(); tz != "Asia/Urumqi" && off != 8*3600 {
			t.Errorf("%q: offset %d", tz, off)
		}
	}
}
