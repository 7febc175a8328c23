package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/testkit"
)

// env is a populated database with two hospitals, H1 (five departments) and
// H2 (one), an administrator and API tokens.
type env struct {
	t       testing.TB
	h       http.Handler
	deps    Deps
	logs    *syncBuffer
	h1, h2  int64
	h1Depts []int64 // in creation (= id) order
	h2Dept  int64
	tok1    string // H1
	tok2    string // H2
	revoked string // H1, revoked
	kit     *testkit.Env
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testNow() time.Time { return time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC) }

func newEnv(t testing.TB, db *store.DB, cal CalendarAPI) *env {
	t.Helper()
	ctx := context.Background()
	k := testkit.New(t, db, testkit.Options{Start: testNow()})
	as, og, au := k.Auth, k.Org, k.Audit
	sys := access.System()
	e := &env{t: t, logs: &syncBuffer{}, kit: k}
	must := testkit.Must(t)
	e.h1 = k.Institution(t, "H1", "第一医院")
	e.h2 = k.Institution(t, "H2", "第二医院")
	// Codes deliberately out of id order: pagination is by id, not code.
	for i, code := range []string{"ZZ", "CARD", "NEUR", "ER", "ADM"} {
		in := org.DepartmentInput{InstitutionID: e.h1, Code: code, Name: "科室" + code, Kind: org.DeptClinical}
		if i == 2 {
			in.ParentID = e.h1Depts[1]
			in.Kind = org.DeptWard
		}
		e.h1Depts = append(e.h1Depts, must(og.CreateDepartment(ctx, sys, in)))
	}
	e.h2Dept = k.Department(t, e.h2, "CARD", "心内科", "")

	uid := must(as.CreateUser(ctx, sys, auth.UserInput{Username: "admin", DisplayName: "管理员", Password: "Adm1n-Passw0rd!",
		HomeInstitutionID: e.h1, Roles: []access.Role{access.SysAdmin}, Active: true}))
	admin, err := as.PrincipalFor(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	token := func(inst int64, name string) (string, int64) {
		t.Helper()
		plain, tk, err := as.CreateToken(ctx, admin, inst, name)
		if err != nil {
			t.Fatal(err)
		}
		return plain, tk.ID
	}
	e.tok1, _ = token(e.h1, "his-h1")
	e.tok2, _ = token(e.h2, "his-h2")
	var rid int64
	e.revoked, rid = token(e.h1, "old")
	if err := as.RevokeToken(ctx, admin, rid); err != nil {
		t.Fatal(err)
	}
	e.deps = Deps{Auth: as, Org: og, Audit: au, Calendar: cal, Version: "test",
		Log: slog.New(slog.NewJSONHandler(e.logs, nil))}
	e.h = New(e.deps)
	return e
}

// do sends a request and returns the recorder.
func (e *env) do(method, path, token string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// decode parses a JSON body into a generic map.
func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, w.Body)
	}
	return m
}

// wantJSON checks a 200 JSON answer and decodes it into v.
func wantJSON(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, w.Body)
	}
}

// wantProblem checks a problem answer and returns it.
func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	p := decode(t, w)
	if p["code"] != code {
		t.Errorf("code %v, want %s (%s)", p["code"], code, w.Body)
	}
	if p["status"] != float64(status) {
		t.Errorf("status member %v, want %d", p["status"], status)
	}
	if p["type"] != problemBase+code {
		t.Errorf("type %v", p["type"])
	}
	if p["title"] != http.StatusText(status) {
		t.Errorf("title %v", p["title"])
	}
	if p["request_id"] != w.Header().Get("X-Request-Id") || p["request_id"] == "" {
		t.Errorf("request_id %v, header %q", p["request_id"], w.Header().Get("X-Request-Id"))
	}
	return p
}

// fakeCalendar answers from fixed data and records its calls.
type fakeCalendar struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeCalendar) AddWorkdays(ctx context.Context, p *access.Principal, inst int64, from string, n int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("add %d %d %s %d", p.InstitutionID, inst, from, n))
	if f.err != nil {
		return "", f.err
	}
	if from == "2026-09-30" && n == 3 {
		return "2026-10-10", nil // National Day holiday, then the Saturday make-up day
	}
	return "2026-01-0" + fmt.Sprint(n%10), nil
}

func (f *fakeCalendar) IsWorkday(ctx context.Context, p *access.Principal, inst int64, date string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("day %d %d %s", p.InstitutionID, inst, date))
	if f.err != nil {
		return false, f.err
	}
	return date == "2026-10-10" || !strings.HasPrefix(date, "2026-10-0"), nil
}
