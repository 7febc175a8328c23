package e2e

// The follow-up walk in a browser: a 客服 imports a day's discharges,
// works the worklist, misses a patient before National Day, reaches him
// after it, records a 不满意 and the notice lands with the department.

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"suifang/internal/app"
	"suifang/internal/followup"
)

func TestBrowserFollowupWalk(t *testing.T) {
	began := time.Now()
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, deps := h01(t, s)
	b := newBrowser(t, s)
	t.Logf("server and browser up in %s", time.Since(began).Round(time.Millisecond))
	mark := time.Now()
	step := func(name string) {
		t.Logf("%s took %s", name, time.Since(mark).Round(time.Millisecond))
		mark = time.Now()
	}
	sys := systemPrincipal()

	// 1. The agent imports three discharges and one row without a discharge
	// date, choosing H01 in the form.
	agent := b.loggedIn(t, "agent")
	pats := walkPatients()
	csvPath := writeWalkCSV(t, pats)
	if st := agent.open("/imports"); st != http.StatusOK {
		t.Fatalf("/imports as agent = %d", st)
	}
	agent.setValue("#institution", itoa(inst))
	agent.upload("#file", csvPath)
	if st := agent.clickNav(`form[action="/imports"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("import = %d", st)
	}
	batchPath := agent.path()
	var batchID int64
	if _, err := fmt.Sscanf(batchPath, "/imports/%d", &batchID); err != nil || batchPath != "/imports/"+itoa(batchID) {
		t.Fatalf("after the upload the browser is at %s, want /imports/{id}", agent.where())
	}
	agent.wantText("导入报告 #"+itoa(batchID), "心内科出院患者-20260930.csv", "示范市第一人民医院", "赵随访")
	stats := run(agent, "read the stats", evalMap(`Object.fromEntries([...document.querySelectorAll(".stats > div")]
		.map(d => [d.querySelector(".muted").innerText.trim(), d.querySelector(".big").innerText.trim()]))`))
	for label, want := range map[string]string{"有效行": "3", "新增住院": "3", "未导入": "1"} {
		if stats[label] != want {
			t.Errorf("report stat %s = %q, want %s (all: %v)", label, stats[label], want, stats)
		}
	}
	if tasks := stats["生成随访"]; tasks == "" || tasks == "0" {
		t.Errorf("report says %q follow-ups were planned", tasks)
	}
	rejects := run(agent, "read the rejects", evalRows(`main table tbody tr`))
	if len(rejects) != 1 {
		t.Fatalf("reject rows = %v, want one", rejects)
	}
	if r := rejects[0]; r[0] != "5" || r[2] != "出院日期" || r[3] == "" {
		t.Errorf("reject row = %q, want line 5, field 出院日期 and a reason", r)
	}
	if !agent.exists(fmt.Sprintf(`a[href="/imports/%d/rejects.csv"]`, batchID)) {
		t.Error("the report offers no download of the rejects")
	}
	agent.wantNoUntranslated()
	agent.shot("20-import-report.png")
	batch, err := s.App.Importer.Batch(ctx, sys, batchID)
	if err != nil {
		t.Fatal(err)
	}
	if batch.New != 3 || batch.Rejects != 1 || batch.Status != "done" || batch.InstitutionID != inst {
		t.Fatalf("batch = %+v, want 3 new, 1 reject, done, in H01", batch)
	}

	// The imported stays and their tasks, read through the services.
	type stay struct {
		id    int64
		tasks map[string]*followup.Task // by step key
	}
	stays := make([]stay, 3)
	for i, p := range pats[:3] {
		enc, err := s.App.Patients.EncounterByVisit(ctx, sys, inst, p.Visit)
		if err != nil {
			t.Fatalf("stay %s: %v", p.Visit, err)
		}
		if enc.DepartmentID != deps["0301"] || enc.WardID != deps["0301W1"] {
			t.Fatalf("stay %s in department %d ward %d, want 0301 / 0301W1", p.Visit, enc.DepartmentID, enc.WardID)
		}
		list, err := s.App.Followup.EncounterTasks(ctx, sys, enc.ID)
		if err != nil {
			t.Fatal(err)
		}
		stays[i] = stay{id: enc.ID, tasks: map[string]*followup.Task{}}
		for _, tk := range list {
			stays[i].tasks[tk.StepKey] = tk
		}
		for _, k := range []string{"L1", "FIRST", "L2", "L3"} {
			if stays[i].tasks[k] == nil {
				t.Fatalf("stay %s has no %s task (has %d tasks)", p.Visit, k, len(list))
			}
		}
	}
	if _, err := s.App.Patients.EncounterByVisit(ctx, sys, inst, pats[3].Visit); err == nil {
		t.Fatal("the row without a discharge date was imported")
	}
	// 张晓明's first contact: discharged 09-30, due three working days
	// later, which skips National Day to the adjusted Saturday 10-10.
	first := stays[0].tasks["FIRST"]
	if first.Due.String() != "2026-10-10" || first.DepartmentID != deps["0301W1"] || first.Role != "nurse" {
		t.Fatalf("张晓明's FIRST task = due %s dept %d role %s, want due 2026-10-10 in ward 0301W1 for nurses",
			first.Due, first.DepartmentID, first.Role)
	}
	step("1 import")

	// 2. The worklist (今日待办) lists the imported patients, masked.
	if st := agent.clickNav(`main .toolbar a.btn.primary[href="/followup"]`); st != http.StatusOK {
		t.Fatalf("report → worklist = %d", st)
	}
	agent.wantPath("/followup")
	agent.wantText("今日待办", "已逾期", "我认领的", "未到期", "已结束", "今天 2026-09-30")
	counts := run(agent, "tab counts", evalMap(`Object.fromEntries([...document.querySelectorAll("nav.tabs a")]
		.map(a => [a.firstChild.textContent.trim(), a.querySelector(".count").innerText.trim()]))`))
	if len(counts) != 5 {
		t.Fatalf("tabs = %v, want five with counts", counts)
	}
	wl, err := s.App.Followup.Worklist(ctx, principalOf(t, s, "agent"), followup.Filter{InstitutionID: inst}, mustDate("2026-09-30"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts["今日待办"], fmt.Sprint(wl.Counts[followup.TabToday]); got != want {
		t.Errorf("今日待办 count = %s, the service counts %s", got, want)
	}
	if counts["今日待办"] == "0" {
		t.Fatal("today's tab is empty after the import")
	}
	// The demo hospital has hundreds due today: narrow to the ward's
	// level-1 steps with the filter form.
	agent.setValue("#level", "1")
	agent.setValue("#dept", itoa(deps["0301W1"]))
	if st := agent.clickNav(`form.filters button[type=submit]`); st != http.StatusOK {
		t.Fatalf("filter = %d", st)
	}
	if got := agent.eval(`location.search`).(string); !containsAll(got, "level=1", "dept="+itoa(deps["0301W1"])) {
		t.Fatalf("filtered worklist URL has %q", got)
	}
	t.Logf("filtered: %s", agent.text(".pager .muted"))
	for _, p := range pats[:3] {
		// Everyone discharged on 09-29/30 has a first contact due now.
		row := agent.rowText("table.worklist", p.MRN)
		if row == "" {
			t.Fatalf("the worklist has no row of %s (%s); it shows:\n%.1500s", p.Masked(), p.MRN, agent.body())
		}
		if !containsAll(row, p.Masked(), "心血管内科", "心血管内科一病区", "一级") || strings.Contains(row, p.Name) {
			t.Errorf("worklist row of %s = %q, want the masked name %s, department/ward and level", p.MRN, row, p.Masked())
		}
	}
	agent.wantNoText(pats[0].Name, pats[1].Name, pats[2].Name, pats[3].Masked())
	agent.wantNoUntranslated()
	agent.shot("21-worklist.png")
	step("2 worklist")

	// 3. Open 张晓明's first-contact task, claim it, reveal the number and
	// log no answer: it comes back the next working day, after the holiday.
	taskURL := "/followup/tasks/" + itoa(first.ID)
	if st := agent.clickNav(fmt.Sprintf(`tr[data-href^="%s?"] a.rowlink`, taskURL)); st != http.StatusOK {
		t.Fatalf("open task = %d", st)
	}
	agent.wantPath(taskURL)
	agent.wantText("张*明", "首次随访", "E2E2609301", "I10", "原发性高血压", "认领")
	agent.wantNoText("张晓明", pats[0].Phone)
	if st := agent.clickNav(`#claim-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("claim = %d", st)
	}
	agent.wantPath(taskURL)
	agent.wantText("已认领", "放弃认领")
	if tk, _ := s.App.Followup.Task(ctx, sys, first.ID); tk.ClaimedBy == 0 {
		t.Fatal("the claim is not stored")
	}
	if st := agent.clickNav(`form[action*="/reveal"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("reveal = %d", st)
	}
	if href := agent.eval(`(document.querySelector("a.tel") || {}).href || ""`); href != "tel:"+pats[0].Phone {
		t.Fatalf("revealed phone link = %q, want tel:%s", href, pats[0].Phone)
	}
	if got := agent.text("a.tel"); got != pats[0].Phone {
		t.Fatalf("revealed number shows %q", got)
	}
	agent.check(`#attempt input[name=outcome][value=no_answer]`)
	if st := agent.clickNav(`#attempt button[type=submit]`); st != http.StatusOK {
		t.Fatalf("log no answer = %d", st)
	}
	if p := agent.path(); p == taskURL || !strings.HasPrefix(p, "/followup/tasks/") {
		t.Fatalf("after no answer the browser is at %s, want the next task", agent.where())
	}
	if got := agent.text(".flash.ok"); !containsAll(got, "未接通", "第 1 次", "2026-10-08") {
		t.Fatalf("notice after no answer = %q, want a retry on 2026-10-08", got)
	}
	agent.wantNoText(pats[0].Phone) // the next task's page shows no revealed number
	agent.shot("22-no-answer.png")
	tk, err := s.App.Followup.Task(ctx, sys, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Next.String() != "2026-10-08" || tk.Attempts != 1 || tk.Status != followup.Open {
		t.Fatalf("task after no answer: next %s, attempts %d, status %s; want 2026-10-08, 1, open", tk.Next, tk.Attempts, tk.Status)
	}
	step("3 no answer")

	// 4. After National Day (10-08, 10:00 in Beijing) the task is back in
	// 今日待办; this time he answers and the record is filled in.
	s.Clock.Set(time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC))
	wardL1 := "/followup?level=1&dept=" + itoa(deps["0301W1"])
	// Eight days on, the session has long expired: log in again and land
	// on the page asked for.
	agent.open(wardL1)
	agent.wantPath("/login")
	agent.wantText("会话已超时")
	if st := agent.login("agent", app.DemoPassword); st != http.StatusOK {
		t.Fatalf("login again = %d", st)
	}
	agent.wantPath("/followup")
	agent.wantText("今天 2026-10-08")
	if got := agent.eval(`location.search`).(string); !strings.Contains(got, "level=1") {
		t.Errorf("the login lost the worklist filter: %q", got)
	}
	// His only row today is the first contact (L1 is overdue now).
	row := agent.rowText("table.worklist", pats[0].MRN)
	if !containsAll(row, "张*明", "首次随访") {
		t.Fatalf("on 2026-10-08 今日待办 lacks 张*明's first contact; row = %q", row)
	}
	if !agent.exists(fmt.Sprintf(`table.worklist tr[data-href^="%s?"]`, taskURL)) {
		t.Fatal("the retried task is not in 今日待办 on 2026-10-08")
	}
	if st := agent.clickNav(fmt.Sprintf(`tr[data-href^="%s?"] a.rowlink`, taskURL)); st != http.StatusOK {
		t.Fatalf("open task again = %d", st)
	}
	agent.wantText("无人接听") // the contact history
	agent.check(`#attempt input[name=outcome][value=reached]`)
	if st := agent.clickNav(`#attempt button[type=submit]`); st != http.StatusOK {
		t.Fatalf("log reached = %d", st)
	}
	agent.wantPath(taskURL)
	if h := agent.eval(`location.hash`); h != "#record" {
		t.Errorf("after reached the page is at %q, want #record", h)
	}
	if got := agent.text(".flash.ok"); !strings.Contains(got, "已接通") {
		t.Errorf("notice after reached = %q", got)
	}
	if !agent.eval(`(() => { const r = document.getElementById("record").getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight; })()`).(bool) {
		t.Error("after reached the record form is not scrolled into view")
	}
	if focused := agent.eval(`!!document.activeElement.closest("#record-form")`).(bool); !focused {
		t.Log("note: after reached the record form is scrolled to but no field has the focus")
	}
	agent.check(`input[name=treatment_effect][value=improved]`)
	agent.check(`input[name=satisfaction][value=dissatisfied]`)
	agent.fill("#medication_guidance", "继续服用氨氯地平 5mg 每日一次，每日早晚测血压并记录。")
	agent.fill("#revisit_advice", "出院后 2 周心内科门诊复诊，复查血压、血脂。")
	agent.check(`input[name=nps][value="3"]`)
	agent.fill("#opinions", "护士态度冷淡")
	agent.check(`input[name=opinion_problem]`)
	if st := agent.clickNav(`#record-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("save record = %d", st)
	}
	notice := agent.text(".flash.ok")
	number := regexp.MustCompile(`SF-H01-\d{8}-\d{4}`).FindString(notice)
	if number == "" || !strings.Contains(notice, "已转科室处理") {
		t.Fatalf("notice after the record = %q, want a record number SF-H01-yyyymmdd-nnnn and the case", notice)
	}
	if number != "SF-H01-20261008-0001" {
		t.Errorf("record number = %s, want SF-H01-20261008-0001 (the day's first)", number)
	}
	if agent.path() == taskURL {
		t.Error("after the record the browser stayed on the finished task")
	}
	agent.shot("23-record-saved.png")
	recs, err := s.App.Followup.TaskRecords(ctx, sys, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("records of the task = %d", len(recs))
	}
	rec := recs[0]
	if rec.Number != number || rec.TreatmentEffect != "improved" || rec.Satisfaction != followup.Dissatisfied || rec.NPS != 3 ||
		rec.Opinions != "护士态度冷淡" || !rec.OpinionProblem || !strings.Contains(rec.MedicationGuidance, "氨氯地平") ||
		!strings.Contains(rec.RevisitAdvice, "2 周") {
		t.Fatalf("stored record = %+v", rec.RecordInput)
	}
	if tk, _ := s.App.Followup.Task(ctx, sys, first.ID); tk.Status != followup.Done || tk.Attempts != 2 {
		t.Fatalf("task after the record: status %s attempts %d, want done and 2", tk.Status, tk.Attempts)
	}
	step("4 record")

	// 5. The case goes to the task's department: the ward (first contact is
	// a nurse's step). A level-3 record of 李秀英 with an opinion, made
	// through the service, opens a case in the clinical department 0301.
	l3 := stays[1].tasks["L3"]
	if l3.DepartmentID != deps["0301"] {
		t.Fatalf("李秀英's L3 task is in department %d, want 0301", l3.DepartmentID)
	}
	rec3, err := s.App.Followup.Complete(ctx, principalOf(t, s, "agent"), l3.ID, followup.RecordInput{
		TreatmentEffect: "good", Satisfaction: followup.Basically, MedicationGuidance: "按时服药", RevisitAdvice: "1 个月后复诊",
		NPS: 7, Opinions: "病房夜间太吵", OpinionProblem: true})
	if err != nil {
		t.Fatal(err)
	}
	step("5 opinion record via the service")
	if st := agent.clickNav(`.sidenav a[href="/notices"]`); st != http.StatusOK {
		t.Fatalf("notices = %d", st)
	}
	agent.wantPath("/notices")
	caseRow := agent.rowText("main table", number)
	if !containsAll(caseRow, "CG-H01-202610-", "已下发", "护理", "张*明", "心血管内科一病区", "护士态度冷淡") {
		t.Errorf("agent's notice row = %q", caseRow)
	}
	if row := agent.rowText("main table", rec3.Number); !containsAll(row, "李*英", "心血管内科", "病房夜间太吵") {
		t.Errorf("agent's row of the opinion notice %s = %q", rec3.Number, row)
	}
	agent.wantNoText("张晓明")
	agent.wantNoUntranslated()
	agent.shot("24-cases.png")

	// 陈主任 (心血管内科 and its ward) sees both; 周护士 (the ward only)
	// sees the ward's notice but not the department's. The old address of
	// the case list leads to the notices.
	step("5 agent's notices")
	head := b.loggedIn(t, "head")
	head.open("/followup/cases")
	head.wantPath("/notices")
	head.wantText(number, rec3.Number, "护士态度冷淡", "病房夜间太吵")
	step("5 head's notices")
	nurse := b.loggedIn(t, "nurse")
	if st := nurse.open("/notices"); st != http.StatusOK {
		t.Fatalf("notices as nurse = %d", st)
	}
	nurse.wantText(number, "护士态度冷淡")
	nurse.wantNoText(rec3.Number, "病房夜间太吵")
	step("5 nurse's notices")

	// 6. On a phone the worklist and a task page do not scroll sideways.
	phone := b.loggedInPhone(t, "agent")
	phone.open(wardL1)
	phone.wantText("今日待办", "王*国")
	phone.wantFits(390)
	phone.shot("25-worklist-phone.png")
	phone.open("/followup/tasks/" + itoa(stays[2].tasks["FIRST"].ID))
	phone.wantText("王*国", "首次随访", "保存随访记录")
	phone.wantFits(390)
	phone.shot("26-task-phone.png")
	step("6 phone")

	// 7. Keyboard: j selects the first row, Enter opens its task.
	agent.open("/followup")
	agent.key("j")
	if !agent.exists(`table.worklist tbody tr.sel[aria-selected=true]`) {
		t.Fatal("j selected no row")
	}
	want := agent.eval(`document.querySelector("table.worklist tbody tr.sel").dataset.href`).(string)
	if st := agent.navBy("press Enter", keyAction(enter)); st != http.StatusOK {
		t.Fatalf("Enter opened a page with status %d", st)
	}
	if p := agent.path(); !strings.HasPrefix(p, "/followup/tasks/") || !strings.HasPrefix(want, p) {
		t.Fatalf("Enter led to %s, want the selected row's task %s", agent.where(), want)
	}
	step("7 keyboard")
	t.Logf("walk took %s in all", time.Since(began).Round(time.Millisecond))
}
