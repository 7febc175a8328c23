package e2e

// Helpers of the follow-up browser walk: a discharge CSV written the way a
// HIS exports it, principals of demo users for service-level checks, and a
// few browser actions the other journeys do not need.

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/auth"
	"suifang/internal/pii"
)

// walkPatient is one discharge row of the walk's CSV.
type walkPatient struct {
	MRN, Visit, Name, Sex, Birth, Phone string
	Admitted, Discharged                string // 出院日期 "" makes a reject
	DiagCode, DiagName                  string
	male                                bool
}

// Masked is the name as the worklist shows it (张晓明 → 张*明).
func (p walkPatient) Masked() string { return pii.MaskName(p.Name) }

// walkPatients are three discharges from 心血管内科一病区 of H01 on the
// day before and the day of the fake today, and a fourth row without a
// discharge date (file line 5) that the import must reject.
func walkPatients() []walkPatient {
	return []walkPatient{
		{MRN: "E2E2609301", Visit: "ZYE2E26093001", Name: "张晓明", Sex: "男", Birth: "1962-05-14", Phone: "13812345601",
			Admitted: "2026-09-22 08:40", Discharged: "2026-09-30 09:15", DiagCode: "I10", DiagName: "原发性高血压", male: true},
		{MRN: "E2E2609302", Visit: "ZYE2E26092901", Name: "李秀英", Sex: "女", Birth: "1955-08-03", Phone: "13812345602",
			Admitted: "2026-09-18 10:05", Discharged: "2026-09-29 15:40", DiagCode: "I25.1", DiagName: "动脉粥样硬化性心脏病"},
		{MRN: "E2E2609303", Visit: "ZYE2E26093002", Name: "王建国", Sex: "男", Birth: "1970-01-20", Phone: "13812345603",
			Admitted: "2026-09-25 14:00", Discharged: "2026-09-30 08:30", DiagCode: "I48.0", DiagName: "阵发性心房颤动", male: true},
		{MRN: "E2E2609304", Visit: "ZYE2E26093003", Name: "赵丽华", Sex: "女", Birth: "1980-11-02", Phone: "13812345604",
			Admitted: "2026-09-26 09:00", Discharged: "", DiagCode: "I20.0", DiagName: "不稳定型心绞痛"},
	}
}

// writeWalkCSV writes the patients as a UTF-8 CSV (with a BOM, as Excel
// saves it) with the canonical Chinese headers of the import template.
func writeWalkCSV(t *testing.T, pats []walkPatient) string {
	t.Helper()
	head := []string{"病案号", "住院流水号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "机构代码",
		"科室代码", "科室", "病区代码", "病区", "主治医师", "责任护士", "入院日期", "出院日期",
		"出院诊断编码", "出院诊断", "是否手术", "治疗结果", "事件"}
	var b strings.Builder
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(head)
	for i, p := range pats {
		birth, err := time.Parse("2006-01-02", p.Birth)
		if err != nil {
			t.Fatal(err)
		}
		id := pii.GenerateNationalID("110105", birth, 10+i, p.male)
		if _, err := pii.ValidateNationalID(id); err != nil {
			t.Fatalf("generated ID %s: %v", id, err)
		}
		_ = w.Write([]string{p.MRN, p.Visit, p.Name, p.Sex, p.Birth, id, p.Phone, "H01",
			"0301", "心血管内科", "0301W1", "心血管内科一病区", "陈医生", "周护士", p.Admitted, p.Discharged,
			p.DiagCode, p.DiagName, "否", "好转", "出院"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "心内科出院患者-20260930.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// principalOf is the access principal of a demo user, for service calls
// made in that user's name.
func principalOf(t *testing.T, s *server, username string) *access.Principal {
	t.Helper()
	users, err := s.App.Auth.ListUsers(t.Context(), systemPrincipal(), auth.UserFilter{Query: username})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == username {
			p, err := s.App.Auth.PrincipalFor(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("no demo user %q", username)
	return nil
}

// loggedInPhone is a session of user in a phone-sized viewport (390×844,
// mobile, touch), logged in with the demo password.
func (b *browser) loggedInPhone(t *testing.T, user string) *tab {
	t.Helper()
	tb := b.session(t)
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.open("/login")
	tb.login(user, app.DemoPassword)
	tb.wantPath("/")
	return tb
}

// navBy runs actions that make the page navigate (a key press, a script)
// and waits for the new document; it returns its HTTP status.
func (tb *tab) navBy(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("%s: %v (at %s)", what, err, tb.where())
	}
	if resp == nil {
		tb.t.Fatalf("%s: no response", what)
	}
	return resp.Status
}

// upload sets the file of a file input.
func (tb *tab) upload(sel, path string) {
	tb.t.Helper()
	run(tb, "upload "+path, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

// key sends key presses to the focused element (the page body).
func (tb *tab) key(keys string) {
	tb.t.Helper()
	run(tb, "key "+keys, chromedp.KeyEvent(keys))
}

// enter is the Enter key for key and navBy.
const enter = kb.Enter

// widthFit is the page's horizontal fit: scrollWidth against innerWidth,
// and the first elements that stick out past the right edge.
type widthFit struct {
	Scroll int      `json:"scroll"`
	Inner  int      `json:"inner"`
	Wide   []string `json:"wide"`
}

func (tb *tab) measureWidth() widthFit {
	tb.t.Helper()
	return run(tb, "measure the width", chromedp.Evaluate[widthFit](`(() => {
		const w = window.innerWidth;
		const wide = [...document.querySelectorAll("body *")]
			.filter(e => e.getBoundingClientRect().right > w + 1)
			.slice(0, 10)
			.map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).trim().replace(/ +/g, ".") : ""));
		return {scroll: document.documentElement.scrollWidth, inner: w, wide: wide};
	})()`))
}

// wantFits fails when the page scrolls sideways at its current width.
func (tb *tab) wantFits(width int) {
	tb.t.Helper()
	f := tb.measureWidth()
	if f.Inner != width {
		tb.t.Errorf("%s: innerWidth = %d, want %d", tb.where(), f.Inner, width)
	}
	if f.Scroll > f.Inner {
		tb.t.Errorf("%s: horizontal overflow at %dpx: scrollWidth %d > innerWidth %d; sticking out: %v",
			tb.where(), width, f.Scroll, f.Inner, f.Wide)
	}
}

// rowText is the visible text of the first table row containing needle.
func (tb *tab) rowText(table, needle string) string {
	tb.t.Helper()
	return tb.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(r => r.innerText).find(t => t.includes(%q)) || ""`,
		table+" tbody tr", needle)).(string)
}

// evalMap evaluates a script that returns an object of strings.
func evalMap(js string) chromedp.Action[map[string]string] {
	return chromedp.Evaluate[map[string]string](js)
}

// evalRows reads the cells' visible text of the rows sel matches.
func evalRows(sel string) chromedp.Action[[][]string] {
	return chromedp.Evaluate[[][]string](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].map(r => [...r.cells].map(c => c.innerText.trim()))`, sel))
}

// keyAction presses keys on the focused element.
func keyAction(keys string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(keys) }
