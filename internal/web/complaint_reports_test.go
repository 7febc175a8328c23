package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"suifang/internal/complaint"
)

func TestComplaintReportPages(t *testing.T) {
	e := newComplaintEnv(t)
	ctx := context.Background()
	q, err := e.sv.Auth.PrincipalFor(ctx, e.user("quality").ID)
	if err != nil {
		t.Fatal(err)
	}
	reg := func(cat, content string, dept int64) *complaint.Complaint {
		c, err := e.sv.Complaints.Register(ctx, q, complaint.Input{InstitutionID: e.h1, Channel: "phone", ComplainantName: "李四",
			Content: content, Category: cat, DepartmentID: dept})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1 := reg("fees", "收费窗口等候太久", e.deptA)
	reg("process", "检查预约等候太久", e.deptB)
	// A category of the hospital's own is shown by its name, not its code.
	code, err := e.sv.Complaints.AddCategory(ctx, q, e.h1, complaint.CategoryInput{Code: "parking", NameZh: "停车难", NameEn: "Parking", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	reg(code, "医院停车场排队一小时", e.deptA)
	e.clk.Advance(30 * time.Minute)
	if _, err := e.sv.Complaints.Act(ctx, q, c1.ID, complaint.ActionInput{Action: complaint.ActAccept}); err != nil {
		t.Fatal(err)
	}

	c := e.login("quality", adminPW)
	r := c.get("/complaints/reports")
	want(t, r, http.StatusOK, "投诉统计", "2026 年 10 月", "2026-10-01 – 2026-10-31", "范围：第一医院 全院", "费用", "停车难", "骨科",
		`href="/complaints/reports?from=2026-09&amp;period=month"`, `href="/complaints/reports.xlsx?from=2026-10&amp;period=month"`,
		`<svg class="chart"`, "口径说明")
	if !strings.Contains(r.body, `<div class="muted">收到投诉</div><div class="big">3</div>`) {
		t.Errorf("received count not 3: %s", excerpt(r.body))
	}
	// The quarter: trend lines, the comparison and the recurring words.
	r = c.get("/complaints/reports?period=quarter&from=2026-Q4")
	want(t, r, http.StatusOK, "2026 年第 4 季度", "月度趋势", `class="chart-line s-count"`, "本季度与上季度对比", "等候", "反复出现的问题")
	// The week of 13 October is ISO week 42.
	want(t, c.get("/complaints/reports?period=week&from=2026-10-13"), http.StatusOK, "2026 年第 42 周", "2026-10-12 – 2026-10-18")
	// A bad period: the page of the current one, the field marked and kept.
	r = c.get("/complaints/reports?period=month&from=2026-13")
	want(t, r, http.StatusUnprocessableEntity, `aria-invalid="true"`, `value="2026-13"`, "周期写法")
	// The workbook.
	resp, body := c.raw("/complaints/reports.xlsx?period=quarter&from=2026-Q4")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") ||
		!strings.HasPrefix(body, "PK") || !strings.Contains(resp.Header.Get("Content-Disposition"), "complaints-H1-2026-Q4.xlsx") {
		t.Errorf("workbook: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	// It stands as of the page's moment in the hospital's zone (02:30 UTC
	// is 10:30 in Beijing), and every sheet declares its real range.
	rows := xlsxSheets(t, []byte(body))
	if !hasRow(rows["概览"], "统计时点", "2026-10-13 10:30") {
		t.Errorf("workbook as-of not in China time: %v", rows["概览"])
	}
	// English speaks English, categories included.
	u, _ := url.Parse(e.srv.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	r = c.get("/complaints/reports?period=quarter&from=2026-Q4")
	want(t, r, http.StatusOK, "Complaint reports", "2026 Q4", "Fees", "Parking", "Monthly trend", "How the figures are counted")
	wantNot(t, r, "费用", "[cpr.", "[cp.")
	// A nurse neither sees the link nor the page.
	n := e.login("nurseb", adminPW)
	wantNot(t, n.get("/complaints"), `href="/complaints/reports"`)
	want(t, n.get("/complaints/reports"), http.StatusForbidden)
	want(t, n.get("/complaints/reports.xlsx"), http.StatusForbidden)
}
