package complaint_test

import (
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// nextDue reads complaint id's stored next deadline.
func (e *env) nextDue(id int64) time.Time {
	e.t.Helper()
	var v int64
	if err := e.db.R().QueryRowContext(ctx, `SELECT next_due FROM complaints WHERE id = $1`, id).Scan(&v); err != nil {
		e.t.Fatal(err)
	}
	if v == 0 {
		return time.Time{}
	}
	return store.Time(v).In(e.loc)
}

func (e *env) at(s string) time.Time {
	e.t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, e.loc)
	if err != nil {
		e.t.Fatal(err)
	}
	return tm
}

func (e *env) auditDetail(action string) string {
	e.t.Helper()
	var d string
	if err := e.db.R().QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&d); err != nil {
		e.t.Fatalf("audit %s: %v", action, err)
	}
	return d
}

func TestCategoriesEditable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		cs, err := e.cs.Categories(ctx, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 7 || cs[0].Code != "medical_quality" || cs.Name("zh-CN", "ethics") != "医德医风" || cs.Name("en", "fees") != "Fees" {
			t.Fatalf("defaults = %+v", cs)
		}
		// Only quality (or an administrator) edits them.
		_, err = e.cs.AddCategory(ctx, e.agent, e.inst, complaint.CategoryInput{NameZh: "停车"})
		wantErr(t, err, errs.Forbidden, "complaint_admin_forbidden")
		_, err = e.cs.AddCategory(ctx, e.quality, e.inst, complaint.CategoryInput{NameZh: "  "})
		wantErr(t, err, errs.Invalid, "bad_category_name")
		_, err = e.cs.AddCategory(ctx, e.quality, e.inst, complaint.CategoryInput{Code: "Parking!", NameZh: "停车"})
		wantErr(t, err, errs.Invalid, "bad_category_code")
		code, err := e.cs.AddCategory(ctx, e.quality, e.inst, complaint.CategoryInput{NameZh: "停车", NameEn: "Parking"})
		if err != nil {
			t.Fatal(err)
		}
		if code != "custom_8" {
			t.Errorf("generated code %q, want custom_8 (the eighth category)", code)
		}
		_, err = e.cs.AddCategory(ctx, e.quality, e.inst, complaint.CategoryInput{NameZh: "停车"})
		wantErr(t, err, errs.Invalid, "category_name_taken")
		cs, _ = e.cs.Categories(ctx, e.inst)
		if len(cs) != 8 || cs[7].Code != code || cs[7].Name("en") != "Parking" || cs[0].ID == 0 {
			t.Fatalf("after adding: %+v (the defaults must have been copied first)", cs)
		}

		// A complaint may use the new category.
		in := e.phoneComplaint()
		in.Category = code
		c := e.register(e.agent, in)
		if c.Category != code {
			t.Fatalf("category %q", c.Category)
		}
		// An unknown code is refused as a field error.
		in.Category = "no_such"
		_, err = e.cs.Register(ctx, e.agent, in)
		wantErr(t, err, errs.Invalid, "bad_category")

		// Rename and reorder: the code stays, so the complaint keeps it.
		if err := e.cs.UpdateCategory(ctx, e.quality, e.inst, code, complaint.CategoryInput{NameZh: "停车与交通", NameEn: "Parking",
			Sort: 5, Active: true}); err != nil {
			t.Fatal(err)
		}
		cs, _ = e.cs.Categories(ctx, e.inst)
		if cs[0].Code != code || cs.Name("zh-CN", code) != "停车与交通" {
			t.Errorf("reordered: first %q name %q", cs[0].Code, cs.Name("zh-CN", code))
		}

		// Deactivated: not offered, not accepted for new complaints, still
		// shown and kept by a reclassification on another axis.
		if err := e.cs.UpdateCategory(ctx, e.quality, e.inst, code, complaint.CategoryInput{NameZh: "停车与交通", Sort: 5}); err != nil {
			t.Fatal(err)
		}
		cs, _ = e.cs.Categories(ctx, e.inst)
		if len(cs.Offered("")) != 7 || len(cs.Offered(code)) != 8 || cs.Name("zh-CN", code) != "停车与交通" {
			t.Errorf("offered %d / %d", len(cs.Offered("")), len(cs.Offered(code)))
		}
		in.Category = code
		_, err = e.cs.Register(ctx, e.agent, in)
		wantErr(t, err, errs.Invalid, "bad_category")
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: code, Severity: complaint.Serious,
			Complexity: complaint.Simple})
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActReclassify, Category: "no_such",
			Severity: complaint.Serious, Complexity: complaint.Simple})
		wantErr(t, err, errs.Invalid, "bad_category")

		// Never deleted while used; the catch-all stays active.
		wantErr(t, e.cs.DeleteCategory(ctx, e.quality, e.inst, code), errs.Conflict, "category_in_use")
		wantErr(t, e.cs.UpdateCategory(ctx, e.quality, e.inst, "other", complaint.CategoryInput{NameZh: "其他"}), errs.Invalid,
			"catch_all_category")
		unused, err := e.cs.AddCategory(ctx, e.quality, e.inst, complaint.CategoryInput{Code: "food", NameZh: "餐饮"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cs.DeleteCategory(ctx, e.quality, e.inst, unused); err != nil {
			t.Fatal(err)
		}
		adm, err := e.cs.CategoriesAdmin(ctx, e.quality, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		if adm.Defaults || !adm.CanEdit || len(adm.Categories) != 8 || adm.Categories[0].Used != 1 {
			t.Errorf("admin view %+v", adm)
		}
		if d := e.auditDetail("complaint.category_update"); !strings.Contains(d, "active=false") {
			t.Errorf("audit detail %q", d)
		}
		e.auditDetail("complaint.category_add")
		e.auditDetail("complaint.category_delete")
	})
}

func TestPolicyAdminMovesNextDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// Received Monday 2026-03-02 09:00: accepted is due at 10:00.
		c := e.register(e.agent, e.phoneComplaint())
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-02 10:00")) {
			t.Fatalf("next due %v, want 10:00", got)
		}
		v, err := e.cs.Policies(ctx, e.agent, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		if v.Own || v.CanEdit || len(v.Policies) != 2 || len(v.Matrix) != 7 || len(v.Matrix[0].Cells) != 6 || !v.Matrix[0].Cells[0].Builtin {
			t.Fatalf("defaults view: own %t edit %t %d policies, matrix %+v", v.Own, v.CanEdit, len(v.Policies), v.Matrix)
		}
		wantErr(t, e.cs.CopyDefaultPolicies(ctx, e.agent, e.inst), errs.Forbidden, "complaint_admin_forbidden")
		if err := e.cs.CopyDefaultPolicies(ctx, e.quality, e.inst); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.cs.CopyDefaultPolicies(ctx, e.quality, e.inst), errs.Conflict, "policies_exist")
		v, _ = e.cs.Policies(ctx, e.quality, e.inst)
		if !v.Own || !v.CanEdit || v.Matrix[0].Cells[0].Builtin || v.Matrix[0].Cells[0].Policy != "简单投诉" {
			t.Fatalf("copied: own %t cell %+v", v.Own, v.Matrix[0].Cells[0])
		}
		simple := v.Policies[0]

		// A bad target names the part and the reason; nothing is saved.
		in := complaint.PolicyInput{Name: "简单投诉", Complexity: complaint.Simple,
			Targets: "accepted=3h, assessed=24h, plan=3x, feedback=5wd/10wd"}
		err = e.cs.UpdatePolicy(ctx, e.quality, e.inst, simple.ID, in)
		wantErr(t, err, errs.Invalid, "bad_targets")
		if te, ok := complaint.BadTargets(err); !ok || te.Part != "plan=3x" || te.Reason != "amount" {
			t.Fatalf("target error %+v", te)
		}
		// Accepting in 3 service hours moves the stored deadline to 12:00
		// in the same transaction, and the audit says how many moved.
		in.Targets = "accepted=3h, assessed=24h, plan=3wd, answer_simple=1wd, feedback=5wd/10wd, closed=7d, rectified=15d"
		if err := e.cs.UpdatePolicy(ctx, e.quality, e.inst, simple.ID, in); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-02 12:00")) {
			t.Fatalf("after the edit next due %v, want 12:00", got)
		}
		if d := e.auditDetail("complaint.policy_update"); !strings.Contains(d, "accepted=3h") || !strings.Contains(d, "next_due_changed=1") {
			t.Errorf("audit %q", d)
		}
		// A more specific policy for simple process complaints wins and
		// moves it (category + complexity beats complexity alone).
		id, err := e.cs.CreatePolicy(ctx, e.quality, e.inst, complaint.PolicyInput{Name: "流程投诉", Category: "process",
			Complexity: complaint.Simple, Targets: "accepted=2h, feedback=5wd"})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-02 11:00")) {
			t.Fatalf("process policy: next due %v, want 11:00", got)
		}
		_, err = e.cs.CreatePolicy(ctx, e.quality, e.inst, complaint.PolicyInput{Name: "又一个", Category: "process", Complexity: complaint.Simple,
			Targets: "accepted=1h"})
		wantErr(t, err, errs.Invalid, "policy_same_match")
		_, err = e.cs.CreatePolicy(ctx, e.quality, e.inst, complaint.PolicyInput{Name: "流程投诉", Severity: complaint.Major, Targets: "accepted=1h"})
		wantErr(t, err, errs.Invalid, "policy_name_taken")
		_, err = e.cs.CreatePolicy(ctx, e.quality, e.inst, complaint.PolicyInput{Name: "x", Category: "nope", Targets: "accepted=1h"})
		wantErr(t, err, errs.Invalid, "bad_category")
		v, _ = e.cs.Policies(ctx, e.quality, e.inst)
		for _, row := range v.Matrix {
			want := "简单投诉"
			if row.Category.Code == "process" {
				want = "流程投诉"
			}
			if row.Cells[0].Policy != want {
				t.Errorf("matrix %s general/simple = %q, want %q", row.Category.Code, row.Cells[0].Policy, want)
			}
		}
		// Deleting it gives the complaint back to the simple policy.
		if err := e.cs.DeletePolicy(ctx, e.quality, e.inst, id); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-02 12:00")) {
			t.Fatalf("after delete next due %v, want 12:00", got)
		}
		wantErr(t, e.cs.DeletePolicy(ctx, e.quality, e.inst, id), errs.NotFound, "policy_not_found")
		e.auditDetail("complaint.policy_copy_defaults")
		e.auditDetail("complaint.policy_create")
		e.auditDetail("complaint.policy_delete")
	})
}

func TestCalendarEditsMoveNextDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		sys := access.System()
		c := e.register(e.agent, e.phoneComplaint())
		// Service hours 09:30–17:30: the hour's clock starts at 09:30.
		i, err := e.sv.Org.Institution(ctx, sys, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.sv.Org.UpdateInstitution(ctx, sys, e.inst, org.InstitutionInput{Code: i.Code, Name: i.Name, Kind: i.Kind,
			Timezone: i.Timezone, ServiceHours: "09:30-17:30", Active: true}); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-02 10:30")) {
			t.Fatalf("after new hours next due %v, want 10:30", got)
		}
		// Accepted and assessed at once: the simple answer (1 working day)
		// is now the earliest deadline, the end of Tuesday 03-03.
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "process", Severity: complaint.General,
			Complexity: complaint.Simple})
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-04 00:00")) {
			t.Fatalf("next due %v, want the end of 2026-03-03", got)
		}
		// A holiday on Tuesday moves it a day; removing it moves it back.
		tue, _ := calendar.ParseDate("2026-03-03")
		if err := e.sv.Calendar.SetDay(ctx, sys, e.inst, calendar.Exception{Date: tue, OffDay: true, Name: "院庆"}); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-05 00:00")) {
			t.Fatalf("after the holiday next due %v, want the end of 2026-03-04", got)
		}
		if err := e.sv.Calendar.DeleteDay(ctx, sys, e.inst, tue); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-04 00:00")) {
			t.Fatalf("holiday removed: next due %v, want the end of 2026-03-03", got)
		}
		// A whole year imported with that holiday moves it again.
		y := calendar.Year{Year: 2026, Days: []calendar.Exception{{Date: tue, OffDay: true, Name: "院庆"}}}
		if _, err := e.sv.Calendar.ImportYear(ctx, sys, e.inst, y); err != nil {
			t.Fatal(err)
		}
		if got := e.nextDue(c.ID); !got.Equal(e.at("2026-03-05 00:00")) {
			t.Fatalf("after import next due %v, want the end of 2026-03-04", got)
		}
		// The page computes the same deadline from the same calendar.
		v, err := e.cs.Page(ctx, e.agent, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range v.Clocks {
			if cl.Milestone == complaint.MAnswerSimple && cl.Deadline.Date.String() != "2026-03-04" {
				t.Errorf("page deadline %s", cl.Deadline.Date)
			}
		}
	})
}
