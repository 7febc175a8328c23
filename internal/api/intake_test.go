package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// An outpatient visit sent with a phone list as the registration desk
// keyed it: stored as a visit without a plan; 7777 dropped with a masked
// warning, the +86 number kept as 11 digits.
func TestAPIEncounterClassAndPhoneWarnings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newCoreEnv(t, db)
		body := strings.NewReplacer(`"phones":["13800138000"]`, `"phones":["+86 139-1234-5601","7777"]`,
			`"outcome":"improved"}`, `"outcome":"improved","class":"outpatient"}`).Replace(discharge("MZ1", "M1"))
		var res encounterResultJSON
		wantStatusJSON(t, e.send("POST", "/api/v1/encounters", e.tok1, body), http.StatusCreated, &res)
		want := encounterResultJSON{VisitNumber: "MZ1", Status: "discharged", Created: true, Change: "created", Class: "outpatient",
			Warnings: []warningJSON{{Field: "patient.phones", Reason: res.Warnings[0].Reason, Value: "**77"}}}
		if !reflect.DeepEqual(res, want) || !strings.Contains(res.Warnings[0].Reason, "unusable phone") {
			t.Fatalf("POST = %+v, want %+v", res, want)
		}
		// A bad class is the client's error.
		bad := strings.Replace(body, `"class":"outpatient"`, `"class":"OPD"`, 1)
		if w := e.send("POST", "/api/v1/encounters", e.tok1, bad); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "encounter.class") {
			t.Fatalf("bad class: %d %s", w.Code, w.Body)
		}
	})
}
