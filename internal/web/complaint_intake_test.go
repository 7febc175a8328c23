package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
)

const (
	cpiNight  = "住院期间夜班护士态度很差，我父亲半夜按呼叫铃二十分钟没人来，后来护士过来还说我们事多，要求护士长给个说法并道歉。"
	cpiNight2 = "我爸住院时半夜按了呼叫铃二十多分钟都没有护士来，来了以后护士还嫌我们事多，态度很差。希望护士长道歉，给个说法！"
)

var complaintURLRE = regexp.MustCompile(`/complaints/(\d+)$`)

// staffComplaint is the intake form as a phone complaint fills it.
func (e *cpEnv) staffComplaint(content string) url.Values {
	return url.Values{"channel": {"phone"}, "complainant_name": {"李华"}, "complainant_role": {"relative"}, "contact": {"13900001234"},
		"department_id": {itoa(e.deptA)}, "content": {content}, "category": {"service_attitude"}, "severity": {"general"},
		"complexity": {"simple"}}
}

func (e *cpEnv) count() int {
	e.t.Helper()
	q := e.principal("quality")
	l, err := e.sv.Complaints.List(context.Background(), q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Status: "all"})
	if err != nil {
		e.t.Fatal(err)
	}
	return l.Total
}

func TestComplaintDuplicateWarningAndMerge(t *testing.T) {
	e := newComplaintEnv(t)
	qc := e.login("quality", adminPW)
	r := qc.post("/complaints", e.staffComplaint(cpiNight))
	want(t, r, http.StatusOK, "已登记投诉")
	m := complaintURLRE.FindStringSubmatch(r.url)
	if m == nil {
		t.Fatalf("landed on %s", r.url)
	}
	first := m[1]

	// The same caller tells it again: the form comes back with the
	// candidate and a box to tick; nothing is saved yet.
	r = qc.post("/complaints", e.staffComplaint(cpiNight2))
	want(t, r, http.StatusOK, "可能是重复投诉", "/complaints/"+first, "同一联系方式", `name="confirm_duplicate"`, "我爸住院时半夜")
	if n := e.count(); n != 1 {
		t.Fatalf("%d complaints after the warning, want 1", n)
	}
	// Another matter from the same caller is not held up.
	other := qc.post("/complaints", e.staffComplaint("出院结算时发现CT检查费重复收取了两次，要求退还。"))
	want(t, other, http.StatusOK, "已登记投诉")
	wantNot(t, other, "可能是重复投诉")
	// Ticked: registered, and its page offers the merge.
	v := e.staffComplaint(cpiNight2)
	v.Set("confirm_duplicate", "1")
	r = qc.post("/complaints", v)
	want(t, r, http.StatusOK, "已登记投诉", "疑似重复", "将本投诉并入", "/complaints/"+first, `id="cpi-duplicates"`)
	second := complaintURLRE.FindStringSubmatch(r.url)[1]

	// Someone outside the complaint cannot merge it.
	nb := e.login("nurseb", adminPW)
	want(t, nb.post("/complaints/"+second+"/merge", url.Values{"primary_id": {first}}), http.StatusForbidden)
	// Merging into itself is refused on the page, the note kept.
	r = qc.post("/complaints/"+second+"/merge", url.Values{"primary_id": {second}, "from": {second}, "note": {"核对"}})
	want(t, r, http.StatusUnprocessableEntity, "不能把投诉合并到它自己")

	r = qc.post("/complaints/"+second+"/merge", url.Values{"primary_id": {first}, "from": {second}, "note": {"同一事件，家属来电"}})
	want(t, r, http.StatusOK, "已合并", "本投诉是重复投诉，已合并到", `href="/complaints/`+first+`"`, "合并到另一投诉")
	if !strings.HasSuffix(r.url, "/complaints/"+second) {
		t.Errorf("landed on %s", r.url)
	}
	r = qc.get("/complaints/" + first)
	want(t, r, http.StatusOK, "已并入的重复投诉", "我爸住院时半夜", "并入重复投诉")
	wantNot(t, r, `id="cpi-duplicates"`)

	// Off the open list, on the merged one.
	wantNot(t, qc.get("/complaints?tab=all"), "/complaints/"+second+`"`)
	want(t, qc.get("/complaints?tab=all&status=merged"), http.StatusOK, "/complaints/"+second+`"`)
}

func TestComplaintSuggestionBoxBatchPage(t *testing.T) {
	e := newComplaintEnv(t)
	qc := e.login("quality", adminPW)
	want(t, qc.get("/complaints"), http.StatusOK, `href="/complaints/batch"`, "意见箱批量录入")
	r := qc.get("/complaints/batch")
	want(t, r, http.StatusOK, "意见箱批量录入", `id="slip-5"`, `value="2026-10-13"`, "从 Excel 粘贴")

	slips := []complaint.Slip{
		{FoundOn: "2026-10-12", Box: "门诊大厅", Text: "挂号窗口排队太久，只开了两个窗口。"},
		{FoundOn: "2026-10-20", Box: "住院部三楼", Text: "病房卫生间很脏。", Name: "王五", Dept: "骨科"},
		{FoundOn: "2026-10-13"}, // untouched: ignored
		{FoundOn: "2026-10-11", Box: "急诊", Text: "夜间急诊等候时间太长。", Dept: "0301"},
	}
	form := func() url.Values {
		v := url.Values{}
		for _, sl := range slips {
			v.Add("found_on", sl.FoundOn)
			v.Add("box", sl.Box)
			v.Add("text", sl.Text)
			v.Add("name", sl.Name)
			v.Add("contact", sl.Contact)
			v.Add("dept", sl.Dept)
		}
		return v
	}
	// No department and no complaint office to send it to: row 1 is
	// marked, every row comes back, nothing is saved.
	r = qc.post("/complaints/batch", form())
	want(t, r, http.StatusUnprocessableEntity, "第 1 行", "投诉办公室", `<tr class="bad" id="slip-1">`, "挂号窗口排队太久", "病房卫生间很脏",
		"夜间急诊等候")
	if _, err := e.sv.Org.CreateDepartment(context.Background(), access.System(), org.DepartmentInput{InstitutionID: e.h1, Code: "9001",
		Name: "患者服务中心", Kind: org.DeptOffice}); err != nil {
		t.Fatal(err)
	}
	// A box opened in the future is marked on its row.
	r = qc.post("/complaints/batch", form())
	want(t, r, http.StatusUnprocessableEntity, "第 2 行", `<tr class="bad" id="slip-2">`, "挂号窗口排队太久", "夜间急诊等候")
	if n := e.count(); n != 0 {
		t.Fatalf("%d complaints saved from a refused batch", n)
	}
	slips[1].FoundOn = "2026-10-12"
	rows := form()
	// Pasted lines from Excel join the rows; a line with too many cells is
	// refused with its number and the text kept.
	bad := "2026/10/12\t门诊\t太慢\t\t\t\t多余\n"
	rows.Set("paste", bad)
	r = qc.post("/complaints/batch", rows)
	want(t, r, http.StatusUnprocessableEntity, "第 1 行的列数超过 6 列", "2026/10/12")
	rows.Set("paste", "开箱日期\t位置\t内容\n2026/10/12\t药房\t取药窗口的工作人员态度冷淡。\t\t\t药剂科不存在\n")
	r = qc.post("/complaints/batch", rows)
	want(t, r, http.StatusUnprocessableEntity, "第 4 行", "没有这个名称或编码的科室", "取药窗口")
	rows.Set("paste", "2026/10/12\t药房\t取药窗口的工作人员态度冷淡。\n")
	// "More rows" keeps everything and adds blank ones.
	more := url.Values{}
	for k, v := range rows {
		more[k] = v
	}
	more.Set("more", "1")
	r = qc.post("/complaints/batch", more)
	want(t, r, http.StatusOK, "取药窗口", `id="slip-9"`)
	if n := e.count(); n != 0 {
		t.Fatalf("%d complaints saved before registering", n)
	}
	r = qc.post("/complaints/batch", rows)
	want(t, r, http.StatusOK, "已登记 4 张意见条")
	q := e.principal("quality")
	l, err := e.sv.Complaints.List(context.Background(), q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll})
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != 4 {
		t.Fatalf("%d complaints, want 4", l.Total)
	}
	for _, c := range l.Items {
		if c.Channel != "suggestion_box" {
			t.Errorf("%s: channel %s", c.Number, c.Channel)
		}
	}
}

func TestComplaintFromFollowupRecord(t *testing.T) {
	e := newComplaintEnv(t)
	ctx := context.Background()
	sys := access.System()
	at := time.Date(2026, 10, 9, 9, 30, 0, 0, time.UTC)
	rep, err := e.sv.Importer.ImportStream(ctx, sys, importer.Options{Filename: "test"}, func(s intake.Sink) error {
		return s.Message(intake.Message{Source: "test", Line: 1, Event: intake.Discharge,
			Patient: intake.Patient{MRN: "M1", Name: "张晓明", Sex: intake.Male, Phones: []string{"13800138000"}},
			Encounter: intake.Encounter{VisitNumber: "V1", DepartmentCode: "0301", DepartmentName: "心血管内科", AdmittedAt: at.AddDate(0, 0, -5),
				DischargedAt: at, Outcome: intake.Improved}})
	})
	if err != nil || rep.Rejected != 0 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if _, err := e.sv.Auth.CreateUser(ctx, sys, auth.UserInput{Username: "agent", DisplayName: "随访员", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: e.h1}}, Active: true}); err != nil {
		t.Fatal(err)
	}
	agent := e.principal("agent")
	today := calendar.DateOf(e.clk.Now().In(publicTZ))
	var task int64
	for _, tab := range followup.Tabs() {
		wl, err := e.sv.Followup.Worklist(ctx, agent, followup.Filter{InstitutionID: e.h1, Tab: tab}, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(wl.Tasks) > 0 && task == 0 {
			task = wl.Tasks[0].ID
		}
	}
	if task == 0 {
		t.Fatal("the discharge planned no task")
	}
	if err := e.sv.Followup.Claim(ctx, agent, task); err != nil {
		t.Fatal(err)
	}
	rec, err := e.sv.Followup.Complete(ctx, agent, task, followup.RecordInput{TreatmentEffect: "good", Satisfaction: followup.Satisfied,
		MedicationGuidance: "按时服药", RevisitAdvice: "两周后复查", NPS: -1, Opinions: "出院结算等了两个小时没人管，希望改进。"})
	if err != nil {
		t.Fatal(err)
	}
	qc := e.login("quality", adminPW)
	r := qc.get("/followup/records/" + itoa(rec.ID))
	want(t, r, http.StatusOK, `id="raise-complaint"`, "/complaints/new?record="+itoa(rec.ID))
	r = qc.get("/complaints/new?record=" + itoa(rec.ID))
	want(t, r, http.StatusOK, `<option value="followup_call" selected>`, `value="张晓明"`, `value="V1"`, "出院结算等了两个小时没人管",
		`name="source_record_id" value="`+itoa(rec.ID)+`"`, rec.Number)
	v := url.Values{"channel": {"followup_call"}, "complainant_name": {"张晓明"}, "complainant_role": {"patient"}, "visit_number": {"V1"},
		"department_id": {itoa(e.deptA)}, "content": {rec.Opinions}, "source_record_id": {itoa(rec.ID)}}
	r = qc.post("/complaints", v)
	want(t, r, http.StatusOK, "已登记投诉", "来自随访记录", `href="/followup/records/`+itoa(rec.ID)+`"`, rec.Number)
	// A nurse of another department cannot open the record to raise from it.
	nb := e.login("nurseb", adminPW)
	want(t, nb.get("/complaints/new?record="+itoa(rec.ID)), http.StatusForbidden)
}

func TestComplaintPublicUnknownDepartment(t *testing.T) {
	e := newComplaintEnv(t)
	c := e.anon()
	wantNot(t, c.get("/c/H1"), `value="unknown"`)
	office, err := e.sv.Org.CreateDepartment(context.Background(), access.System(), org.DepartmentInput{InstitutionID: e.h1, Code: "9001",
		Name: "客户服务中心", Kind: org.DeptOffice})
	if err != nil {
		t.Fatal(err)
	}
	r := c.get("/c/H1")
	want(t, r, http.StatusOK, `value="unknown"`, "不清楚（由投诉办公室分派）")
	wantNot(t, r, "客户服务中心")
	r = c.post("/c/H1", url.Values{"name": {"李华"}, "phone": {"13900001234"}, "role": {"patient"}, "department_id": {"unknown"},
		"content": {"不知道该找哪个科室，检查报告一直拿不到。"}})
	want(t, r, http.StatusOK, "投诉已收到")
	q := e.principal("quality")
	l, err := e.sv.Complaints.List(context.Background(), q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll})
	if err != nil || l.Total != 1 || l.Items[0].DepartmentID != office || l.Items[0].OwnerName != "质控王" {
		t.Fatalf("filed %+v %v", l, err)
	}
}
