package auth_test

import (
	"context"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
)

var ctx = context.Background()

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

// cheap keeps argon2 fast in tests.
var cheap = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}

func testPolicy() auth.Policy {
	pol := auth.DefaultPolicy()
	pol.Hash = cheap
	return pol
}

const goodPW = "Sui-fang2026"

// env is a database with a group G (members H1, H2), a stand-alone hospital
// H3, departments A and B of H1 and C of H2.
type env struct {
	db                  *store.DB
	clk                 *clock.Fake
	audit               *audit.Service
	org                 *org.Service
	auth                *auth.Service
	group, h1, h2, h3   int64
	deptA, deptB, deptC int64
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{db: db, clk: newClock()}
	e.audit = audit.New(db, e.clk.Now)
	e.org = org.New(org.Deps{DB: db, Audit: e.audit, Now: e.clk.Now})
	var err error
	e.auth, err = auth.New(auth.Deps{DB: db, Audit: e.audit, Now: e.clk.Now, Policy: testPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	sys := access.System()
	inst := func(code, kind string, parent int64) int64 {
		id, err := e.org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: code, Name: code, Kind: kind, ParentID: parent})
		if err != nil {
			t.Fatalf("institution %s: %v", code, err)
		}
		return id
	}
	dept := func(inst int64, code string) int64 {
		id, err := e.org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: inst, Code: code, Name: code})
		if err != nil {
			t.Fatalf("department %s: %v", code, err)
		}
		return id
	}
	e.group = inst("G", org.KindGroup, 0)
	e.h1 = inst("H1", org.KindHospital, e.group)
	e.h2 = inst("H2", org.KindHospital, e.group)
	e.h3 = inst("H3", org.KindHospital, 0)
	e.deptA, e.deptB = dept(e.h1, "A"), dept(e.h1, "B")
	e.deptC = dept(e.h2, "C")
	return e
}

// user creates an account with goodPW at H1.
func (e *env) user(t *testing.T, name string, roles []access.Role, grants ...access.Grant) int64 {
	t.Helper()
	id, err := e.auth.CreateUser(ctx, access.System(), auth.UserInput{
		Username: name, DisplayName: name, Password: goodPW, HomeInstitutionID: e.h1,
		Roles: roles, Grants: grants, Active: true,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return id
}

func (e *env) login(t *testing.T, name, pw string) *auth.Session {
	t.Helper()
	s, err := e.auth.Login(ctx, name, pw, "10.1.1.1", "test-agent")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return s
}

// principal logs name in and returns the principal its session resolves to.
func (e *env) principal(t *testing.T, name string) (*access.Principal, string) {
	t.Helper()
	s := e.login(t, name, goodPW)
	p, _, err := e.auth.Authenticate(ctx, s.Token, "10.1.1.1")
	if err != nil {
		t.Fatalf("authenticate %s: %v", name, err)
	}
	return p, s.Token
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

func (e *env) verifyChain(t *testing.T) {
	t.Helper()
	res, err := e.audit.Verify(ctx)
	if err != nil || !res.OK {
		t.Fatalf("audit chain: %+v, %v", res, err)
	}
}

// wantErr fails unless err has kind and code.
func wantErr(t *testing.T, what string, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || errs.CodeOf(err) != code {
		t.Errorf("%s: err = %v (kind %v, code %s); want %v %s", what, err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}
