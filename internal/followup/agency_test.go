package followup_test

import (
	"database/sql"
	"testing"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/patient"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestAgencyReachInServices: the follow-up and patient services keep an
// outside agency to the calls routed to it (steps planned for the
// third_party role) and their patients while a call is open, on both
// engines. Before, the agency saw every task, patient and ID number of its
// institution and could mark patients deceased.
func TestAgencyReachInServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		sys := access.System()
		// Surgery patients' service-centre calls go to the agency.
		rules, err := e.fu.Rules(ctx, sys, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if r.Match.Surgery != nil && *r.Match.Surgery {
				for i := range r.Steps {
					if r.Steps[i].Role == access.Agent {
						r.Steps[i].Role = access.ThirdParty
					}
				}
				if _, err := e.fu.SaveRule(ctx, sys, *r); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.importMsgs(importer.Options{},
			discharge("M1", "ZY1", "2026-09-18", func(m *intake.Message) { m.Encounter.Surgery = true }),
			discharge("M2", "ZY2", "2026-09-18"))
		own, other := e.task("ZY1", "L3"), e.task("ZY2", "L3")
		if own.Role != access.ThirdParty || other.Role != access.Agent {
			t.Fatalf("routing: %s / %s", own.Role, other.Role)
		}
		agency := &access.Principal{UserID: 401, Username: "agency", InstitutionID: e.inst, Roles: []access.Role{access.ThirdParty},
			Grants: []access.Grant{{InstitutionID: e.inst}}}

		for _, tab := range followup.Tabs() {
			for _, tk := range e.worklist(agency, followup.Filter{InstitutionID: e.inst, Tab: tab}).Tasks {
				if tk.Role != access.ThirdParty {
					t.Errorf("tab %s holds %s's %s", tab, tk.Role, tk.StepKey)
				}
			}
		}
		if _, err := e.fu.Task(ctx, agency, other.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the service centre's task: %v", err)
		}
		tk, pat, enc, err := e.fu.TaskPatient(ctx, agency, own.ID)
		if err != nil || tk.ID != own.ID || pat.MRN != "M1" || enc.VisitNumber != "ZY1" {
			t.Fatalf("own task: %v", err)
		}
		p2 := e.patientByMRN("M2")
		for _, field := range []string{"phone", "national_id"} {
			if _, err := e.pat.Reveal(ctx, agency, p2.ID, field); !errs.Is(err, errs.Forbidden) {
				t.Errorf("reveal %s of a patient without its task: %v", field, err)
			}
		}
		if v, err := e.pat.Reveal(ctx, agency, own.PatientID, "phone"); err != nil || v != "13800138000" {
			t.Errorf("phone of its own call: %q %v", v, err)
		}
		for _, field := range []string{"national_id", "address"} {
			if _, err := e.pat.Reveal(ctx, agency, own.PatientID, field); errs.CodeOf(err) != "agency_reveal_forbidden" {
				t.Errorf("reveal %s of its own call's patient: %v", field, err)
			}
		}
		if _, _, err := e.pat.Stay(ctx, agency, other.EncounterID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("stay of another patient: %v", err)
		}
		if _, err := e.pat.Search(ctx, agency, patient.Query{InstitutionID: e.inst, Text: "M1"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("archive search: %v", err)
		}
		if _, err := e.fu.PatientFile(ctx, agency, p2.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("file of another patient: %v", err)
		}
		f, err := e.fu.PatientFile(ctx, agency, own.PatientID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range f.Tasks {
			if x.Role != access.ThirdParty {
				t.Errorf("its patient's file shows the %s's %s", x.Role, x.StepKey)
			}
		}
		if _, err := e.fu.MarkDeceased(ctx, agency, own.PatientID, "家属来电告知"); errs.CodeOf(err) != "agency_forbidden" {
			t.Errorf("mark deceased: %v", err)
		}
		if _, err := e.fu.ExportTasks(ctx, agency, followup.ExportFilter{InstitutionID: e.inst},
			func(followup.ExportRow) error { return nil }); !errs.Is(err, errs.Forbidden) {
			t.Errorf("export: %v", err)
		}
		// A task assigned to the agency's user by name is routed to it too.
		e.exec(`UPDATE followup_tasks SET assignee_id = $1 WHERE id = $2`, agency.UserID, other.ID)
		if _, err := e.fu.Task(ctx, agency, other.ID); err != nil {
			t.Errorf("a task assigned to the agency's user: %v", err)
		}
	})
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if err := e.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}
