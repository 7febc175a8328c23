package mllpauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/mllpauth"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

type env struct {
	sv  *core.Services
	clk *clock.Fake
}

// setup builds the services as the app does, with a hospital group of two
// hospitals (H01 城东, H02 城西) whose interface engines send from 10.1.2.x.
func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 10, 10, 2, 0, 0, 0, time.UTC))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	sv, err := core.Build(db, core.Options{Now: clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index})
	if err != nil {
		t.Fatal(err)
	}
	sys := access.System()
	g, err := sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "G1", Name: "市医疗集团", Kind: org.KindGroup})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []org.InstitutionInput{{Code: "H01", Name: "城东医院", ParentID: g}, {Code: "H02", Name: "城西医院", ParentID: g}} {
		if _, err := sv.Org.CreateInstitution(ctx, sys, in); err != nil {
			t.Fatal(err)
		}
	}
	return &env{sv: sv, clk: clk}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestAllowListDecides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		s := e.sv.Senders
		admin := access.System()

		// A fresh install: only loopback, unbound.
		if d, err := s.Authorize(ctx, mllpauth.Attempt{Remote: addr("127.0.0.1"), App: "HIS", Facility: "H02"}); err != nil || !d.Allowed || d.InstitutionID != 0 {
			t.Fatalf("loopback on an empty list: %+v %v", d, err)
		}
		if d, _ := s.Authorize(ctx, mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "HIS", Facility: "H01"}); d.Allowed {
			t.Fatal("a remote sender was allowed on an empty list")
		}

		h01, err := s.Allow(ctx, admin, mllpauth.AllowInput{Institution: "H01", Source: "10.1.2.0/24", App: "HIS", Facility: "H01", Note: "东院集成平台"})
		if err != nil {
			t.Fatal(err)
		}
		// H02's engine names its facility by the HIS's own number, not Suifang's code.
		if _, err := s.Allow(ctx, admin, mllpauth.AllowInput{Institution: "H02", Source: "10.1.3.9", App: "HIS", Facility: "46600083-8"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Allow(ctx, admin, mllpauth.AllowInput{Institution: "H01", Source: "10.1.2.0/24", App: "HIS", Facility: "H01"}); errs.KindOf(err) != errs.Conflict {
			t.Fatalf("duplicate entry: %v", err)
		}

		cases := []struct {
			name    string
			a       mllpauth.Attempt
			refused string
			inst    string
		}{
			{"allowed", mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "HIS", Facility: "H01"}, "", "H01"},
			{"mapped v6", mllpauth.Attempt{Remote: addr("::ffff:10.1.2.8"), App: "HIS", Facility: "H01"}, "", "H01"},
			{"HIS number", mllpauth.Attempt{Remote: addr("10.1.3.9"), App: "HIS", Facility: "46600083-8"}, "", "H02"},
			{"other address", mllpauth.Attempt{Remote: addr("10.9.9.9"), App: "HIS", Facility: "H01"}, mllpauth.RefusedAddress, ""},
			{"loopback not listed", mllpauth.Attempt{Remote: addr("127.0.0.1"), App: "HIS", Facility: "H01"}, mllpauth.RefusedAddress, ""},
			{"other app", mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "LIS", Facility: "H01"}, mllpauth.RefusedApp, ""},
			{"other facility", mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "HIS", Facility: "H09"}, mllpauth.RefusedFacility, ""},
			{"H02 from H01's engine", mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "HIS", Facility: "H02"}, mllpauth.RefusedFacility, ""},
			{"next host", mllpauth.Attempt{Remote: addr("10.1.3.10"), App: "HIS", Facility: "46600083-8"}, mllpauth.RefusedAddress, ""},
		}
		for _, c := range cases {
			d, err := s.Authorize(ctx, c.a)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if d.Refused != c.refused || d.Allowed != (c.refused == "") || d.InstitutionCode != c.inst {
				t.Errorf("%s: %+v", c.name, d)
			}
		}

		// An entry with any facility still cannot reach another institution
		// by naming its code.
		if _, err := s.Allow(ctx, admin, mllpauth.AllowInput{Institution: "H01", Source: "10.1.4.0/24"}); err != nil {
			t.Fatal(err)
		}
		d, _ := s.Authorize(ctx, mllpauth.Attempt{Remote: addr("10.1.4.20"), App: "ANY", Facility: "H02"})
		if d.Allowed || d.Refused != mllpauth.RefusedInstitution {
			t.Errorf("wildcard entry reached H02: %+v", d)
		}
		d, _ = s.Authorize(ctx, mllpauth.Attempt{Remote: addr("10.1.4.20"), App: "ANY", Facility: ""})
		if !d.Allowed || d.InstitutionCode != "H01" {
			t.Errorf("wildcard entry without a facility: %+v", d)
		}
		// The principal an allowed message imports as sees H01 only.
		p := d.Principal("10.1.4.20")
		if !p.SeesInstitution(d.InstitutionID) || p.Global || p.IsAdmin() {
			t.Errorf("principal %+v", p)
		}
		h02, _ := e.sv.Org.InstitutionByCode(ctx, "H02")
		if p.SeesInstitution(h02.ID) {
			t.Error("an H01 sender's principal sees H02")
		}

		list, err := s.List(ctx, admin)
		if err != nil || len(list) < 3 {
			t.Fatalf("list: %v %v", list, err)
		}
		if err := s.Revoke(ctx, admin, h01.ID); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Authorize(ctx, mllpauth.Attempt{Remote: addr("10.1.2.7"), App: "HIS", Facility: "H01"}); d.Allowed && d.SenderID == h01.ID {
			t.Error("a revoked entry still allows")
		}
		if err := s.Revoke(ctx, admin, h01.ID); errs.KindOf(err) != errs.NotFound {
			t.Errorf("revoke twice: %v", err)
		}
		// Only administrators manage the list; every change is audited.
		nurse := &access.Principal{UserID: 9, Username: "nurse", Roles: []access.Role{access.Nurse}}
		if _, err := s.Allow(ctx, nurse, mllpauth.AllowInput{Institution: "H01", Source: "10.1.2.0/24"}); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("nurse allowed a sender: %v", err)
		}
		if _, err := s.List(ctx, nurse); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("nurse listed senders: %v", err)
		}
		entries, err := e.sv.Audit.List(ctx, admin, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var allows, revokes int
		for _, en := range entries {
			switch en.Action {
			case "mllp.allow":
				allows++
			case "mllp.revoke":
				revokes++
				if !strings.Contains(en.Detail, "source=10.1.2.0/24") {
					t.Errorf("revoke detail %q", en.Detail)
				}
			}
		}
		if allows < 3 || revokes != 1 {
			t.Errorf("audited %d allows and %d revokes", allows, revokes)
		}
	})
}

func TestAllowInputRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		for _, in := range []mllpauth.AllowInput{
			{Institution: "H01", Source: ""},
			{Institution: "H01", Source: "10.1.2.5/24"},
			{Institution: "H01", Source: "0.0.0.0/0"},
			{Institution: "H01", Source: "his.hospital.cn"},
			{Institution: "H01", Source: "10.1.2.0/24", App: "HIS|X"},
			{Institution: "H01", Source: "10.1.2.0/24", Facility: strings.Repeat("院", 65)},
			{Institution: "G1", Source: "10.1.2.0/24"},
			{Institution: "H99", Source: "10.1.2.0/24"},
		} {
			if _, err := e.sv.Senders.Allow(ctx, access.System(), in); err == nil {
				t.Errorf("Allow(%+v) accepted", in)
			}
		}
		if empty, err := e.sv.Senders.Empty(ctx); err != nil || !empty {
			t.Errorf("empty = %v, %v", empty, err)
		}
	})
}

// A flood of refused messages writes one audit entry per address per
// minute, and the count of the rest when the minute is over.
func TestRefusalsAuditedOncePerMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		s := e.sv.Senders
		bad := mllpauth.Attempt{Remote: addr("10.66.0.5"), App: "EVIL\r\nAPP", Facility: "H01", Event: "ADT^A08", Control: "X1"}
		other := mllpauth.Attempt{Remote: addr("10.66.0.6"), App: "HIS", Facility: "H02", Event: "ADT^A13"}
		for i := 0; i < 500; i++ {
			if _, err := s.Refused(ctx, bad, mllpauth.RefusedAddress); err != nil {
				t.Fatal(err)
			}
			if i%100 == 0 {
				if _, err := s.Refused(ctx, other, mllpauth.RefusedAddress); err != nil {
					t.Fatal(err)
				}
			}
		}
		count := func() (n int, details []string) {
			entries, err := e.sv.Audit.List(ctx, access.System(), audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				if en.Action == "mllp.refused" {
					n++
					details = append(details, en.Detail)
					if en.Success {
						t.Error("a refusal audited as a success")
					}
				}
			}
			return n, details
		}
		if n, d := count(); n != 2 {
			t.Fatalf("%d audit entries for a flood from two addresses: %q", n, d)
		}
		if _, d := count(); strings.ContainsAny(strings.Join(d, ""), "\r\n") {
			t.Errorf("sender text reached the audit log raw: %q", d)
		}
		e.clk.Advance(61 * time.Second)
		if err := s.FlushRefusals(ctx); err != nil {
			t.Fatal(err)
		}
		n, d := count()
		if n != 4 {
			t.Fatalf("after the minute: %d entries %q", n, d)
		}
		joined := strings.Join(d, "\n")
		if !strings.Contains(joined, "499 more refused") || !strings.Contains(joined, "4 more refused") {
			t.Errorf("counts missing: %q", joined)
		}
		// Nothing left to report: a second flush writes nothing.
		if err := s.FlushRefusals(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := count(); n != 4 {
			t.Errorf("second flush wrote entries: %d", n)
		}
	})
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"10.1.2.0/24", "10.1.2.7", "fd00::/64", "::ffff:10.1.2.0/120", "10.1.2.5/24", "0.0.0.0/0", "fe80::1%eth0", " 192.168.0.1 ", "1.2.3.4/33"} {
		f.Add(s, "10.1.2.9")
	}
	f.Fuzz(func(t *testing.T, src, remote string) {
		p, err := mllpauth.ParseSource(src)
		if err != nil {
			return
		}
		if !p.IsValid() || p.Bits() == 0 || p.Masked() != p || p.Addr().Is4In6() {
			t.Fatalf("ParseSource(%q) = %v", src, p)
		}
		// What is stored reads back as the same range.
		again, err := mllpauth.ParseSource(p.String())
		if err != nil || again != p {
			t.Fatalf("%q: stored %q reads back as %v, %v", src, p, again, err)
		}
		if a, err := netip.ParseAddr(remote); err == nil && p.Contains(a.Unmap()) != again.Contains(a.Unmap()) {
			t.Fatal("disagree")
		}
	})
}
