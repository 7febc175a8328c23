package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/followup"
)

var patientLinkRE = regexp.MustCompile(`href="/patients/(\d+)"`)

func TestPatientAndRecordPages(t *testing.T) {
	e := newFollowupEnv(t)
	admin := e.login("admin", adminPW)
	agent := e.login("agent", adminPW)
	nurse := e.login("nurse", adminPW)
	res := admin.uploadFile("/imports", [][2]string{{"institution", fmt.Sprint(e.h1)}}, "discharges.csv", []byte(dischargeCSV))
	want(t, res, 200, "导入完成。")

	var lijg string // 李建国's patient page
	t.Run("search", func(t *testing.T) {
		want(t, agent.get("/patients"), 200, "患者档案", "输入姓名、病案号、住院号、手机号或身份证号查找患者", `name="q"`)
		r := agent.get("/patients?q=" + url.QueryEscape("13800138000"))
		want(t, r, 200, "李*国", "2026000123", "138****8000", "110***********1232", "2026-10-08", "心血管内科")
		wantNot(t, r, "李建国", "110105195803121232", "王*")
		m := patientLinkRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatal("no patient link in the result")
		}
		lijg = "/patients/" + m[1]
		want(t, agent.get("/patients?q="+url.QueryEscape("王")), 200, "王*", "2026000456")
		want(t, agent.get("/patients?q="+url.QueryEscape("310104196711052466")), 200, "王*")
		want(t, agent.get("/patients?q=ZY202610080001"), 200, "李*国")
		want(t, agent.get("/patients?q="+url.QueryEscape("不存在的人")), 200, "没有找到与“不存在的人”匹配的患者")
		r = agent.get("/patients?q=" + strings.Repeat("x", 80))
		want(t, r, 422, "查找内容过长", `aria-invalid="true"`)
		// The W05 nurse finds the patient of her ward, not 王芳 of W12.
		want(t, nurse.get("/patients?q=2026000"), 200, "李*国")
		wantNot(t, nurse.get("/patients?q=2026000"), "王*")
		want(t, nurse.get("/patients?q="+url.QueryEscape("13900139000")), 200, "没有找到")
		// The navigation links the search.
		want(t, nurse.get("/followup"), 200, `href="/patients"`, `href="/followup/records"`)
	})

	t.Run("patient page and reveal", func(t *testing.T) {
		r := agent.get(lijg)
		want(t, r, 200, "李*国", "基本信息", "138****8000", "110***********1232", "ZY202610080001", "I21.0", "急性前壁心肌梗死",
			"好转", "随访任务", "一级随访", "标记为勿扰", "登记为已故", `name="field" value="national_id"`)
		wantNot(t, r, "李建国", "13800138000", "110105195803121232")
		r = agent.post(lijg+"/reveal", url.Values{"field": {"national_id"}})
		want(t, r, 200, "110105195803121232", "已记录本次查看")
		wantNot(t, r, "13800138000")
		list, err := e.audit.List(context.Background(), access.System(), audit.Filter{Action: "patient.reveal"})
		if err != nil || len(list) != 1 || list[0].Detail != "field=national_id" {
			t.Errorf("reveal audit: %v %+v", err, list)
		}
		want(t, agent.post(lijg+"/reveal", url.Values{"field": {"employer"}}), 400)
		// 王芳 is outside the W05 nurse's scope.
		wang := agent.get("/patients?q=" + url.QueryEscape("王"))
		m := patientLinkRE.FindStringSubmatch(wang.body)
		want(t, nurse.get("/patients/"+m[1]), 403)
		want(t, nurse.post("/patients/"+m[1]+"/reveal", url.Values{"field": {"phone"}}), 403)
		want(t, agent.get("/patients/999999"), 404)
		// The worklist and the task page link the patient page.
		want(t, agent.get("/followup?tab=overdue"), 200, `href="`+lijg+`"`)
		tk := e.findTask("ZY202610080001", "L1")
		want(t, agent.get(fmt.Sprintf("/followup/tasks/%d", tk.ID)), 200, `href="`+lijg+`"`, "患者档案")
	})

	t.Run("record browser and amendment", func(t *testing.T) {
		want(t, agent.get("/followup/records"), 200, "还没有随访记录")
		tk := e.findTask("ZY202610080001", "L1")
		r := agent.post(fmt.Sprintf("/followup/tasks/%d/record", tk.ID), url.Values{"treatment_effect": {"improved"},
			"satisfaction": {"satisfied"}, "medication_guidance": {"阿司匹林 100mg 每日一次"}, "revisit_advice": {"两周后复诊"},
			"nps": {"9"}, "channel": {"phone"}})
		want(t, r, 200, "已记录：SF-H1-20261009-0001")
		r = agent.get("/followup/records")
		want(t, r, 200, "SF-H1-20261009-0001", "李*国", "满意", "好转", "赵随访")
		wantNot(t, r, "李建国")
		want(t, agent.get("/followup/records?satisfaction=dissatisfied"), 200, "没有符合筛选条件的记录")
		want(t, agent.get("/followup/records?from=2026-10-09&to=2026-10-09&level=1&number=SF-H1"), 200, "SF-H1-20261009-0001")
		want(t, agent.get("/followup/records?from=10/09/2026"), 422, "请输入有效日期", `id="from" name="from" type="date" value="10/09/2026" aria-invalid="true"`)
		want(t, agent.get("/followup/records?from=2026-10-09&to=2026-10-01"), 422, "结束日期早于开始日期")
		want(t, nurse.get(fmt.Sprintf("/followup/records?dept=%d", e.cardio+100)), 403)

		recs, err := e.fu.TaskRecords(context.Background(), access.System(), tk.ID)
		if err != nil || len(recs) != 1 {
			t.Fatalf("records %v %v", recs, err)
		}
		page := fmt.Sprintf("/followup/records/%d", recs[0].ID)
		r = agent.get(page)
		want(t, r, 200, "SF-H1-20261009-0001", "第 1 条，共 1 条", "（链的第一条）", recs[0].Hash, "原始记录", "更正记录",
			`name="amend_reason"`, "阿司匹林 100mg 每日一次", `value="improved" checked`, `value="9" checked`)
		// The W05 nurse sees the record but did not write it.
		r = nurse.get(page)
		want(t, r, 200, "只有记录人、科主任或质控可以更正")
		wantNot(t, r, `name="amend_reason"`)
		want(t, nurse.post(page+"/amend", url.Values{"treatment_effect": {"good"}, "satisfaction": {"satisfied"},
			"medication_guidance": {"x"}, "revisit_advice": {"x"}, "amend_reason": {"x"}}), 403)

		form := url.Values{"treatment_effect": {"improved"}, "satisfaction": {"basically"}, "medication_guidance": {"阿司匹林 100mg 每晚一次"},
			"revisit_advice": {"两周后复诊"}, "nps": {"7"}, "channel": {"phone"}, "amend_reason": {" "}}
		r = agent.post(page+"/amend", form)
		want(t, r, 422, "请填写更正原因", `aria-invalid="true"`, "阿司匹林 100mg 每晚一次", `value="basically" checked`)
		form.Set("amend_reason", "服药时间记录有误")
		r = agent.post(page+"/amend", form)
		want(t, r, 200, "已保存更正：SF-H1-20261009-0002", "更正", "服药时间记录有误", "第 2 条，共 2 条", "SF-H1-20261009-0001")
		// The original is kept as it was and now points to its correction.
		r = agent.get(page)
		want(t, r, 200, "这一版本已被更正", "阿司匹林 100mg 每日一次", "查看最新版本")
		wantNot(t, r, `name="amend_reason"`)
		want(t, agent.post(page+"/amend", form), 422, "这条记录已被更正过")
		want(t, agent.get("/followup/records"), 200, "已被更正", "SF-H1-20261009-0002")
		if res, err := e.fu.VerifyRecords(context.Background()); err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != 2 {
			t.Errorf("verify: %v %+v", err, res)
		}
		// The patient page lists both.
		want(t, agent.get(lijg), 200, "SF-H1-20261009-0001", "SF-H1-20261009-0002")
	})

	t.Run("do not contact and deceased", func(t *testing.T) {
		r := nurse.post(lijg+"/dnc", url.Values{"reason": {""}})
		want(t, r, 422, "请填写原因", `id="dnc-reason" name="reason" rows="2" maxlength="500" required aria-invalid="true"`)
		r = nurse.post(lijg+"/dnc", url.Values{"reason": {"患者来信要求不再随访"}})
		want(t, r, 200, "已标记为勿扰，关闭了", "患者来信要求不再随访")
		want(t, agent.get(lijg), 200, "患者要求勿扰", "解除勿扰")
		// The nurse may not lift it; the page says who may.
		want(t, r, 200, "只有客服中心、质控或科主任可以解除勿扰")
		want(t, nurse.post(lijg+"/dnc/clear", url.Values{"reason": {"x"}}), 403)
		tk := e.findTask("ZY202610080001", "L3")
		if tk.Status != followup.Cancelled || tk.CloseReason != "do_not_contact" {
			t.Errorf("L3 after DNC: %s %q", tk.Status, tk.CloseReason)
		}
		r = agent.post(lijg+"/dnc/clear", url.Values{"reason": {"患者来电同意继续随访"}})
		want(t, r, 200, "已解除勿扰", "标记为勿扰")
		r = agent.post(lijg+"/deceased", url.Values{"reason": {"家属来电告知"}})
		want(t, r, 200, "已登记为已故，关闭了 0 项随访", "已故")
		wantNot(t, r, `id="deceased-form"`)
	})

	t.Run("english", func(t *testing.T) {
		en := e.login("agent", adminPW)
		en.post("/lang", url.Values{"lang": {"en"}, "back": {"/"}})
		want(t, en.get("/patients?q=2026000123"), 200, "Patients", "Last discharge")
		want(t, en.get(lijg), 200, "Demographics", "Hospital stays", "Do not contact · deceased")
		want(t, en.get("/followup/records"), 200, "Follow-up records", "Recorded by")
	})
}
