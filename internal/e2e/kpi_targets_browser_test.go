package e2e

// KPI targets in a browser: quality finds the targets page under 管理,
// sees the defaults, mistypes the satisfaction target (the form comes back
// 422 with the field marked and the text kept), fixes it and saves. The
// page fits a phone.

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserKPITargets(t *testing.T) {
	s := start(t, "sqlite")
	h01(t, s)
	b := newBrowser(t, s)

	q := b.loggedIn(t, "quality")
	if st := q.clickNav(`.sidenav a[href="/admin/kpi-targets"]`); st != http.StatusOK {
		t.Fatalf("targets = %d", st)
	}
	q.wantText("考核目标值", "满意率（调查与投诉）", "投诉闭环率")
	if q.value("#kt-satisfaction") != "96" || q.value("#kt-complaint_closure") != "98" {
		t.Fatalf("defaults shown as %q and %q", q.value("#kt-satisfaction"), q.value("#kt-complaint_closure"))
	}
	q.wantNoUntranslated()
	q.fill("#kt-satisfaction", "9O")
	if st := q.clickNav(`#kpi-targets-form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad target = %d, want 422", st)
	}
	if !q.exists(`#kt-satisfaction[aria-invalid=true]`) || q.value("#kt-satisfaction") != "9O" {
		t.Fatal("the refused form lost the text or did not mark the field")
	}
	q.wantText("请填写 0–100 之间的百分数")
	q.shot("87-kpi-targets-bad.png")
	q.fill("#kt-satisfaction", "92.5")
	if st := q.clickNav(`#kpi-targets-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("save = %d", st)
	}
	q.wantPath("/admin/kpi-targets")
	q.wantText("考核目标值。")
	if q.value("#kt-satisfaction") != "92.5" {
		t.Fatalf("saved satisfaction shows %q", q.value("#kt-satisfaction"))
	}
	q.shot("88-kpi-targets-saved.png")

	ph := b.loggedInPhone(t, "quality")
	if st := ph.open("/admin/kpi-targets"); st != http.StatusOK {
		t.Fatalf("targets on a phone = %d", st)
	}
	w := run(ph, "measure the width", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if w[0] > w[1] {
		t.Errorf("horizontal overflow on a phone: %d > %d", w[0], w[1])
	}
	ph.shot("89-kpi-targets-phone.png")
}
