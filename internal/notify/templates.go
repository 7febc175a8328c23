package notify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Template is the text of one message kind on one channel. The built-in
// templates below are the defaults; an institution may override the
// subject, body and SMS template code, but never the placeholders a
// template may use (Params), which are fixed here so that no override can
// pull a diagnosis or department into a message.
type Template struct {
	Key     string
	Channel string
	Subject string // e-mail only
	Body    string
	// SMSCode is the template code registered with the SMS cloud; SMS
	// clouds send only pre-approved templates, filled with ordered params.
	SMSCode string
	// Params are the placeholders the template may use, in the order an SMS
	// cloud expects them.
	Params []string
	// Patient marks a template addressed to patients (quiet hours apply).
	Patient bool
	// Custom is set when the institution has overridden the default.
	Custom bool
}

// Sample parameters for previews and the guard check on save. They are
// plausible and clean, so a template that fails with them is itself wrong.
var sampleParams = map[string]string{
	"name":     "张先生",
	"hospital": "示范市第一人民医院",
	"link":     "https://sf.example.cn/s/Ab3dE",
	"deadline": "10月8日",
	"days":     "5",
	"number":   "TS-20261001-0001",
	"date":     "2026年10月12日",
	"time":     "09:30",
	"dept":     "心血管内科",
	"phone":    "0571-88880000",
	"title":    "出院宣教",
	"patient":  "张*明",
	"hours":    "48",
	"count":    "3",
	"code":     "382915",
	"user":     "孙专员（agency）",
	"window":   "1小时",
}

// SampleParams returns the preview values of a template's placeholders.
func SampleParams(t *Template) map[string]string {
	out := map[string]string{}
	for _, p := range t.Params {
		out[p] = sampleParams[p]
	}
	return out
}

func tpl(key, ch, code, body string, patient bool, params ...string) *Template {
	return &Template{Key: key, Channel: ch, SMSCode: code, Body: body, Patient: patient, Params: params}
}

func email(key, subject, body string, patient bool, params ...string) *Template {
	return &Template{Key: key, Channel: Email, Subject: subject, Body: body, Patient: patient, Params: params}
}

// defaults are the built-in templates. Patient texts name the hospital and
// the person only; staff texts point to the case in Suifang rather than
// carry its content, because e-mail leaves the server too.
var defaults = []*Template{
	// Survey messages carry exactly what the survey room sends: the
	// greeting, the hospital, the personal link and the service phone.
	tpl("survey.invite", SMS, "SF_SURVEY_INVITE", "【{hospital}】{name}您好，感谢您选择我院。请花3分钟填写出院随访问卷：{link} 如有疑问请致电{phone}。回T退订", true, "hospital", "name", "link", "phone"),
	tpl("survey.invite", WeChat, "", "{name}您好，{hospital}邀请您填写出院随访问卷，约3分钟。点击进入：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),
	email("survey.invite", "{hospital}出院随访问卷", "{name}您好：\n\n感谢您选择{hospital}。请花3分钟填写出院随访问卷，您的意见将帮助我们改进服务：\n{link}\n\n如有疑问请致电{phone}。此邮件由系统发送，请勿回复。", true, "name", "hospital", "link", "phone"),
	tpl("survey.invite", Webhook, "SF_SURVEY_INVITE", "{name}您好，{hospital}邀请您填写出院随访问卷：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),

	tpl("survey.remind", SMS, "SF_SURVEY_REMIND", "【{hospital}】{name}您好，您的出院随访问卷尚未填写：{link} 如有疑问请致电{phone}。回T退订", true, "hospital", "name", "link", "phone"),
	tpl("survey.remind", WeChat, "", "{name}您好，您在{hospital}的出院随访问卷尚未填写。点击进入：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),
	email("survey.remind", "提醒：{hospital}出院随访问卷", "{name}您好：\n\n您的出院随访问卷尚未填写：\n{link}\n\n如有疑问请致电{phone}。此邮件由系统发送，请勿回复。", true, "name", "hospital", "link", "phone"),
	tpl("survey.remind", Webhook, "SF_SURVEY_REMIND", "{name}您好，您在{hospital}的出院随访问卷尚未填写：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),

	// 抄告单 (notices) are staff business: in-app and e-mail only, naming
	// the notice number alone — not even the department, which may be a
	// sensitive specialty the guard refuses.
	tpl("notice.issued", InApp, "", "抄告单 {number} 已下发至贵科室，请于{deadline}前完成整改并提交。", false, "number", "deadline", "link"),
	email("notice.issued", "抄告单 {number} 待整改", "您好：\n\n抄告单 {number} 已下发至贵科室，请于{deadline}前完成整改并提交。请登录随访系统查看：\n{link}\n", false, "number", "deadline", "link"),
	tpl("notice.escalate", InApp, "", "抄告单 {number} 已超过整改期限{deadline}，已升级给您督办。", false, "number", "deadline", "link"),
	email("notice.escalate", "抄告单超期督办：{number}", "您好：\n\n抄告单 {number} 已超过整改期限{deadline}，已升级给您督办。请登录随访系统查看：\n{link}\n", false, "number", "deadline", "link"),
	tpl("notice.returned", InApp, "", "抄告单 {number} 的整改被退回，请于{deadline}前重新提交。", false, "number", "deadline", "link"),
	// No rule found a department: the quality office holds the notice
	// and an administrator is asked to place it.
	tpl("notice.unrouted", InApp, "", "抄告单 {number} 未能按规则找到责任科室，已暂交质控科，请核对患者的科室或分派规则后改派。", false, "number", "deadline", "link"),

	// The recovery survey goes to the patient after the rectification.
	tpl("notice.recovery_survey", SMS, "SF_NOTICE_RECOVERY", "【{hospital}】{name}您好，我院已就您反映的问题进行改进，想听听您的评价，请花1分钟填写：{link} 如有疑问请致电{phone}。回T退订", true, "hospital", "name", "link", "phone"),
	tpl("notice.recovery_survey", WeChat, "", "{name}您好，{hospital}已就您反映的问题进行改进，想听听您的评价，请点击填写：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),
	email("notice.recovery_survey", "{hospital}整改回访", "{name}您好：\n\n我院已就您反映的问题进行改进，想听听您的评价，请花1分钟填写：\n{link}\n\n如有疑问请致电{phone}。此邮件由系统发送，请勿回复。", true, "name", "hospital", "link", "phone"),
	tpl("notice.recovery_survey", Webhook, "SF_NOTICE_RECOVERY", "{name}您好，{hospital}已就您反映的问题进行改进，想听听您的评价：{link} 如有疑问请致电{phone}", true, "name", "hospital", "link", "phone"),

	// The receipt carries the tracking code and fixed wording only: the
	// complainant's name is typed by whoever filed (on the public page, an
	// anonymous stranger), so no free text from a form reaches a phone. A
	// public complaint's receipt waits until the number is verified.
	tpl("complaint.received", SMS, "SF_COMPLAINT_RECEIPT", "【{hospital}】您好，我们已收到您的意见（查询码{number}），将在{days}个工作日内答复。", true, "hospital", "number", "days"),
	tpl("complaint.received", WeChat, "", "您好，{hospital}已收到您的意见（查询码{number}），将在{days}个工作日内答复。", true, "hospital", "number", "days"),
	email("complaint.received", "{hospital}已收到您的意见", "您好：\n\n我们已收到您的意见，查询码{number}，将在{days}个工作日内答复您。\n\n此邮件由系统发送，请勿回复。", true, "hospital", "number", "days"),
	tpl("complaint.received", Webhook, "SF_COMPLAINT_RECEIPT", "您好，{hospital}已收到您的意见（查询码{number}），将在{days}个工作日内答复。", true, "hospital", "number", "days"),

	// The code that proves a member of the public holds the number they
	// typed: fixed wording, the hospital's own name and the code.
	tpl("verify.code", SMS, "SF_VERIFY_CODE", "【{hospital}】您的验证码为{code}，10分钟内有效。如非本人操作，请忽略本短信。", false, "hospital", "code"),

	tpl("complaint.major", InApp, "", "重大投诉 {number} 已登记，请立即关注。", false, "number", "link"),
	tpl("complaint.assigned", InApp, "", "投诉 {number} 已交由您处理，请查看。", false, "number", "link"),
	tpl("complaint.escalate", InApp, "", "投诉 {number} 已到{deadline}仍未办结，已升级给您处理。", false, "number", "deadline", "link"),
	email("complaint.escalate", "投诉升级：{number}", "您好：\n\n投诉 {number} 已到{deadline}仍未办结，已升级给您处理。请登录随访系统查看：\n{link}\n", false, "number", "deadline", "link"),
	tpl("complaint.team", InApp, "", "您已加入投诉 {number} 的调查组，请查看。", false, "number", "link"),
	tpl("complaint.task", InApp, "", "投诉 {number} 有一项调查任务分配给您，请查看。", false, "number", "link"),

	// 异常上报 go to leadership and quality at once. In-app names the report
	// number; the SMS names nothing, so a staff phone shows no case at all.
	tpl("abnormal.raised", InApp, "", "异常上报 {number} 已提交，请立即认领处理。", false, "number", "link"),
	tpl("abnormal.raised", SMS, "SF_ABNORMAL_RAISED", "【随访】有一条新的异常上报需要您立即处理，请登录随访系统查看。", false),
	tpl("abnormal.realert", InApp, "", "异常上报 {number} 提交已超过2个服务小时仍无人认领，请立即处理。", false, "number", "link"),
	tpl("abnormal.realert", SMS, "SF_ABNORMAL_REALERT", "【随访】一条异常上报已超过2个服务小时无人认领，请立即登录随访系统处理。", false),

	tpl("appointment.remind", SMS, "SF_APPT_REMIND", "【{hospital}】{name}您好，提醒您{date} {time}到{dept}复诊，如需改约请致电{phone}。回T退订", true, "hospital", "name", "date", "time", "dept", "phone"),
	tpl("appointment.remind", WeChat, "", "{name}您好，提醒您{date} {time}到{hospital}{dept}复诊，如需改约请致电{phone}。", true, "name", "date", "time", "hospital", "dept", "phone"),
	tpl("appointment.remind", Webhook, "SF_APPT_REMIND", "{name}您好，提醒您{date} {time}到{hospital}{dept}复诊，如需改约请致电{phone}。", true, "name", "date", "time", "hospital", "dept", "phone"),

	tpl("followup.assigned", InApp, "", "有{count}条随访任务分配给您。", false, "count", "link"),

	// A user over the reveal cap: the user and the count, never a patient.
	tpl("patient.reveal_limit", InApp, "", "用户 {user} 在{window}内查看患者完整信息已达{count}次，超出上限，其后的查看已被拒绝，请核查。", false, "user", "count", "window"),
}

// Defaults returns a copy of every built-in template, in a stable order.
func Defaults() []*Template {
	out := make([]*Template, len(defaults))
	for i, t := range defaults {
		c := *t
		c.Params = slices.Clone(t.Params)
		out[i] = &c
	}
	return out
}

// Default returns the built-in template for key on channel.
func Default(key, channel string) (*Template, bool) {
	for _, t := range defaults {
		if t.Key == key && t.Channel == channel {
			c := *t
			c.Params = slices.Clone(t.Params)
			return &c, true
		}
	}
	return nil, false
}

// Channels lists every channel in display order.
func Channels() []string { return []string{SMS, WeChat, Email, Webhook, InApp} }

var smsCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkOverride validates an institution's edit of template t: the texts
// parse, use only t's placeholders, and an SMS keeps a template code.
func checkOverride(t *Template) map[string]string {
	bad := map[string]string{}
	allowed := func(field, src string) {
		x, err := ParseText(src)
		if err != nil {
			bad[field] = err.Error()
			return
		}
		for _, n := range x.Names() {
			if !slices.Contains(t.Params, n) {
				bad[field] = fmt.Sprintf("placeholder {%s} is not allowed here; allowed: %s", n, braces(t.Params))
				return
			}
		}
	}
	if strings.TrimSpace(t.Body) == "" {
		bad["body"] = "the text is empty"
	} else {
		allowed("body", t.Body)
	}
	if t.Channel == Email {
		if strings.TrimSpace(t.Subject) == "" {
			bad["subject"] = "an e-mail needs a subject"
		} else if strings.ContainsAny(t.Subject, "\r\n") {
			bad["subject"] = "the subject must be one line"
		} else {
			allowed("subject", t.Subject)
		}
	}
	if t.Channel == SMS && !smsCodeRE.MatchString(t.SMSCode) {
		bad["sms_code"] = "an SMS template needs the code registered with the SMS provider (letters, digits, _ and -)"
	}
	return bad
}

func braces(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, " ")
}
