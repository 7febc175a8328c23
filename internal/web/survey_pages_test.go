package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/survey"
)

// capOutbox keeps the links the survey room sends.
type capOutbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (o *capOutbox) Enqueue(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return int64(len(o.msgs)), nil
}

func (o *capOutbox) CancelRef(context.Context, *sql.Tx, int64, string) (int, error) { return 0, nil }

// svEnv is a page environment wired through core.Build, with a fake clock.
type svEnv struct {
	*pageEnv
	clk  *clock.Fake
	db   *store.DB
	sv   *core.Services
	out  *capOutbox
	dept int64
}

func newSurveyEnv(t *testing.T) *svEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC))
	keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	sv, err := core.Build(db, core.Options{Now: clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index})
	if err != nil {
		t.Fatal(err)
	}
	e := &svEnv{pageEnv: &pageEnv{t: t, auth: sv.Auth, cal: sv.Calendar}, clk: clk, db: db, sv: sv, out: &capOutbox{}}
	sv.Survey.SetHooks(survey.Hooks{Outbox: e.out})
	sys := access.System()
	if e.h1, err = sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"}); err != nil {
		t.Fatal(err)
	}
	if e.dept, err = sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0301", Name: "心血管内科", Kind: org.DeptClinical}); err != nil {
		t.Fatal(err)
	}
	if e.adminID, err = sv.Auth.CreateUser(ctx, sys, auth.UserInput{Username: "admin", DisplayName: "管理员", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.SysAdmin}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := sv.Survey.SaveSettings(ctx, sys, survey.Settings{InstitutionID: e.h1, ServicePhone: "010-12345678", LinkDays: 14,
		RemindAfterDays: 3, MaxReminders: 2, InviteKey: "inpatient_satisfaction"}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Auth: sv.Auth, Org: sv.Org, Audit: sv.Audit, Calendar: sv.Calendar, Patients: sv.Patients, Followup: sv.Followup,
		Importer: sv.Importer, Survey: sv.Survey, Log: slog.New(slog.DiscardHandler), Now: clk.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// invite discharges a patient whose level-3 follow-up is an SMS survey
// and returns the survey link path and the task id.
func (e *svEnv) invite(mrn string) (string, int64) {
	e.t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 9, 29, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	m := intake.Message{Source: "t", Line: 1, Event: intake.Discharge,
		Patient: intake.Patient{MRN: mrn, Name: "张小明", Sex: intake.Male, BirthDate: calendar.Date{Year: 1960, Month: 1, Day: 2}, Phones: []string{"13800138000"}},
		Encounter: intake.Encounter{VisitNumber: "V" + mrn, DepartmentCode: "0301", DepartmentName: "心血管内科", AttendingDoctor: "陈医生",
			AdmittedAt: at.AddDate(0, 0, -5), DischargedAt: at, Diagnoses: []intake.Diagnosis{{Code: "I21.9", Name: "急性心肌梗死"}}, Outcome: intake.Improved}}
	if _, err := e.sv.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "t"}, func(s intake.Sink) error { return s.Message(m) }); err != nil {
		e.t.Fatal(err)
	}
	var task int64
	err := e.db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT t.id FROM followup_tasks t JOIN patients p ON p.id = t.patient_id
			WHERE p.mrn = $1 AND t.step_key = 'L3'`, mrn).Scan(&task); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET channel = 'sms', next_date = '2026-09-30' WHERE id = $1`, task)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.sv.Survey.InviteDue(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	link := e.out.msgs[len(e.out.msgs)-1].Params["link"]
	return link[strings.Index(link, "/s/"):], task
}

// anon is a patient's phone: no login, its own cookies.
func (e *svEnv) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e.pageEnv, c: &http.Client{Jar: jar}}
}

func TestSurveyPatientPages(t *testing.T) {
	e := newSurveyEnv(t)
	path, task := e.invite("M1")
	c := e.anon()
	r := c.get(path)
	want(t, r, http.StatusOK, "第一医院", "住院患者满意度调查", "张先生，您好！", "第 1 / 5 页", "010-12345678", `href="tel:010-12345678"`)
	wantNot(t, r, "张小明", "M1", "急性心肌梗死", "心血管内科", "陈医生", "13800138000", "app.js", "app.css")
	// Missing required answers: 422, the page again, the problem marked,
	// the given answer kept.
	r = c.post(path, url.Values{"section": {"0"}, "a.effect": {"good"}, "shown": {"effect", "medication", "revisit"}})
	want(t, r, http.StatusUnprocessableEntity, "请回答这道题。", `class="sv-q bad" id="q-medication"`)
	if !strings.Contains(r.body, `value="good" checked`) {
		t.Fatal("given answer not kept")
	}
	r = c.post(path, url.Values{"section": {"0"}, "a.effect": {"good"}, "a.medication": {"yes"}, "a.revisit": {"yes"},
		"shown": {"effect", "medication", "revisit"}})
	want(t, r, http.StatusOK, "第 2 / 5 页", "医护服务")
	// Leaving and coming back resumes on the next page (saved on the server).
	want(t, e.anon().get(path), http.StatusOK, "第 2 / 5 页")
	sat := func(links ...string) url.Values {
		v := url.Values{}
		for _, l := range links {
			v.Set("a."+l, "satisfied")
			v.Add("shown", l)
		}
		return v
	}
	v := sat("doctors", "nurses", "medtech")
	v.Set("section", "1")
	want(t, c.post(path, v), http.StatusOK, "第 3 / 5 页")
	v = sat("environment", "meals", "fees", "process")
	v.Set("a.meals", "dissatisfied")
	v.Set("section", "2")
	want(t, c.post(path, v), http.StatusOK, "第 4 / 5 页")
	v = sat("ethics")
	v.Set("a.gift", "no")
	v.Add("shown", "gift")
	v.Set("section", "3")
	want(t, c.post(path, v), http.StatusOK, "第 5 / 5 页", "提交问卷")
	// 不满意 reveals the "why" item on the same page: shown before moving on.
	v = url.Values{"section": {"4"}, "a.overall": {"dissatisfied"}, "a.nps": {"6"}, "shown": {"overall", "nps", "opinions"}}
	r = c.post(path, v)
	want(t, r, http.StatusOK, "本页新增了题目", "请告诉我们哪里让您不满意")
	v.Set("a.overall_why", "出院结算排队太久")
	v.Add("shown", "overall_why")
	r = c.post(path, v)
	want(t, r, http.StatusOK, "感谢您的反馈！", "010-12345678")
	if !strings.HasSuffix(r.url, "/thanks") {
		t.Fatalf("ended at %s", r.url)
	}
	recs, err := e.sv.Followup.TaskRecords(context.Background(), access.System(), task)
	if err != nil || len(recs) != 1 || recs[0].Satisfaction != followup.Dissatisfied || !strings.Contains(recs[0].Opinions, "排队太久") {
		t.Fatalf("record %+v %v", recs, err)
	}
	// Reused: a kind page, not an error.
	want(t, e.anon().get(path), http.StatusOK, "您已完成这份问卷")
	want(t, e.anon().post(path, v), http.StatusOK, "您已完成这份问卷")
	// Tampered: a kind page with 404.
	bad := path[:len(path)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(path, "0")]
	want(t, e.anon().get(bad), http.StatusNotFound, "链接无法打开")
	want(t, e.anon().get("/s/x"), http.StatusNotFound, "链接无法打开")
	// Expired: 410 and the service phone.
	path2, _ := e.invite("M2")
	e.clk.Advance(15 * 24 * time.Hour)
	want(t, e.anon().get(path2), http.StatusGone, "这份问卷已结束", "010-12345678")
	wantNot(t, e.anon().get(path2), "panic", "goroutine")
}

func TestSurveyPatientRefuse(t *testing.T) {
	e := newSurveyEnv(t)
	path, _ := e.invite("M1")
	c := e.anon()
	want(t, c.post(path+"/refuse", nil), http.StatusOK, "已记录您的意愿")
	want(t, c.get(path), http.StatusOK, "已记录您的意愿")
	want(t, c.get(path+"/thanks"), http.StatusOK, "已记录您的意愿") // redirected to the sheet's kind page
}

// TestSurveyThrottle: 1,000 rapid requests from one address are answered
// 429 once the burst is used up.
func TestSurveyThrottle(t *testing.T) {
	e := newSurveyEnv(t)
	c := e.anon()
	ok, limited := 0, 0
	for i := 0; i < 1000; i++ {
		resp, err := c.c.Get(e.srv.URL + "/s/AAAAAAAAAAAA0000000000000000")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusNotFound:
			ok++
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if ok != patientBurst || limited != 1000-patientBurst {
		t.Fatalf("%d answered, %d throttled; want %d and %d", ok, limited, patientBurst, 1000-patientBurst)
	}
	// Time refills the bucket.
	e.clk.Advance(patientEvery)
	want(t, c.get("/s/AAAAAAAAAAAA0000000000000000"), http.StatusNotFound, "链接无法打开")
}

func TestLimiter(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	l := newLimiter(clk.Now, 3, time.Second)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	if ok, wait := l.allow("a"); ok || wait != time.Second {
		t.Fatalf("4th: %v %v", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another address is limited too")
	}
	clk.Advance(1500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("not refilled")
	}
	if ok, wait := l.allow("a"); ok || wait != 500*time.Millisecond {
		t.Fatalf("after refill: %v %v", ok, wait)
	}
}

func TestSurveyStaffPages(t *testing.T) {
	e := newSurveyEnv(t)
	admin := e.login("admin", adminPW)
	r := admin.get("/surveys")
	want(t, r, http.StatusOK, "住院患者满意度调查", "门诊患者满意度调查", "二级随访话术（主治医生）", "三级随访话术（客服中心）", "投诉整改回访", "新建问卷", "导入 FHIR 问卷")
	// Creating with a bad key keeps the input and marks the field.
	r = admin.post("/surveys", url.Values{"inst": {fmt.Sprint(e.h1)}, "title": {"康复科回访"}, "key": {"Bad Key"}, "purpose": {"other"}})
	want(t, r, http.StatusUnprocessableEntity, "问卷代码为 2–40 位", `value="康复科回访"`)
	r = admin.post("/surveys", url.Values{"inst": {fmt.Sprint(e.h1)}, "title": {"康复科回访"}, "key": {"rehab"}, "purpose": {"other"}})
	want(t, r, http.StatusOK, "设计问卷", "问卷已创建", `name="i0.link" value="overall"`, "新题目")
	edit := r.url
	// Two pages, a rating and a conditional text.
	form := url.Values{"title": {"康复科回访"}, "sections": {"康复情况\n总体评价"}, "intro": {"您好"}, "rows": {"3"},
		"i0.pos": {"10"}, "i0.sec": {"2"}, "i0.link": {"overall"}, "i0.text": {"总的来说满意吗？"}, "i0.type": {"satisfaction"}, "i0.weight": {"10"}, "i0.req": {"1"}, "i0.element": {"satisfaction"},
		"i1.pos": {"10"}, "i1.sec": {"1"}, "i1.link": {"pain"}, "i1.text": {"疼痛程度"}, "i1.type": {"rating"}, "i1.weight": {"2"},
		"i2.pos": {"20"}, "i2.sec": {"2"}, "i2.link": {"why"}, "i2.text": {"哪里不满意？"}, "i2.type": {"text"}, "i2.when_link": {"overall"}, "i2.when_value": {"angry"}}
	r = admin.post(edit, form)
	want(t, r, http.StatusUnprocessableEntity, "显示条件须指向前面的题目", `class="card sv-item bad" id="item-2"`, `value="哪里不满意？"`)
	form.Set("i2.when_value", "dissatisfied")
	form.Set("i1.options", "x | y") // options on a rating: refused
	r = admin.post(edit, form)
	want(t, r, http.StatusUnprocessableEntity, `id="item-1"`, "单选、多选题需要 2 到 30 个选项")
	form.Set("i1.options", "")
	r = admin.post(edit, form)
	want(t, r, http.StatusOK, "草稿已保存")
	// Items are ordered by page, then order: pain (page 1) first.
	if strings.Index(r.body, `value="pain"`) > strings.Index(r.body, `value="overall"`) {
		t.Fatal("items not sorted by page")
	}
	vid := strings.TrimSuffix(strings.TrimPrefix(edit, "/surveys/versions/"), "/edit")
	r = admin.get("/surveys/versions/" + vid + "/preview?p=1")
	want(t, r, http.StatusOK, "预览", "总的来说满意吗？", "条件显示：当 overall = dissatisfied 时", "第 2 / 2 页")
	r = admin.post("/surveys/versions/"+vid+"/publish", nil)
	want(t, r, http.StatusOK, "已发布。", "v1")
	// Published: the designer refuses, a new version is a draft copy.
	want(t, admin.get(edit), http.StatusConflict)
	r = admin.post(strings.TrimSuffix(r.url, "?")+"/versions", nil)
	want(t, r, http.StatusOK, "设计问卷", "v2")
	// FHIR export and import.
	resp, err := admin.c.Get(e.srv.URL + "/surveys/versions/" + vid + "/fhir.json")
	if err != nil {
		t.Fatal(err)
	}
	var fhir bytes.Buffer
	fhir.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(fhir.String(), `"resourceType": "Questionnaire"`) || !strings.Contains(fhir.String(), `"enableWhen"`) {
		t.Fatalf("export: %d %s", resp.StatusCode, fhir.String())
	}
	r = admin.upload("/surveys/import", map[string]string{"inst": fmt.Sprint(e.h1), "key": "rehab_copy"}, fhir.Bytes())
	want(t, r, http.StatusOK, "已导入为草稿", `value="pain"`, `value="why"`)
	r = admin.upload("/surveys/import", map[string]string{"inst": fmt.Sprint(e.h1)}, []byte(`{"resourceType":"Patient"}`))
	want(t, r, http.StatusBadRequest, "文件不是 FHIR Questionnaire")
	// Settings.
	r = admin.post("/surveys/settings", url.Values{"inst": {fmt.Sprint(e.h1)}, "ServicePhone": {"abc"}, "LinkDays": {"14"},
		"RemindAfterDays": {"3"}, "MaxReminders": {"2"}, "InviteKey": {"inpatient_satisfaction"}})
	want(t, r, http.StatusUnprocessableEntity, "服务电话只能包含数字", `value="abc"`)
	r = admin.post("/surveys/settings", url.Values{"inst": {fmt.Sprint(e.h1)}, "ServicePhone": {"0571-88886666"}, "LinkDays": {"10"},
		"RemindAfterDays": {"2"}, "MaxReminders": {"1"}, "InviteKey": {"inpatient_satisfaction"}})
	want(t, r, http.StatusOK, "问卷设置已保存", `value="0571-88886666"`, `value="10"`)

	// Results after one answered and one unanswered invitation.
	path, _ := e.invite("M1")
	e.invite("M2")
	sheetPath := path
	c := e.anon()
	steps := []url.Values{
		{"section": {"0"}, "a.effect": {"good"}, "a.medication": {"yes"}, "a.revisit": {"yes"}},
		{"section": {"1"}, "a.doctors": {"satisfied"}, "a.nurses": {"satisfied"}, "a.medtech": {"basically"}},
		{"section": {"2"}, "a.environment": {"satisfied"}, "a.meals": {"dissatisfied"}, "a.fees": {"satisfied"}, "a.process": {"satisfied"}},
		{"section": {"3"}, "a.ethics": {"satisfied"}, "a.gift": {"no"}},
		{"section": {"4"}, "a.overall": {"basically"}, "a.nps": {"10"}, "a.opinions": {"饭菜偏咸"}},
	}
	for _, v := range steps {
		c.post(sheetPath, v)
	}
	var qid int64
	list, _ := e.sv.Survey.List(context.Background(), access.System(), e.h1)
	for _, q := range list {
		if q.Key == "inpatient_satisfaction" {
			qid = q.ID
		}
	}
	r = admin.get(fmt.Sprintf("/surveys/%d/results", qid))
	want(t, r, http.StatusOK, "应答率", "50%", "满意率", "100%", "<svg", "各题得分", "饭菜偏咸", "心血管内科", "陈医生", "2026-09", "提醒未答患者")
	wantNot(t, r, "张小明", "13800138000")
	r = admin.get(fmt.Sprintf("/surveys/%d/results?month=2026-13", qid))
	want(t, r, http.StatusBadRequest, "月份格式如 2026-10")
	resp, err = admin.c.Get(e.srv.URL + fmt.Sprintf("/surveys/%d/results.xlsx?dept=%d", qid, e.dept))
	if err != nil {
		t.Fatal(err)
	}
	var x bytes.Buffer
	x.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(x.Bytes(), []byte("PK")) || !strings.Contains(resp.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	// Channels by the page's names, not their codes.
	over := xlsxSheets(t, x.Bytes())["概览"]
	if !hasRow(over, "短信", "2", "1") {
		t.Errorf("channel row not named 短信: %v", over)
	}
	for _, r := range over {
		if len(r) > 0 && (r[0] == "sms" || r[0] == "wechat") {
			t.Errorf("raw channel code in the workbook: %v", r)
		}
	}
	r = admin.post(fmt.Sprintf("/surveys/%d/remind", qid), url.Values{"dept": {fmt.Sprint(e.dept)}, "month": {"2026-09"}})
	want(t, r, http.StatusOK, "已向 1 位未答患者发送提醒。")
	// Detail page with its versions.
	r = admin.get(fmt.Sprintf("/surveys/%d", qid))
	want(t, r, http.StatusOK, "医德医风", "条件显示：当 gift = yes 时", "导出 FHIR", "预览（患者视角）")
}
