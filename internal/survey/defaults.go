package survey

// Default questionnaires every new institution starts with (issue 4 §1):
// inpatient and outpatient satisfaction, the level-2 and level-3 phone
// scripts with the four elements, and the complaint-recovery survey. They
// are published as version 1 so invitations work from the first day; an
// institution edits them by making a new version.

// Default is one seeded questionnaire.
type Default struct {
	Key, Title, Purpose string
	Body                Body
}

func sat(link, text, topic string) Item {
	return Item{LinkID: link, Text: text, Type: Satisfaction, Required: true, Weight: 5, Topic: topic}
}

func effectItem(link string) Item {
	return Item{LinkID: link, Text: "您出院后身体恢复得怎么样？", Type: Choice, Required: true, Element: "treatment_effect",
		Options: []Option{{Code: "good", Label: "恢复良好", Score: 3}, {Code: "improved", Label: "有所好转", Score: 2},
			{Code: "unchanged", Label: "没有变化", Score: 1}, {Code: "worse", Label: "加重了", Score: 0, Negative: true}}}
}

func opinionsItem(link string) Item {
	return Item{LinkID: link, Text: "您对我们还有什么意见或建议？", Type: Text, Element: "opinions"}
}

func npsItem(link string) Item {
	return Item{LinkID: link, Text: "您有多大可能向亲友推荐我院？（0 最不可能，10 最可能）", Type: NPS, Element: "nps"}
}

// Defaults returns the default questionnaires, fresh each call.
func Defaults() []Default {
	return []Default{
		{Key: "inpatient_satisfaction", Title: "住院患者满意度调查", Purpose: "inpatient", Body: Body{
			Intro: "感谢您选择我院。为改进服务，请您花 2 分钟告诉我们您住院期间的感受。您的回答仅用于改进工作。",
			Sections: []Section{
				{Title: "恢复与指导", Items: []Item{
					effectItem("effect"),
					{LinkID: "medication", Text: "出院时医护人员是否告诉您如何用药？", Type: YesNo, Required: true, Element: "medication_guidance",
						Weight: 2, Topic: "doctors"},
					{LinkID: "revisit", Text: "是否告诉您何时回院复诊？", Type: YesNo, Required: true, Element: "revisit_advice",
						Weight: 2, Topic: "doctors"},
				}},
				{Title: "医护服务", Items: []Item{
					sat("doctors", "您对医生的诊疗服务满意吗？", "doctors"),
					sat("nurses", "您对护士的护理服务满意吗？", "nurses"),
					sat("medtech", "您对检查、检验等医技科室的服务满意吗？", "medtech"),
				}},
				{Title: "环境与后勤", Items: []Item{
					sat("environment", "您对病房环境（整洁、安静、安全）满意吗？", "environment"),
					sat("meals", "您对住院期间的饮食服务满意吗？", "meals"),
					sat("fees", "您对收费是否清楚合理满意吗？", "fees"),
					sat("process", "您对入院、出院等办理流程满意吗？", "process"),
				}},
				{Title: "医德医风", Items: []Item{
					sat("ethics", "您对医务人员的医德医风满意吗？", "ethics"),
					{LinkID: "gift", Text: "住院期间是否有医务人员收受红包或暗示送礼？", Type: Choice, Required: true, Topic: "ethics",
						Options: []Option{{Code: "no", Label: "没有"}, {Code: "yes", Label: "有", Negative: true}}},
					{LinkID: "gift_detail", Text: "请简单说明情况（我们将严格保密）", Type: Text, Topic: "ethics", Flag: true,
						When: &Condition{LinkID: "gift", Equals: "yes"}},
				}},
				{Title: "总体评价", Items: []Item{
					{LinkID: "overall", Text: "总的来说，您对这次住院满意吗？", Type: Satisfaction, Required: true, Weight: 10,
						Element: "satisfaction", Topic: "other"},
					{LinkID: "overall_why", Text: "请告诉我们哪里让您不满意", Type: Text, Topic: "other",
						When: &Condition{LinkID: "overall", Equals: Dissatisfied}},
					npsItem("nps"),
					opinionsItem("opinions"),
				}},
			}}},
		{Key: "outpatient_satisfaction", Title: "门诊患者满意度调查", Purpose: "outpatient", Body: Body{
			Intro: "感谢您来我院就诊，请您对本次门诊服务作出评价。",
			Sections: []Section{
				{Title: "就诊体验", Items: []Item{
					{LinkID: "wait", Text: "您对候诊等待时间满意吗？（1 很不满意，5 很满意）", Type: Rating, Required: true, Weight: 2, Topic: "process"},
					sat("doctors", "您对接诊医生的服务满意吗？", "doctors"),
					sat("nurses", "您对导诊、护士的服务满意吗？", "nurses"),
					sat("medtech", "您对检查、检验、取药的服务满意吗？", "medtech"),
					sat("environment", "您对门诊环境和标识满意吗？", "environment"),
					sat("fees", "您对收费和缴费方式满意吗？", "fees"),
				}},
				{Title: "总体评价", Items: []Item{
					{LinkID: "overall", Text: "总的来说，您对本次就诊满意吗？", Type: Satisfaction, Required: true, Weight: 10,
						Element: "satisfaction", Topic: "other"},
					npsItem("nps"),
					opinionsItem("opinions"),
				}},
			}}},
		{Key: "phone_l2", Title: "二级随访话术（主治医生）", Purpose: "phone_l2", Body: Body{
			Intro: "您好，我是您住院时的主治医生，打电话了解一下您出院后的恢复情况。",
			Sections: []Section{{Title: "随访四要素", Items: []Item{
				effectItem("effect"),
				{LinkID: "symptoms", Text: "目前有哪些不适或症状变化？", Type: Text, Topic: "doctors"},
				{LinkID: "medication", Text: "是否按时按量服药？已给予用药指导", Type: YesNo, Required: true, Element: "medication_guidance", Topic: "doctors"},
				{LinkID: "revisit", Text: "已告知复诊时间及病情变化时的处理", Type: YesNo, Required: true, Element: "revisit_advice", Topic: "doctors"},
				{LinkID: "revisit_date", Text: "约定的复诊日期", Type: Date, When: &Condition{LinkID: "revisit", Equals: "yes"}},
				sat("overall", "您对住院期间的医疗服务满意吗？", "other"),
				opinionsItem("opinions"),
			}}}}},
		{Key: "phone_l3", Title: "三级随访话术（客服中心）", Purpose: "phone_l3", Body: Body{
			Intro: "您好，我是医院客户服务中心，向您做一个简短的出院回访。",
			Sections: []Section{{Title: "随访四要素", Items: []Item{
				effectItem("effect"),
				{LinkID: "doctor_called", Text: "出院后主治医生是否给您打过随访电话并给予指导？", Type: YesNo, Required: true, Topic: "doctors"},
				{LinkID: "medication", Text: "是否清楚用药方法？已给予用药指导", Type: YesNo, Required: true, Element: "medication_guidance", Topic: "doctors"},
				{LinkID: "revisit", Text: "已提醒复诊时间", Type: YesNo, Required: true, Element: "revisit_advice", Topic: "process"},
				{LinkID: "overall", Text: "您对这次住院总体满意吗？", Type: Satisfaction, Required: true, Weight: 10, Element: "satisfaction", Topic: "other"},
				npsItem("nps"),
				opinionsItem("opinions"),
			}}}}},
		{Key: "complaint_recovery", Title: "投诉整改回访", Purpose: "recovery", Body: Body{
			Intro: "您此前反映的问题，相关科室已完成处理和整改。请告诉我们您对处理结果的看法。",
			Sections: []Section{{Title: "处理结果", Items: []Item{
				{LinkID: "resolved", Text: "您反映的问题是否已经解决？", Type: YesNo, Required: true, Weight: 5, Topic: "process"},
				{LinkID: "overall", Text: "您对处理结果满意吗？", Type: Satisfaction, Required: true, Weight: 10, Element: "satisfaction", Topic: "process"},
				{LinkID: "attitude", Text: "您对处理人员的态度满意吗？（1 很不满意，5 很满意）", Type: Rating, Required: true, Weight: 2, Topic: "process"},
				opinionsItem("opinions"),
			}}}}},
	}
}
