package auth_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestCreateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		base := func() auth.UserInput {
			return auth.UserInput{Username: "chen.jing", DisplayName: "陈静", Password: goodPW, HomeInstitutionID: e.h1,
				Roles: []access.Role{access.Doctor, access.DeptHead}, Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptA}}}
		}
		id, err := e.auth.CreateUser(ctx, access.System(), base())
		if err != nil {
			t.Fatal(err)
		}
		u, err := e.auth.GetUser(ctx, access.System(), id)
		if err != nil || u.Username != "chen.jing" || u.DisplayName != "陈静" || !u.Active || u.HomeInstitutionID != e.h1 ||
			!slices.Equal(u.Roles, []access.Role{access.DeptHead, access.Doctor}) ||
			!slices.Equal(u.Grants, []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptA}}) {
			t.Fatalf("created user: %+v %v", u, err)
		}
		var hash string
		if err := db.R().QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil ||
			!strings.HasPrefix(hash, "$argon2id$") || !auth.CheckPassword(hash, goodPW) {
			t.Fatalf("stored hash %q %v", hash, err)
		}
		es := e.entries(t, "user.create")
		if len(es) != 1 || es[0].ObjectID != fmt.Sprint(id) || es[0].InstitutionID != e.h1 || es[0].Actor != "system" ||
			!strings.Contains(es[0].Detail, "roles=doctor,dept_head") || !strings.Contains(es[0].Detail, "active=true") {
			t.Errorf("audit: %+v", es)
		}

		// Without grants a person sees the home institution.
		id2, err := e.auth.CreateUser(ctx, access.System(), auth.UserInput{Username: "lin", DisplayName: "Lin",
			Password: goodPW, HomeInstitutionID: e.h2, Roles: []access.Role{access.Agent}})
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := e.auth.GetUser(ctx, access.System(), id2); !slices.Equal(u.Grants, []access.Grant{{InstitutionID: e.h2}}) {
			t.Errorf("default grants: %+v", u.Grants)
		}

		nurse := &access.Principal{UserID: 5, Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.h1}}}
		leader := &access.Principal{UserID: 6, Roles: []access.Role{access.Leadership}, Grants: []access.Grant{{InstitutionID: e.h1}}}
		cases := []struct {
			name string
			p    *access.Principal
			mod  func(in *auth.UserInput)
			kind errs.Kind
			code string
		}{
			{"nurse", nurse, func(in *auth.UserInput) { in.Username = "x1" }, errs.Forbidden, "admin_only"},
			{"leadership", leader, func(in *auth.UserInput) { in.Username = "x2" }, errs.Forbidden, "admin_only"},
			{"nil principal", nil, func(in *auth.UserInput) { in.Username = "x3" }, errs.Forbidden, "admin_only"},
			{"duplicate username", access.System(), func(in *auth.UserInput) {}, errs.Invalid, "username_taken"},
			{"duplicate username with spaces", access.System(), func(in *auth.UserInput) { in.Username = " chen.jing " }, errs.Invalid, "username_taken"},
			{"bad role", access.System(), func(in *auth.UserInput) { in.Username = "x4"; in.Roles = []access.Role{"wizard"} }, errs.Invalid, "bad_role"},
			{"integration is no person role", access.System(), func(in *auth.UserInput) { in.Username = "x5"; in.Roles = []access.Role{access.Integration} }, errs.Invalid, "bad_role"},
			{"no role", access.System(), func(in *auth.UserInput) { in.Username = "x6"; in.Roles = nil }, errs.Invalid, "no_role"},
			{"department of another institution", access.System(), func(in *auth.UserInput) {
				in.Username = "x7"
				in.Grants = []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptC}}
			}, errs.Invalid, "bad_department"},
			{"unknown department", access.System(), func(in *auth.UserInput) {
				in.Username = "x8"
				in.Grants = []access.Grant{{InstitutionID: e.h1, DepartmentID: 9999}}
			}, errs.Invalid, "bad_department"},
			{"unknown granted institution", access.System(), func(in *auth.UserInput) {
				in.Username = "x9"
				in.Grants = []access.Grant{{InstitutionID: 9999}}
			}, errs.Invalid, "bad_institution"},
			{"unknown home institution", access.System(), func(in *auth.UserInput) { in.Username = "x10"; in.HomeInstitutionID = 9999 }, errs.Invalid, "bad_institution"},
			{"bad username", access.System(), func(in *auth.UserInput) { in.Username = "a b" }, errs.Invalid, "bad_username"},
			{"one-letter username", access.System(), func(in *auth.UserInput) { in.Username = "a" }, errs.Invalid, "bad_username"},
			{"no display name", access.System(), func(in *auth.UserInput) { in.Username = "x11"; in.DisplayName = "  " }, errs.Invalid, "bad_display_name"},
			{"weak password", access.System(), func(in *auth.UserInput) { in.Username = "x12"; in.Password = "password" }, errs.Invalid, "password_too_simple"},
			{"password contains username", access.System(), func(in *auth.UserInput) { in.Username = "x13abc"; in.Password = "X13abc-2026" }, errs.Invalid, "password_contains_username"},
		}
		for _, tc := range cases {
			in := base()
			tc.mod(&in)
			id, err := e.auth.CreateUser(ctx, tc.p, in)
			if id != 0 {
				t.Errorf("%s: got id %d", tc.name, id)
			}
			wantErr(t, tc.name, err, tc.kind, tc.code)
		}
		if n, _ := e.auth.CountUsers(ctx); n != 2 {
			t.Errorf("%d users after refused creations, want 2", n)
		}
		if n := len(e.entries(t, "user.create")); n != 2 {
			t.Errorf("%d user.create entries, want 2", n)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "xu.ming", []access.Role{access.Nurse}, access.Grant{InstitutionID: e.h1, DepartmentID: e.deptA})
		s := e.login(t, "xu.ming", goodPW)

		in := auth.UserInput{Username: "ignored", DisplayName: "徐明", Phone: "13800000000", HomeInstitutionID: e.h1,
			Roles: []access.Role{access.Nurse, access.Agent}, Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptB}}, Active: true}
		nurse := &access.Principal{UserID: uid, Roles: []access.Role{access.Nurse}}
		wantErr(t, "nurse updates", e.auth.UpdateUser(ctx, nurse, uid, in), errs.Forbidden, "admin_only")
		if err := e.auth.UpdateUser(ctx, access.System(), 9999, in); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown user: %v", err)
		}
		bad := in
		bad.Grants = []access.Grant{{InstitutionID: e.h2, DepartmentID: e.deptA}}
		wantErr(t, "foreign department", e.auth.UpdateUser(ctx, access.System(), uid, bad), errs.Invalid, "bad_department")

		if err := e.auth.UpdateUser(ctx, access.System(), uid, in); err != nil {
			t.Fatal(err)
		}
		u, _ := e.auth.GetUser(ctx, access.System(), uid)
		if u.Username != "xu.ming" || u.DisplayName != "徐明" || u.Phone != "13800000000" ||
			!slices.Equal(u.Roles, []access.Role{access.Agent, access.Nurse}) ||
			!slices.Equal(u.Grants, []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptB}}) {
			t.Fatalf("updated: %+v", u)
		}
		// A change of scope takes effect on the next request of a live session.
		p, _, err := e.auth.Authenticate(ctx, s.Token, "")
		if err != nil || p.SeesDepartment(e.h1, e.deptA) || !p.SeesDepartment(e.h1, e.deptB) || !p.Has(access.Agent) {
			t.Fatalf("principal after update: %+v %v", p, err)
		}

		// Disabling ends every session at once.
		s2 := e.login(t, "xu.ming", goodPW)
		in.Active = false
		if err := e.auth.UpdateUser(ctx, access.System(), uid, in); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{s.Token, s2.Token} {
			_, _, err := e.auth.Authenticate(ctx, tok, "")
			wantErr(t, "session of disabled user", err, errs.Unauthenticated, "no_session")
		}
		if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, uid); n != 0 {
			t.Errorf("%d sessions of disabled user", n)
		}
		es := e.entries(t, "user.update")
		if len(es) != 2 || !strings.Contains(es[1].Detail, "active=false") || es[1].ObjectID != fmt.Sprint(uid) {
			t.Errorf("audit: %+v", es)
		}

		// An administrator cannot remove their own admin role or disable themselves.
		aid := e.user(t, "admin.two", []access.Role{access.SysAdmin})
		ap, _ := e.principal(t, "admin.two")
		if !ap.Global || !ap.IsAdmin() {
			t.Fatalf("admin principal: %+v", ap)
		}
		self := auth.UserInput{DisplayName: "Admin", HomeInstitutionID: e.h1, Roles: []access.Role{access.Quality}, Active: true}
		wantErr(t, "drop own admin role", e.auth.UpdateUser(ctx, ap, aid, self), errs.Invalid, "self_lockout")
		self.Roles = []access.Role{access.SysAdmin}
		self.Active = false
		wantErr(t, "disable self", e.auth.UpdateUser(ctx, ap, aid, self), errs.Invalid, "self_lockout")
		self.Active = true
		self.Roles = []access.Role{access.SysAdmin, access.Quality}
		if err := e.auth.UpdateUser(ctx, ap, aid, self); err != nil {
			t.Errorf("admin adds a role to self: %v", err)
		}
		// Another administrator may demote them.
		self.Roles = []access.Role{access.Quality}
		if err := e.auth.UpdateUser(ctx, access.System(), aid, self); err != nil {
			t.Errorf("demote other admin: %v", err)
		}
	})
}

func TestUserScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		inA := access.Grant{InstitutionID: e.h1, DepartmentID: e.deptA}
		inB := access.Grant{InstitutionID: e.h1, DepartmentID: e.deptB}
		headID := e.user(t, "head.a", []access.Role{access.DeptHead}, inA)
		userA := e.user(t, "nurse.a", []access.Role{access.Nurse}, inA)
		userB := e.user(t, "nurse.b", []access.Role{access.Nurse}, inB)
		userAB := e.user(t, "nurse.ab", []access.Role{access.Nurse}, inA, inB)
		userH1 := e.user(t, "quality.h1", []access.Role{access.Quality}, access.Grant{InstitutionID: e.h1})
		userH2 := e.user(t, "nurse.h2", []access.Role{access.Nurse}, access.Grant{InstitutionID: e.h2})

		head, _ := e.principal(t, "head.a")
		if u, err := e.auth.GetUser(ctx, head, userA); err != nil || u.ID != userA {
			t.Errorf("head gets user of A: %v", err)
		}
		if _, err := e.auth.GetUser(ctx, head, headID); err != nil {
			t.Errorf("head gets self: %v", err)
		}
		for name, id := range map[string]int64{"B": userB, "A and B": userAB, "all of H1": userH1, "H2": userH2} {
			_, err := e.auth.GetUser(ctx, head, id)
			wantErr(t, "head gets user of "+name, err, errs.Forbidden, "out_of_scope")
		}
		_, err := e.auth.ListUsers(ctx, head, auth.UserFilter{InstitutionID: e.h1, DepartmentID: e.deptB})
		wantErr(t, "head lists B", err, errs.Forbidden, "out_of_scope")
		_, err = e.auth.ListUsers(ctx, head, auth.UserFilter{InstitutionID: e.h2})
		wantErr(t, "head lists H2", err, errs.Forbidden, "out_of_scope")

		names := func(us []*auth.User) string {
			var n []string
			for _, u := range us {
				n = append(n, u.Username)
			}
			return strings.Join(n, ",")
		}
		for _, tc := range []struct {
			f    auth.UserFilter
			want string
		}{
			{auth.UserFilter{InstitutionID: e.h1, DepartmentID: e.deptA}, "head.a,nurse.a"},
			{auth.UserFilter{InstitutionID: e.h1}, "head.a,nurse.a"},
			{auth.UserFilter{}, "head.a,nurse.a"},
			{auth.UserFilter{Query: "nurse"}, "nurse.a"},
		} {
			us, err := e.auth.ListUsers(ctx, head, tc.f)
			if err != nil || names(us) != tc.want {
				t.Errorf("head lists %+v: %s %v; want %s", tc.f, names(us), err, tc.want)
			}
		}

		quality, _ := e.principal(t, "quality.h1")
		if us, err := e.auth.ListUsers(ctx, quality, auth.UserFilter{InstitutionID: e.h1}); err != nil ||
			names(us) != "head.a,nurse.a,nurse.ab,nurse.b,quality.h1" {
			t.Errorf("quality lists H1: %s %v", names(us), err)
		}
		if us, err := e.auth.ListUsers(ctx, access.System(), auth.UserFilter{}); err != nil || len(us) != 6 {
			t.Errorf("admin lists: %s %v", names(us), err)
		}

		nurse, _ := e.principal(t, "nurse.a")
		_, err = e.auth.ListUsers(ctx, nurse, auth.UserFilter{})
		wantErr(t, "nurse lists", err, errs.Forbidden, "forbidden")
		_, err = e.auth.GetUser(ctx, nurse, headID)
		wantErr(t, "nurse gets colleague", err, errs.Forbidden, "out_of_scope")
		if _, err := e.auth.GetUser(ctx, nurse, userA); err != nil {
			t.Errorf("nurse gets self: %v", err)
		}
	})
}

func TestGroupGrantCoversMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "dong.shi", []access.Role{access.Leadership}, access.Grant{InstitutionID: e.group})
		userH2 := e.user(t, "nurse.h2", []access.Role{access.Nurse}, access.Grant{InstitutionID: e.h2, DepartmentID: e.deptC})
		userH3 := e.user(t, "nurse.h3", []access.Role{access.Nurse}, access.Grant{InstitutionID: e.h3})
		p, _ := e.principal(t, "dong.shi")
		for inst, want := range map[int64]bool{e.group: true, e.h1: true, e.h2: true, e.h3: false} {
			if p.SeesInstitution(inst) != want {
				t.Errorf("sees institution %d = %v, want %v", inst, !want, want)
			}
		}
		if !p.SeesDepartment(e.h1, e.deptA) || p.Global {
			t.Errorf("principal: %+v", p)
		}
		if _, err := e.auth.GetUser(ctx, p, userH2); err != nil {
			t.Errorf("group leader gets member hospital user: %v", err)
		}
		_, err := e.auth.GetUser(ctx, p, userH3)
		wantErr(t, "group leader gets outside user", err, errs.Forbidden, "out_of_scope")

		// PrincipalFor builds the same scope.
		uid := p.UserID
		q, err := e.auth.PrincipalFor(ctx, uid)
		if err != nil || !q.SeesInstitution(e.h2) || q.SeesInstitution(e.h3) {
			t.Errorf("PrincipalFor: %+v %v", q, err)
		}
	})
}
