package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/kpi"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// September's discharges of 第一医院 as the HIS exports them: three of
// 心血管内科, two of 呼吸内科.
const kpiSeptemberCSV = "\uFEFF" + dischargeHeader +
	"2026000101,ZY202609200001,330102195803121234,张建国,男,1958-03-12,13905710001,浙江省杭州市上城区解放路1号,,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-20 09:30,2026-09-25 10:05,I21.9,急性心肌梗死,是,经皮冠状动脉介入治疗,好转,,出院\r\n" +
	"2026000102,ZY202609210002,33010519621105246X,李秀英,女,1962-11-05,13905710002,浙江省杭州市拱墅区湖墅南路2号,,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-21,2026-09-25,I10,高血压病,否,,好转,,出院\r\n" +
	"2026000103,ZY202609220003,330106197001011230,王德明,男,1970-01-01,13905710003,浙江省杭州市西湖区文三路3号,,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-22,2026-09-25,I50.9,心力衰竭,否,,好转,,出院\r\n" +
	"2026000104,ZY202609230004,330102195505052410,钱文华,男,1955-05-05,13905710005,浙江省杭州市上城区清泰街5号,,0302,呼吸内科,W07,呼吸病区,孙医生,周护士,2026-09-18,2026-09-25,J18.9,肺炎,否,,治愈,,出院\r\n" +
	"2026000105,ZY202609230005,330105196806062421,孙丽娟,女,1968-06-06,13905710006,浙江省杭州市拱墅区莫干山路6号,,0302,呼吸内科,W07,呼吸病区,孙医生,周护士,2026-09-19,2026-09-25,J44.1,慢性阻塞性肺病急性加重,否,,好转,,出院\r\n"

func TestKPIDashboard(t *testing.T) {
	ctx := context.Background()
	// Friday 25 September 2026, 10:00 in Beijing.
	k := testkit.New(t, storetest.SQLite(t), testkit.Options{Start: time.Date(2026, 9, 25, 2, 0, 0, 0, time.UTC)})
	e := &pageEnv{t: t, auth: k.Auth, cal: k.Calendar}
	sys := access.System()
	group := testkit.Must(t)(k.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "G1", Name: "示范医疗集团", Kind: org.KindGroup, Active: true}))
	h1 := testkit.Must(t)(k.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院", Kind: org.KindHospital, ParentID: group, Active: true}))
	h2 := testkit.Must(t)(k.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H2", Name: "第二医院", Kind: org.KindHospital, ParentID: group, Active: true}))
	k.Department(t, h1, "0301", "心血管内科", org.DeptClinical)
	resp := k.Department(t, h1, "0302", "呼吸内科", org.DeptClinical)
	for _, u := range []auth.UserInput{
		{Username: "leader", DisplayName: "王院长", Roles: []access.Role{access.Leadership}, Grants: []access.Grant{{InstitutionID: h1}}},
		{Username: "jituan", DisplayName: "集团质控", Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: group}}},
		{Username: "huxi", DisplayName: "呼吸内科主任", Roles: []access.Role{access.DeptHead}, Grants: []access.Grant{{InstitutionID: h1, DepartmentID: resp}}},
		{Username: "nurse", DisplayName: "周护士", Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: h1, DepartmentID: resp}}},
	} {
		u.Password, u.HomeInstitutionID, u.Active = adminPW, h1, true
		k.User(t, u)
	}
	if rep, err := k.Importer.Import(ctx, access.System(), strings.NewReader(kpiSeptemberCSV),
		importer.Options{Filename: "出院患者.csv", Institution: "H1"}); err != nil || rep.Rejected != 0 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	// The first contacts: both of 呼吸内科, one of 心血管内科's three.
	k.Clock.Set(time.Date(2026, 9, 28, 2, 0, 0, 0, time.UTC))
	for _, visit := range []string{"ZY202609230004", "ZY202609230005", "ZY202609200001"} {
		var task int64
		if err := k.DB.R().QueryRowContext(ctx, `SELECT t.id FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
			WHERE e.visit_number = $1 AND t.step_key = 'FIRST'`, visit).Scan(&task); err != nil {
			t.Fatalf("task of %s: %v", visit, err)
		}
		if _, err := k.Followup.Complete(ctx, access.System(), task, followup.RecordInput{Channel: "phone", TreatmentEffect: "improved",
			Satisfaction: followup.Satisfied, NPS: 9, MedicationGuidance: "按医嘱继续服药，不可自行停药", RevisitAdvice: "出院两周后专科门诊复诊"}); err != nil {
			t.Fatalf("record %s: %v", visit, err)
		}
	}
	// Tuesday 13 October: the dashboard opens on September.
	k.Clock.Set(time.Date(2026, 10, 13, 2, 0, 0, 0, time.UTC))
	s, err := New(Deps{Auth: k.Auth, Org: k.Org, Audit: k.Audit, Calendar: k.Calendar, Patients: k.Patients, Followup: k.Followup,
		Importer: k.Importer, KPI: k.KPI, Log: slog.New(slog.DiscardHandler), Now: k.Clock.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newTestServer(t, s)

	leader := e.login("leader", adminPW)
	r := leader.get("/kpi")
	want(t, r, http.StatusOK, "随访指标看板", "2026-09", "2026-09-01 – 2026-09-30", `href="/kpi"`, "近 12 个月趋势", `<svg class="chart line-chart"`,
		`href="/kpi?month=2026-08"`, `href="/kpi?month=2026-10"`, "目标：随访率 ≥ 90%")
	wantNot(t, r, "[kpi.")
	// The figures are the service's.
	lp, err := k.Auth.PrincipalFor(ctx, e.user("leader").ID)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := k.KPI.Report(ctx, lp, h1, kpi.Month{Year: 2026, Month: time.September})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Discharges != 5 || rep.Total.Covered != 3 {
		t.Fatalf("service total: %+v", rep.Total)
	}
	cardio, respRow := kpiRowByCode(t, rep.Departments, "0301"), kpiRowByCode(t, rep.Departments, "0302")
	recs := func(id int64) string {
		return `href="/followup/records?dept=` + strconv.FormatInt(id, 10) + `&amp;from=2026-09-01&amp;to=2026-09-30"`
	}
	// 心血管内科 is below the coverage target (1 of 3): red, and linked
	// to its records; 呼吸内科 (2 of 2) ranks first and is not red.
	want(t, r, http.StatusOK, recs(cardio.ID)+`><span class="bad">`+kpiFmt(cardio.Coverage, false)+`</span></a>`,
		recs(respRow.ID)+`>`+kpiFmt(respRow.Coverage, false)+`</a>`, ">"+strconv.Itoa(rep.Total.Discharges)+"</td>",
		"<td class=\"num\">"+kpiFmt(rep.Total.Coverage, false)+"</td>")
	// The trend's last month is the month shown.
	want(t, r, http.StatusOK, `<tr><td>2026-09</td><td class="num">`+kpiFmt(rep.Total.Coverage, false)+`</td><td class="num">`+kpiFmt(rep.Total.FirstContactRate, false)+`</td>`)
	if kpiFmt(cardio.Coverage, false) != "33.3%" || !strings.Contains(strings.Join(cardio.Below, ","), kpi.KCoverage) {
		t.Errorf("心血管内科: %s %v", kpiFmt(cardio.Coverage, false), cardio.Below)
	}
	if i, j := strings.Index(r.body, "<td>呼吸内科</td>"), strings.Index(r.body, "<td>心血管内科</td>"); i < 0 || j < 0 || i > j {
		t.Errorf("ranking not by coverage: 呼吸内科 at %d, 心血管内科 at %d", i, j)
	}
	// English speaks English.
	u, _ := url.Parse(e.srv.URL)
	en := e.login("leader", adminPW)
	en.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	r = en.get("/kpi")
	want(t, r, http.StatusOK, "Follow-up KPI dashboard", "Departments by coverage", "Same month last year", "Last 12 months")
	wantNot(t, r, "随访率", "[kpi.")
	// Month navigation: August has no discharges; a bad month is marked.
	want(t, leader.get("/kpi?month=2026-08"), http.StatusOK, "2026-08-01 – 2026-08-31", "本月没有出院病人", `href="/kpi?month=2026-07"`)
	want(t, leader.get("/kpi?month=2026-13"), http.StatusUnprocessableEntity, `aria-invalid="true"`, "月份写法")
	// The department head sees their department only.
	h := e.login("huxi", adminPW)
	r = h.get("/kpi?month=2026-09")
	want(t, r, http.StatusOK, "<td>呼吸内科</td>", `href="/kpi"`)
	wantNot(t, r, "心血管内科")
	// The group: one row per member hospital, each linked to its own
	// dashboard, the total the service's.
	g := e.login("jituan", adminPW)
	gp, err := k.Auth.PrincipalFor(ctx, e.user("jituan").ID)
	if err != nil {
		t.Fatal(err)
	}
	grep, err := k.KPI.ReportByCode(ctx, gp, "G1", kpi.Month{Year: 2026, Month: time.September})
	if err != nil {
		t.Fatal(err)
	}
	if len(grep.Departments) != 2 || grep.Total.Discharges != rep.Total.Discharges {
		t.Fatalf("group report: %d rows, %d discharges", len(grep.Departments), grep.Total.Discharges)
	}
	r = g.get("/kpi?inst=" + itoa(group) + "&month=2026-09")
	want(t, r, http.StatusOK, "成员医院（按随访率）", "<td>第一医院</td>", "<td>第二医院</td>",
		`href="/kpi?inst=`+itoa(h1)+`&amp;month=2026-09"><span class="bad">`+kpiFmt(grep.Departments[0].Coverage, false)+`</span></a>`,
		`href="/kpi?inst=`+itoa(h2)+`&amp;month=2026-09">0</a>`, "<td class=\"num\">"+kpiFmt(grep.Total.Coverage, false)+"</td>")
	wantNot(t, r, "心血管内科")
	// A nurse neither sees the link nor the page.
	n := e.login("nurse", adminPW)
	wantNot(t, n.get("/"), `href="/kpi"`)
	want(t, n.get("/kpi"), http.StatusForbidden)
}

func kpiRowByCode(t *testing.T, rows []kpi.Row, code string) kpi.Row {
	t.Helper()
	for _, r := range rows {
		if r.Code == code {
			return r
		}
	}
	t.Fatalf("no row %s in %+v", code, rows)
	return kpi.Row{}
}
