package api

import (
	"fmt"
	"net/http"
	"testing"
)

// testRecordBrowser runs inside TestAPIEncounterLifecycle once tok1 has
// completed record id (number) for patient M1 of H1.
func testRecordBrowser(t *testing.T, e *env, id int64, number string) {
	t.Helper()
	var page recordBrowseJSON
	wantJSON(t, e.do("GET", "/api/v1/records", e.tok1), &page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Number != number || page.Items[0].PatientName == "" ||
		page.Items[0].PatientMRN != "M1" || page.NextCursor != nil || page.Items[0].Amended {
		t.Fatalf("records page = %+v", page)
	}
	wantJSON(t, e.do("GET", "/api/v1/records?satisfaction=dissatisfied", e.tok1), &page)
	if page.Total != 0 || len(page.Items) != 0 {
		t.Errorf("dissatisfied = %+v", page)
	}
	wantJSON(t, e.do("GET", "/api/v1/records?from=2026-09-01&to=2026-09-01&level=2&number=SF-H1", e.tok1), &page)
	if page.Total != 1 {
		t.Errorf("filtered = %+v", page)
	}
	p := wantProblem(t, e.do("GET", "/api/v1/records?from=09/01&satisfaction=meh", e.tok1), http.StatusBadRequest, "invalid_parameters")
	if f := p["errors"].(map[string]any); f["from"] != "bad_from" || f["satisfaction"] != "bad_satisfaction" {
		t.Errorf("bad filters: %v", p["errors"])
	}
	wantJSON(t, e.do("GET", "/api/v1/records", e.tok2), &page)
	if page.Total != 0 {
		t.Errorf("H2 sees H1's records: %+v", page)
	}

	path := fmt.Sprintf("/api/v1/records/%d", id)
	var d recordDetailJSON
	wantJSON(t, e.do("GET", path, e.tok1), &d)
	if d.Number != number || d.Position != 1 || d.ChainLen != 1 || !d.Latest || len(d.Versions) != 1 {
		t.Errorf("record detail = %+v", d)
	}
	wantProblem(t, e.do("GET", path, e.tok2), http.StatusNotFound, "record_not_found")
	wantProblem(t, e.do("GET", "/api/v1/records/0", e.tok1), http.StatusNotFound, "record_not_found")

	body := `{"treatment_effect":"good","satisfaction":"basically","medication_guidance":"按时服药","revisit_advice":"一周后复查","nps":7,"amend_reason":%q}`
	wantProblem(t, e.send("POST", path+"/amend", e.tok1, fmt.Sprintf(body, " ")), http.StatusBadRequest, "missing_amend_reason")
	wantProblem(t, e.send("POST", path+"/amend", e.tok1, `{"amend_reason":"x","colour":"red"}`), http.StatusBadRequest, "unknown_field")
	wantProblem(t, e.send("POST", path+"/amend", e.tok2, fmt.Sprintf(body, "复查时间有误")), http.StatusNotFound, "record_not_found")
	var rc recordCreatedJSON
	wantStatusJSON(t, e.send("POST", path+"/amend", e.tok1, fmt.Sprintf(body, "复查时间有误")), http.StatusCreated, &rc)
	if rc.ID == id || len(rc.Hash) != 64 {
		t.Errorf("amendment = %+v", rc)
	}
	wantProblem(t, e.send("POST", path+"/amend", e.tok1, fmt.Sprintf(body, "再改")), http.StatusConflict, "record_superseded")
	wantJSON(t, e.do("GET", path, e.tok1), &d)
	if d.Latest || !d.Amended || len(d.Versions) != 2 || d.Versions[1].ID != rc.ID || d.Versions[1].AmendReason == nil ||
		*d.Versions[1].AmendReason != "复查时间有误" || d.Versions[1].PrevHash != d.Hash {
		t.Errorf("after the amendment = %+v", d)
	}

	// The patient, found by MRN and read masked.
	var pp patientPageJSON
	wantJSON(t, e.do("GET", "/api/v1/patients?q=M1", e.tok1), &pp)
	if pp.Total != 1 || len(pp.Items) != 1 || pp.Items[0].MRN != "M1" || pp.Items[0].LastVisit == nil {
		t.Fatalf("patient search = %+v", pp)
	}
	wantProblem(t, e.do("GET", "/api/v1/patients?q=", e.tok1), http.StatusBadRequest, "missing_query")
	wantJSON(t, e.do("GET", "/api/v1/patients?q=M1", e.tok2), &pp)
	if pp.Total != 0 {
		t.Errorf("H2 finds H1's patient: %+v", pp)
	}
	var pj patientJSON
	ppath := fmt.Sprintf("/api/v1/patients/%d", patientIDOf(t, e))
	wantJSON(t, e.do("GET", ppath, e.tok1), &pj)
	if pj.MRN != "M1" || len(pj.Encounters) == 0 || len(pj.Tasks) == 0 {
		t.Errorf("patient = %+v", pj)
	}
	for _, ph := range pj.Phones {
		if len(ph) > 0 && !containsStar(ph) {
			t.Errorf("phone %q is not masked", ph)
		}
	}
	wantProblem(t, e.do("GET", ppath, e.tok2), http.StatusNotFound, "patient_not_found")
}

func patientIDOf(t *testing.T, e *env) int64 {
	t.Helper()
	var pp patientPageJSON
	wantJSON(t, e.do("GET", "/api/v1/patients?q=M1", e.tok1), &pp)
	if len(pp.Items) != 1 {
		t.Fatalf("no patient M1: %+v", pp)
	}
	return pp.Items[0].ID
}

func containsStar(s string) bool {
	for _, r := range s {
		if r == '*' {
			return true
		}
	}
	return false
}
