package web

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// An ADT feed with an outpatient A03, a pre-admission and a stay whose only
// phone is "7777": the report counts the visits and lists the warning
// apart from the rejects, masked; the stay's task says it has no usable
// phone.
func TestImportReportVisitsAndWarnings(t *testing.T) {
	e := newFollowupEnv(t)
	admin := e.login("admin", adminPW)
	feed, err := os.ReadFile(filepath.Join("..", "intake", "testdata", "hl7", "adt-patient-classes.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	res := admin.uploadFile("/imports", [][2]string{{"institution", fmt.Sprint(e.h1)}}, "adt-patient-classes.hl7", feed)
	want(t, res, 200, "导入报告",
		`<span class="big">2</span><span class="muted">门急诊等就诊（不生成随访）</span>`,
		`<span class="big">1</span><span class="muted">警告</span>`,
		"警告（已导入，但有内容被舍弃）", "PID-14", "<code>**77</code>", "未导入的行", "A05")
	wantNot(t, res, "7777")
	want(t, admin.get("/imports"), 200, `<th class="num">警告</th>`, "adt-patient-classes.hl7")

	task := e.findTask("ZY20260914000302", "FIRST")
	want(t, admin.get(fmt.Sprintf("/followup/tasks/%d", task.ID)), 200, "无可用电话")
	// The outpatient visit is in the patient's record, marked as such.
	found := admin.get("/patients?q=M0098765")
	link := regexp.MustCompile(`href="(/patients/\d+)"`).FindStringSubmatch(found.body)
	if link == nil {
		t.Fatalf("patient M0098765 not found:\n%s", found.body)
	}
	want(t, admin.get(link[1]), 200, "MZ20260925000117", `<span class="pill" title="非住院就诊：不生成出院随访计划">门诊</span>`)
	en := e.login("admin", adminPW)
	en.post("/lang", url.Values{"lang": {"en"}, "back": {"/"}})
	want(t, en.get(res.url[strings.Index(res.url, "/imports/"):]), 200, "Visits (no plan)", "Warnings (imported, but a value was dropped)")
}
