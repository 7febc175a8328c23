package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"suifang/internal/audit"
	"suifang/internal/complaint"
	"suifang/internal/pdf"
)

// pdfTool finds a poppler tool; under CI (.ci/run installs poppler-utils)
// a missing one fails the test, on a developer's machine it skips.
func pdfTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing under CI: install poppler-utils and poppler-data", name)
		}
		t.Skipf("%s not installed (Debian: poppler-utils, poppler-data)", name)
	}
	return path
}

// fetch is a GET that keeps the raw bytes and the headers.
func (c *client) fetch(path string) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := c.c.Get(c.e.srv.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

// TestComplaintSheetPDF walks a public complaint to the archive, then
// exports its sheet: linked from the page and the HTML sheet, a PDF whose
// text a real reader finds, the same bytes at the same instant, audited,
// and refused outside the scope. Page 1 is rendered to a PNG for a look.
func TestComplaintSheetPDF(t *testing.T) {
	e := newComplaintEnv(t)
	e.file(e.anon(), "13900001234")
	ctx := context.Background()
	q := e.principal("quality")
	list, err := e.sv.Complaints.List(ctx, q, complaint.Filter{InstitutionID: e.h1, Tab: complaint.TabAll, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	id, number := list.Items[0].ID, list.Items[0].Number
	shot := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	if _, err := e.sv.Complaints.Attach(ctx, q, id, "呼叫铃记录.png", "当晚呼叫铃系统截图", shot); err != nil {
		t.Fatal(err)
	}
	quality := e.user("quality").ID
	m, err := e.sv.Complaints.AddMember(ctx, q, id, quality, "administration")
	if err != nil {
		t.Fatal(err)
	}
	task, err := e.sv.Complaints.AddTask(ctx, q, id, complaint.TaskInput{MemberID: m.ID, What: "调取当晚呼叫铃系统记录"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sv.Complaints.DoneTask(ctx, q, id, task.ID, "呼叫铃响铃 20 分钟后才应答"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sv.Complaints.AddInterview(ctx, q, id, complaint.InterviewInput{Interviewee: "夜班护士甲", Role: "责任护士",
		HeldAt: "2026-10-09 10:00", Place: "护士站", Summary: "同时处理两名危重患者"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []complaint.ActionInput{
		{Action: complaint.ActAccept},
		{Action: complaint.ActAssess, Category: "service_attitude", Severity: complaint.General, Complexity: complaint.Simple},
		{Action: complaint.ActInvestigate, Note: "医务：张医生；护理：李护士长；行政：王干事"},
		{Action: complaint.ActNote, Note: "约谈当班护士：当晚同时处理两名危重患者😥，未能及时应答。"},
		{Action: complaint.ActDraftPlan, Plan: "向家属解释当晚情况并致歉。", Compensation: "无"},
		{Action: complaint.ActReturn, Note: "方案未写整改措施，请补充。"},
		{Action: complaint.ActDraftPlan, Plan: "向家属解释并致歉；夜班增加一名巡视护士。"},
		{Action: complaint.ActApprove, Note: "同意。"},
		{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "电话告知家属调查结果和整改措施，家属表示理解。"},
		{Action: complaint.ActSatisfaction, Grade: "satisfied"},
		{Action: complaint.ActArchive, Note: "资料齐全，归档。"},
	} {
		e.clk.Advance(30 * time.Minute)
		if _, err := e.sv.Complaints.Act(ctx, q, id, in); err != nil {
			t.Fatalf("%s: %v", in.Action, err)
		}
	}

	page := "/complaints/" + itoa(id)
	pdfURL := page + "/sheet.pdf"
	qc := e.login("quality", adminPW)
	// The rectification it never needed is 无需办理 on the page and the
	// printable sheet too, not 已完成.
	// The history reads as words there too.
	for _, p := range []string{page, page + "/sheet"} {
		r := qc.get(p)
		want(t, r, http.StatusOK, `href="`+pdfURL+`"`, "无需办理", "投诉途径：医院网站", "反馈方式：电话")
		wantNot(t, r, "channel=", "owner=", "how=", "idempotency_key")
	}

	resp, data := qc.fetch(pdfURL)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" ||
		resp.Header.Get("Content-Disposition") != `inline; filename="`+number+`.pdf"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-1.5\n")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) ||
		!bytes.Contains(data, []byte("/Encoding /UniGB-UTF16-H")) {
		t.Fatalf("not our PDF: %q…", data[:min(len(data), 64)])
	}
	// The same sheet at the same instant is the same file.
	if _, again := qc.fetch(pdfURL); !bytes.Equal(again, data) {
		t.Error("two exports at one instant differ")
	}
	// Each export is audited; the other department's nurse gets nothing
	// and leaves no export behind.
	nb := e.login("nurseb", adminPW)
	if r, _ := nb.fetch(pdfURL); r.StatusCode != http.StatusForbidden {
		t.Errorf("out of scope: status %d", r.StatusCode)
	}
	entries, err := e.sv.Audit.List(ctx, q, audit.Filter{Action: "complaint.export"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].ObjectID != number || entries[0].Actor != "quality" || entries[0].Detail != "sheet.pdf" {
		t.Fatalf("export audit %+v; want two by quality", entries)
	}

	// A real reader finds the title, the number and the whole story.
	dir := t.TempDir()
	file := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdfTool(t, "pdftotext"), "-enc", "UTF-8", "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := regexp.MustCompile(`\s+`).ReplaceAllString(string(out), " ")
	for _, s := range []string{"医疗投诉及纠纷处理表", number, "第一医院", "夜间呼叫护士二十分钟无人应答", "希望改进夜班巡视", "约谈当班护士",
		"夜班增加一名巡视护士", "方案未写整改措施", "电话告知家属调查结果", "处理时限", "处理经过", "调查组及任务", "质控王 · 行政", "调取当晚呼叫铃系统记录", "呼叫铃响铃 20 分钟后才应答", "夜班护士甲", "附件清单", "呼叫铃记录.png", "image/png", "经办人签字",
		"科室负责人签字", "质控部门签字", "分管领导签字", "第 1 / "} {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	// Event details in words: labels and names, never the stored keys
	// and ids; the rectification the complaint never needed is not done.
	for _, s := range []string{"投诉途径：医院网站", "责任科室：心血管内科", "负责人：质控王", "反馈方式：电话", "投诉人满意度：满意",
		"调查组：质控王（行政）", "质控王；期限：2026-10-16", "处理方案：向家属解释并致歉"} {
		if !strings.Contains(strings.Join(strings.Fields(text), ""), s) { // table cells wrap
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	for _, s := range []string{"channel=", "owner=", "category=", "department=", "idempotency_key", "member=", "task=", "how=", "grade="} {
		if strings.Contains(text, s) {
			t.Errorf("the PDF shows the raw key %q", s)
		}
	}
	if m := regexp.MustCompile(`整改完成 \S+ — (\S+)`).FindStringSubmatch(text); m == nil || m[1] != "无需办理" {
		t.Errorf("rectification milestone shown as %v, want 无需办理 as the report counts it", m)
	}
	if strings.Contains(text, "13900001234") {
		t.Error("the full contact is on the sheet; it must be masked")
	}

	// With the CJK font embedded, the sheet needs no font on the reader's
	// side: under an empty fontconfig the text still comes back whole,
	// dates and the case number without odd spaces.
	if path := pdf.FindFont(""); path != "" {
		font, err := pdf.LoadFont(path)
		if err != nil {
			t.Fatal(err)
		}
		e.web.PDFFont = font
		_, emb := qc.fetch(pdfURL)
		e.web.PDFFont = nil
		if !bytes.Contains(emb, []byte("/FontFile2")) || bytes.Contains(emb, []byte("STSong-Light")) || len(emb) > 300<<10 {
			t.Fatalf("embedded sheet: %d bytes, FontFile2 %v", len(emb), bytes.Contains(emb, []byte("/FontFile2")))
		}
		t.Logf("sheet with embedded font subset: %d KB (without: %d KB)", len(emb)>>10, len(data)>>10)
		embFile := filepath.Join(dir, "embedded.pdf")
		os.WriteFile(embFile, emb, 0o600)
		conf := filepath.Join(dir, "fonts.conf")
		os.WriteFile(conf, []byte(`<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><cachedir>`+dir+`/fc</cachedir></fontconfig>`), 0o600)
		cmd := exec.Command(pdfTool(t, "pdftotext"), "-enc", "UTF-8", embFile, "-")
		cmd.Env = append(os.Environ(), "FONTCONFIG_FILE="+conf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		for _, s := range []string{number, "2026-10-13 10:00", "医疗投诉及纠纷处理表", "投诉途径：医院网站", "无需办理"} {
			if !strings.Contains(string(out), s) {
				t.Errorf("embedded sheet's text lacks %q", s)
			}
		}
		if art := os.Getenv("SUIFANG_ARTIFACTS"); art != "" {
			os.MkdirAll(filepath.Join(art, "screenshots"), 0o755)
			os.WriteFile(filepath.Join(art, "screenshots", "complaint-sheet-embedded.pdf"), emb, 0o644)
		}
	}

	// Page 1 as an image, for a look.
	png := filepath.Join(dir, "page")
	if out, err := exec.Command(pdfTool(t, "pdftoppm"), "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", file, png).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	img, err := os.ReadFile(png + ".png")
	if err != nil || !bytes.HasPrefix(img, []byte("\x89PNG")) {
		t.Fatalf("no page image: %v", err)
	}
	if art := os.Getenv("SUIFANG_ARTIFACTS"); art != "" {
		shots := filepath.Join(art, "screenshots")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "complaint-sheet-pdf-page1.png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "complaint-sheet.pdf"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSheetPDFName(t *testing.T) {
	for in, want := range map[string]string{"TS-H01-20261013-0001": "TS-H01-20261013-0001.pdf", `TS-"a b"/-1`: "TS-_a_b__-1.pdf", "TS-医院-1": "TS-__-1.pdf"} {
		if got := sheetPDFName(in); got != want {
			t.Errorf("sheetPDFName(%q) = %q, want %q", in, got, want)
		}
	}
}
