package e2e

import (
	"strings"
	"testing"

	"suifang/internal/org"
)

// An import met the HIS code 0599 (心内科（HIS）) that the hospital had set
// up as 0301 心血管内科: the administrator sees it marked on the departments
// page and maps the code onto 0301 there; the made department is folded in.
func TestBrowserHISDepartmentMapping(t *testing.T) {
	s := start(t, "sqlite")
	inst, deps := h01(t, s)
	made, err := s.App.Org.EnsureHISDepartments(t.Context(), inst, []org.HISDepartment{{Code: "0599", Name: "心内科（HIS）"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	admin := b.loggedIn(t, "admin")
	admin.open("/admin/departments?inst=" + itoa(inst))
	admin.wantText("心内科（HIS）", "来自 HIS，待核对", "HIS 科室代码对照")
	admin.shot("his-01-departments-to-review.png")
	admin.fill("#his_code", "0599")
	admin.setValue("#department_id", itoa(deps["0301"]))
	admin.clickNav(`form[action="/admin/departments/his-codes"] button[type=submit]`)
	admin.wantPath("/admin/departments")
	admin.wantText("自动创建的科室已并入")
	row := admin.eval(`[...document.querySelectorAll("main tbody tr")].map(r => r.innerText).find(t => t.includes("0599") && t.includes("删除对照")) || ""`).(string)
	if !strings.Contains(row, "心血管内科") {
		t.Errorf("mapping row %q does not name 心血管内科", row)
	}
	admin.wantNoUntranslated()
	admin.shot("his-02-mapped.png")
	_, deps = h01(t, s)
	if deps["0599"] != made["0599"] {
		t.Fatalf("the made department vanished: %v", deps)
	}
}
