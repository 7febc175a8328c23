package web

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
)

// loginEnv is the UI on one hospital with one nurse, driven request by
// request so each can come from its own client address.
type loginEnv struct {
	t *testing.T
	h http.Handler
}

func newLoginEnv(t *testing.T) *loginEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	au := audit.New(db, pageNow)
	og := org.New(org.Deps{DB: db, Audit: au, Now: pageNow})
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	as, err := auth.New(auth.Deps{DB: db, Audit: au, Now: pageNow, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	h1, err := og.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "第一医院", Kind: org.KindHospital})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateUser(ctx, access.System(), auth.UserInput{Username: "hu.xia", DisplayName: "胡霞", Password: adminPW,
		HomeInstitutionID: h1, Roles: []access.Role{access.Nurse}, Active: true}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Auth: as, Org: og, Audit: au, Log: slog.New(slog.DiscardHandler), Now: pageNow, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &loginEnv{t: t, h: s.Handler()}
}

// post logs in from addr in lang and returns the raw response (no redirects followed).
func (e *loginEnv) post(addr, lang string, v url.Values) *http.Response {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr + ":51234"
	req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return html.UnescapeString(string(b))
}

// A client address that keeps failing gets 429 with Retry-After and a page
// saying when to try again, in the user's language; the nurse at another
// address logs in meanwhile. On main every attempt was hashed and answered.
func TestLoginThrottledPage(t *testing.T) {
	e := newLoginEnv(t)
	bad := url.Values{"username": {"hu.xia"}, "password": {"Wrong#Passw0rd"}}
	for i := range 10 {
		if r := e.post("198.51.100.23", "zh-CN", bad); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: status %d", i+1, r.StatusCode)
		}
	}
	r := e.post("198.51.100.23", "zh-CN", bad)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "30" {
		t.Fatalf("11th failure: status %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if b := readBody(t, r); !strings.Contains(b, "此地址登录失败次数过多，请 30 秒后再试。") || !strings.Contains(b, `name="username"`) {
		t.Errorf("429 page:\n%s", b)
	}
	r = e.post("198.51.100.23", "en", bad)
	if b := readBody(t, r); r.StatusCode != http.StatusTooManyRequests || !strings.Contains(b, "Too many failed logins from this address. Try again in 30 seconds.") {
		t.Errorf("English 429 page (%d):\n%s", r.StatusCode, b)
	}
	ok := e.post("10.20.3.41", "zh-CN", url.Values{"username": {"hu.xia"}, "password": {adminPW}})
	if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/" {
		t.Fatalf("nurse at another address: %d → %q", ok.StatusCode, ok.Header.Get("Location"))
	}
}

// Wrong password, unknown name and a name locked at this address all show
// the same words. On main the locked one said "account locked".
func TestLoginMessageGeneric(t *testing.T) {
	e := newLoginEnv(t)
	const generic = "登录失败：用户名或密码错误，或该账号暂时无法登录。"
	for range 5 {
		e.post("198.51.100.40", "zh-CN", url.Values{"username": {"hu.xia"}, "password": {"Wrong#Passw0rd"}})
	}
	for _, c := range []struct{ what, addr, user, pw string }{
		{"wrong password", "198.51.100.41", "hu.xia", "Wrong#Passw0rd"},
		{"unknown user", "198.51.100.41", "hu.xiao", adminPW},
		{"locked at this address", "198.51.100.40", "hu.xia", adminPW},
	} {
		r := e.post(c.addr, "zh-CN", url.Values{"username": {c.user}, "password": {c.pw}})
		b := readBody(t, r)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, generic) || strings.Contains(b, "锁定") {
			t.Errorf("%s: status %d\n%s", c.what, r.StatusCode, b)
		}
	}
}

// After login the browser goes only to a path on this site. On main
// "/%09/evil.example" passed (a browser drops the tab and reads
// "//evil.example"), as did "/%5Cevil".
func TestLoginNextStaysOnSite(t *testing.T) {
	e := newLoginEnv(t)
	for next, want := range map[string]string{
		"/followup?tab=today":         "/followup?tab=today",
		"/patients/42/records":        "/patients/42/records",
		"/%09/evil.example":           "/",
		"/\t/evil.example":            "/",
		"/\\evil.example":             "/",
		"/%5Cevil.example":            "/",
		"%2F%2Fevil.example":          "/",
		"/%2F%2Fevil.example":         "/",
		"//evil.example":              "/",
		"https://evil.example/":       "/",
		"javascript:alert(1)":         "/",
		"/\r\nLocation: http://evil/": "/",
	} {
		r := e.post("10.20.3.41", "zh-CN", url.Values{"username": {"hu.xia"}, "password": {adminPW}, "next": {next}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("next %q: %d → %q, want %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/":                             "/",
		"/followup?tab=today":           "/followup?tab=today",
		"/followup?tab=today&page=2":    "/followup?tab=today&page=2",
		"/patients?q=%E5%BC%A0":         "/patients?q=%E5%BC%A0",
		"/随访/今日":                        "/%E9%9A%8F%E8%AE%BF/%E4%BB%8A%E6%97%A5",
		"/admin/users/7#roles":          "/admin/users/7",
		"":                              "/",
		"followup":                      "/",
		"./followup":                    "/",
		"//evil.example":                "/",
		"///evil.example":               "/",
		"/\\evil.example":               "/",
		"\\\\evil.example":              "/",
		"/%5Cevil.example":              "/",
		"/%5cevil.example":              "/",
		"/%09/evil.example":             "/",
		"/\t/evil.example":              "/",
		"/%0D%0A/evil.example":          "/",
		"/\r\n/evil.example":            "/",
		"/%00/evil.example":             "/",
		"%2F%2Fevil.example":            "/",
		"/%2F/evil.example":             "/",
		"/%2F%2Fevil.example":           "/",
		"https://evil.example/":         "/",
		"HTTPS://evil.example/":         "/",
		"http:/evil.example":            "/",
		"javascript:alert(1)":           "/",
		" javascript:alert(1)":          "/",
		"JaVaScRiPt:alert(1)":           "/",
		"data:text/html,x":              "/",
		"/@evil.example":                "/@evil.example", // a path on this site
		"/followup?next=//evil":         "/followup?next=//evil",
		"/followup?x=%0D%0ASet-Cookie":  "/",
		"/a\x7fb":                       "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext checks that whatever comes in, what goes out is a path a
// browser resolves on this site, and that checking it again changes nothing.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/followup?tab=today", "/%09/evil.example", "/\\evil", "%2F%2Fevil", "/%5Cevil",
		"//evil", "https://evil", "javascript:alert(1)", "/\r\nX: y", "/随访", "/a?b=%zz", "/.//evil", "/%2e%2e//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://suifang.hospital.example/login")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || badURLText(out) {
			t.Fatalf("safeNext(%q) = %q: not a single-slash path", in, out)
		}
		u, err := url.Parse(out)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q parses as %+v (%v)", in, out, u, err)
		}
		if got := base.ResolveReference(u); got.Host != base.Host || got.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q resolves to %s", in, out, got)
		}
		// What a browser does before resolving: drop tab/CR/LF, read \ as /.
		loose := strings.NewReplacer("\t", "", "\r", "", "\n", "", "\\", "/").Replace(out)
		if strings.HasPrefix(loose, "//") {
			t.Fatalf("safeNext(%q) = %q reads as %q to a browser", in, out, loose)
		}
		if again := safeNext(out); again != out {
			t.Fatalf("safeNext not stable: %q → %q → %q", in, out, again)
		}
	})
}
