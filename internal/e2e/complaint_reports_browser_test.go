package e2e

// The complaint reports in a browser: quality opens the month's statistics
// from the navigation, moves to the quarterly analysis, downloads the
// workbook with its session, and the pages are looked at on a 1366 px
// screen, in print and on a phone.

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

func TestBrowserComplaintReports(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)

	// 1. The month: the demo's September complaints.
	q := b.loggedIn(t, "quality")
	if st := q.clickNav(`.sidenav a[href="/complaints/reports"]`); st != http.StatusOK {
		t.Fatalf("reports = %d", st)
	}
	q.wantText("投诉统计", "2026 年 9 月", "2026-09-01 – 2026-09-30", "各时限节点按时情况", "按类别", "按科室", "口径说明")
	q.wantNoUntranslated()
	received, err := strconv.Atoi(q.text(".stats > div:first-child .big"))
	if err != nil || received == 0 {
		t.Fatalf("received in September = %q (%v), want the demo's complaints", q.text(".stats > div:first-child .big"), err)
	}
	if !q.exists(`#report-milestones tbody tr`) || !q.exists(`svg.chart rect.chart-bar`) {
		t.Fatal("the month shows no milestone table or no chart")
	}
	q.shot("45-complaint-report-month.png")
	// The printed ledger: no navigation, a heading and signature lines.
	q.media("print")
	q.shot("46-complaint-report-print.png")
	if q.eval(`getComputedStyle(document.querySelector('.sidenav')).display`) != "none" ||
		q.eval(`getComputedStyle(document.querySelector('.cp-report-sign')).display`) == "none" {
		t.Error("the print layout keeps the navigation or hides the signatures")
	}
	q.media("")

	// 2. The previous month and back.
	if st := q.clickNav(`#report-prev`); st != http.StatusOK {
		t.Fatalf("previous = %d", st)
	}
	q.wantText("2026 年 8 月")
	if st := q.clickNav(`#report-next`); st != http.StatusOK {
		t.Fatalf("next = %d", st)
	}
	q.wantText("2026 年 9 月")

	// 3. The quarter: trend lines, the comparison, the recurring causes.
	if st := q.clickNav(`nav.tabs a[href*="period=quarter"]`); st != http.StatusOK {
		t.Fatalf("quarter = %d", st)
	}
	q.wantText("2026 年第 3 季度", "月度趋势", "本季度与上季度对比", "反复出现的问题", "投诉内容高频词")
	q.wantNoUntranslated()
	if !q.exists(`#report-trend svg polyline.chart-line`) || !q.exists(`#report-causes tbody tr`) {
		t.Fatal("the quarter shows no trend line or no recurring cause")
	}
	q.shot("47-complaint-report-quarter.png")

	// 4. The workbook, fetched with the browser's own session from the
	// page's link.
	js := `(() => {
		const x = new XMLHttpRequest();
		x.open('GET', document.querySelector('#report-excel').href, false);
		x.overrideMimeType('text/plain; charset=x-user-defined');
		x.send();
		let bin = '';
		for (let i = 0; i < x.responseText.length; i++) bin += String.fromCharCode(x.responseText.charCodeAt(i) & 0xff);
		return x.status + ' ' + x.getResponseHeader('Content-Type') + ' ' + btoa(bin);
	})()`
	parts := strings.SplitN(q.eval(js).(string), " ", 3)
	if len(parts) != 3 || parts[0] != "200" || !strings.Contains(parts[1], "spreadsheetml") {
		t.Fatalf("workbook download: %.80q", strings.Join(parts, " "))
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	defer wb.Close()
	sheets := wb.GetSheetList()
	for _, want := range []string{"概览", "时限节点", "类别", "科室", "渠道", "严重程度", "月度趋势", "反复问题", "高频词"} {
		if !slices.Contains(sheets, want) {
			t.Errorf("workbook sheets %v lack %s", sheets, want)
		}
	}
	if v, _ := wb.GetCellValue("概览", "A1"); v != "统计周期" {
		t.Errorf("overview A1 = %q", v)
	}
	if v, _ := wb.GetCellValue("概览", "B1"); v != "2026-07-01 – 2026-09-30" {
		t.Errorf("overview period = %q", v)
	}

	// 5. On a phone.
	p := b.loggedInPhone(t, "quality")
	p.open("/complaints/reports?period=quarter")
	p.wantText("2026 年第 3 季度", "月度趋势")
	p.shot("48-complaint-report-phone.png")
	if w := p.eval(`document.documentElement.scrollWidth`).(float64); w > 400 {
		t.Errorf("the phone page is %v px wide, wider than the screen: %v", w, p.eval(`Array.from(document.querySelectorAll('body *'))
			.filter(e => e.getBoundingClientRect().right > 391).slice(0, 12)
			.map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
	}

	// 6. A nurse has no reports.
	n := b.loggedIn(t, "nurse")
	if n.exists(`.sidenav a[href="/complaints/reports"]`) {
		t.Error("a nurse sees the reports link")
	}
	if st := n.open("/complaints/reports"); st != http.StatusForbidden {
		t.Errorf("nurse opens reports: %d, want 403", st)
	}
}

// media emulates a CSS media type ("print"; "" for the screen again).
func (tb *tab) media(m string) {
	tb.t.Helper()
	run(tb, "media "+m, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return err
	}))
}
