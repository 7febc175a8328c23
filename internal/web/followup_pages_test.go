package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/notice"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store/storetest"
)

// fuEnv is a page environment with the follow-up services wired the way
// internal/app wires them.
type fuEnv struct {
	*pageEnv
	audit   *audit.Service
	fu      *followup.Service
	ward    int64 // W05, 心内一病区
	cardio  int64 // 0301, 心血管内科
	nurseID int64
}

func newFollowupEnv(t *testing.T) *fuEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	au := audit.New(db, pageNow)
	var cal *caldb.Service
	var fu *followup.Service
	og := org.New(db, au, pageNow, func(ctx context.Context, tx *sql.Tx, id int64) error {
		if err := cal.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		return fu.SeedInstitution(ctx, tx, id)
	})
	cal = caldb.New(db, au, og, pageNow)
	secret := make([]byte, 32)
	rand.Read(secret)
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(secret))
	if err != nil {
		t.Fatal(err)
	}
	rand.Read(secret)
	index, err := pii.NewIndexer(secret)
	if err != nil {
		t.Fatal(err)
	}
	pats := patient.New(db, au, keys, index, pageNow)
	fu = followup.New(db, au, pats, pageNow, slog.New(slog.DiscardHandler), followup.DefaultPolicy(), nil)
	imp := importer.New(db, au, og, cal, pats, keys, fu, pageNow, slog.New(slog.DiscardHandler))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	as, err := auth.New(db, au, pageNow, pol, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &fuEnv{pageEnv: &pageEnv{t: t, auth: as, cal: cal}, audit: au, fu: fu}
	sys := access.System()
	must := func(id int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.h1 = must(og.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院", Kind: org.KindHospital}))
	e.h2 = must(og.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H2", Name: "第二医院", Kind: org.KindHospital}))
	e.cardio = must(og.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0301", Name: "心血管内科", Kind: org.DeptClinical}))
	e.ward = must(og.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "W05", Name: "心内一病区", Kind: org.DeptWard}))
	must(og.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "0502", Name: "内分泌科", Kind: org.DeptClinical}))
	must(og.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: e.h1, Code: "W12", Name: "内分泌病区", Kind: org.DeptWard}))
	e.adminID = must(as.CreateUser(ctx, sys, auth.UserInput{Username: "admin", DisplayName: "管理员", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.SysAdmin}, Active: true}))
	e.nurseID = must(as.CreateUser(ctx, sys, auth.UserInput{Username: "nurse", DisplayName: "周护士", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: e.ward}},
		Active: true}))
	must(as.CreateUser(ctx, sys, auth.UserInput{Username: "agent", DisplayName: "赵随访", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: e.h1}}, Active: true}))
	nt := notice.New(db, au, cal, nil, pageNow, nil)
	fu.SetCaseHook(core.NoticeCaseHook(nt))
	s, err := New(Deps{Auth: as, Org: og, Audit: au, Calendar: cal, Patients: pats, Followup: fu, Importer: imp, Notices: nt,
		Log: slog.New(slog.DiscardHandler), Now: pageNow, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newTestServer(t, s)
	return e
}

// uploadFile posts a multipart form: fields first, in order, then the file.
func (c *client) uploadFile(path string, fields [][2]string, name string, file []byte) result {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// raw fetches a non-HTML response (a download) with its headers.
func (c *client) raw(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.c.Get(c.e.srv.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const dischargeHeader = "病案号,住院流水号,身份证号,姓名,性别,出生日期,联系电话,现住址,工作单位,科室代码,科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,是否手术,手术名称,治疗结果,机构代码,事件\r\n"

// Two discharges (one on the cardiology ward W05, one on W12) and, on row
// 4, one without a discharge date.
const dischargeCSV = "\uFEFF" + dischargeHeader +
	"2026000123,ZY202610080001,110105195803121232,李建国,男,1958-03-12,13800138000,北京市朝阳区示例路1号,示例机械厂,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-10-01 09:30,2026-10-08 14:05,I21.0;I10,急性前壁心肌梗死;高血压,是,经皮冠状动脉介入治疗,好转,,出院\r\n" +
	"2026000456,ZY202610090002,310104196711052466,王芳,女,1967-11-05,13900139000;021-64000000,上海市徐汇区示例路2号,,0502,内分泌科,W12,内分泌病区,赵医生,孙护士,2026-10-03,2026-10-09,E11.9,2型糖尿病,否,,治愈,,出院\r\n" +
	"2026000789,ZY202610090003,,张小明,男,1970-01-01,13700137000,,,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-10-02,,I10,高血压,否,,好转,,出院\r\n"

var taskLinkRE = regexp.MustCompile(`href="/followup/tasks/(\d+)[^"]*"`)

// taskIDs are the task ids a worklist page links to, in order.
func taskIDs(body string) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, m := range taskLinkRE.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// findTask is the open task of a patient's visit with that step key.
func (e *fuEnv) findTask(visit, step string) *followup.Task {
	e.t.Helper()
	for _, tab := range followup.Tabs() {
		wl, err := e.fu.Worklist(context.Background(), access.System(), followup.Filter{InstitutionID: e.h1, Tab: tab, Limit: 500},
			dateOf(pageNow()))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, t := range wl.Tasks {
			if t.VisitNumber == visit && t.StepKey == step {
				return t
			}
		}
	}
	e.t.Fatalf("no task %s/%s", visit, step)
	return nil
}

func TestFollowupPages(t *testing.T) {
	e := newFollowupEnv(t)
	admin := e.login("admin", adminPW)
	h1 := fmt.Sprint(e.h1)

	// Import the discharges as the administrator, routed to H1.
	res := admin.uploadFile("/imports", [][2]string{{"institution", h1}, {"skip_days", ""}}, "discharges.csv", []byte(dischargeCSV))
	want(t, res, 200, "导入报告", "导入完成。", "未导入的行", "出院日期")
	if !strings.Contains(res.url, "/imports/") {
		t.Fatalf("import landed on %s", res.url)
	}
	batch := strings.TrimPrefix(res.url, "/imports/")
	// The report shows the counts and the bad row 4 with its field.
	want(t, res, 200, `<span class="big">2</span><span class="muted">新增住院</span>`, `<td class="num">4</td>`)
	wantNot(t, res, "13700137000") // raw rows (with phone numbers) stay in the download

	t.Run("imports page", func(t *testing.T) {
		r := admin.get("/imports")
		want(t, r, 200, "上传出院患者文件", "下载导入模板", "discharges.csv", "病案号", "住院流水号", `enctype="multipart/form-data"`)
		resp, body := admin.raw("/imports/template.csv")
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") ||
			!strings.HasPrefix(body, "\uFEFF病案号") {
			t.Errorf("template: %d %q %.40q", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
		}
	})

	t.Run("rejects download", func(t *testing.T) {
		resp, body := admin.raw("/imports/" + batch + "/rejects.csv")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "\uFEFF行号,来源,字段,原因,原始内容") {
			t.Fatalf("rejects.csv: %d %.80q", resp.StatusCode, body)
		}
		if !strings.Contains(body, "\r\n4,") || !strings.Contains(body, "ZY202610090003") {
			t.Errorf("rejects.csv lacks row 4:\n%s", body)
		}
		list, _ := e.audit.List(context.Background(), access.System(), audit.Filter{Action: "import.rejects_download"})
		if len(list) != 1 {
			t.Errorf("rejects download audited %d times, want 1", len(list))
		}
	})

	t.Run("import errors keep the form", func(t *testing.T) {
		r := admin.uploadFile("/imports", [][2]string{{"institution", h1}, {"skip_days", "x"}}, "d.csv", []byte(dischargeCSV))
		want(t, r, 422, "天数须为 0 到 3650 的整数", `name="skip_days" type="number" min="0" max="3650" value="x"`)
		r = admin.uploadFile("/imports", [][2]string{{"institution", h1}}, "empty.csv", []byte("nothing,here\n"))
		want(t, r, 422, `aria-invalid="true"`, "缺少必需列")
		agent := e.login("agent", adminPW)
		want(t, agent.get("/imports"), 200, "discharges.csv") // the agent sees imports of their institution
		nurse := e.login("nurse", adminPW)
		want(t, nurse.get("/imports"), 403)
	})

	lijg := e.findTask("ZY202610080001", "L1") // overdue since 10-08
	first := e.findTask("ZY202610080001", "FIRST")
	wangL1 := e.findTask("ZY202610090002", "L1") // due today

	t.Run("worklist", func(t *testing.T) {
		r := admin.get("/followup")
		want(t, r, 200, "我的随访", "今日待办", `<span class="count">4</span>`, `<span class="count alert">1</span>`,
			"王*", "2026000456", "今日到期", "内分泌科", `data-kbd="worklist"`)
		wantNot(t, r, "王芳", "13900139000")
		r = admin.get("/followup?tab=overdue")
		want(t, r, 200, "李*国", "逾期 1 天", "一级")
		if ids := taskIDs(r.body); len(ids) != 1 || ids[0] != lijg.ID {
			t.Errorf("overdue tab links %v, want [%d]", ids, lijg.ID)
		}
		want(t, admin.get("/followup?tab=upcoming&level=3"), 200, "三级", "未到期")
		want(t, admin.get("/followup?tab=mine"), 200, "您还没有认领随访任务")
		want(t, admin.get(fmt.Sprintf("/followup?dept=%d&tab=today", e.ward)), 200, "李*国")
	})

	t.Run("nurse sees her ward's nurse tasks only", func(t *testing.T) {
		nurse := e.login("nurse", adminPW)
		for _, tab := range followup.Tabs() {
			r := nurse.get("/followup?tab=" + string(tab))
			want(t, r, 200)
			wantNot(t, r, "王*", "<td>二级</td>", "<td>三级</td>")
		}
		r := nurse.get("/followup?tab=today")
		want(t, r, 200, "李*国", "首次随访")
		if ids := taskIDs(r.body); len(ids) != 1 || ids[0] != first.ID {
			t.Errorf("nurse today tab links %v, want [%d]", ids, first.ID)
		}
		want(t, nurse.get(fmt.Sprintf("/followup/tasks/%d", wangL1.ID)), 403)
		// The nurse's navigation has no import entry.
		wantNot(t, r, `href="/imports"`)
	})

	t.Run("task page masks and reveals", func(t *testing.T) {
		r := admin.get(fmt.Sprintf("/followup/tasks/%d?tab=overdue", lijg.ID))
		want(t, r, 200, "李*国", "138****8000", "显示完整号码", "ZY202610080001", "I21.0", "急性前壁心肌梗死",
			"陈医生", "刘护士", "核实患者的住址和联系电话", `accesskey="1"`, `name="medication_guidance"`, "认领")
		wantNot(t, r, "李建国", "13800138000")
		r = admin.post(fmt.Sprintf("/followup/tasks/%d/reveal?tab=overdue", lijg.ID), url.Values{})
		want(t, r, 200, `href="tel:13800138000"`, "已记录本次查看")
		list, err := e.audit.List(context.Background(), access.System(), audit.Filter{Action: "patient.reveal"})
		if err != nil || len(list) != 1 || list[0].Detail != "field=phone" {
			t.Errorf("reveal audit: %v %+v", err, list)
		}
		r = admin.post(fmt.Sprintf("/followup/tasks/%d/dial", lijg.ID), url.Values{})
		want(t, r, 422, "未接入呼叫中心")
	})

	t.Run("claim", func(t *testing.T) {
		r := admin.post(fmt.Sprintf("/followup/tasks/%d/claim?tab=overdue", lijg.ID), url.Values{})
		want(t, r, 200, "已认领", "我在处理", "放弃认领")
		want(t, admin.get("/followup?tab=mine"), 200, "李*国")
		nurse := e.login("nurse", adminPW)
		r = nurse.post(fmt.Sprintf("/followup/tasks/%d/claim", lijg.ID), url.Values{})
		want(t, r, 422, "其他同事正在处理")
	})

	t.Run("attempt no answer goes to the next task", func(t *testing.T) {
		r := admin.post(fmt.Sprintf("/followup/tasks/%d/attempts?tab=today&level=1", wangL1.ID),
			url.Values{"outcome": {"no_answer"}, "channel": {"phone"}, "note": {"无人接"}})
		want(t, r, 200, "未接通（第 1 次），已安排")
		// The next task of the same view, which keeps its filters (and not the form's channel).
		if strings.Contains(r.url, fmt.Sprintf("/followup/tasks/%d?", wangL1.ID)) || !strings.HasPrefix(r.url, "/followup/tasks/") ||
			!strings.HasSuffix(r.url, "?level=1") {
			t.Errorf("after the attempt landed on %s", r.url)
		}
		r = admin.get(fmt.Sprintf("/followup/tasks/%d", wangL1.ID))
		want(t, r, 200, "<dt>次数</dt><dd>1</dd>", "无人接听", "无人接")
		r = admin.post(fmt.Sprintf("/followup/tasks/%d/attempts", wangL1.ID), url.Values{"note": {"kept note"}})
		want(t, r, 422, "请选择本次联系的结果", "kept note")
	})

	t.Run("record", func(t *testing.T) {
		path := fmt.Sprintf("/followup/tasks/%d/record?tab=overdue", lijg.ID)
		form := url.Values{"treatment_effect": {"improved"}, "satisfaction": {"satisfied"}, "medication_guidance": {""},
			"revisit_advice": {"两周后心内科门诊复诊"}, "nps": {"9"}, "channel": {"phone"}}
		r := admin.post(path, form)
		want(t, r, 422, "请填写用药指导", `id="medication_guidance" name="medication_guidance" rows="3" maxlength="2000" aria-invalid="true"`,
			"两周后心内科门诊复诊", `value="9" checked`, `value="improved" checked`)
		form.Set("medication_guidance", "阿司匹林 100mg 每日一次")
		r = admin.post(path, form)
		want(t, r, 200, "已记录：SF-H1-20261009-0001")
		r = admin.get(fmt.Sprintf("/followup/tasks/%d", lijg.ID))
		want(t, r, 200, "已完成", "SF-H1-20261009-0001", "阿司匹林 100mg 每日一次", "该随访已结束")
		wantNot(t, r, `name="medication_guidance"`)
		// The first-contact task of the stay is met by this record.
		r = admin.get(fmt.Sprintf("/followup/tasks/%d", first.ID))
		want(t, r, 200, "首次随访已由其他随访完成")
	})

	t.Run("dissatisfied opens a case", func(t *testing.T) {
		l2 := e.findTask("ZY202610080001", "L2")
		r := admin.post(fmt.Sprintf("/followup/tasks/%d/record", l2.ID), url.Values{"treatment_effect": {"unchanged"},
			"satisfaction": {"dissatisfied"}, "medication_guidance": {"继续服药"}, "revisit_advice": {"按时复诊"},
			"opinions": {"病房夜间太吵"}, "channel": {"phone"}})
		want(t, r, 200, "已记录：SF-H1-20261009-0002", "已转科室处理")
		// The case is a notice of the department now; the old address leads there.
		r = admin.get("/followup/cases")
		want(t, r, 200, "抄告单", "CG-H1-202610-0001", "已下发", "心血管内科", "SF-H1-20261009-0002", "李*国", "病房夜间太吵")
		wantNot(t, r, "李建国")
		want(t, admin.get("/followup?tab=done"), 200, "已完成")
	})

	t.Run("rules", func(t *testing.T) {
		r := admin.get("/admin/rules")
		want(t, r, 200, "随访规则", "术后患者（重点）", "一般患者", "全部出院患者", "重新应用", `data-confirm="`)
		rules, err := e.fu.Rules(context.Background(), access.System(), e.h1)
		if err != nil {
			t.Fatal(err)
		}
		rl := rules[0]
		edit := fmt.Sprintf("/admin/rules/%d", rl.ID)
		want(t, admin.get(edit+"?inst="+h1), 200, rl.Name, `name="s0_key" value="L1"`, `name="rows"`)
		v := url.Values{"inst": {h1}, "name": {"术后患者（重点，已修订）"}, "priority": {"5"}, "active": {"1"}, "surgery": {"yes"},
			"rows": {strconv.Itoa(len(rl.Steps) + 1)}}
		for i, st := range rl.Steps {
			p := fmt.Sprintf("s%d_", i)
			v.Set(p+"key", st.Key)
			v.Set(p+"level", strconv.Itoa(st.Level))
			v.Set(p+"role", string(st.Role))
			v.Set(p+"channel", st.Channel)
			v.Set(p+"start", strconv.Itoa(st.Start))
			v.Set(p+"due", strconv.Itoa(st.Due))
			v.Set(p+"purpose", st.Purpose)
			if st.WorkingDays {
				v.Set(p+"working_days", "1")
			}
			if st.Satisfaction {
				v.Set(p+"satisfaction", "1")
			}
			if st.FirstContact {
				v.Set(p+"first_contact", "1")
			}
		}
		// A step with no purpose is refused and its row marked.
		v.Set("s2_purpose", "")
		r = admin.post(edit, v)
		want(t, r, 422, "请填写步骤的随访目的", `<tr class="invalid">`, "术后患者（重点，已修订）")
		v.Set("s2_purpose", rl.Steps[2].Purpose)
		v.Set("s1_due", "5") // FIRST: within 5 working days now
		r = admin.post(edit, v)
		want(t, r, 200, "规则已保存", "术后患者（重点，已修订）", "第 2 版", "0–5 工作日")
		r = admin.post(edit+"/reapply", url.Values{"inst": {h1}})
		want(t, r, 200, "已按“术后患者（重点，已修订）”的当前版本更新")
		want(t, admin.get("/admin/rules/new?inst="+h1), 200, "新建规则", `name="s2_key"`)
		nurse := e.login("nurse", adminPW)
		want(t, nurse.get("/admin/rules"), 403)
	})

	t.Run("english", func(t *testing.T) {
		en := e.login("admin", adminPW)
		en.post("/lang", url.Values{"lang": {"en"}, "back": {"/"}})
		want(t, en.get("/followup?tab=done"), 200, "My follow-ups", "Closed")
		want(t, en.get(fmt.Sprintf("/followup/tasks/%d", lijg.ID)), 200, "Discharge summary", "Follow-up records")
		want(t, en.get("/imports"), 200, "Upload a discharge file")
		want(t, en.get("/admin/rules"), 200, "Follow-up rules")
		want(t, en.get("/notices"), 200, "Notices", "Issued", "CG-H1-202610-0001")
	})
}

func newTestServer(t *testing.T, s *Server) *httptest.Server {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func dateOf(t time.Time) calendar.Date { return calendar.DateOf(t.In(cst)) }
