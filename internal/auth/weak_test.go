package auth_test

import (
	"testing"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// Passwords that pass length and class rules but are the first an attacker
// tries are refused wherever a person picks one; on main all were accepted.
// The demo seed alone may create accounts with its published password.
func TestCommonPasswordsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		sys := access.System()
		in := func(name, pw string) auth.UserInput {
			return auth.UserInput{Username: name, DisplayName: "韩梅", Password: pw, HomeInstitutionID: e.h1,
				Roles: []access.Role{access.Nurse}, Active: true}
		}
		for _, pw := range []string{"P@ssw0rd", "Password1", "Admin@123", "Aa123456", "Suifang@2026", "1qaz@WSX", "ADMIN@123"} {
			if err := (auth.PasswordRules{MinLength: 8, MinClasses: 3}).Check(pw, "han.mei"); err != nil {
				t.Fatalf("%s fails the basic rules (%v); the list would not be what refuses it", pw, err)
			}
			_, err := e.auth.CreateUser(ctx, sys, in("han.mei", pw))
			wantErr(t, "create with "+pw, err, errs.Invalid, "password_common")
		}
		demo := in("demo.nurse", "Suifang@2026")
		demo.Demo = true
		if _, err := e.auth.CreateUser(ctx, sys, demo); err != nil {
			t.Fatalf("demo seed with its published password: %v", err)
		}

		uid, err := e.auth.CreateUser(ctx, sys, in("han.mei", goodPW))
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "reset to a common one", e.auth.ResetPassword(ctx, sys, uid, "Admin@123"), errs.Invalid, "password_common")
		p, tok := e.principal(t, "han.mei")
		wantErr(t, "change to the demo default", e.auth.ChangePassword(ctx, p, tok, goodPW, "Suifang@2026"), errs.Invalid, "password_common")
		wantErr(t, "change to P@ssw0rd", e.auth.ChangePassword(ctx, p, tok, goodPW, "P@ssw0rd"), errs.Invalid, "password_common")
		wantErr(t, "change to one with the user name", e.auth.ChangePassword(ctx, p, tok, goodPW, "Han.Mei#77x"), errs.Invalid, "password_contains_username")
		// The demo account, once used, cannot go back to the demo password either.
		dp, dtok := func() (*access.Principal, string) {
			s, err := e.auth.Login(ctx, "demo.nurse", "Suifang@2026", "10.1.1.2", "")
			if err != nil {
				t.Fatal(err)
			}
			pp, _, err := e.auth.Authenticate(ctx, s.Token, "10.1.1.2")
			if err != nil {
				t.Fatal(err)
			}
			return pp, s.Token
		}()
		if err := e.auth.ChangePassword(ctx, dp, dtok, "Suifang@2026", "Hq7-ward-night"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "demo account back to the demo password", e.auth.ChangePassword(ctx, dp, dtok, "Hq7-ward-night", "Suifang@2026"),
			errs.Invalid, "password_common")
	})
}

// A new password may not be any of the last five (the current one
// included); the sixth-oldest may come back. Only hashes are kept. On main
// a change could go straight back to the previous password.
func TestPasswordHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "tang.yu", []access.Role{access.Agent})
		p, tok := e.principal(t, "tang.yu")
		seq := []string{goodPW, "Kf-2026-spring", "Kf-2026-summer", "Kf-2026-autumn", "Kf-2026-winter"}
		for i := 1; i < len(seq); i++ {
			if err := e.auth.ChangePassword(ctx, p, tok, seq[i-1], seq[i]); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		cur := seq[len(seq)-1]
		for _, old := range seq[:len(seq)-1] {
			wantErr(t, "back to "+old, e.auth.ChangePassword(ctx, p, tok, cur, old), errs.Invalid, "password_reused")
		}
		wantErr(t, "reset to a recent one", e.auth.ResetPassword(ctx, access.System(), uid, "Kf-2026-summer"), errs.Invalid, "password_reused")
		wantErr(t, "reset to the current one", e.auth.ResetPassword(ctx, access.System(), uid, cur), errs.Invalid, "password_reused")
		if n := e.count(t, `SELECT COUNT(*) FROM password_history WHERE user_id = $1`, uid); n != 4 {
			t.Errorf("history rows %d, want 4 (five passwords with the current)", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM password_history WHERE password_hash NOT LIKE '$argon2id$%'`); n != 0 {
			t.Errorf("%d history rows are not argon2id hashes", n)
		}
		for _, old := range seq {
			if n := e.count(t, `SELECT COUNT(*) FROM password_history WHERE password_hash LIKE $1`, "%"+old+"%"); n != 0 {
				t.Fatalf("password %q stored in the clear", old)
			}
		}
		// One more change pushes the first password out of the last five.
		if err := e.auth.ChangePassword(ctx, p, tok, cur, "Kf-2027-spring"); err != nil {
			t.Fatal(err)
		}
		if err := e.auth.ChangePassword(ctx, p, tok, "Kf-2027-spring", goodPW); err != nil {
			t.Fatalf("the sixth-oldest password: %v", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM password_history WHERE user_id = $1`, uid); n != 4 {
			t.Errorf("history rows %d after trimming, want 4", n)
		}
	})
}
