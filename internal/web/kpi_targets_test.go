package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/complaint"
	"suifang/internal/kpi"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// The targets page: quality of 第一医院 reads the defaults, saves new ones
// (read back by the kpi room), gets a 422 with every bad field marked and
// nothing saved, and a ward nurse is refused reading and saving.
func TestKPITargetsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		k := testkit.New(t, db, testkit.Options{Start: pageNow()})
		h1 := k.Institution(t, "H1", "第一医院")
		ward := k.Department(t, h1, "0301", "心血管内科", "")
		for _, u := range []auth.UserInput{
			{Username: "quality", DisplayName: "质控王", Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: h1}}},
			{Username: "nurse", DisplayName: "心内护士", Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: h1, DepartmentID: ward}}},
		} {
			u.Password, u.HomeInstitutionID = adminPW, h1
			k.User(t, u)
		}
		s, err := New(Deps{Auth: k.Auth, Org: k.Org, Audit: k.Audit, Calendar: k.Calendar, KPI: k.KPI,
			Log: slog.New(slog.DiscardHandler), Now: pageNow, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		e := &pageEnv{t: t, srv: srv}

		q := e.login("quality", adminPW)
		res := q.get("/admin/kpi-targets")
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="satisfaction" value="96"`) ||
			!strings.Contains(res.body, `name="complaint_closure" value="98"`) || !strings.Contains(res.body, `href="/admin/kpi-targets"`) {
			t.Fatalf("targets page %d: defaults or nav entry missing\n%s", res.status, res.body)
		}
		form := url.Values{"coverage": {"85"}, "first_contact": {"92.5"}, "satisfaction": {"90%"}, "complaint_on_time": {"95"},
			"complaint_closure": {" 97.25 "}, "appointment_rate": {"80"}, "recommendation_growth": {"20"}}
		res = q.post("/admin/kpi-targets", form)
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="first_contact" value="92.5"`) {
			t.Fatalf("save %d at %s", res.status, res.url)
		}
		got, err := k.KPI.TargetsOf(context.Background(), h1)
		want := kpi.Targets{Coverage: 8500, FirstContact: 9250, Satisfaction: 9000, ComplaintOnTime: 9500, ComplaintClosed: 9725,
			Appointment: 8000, RecommendGrowth: 2000}
		if err != nil || got != want {
			t.Fatalf("saved %+v (%v), want %+v", got, err, want)
		}

		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("satisfaction", "九十六")
		bad.Set("complaint_closure", "101")
		bad.Set("coverage", "96.125")
		res = q.post("/admin/kpi-targets", bad)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `value="九十六"`) {
			t.Fatalf("bad targets: %d, typed value not kept", res.status)
		}
		for _, f := range []string{"satisfaction", "coverage"} {
			if !strings.Contains(res.body, `aria-describedby="kt-`+f+`-err"`) {
				t.Errorf("%s not marked invalid", f)
			}
		}
		// 101% parses, so the kpi room refuses it once the rest is right.
		bad.Set("satisfaction", "96")
		bad.Set("coverage", "90")
		res = q.post("/admin/kpi-targets", bad)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `aria-describedby="kt-complaint_closure-err"`) {
			t.Fatalf("101%% closure: %d", res.status)
		}
		if got, _ := k.KPI.TargetsOf(context.Background(), h1); got != want {
			t.Fatalf("a refused form changed the targets: %+v", got)
		}

		n := e.login("nurse", adminPW)
		if res := n.get("/admin/kpi-targets"); res.status != http.StatusForbidden {
			t.Errorf("nurse reads targets: %d", res.status)
		}
		if res := n.post("/admin/kpi-targets", form); res.status != http.StatusForbidden {
			t.Errorf("nurse saves targets: %d", res.status)
		}
	})
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"96", "97.5", "97.25 %", "96％", "0", "100", "1000", ".5", "5.", "-1", "1e2", "９６", "99.999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bp, ok := parsePercent(s)
		if !ok {
			return
		}
		if bp < 0 || bp > 99999999 {
			t.Fatalf("%q → %d", s, bp)
		}
		// Printed back and read again, the value is the same.
		if again, ok := parsePercent(formatBP(bp)); !ok || again != bp {
			t.Fatalf("%q → %d → %q → %d", s, bp, formatBP(bp), again)
		}
	})
}

// The complaint report page only renders the room's flag: two complaints
// received and none archived is a 0% closure, red at the default 98%,
// plain once quality sets a 0% target on the targets page.
func TestComplaintReportRedFollowsTargets(t *testing.T) {
	e := newComplaintEnv(t)
	ctx := context.Background()
	q, err := e.sv.Auth.PrincipalFor(ctx, e.user("quality").ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"收费窗口等候太久", "检查预约等候太久"} {
		if _, err := e.sv.Complaints.Register(ctx, q, complaint.Input{InstitutionID: e.h1, Channel: "phone", ComplainantName: "李四",
			Content: content, Category: "fees", DepartmentID: e.deptA}); err != nil {
			t.Fatal(err)
		}
	}
	const red = `<div class="bad"><div class="muted">本期办结率</div><div class="big">0%</div>`
	c := e.login("quality", adminPW)
	if r := c.get("/complaints/reports"); r.status != http.StatusOK || !strings.Contains(r.body, red) {
		t.Fatalf("0%% closure not red at the default target: %d %s", r.status, excerpt(r.body))
	}
	tg := kpi.DefaultTargets()
	tg.ComplaintClosed = 0
	if err := e.sv.KPI.SetTargets(ctx, q, e.h1, tg); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/complaints/reports"); r.status != http.StatusOK || strings.Contains(r.body, red) ||
		!strings.Contains(r.body, `<div ><div class="muted">本期办结率</div><div class="big">0%</div>`) {
		t.Fatalf("0%% closure red under a 0%% target: %s", excerpt(r.body))
	}
}
