package access_test

import (
	"slices"
	"testing"

	"suifang/internal/access"
	"suifang/internal/errs"
)

// Institutions 1 and 2; department 10 belongs to institution 1, 20 to 2.
var (
	nilP   *access.Principal
	global = access.System()
	// instGrant oversees all of institution 1 and department 20 of institution 2.
	instGrant = &access.Principal{UserID: 7, InstitutionID: 1, Roles: []access.Role{access.Quality, access.Leadership},
		Grants: []access.Grant{{InstitutionID: 1}, {InstitutionID: 2, DepartmentID: 20}}}
	// deptGrant sees only department 10 of institution 1 (twice, to test dedup).
	deptGrant = &access.Principal{UserID: 8, InstitutionID: 1, Roles: []access.Role{access.Doctor},
		Grants: []access.Grant{{InstitutionID: 1, DepartmentID: 10}, {InstitutionID: 1, DepartmentID: 11}}}
	// localAdmin holds the admin role without being global.
	localAdmin = &access.Principal{Roles: []access.Role{access.SysAdmin}, Grants: []access.Grant{{InstitutionID: 2}}}
	noGrants   = &access.Principal{Roles: []access.Role{access.Agent}}
)

func TestRoles(t *testing.T) {
	rs := access.Roles()
	if len(rs) != 8 || rs[0] != access.SysAdmin {
		t.Fatalf("Roles() = %v", rs)
	}
	for _, r := range rs {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []access.Role{access.Integration, "", "root", "SysAdmin"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
	// Roles returns a fresh slice each time.
	rs[0] = "changed"
	if access.Roles()[0] != access.SysAdmin {
		t.Error("Roles shares its slice")
	}
}

func TestHas(t *testing.T) {
	cases := []struct {
		name    string
		p       *access.Principal
		has     []access.Role
		hasnt   []access.Role
		isAdmin bool
	}{
		{"nil", nilP, nil, []access.Role{access.SysAdmin, access.Doctor, ""}, false},
		{"global", global, []access.Role{access.SysAdmin}, []access.Role{access.Doctor, access.Integration}, true},
		{"inst grant", instGrant, []access.Role{access.Quality, access.Leadership}, []access.Role{access.SysAdmin, access.Doctor}, false},
		{"dept grant", deptGrant, []access.Role{access.Doctor}, []access.Role{access.Nurse, access.SysAdmin}, false},
		{"local admin", localAdmin, []access.Role{access.SysAdmin}, []access.Role{access.Agent}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range tc.has {
				if !tc.p.Has(r) {
					t.Errorf("Has(%s) = false", r)
				}
				if !tc.p.HasAny(access.Nurse, r) {
					t.Errorf("HasAny(nurse, %s) = false", r)
				}
			}
			for _, r := range tc.hasnt {
				if tc.p.Has(r) {
					t.Errorf("Has(%s) = true", r)
				}
			}
			if tc.p.HasAny(tc.hasnt...) {
				t.Errorf("HasAny(%v) = true", tc.hasnt)
			}
			if tc.p.HasAny() {
				t.Error("HasAny() with no roles = true")
			}
			if got := tc.p.IsAdmin(); got != tc.isAdmin {
				t.Errorf("IsAdmin() = %t", got)
			}
			err := tc.p.RequireAdmin()
			if tc.isAdmin != (err == nil) {
				t.Errorf("RequireAdmin() = %v", err)
			}
			if err != nil && (!errs.Is(err, errs.Forbidden) || errs.CodeOf(err) != "admin_only") {
				t.Errorf("RequireAdmin() = %v (%s), want forbidden admin_only", err, errs.CodeOf(err))
			}
		})
	}
}

func TestScope(t *testing.T) {
	type q struct {
		inst, dept int64
	}
	cases := []struct {
		name string
		p    *access.Principal
		// institution-wide sight, any sight, per institution 1, 2, 3
		sees, touches [3]bool
		// departments seen: (1,10) (1,11) (1,12) (2,20) (2,21) (3,30)
		depts        [6]bool
		institutions []int64
	}{
		{"nil", nilP, [3]bool{}, [3]bool{}, [6]bool{}, nil},
		{"no grants", noGrants, [3]bool{}, [3]bool{}, [6]bool{}, nil},
		{"global", global, [3]bool{true, true, true}, [3]bool{true, true, true}, [6]bool{true, true, true, true, true, true}, nil},
		{"inst grant", instGrant, [3]bool{true, false, false}, [3]bool{true, true, false},
			[6]bool{true, true, true, true, false, false}, []int64{1, 2}},
		{"dept grant", deptGrant, [3]bool{false, false, false}, [3]bool{true, false, false},
			[6]bool{true, true, false, false, false, false}, []int64{1}},
		{"local admin", localAdmin, [3]bool{false, true, false}, [3]bool{false, true, false},
			[6]bool{false, false, false, true, true, false}, []int64{2}},
	}
	depts := []q{{1, 10}, {1, 11}, {1, 12}, {2, 20}, {2, 21}, {3, 30}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, inst := range []int64{1, 2, 3} {
				if got := tc.p.SeesInstitution(inst); got != tc.sees[i] {
					t.Errorf("SeesInstitution(%d) = %t", inst, got)
				}
				if got := tc.p.TouchesInstitution(inst); got != tc.touches[i] {
					t.Errorf("TouchesInstitution(%d) = %t", inst, got)
				}
				err := tc.p.RequireInstitution(inst)
				if tc.sees[i] != (err == nil) {
					t.Errorf("RequireInstitution(%d) = %v", inst, err)
				}
				if err != nil && (!errs.Is(err, errs.Forbidden) || errs.CodeOf(err) != "out_of_scope") {
					t.Errorf("RequireInstitution(%d) = %v, want forbidden out_of_scope", inst, err)
				}
			}
			for i, d := range depts {
				if got := tc.p.SeesDepartment(d.inst, d.dept); got != tc.depts[i] {
					t.Errorf("SeesDepartment(%d, %d) = %t", d.inst, d.dept, got)
				}
				err := tc.p.RequireDepartment(d.inst, d.dept)
				if tc.depts[i] != (err == nil) {
					t.Errorf("RequireDepartment(%d, %d) = %v", d.inst, d.dept, err)
				}
				if err != nil && (!errs.Is(err, errs.Forbidden) || errs.CodeOf(err) != "out_of_scope") {
					t.Errorf("RequireDepartment = %v, want forbidden out_of_scope", err)
				}
			}
			// A department id of one institution does not open another.
			if tc.p != global && tc.p.SeesDepartment(3, 10) {
				t.Error("SeesDepartment(3, 10) = true")
			}
			if got := tc.p.Institutions(); !slices.Equal(got, tc.institutions) {
				t.Errorf("Institutions() = %v, want %v", got, tc.institutions)
			}
		})
	}
}

func TestInstitutionsGlobalIsNilMeaningAll(t *testing.T) {
	// A global principal with grants still reports nil ("all").
	p := &access.Principal{Global: true, Grants: []access.Grant{{InstitutionID: 5}}}
	if p.Institutions() != nil {
		t.Errorf("Institutions() = %v, want nil", p.Institutions())
	}
	if !p.SeesInstitution(99) || !p.SeesDepartment(99, 1) || !p.TouchesInstitution(99) {
		t.Error("a global principal does not see everything")
	}
	if p.IsAdmin() {
		t.Error("Global alone made the principal an administrator")
	}
}

func TestSystem(t *testing.T) {
	a, b := access.System(), access.System()
	if a == b {
		t.Fatal("System returns a shared principal")
	}
	if !a.Global || !a.IsAdmin() || a.Username != "system" || a.UserID != 0 {
		t.Errorf("System() = %+v", a)
	}
	a.IP = "cli"
	a.Roles[0] = access.Doctor
	if b.IP != "" || !access.System().IsAdmin() {
		t.Error("changing one System principal changed another")
	}
}

// TestAgency: the third_party role alone is an outside agency; with any
// hospital role the person is staff.
func TestAgency(t *testing.T) {
	inst := []access.Grant{{InstitutionID: 1}}
	cases := []struct {
		roles  []access.Role
		agency bool
	}{
		{[]access.Role{access.ThirdParty}, true},
		{[]access.Role{access.ThirdParty, access.Agent}, false},
		{[]access.Role{access.ThirdParty, access.Quality}, false},
		{[]access.Role{access.Agent}, false},
		{[]access.Role{access.Nurse}, false},
		{nil, false},
	}
	for _, tc := range cases {
		p := &access.Principal{UserID: 5, Roles: tc.roles, Grants: inst}
		if got := p.Agency(); got != tc.agency {
			t.Errorf("%v: Agency() = %t", tc.roles, got)
		}
		err := p.RequireStaff()
		if tc.agency != (err != nil) || err != nil && (!errs.Is(err, errs.Forbidden) || errs.CodeOf(err) != "agency_forbidden") {
			t.Errorf("%v: RequireStaff() = %v", tc.roles, err)
		}
	}
	if nilP.Agency() || nilP.RequireStaff() != nil {
		t.Error("nil principal is an agency")
	}
	if access.System().Agency() {
		t.Error("the system is an agency")
	}
}
