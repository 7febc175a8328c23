package e2e

// Browser journeys in headless Chromium (chromedp). They run only when
// SUIFANG_TEST_BROWSER names a Chromium binary (scripts/test sets it) and
// save a full-page screenshot of every step worth looking at.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"suifang/internal/app"
)

// h01 returns the id of the demo hospital H01 and its departments by code.
func h01(t *testing.T, s *server) (int64, map[string]int64) {
	t.Helper()
	ctx := t.Context()
	inst, err := s.App.Org.InstitutionByCode(ctx, "H01")
	if err != nil {
		t.Fatal(err)
	}
	deps, err := s.App.Org.Departments(ctx, systemPrincipal(), inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, d := range deps {
		ids[d.Code] = d.ID
	}
	return inst.ID, ids
}

// loggedIn opens a new session and logs user in with the demo password.
func (b *browser) loggedIn(t *testing.T, user string) *tab {
	t.Helper()
	tb := b.session(t)
	tb.open("/login")
	if st := tb.login(user, app.DemoPassword); st != http.StatusOK {
		t.Fatalf("login %s = %d", user, st)
	}
	tb.wantPath("/")
	return tb
}

func TestBrowserLoginAndLanguage(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)
	tb := b.session(t)

	// Anonymous: / sends the browser to the Chinese login page.
	if st := tb.open("/"); st != http.StatusOK {
		t.Fatalf("/ as anonymous ends in %d", st)
	}
	tb.wantPath("/login")
	if lang := tb.eval(`document.documentElement.lang`); lang != "zh-CN" {
		t.Fatalf("login page lang = %v", lang)
	}
	if got := tb.text(`form[action="/login"] button[type=submit]`); got != "登录" {
		t.Fatalf("login button says %q", got)
	}
	tb.wantText("登录", "用户名", "密码")
	tb.wantNoUntranslated()
	tb.shot("01-login-zh.png")

	// A wrong password: the error, and the user name stays in the field.
	if st := tb.login("admin", "wrong-Password1"); st != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password = %d, want 422", st)
	}
	if got := tb.text(".flash.err"); !strings.Contains(got, "用户名或密码错误") {
		t.Fatalf("error shown: %q", got)
	}
	if got := tb.value("#username"); got != "admin" {
		t.Fatalf("username after failure = %q, want it kept", got)
	}
	if got := tb.value("#password"); got != "" {
		t.Fatal("the password field was refilled after a failure")
	}
	tb.shot("02-login-failed.png")

	// The right one lands on the workbench with the user's name.
	if st := tb.login("admin", app.DemoPassword); st != http.StatusOK {
		t.Fatalf("login = %d", st)
	}
	tb.wantPath("/")
	if got := tb.text(".topbar .who"); got != "系统管理员" {
		t.Fatalf("top bar shows %q", got)
	}
	tb.wantText("您好，系统管理员", "工作台", "退出", "全部机构")
	tb.wantNoUntranslated()
	tb.shot("03-home-admin.png")

	// English, by the button in the top bar.
	if got := tb.text(".topbar .langswitch button"); got != "English" {
		t.Fatalf("language button says %q", got)
	}
	if st := tb.clickNav(".topbar .langswitch button"); st != http.StatusOK {
		t.Fatalf("switch to English = %d", st)
	}
	tb.wantPath("/")
	if lang := tb.eval(`document.documentElement.lang`); lang != "en" {
		t.Fatalf("page lang after switching = %v", lang)
	}
	tb.wantText("Hello, 系统管理员", "Workbench", "Log out", "My account", "All institutions")
	tb.wantNoText("工作台", "退出")
	tb.wantNoUntranslated()
	tb.shot("04-home-en.png")

	// It sticks on the next page.
	tb.clickNav(`.sidenav a[href="/admin/departments"]`)
	tb.wantPath("/admin/departments")
	if got := tb.text("main h1"); got != "Departments & wards" {
		t.Fatalf("departments heading in English = %q", got)
	}
	tb.wantText("Log out", "Workbench")
	tb.wantNoUntranslated()

	// And back to Chinese, staying on the same page.
	if got := tb.text(".topbar .langswitch button"); got != "中文" {
		t.Fatalf("language button says %q", got)
	}
	tb.clickNav(".topbar .langswitch button")
	tb.wantPath("/admin/departments")
	if got := tb.text("main h1"); got != "科室/病区" {
		t.Fatalf("departments heading back in Chinese = %q", got)
	}
	tb.wantText("工作台", "退出")
	tb.wantNoText("Log out", "Workbench")
}

func TestBrowserLockout(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)
	tb := b.session(t)
	tb.open("/login")
	for i := 1; i <= 5; i++ {
		if st := tb.login("nurse", "wrong-Password1"); st != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d = %d", i, st)
		}
		want := "用户名或密码错误" // the same words every time: the page never says "locked"
		if got := tb.text(".flash.err"); !strings.Contains(got, want) {
			t.Fatalf("attempt %d shows %q, want %q", i, got, want)
		}
	}
	tb.wantPath("/login")
	tb.shot("11-lockout.png")
	// Even the right password is refused now.
	if st := tb.login("nurse", app.DemoPassword); st != http.StatusUnprocessableEntity {
		t.Fatalf("right password while locked = %d", st)
	}
	tb.wantPath("/login")
	tb.wantText("登录失败：用户名或密码错误")
	tb.wantNoText("账号已锁定")
	// The address keeps failing: after ten attempts it is told to wait.
	for i := 7; i <= 10; i++ {
		if st := tb.login("nurse", "wrong-Password1"); st != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d = %d", i, st)
		}
	}
	if st := tb.login("nurse", "wrong-Password1"); st != http.StatusTooManyRequests {
		t.Fatalf("11th attempt = %d, want 429", st)
	}
	tb.wantText("此地址登录失败次数过多，请 30 秒后再试。")
	tb.shot("11b-login-throttled.png")
}

func TestBrowserCreateDepartmentAndUser(t *testing.T) {
	s := start(t, "sqlite")
	inst, deps := h01(t, s)
	b := newBrowser(t, s)
	admin := b.loggedIn(t, "admin")

	// A new ward under 普通外科 in H01.
	admin.clickNav(`.sidenav a[href="/admin/departments"]`)
	admin.setValue("#inst", itoa(inst))
	admin.clickNav(`form[action="/admin/departments"] button[type=submit]`)
	admin.wantText("普通外科", "心血管内科一病区")
	admin.clickNav(`.toolbar a.btn.primary`)
	admin.wantPath("/admin/departments/new")
	admin.wantText("新增科室/病区 · 示范市第一人民医院")
	admin.fill("#code", "0402W2")
	admin.fill("#name", "普通外科二病区")
	admin.setValue("#kind", "ward")
	admin.setValue("#parent_id", itoa(deps["0402"]))
	if st := admin.clickNav(`main form.form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("create department = %d", st)
	}
	admin.wantPath("/admin/departments")
	admin.wantText("已保存")
	row := admin.eval(`[...document.querySelectorAll("main tbody tr")].map(r => r.innerText).find(t => t.includes("0402W2")) || ""`).(string)
	for _, want := range []string{"普通外科二病区", "病区", "普通外科", "启用"} {
		if !strings.Contains(row, want) {
			t.Fatalf("new department row %q lacks %q", row, want)
		}
	}
	admin.wantNoUntranslated()
	admin.shot("05-department-created.png")
	_, deps = h01(t, s)
	ward := deps["0402W2"]
	if ward == 0 {
		t.Fatal("the new ward is not in the database")
	}

	// A nurse account scoped to that ward; first with a too-short password.
	admin.clickNav(`.sidenav a[href="/admin/users"]`)
	admin.clickNav(`.toolbar a.btn.primary`)
	admin.wantPath("/admin/users/new")
	admin.fill("#username", "wardnurse")
	admin.fill("#display_name", "吴护士")
	admin.setValue("#home_institution_id", itoa(inst))
	admin.check(`input[name=roles][value=nurse]`)
	scope := fmt.Sprintf("#scope-%d-%d", inst, ward)
	admin.check(scope)
	admin.fill("#password", "Ab#1")
	admin.check(`input[name=must_change]`)
	if st := admin.clickNav(`main form.form button[type=submit]`); st != http.StatusUnprocessableEntity {
		t.Fatalf("short password = %d, want 422", st)
	}
	admin.wantText("密码太短")
	if got := admin.value("#username"); got != "wardnurse" {
		t.Fatalf("username after the error = %q, want it kept", got)
	}
	if got := admin.value("#display_name"); got != "吴护士" {
		t.Fatalf("name after the error = %q, want it kept", got)
	}
	for _, sel := range []string{`input[name=roles][value=nurse]`, scope, `input[name=must_change]`} {
		if !admin.eval(fmt.Sprintf(`document.querySelector(%q).checked`, sel)).(bool) {
			t.Fatalf("%s is no longer checked after the error", sel)
		}
	}
	if !admin.exists(`#password[aria-invalid=true]`) {
		t.Fatal("the password field is not marked invalid")
	}
	admin.wantNoUntranslated()
	admin.shot("06-user-form.png")

	admin.fill("#password", "Ward#2026nurse")
	if st := admin.clickNav(`main form.form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("create user = %d", st)
	}
	admin.wantPath("/admin/users")
	admin.wantText("账号已创建")
	row = admin.eval(`[...document.querySelectorAll("main tbody tr")].map(r => r.innerText).find(t => t.includes("wardnurse")) || ""`).(string)
	for _, want := range []string{"吴护士", "示范市第一人民医院", "护士", "普通外科二病区", "待改密"} {
		if !strings.Contains(row, want) {
			t.Fatalf("new user row %q lacks %q", row, want)
		}
	}
	admin.wantNoUntranslated()
	admin.shot("07-user-created.png")

	// The new nurse, in a browser context of her own, must change the
	// password first.
	nurse := b.session(t)
	nurse.open("/login")
	nurse.login("wardnurse", "Ward#2026nurse")
	nurse.wantPath("/password")
	nurse.wantText("修改密码", "首次登录或密码被重置后，须先修改密码。")
	nurse.wantNoUntranslated()
	nurse.shot("08-forced-password-change.png")
	// Elsewhere is not reachable before the change.
	nurse.open("/")
	nurse.wantPath("/password")
	nurse.fill("#old_password", "Ward#2026nurse")
	nurse.fill("#password", "Ward#2026changed")
	nurse.fill("#password2", "Ward#2026changed")
	if st := nurse.clickNav(`main form.form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("change password = %d", st)
	}
	nurse.wantPath("/")
	nurse.wantText("密码已修改", "您好，吴护士")
	if kv := nurse.text("dl.kv"); !strings.Contains(kv, "普通外科二病区") {
		t.Fatalf("home page scope lacks the ward:\n%s", kv)
	}
}

func TestBrowserCalendar(t *testing.T) {
	s := start(t, "sqlite")
	inst, _ := h01(t, s)
	b := newBrowser(t, s)
	admin := b.loggedIn(t, "admin")
	base := fmt.Sprintf("/admin/calendar?inst=%d", inst)
	if st := admin.open(base + "&year=2026"); st != http.StatusOK {
		t.Fatalf("calendar = %d", st)
	}
	admin.wantText("工作日历 · 示范市第一人民医院")
	if admin.exists(".flash.warn") {
		t.Fatal("2026 has data but the page warns it is missing")
	}

	// The cells carry no date, so find a day by its month block and number.
	type cell struct {
		Month string `json:"month"`
		Class string `json:"class"`
		Title string `json:"title"`
	}
	day := func(month, d int) cell {
		t.Helper()
		js := fmt.Sprintf(`(() => {
			const m = document.querySelectorAll(".cal-grid .month")[%d];
			const td = [...m.querySelectorAll("td")].find(td => td.textContent.trim() === "%d");
			return {month: m.querySelector("h3").textContent, class: td ? td.className : "", title: td ? td.title : ""};
		})()`, month-1, d)
		return run(admin, fmt.Sprintf("find %d-%d", month, d), chromedp.Evaluate[cell](js))
	}
	if c := day(10, 1); c.Month != "10月" || !strings.Contains(" "+c.Class+" ", " off ") || !strings.Contains(c.Title, "国庆节") {
		t.Fatalf("2026-10-01 = %+v, want a 国庆节 holiday (class off)", c)
	}
	if c := day(10, 10); !strings.Contains(" "+c.Class+" ", " work ") || !strings.Contains(c.Title, "调休上班") {
		t.Fatalf("2026-10-10 = %+v, want an adjusted working day (class work)", c)
	}
	if c := day(9, 30); !strings.Contains(c.Class, "today") {
		t.Fatalf("2026-09-30 (the fake today) = %+v, want class today", c)
	}
	if c := day(10, 12); c.Class != "" {
		t.Fatalf("2026-10-12, a plain Monday = %+v", c)
	}
	admin.wantNoUntranslated()
	admin.shot("09-calendar-2026.png")

	// Add 院庆 on 2026-12-31 as a holiday.
	admin.setValue("#date", "2026-12-31")
	admin.fill("#day-form #name", "院庆")
	admin.check(`#day-form input[name=kind][value=off]`)
	if st := admin.clickNav(`#day-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("add day = %d", st)
	}
	admin.wantPath("/admin/calendar")
	admin.wantText("已保存")
	row := admin.eval(`[...document.querySelectorAll("main tbody tr")].map(r => r.innerText).find(t => t.includes("2026-12-31")) || ""`).(string)
	for _, want := range []string{"院庆", "放假", "星期四"} {
		if !strings.Contains(row, want) {
			t.Fatalf("exception row %q lacks %q", row, want)
		}
	}
	if c := day(12, 31); !strings.Contains(c.Class, "off") || !strings.Contains(c.Title, "院庆") {
		t.Fatalf("2026-12-31 in the grid = %+v", c)
	}
	admin.shot("10-calendar-day-added.png")

	// Delete it, answering the confirmation.
	dialogs := admin.acceptDialogs()
	del := `form[action="/admin/calendar/days/delete"]:has(input[name=date][value="2026-12-31"]) button`
	if st := admin.clickNav(del); st != http.StatusOK {
		t.Fatalf("delete day = %d", st)
	}
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "2026-12-31") {
			t.Fatalf("confirmation says %q", msg)
		}
	default:
		t.Fatal("deleting asked no confirmation")
	}
	if admin.exists(`main time[datetime="2026-12-31"]`) {
		t.Fatal("2026-12-31 is still listed after the delete")
	}
	admin.wantNoText("院庆")
	if c := day(12, 31); c.Class != "" {
		t.Fatalf("2026-12-31 after the delete = %+v, want a plain day", c)
	}

	// 2027 has no data: the page says so.
	if st := admin.clickNav(`.yearnav a[href$="year=2027"]`); st != http.StatusOK {
		t.Fatalf("calendar 2027 = %d", st)
	}
	if got := admin.text(".flash.warn"); !strings.Contains(got, "2027 年尚无法定节假日数据") {
		t.Fatalf("2027 warning = %q", got)
	}
}

func TestBrowserScopeForbidden(t *testing.T) {
	s := start(t, "sqlite")
	_, deps := h01(t, s)
	b := newBrowser(t, s)
	head := b.loggedIn(t, "head")
	if st := head.open("/departments/" + itoa(deps["0301"])); st != http.StatusOK {
		t.Fatalf("own department = %d", st)
	}
	head.wantText("心血管内科")
	if st := head.open("/departments/" + itoa(deps["0402"])); st != http.StatusForbidden {
		t.Fatalf("other department = %d, want 403", st)
	}
	if got := head.text("main h1"); got != "无权访问" {
		t.Fatalf("403 heading = %q", got)
	}
	head.wantText("403", "不在您的数据范围", "返回工作台")
	head.wantNoText("普通外科")
	head.wantNoUntranslated()
	head.shot("13-forbidden.png")
}

func TestBrowserPhoneLayout(t *testing.T) {
	s := start(t, "sqlite")
	b := newBrowser(t, s)
	tb := b.session(t)
	tb.do(chromedp.EmulateViewport(375, 812, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.open("/login")
	tb.login("admin", app.DemoPassword)
	tb.wantPath("/")
	tb.wantText("您好，系统管理员")
	type fit struct {
		Scroll int      `json:"scroll"`
		Inner  int      `json:"inner"`
		Wide   []string `json:"wide"`
	}
	f := run(tb, "measure the width", chromedp.Evaluate[fit](`(() => {
		const w = window.innerWidth;
		const wide = [...document.querySelectorAll("body *")]
			.filter(e => e.getBoundingClientRect().right > w + 1)
			.slice(0, 10)
			.map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replace(/ /g, ".") : ""));
		return {scroll: document.documentElement.scrollWidth, inner: w, wide: wide};
	})()`))
	if f.Inner != 375 {
		t.Errorf("innerWidth = %d, want 375", f.Inner)
	}
	if f.Scroll > f.Inner {
		t.Errorf("horizontal overflow on a phone: scrollWidth %d > innerWidth %d; too wide: %v", f.Scroll, f.Inner, f.Wide)
	}
	tb.shot("12-home-phone.png")
}
