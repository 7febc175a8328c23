package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsGuard: /metrics answers only the configured bearer token, and
// is off when none is configured (it used to be public).
func TestMetricsGuard(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("suifang_build_info 1\n")) })
	m := &metrics{}
	cases := []struct {
		name, token, auth string
		want              int
	}{
		{"no token configured", "", "Bearer anything", http.StatusNotFound},
		{"no token configured, no header", "", "", http.StatusNotFound},
		{"missing header", "s3cr3t-scrape-token", "", http.StatusUnauthorized},
		{"wrong token", "s3cr3t-scrape-token", "Bearer s3cr3t-scrape-tokeN", http.StatusUnauthorized},
		{"prefix of the token", "s3cr3t-scrape-token", "Bearer s3cr3t", http.StatusUnauthorized},
		{"basic auth", "s3cr3t-scrape-token", "Basic czNjcjN0LXNjcmFwZS10b2tlbg==", http.StatusUnauthorized},
		{"right token", "s3cr3t-scrape-token", "Bearer s3cr3t-scrape-token", http.StatusOK},
		{"scheme in lower case", "s3cr3t-scrape-token", "bearer s3cr3t-scrape-token", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			m.guard(tc.token, inner).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if leaked := rec.Body.String() == "suifang_build_info 1\n"; leaked != (tc.want == http.StatusOK) {
				t.Fatalf("body %q with status %d", rec.Body.String(), rec.Code)
			}
			if tc.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// FuzzMetricsGuard: whatever Authorization header arrives, only the exact
// token (after "Bearer ", any case of the scheme, surrounding blanks)
// reaches the metrics, and nothing panics.
func FuzzMetricsGuard(f *testing.F) {
	const token = "s3cr3t-scrape-token"
	for _, s := range []string{"", "Bearer " + token, "bearer " + token, "Bearer  " + token + " ", "Bearer", "Bearer ",
		"Basic " + token, token, "Bearer " + token + "x", "Bearer\t" + token, "Bearer " + token[:5]} {
		f.Add(s)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	g := (&metrics{}).guard(token, inner)
	f.Fuzz(func(t *testing.T, h string) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header["Authorization"] = []string{h}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		scheme, rest, ok := strings.Cut(h, " ")
		allowed := ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(rest) == token
		if (rec.Code == http.StatusTeapot) != allowed {
			t.Fatalf("header %q: status %d", h, rec.Code)
		}
		if rec.Code != http.StatusTeapot && rec.Code != http.StatusUnauthorized {
			t.Fatalf("header %q: status %d", h, rec.Code)
		}
	})
}
