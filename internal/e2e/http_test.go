package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"suifang/internal/app"
)

func engines(t *testing.T, fn func(t *testing.T, s *server)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) { fn(t, start(t, e)) })
	}
}

func TestOperationalEndpoints(t *testing.T) {
	engines(t, func(t *testing.T, s *server) {
		c := s.client(t)
		if r := c.get("/healthz"); r.Status != 200 || !strings.Contains(r.Body, "ok") {
			t.Fatalf("healthz: %d %q", r.Status, r.Body)
		}
		if r := c.get("/readyz"); r.Status != 200 {
			t.Fatalf("readyz: %d %q", r.Status, r.Body)
		}
		c.get("/login")
		// /metrics is not public: no token, a wrong one, or a session cookie
		// are all refused.
		if r := c.get("/metrics"); r.Status != http.StatusUnauthorized || strings.Contains(r.Body, "suifang_build_info") {
			t.Fatalf("metrics without a token: %d %.200q", r.Status, r.Body)
		}
		bad, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
		bad.Header.Set("Authorization", "Bearer "+e2eMetricsToken+"x")
		if r := c.do(bad); r.Status != http.StatusUnauthorized {
			t.Fatalf("metrics with a wrong token: %d", r.Status)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+e2eMetricsToken)
		r := c.do(req)
		if r.Status != 200 || !strings.Contains(r.Body, `suifang_http_requests_total{code="200",method="GET",route="GET /login"}`) {
			t.Fatalf("metrics lack the login route counter:\n%.2000s", r.Body)
		}
		if !strings.Contains(r.Body, "suifang_build_info") {
			t.Fatal("metrics lack build info")
		}
		for _, m := range []string{"suifang_login_hash_slots ", "suifang_login_hashes_total ", "suifang_login_hash_refused_total 0"} {
			if !strings.Contains(r.Body, m) {
				t.Fatalf("metrics lack %q", m)
			}
		}
	})
}

func TestLoginAndSecurityHeaders(t *testing.T) {
	s := start(t, "sqlite")
	c := s.client(t)
	r := c.get("/")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("anonymous / = %d %q, want redirect to /login", r.Status, r.Location)
	}
	r = c.get("/login")
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("weak CSP %q", csp)
	}
	if !strings.Contains(r.Body, "登录") {
		t.Fatal("login page is not in Chinese by default")
	}
	r = c.login("admin", app.DemoPassword)
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("login = %d %q", r.Status, r.Location)
	}
	var sess *http.Cookie
	for _, ck := range c.jar.Cookies(mustURL(s.URL)) {
		if ck.Name == "suifang_session" {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	r = c.get("/")
	if r.Status != 200 || !strings.Contains(r.Body, "系统管理员") {
		t.Fatalf("home = %d", r.Status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// A cross-origin POST is refused even with a valid session cookie.
func TestCrossOriginPostRefused(t *testing.T) {
	s := start(t, "sqlite")
	c := s.client(t)
	c.login("admin", app.DemoPassword)
	form := url.Values{"institution_id": {"2"}, "code": {"EVIL"}, "name": {"evil"}, "kind": {"clinical"}, "active": {"1"}}
	r := c.postWith("/admin/departments", form, "http://evil.example", "cross-site")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-origin POST = %d, want 403", r.Status)
	}
	if strings.Contains(c.get("/admin/departments?inst=2").Body, "EVIL") {
		t.Fatal("cross-origin POST created a department")
	}
	// The same form from the same origin works, proving the refusal was the origin.
	r = c.post("/admin/departments", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("same-origin POST = %d: %.500s", r.Status, r.Body)
	}
}

// A wrong password five times from one address locks the account there:
// the sixth attempt, with the right password, is refused with the same
// words as a wrong one (the page does not say "locked"), and the lock lifts
// after 30 minutes.
func TestLockoutAfterFiveFailures(t *testing.T) {
	engines(t, func(t *testing.T, s *server) {
		c := s.client(t)
		const generic = "登录失败：用户名或密码错误"
		for i := 1; i <= 5; i++ {
			r := c.login("nurse", "wrong-Password1")
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("attempt %d = %d", i, r.Status)
			}
			if !strings.Contains(r.Body, generic) || strings.Contains(r.Body, "锁定") {
				t.Fatalf("attempt %d: page lacks %q or names the lock", i, generic)
			}
		}
		r := c.login("nurse", app.DemoPassword)
		if r.Status == http.StatusSeeOther || !strings.Contains(r.Body, generic) || strings.Contains(r.Body, "账号已锁定") {
			t.Fatalf("6th attempt with the right password = %d; want refused like a wrong one", r.Status)
		}
		s.Clock.Advance(30*time.Minute + time.Second)
		if r := c.login("nurse", app.DemoPassword); r.Status != http.StatusSeeOther {
			t.Fatalf("after the lockout = %d", r.Status)
		}
	})
}

// An idle session expires: the next request goes to the login page with a reason.
func TestSessionExpires(t *testing.T) {
	s := start(t, "sqlite")
	c := s.client(t)
	c.login("agent", app.DemoPassword)
	if r := c.get("/"); r.Status != 200 {
		t.Fatalf("home = %d", r.Status)
	}
	s.Clock.Advance(31 * time.Minute)
	r := c.get("/")
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location, "reason=session_expired") {
		t.Fatalf("after idle = %d %q", r.Status, r.Location)
	}
	if r := c.get(r.Location); !strings.Contains(r.Body, "会话已超时") {
		t.Fatal("login page does not say the session expired")
	}
}

// A user scoped to department A asking for department B gets 403.
func TestDepartmentScope(t *testing.T) {
	engines(t, func(t *testing.T, s *server) {
		ctx := t.Context()
		h1, err := s.App.Org.InstitutionByCode(ctx, "H01")
		if err != nil {
			t.Fatal(err)
		}
		var cardio, surgery int64
		deps, err := s.App.Org.Departments(ctx, systemPrincipal(), h1.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps {
			switch d.Code {
			case "0301":
				cardio = d.ID
			case "0402":
				surgery = d.ID
			}
		}
		c := s.client(t)
		c.login("head", app.DemoPassword) // 心血管内科 head
		if r := c.get("/departments/" + itoa(cardio)); r.Status != 200 || !strings.Contains(r.Body, "心血管内科") {
			t.Fatalf("own department = %d", r.Status)
		}
		r := c.get("/departments/" + itoa(surgery))
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "不在您的数据范围") {
			t.Fatalf("other department = %d, want 403 with the scope message", r.Status)
		}
		// Not even its name leaks on the refusal page.
		if strings.Contains(r.Body, "普通外科") {
			t.Fatal("refusal page shows the other department's name")
		}
	})
}

func TestErrorPagesInUsersLanguage(t *testing.T) {
	s := start(t, "sqlite")
	c := s.client(t)
	c.login("admin", app.DemoPassword)
	if r := c.get("/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "页面不存在") {
		t.Fatalf("zh 404 = %d", r.Status)
	}
	r := c.post("/lang", url.Values{"lang": {"en"}, "back": {"/"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("lang = %d", r.Status)
	}
	if r := c.get("/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "Page not found") {
		t.Fatalf("en 404 = %d", r.Status)
	}
	c2 := s.client(t)
	c2.login("nurse", app.DemoPassword)
	if r := c2.get("/admin/users"); r.Status != 403 {
		t.Fatalf("nurse on /admin/users = %d, want 403", r.Status)
	}
}
