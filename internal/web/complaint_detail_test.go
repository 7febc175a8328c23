package web

import (
	"fmt"
	"strings"
	"testing"
)

func detailTestServer(t testing.TB) (*Server, detailNames) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	users := map[int64]string{3: "刘医生", 5: "质控王", 7: "院长甲"}
	depts := map[int64]string{12: "心血管内科", 14: "骨科"}
	name := func(m map[int64]string) func(int64) string {
		return func(id int64) string {
			if v, ok := m[id]; ok {
				return v
			}
			return fmt.Sprintf("#%d", id)
		}
	}
	return &Server{cat: cat}, detailNames{user: name(users), dept: name(depts),
		cat: func(c string) string {
			return map[string]string{"service_attitude": "服务态度", "parking": "停车难"}[c]
		}}
}

// The details the complaint service writes read as Chinese on the sheet.
func TestEventDetail(t *testing.T) {
	s, n := detailTestServer(t)
	for in, want := range map[string]string{
		"channel=counter category=service_attitude severity=general complexity=simple department=12 owner=3 record=0\nidempotency_key=k-1 input=ab12": "投诉途径：窗口/现场；类别：服务态度；严重程度：一般；复杂程度：简单；责任科室：心血管内科；负责人：刘医生",
		"category=parking severity=serious complexity=complex departments=12,14\n家属情绪激动":                                                              "类别：停车难；严重程度：较重；复杂程度：复杂；涉及科室：心血管内科、骨科\n家属情绪激动",
		"owner 3 → 5\n负责人休假":                                                  "负责人：刘医生 → 质控王\n负责人休假",
		"how=phone\n电话告知家属":                                                   "反馈方式：电话\n电话告知家属",
		"reason=third_party\n等待医学会鉴定":                                         "暂停计时：等待第三方\n等待医学会鉴定",
		"plan=解释并致歉 a=b\ncompensation=退还检查费 200 元":                            "处理方案：解释并致歉 a=b\n赔偿（如有）：退还检查费 200 元",
		"task=4\n已调取监控":                                                       "已调取监控",
		"刘医生 due=2026-12-08 task=4 member=2\n调取监控":                            "刘医生；期限：2026-12-08\n调取监控",
		"milestone=feedback deadline=2026-12-08 level=2 to=quality users=5,7": "节点：反馈投诉人；期限：2026-12-08；升级级别：2；升级至：医务/质控；已通知：质控王、院长甲",
		// A note a person wrote with an equals sign stays as written.
		"血压=180/110 请复查": "血压=180/110 请复查",
	} {
		if got := s.eventDetail("zh-CN", n, in); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
}

// FuzzEventDetail: any stored detail renders without panicking, keeps
// every line a person wrote (one with no key=value token), and never
// shows the idempotency line.
func FuzzEventDetail(f *testing.F) {
	for _, s := range []string{"channel=counter owner=3 department=12", "owner 3 → 5\nx", "task=1\n结果", "users=1,,2", "owner=-1",
		"departments=1,a", "=", "plan=", "idempotency_key=x input=y", "open_tasks=2 confirmed", "a b=c"} {
		f.Add(s)
	}
	s, n := detailTestServer(f)
	f.Fuzz(func(t *testing.T, in string) {
		out := s.eventDetail("zh-CN", n, in)
		if strings.Contains(out, "idempotency_key=") && !strings.Contains(in, "idempotency_key=idempotency_key=") {
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "idempotency_key=") {
					t.Fatalf("%q: idempotency line shown: %q", in, out)
				}
			}
		}
		for _, l := range strings.Split(in, "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.Contains(l, "=") && !strings.HasPrefix(l, "owner ") && !strings.Contains(out, l) {
				t.Fatalf("%q: the line %q was lost: %q", in, l, out)
			}
		}
	})
}
