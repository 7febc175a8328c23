package app

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
)

// TestHISDepartments is issue 11 item 8 on both engines: a HIS export
// names a department and ward Suifang was never told about, and one stay
// comes with no department at all. The import creates the two ("from
// HIS, to review"); a 不满意 on either stay saves, its notice going to the
// department or, lacking one, to a quality office with the administrator
// told; mapping the HIS code onto the hospital's own department folds
// the created one in.
func TestHISDepartments(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			a, _, _ := raceInstances(t, storetest.DSN(t, engine))
			ctx := context.Background()
			sys := access.System()
			inst, err := a.Org.InstitutionByCode(ctx, "H1")
			if err != nil {
				t.Fatal(err)
			}
			csv := "机构代码,病案号,住院流水号,姓名,性别,身份证号,联系电话,现住址,科室代码,科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,治疗结果\n" +
				"H1,0088001,ZY2026092101,周桂芳,女,,13905710088,浙江省杭州市拱墅区湖墅南路18号,0512,消化内科,W12,消化二病区,孙医生,钱护士,2026-09-21,2026-09-28,K29.7,胃炎,好转\n" +
				"H1,0088002,ZY2026092102,吴志强,男,,13905710089,浙江省杭州市滨江区江南大道3号,,,,,,,2026-09-22,2026-09-28,J18.9,肺炎,治愈\n"
			rep, err := a.Importer.Import(ctx, sys, strings.NewReader(csv), importer.Options{Filename: "his-export.csv"})
			if err != nil || rep.New != 2 || rep.Rejected != 0 {
				t.Fatalf("import: %+v %v", rep, err)
			}
			deps, err := a.Org.Departments(ctx, sys, inst.ID)
			if err != nil {
				t.Fatal(err)
			}
			byCode := map[string]*org.Department{}
			for _, d := range deps {
				byCode[d.Code] = d
			}
			gi, ward := byCode["0512"], byCode["W12"]
			if gi == nil || ward == nil || gi.Name != "消化内科" || gi.Kind != org.DeptClinical || ward.Kind != org.DeptWard ||
				!gi.ToReview() || gi.Source != org.SourceHIS || byCode["0301"].ToReview() {
				t.Fatalf("departments after the import: %+v %+v", gi, ward)
			}
			enc, err := a.Patients.EncounterByVisit(ctx, sys, inst.ID, "ZY2026092101")
			if err != nil || enc.DepartmentID != gi.ID || enc.WardID != ward.ID {
				t.Fatalf("stay filed under %+v (%v), want 0512/W12", enc, err)
			}

			var adminID int64
			if err := a.DB.R().QueryRowContext(ctx, `SELECT id FROM users WHERE username = 'admin'`).Scan(&adminID); err != nil {
				t.Fatal(err)
			}
			admin, err := a.Auth.PrincipalFor(ctx, adminID)
			if err != nil {
				t.Fatal(err)
			}
			unhappy := followup.RecordInput{Channel: "phone", TreatmentEffect: "improved", Satisfaction: followup.Dissatisfied,
				MedicationGuidance: "奥美拉唑每日一次，早餐前服用", RevisitAdvice: "两周后消化内科门诊复诊", NPS: 3,
				Opinions: "出院结算排队两个小时，没有人解释费用清单"}
			l3 := func(visit string) int64 {
				var id int64
				if err := a.DB.R().QueryRowContext(ctx, `SELECT t.id FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
					WHERE e.visit_number = $1 AND t.step_key = 'L3'`, visit).Scan(&id); err != nil {
					t.Fatal(err)
				}
				return id
			}
			noticeDept := func(rec *followup.Record) int64 {
				var d int64
				if err := a.DB.R().QueryRowContext(ctx, `SELECT department_id FROM notices WHERE source_ref = $1`,
					"followup_record:"+strconv.FormatInt(rec.ID, 10)).Scan(&d); err != nil {
					t.Fatalf("notice of %s: %v", rec.Number, err)
				}
				return d
			}
			rec, err := a.Followup.Complete(ctx, admin, l3("ZY2026092101"), unhappy)
			if err != nil {
				t.Fatalf("不满意 on a stay of a HIS-made department: %v", err)
			}
			if d := noticeDept(rec); d != gi.ID {
				t.Errorf("notice went to %d, want the HIS-made department %d", d, gi.ID)
			}
			// No department at all: the quality office (made, none exists)
			// takes the notice and the administrator hears of it.
			rec, err = a.Followup.Complete(ctx, admin, l3("ZY2026092102"), unhappy)
			if err != nil {
				t.Fatalf("不满意 on a stay without a department: %v", err)
			}
			var qcName, qcSource string
			if err := a.DB.R().QueryRowContext(ctx, `SELECT name, source FROM departments WHERE id = $1`, noticeDept(rec)).Scan(&qcName, &qcSource); err != nil ||
				qcName != "质控科" || qcSource != org.SourceAuto {
				t.Errorf("unrouted notice went to %q (%s) %v, want the quality office", qcName, qcSource, err)
			}
			var told int
			if err := a.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE template_key = 'notice.unrouted' AND user_id = $1`,
				admin.UserID).Scan(&told); err != nil || told != 1 {
				t.Errorf("administrator told %d times (%v), want once", told, err)
			}

			// The hospital set gastroenterology up as GI01; it maps the HIS
			// code onto it.
			own, err := a.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: inst.ID, Code: "GI01", Name: "消化内科"})
			if err != nil {
				t.Fatal(err)
			}
			folded, err := a.Org.MapHISCode(ctx, admin, inst.ID, "0512", own)
			if err != nil || !folded {
				t.Fatalf("map 0512: folded %v, %v", folded, err)
			}
			enc, _ = a.Patients.EncounterByVisit(ctx, sys, inst.ID, "ZY2026092101")
			if enc.DepartmentID != own || enc.WardID != ward.ID {
				t.Errorf("after mapping the stay is filed under %d/%d, want %d/%d", enc.DepartmentID, enc.WardID, own, ward.ID)
			}
			if got := raceCount(t, a, `SELECT COUNT(*) FROM followup_tasks WHERE department_id = $1 AND status = 'open'`, gi.ID); got != 0 {
				t.Errorf("%d open tasks left on the folded department", got)
			}
			if got := raceCount(t, a, `SELECT COUNT(*) FROM departments WHERE id = $1 AND active = $2`, gi.ID, false); got != 1 {
				t.Error("the folded department is still active")
			}
			rep, err = a.Importer.Import(ctx, sys, strings.NewReader(strings.Split(csv, "\n")[0]+"\n"+
				"H1,0088003,ZY2026092503,郑晓燕,女,,13905710090,浙江省杭州市西湖区天目山路5号,0512,消化内科,W12,消化二病区,孙医生,钱护士,2026-09-25,2026-09-29,K21.0,反流性食管炎,好转\n"),
				importer.Options{Filename: "his-export-2.csv"})
			if err != nil || rep.New != 1 {
				t.Fatalf("second import: %+v %v", rep, err)
			}
			enc, _ = a.Patients.EncounterByVisit(ctx, sys, inst.ID, "ZY2026092503")
			if enc.DepartmentID != own {
				t.Errorf("a later 0512 stay went to %d, want the mapped %d", enc.DepartmentID, own)
			}
			if _, err := a.Org.MapHISCode(ctx, &access.Principal{UserID: 9, Roles: []access.Role{access.Agent}}, inst.ID, "0512", own); err == nil {
				t.Error("an agent mapped a HIS code")
			}
		})
	}
}
