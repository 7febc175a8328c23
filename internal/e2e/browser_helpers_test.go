package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every single browser step, so a hang fails one test
// quickly instead of stalling CI; browserTimeout bounds a whole test's browser.
const (
	stepTimeout    = 30 * time.Second
	browserTimeout = 3 * time.Minute
)

// browser is one headless Chromium for one test. Each session (tab) runs in
// its own browser context, so sessions share no cookies.
type browser struct {
	t    *testing.T
	s    *server
	root context.Context
}

// newBrowser starts Chromium from SUIFANG_TEST_BROWSER, or skips the test
// when it is unset.
func newBrowser(t *testing.T, s *server) *browser {
	t.Helper()
	exe := os.Getenv("SUIFANG_TEST_BROWSER")
	if exe == "" {
		t.Skip("SUIFANG_TEST_BROWSER is not set; skipping the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate"),
		chromedp.Flag("password-store", "basic"),
		// A Chinese hospital's browser: the app picks its language from
		// Accept-Language when no lang cookie is set.
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	// The test's own deadline; t.Context is canceled before cleanups run,
	// which would kill the browser under a still-running tab.
	life, stop := context.WithTimeout(context.Background(), browserTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	root, cancelRoot := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
		stop()
	})
	// The first Run starts the browser; it binds the browser's life to root,
	// so it must not carry the per-step timeout.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return &browser{t: t, s: s, root: root}
}

// tab is one user's session: a tab in a fresh browser context.
type tab struct {
	t   *testing.T
	s   *server
	ctx context.Context
}

// session opens a tab in a new browser context (own cookies) with the
// default desktop viewport.
func (b *browser) session(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, without a step timeout
		t.Fatalf("new tab: %v", err)
	}
	tb := &tab{t: t, s: b.s, ctx: ctx}
	tb.do(chromedp.EmulateViewport(1366, 768))
	return tb
}

// run runs one action with the step timeout and fails the test on error.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %s: %v (at %s)", what, err, tb.where())
	}
	return v
}

// where is the current URL, for failure messages; it never fails the test.
func (tb *tab) where() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, "steps", chromedp.Steps(steps...))
}

// open navigates to a path of the app and returns the HTTP status.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	resp := run(tb, "open "+path, chromedp.NavigateResponse(tb.s.URL+path))
	if resp == nil {
		tb.t.Fatalf("open %s: no response", path)
	}
	return resp.Status
}

// clickNav clicks an element that causes a page load (a submit button or a
// link), waits for the new page and returns its HTTP status.
func (tb *tab) clickNav(sel string) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("click %s: %v (at %s)", sel, err, tb.where())
	}
	if resp == nil {
		tb.t.Fatalf("click %s: no response", sel)
	}
	return resp.Status
}

// fill replaces the value of a text field by typing into it.
func (tb *tab) fill(sel, value string) {
	tb.t.Helper()
	run(tb, "fill "+sel, chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	))
}

// setValue sets a field's value directly (selects, date inputs, whose typing
// rules depend on the browser's locale).
func (tb *tab) setValue(sel, value string) {
	tb.t.Helper()
	run(tb, "set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// check makes sure a checkbox or radio is checked, clicking it if needed.
func (tb *tab) check(sel string) {
	tb.t.Helper()
	if !tb.eval(fmt.Sprintf(`document.querySelector(%q).checked`, sel)).(bool) {
		run(tb, "check "+sel, chromedp.Click(chromedp.CSS(sel)))
	}
	if !tb.eval(fmt.Sprintf(`document.querySelector(%q).checked`, sel)).(bool) {
		tb.t.Fatalf("%s did not become checked", sel)
	}
}

func (tb *tab) value(sel string) string {
	tb.t.Helper()
	return run(tb, "value "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// text is the visible text of the first element matching sel.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return run(tb, "text "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (tb *tab) html(sel string) string {
	tb.t.Helper()
	return run(tb, "html "+sel, chromedp.OuterHTML(chromedp.CSS(sel)))
}

// body is the visible text of the whole page.
func (tb *tab) body() string {
	tb.t.Helper()
	return run(tb, "body text", chromedp.Evaluate[string](`document.body.innerText`))
}

func (tb *tab) eval(js string) any {
	tb.t.Helper()
	return run(tb, "eval "+js, chromedp.Evaluate[any](js))
}

func (tb *tab) path() string {
	tb.t.Helper()
	return run(tb, "location", chromedp.Evaluate[string](`location.pathname`))
}

// exists reports whether the selector matches now (no waiting).
func (tb *tab) exists(sel string) bool {
	tb.t.Helper()
	return tb.eval(fmt.Sprintf(`document.querySelector(%q) !== null`, sel)).(bool)
}

// wantText fails unless the page's visible text contains every want.
func (tb *tab) wantText(wants ...string) {
	tb.t.Helper()
	b := tb.body()
	for _, w := range wants {
		if !strings.Contains(b, w) {
			tb.t.Fatalf("page %s lacks %q; it shows:\n%.1500s", tb.where(), w, b)
		}
	}
}

func (tb *tab) wantNoText(nots ...string) {
	tb.t.Helper()
	b := tb.body()
	for _, w := range nots {
		if strings.Contains(b, w) {
			tb.t.Fatalf("page %s shows %q but should not:\n%.1500s", tb.where(), w, b)
		}
	}
}

func (tb *tab) wantPath(want string) {
	tb.t.Helper()
	if got := tb.path(); got != want {
		tb.t.Fatalf("at %s, want path %s", tb.where(), want)
	}
}

// wantNoUntranslated fails when a catalog key leaked onto the page as
// "[some.key]".
func (tb *tab) wantNoUntranslated() {
	tb.t.Helper()
	b := tb.body()
	if i := strings.Index(b, "["); i >= 0 {
		if j := strings.Index(b[i:], "]"); j > 0 && j < 64 {
			k := b[i+1 : i+j]
			if strings.Contains(k, ".") && !strings.ContainsAny(k, " \n/:") {
				tb.t.Errorf("page %s shows an untranslated key %q", tb.where(), b[i:i+j+1])
			}
		}
	}
}

// shot saves a full-page PNG screenshot into the artifacts directory.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	buf := run(tb, "screenshot "+name, chromedp.FullScreenshot(100)) // 100 = PNG
	p := filepath.Join(artifacts(tb.t), name)
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s", p)
}

// login fills the login form (the tab must be on /login) and submits it.
func (tb *tab) login(user, pw string) int64 {
	tb.t.Helper()
	tb.fill("#username", user)
	tb.fill("#password", pw)
	return tb.clickNav(`form[action="/login"] button[type=submit]`)
}

// acceptDialogs answers every JavaScript dialog (data-confirm forms) with
// OK and sends its message to the returned channel.
func (tb *tab) acceptDialogs() <-chan string {
	msgs := make(chan string, 8)
	dialogs := chromedp.Events(tb.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			select {
			case msgs <- ev.Message:
			default:
			}
			ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			cancel()
		}
	}()
	return msgs
}
