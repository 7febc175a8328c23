package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/mllpauth"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// pageNow is Friday 2026-10-09 14:00 in Beijing, an adjusted working day
// week after the National Day holiday.
func pageNow() time.Time { return time.Date(2026, 10, 9, 6, 0, 0, 0, time.UTC) }

const adminPW = "Adm1n-Passw0rd!"

type pageEnv struct {
	t            *testing.T
	srv          *httptest.Server
	auth         *auth.Service
	cal          *caldb.Service
	org          *org.Service
	h1, h2       int64
	deptA, deptB int64
	adminID      int64
	senders      *mllpauth.Service
}

func newPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	k := testkit.New(t, storetest.SQLite(t), testkit.Options{Start: pageNow()})
	e := &pageEnv{t: t, auth: k.Auth, cal: k.Calendar, org: k.Org}
	e.h1 = k.Institution(t, "H1", "第一医院")
	e.h2 = k.Institution(t, "H2", "第二医院")
	e.deptA = k.Department(t, e.h1, "CARD", "心内科", "")
	e.deptB = k.Department(t, e.h1, "ORTH", "骨科", "")
	e.adminID = k.User(t, auth.UserInput{Username: "admin", DisplayName: "管理员", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.SysAdmin}})
	e.senders = k.Senders
	s, err := New(Deps{Auth: k.Auth, Org: k.Org, Audit: k.Audit, Calendar: k.Calendar, Log: slog.New(slog.DiscardHandler),
		Now: pageNow, Version: "test", Senders: e.senders})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser with a cookie jar, logged in as username.
type client struct {
	t *testing.T
	e *pageEnv
	c *http.Client
}

func (e *pageEnv) login(username, pw string) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: e.t, e: e, c: &http.Client{Jar: jar}}
	res := c.post("/login", url.Values{"username": {username}, "password": {pw}})
	if res.status != http.StatusOK || strings.Contains(res.url, "/login") {
		e.t.Fatalf("login %s: status %d at %s", username, res.status, res.url)
	}
	return c
}

type result struct {
	status int
	body   string
	url    string // after redirects
}

func (c *client) do(req *http.Request) result {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := result{status: resp.StatusCode, body: string(b), url: resp.Request.URL.RequestURI()}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		checkMarkup(c.t, req.URL.Path, r.body)
	}
	return r
}

func (c *client) get(path string) result {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) post(path string, v url.Values) result {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) upload(path string, fields map[string]string, file []byte) result {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", "holidays.json")
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

var (
	tagRE        = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	onAttrRE     = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttrRE  = regexp.MustCompile(`(?i)\sstyle\s*=`)
	missingKeyRE = regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.]+\]`)
)

// checkMarkup enforces the CSP rules on every page: no inline script, style
// attribute or event handler, and no untranslated key.
func checkMarkup(t *testing.T, path, body string) {
	t.Helper()
	for _, tag := range tagRE.FindAllString(body, -1) {
		if onAttrRE.MatchString(tag) || styleAttrRE.MatchString(tag) {
			t.Errorf("%s: inline handler or style in %s", path, tag)
		}
		if strings.HasPrefix(strings.ToLower(tag), "<script") && !strings.Contains(tag, "src=") {
			t.Errorf("%s: inline script %s", path, tag)
		}
		if strings.HasPrefix(strings.ToLower(tag), "<style") {
			t.Errorf("%s: inline style element", path)
		}
	}
	if m := missingKeyRE.FindString(body); m != "" {
		t.Errorf("%s: untranslated key %s", path, m)
	}
}

func want(t *testing.T, r result, status int, texts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", r.url, r.status, status, excerpt(r.body))
	}
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: page lacks %q\n%s", r.url, s, excerpt(r.body))
		}
	}
}

func wantNot(t *testing.T, r result, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(r.body, s) {
			t.Errorf("%s: page should not contain %q", r.url, s)
		}
	}
}

// excerpt is the main part of a page, for failure messages.
func excerpt(body string) string {
	if i := strings.Index(body, `<main`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000]
	}
	return body
}

func (e *pageEnv) user(name string) *auth.User {
	e.t.Helper()
	list, err := e.auth.ListUsers(context.Background(), access.System(), auth.UserFilter{Query: name})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range list {
		if u.Username == name {
			return u
		}
	}
	e.t.Fatalf("no user %s", name)
	return nil
}

func TestAdminPages(t *testing.T) {
	e := newPageEnv(t)
	admin := e.login("admin", adminPW)
	h1 := fmt.Sprint(e.h1)
	scopeA := fmt.Sprintf("%d:%d", e.h1, e.deptA)
	scopeB := fmt.Sprintf("%d:%d", e.h1, e.deptB)

	t.Run("pages render", func(t *testing.T) {
		want(t, admin.get("/admin/users"), 200, "员工账号", "<code>admin</code>", "系统管理员", "全部机构", "新建账号")
		want(t, admin.get("/admin/users/new"), 200, "初始密码", "至少 8 个字符", `value="`+scopeA+`"`, "心内科",
			`name="must_change" value="1" checked`)
		want(t, admin.get(fmt.Sprintf("/admin/users/%d", e.adminID)), 200, "重置密码", `data-confirm="`)
		want(t, admin.get("/admin/calendar"), 200, "第一医院", "国庆节", "2026 年节假日与调休")
		want(t, admin.get("/admin/audit"), 200, "institution.create", "校验日志完整性")
		want(t, admin.get("/admin/tokens"), 200, "还没有接口令牌")
	})

	var nurseID int64
	t.Run("create user", func(t *testing.T) {
		r := admin.post("/admin/users", url.Values{"username": {"nurse01"}, "display_name": {"李护士"}, "phone": {"13800000000"},
			"home_institution_id": {h1}, "roles": {"nurse"}, "scope": {scopeA}, "password": {"Hushi-2026x"},
			"must_change": {"1"}, "active": {"1"}})
		want(t, r, 200, "账号已创建", "<code>nurse01</code>", "李护士", "第一医院 · 心内科", "待改密")
		if r.url != "/admin/users" {
			t.Errorf("landed on %s", r.url)
		}
		u := e.user("nurse01")
		nurseID = u.ID
		if !u.MustChangePassword || !slices.Equal(u.Grants, []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptA}}) ||
			!slices.Equal(u.Roles, []access.Role{access.Nurse}) {
			t.Errorf("stored %+v", u)
		}
		// The filter narrows the list.
		want(t, admin.get("/admin/users?q=nurse"), 200, "nurse01")
		wantNot(t, admin.get("/admin/users?q=nurse"), "<code>admin</code>")
		want(t, admin.get(fmt.Sprintf("/admin/users?inst=%d", e.h2)), 200, "没有符合条件的账号")
	})

	t.Run("bad form keeps input", func(t *testing.T) {
		r := admin.post("/admin/users", url.Values{"username": {"x"}, "display_name": {"王医生"}, "home_institution_id": {h1},
			"roles": {"doctor"}, "scope": {scopeB}, "password": {"Yisheng-2026"}, "active": {"1"}})
		want(t, r, http.StatusUnprocessableEntity, `value="王医生"`, `id="username" name="username" value="x"`,
			`aria-invalid="true"`, "用户名须为", `value="doctor" checked`, `value="`+scopeB+`" checked`)
		wantNot(t, r, "Yisheng-2026")
		// Duplicate user name and a weak password are also form errors.
		want(t, admin.post("/admin/users", url.Values{"username": {"nurse01"}, "display_name": {"重名"}, "home_institution_id": {h1},
			"roles": {"nurse"}, "password": {"Hushi-2026y"}}), http.StatusUnprocessableEntity, "该用户名已被使用")
		want(t, admin.post("/admin/users", url.Values{"username": {"doc2"}, "display_name": {"弱密码"}, "home_institution_id": {h1},
			"roles": {"doctor"}, "password": {"abc"}}), http.StatusUnprocessableEntity, "密码太短", `value="弱密码"`)
		want(t, admin.post("/admin/users", url.Values{"username": {"doc3"}, "display_name": {"无角色"}, "home_institution_id": {h1},
			"password": {"Yisheng-2026"}}), http.StatusUnprocessableEntity, "请至少选择一个角色")
	})

	t.Run("edit reset unlock", func(t *testing.T) {
		path := fmt.Sprintf("/admin/users/%d", nurseID)
		want(t, admin.get(path), 200, `value="李护士"`, `value="`+scopeA+`" checked`)
		r := admin.post(path, url.Values{"display_name": {"李护士长"}, "home_institution_id": {h1}, "roles": {"nurse", "dept_head"},
			"scope": {h1 + ":0"}, "active": {"1"}})
		want(t, r, 200, "已保存", "李护士长", "科主任/护士长")
		u := e.user("nurse01")
		if !slices.Equal(u.Grants, []access.Grant{{InstitutionID: e.h1}}) || len(u.Roles) != 2 {
			t.Errorf("after update %+v", u)
		}
		// An administrator cannot disable themselves.
		want(t, admin.post(fmt.Sprintf("/admin/users/%d", e.adminID), url.Values{"display_name": {"管理员"},
			"home_institution_id": {h1}, "roles": {"sysadmin"}}), http.StatusUnprocessableEntity, "不能停用自己的账号")

		want(t, admin.post(path+"/reset", url.Values{"password": {"short"}}), http.StatusUnprocessableEntity, "密码太短", "李护士长")
		want(t, admin.post(path+"/reset", url.Values{"password": {"Linshi-2026"}}), 200, "密码已重置")

		// Failures from one address lock only that address; the account
		// shows as locked after 20 from anywhere.
		for i := range 20 {
			e.auth.Login(context.Background(), "nurse01", "wrong", fmt.Sprintf("10.30.0.%d", i/5+1), "test")
		}
		r = admin.get(path)
		want(t, r, 200, path+"/unlock", "已锁定")
		want(t, admin.get("/admin/users"), 200, `pill red`)
		r = admin.post(path+"/unlock", nil)
		want(t, r, 200, "账号已解除锁定")
		wantNot(t, r, path+"/unlock")
	})

	t.Run("calendar", func(t *testing.T) {
		r := admin.get("/admin/calendar?inst=" + h1 + "&year=2026")
		want(t, r, 200, `class="off" title="国庆节 · 放假"`, `class="work" title="国庆节 · 调休上班"`, `class="weekend"`,
			`class="today"`, "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm", "/admin/calendar/days/delete")
		wantNot(t, r, "尚无法定节假日数据")

		r = admin.post("/admin/calendar/days", url.Values{"inst": {h1}, "year": {"2026"}, "date": {"2026-12-24"},
			"name": {"院庆"}, "kind": {"off"}})
		want(t, r, 200, "已保存", `title="院庆 · 放假"`)
		if !strings.Contains(r.url, "year=2026") {
			t.Errorf("landed on %s", r.url)
		}
		want(t, admin.post("/admin/calendar/days", url.Values{"inst": {h1}, "year": {"2026"}, "date": {"2026-13-01"},
			"name": {"院庆日"}, "kind": {"off"}}), http.StatusUnprocessableEntity, "请输入有效日期", `value="院庆日"`)
		want(t, admin.post("/admin/calendar/days", url.Values{"inst": {h1}, "date": {"2026-12-25"}, "name": {""}, "kind": {"work"}}),
			http.StatusUnprocessableEntity, "请填写名称（最多 64 字），如：国庆节", `value="2026-12-25"`, `value="work" checked`)
		want(t, admin.get("/admin/calendar?inst="+h1+"&year=2026&edit=2026-12-24"), 200, `value="院庆"`)

		r = admin.post("/admin/calendar/days/delete", url.Values{"inst": {h1}, "date": {"2026-12-24"}})
		want(t, r, 200, "已删除该日期的记录")
		wantNot(t, r, "院庆")

		want(t, admin.get("/admin/calendar?inst="+h1+"&year=2027"), 200, "2027 年尚无法定节假日数据", `class="nodata"`)
		year := []byte(`{"year": 2027, "papers": ["https://www.gov.cn/zhengce/example-2027.htm"], "days": [
			{"name": "元旦", "date": "2027-01-01", "isOffDay": true},
			{"name": "春节", "date": "2027-02-06", "isOffDay": false}]}`)
		r = admin.upload("/admin/calendar/import?inst="+h1+"&year=2027", map[string]string{"all": "1"}, year)
		want(t, r, 200, "节假日数据已导入", `title="元旦 · 放假"`, "example-2027.htm")
		wantNot(t, r, "2027 年尚无法定节假日数据")
		for _, inst := range []int64{e.h1, e.h2} {
			v, err := e.cal.View(context.Background(), access.System(), inst, 2027)
			if err != nil || !v.HasData || len(v.Days) != 2 {
				t.Errorf("institution %d 2027: %+v %v", inst, v, err)
			}
		}
		r = admin.upload("/admin/calendar/import?inst="+h1+"&year=2028", nil, []byte(`{"year": 2028, "days": [{"name": "元旦", "date": "2028-01-01"}]}`))
		want(t, r, http.StatusUnprocessableEntity, "未导入任何数据", "isOffDay", "2028 年尚无法定节假日数据")
		r = admin.upload("/admin/calendar/import?inst="+h1+"&year=2028", nil, bytes.Repeat([]byte(" "), 2<<20))
		want(t, r, http.StatusUnprocessableEntity, "文件超过 1 MB")
		want(t, admin.get("/admin/calendar?year=1800"), http.StatusBadRequest, "年份须在 1900 到 2200 之间")
	})

	t.Run("tokens", func(t *testing.T) {
		r := admin.post("/admin/tokens", url.Values{"name": {"HIS 接口"}, "institution_id": {h1}})
		want(t, r, 200, "无法再次查看", "curl -H &#34;Authorization: Bearer sft_", "/api/v1/me")
		m := regexp.MustCompile(`value="(sft_[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatal("no token on the page")
		}
		if _, err := e.auth.AuthenticateToken(context.Background(), m[1], "127.0.0.1"); err != nil {
			t.Errorf("shown token does not work: %v", err)
		}
		list := admin.get("/admin/tokens")
		want(t, list, 200, "HIS 接口", m[1][:10]+"…")
		wantNot(t, list, m[1])

		want(t, admin.post("/admin/tokens", url.Values{"name": {" "}, "institution_id": {h1}}), http.StatusUnprocessableEntity,
			"请为令牌填写名称")
		toks, err := e.auth.ListTokens(context.Background(), access.System())
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens %v %v", toks, err)
		}
		r = admin.post(fmt.Sprintf("/admin/tokens/%d/revoke", toks[0].ID), nil)
		want(t, r, 200, "令牌已吊销", "已吊销")
		if _, err := e.auth.AuthenticateToken(context.Background(), m[1], "127.0.0.1"); err == nil {
			t.Error("revoked token still works")
		}
	})

	t.Run("audit", func(t *testing.T) {
		want(t, admin.get("/admin/audit"), 200, "user.create", "calendar.import", "token.revoke", "失败")
		r := admin.get("/admin/audit?action=token.")
		want(t, r, 200, "token.create", "清除筛选")
		wantNot(t, r, "<code>user.create</code>")
		r = admin.get("/admin/audit?before=3")
		wantNot(t, r, `<td class="num">3</td>`, `<td class="num">4</td>`)
		want(t, r, 200, `<td class="num">2</td>`, "最新记录")
		want(t, admin.post("/admin/audit/verify", nil), 200, "校验通过")
	})

	t.Run("non-admins", func(t *testing.T) {
		ctx := context.Background()
		sys := access.System()
		if _, err := e.auth.CreateUser(ctx, sys, auth.UserInput{Username: "head01", DisplayName: "张主任", Password: "Zhuren-2026",
			HomeInstitutionID: e.h1, Roles: []access.Role{access.DeptHead}, Active: true,
			Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: e.deptA}}}); err != nil {
			t.Fatal(err)
		}
		head := e.login("head01", "Zhuren-2026")
		r := head.get("/admin/calendar")
		want(t, r, 200, "国庆节")
		wantNot(t, r, `action="/admin/calendar/days"`, "/admin/calendar/import", "/admin/calendar/days/delete")
		want(t, head.post("/admin/calendar/days", url.Values{"inst": {h1}, "date": {"2026-12-24"}, "name": {"x"}, "kind": {"off"}}), 403)
		want(t, head.post("/admin/calendar/days/delete", url.Values{"inst": {h1}, "date": {"2026-10-01"}}), 403)
		want(t, head.upload("/admin/calendar/import?inst="+h1, nil, []byte(`{}`)), 403)
		want(t, head.get(fmt.Sprintf("/admin/calendar?inst=%d", e.h2)), 403)
		want(t, head.get("/admin/users/new"), 403)
		want(t, head.post("/admin/users", url.Values{"username": {"evil"}}), 403)
		want(t, head.get("/admin/tokens"), 403)
		want(t, head.post("/admin/tokens", url.Values{"name": {"x"}, "institution_id": {h1}}), 403)
		want(t, head.get("/admin/audit"), 403)
		want(t, head.post("/admin/audit/verify", nil), 403)
		want(t, head.post(fmt.Sprintf("/admin/users/%d/unlock", nurseID), nil), 403)
	})

	t.Run("english", func(t *testing.T) {
		u, _ := url.Parse(e.srv.URL)
		admin.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
		want(t, admin.get("/admin/users"), 200, "Staff accounts", "New account", "Last login")
		want(t, admin.get("/admin/calendar?year=2026"), 200, "October", "Holiday", "Mo")
		want(t, admin.get("/admin/tokens"), 200, "Create token")
		want(t, admin.get("/admin/audit"), 200, "Verify chain")
	})
}

// The month grid is Monday-first and pads both ends.
func TestMonthGrid(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cat: cat}
	q := &req{Lang: "zh-CN"}
	cal := calendar.New(calendar.Seed()...)
	// October 2026 starts on a Thursday and has 31 days: 3 blanks, 5 weeks.
	m := s.monthGrid(q, cal, 2026, time.October, calendar.Date{Year: 2026, Month: 10, Day: 9})
	if m.Name != "10月" || len(m.Weeks) != 5 {
		t.Fatalf("grid %+v", m)
	}
	first := m.Weeks[0]
	if first[0].Day != 0 || first[2].Day != 0 || first[3].Day != 1 || first[3].Class != "off" {
		t.Errorf("first week %+v", first)
	}
	if c := m.Weeks[1][4]; c.Day != 9 || c.Class != "today" {
		t.Errorf("9 Oct %+v", c)
	}
	if c := m.Weeks[1][5]; c.Day != 10 || c.Class != "work" || !strings.HasPrefix(c.Title, "国庆节") {
		t.Errorf("10 Oct %+v", c)
	}
	if c := m.Weeks[2][5]; c.Day != 17 || c.Class != "weekend" {
		t.Errorf("17 Oct %+v", c)
	}
	last := m.Weeks[4]
	if last[5].Day != 31 || last[6].Day != 0 {
		t.Errorf("last week %+v", last)
	}
}
