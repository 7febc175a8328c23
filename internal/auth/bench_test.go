package auth_test

import (
	"testing"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
)

// benchEnv is one institution and one user on SQLite, logged in.
func benchEnv(b *testing.B, hp auth.HashParams) (*auth.Service, string) {
	b.Helper()
	db := storetest.SQLite(b)
	clk := newClock()
	au := audit.New(db, clk.Now)
	o := org.New(org.Deps{DB: db, Audit: au, Now: clk.Now})
	pol := auth.DefaultPolicy()
	pol.Hash = hp
	svc, err := auth.New(auth.Deps{DB: db, Audit: au, Now: clk.Now, Policy: pol})
	if err != nil {
		b.Fatal(err)
	}
	inst, err := o.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "H1"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, access.System(), auth.UserInput{Username: "nurse", DisplayName: "n", Password: goodPW,
		HomeInstitutionID: inst, Roles: []access.Role{access.Nurse}, Active: true}); err != nil {
		b.Fatal(err)
	}
	sess, err := svc.Login(ctx, "nurse", goodPW, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	return svc, sess.Token
}

// BenchmarkAuthenticate is the cost every page request pays to resolve its
// session cookie into a principal.
func BenchmarkAuthenticate(b *testing.B) {
	svc, tok := benchEnv(b, cheap)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := svc.Authenticate(ctx, tok, "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginDefaultCost is a full login with the production argon2id
// parameters (64 MiB, 2 passes): the deliberate cost of a password check.
func BenchmarkLoginDefaultCost(b *testing.B) {
	svc, _ := benchEnv(b, auth.DefaultHashParams())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Login(ctx, "nurse", goodPW, "127.0.0.1", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
