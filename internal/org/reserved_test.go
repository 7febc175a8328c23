package org_test

import (
	"testing"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// /c/track is the public tracking lookup, so no hospital may be coded
// "track": its public complaint page /c/track would be the lookup.
func TestTrackIsNotAnInstitutionCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for _, code := range []string{"track", "TRACK", "Track"} {
			_, err := e.org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: code, Name: "追踪医院"})
			if errs.CodeOf(err) != "code_reserved" {
				t.Errorf("create %q: %v, want code_reserved", code, err)
			}
		}
		id := e.inst(t, "tracking", org.KindHospital, 0) // a longer word is fine
		err := e.org.UpdateInstitution(ctx, access.System(), id, org.InstitutionInput{Code: "track", Name: "追踪医院", Active: true})
		if errs.CodeOf(err) != "code_reserved" {
			t.Errorf("rename to track: %v, want code_reserved", err)
		}
	})
}
