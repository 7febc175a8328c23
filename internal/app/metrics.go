package app

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"suifang/internal/auth"
	"suifang/internal/store"
)

// metrics is the app's own Prometheus registry (no global default registry,
// so two apps in one test process do not collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	mllp     *prometheus.CounterVec // HL7 messages by outcome
}

func newMetrics(version string, db *store.DB) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "suifang_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "suifang_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	m.mllp = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "suifang_mllp_messages_total",
		Help: "HL7 messages received over MLLP by outcome: stored, ignored (AA, not used), error (AE), rejected (AR), sender_refused (AR).",
	}, []string{"outcome"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "suifang_build_info", Help: "Build and storage engine of this instance (always 1).",
	}, []string{"version", "engine"})
	build.WithLabelValues(version, string(db.Dialect)).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.mllp, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchLoginGate exports the password-hashing gate, so an operator sees a
// login flood being turned away (refused) and whether the slots suffice.
func (m *metrics) watchLoginGate(g *auth.Gate) {
	stat := func(f func(auth.GateStats) float64) func() float64 { return func() float64 { return f(g.Stats()) } }
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "suifang_login_hash_slots",
			Help: "Password hashes (argon2id) this instance runs at once at most."},
			stat(func(s auth.GateStats) float64 { return float64(s.Slots) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "suifang_login_hashes_total",
			Help: "Password hashes run (logins, changes, resets, history checks)."},
			stat(func(s auth.GateStats) float64 { return float64(s.Done) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "suifang_login_hash_refused_total",
			Help: "Password checks refused busy (no hashing slot in time, or the queue full)."},
			stat(func(s auth.GateStats) float64 { return float64(s.Refused) })),
	)
}

// guard lets through only a request bearing token; with no token set,
// /metrics is off. The comparison takes the same time for every guess.
func (m *metrics) guard(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if token == "" {
			http.Error(w, "metrics are off: start with --metrics-token", http.StatusNotFound)
			return
		}
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="suifang-metrics"`)
			http.Error(w, "metrics need the bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts requests by the route pattern that served them, never by
// raw path, so patient ids in URLs do not explode the label set.
func (m *metrics) instrument(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		name := route(r)
		if name == "" {
			name = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.requests.WithLabelValues(name, r.Method, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}
