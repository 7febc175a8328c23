package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.user(t, "admin.tok", []access.Role{access.SysAdmin})
		admin, _ := e.principal(t, "admin.tok")
		leader := &access.Principal{UserID: 3, Roles: []access.Role{access.Leadership}, Grants: []access.Grant{{InstitutionID: e.h1}}}

		_, _, err := e.auth.CreateToken(ctx, leader, e.h1, "HIS")
		wantErr(t, "leadership creates token", err, errs.Forbidden, "admin_only")
		_, _, err = e.auth.CreateToken(ctx, admin, e.h1, "   ")
		wantErr(t, "blank name", err, errs.Invalid, "bad_name")
		_, _, err = e.auth.CreateToken(ctx, admin, e.h1, strings.Repeat("名", 65))
		wantErr(t, "long name", err, errs.Invalid, "bad_name")
		_, _, err = e.auth.CreateToken(ctx, admin, 9999, "HIS")
		wantErr(t, "unknown institution", err, errs.Invalid, "bad_institution")

		plain, tok, err := e.auth.CreateToken(ctx, admin, e.h1, " HIS 接口 ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "sft_") || len(plain) < 40 || tok.Name != "HIS 接口" || tok.InstitutionID != e.h1 ||
			!strings.HasPrefix(plain, tok.Prefix) || tok.CreatedBy != admin.UserID {
			t.Fatalf("token %q %+v", plain, tok)
		}
		plain2, _, err := e.auth.CreateToken(ctx, admin, e.h2, "warehouse")
		if err != nil || plain2 == plain {
			t.Fatalf("second token: %v", err)
		}

		// The database holds only the hash.
		rows, err := db.R().QueryContext(ctx, `SELECT name, prefix, token_hash FROM api_tokens ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		for rows.Next() {
			var name, prefix, hash string
			if err := rows.Scan(&name, &prefix, &hash); err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{name, prefix, hash} {
				if strings.Contains(col, plain) || strings.Contains(col, plain2) {
					t.Errorf("plain token stored: %q", col)
				}
			}
			hashes = append(hashes, hash)
		}
		rows.Close()
		sum := sha256.Sum256([]byte(plain))
		if len(hashes) != 2 || hashes[0] != hex.EncodeToString(sum[:]) {
			t.Errorf("token hashes %v", hashes)
		}

		e.clk.Advance(time.Hour)
		p, err := e.auth.AuthenticateToken(ctx, plain, "192.168.1.10")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Has(access.Integration) || p.IsAdmin() || p.Global || p.IP != "192.168.1.10" || p.InstitutionID != e.h1 ||
			!p.SeesInstitution(e.h1) || p.SeesInstitution(e.h2) || p.SeesInstitution(e.group) || p.Username != "token:HIS 接口" {
			t.Fatalf("token principal: %+v", p)
		}

		for _, bad := range []string{"", "sft_", "sft_nope", plain + "x", plain[:len(plain)-1], strings.TrimPrefix(plain, "sft_"), strings.ToUpper(plain)} {
			_, err := e.auth.AuthenticateToken(ctx, bad, "")
			wantErr(t, fmt.Sprintf("token %q", bad), err, errs.Unauthenticated, "bad_token")
		}

		list, err := e.auth.ListTokens(ctx, admin)
		if err != nil || len(list) != 2 || list[1].ID != tok.ID || !list[1].LastUsedAt.Equal(e.clk.Now()) || !list[1].RevokedAt.IsZero() {
			t.Fatalf("list: %+v %v", list, err)
		}
		_, err = e.auth.ListTokens(ctx, leader)
		wantErr(t, "leadership lists tokens", err, errs.Forbidden, "admin_only")

		wantErr(t, "leadership revokes", e.auth.RevokeToken(ctx, leader, tok.ID), errs.Forbidden, "admin_only")
		wantErr(t, "revoke unknown", e.auth.RevokeToken(ctx, admin, 9999), errs.NotFound, "token_not_found")
		if err := e.auth.RevokeToken(ctx, admin, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.auth.AuthenticateToken(ctx, plain, "")
		wantErr(t, "revoked token", err, errs.Unauthenticated, "bad_token")
		if _, err := e.auth.AuthenticateToken(ctx, plain2, ""); err != nil {
			t.Errorf("other token after revoke: %v", err)
		}
		list, _ = e.auth.ListTokens(ctx, admin)
		if !list[1].RevokedAt.Equal(e.clk.Now()) {
			t.Errorf("revoked at %v", list[1].RevokedAt)
		}

		created := e.entries(t, "token.create")
		revoked := e.entries(t, "token.revoke")
		if len(created) != 2 || created[0].ObjectID != fmt.Sprint(tok.ID) || created[0].InstitutionID != e.h1 ||
			created[0].Actor != "admin.tok" || strings.Contains(created[0].Detail, plain) {
			t.Errorf("token.create audit: %+v", created)
		}
		if len(revoked) != 1 || revoked[0].ObjectID != fmt.Sprint(tok.ID) {
			t.Errorf("token.revoke audit: %+v", revoked)
		}
		e.verifyChain(t)
	})
}

// A token stops working when its institution is deactivated.
func TestTokenOfInactiveInstitution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		sys := access.System()
		plain, _, err := e.auth.CreateToken(ctx, sys, e.h3, "HIS")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.AuthenticateToken(ctx, plain, "10.0.0.1"); err != nil {
			t.Fatalf("active institution: %v", err)
		}
		if err := e.org.UpdateInstitution(ctx, sys, e.h3, org.InstitutionInput{Code: "H3", Name: "H3", Kind: org.KindHospital, Active: false}); err != nil {
			t.Fatal(err)
		}
		_, err = e.auth.AuthenticateToken(ctx, plain, "10.0.0.1")
		wantErr(t, "inactive institution", err, errs.Unauthenticated, "bad_token")
	})
}
