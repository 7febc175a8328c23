package e2e

// The follow-up KPI dashboard in a browser: the leader opens it from the
// navigation on the demo group, moves a month back and forth, opens a
// member hospital's departments, and the page is looked at on a 1366 px
// screen, in print and on a phone.

import (
	"net/http"
	"testing"
)

func TestBrowserKPIDashboard(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)

	l := b.loggedIn(t, "leader")
	if st := l.clickNav(`.sidenav a[href="/kpi"]`); st != http.StatusOK {
		t.Fatalf("dashboard = %d", st)
	}
	l.wantText("随访指标看板", "本月、上月与去年同月", "成员医院（按随访率）", "近 12 个月趋势", "合计")
	l.wantNoUntranslated()
	// It opens on the previous month; the demo's discharges are this
	// month's, one step forward.
	month := l.text("#kpi-month")
	if st := l.clickNav(`#kpi-next`); st != http.StatusOK {
		t.Fatalf("next = %d", st)
	}
	if l.text("#kpi-month") == month {
		t.Fatalf("next month stays on %q", month)
	}
	l.shot("90-kpi-group.png")
	if !l.exists(`#kpi-trend svg circle.chart-dot`) || !l.exists(`#kpi-ranking tbody tr td a`) {
		t.Fatal("the group dashboard shows no trend point or no linked member row")
	}
	// The demo's members are below the coverage target: red.
	if !l.exists(`#kpi-ranking tbody tr td a span.bad`) || l.eval(`getComputedStyle(document.querySelector('#kpi-ranking a span.bad')).color`) == l.eval(`getComputedStyle(document.querySelector('#kpi-ranking a')).color`) {
		t.Error("a member below target is not shown in red")
	}
	if w := l.eval(`document.documentElement.scrollWidth`).(float64); w > 1366 {
		t.Errorf("the dashboard is %v px wide on a 1366 px screen", w)
	}
	month = l.text("#kpi-month")

	// A member hospital: its departments, each figure linked to records.
	if st := l.clickNav(`#kpi-ranking tbody tr:first-child td a`); st != http.StatusOK {
		t.Fatalf("member hospital = %d", st)
	}
	l.wantText("科室排名（按随访率）")
	if !l.exists(`#kpi-ranking a[href^="/followup/records?dept="]`) {
		t.Fatal("department figures are not linked to the record browser")
	}
	l.shot("91-kpi-hospital.png")
	l.media("print")
	l.shot("92-kpi-print.png")
	if l.eval(`getComputedStyle(document.querySelector('.sidenav')).display`) != "none" ||
		l.eval(`getComputedStyle(document.querySelector('.cp-report-print-head')).display`) == "none" {
		t.Error("the print layout keeps the navigation or hides the heading")
	}
	l.media("")
	if st := l.clickNav(`#kpi-prev`); st != http.StatusOK {
		t.Fatalf("previous = %d", st)
	}
	if st := l.clickNav(`#kpi-next`); st != http.StatusOK {
		t.Fatalf("next = %d", st)
	}
	if got := l.text("#kpi-month"); got != month {
		t.Errorf("back and forth lands on %q, want %q", got, month)
	}

	// On a phone.
	p := b.loggedInPhone(t, "leader")
	p.open("/kpi")
	if st := p.clickNav(`#kpi-next`); st != http.StatusOK {
		t.Fatalf("phone next = %d", st)
	}
	p.wantText("随访指标看板", "近 12 个月趋势")
	p.shot("93-kpi-phone.png")
	if w := p.eval(`document.documentElement.scrollWidth`).(float64); w > 400 {
		t.Errorf("the phone page is %v px wide, wider than the screen: %v", w, p.eval(`Array.from(document.querySelectorAll('body *'))
			.filter(e => e.getBoundingClientRect().right > 391).slice(0, 12)
			.map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
	}

	// A nurse has no dashboard.
	n := b.loggedIn(t, "nurse")
	if n.exists(`.sidenav a[href="/kpi"]`) {
		t.Error("a nurse sees the dashboard link")
	}
	if st := n.open("/kpi"); st != http.StatusForbidden {
		t.Errorf("nurse opens the dashboard: %d, want 403", st)
	}
}
