package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"suifang/internal/access"
	"suifang/internal/org"
)

// The departments page marks a department an import made from a HIS code
// and lets an administrator map HIS codes onto the hospital's own
// departments, folding the made one in.
func TestDepartmentsPageHISCodes(t *testing.T) {
	e := newPageEnv(t)
	ids, err := e.org.EnsureHISDepartments(context.Background(), e.h1, []org.HISDepartment{{Code: "0301", Name: "心血管内科"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.login("admin", adminPW)
	page := fmt.Sprintf("/admin/departments?inst=%d", e.h1)
	r := admin.get(page)
	want(t, r, http.StatusOK, "心血管内科", "来自 HIS，待核对", "HIS 科室代码对照", `action="/admin/departments/his-codes"`)

	inst := fmt.Sprint(e.h1)
	r = admin.post("/admin/departments/his-codes", url.Values{"inst": {inst}, "his_code": {""}, "department_id": {fmt.Sprint(e.deptA)}})
	want(t, r, http.StatusUnprocessableEntity, "请填写 HIS 代码")

	r = admin.post("/admin/departments/his-codes", url.Values{"inst": {inst}, "his_code": {"0301"}, "department_id": {fmt.Sprint(e.deptA)}})
	want(t, r, http.StatusOK, "自动创建的科室已并入", "<td><code>0301</code></td><td>心内科 <code>CARD</code></td>")
	d, err := e.org.Department(context.Background(), access.System(), ids["0301"])
	if err != nil || d.Active {
		t.Errorf("the HIS-made department after mapping: %+v %v", d, err)
	}

	r = admin.post("/admin/departments/his-codes/delete", url.Values{"inst": {inst}, "his_code": {"0301"}})
	want(t, r, http.StatusOK, "已删除对照")
}
