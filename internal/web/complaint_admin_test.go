package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/complaint"
)

func TestComplaintPolicyPages(t *testing.T) {
	e := newComplaintEnv(t)
	qc := e.login("quality", adminPW)

	// Until the institution has its own, the defaults apply and can be copied.
	r := qc.get("/admin/complaint-policies")
	want(t, r, http.StatusOK, "投诉时限策略", "正在使用内置默认策略", "复制默认策略以编辑", "简单投诉", "复杂投诉", "适用矩阵",
		"受理 <b>1</b> 服务小时", "反馈投诉人 <b>5/10</b> 个工作日", `class="cpa-builtin"`, `href="/admin/complaint-policies"`)
	wantNot(t, r, "新建策略")
	r = qc.post("/admin/complaint-policies/copy-defaults", nil)
	want(t, r, http.StatusOK, "已复制内置默认策略", "新建策略")
	wantNot(t, r, "复制默认策略以编辑", `class="cpa-builtin"`)
	m := regexp.MustCompile(`href="(/admin/complaint-policies/\d+)">简单投诉<`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no link to the copied simple policy\n%s", excerpt(r.body))
	}
	edit := m[1]
	want(t, qc.get(edit), http.StatusOK, "编辑策略", `value="简单投诉"`, "accepted=1h, assessed=24h")

	// Bad targets come back with the input kept and the part named.
	bad := url.Values{"name": {"简单投诉"}, "category": {"any"}, "severity": {"any"}, "complexity": {"simple"},
		"targets": {"accepted=2h, plan=3dw, feedback=5wd/10wd"}}
	r = qc.post(edit, bad)
	want(t, r, http.StatusUnprocessableEntity, `id="targets" name="targets"`, `aria-invalid="true"`, "accepted=2h, plan=3dw, feedback=5wd/10wd",
		"“plan=3dw”：数量须为 1–366，单位为 h、wd 或 d。", "时限写法有误")
	bad.Set("targets", "accepted=1h, nope=2h")
	want(t, qc.post(edit, bad), http.StatusUnprocessableEntity, "“nope=2h”：请写成 节点=数量单位")
	bad.Set("targets", "accepted=1h, accepted=2h")
	want(t, qc.post(edit, bad), http.StatusUnprocessableEntity, "“accepted=2h”：同一节点只能出现一次。")
	bad.Set("targets", "feedback=5wd/10d")
	want(t, qc.post(edit, bad), http.StatusUnprocessableEntity, "斜杠前后的单位须相同")
	bad.Set("targets", " , ")
	want(t, qc.post(edit, bad), http.StatusUnprocessableEntity, "至少写一个节点的时限。")
	bad.Set("targets", "accepted=1h")
	bad.Set("name", "")
	r = qc.post(edit, bad)
	want(t, r, http.StatusUnprocessableEntity, "请填写策略名称", `id="name" name="name" value="" required maxlength="64" aria-invalid="true"`)

	// A good save.
	good := url.Values{"name": {"简单投诉"}, "category": {"any"}, "severity": {"any"}, "complexity": {"simple"},
		"targets": {"accepted=2h, assessed=24h, plan=3wd, feedback=5wd/10wd"}}
	r = qc.post(edit, good)
	want(t, r, http.StatusOK, "已保存策略“简单投诉”", "受理 <b>2</b> 服务小时")

	// A new policy for major complaints; a second with the same match is refused.
	major := url.Values{"name": {"重大投诉"}, "category": {"any"}, "severity": {"major"}, "complexity": {"any"},
		"targets": {"accepted=1h, assessed=4h, feedback=3wd"}}
	want(t, qc.get("/admin/complaint-policies/new"), http.StatusOK, "新建策略", "accepted=1h")
	r = qc.post("/admin/complaint-policies", major)
	want(t, r, http.StatusOK, "已保存策略“重大投诉”", "重大投诉")
	major.Set("name", "重大投诉二")
	want(t, qc.post("/admin/complaint-policies", major), http.StatusUnprocessableEntity, "已有一条适用范围完全相同的策略", `value="重大投诉二"`)
	v, err := e.sv.Complaints.Policies(context.Background(), e.principal("quality"), e.h1)
	if err != nil {
		t.Fatal(err)
	}
	// Severity alone ties with the simple policy's complexity, and the
	// older one wins: the page says the new one never applies.
	if len(v.Policies) != 3 || v.Matrix[0].Cells[4].Policy != "简单投诉" || !v.Shadowed["重大投诉"] {
		t.Fatalf("after saving: %d policies, medical quality major/simple → %q", len(v.Policies), v.Matrix[0].Cells[4].Policy)
	}
	want(t, qc.get("/admin/complaint-policies"), http.StatusOK, "从不适用")
	// Naming the complexity too makes it the most specific for major
	// complex complaints.
	major.Set("complexity", "complex")
	r = qc.post(majorPolicyURL(t, qc), major)
	want(t, r, http.StatusOK, "已保存策略“重大投诉二”")
	wantNot(t, r, "从不适用")
	v, _ = e.sv.Complaints.Policies(context.Background(), e.principal("quality"), e.h1)
	if v.Matrix[0].Cells[5].Policy != "重大投诉二" || v.Matrix[0].Cells[4].Policy != "简单投诉" {
		t.Fatalf("major/complex → %q, major/simple → %q", v.Matrix[0].Cells[5].Policy, v.Matrix[0].Cells[4].Policy)
	}
	// Delete it again.
	r = qc.post(majorPolicyURL(t, qc)+"/delete", nil)
	want(t, r, http.StatusOK, "已删除策略")
	wantNot(t, r, ">重大投诉")

	// A nurse may look but not edit; a forged post is refused.
	nb := e.login("nurseb", adminPW)
	r = nb.get("/admin/complaint-policies")
	want(t, r, http.StatusOK, "简单投诉")
	wantNot(t, r, "新建策略", "复制默认策略以编辑")
	want(t, nb.post(edit, good), http.StatusForbidden)
}

// majorPolicyURL finds the edit link of the policy whose name starts
// with 重大投诉.
func majorPolicyURL(t *testing.T, c *client) string {
	t.Helper()
	m := regexp.MustCompile(`href="(/admin/complaint-policies/\d+)">重大投诉`).FindStringSubmatch(c.get("/admin/complaint-policies").body)
	if m == nil {
		t.Fatal("no link to the major policy")
	}
	return m[1]
}

func TestComplaintCategoryPages(t *testing.T) {
	e := newComplaintEnv(t)
	qc := e.login("quality", adminPW)
	r := qc.get("/admin/complaint-categories")
	want(t, r, http.StatusOK, "投诉类别", "正在使用 7 个内置类别", `value="医疗质量"`, "新增类别")

	// A bad add comes back with the input kept and the field marked.
	r = qc.post("/admin/complaint-categories", url.Values{"name_zh": {"停车"}, "name_en": {"Parking"}, "code": {"Parking lot"}})
	want(t, r, http.StatusUnprocessableEntity, `id="new_code" name="code" value="Parking lot"`, `value="停车"`, "代码为 1–32 个小写字母")
	if !strings.Contains(r.body, `placeholder="parking" aria-invalid="true"`) {
		t.Errorf("the bad code is not marked\n%s", excerpt(r.body))
	}
	r = qc.post("/admin/complaint-categories", url.Values{"name_zh": {"停车"}, "name_en": {"Parking"}, "code": {"parking"}})
	want(t, r, http.StatusOK, "已添加类别“停车”（代码 parking）", `value="停车"`)
	wantNot(t, r, "正在使用 7 个内置类别")

	// The intake form offers it; a complaint filed under it shows its name.
	r = qc.get("/complaints/new")
	want(t, r, http.StatusOK, `<option value="parking" >停车</option>`)
	r = qc.post("/complaints", url.Values{"channel": {"phone"}, "complainant_name": {"李华"}, "complainant_role": {"patient"},
		"content": {"停车场收费不清。"}, "category": {"parking"}, "severity": {"general"}, "complexity": {"simple"},
		"department_id": {itoa(e.deptA)}})
	want(t, r, http.StatusOK, "已登记投诉", "· 停车</span>")

	// Rename it and deactivate it: no longer offered, still shown.
	r = qc.post("/admin/complaint-categories/parking", url.Values{"name_zh": {"停车与交通"}, "name_en": {"Parking"}, "sort": {"75"}})
	want(t, r, http.StatusOK, "已保存类别“停车与交通”")
	r = qc.get("/complaints/new")
	wantNot(t, r, `value="parking"`)
	r = qc.get("/complaints?tab=all")
	want(t, r, http.StatusOK, "<td>停车与交通</td>")
	// A used category cannot be deleted; the catch-all stays active.
	want(t, qc.post("/admin/complaint-categories/parking/delete", nil), http.StatusUnprocessableEntity, "不能删除，请改为停用")
	r = qc.post("/admin/complaint-categories/other", url.Values{"name_zh": {"其他"}, "sort": {"70"}})
	want(t, r, http.StatusUnprocessableEntity, "“其他”须保持启用")
	// A bad rename keeps what was typed in its row.
	r = qc.post("/admin/complaint-categories/fees", url.Values{"name_zh": {""}, "name_en": {"Fees"}, "sort": {"40"}, "active": {"1"}})
	want(t, r, http.StatusUnprocessableEntity, `<tr id="cat-fees" class="invalid">`, "请填写中文名称")

	// Policies may match a custom category.
	r = qc.post("/admin/complaint-policies", url.Values{"name": {"停车投诉"}, "category": {"parking"}, "severity": {"any"},
		"complexity": {"any"}, "targets": {"accepted=1h, feedback=2wd"}})
	want(t, r, http.StatusOK, "已保存策略“停车投诉”", "<td>停车与交通</td>")
	cats, err := e.sv.Complaints.Categories(context.Background(), e.h1)
	if err != nil {
		t.Fatal(err)
	}
	if c := cats[len(cats)-1]; c.Code != "parking" || c.Active || c.Sort != 75 {
		t.Errorf("stored %+v", c)
	}

	// The nurse sees the list read-only and cannot post.
	nb := e.login("nurseb", adminPW)
	r = nb.get("/admin/complaint-categories")
	want(t, r, http.StatusOK, "停车与交通")
	wantNot(t, r, "新增类别", `name="name_zh"`)
	want(t, nb.post("/admin/complaint-categories", url.Values{"name_zh": {"餐饮"}}), http.StatusForbidden)
}

func FuzzPolicyForm(f *testing.F) {
	for _, s := range [][5]string{
		{"简单投诉", "any", "any", "simple", "accepted=1h, feedback=5wd/10wd"},
		{"", "medical_quality", "major", "any", "plan=3wd"},
		{"x", "any", "bogus", "complex", "=,,=/"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, name, cat, sev, cx, targets string) {
		in := policyForm(url.Values{"name": {name}, "category": {cat}, "severity": {sev}, "complexity": {cx}, "targets": {targets}})
		// "any" is no match, everything else passes through for the
		// service to check; the targets text is never changed here.
		for _, p := range [][2]string{{cat, in.Category}, {sev, in.Severity}, {cx, in.Complexity}} {
			if strings.TrimSpace(p[0]) == "any" && p[1] != "" || strings.TrimSpace(p[0]) != "any" && p[1] != strings.TrimSpace(p[0]) {
				t.Fatalf("%q read as %q", p[0], p[1])
			}
		}
		if in.Targets != targets {
			t.Fatalf("targets %q read as %q", targets, in.Targets)
		}
		if ts, err := complaint.ParseTargets(in.Targets); err == nil && len(ts) == 0 {
			t.Fatalf("%q parsed to no targets without an error", in.Targets)
		}
	})
}

func FuzzCategoryForm(f *testing.F) {
	f.Add("parking", "停车", "Parking", "10", "1")
	f.Add("", "", "", "", "")
	f.Add("X", "名", "n", "-5", "0")
	f.Add("a", "b", "c", "99999999999999999999", "on")
	f.Fuzz(func(t *testing.T, code, zh, en, sort, active string) {
		in := categoryForm(url.Values{"code": {code}, "name_zh": {zh}, "name_en": {en}, "sort": {sort}, "active": {active}})
		if in.Active != (active == "1") {
			t.Fatalf("active %q read as %t", active, in.Active)
		}
		// A sort that is not a number must never pass as a valid order.
		if _, err := strconv.Atoi(strings.TrimSpace(sort)); err != nil && strings.TrimSpace(sort) != "" && in.Sort >= 0 {
			t.Fatalf("sort %q read as %d", sort, in.Sort)
		}
	})
}
