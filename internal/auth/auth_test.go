package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "zhang.wei", []access.Role{access.Nurse}, access.Grant{InstitutionID: e.h1, DepartmentID: e.deptA})

		s, err := e.auth.Login(ctx, " zhang.wei ", goodPW, "10.0.0.5", "Firefox")
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Token) < 40 || s.User.ID != uid || s.User.Username != "zhang.wei" || !s.User.LastLoginAt.Equal(e.clk.Now()) ||
			len(s.User.Roles) != 1 || s.User.Roles[0] != access.Nurse {
			t.Fatalf("session: %+v user %+v", s, s.User)
		}
		// Only the token's SHA-256 is stored.
		sum := sha256.Sum256([]byte(s.Token))
		if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE token_hash = $1 AND user_id = $2 AND ip = '10.0.0.5' AND user_agent = 'Firefox'`,
			hex.EncodeToString(sum[:]), uid); n != 1 {
			t.Fatalf("session row by hash: %d", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE token_hash = $1`, s.Token); n != 0 {
			t.Fatal("plain session token stored")
		}
		p, u, err := e.auth.Authenticate(ctx, s.Token, "10.0.0.6")
		if err != nil || p.UserID != uid || u.ID != uid || p.IP != "10.0.0.6" || p.Global || !p.SeesDepartment(e.h1, e.deptA) || p.SeesInstitution(e.h1) {
			t.Fatalf("authenticate: %+v %v", p, err)
		}

		_, err = e.auth.Login(ctx, "zhang.wei", "Wrong-pass1", "10.0.0.5", "")
		wantErr(t, "wrong password", err, errs.Unauthenticated, "bad_credentials")
		_, err = e.auth.Login(ctx, "nobody", goodPW, "10.0.0.5", "")
		wantErr(t, "unknown user", err, errs.Unauthenticated, "bad_credentials")
		_, err = e.auth.Login(ctx, "", "", "10.0.0.5", "")
		wantErr(t, "empty user", err, errs.Unauthenticated, "bad_credentials")
		// The two failures look the same to the caller.
		e1, _ := errs.As(func() error { _, err := e.auth.Login(ctx, "zhang.wei", "x", "", ""); return err }())
		e2, _ := errs.As(func() error { _, err := e.auth.Login(ctx, "nobody", "x", "", ""); return err }())
		if e1 == nil || e2 == nil || e1.Msg != e2.Msg || e1.Code != e2.Code {
			t.Errorf("wrong password and unknown user differ: %v / %v", e1, e2)
		}

		logins := e.entries(t, "auth.login")
		want := []struct {
			ok    bool
			actor string
		}{{true, "zhang.wei"}, {false, "zhang.wei"}, {false, "nobody"}, {false, ""}, {false, "zhang.wei"}, {false, "nobody"}}
		if len(logins) != len(want) {
			t.Fatalf("login audit entries: %d, want %d", len(logins), len(want))
		}
		for i, w := range want {
			if logins[i].Success != w.ok || logins[i].Actor != w.actor {
				t.Errorf("login entry %d: success %v actor %q; want %v %q", i, logins[i].Success, logins[i].Actor, w.ok, w.actor)
			}
		}
		if logins[0].InstitutionID != e.h1 || logins[0].IP != "10.0.0.5" || logins[0].ActorID != uid || logins[0].ObjectID != fmt.Sprint(uid) {
			t.Errorf("success entry: %+v", logins[0])
		}
		e.verifyChain(t)
	})
}

// Five failures from one address lock that account for that address only:
// an attacker elsewhere cannot lock a nurse out of her own workstation.
// On main a lock was per account, so the nurse's right password from
// another address was refused too.
func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "li.na", []access.Role{access.Doctor})
		const attacker, ward = "10.0.0.9", "10.20.3.41"

		for i := range 5 {
			e.clk.Advance(time.Second)
			_, err := e.auth.Login(ctx, "li.na", "Wrong-pass1", attacker, "")
			wantErr(t, fmt.Sprintf("failure %d", i+1), err, errs.Unauthenticated, "bad_credentials")
		}
		lockedAt := e.clk.Now()
		// From the attacker's address even the right password is refused,
		// with the same words as a wrong one.
		_, err := e.auth.Login(ctx, "li.na", goodPW, attacker, "")
		wantErr(t, "right password from the locked address", err, errs.Unauthenticated, "bad_credentials")
		if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 0 {
			t.Fatalf("%d sessions from a locked address", n)
		}
		// The ward PC logs in as usual: the account itself is not locked.
		s, err := e.auth.Login(ctx, "li.na", goodPW, ward, "")
		if err != nil {
			t.Fatalf("right password from another address after the attacker's failures: %v", err)
		}
		if s.User.Locked(e.clk.Now()) {
			t.Errorf("account locked: %+v", s.User)
		}
		e.clk.Set(lockedAt.Add(30*time.Minute - time.Second))
		_, err = e.auth.Login(ctx, "li.na", goodPW, attacker, "")
		wantErr(t, "a second before the address lock ends", err, errs.Unauthenticated, "bad_credentials")
		e.clk.Set(lockedAt.Add(30*time.Minute + time.Second))
		if _, err := e.auth.Login(ctx, "li.na", goodPW, attacker, ""); err != nil {
			t.Fatalf("after the address lock: %v", err)
		}
		// The count starts over: four more failures do not lock.
		for range 4 {
			_, err = e.auth.Login(ctx, "li.na", "Wrong-pass1", attacker, "")
			wantErr(t, "failure after lock", err, errs.Unauthenticated, "bad_credentials")
		}
		if _, err := e.auth.Login(ctx, "li.na", goodPW, attacker, ""); err != nil {
			t.Fatalf("four failures locked: %v", err)
		}

		logins := e.entries(t, "auth.login")
		wantOK := []bool{false, false, false, false, false, false, true, false, true, false, false, false, false, true}
		if len(logins) != len(wantOK) {
			t.Fatalf("login entries: %d, want %d", len(logins), len(wantOK))
		}
		for i, ok := range wantOK {
			if logins[i].Success != ok || logins[i].Actor != "li.na" || logins[i].ActorID != uid {
				t.Errorf("entry %d: %+v; want success %v", i, logins[i], ok)
			}
		}
		if !strings.Contains(logins[4].Detail, "address_locked_until") || logins[5].Detail != "address_locked" ||
			logins[7].Detail != "address_locked" || logins[5].IP != attacker {
			t.Errorf("lock details: %q / %q / %q", logins[4].Detail, logins[5].Detail, logins[7].Detail)
		}
		e.verifyChain(t)
	})
}

// Guessing from many addresses is capped per account: after 20 failures in
// all the account locks, except at the addresses it last logged in from,
// where the right password still opens it.
func TestLoginAccountCeiling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "zhou.ling", []access.Role{access.Nurse})
		const ward = "10.20.3.17"
		e.login(t, "zhou.ling", goodPW) // from 10.1.1.1
		if _, err := e.auth.Login(ctx, "zhou.ling", goodPW, ward, ""); err != nil {
			t.Fatal(err)
		}
		for a := range 4 {
			for range 5 {
				e.clk.Advance(time.Second)
				_, err := e.auth.Login(ctx, "zhou.ling", "Wrong-pass1", fmt.Sprintf("172.16.9.%d", a+1), "")
				wantErr(t, "distributed guess", err, errs.Unauthenticated, "bad_credentials")
			}
		}
		_, err := e.auth.Login(ctx, "zhou.ling", goodPW, "172.16.9.200", "")
		wantErr(t, "right password from a new address", err, errs.Unauthenticated, "bad_credentials")
		for _, ip := range []string{ward, "10.1.1.1"} {
			if _, err := e.auth.Login(ctx, "zhou.ling", goodPW, ip, ""); err != nil {
				t.Fatalf("known address %s refused: %v", ip, err)
			}
		}
		es := e.entries(t, "auth.login")
		if d := es[len(es)-3].Detail; d != "account_locked" {
			t.Errorf("new-address refusal audited as %q", d)
		}
	})
}

// Every refused login reads the same, whatever the reason; only the audit
// log tells them apart. On main a locked or disabled account said so.
func TestLoginRefusalsLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "qin.hai", []access.Role{access.Nurse})
		off := e.user(t, "ma.li", []access.Role{access.Nurse})
		if err := e.auth.UpdateUser(ctx, access.System(), off, auth.UserInput{DisplayName: "ma.li", HomeInstitutionID: e.h1,
			Roles: []access.Role{access.Nurse}, Active: false}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			e.auth.Login(ctx, "qin.hai", "Wrong-pass1", "10.9.9.9", "")
		}
		for range 5 {
			e.auth.Login(ctx, "no.such", "Wrong-pass1", "10.9.9.9", "")
		}
		e.clk.Advance(10 * time.Minute) // refill the address allowance
		cases := []struct{ what, user, pw, ip, detail string }{
			{"wrong password", "qin.hai", "Wrong-pass1", "10.9.9.8", "bad_password"},
			{"unknown user", "wu.ming", goodPW, "10.9.9.8", "unknown_user"},
			{"locked here", "qin.hai", goodPW, "10.9.9.9", "address_locked"},
			{"unknown name locked here", "no.such", goodPW, "10.9.9.9", "address_locked"},
			{"disabled", "ma.li", goodPW, "10.9.9.8", "account_disabled"},
		}
		var first *errs.Error
		for _, c := range cases {
			_, err := e.auth.Login(ctx, c.user, c.pw, c.ip, "")
			ee, ok := errs.As(err)
			if !ok {
				t.Fatalf("%s: %v", c.what, err)
			}
			if first == nil {
				first = ee
			}
			if ee.Kind != errs.Unauthenticated || ee.Code != first.Code || ee.Msg != first.Msg {
				t.Errorf("%s: %v %q %q; want the same as %q", c.what, ee.Kind, ee.Code, ee.Msg, first.Msg)
			}
			es := e.entries(t, "auth.login")
			if got := es[len(es)-1]; !strings.HasPrefix(got.Detail, c.detail) || got.Actor != c.user {
				t.Errorf("%s audited as %q by %q; want %s", c.what, got.Detail, got.Actor, c.detail)
			}
		}
		if strings.Contains(first.Msg, "lock") || strings.Contains(first.Msg, "disabled") {
			t.Errorf("message names a reason: %q", first.Msg)
		}
	})
}

func TestUnlockAndResetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "wang.fang", []access.Role{access.Agent})
		lock := func() {
			e.clk.Advance(5 * time.Minute) // the address allowance refills
			for range 5 {
				e.auth.Login(ctx, "wang.fang", "Wrong-pass1", "", "")
			}
			_, err := e.auth.Login(ctx, "wang.fang", goodPW, "", "")
			wantErr(t, "locked", err, errs.Unauthenticated, "bad_credentials")
			if es := e.entries(t, "auth.login"); es[len(es)-1].Detail != "address_locked" {
				t.Fatalf("not locked: %+v", es[len(es)-1])
			}
		}
		lock()
		nurse := &access.Principal{UserID: 99, Roles: []access.Role{access.Nurse}}
		wantErr(t, "unlock by nurse", e.auth.Unlock(ctx, nurse, uid), errs.Forbidden, "admin_only")
		if err := e.auth.Unlock(ctx, access.System(), uid); err != nil {
			t.Fatal(err)
		}
		s := e.login(t, "wang.fang", goodPW)

		lock()
		wantErr(t, "weak reset", e.auth.ResetPassword(ctx, access.System(), uid, "short"), errs.Invalid, "password_too_short")
		wantErr(t, "reset by nurse", e.auth.ResetPassword(ctx, nurse, uid, "Temp-pass99"), errs.Forbidden, "admin_only")
		if err := e.auth.ResetPassword(ctx, access.System(), uid, "Temp-pass99"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.auth.Authenticate(ctx, s.Token, ""); errs.CodeOf(err) != "no_session" {
			t.Errorf("session survived a reset: %v", err)
		}
		s = e.login(t, "wang.fang", "Temp-pass99")
		if !s.User.MustChangePassword {
			t.Error("reset password need not be changed")
		}
		if len(e.entries(t, "user.unlock")) != 1 || len(e.entries(t, "user.reset_password")) != 1 {
			t.Error("unlock/reset not audited")
		}
	})
}

func TestLoginDisabledUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "zhao.lei", []access.Role{access.Nurse})
		err := e.auth.UpdateUser(ctx, access.System(), uid, auth.UserInput{DisplayName: "Zhao", HomeInstitutionID: e.h1,
			Roles: []access.Role{access.Nurse}, Active: false})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.auth.Login(ctx, "zhao.lei", goodPW, "", "")
		wantErr(t, "disabled", err, errs.Unauthenticated, "bad_credentials")
		logins := e.entries(t, "auth.login")
		if len(logins) != 1 || logins[0].Success || logins[0].Detail != "account_disabled" {
			t.Errorf("audit: %+v", logins)
		}
	})
}

// Client-supplied strings (user agent, user name) are cut and stored; the
// result must stay valid UTF-8 or PostgreSQL refuses the row.
func TestLoginOddInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "sun.li", []access.Role{access.Nurse})
		ua := "Mozilla " + strings.Repeat("浏览器", 100) // 255 bytes fall inside a rune
		_, err := e.auth.Login(ctx, "sun.li", goodPW, "", ua)
		if err != nil {
			t.Errorf("long multi-byte user agent: %v", err)
		}
		if _, err := e.auth.Login(ctx, "sun.li", goodPW, "", "bad \xff\xfe agent\x00"); err != nil {
			t.Errorf("invalid UTF-8 user agent: %v", err)
		}
		for _, name := range []string{strings.Repeat("用户", 40), "bad\xffname", "nul\x00name"} {
			_, err := e.auth.Login(ctx, name, goodPW, "", "")
			wantErr(t, "odd user name", err, errs.Unauthenticated, "bad_credentials")
		}
		if n := len(e.entries(t, "auth.login")); n != 5 {
			t.Errorf("%d login entries, want 5 (every attempt audited)", n)
		}
		e.verifyChain(t)
	})
}

func TestSessionIdleTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid := e.user(t, "qian.yu", []access.Role{access.Agent})
		s := e.login(t, "qian.yu", goodPW)
		other := e.login(t, "qian.yu", goodPW)
		h := sha256.Sum256([]byte(s.Token))
		lastSeen := func() time.Time {
			var us int64
			if err := db.R().QueryRowContext(ctx, `SELECT last_seen_at FROM sessions WHERE token_hash = $1`, hex.EncodeToString(h[:])).Scan(&us); err != nil {
				t.Fatal(err)
			}
			return store.Time(us)
		}

		if p, _, err := e.auth.Authenticate(ctx, s.Token, ""); err != nil || p.UserID != uid {
			t.Fatalf("fresh session: %v", err)
		}
		e.clk.Advance(29 * time.Minute)
		if _, _, err := e.auth.Authenticate(ctx, s.Token, ""); err != nil {
			t.Fatalf("after 29 min: %v", err)
		}
		if !lastSeen().Equal(e.clk.Now()) {
			t.Fatalf("last_seen %v, want %v", lastSeen(), e.clk.Now())
		}
		e.clk.Advance(29 * time.Minute) // 58 min since login, 29 since last use
		if _, _, err := e.auth.Authenticate(ctx, s.Token, ""); err != nil {
			t.Fatalf("29 min after last use: %v", err)
		}
		// The other session was idle all along and has expired.
		_, _, err := e.auth.Authenticate(ctx, other.Token, "")
		wantErr(t, "other session", err, errs.Unauthenticated, "session_expired")

		e.clk.Advance(31 * time.Minute)
		_, _, err = e.auth.Authenticate(ctx, s.Token, "10.2.2.2")
		wantErr(t, "31 min idle", err, errs.Unauthenticated, "session_expired")
		if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, uid); n != 0 {
			t.Fatalf("%d expired sessions remain", n)
		}
		_, _, err = e.auth.Authenticate(ctx, s.Token, "")
		wantErr(t, "after expiry", err, errs.Unauthenticated, "no_session")
		if es := e.entries(t, "auth.session_expired"); len(es) != 2 || es[1].ActorID != uid || es[1].IP != "10.2.2.2" {
			t.Errorf("expiry audit: %+v", es)
		}

		for _, tok := range []string{"", "not-a-session", s.Token + "x"} {
			_, _, err := e.auth.Authenticate(ctx, tok, "")
			wantErr(t, "bogus token "+tok, err, errs.Unauthenticated, "no_session")
		}
	})
}

func TestSessionMaxAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "zhou.min", []access.Role{access.Agent})
		s := e.login(t, "zhou.min", goodPW)
		elapsed := time.Duration(0)
		for elapsed+29*time.Minute <= 12*time.Hour {
			e.clk.Advance(29 * time.Minute)
			elapsed += 29 * time.Minute
			if _, _, err := e.auth.Authenticate(ctx, s.Token, ""); err != nil {
				t.Fatalf("active session at %v: %v", elapsed, err)
			}
		}
		e.clk.Advance(29 * time.Minute) // never idle, but older than 12 h
		_, _, err := e.auth.Authenticate(ctx, s.Token, "")
		wantErr(t, "12 h old", err, errs.Unauthenticated, "session_expired")
		if n := e.count(t, `SELECT COUNT(*) FROM sessions`); n != 0 {
			t.Fatalf("%d sessions remain", n)
		}
	})
}

func TestLogoutAndPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "wu.hao", []access.Role{access.Agent})
		p, tok := e.principal(t, "wu.hao")
		if err := e.auth.Logout(ctx, tok, p); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.auth.Authenticate(ctx, tok, "")
		wantErr(t, "after logout", err, errs.Unauthenticated, "no_session")
		if es := e.entries(t, "auth.logout"); len(es) != 1 || es[0].Actor != "wu.hao" {
			t.Errorf("logout audit: %+v", es)
		}

		idle := e.login(t, "wu.hao", goodPW)
		e.clk.Advance(20 * time.Minute)
		fresh := e.login(t, "wu.hao", goodPW)
		e.clk.Advance(11 * time.Minute)
		n, err := e.auth.PurgeSessions(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purge = %d, %v", n, err)
		}
		if _, _, err := e.auth.Authenticate(ctx, fresh.Token, ""); err != nil {
			t.Errorf("fresh session purged: %v", err)
		}
		_, _, err = e.auth.Authenticate(ctx, idle.Token, "")
		wantErr(t, "purged", err, errs.Unauthenticated, "no_session")
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		uid, err := e.auth.CreateUser(ctx, access.System(), auth.UserInput{Username: "he.jun", DisplayName: "何军",
			Password: goodPW, HomeInstitutionID: e.h1, Roles: []access.Role{access.Nurse}, MustChangePassword: true})
		if err != nil {
			t.Fatal(err)
		}
		cur := e.login(t, "he.jun", goodPW)
		if !cur.User.MustChangePassword {
			t.Fatal("new account need not change password")
		}
		other := e.login(t, "he.jun", goodPW)
		p, _, err := e.auth.Authenticate(ctx, cur.Token, "")
		if err != nil {
			t.Fatal(err)
		}

		err = e.auth.ChangePassword(ctx, p, cur.Token, "Wrong-old1", "New-pass2026")
		if fe, ok := errs.As(err); !ok || fe.Kind != errs.Invalid || fe.Fields["old_password"] == "" {
			t.Errorf("wrong old password: %v", err)
		}
		for _, tc := range []struct{ pw, code string }{
			{"Short1!", "password_too_short"},
			{"alllowercase", "password_too_simple"},
			{"He.Jun-2026", "password_contains_username"},
			{goodPW, "password_unchanged"},
		} {
			wantErr(t, "new password "+tc.pw, e.auth.ChangePassword(ctx, p, cur.Token, goodPW, tc.pw), errs.Invalid, tc.code)
		}
		// Nothing changed so far.
		if _, _, err := e.auth.Authenticate(ctx, other.Token, ""); err != nil {
			t.Fatalf("refused change ended a session: %v", err)
		}

		e.clk.Advance(time.Minute)
		if err := e.auth.ChangePassword(ctx, p, cur.Token, goodPW, "New-pass2026"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.auth.Authenticate(ctx, cur.Token, ""); err != nil {
			t.Errorf("current session ended: %v", err)
		}
		_, _, err = e.auth.Authenticate(ctx, other.Token, "")
		wantErr(t, "other session", err, errs.Unauthenticated, "no_session")
		u, err := e.auth.GetUser(ctx, access.System(), uid)
		if err != nil || u.MustChangePassword {
			t.Errorf("must change after change: %+v %v", u, err)
		}
		_, err = e.auth.Login(ctx, "he.jun", goodPW, "", "")
		wantErr(t, "old password", err, errs.Unauthenticated, "bad_credentials")
		e.login(t, "he.jun", "New-pass2026")
		if es := e.entries(t, "auth.password_change"); len(es) != 1 || es[0].ActorID != uid {
			t.Errorf("audit: %+v", es)
		}
	})
}

// The previous login (time and address) is kept so the user can spot misuse.
func TestPreviousLoginShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "nurse1", []access.Role{access.Nurse})
		first := e.login(t, "nurse1", goodPW)
		if !first.User.PrevLoginAt.IsZero() {
			t.Fatalf("first login has a previous login: %v", first.User.PrevLoginAt)
		}
		t1 := e.clk.Now()
		e.clk.Advance(2 * time.Hour)
		s, err := e.auth.Login(ctx, "nurse1", goodPW, "10.2.2.2", "ua")
		if err != nil {
			t.Fatal(err)
		}
		_, u, err := e.auth.Authenticate(ctx, s.Token, "10.2.2.2")
		if err != nil {
			t.Fatal(err)
		}
		if !u.PrevLoginAt.Equal(t1.Truncate(time.Microsecond)) || u.PrevLoginIP != "10.1.1.1" {
			t.Fatalf("previous login = %v from %q; want %v from 10.1.1.1", u.PrevLoginAt, u.PrevLoginIP, t1)
		}
		if u.LastLoginIP != "10.2.2.2" {
			t.Fatalf("last login ip = %q", u.LastLoginIP)
		}
	})
}
