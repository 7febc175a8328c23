package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"suifang/internal/complaint"
	"suifang/internal/errs"
)

// pngBytes is a PNG signature and header: enough for the sniffer.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 200)...)

var taskIDRE = regexp.MustCompile(`id="task-(\d+)"`)

func TestComplaintTeamPages(t *testing.T) {
	e := newComplaintEnv(t)
	e.file(e.anon(), "13900001234")
	ctx := context.Background()
	q := e.principal("quality")
	list, err := e.sv.Complaints.List(ctx, q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	c := list.Items[0]
	e.clk.Advance(10 * time.Minute)
	for _, in := range []complaint.ActionInput{{Action: complaint.ActAccept},
		{Action: complaint.ActAssess, Category: "service_attitude", Severity: "general", Complexity: "simple"}} {
		if _, err := e.sv.Complaints.Act(ctx, q, c.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	page := "/complaints/" + itoa(c.ID)
	nurse := e.user("nurseb")
	qc := e.login("quality", adminPW)
	nb := e.login("nurseb", adminPW)
	// Before she is on the team the orthopaedic nurse cannot open it.
	want(t, nb.get(page), http.StatusForbidden)
	r := qc.get(page)
	want(t, r, http.StatusOK, `id="investigation"`, "调查组", "尚未组建调查组", `<optgroup label="骨科">`, "骨科护士", "先组建调查组")
	uniqueIDs(t, r.body)

	// A member without a person is refused, the discipline kept.
	r = qc.post(page+"/members", url.Values{"discipline": {"nursing"}})
	want(t, r, http.StatusUnprocessableEntity, `id="member_user" name="member_user" aria-invalid="true"`, `<option value="nursing" selected>`,
		"请选择本院在职人员")
	r = qc.post(page+"/members", url.Values{"member_user": {itoa(nurse.ID)}, "discipline": {"nursing"}})
	want(t, r, http.StatusOK, "骨科护士 已加入调查组", "护理")

	// Tasks: a past due date is refused with the input kept.
	r = qc.get(page)
	memberID := regexp.MustCompile(`<option value="(\d+)" >骨科护士 · 护理</option>`).FindStringSubmatch(r.body)
	if memberID == nil {
		t.Fatalf("no member in the task form\n%s", excerpt(r.body))
	}
	r = qc.post(page+"/tasks", url.Values{"task_member": {memberID[1]}, "task_what": {"调取当晚呼叫铃记录"}, "task_due": {"2026-10-01"}})
	want(t, r, http.StatusUnprocessableEntity, `aria-invalid="true"`, "期限不能早于今天", "调取当晚呼叫铃记录", "<details class=\"ct-add\" open>")
	r = qc.post(page+"/tasks", url.Values{"task_member": {memberID[1]}, "task_what": {"调取当晚呼叫铃记录"}})
	// Tuesday 2026-10-13 + 3 working days = Friday 2026-10-16.
	want(t, r, http.StatusOK, "任务已分配给 骨科护士，期限 2026-10-16", "调取当晚呼叫铃记录", "1 项任务未完成")
	tids := taskIDRE.FindAllStringSubmatch(r.body, -1)
	if len(tids) != 1 {
		t.Fatalf("task ids %v", tids)
	}
	tid := tids[0][1]

	// The nurse sees the complaint now, her task on the list, and no team
	// management.
	r = nb.get("/complaints")
	want(t, r, http.StatusOK, "我的投诉调查任务", c.Number, "调取当晚呼叫铃记录", page+"#task-"+tid)
	r = nb.get(page)
	want(t, r, http.StatusOK, "完成任务", `id="interview-form"`, `id="evidence-form"`)
	wantNot(t, r, `id="member-form"`, `id="task-form"`, "取消任务")
	r = nb.post(page+"/tasks/"+tid+"/done", url.Values{"result": {" "}})
	want(t, r, http.StatusUnprocessableEntity, `id="result-`+tid+`" name="result" rows="2" maxlength="4000" aria-invalid="true"`)
	r = nb.post(page+"/tasks/"+tid+"/done", url.Values{"result": {"23:10 响铃，23:31 应答"}})
	want(t, r, http.StatusOK, "任务已完成", "23:10 响铃，23:31 应答", "已完成")
	want(t, qc.post(page+"/tasks/"+tid+"/done", url.Values{"result": {"x"}}), http.StatusUnprocessableEntity, "这项任务已经结束")

	// An interview note: the time is refused when malformed, kept when right.
	r = nb.post(page+"/interviews", url.Values{"iv_name": {"李护士"}, "iv_at": {"昨天"}, "iv_summary": {"当晚同时处理两名危重患者"}})
	want(t, r, http.StatusUnprocessableEntity, `id="iv_at" name="iv_at" type="datetime-local" value="昨天" aria-invalid="true"`, "李护士")
	r = nb.post(page+"/interviews", url.Values{"iv_name": {"李护士"}, "iv_role": {"当班护士"}, "iv_at": {"2026-10-13T09:30"},
		"iv_place": {"护士站"}, "iv_summary": {"当晚同时处理两名危重患者"}})
	want(t, r, http.StatusOK, "访谈记录已保存", "李护士", "（当班护士）", "2026-10-13 09:30", "护士站")

	// Evidence: a text file is refused on its bytes, a PNG kept.
	r = nb.uploadFile(page+"/evidence", [][2]string{{"evidence_note", "截图"}}, "记录.png", []byte("not an image"))
	want(t, r, http.StatusUnprocessableEntity, `<p class="field-error">`, `value="截图"`)
	r = nb.uploadFile(page+"/evidence", [][2]string{{"evidence_note", "呼叫铃系统截图"}}, `..\..\呼叫铃.exe`, pngBytes)
	want(t, r, http.StatusOK, "已上传 呼叫铃.png", "呼叫铃系统截图")
	eid := regexp.MustCompile(`href="` + page + `/evidence/(\d+)"`).FindStringSubmatch(r.body)
	if eid == nil {
		t.Fatalf("no evidence link\n%s", excerpt(r.body))
	}
	resp, body := qc.raw(page + "/evidence/" + eid[1])
	if resp.StatusCode != http.StatusOK || body != string(pngBytes) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(body))
	}

	uniqueIDs(t, qc.get(page).body)

	// The plan waits for open tasks unless the owner ticks the box.
	if _, err := e.sv.Complaints.Act(ctx, q, c.ID, complaint.ActionInput{Action: complaint.ActInvestigate}); err != nil {
		t.Fatal(err)
	}
	want(t, qc.post(page+"/tasks", url.Values{"task_member": {memberID[1]}, "task_what": {"整理排班表"}, "task_due": {"2026-10-20"}}), http.StatusOK)
	r = qc.post(page+"/draft_plan", url.Values{"plan": {"解释并致歉"}})
	want(t, r, http.StatusUnprocessableEntity, "调查任务尚未全部完成", `name="confirm_open_tasks" value="1" id="confirm_open_tasks" aria-invalid="true"`, "解释并致歉")
	r = qc.post(page+"/draft_plan", url.Values{"plan": {"解释并致歉"}, "confirm_open_tasks": {"1"}})
	want(t, r, http.StatusOK, "方案待审批", "尚有 1 项调查任务未完成，已确认起草方案")

	// The handling sheet lists the team, the interview and the attachments.
	want(t, qc.get(page+"/sheet"), http.StatusOK, "调查组及任务", "骨科护士", "调取当晚呼叫铃记录", "23:10 响铃", "访谈记录", "李护士",
		"附件清单", "呼叫铃.png", "呼叫铃系统截图")

	// Removed from the team, she sees nothing any more.
	mid := regexp.MustCompile(`action="` + page + `/members/(\d+)/remove"`).FindStringSubmatch(qc.get(page).body)
	if mid == nil {
		t.Fatal("no remove form")
	}
	want(t, qc.post(page+"/members/"+mid[1]+"/remove", nil), http.StatusOK, "已移出调查组", "已移出：")
	want(t, nb.get(page), http.StatusForbidden)
	resp, _ = nb.raw(page + "/evidence/" + eid[1])
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("download by a former member = %d, want 403", resp.StatusCode)
	}
}

var idAttrRE = regexp.MustCompile(`\sid="([^"]+)"`)

// uniqueIDs fails when a page repeats an element id: the partial shares
// the complaint page with the other cards' forms.
func uniqueIDs(t *testing.T, body string) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range idAttrRE.FindAllStringSubmatch(body, -1) {
		if seen[m[1]] {
			t.Errorf("id %q appears twice", m[1])
		}
		seen[m[1]] = true
	}
}

// multipartBody builds an upload form for the fuzz seeds.
func multipartBody(fields [][2]string, name string, file []byte) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(file)
	}
	mw.Close()
	return mw.Boundary(), buf.Bytes()
}

func FuzzReadUpload(f *testing.F) {
	b, body := multipartBody([][2]string{{"evidence_note", "截图"}}, "a.png", pngBytes)
	f.Add(b, body)
	b, body = multipartBody(nil, `..\..\x.exe`, []byte("hello"))
	f.Add(b, body)
	b, body = multipartBody([][2]string{{"evidence_note", strings.Repeat("长", 5000)}}, "", nil)
	f.Add(b, body)
	f.Add("xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n--xyz--\r\n"))
	f.Add("", []byte{})
	const max = 1 << 10
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		up, err := readUpload(bytes.NewReader(body), "multipart/form-data; boundary=\""+strings.ReplaceAll(boundary, `"`, "")+"\"", max)
		if err != nil {
			// Every refusal is a field error the form can show.
			if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("refusal %v is not a field error", err)
			}
			return
		}
		if len(up.Data) == 0 || len(up.Data) > max {
			t.Fatalf("accepted %d bytes (max %d)", len(up.Data), max)
		}
		for k, v := range up.Fields {
			if len(v) > maxUploadField || k == "file" {
				t.Fatalf("field %q of %d bytes", k, len(v))
			}
		}
	})
}
