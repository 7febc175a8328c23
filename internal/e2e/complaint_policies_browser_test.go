package e2e

// Complaint settings in a browser: quality finds the built-in SLA policies
// in force, copies them to edit, mistypes a target (the form comes back
// with the text kept and the part named), fixes it, adds a category of the
// hospital's own and files a complaint under it. The pages are looked at
// at 1366×768 and on a phone.

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserComplaintPolicies(t *testing.T) {
	s := start(t, "sqlite")
	_, deps := h01(t, s)
	b := newBrowser(t, s)

	// 1. The defaults apply until quality copies them.
	q := b.loggedIn(t, "quality")
	if st := q.clickNav(`.sidenav a[href="/admin/complaint-policies"]`); st != http.StatusOK {
		t.Fatalf("policies = %d", st)
	}
	q.wantText("投诉时限策略", "正在使用内置默认策略", "简单投诉", "复杂投诉", "适用矩阵", "医德医风")
	q.wantNoUntranslated()
	q.shot("60-complaint-policies-defaults.png")
	if st := q.clickNav(`#copy-defaults button`); st != http.StatusOK {
		t.Fatalf("copy defaults = %d", st)
	}
	q.wantText("已复制内置默认策略", "新建策略")
	q.wantNoText("正在使用内置默认策略")

	// 2. Edit the simple policy: a typo comes back marked, then the fix.
	if st := q.clickNav(`table.cpa-policies a`); st != http.StatusOK {
		t.Fatalf("edit policy = %d", st)
	}
	q.wantText("编辑策略", "简单投诉")
	bad := "accepted=2h, assessed=24h, plan=3dw, answer_simple=1wd, feedback=5wd/10wd, closed=7d, rectified=15d"
	q.fill("#targets", bad)
	if st := q.clickNav(`#policy-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad target = %d, want 422", st)
	}
	if !q.exists(`#targets[aria-invalid=true]`) || q.value("#targets") != bad {
		t.Fatal("the refused form lost the targets or did not mark them")
	}
	q.wantText("“plan=3dw”：数量须为 1–366，单位为 h、wd 或 d。")
	q.shot("61-complaint-policy-bad-target.png")
	q.fill("#targets", "accepted=2h, assessed=24h, plan=3wd, answer_simple=1wd, feedback=5wd/10wd, closed=7d, rectified=15d")
	if st := q.clickNav(`#policy-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("save policy = %d", st)
	}
	q.wantPath("/admin/complaint-policies")
	q.wantText("已保存策略“简单投诉”", "受理 2 服务小时")
	q.shot("62-complaint-policies-own.png")

	// 3. A category of the hospital's own.
	if st := q.clickNav(`#tab-categories`); st != http.StatusOK {
		t.Fatalf("categories = %d", st)
	}
	q.wantText("投诉类别", "正在使用 7 个内置类别")
	q.fill("#new_name_zh", "停车")
	q.fill("#new_name_en", "Parking")
	q.fill("#new_code", "parking")
	if st := q.clickNav(`#category-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("add category = %d", st)
	}
	q.wantText("已添加类别“停车”（代码 parking）")
	q.wantNoUntranslated()
	q.shot("63-complaint-categories.png")

	// 4. A complaint filed under it shows its name.
	if st := q.clickNav(`.sidenav a[href="/complaints"]`); st != http.StatusOK {
		t.Fatalf("complaints = %d", st)
	}
	if st := q.clickNav(`#new-complaint`); st != http.StatusOK {
		t.Fatalf("new complaint = %d", st)
	}
	q.fill("#complainant_name", "孙立")
	q.setValue("#department_id", itoa(deps["0301"]))
	q.setValue("#category", "parking")
	q.fill("#content", "门诊停车场收费标准不清楚，出口排队半小时。")
	if st := q.clickNav(`#complaint-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("register = %d", st)
	}
	q.wantText("已登记投诉", "· 停车", "受理")
	q.shot("64-complaint-custom-category.png")

	// 5. On a phone the pages fit the width; wide tables scroll inside.
	ph := b.loggedInPhone(t, "quality")
	for _, p := range []struct{ path, shot string }{
		{"/admin/complaint-policies", "65-complaint-policies-phone.png"},
		{"/admin/complaint-categories", "66-complaint-categories-phone.png"},
	} {
		if st := ph.open(p.path); st != http.StatusOK {
			t.Fatalf("%s on a phone = %d", p.path, st)
		}
		w := run(ph, "measure the width", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if w[0] > w[1] {
			t.Errorf("%s: horizontal overflow on a phone: %d > %d", p.path, w[0], w[1])
		}
		ph.shot(p.shot)
	}
}
