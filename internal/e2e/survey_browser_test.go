package e2e

// The patient's survey on a phone: a discharged patient opens the link
// from the SMS at 390×844, answers page by page, says 不满意 overall, is
// asked why on the same page, submits, and the answer is in the
// follow-up record. The page's transfer size and render time are measured.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"suifang/internal/followup"
	"suifang/internal/notify"
	"suifang/internal/survey"
)

// linkBox is an outbox that keeps the survey links it is handed.
type linkBox struct {
	mu    sync.Mutex
	links []string
}

func (o *linkBox) Enqueue(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.links = append(o.links, m.Params["link"])
	return int64(len(o.links)), nil
}

func (o *linkBox) CancelRef(context.Context, *sql.Tx, int64, string) (int, error) { return 0, nil }

// pageCost is what the browser reports about one page load.
type pageCost struct {
	HTML      int     `json:"html"`      // decoded bytes of the document
	CSS       int     `json:"css"`       // decoded bytes of stylesheets
	Transfer  int     `json:"transfer"`  // bytes over the wire incl. headers
	Resources int     `json:"resources"` // requests besides the document
	DCL       float64 `json:"dcl"`       // ms to DOMContentLoaded
	Load      float64 `json:"load"`      // ms to the load event
	FCP       float64 `json:"fcp"`       // ms to first contentful paint
}

const measureJS = `(() => {
	const nav = performance.getEntriesByType("navigation")[0];
	const res = performance.getEntriesByType("resource");
	const fcp = performance.getEntriesByName("first-contentful-paint")[0];
	let css = 0, tr = nav.transferSize;
	for (const r of res) { tr += r.transferSize; if (r.initiatorType === "link" || r.name.endsWith(".css")) css += r.decodedBodySize; }
	return {html: nav.decodedBodySize, css: css, transfer: tr, resources: res.length,
		dcl: nav.domContentLoadedEventEnd - nav.startTime, load: nav.loadEventEnd - nav.startTime, fcp: fcp ? fcp.startTime : -1};
})()`

func TestBrowserSurveyPhone(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, _ := h01(t, s)
	box := &linkBox{}
	s.App.Survey.SetHooks(survey.Hooks{Outbox: box})
	if err := s.App.Survey.SaveSettings(ctx, systemPrincipal(), survey.Settings{InstitutionID: inst, ServicePhone: "0571-88886666",
		LinkDays: 14, RemindAfterDays: 3, MaxReminders: 2, InviteKey: "inpatient_satisfaction"}); err != nil {
		t.Fatal(err)
	}
	// An open level-3 task of H01 becomes a survey by SMS, due today.
	var task int64
	err := s.App.DB.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT t.id FROM followup_tasks t JOIN patients p ON p.id = t.patient_id
			WHERE t.institution_id = $1 AND t.step_key = 'L3' AND t.status = 'open' AND p.do_not_contact = $2 AND p.phones_enc <> ''
			AND NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.task_id = t.id) ORDER BY t.id LIMIT 1`, inst, false).Scan(&task)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE followup_tasks SET channel = 'sms', next_date = '2026-09-30' WHERE id = $1`, task)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Survey.InviteDue(ctx); err != nil {
		t.Fatal(err)
	}
	box.mu.Lock()
	if len(box.links) == 0 {
		box.mu.Unlock()
		t.Fatal("no invitation was sent")
	}
	link := box.links[0]
	box.mu.Unlock()
	path := link[strings.Index(link, "/s/"):]

	b := newBrowser(t, s)
	ph := b.session(t)
	ph.do(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if st := ph.open(path); st != http.StatusOK {
		t.Fatalf("open %s = %d", path, st)
	}
	cost := run(ph, "measure the page", chromedp.Evaluate[pageCost](measureJS))
	ph.wantText("示范市第一人民医院", "住院患者满意度调查", "您好！", "第 1 / 5 页", "保存，下一页", "0571-88886666")
	ph.wantNoUntranslated()
	ph.wantFits(390)
	ph.shot("40-survey-phone-first.png")
	pick := func(link, code string) {
		t.Helper()
		ph.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`label:has(> input[name="a.%s"][value="%s"]) > span`, link, code))))
		if !ph.eval(fmt.Sprintf(`document.querySelector('input[name="a.%s"][value="%s"]').checked`, link, code)).(bool) {
			t.Fatalf("tapping %s=%s did not choose it", link, code)
		}
	}
	next := func(wantPage string) {
		t.Helper()
		if st := ph.clickNav(`button.sv-next`); st != http.StatusOK {
			t.Fatalf("save = %d", st)
		}
		ph.wantText(wantPage)
	}
	// Page 1 without an answer: the problems are marked, nothing is lost.
	pick("effect", "improved")
	if st := ph.clickNav(`button.sv-next`); st != http.StatusUnprocessableEntity {
		t.Fatalf("incomplete page = %d, want 422", st)
	}
	ph.wantText("还有题目需要补充", "请回答这道题。")
	if !ph.exists(`input[name="a.effect"][value="improved"]:checked`) {
		t.Fatal("the answer given was lost")
	}
	ph.shot("41-survey-phone-missing.png")
	pick("medication", "yes")
	pick("revisit", "yes")
	next("第 2 / 5 页")
	for _, l := range []string{"doctors", "nurses", "medtech"} {
		pick(l, "satisfied")
	}
	next("第 3 / 5 页")
	for _, l := range []string{"environment", "fees", "process"} {
		pick(l, "satisfied")
	}
	pick("meals", "basically")
	next("第 4 / 5 页")
	pick("ethics", "satisfied")
	pick("gift", "no")
	next("第 5 / 5 页")
	last := run(ph, "measure the last page", chromedp.Evaluate[pageCost](measureJS))
	pick("overall", "dissatisfied")
	pick("nps", "4")
	ph.fill(`textarea[name="a.opinions"]`, "希望出院手续更快一些")
	// 不满意 reveals "why" on the same page before the survey can end.
	next("本页新增了题目")
	ph.fill(`textarea[name="a.overall_why"]`, "出院结算排队两个小时")
	ph.shot("42-survey-phone-last.png")
	if st := ph.clickNav(`button.sv-next`); st != http.StatusOK {
		t.Fatalf("submit = %d", st)
	}
	ph.wantText("感谢您的反馈！", "0571-88886666")
	ph.wantFits(390)
	ph.shot("43-survey-phone-thanks.png")

	// The answer is in the follow-up record.
	recs, err := s.App.Followup.TaskRecords(ctx, systemPrincipal(), task)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records of task %d: %v %v", task, recs, err)
	}
	r := recs[0]
	if r.Satisfaction != followup.Dissatisfied || r.NPS != 4 || r.Channel != "sms" || r.TreatmentEffect != "improved" ||
		!strings.Contains(r.Opinions, "排队两个小时") || !strings.Contains(r.Opinions, "出院手续") {
		t.Fatalf("record = %+v", r)
	}
	// The link cannot be used again: a kind page.
	if st := ph.open(path); st != http.StatusOK {
		t.Fatalf("reused link = %d", st)
	}
	ph.wantText("您已完成这份问卷")
	if st := ph.open(path[:len(path)-4] + "zzzz"); st != http.StatusNotFound {
		t.Fatalf("tampered link = %d", st)
	}
	ph.wantText("链接无法打开")
	ph.shot("44-survey-phone-invalid.png")

	t.Logf("patient page: html %d B + css %d B = %d B decoded, %d B transferred, %d sub-requests; DOMContentLoaded %.1f ms, load %.1f ms, first paint %.1f ms",
		cost.HTML, cost.CSS, cost.HTML+cost.CSS, cost.Transfer, cost.Resources, cost.DCL, cost.Load, cost.FCP)
	t.Logf("last page (11-point scale, texts): html %d B + css %d B = %d B decoded (stylesheet cached); DOMContentLoaded %.1f ms, load %.1f ms",
		last.HTML, last.CSS, last.HTML+last.CSS, last.DCL, last.Load)
	for _, c := range []pageCost{cost, last} {
		if c.HTML+c.CSS > 50<<10 || c.Transfer > 50<<10 {
			t.Errorf("patient page weighs %d B decoded / %d B transferred, budget 50 KB", c.HTML+c.CSS, c.Transfer)
		}
	}
	if cost.Resources != 1 {
		t.Errorf("patient page loads %d resources besides itself, want only its stylesheet", cost.Resources)
	}
	if b, err := json.MarshalIndent(map[string]pageCost{"first": cost, "last": last}, "", "  "); err == nil {
		os.WriteFile(filepath.Join(artifacts(t), "survey-page-cost.json"), b, 0o644)
	}
}

// TestBrowserSurveyStaff: the quality office looks at the questionnaires,
// the demo results with their charts, and starts a new version in the
// designer, at 1366×768 and on a phone.
func TestBrowserSurveyStaff(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)
	q := b.loggedIn(t, "quality")
	if st := q.open("/surveys"); st != http.StatusOK {
		t.Fatalf("/surveys = %d", st)
	}
	q.wantText("住院患者满意度调查", "门诊患者满意度调查", "投诉整改回访", "新建问卷", "导入 FHIR 问卷")
	q.wantNoUntranslated()
	q.wantFits(1366)
	q.shot("45-surveys-list.png")
	if st := q.clickNav(`a[href^="/surveys/"] strong`); st != http.StatusOK {
		t.Fatalf("open questionnaire = %d", st)
	}
	q.wantText("医德医风", "版本", "导出 FHIR")
	q.shot("46-survey-detail.png")
	if st := q.clickNav(`.toolbar a.btn.primary[href$="/results"]`); st != http.StatusOK {
		t.Fatalf("results = %d", st)
	}
	q.wantText("应答率", "满意率", "NPS", "各渠道应答率", "总体满意度分布", "各题得分", "文字意见", "提醒未答患者")
	if !q.exists("svg.chart rect.chart-bar") {
		t.Fatal("the results page draws no bars")
	}
	rate := q.text(".stats > div:nth-child(3) .big")
	if rate == "—" || rate == "0%" {
		t.Fatalf("demo response rate %q", rate)
	}
	q.wantNoUntranslated()
	q.wantFits(1366)
	q.shot("47-survey-results.png")
	// The designer: a new draft from the published version.
	q.open("/surveys")
	q.clickNav(`a[href^="/surveys/"] strong`)
	if st := q.clickNav(`form[action$="/versions"] button`); st != http.StatusOK {
		t.Fatalf("new version = %d", st)
	}
	q.wantText("设计问卷", "分页标题", "显示条件", "新题目", "保存并发布")
	q.wantNoUntranslated()
	q.wantFits(1366)
	q.shot("48-survey-designer.png")
	top := run(q, "designer viewport", chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(artifacts(t), "48b-survey-designer-top.png"), top, 0o644); err != nil {
		t.Fatal(err)
	}
	// Results on a phone.
	ph := b.loggedInPhone(t, "quality")
	ph.open("/surveys")
	ph.clickNav(`a[href^="/surveys/"] strong`)
	ph.clickNav(`.toolbar a.btn.primary[href$="/results"]`)
	ph.wantFits(390)
	ph.shot("49-survey-results-phone.png")
}
