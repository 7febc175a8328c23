package audit_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestRefusedCapped: a refusal is one entry per caller and route a minute;
// the next entry says how many were held back; other callers and routes
// have their own count.
func TestRefusedCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		au := audit.New(db, clk.Now)
		agency := &access.Principal{UserID: 41, Username: "agency", InstitutionID: 3, Roles: []access.Role{access.ThirdParty}, IP: "10.2.3.4"}
		nurse := &access.Principal{UserID: 42, Username: "nurse", InstitutionID: 3, Roles: []access.Role{access.Nurse}}
		mux := http.NewServeMux()
		var last *http.Request
		mux.HandleFunc("GET /complaints/{id}", func(w http.ResponseWriter, r *http.Request) { last = r })
		mux.HandleFunc("GET /notices/{id}", func(w http.ResponseWriter, r *http.Request) { last = r })
		refuse := func(p *access.Principal, path string) {
			t.Helper()
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
			if err := au.Refused(ctx, p, last, "out_of_scope"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			refuse(agency, "/complaints/"+string(rune('1'+i%9))) // a loop over ids: one route
		}
		refuse(nurse, "/complaints/7")
		refuse(agency, "/notices/12")
		es := all(t, au)
		if len(es) != 3 {
			t.Fatalf("%d entries, want 3", len(es))
		}
		if e := es[0]; e.Action != "access.refused" || e.Actor != "agency" || e.ActorID != 41 || e.IP != "10.2.3.4" || e.Success ||
			e.ObjectType != "complaints" || e.ObjectID != "1" || e.InstitutionID != 3 ||
			e.Detail != "route=GET /complaints/{id} code=out_of_scope" {
			t.Errorf("first entry %+v", e)
		}
		if es[2].ObjectType != "notices" || es[2].ObjectID != "12" {
			t.Errorf("notice entry %+v", es[2])
		}
		clk.Advance(59 * time.Second)
		refuse(agency, "/complaints/3")
		if n := len(all(t, au)); n != 3 {
			t.Fatalf("within the minute: %d entries", n)
		}
		clk.Advance(2 * time.Second)
		refuse(agency, "/complaints/4")
		es = all(t, au)
		if len(es) != 4 || !strings.HasSuffix(es[3].Detail, "held_back=50") || es[3].ObjectID != "4" {
			t.Fatalf("after the minute: %+v", es[len(es)-1])
		}
		if r, err := au.Verify(ctx); err != nil || !r.OK {
			t.Fatalf("verify: %+v %v", r, err)
		}
		// Nobody signed in, nothing to write.
		if err := au.Refused(ctx, nil, last, "out_of_scope"); err != nil || len(all(t, au)) != 4 {
			t.Fatalf("anonymous refusal: %v", err)
		}
	})
}
