// Package e2e starts the real app (internal/app) on a free port with a temp
// database and drives it over HTTP and, when Chromium is available, through
// a headless browser, taking screenshots of every journey.
package e2e

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"suifang/internal/app"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/store/storetest"
)

// server is a running Suifang with the demo data.
type server struct {
	App   *app.App
	URL   string
	Clock *clock.Fake
}

// start runs the app on 127.0.0.1:0 against a fresh database of engine
// ("sqlite" or "postgres") and stops it when the test ends.
func start(t *testing.T, engine string) *server {
	t.Helper()
	return startOn(t, storetest.DSN(t, engine), true)
}

// startOn runs the app on an existing database location; demo seeds it.
func startOn(t *testing.T, dsn string, demo bool) *server {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DB = dsn
	cfg.Addr = "127.0.0.1:0"
	// Cheap hashing keeps the suite fast; the cost parameters are covered by
	// the auth tests and production uses the defaults.
	cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	// Fixed test keys: two instances on one database must share them.
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-index-key-32byt"))
	clk := clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)) // 10:00 in Beijing, a Wednesday
	cfg.Now = clk.Now
	cfg.DemoHistoryDays = 7 // a week of discharges and follow-ups keeps every test server quick
	cfg.MetricsToken = e2eMetricsToken
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("open app: %v", err)
	}
	if demo {
		if _, err := a.SeedDemo(ctx); err != nil {
			cancel()
			t.Fatalf("seed demo: %v", err)
		}
	}
	ln, err := a.Listen()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return &server{App: a, URL: "http://" + ln.Addr().(*net.TCPAddr).String(), Clock: clk}
}

// e2eMetricsToken is the scraper's bearer token on test servers.
const e2eMetricsToken = "e2e-metrics-0123456789abcdef"

// client is a browser-like HTTP client with its own cookie jar that does not
// follow redirects, so tests see each 303.
type client struct {
	t   *testing.T
	s   *server
	hc  *http.Client
	jar *cookiejar.Jar
}

func (s *server) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, s: s, jar: jar, hc: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	r, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Body: string(b), Location: r.Header.Get("Location"), Header: r.Header}
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.s.URL+path, nil)
	return c.do(req)
}

// post sends a same-origin form, as a browser does (Origin and Sec-Fetch-Site).
func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	return c.postWith(path, form, c.s.URL, "same-origin")
}

func (c *client) postWith(path string, form url.Values, origin, site string) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	return c.do(req)
}

func (c *client) login(user, pw string) resp {
	c.t.Helper()
	return c.post("/login", url.Values{"username": {user}, "password": {pw}})
}

// artifacts is where screenshots go (scripts/test sets it; else a temp dir).
func artifacts(t *testing.T) string {
	dir := os.Getenv("SUIFANG_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
