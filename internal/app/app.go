// Package app is the composition root: it opens the store, builds every
// service, mounts the web UI, the JSON API and the operational endpoints, and
// runs the server with an ordered shutdown. cmd/suifang and the end-to-end
// tests both start Suifang through it, so tests run the real wiring.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/api"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar/caldb"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/mllpauth"
	"suifang/internal/notice"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pdf"
	"suifang/internal/store"
	"suifang/internal/survey"
	"suifang/internal/web"
)

// Config is everything a deployment can set. cmd/suifang fills it from flags
// and SUIFANG_* environment variables.
type Config struct {
	DB              string // SQLite file path or postgres:// URL
	Addr            string // listen address for serve
	MLLPAddr        string // HL7 v2 MLLP listen address; "" = off, ":2575" = loopback (MLLPListenAddr)
	MLLP            MLLPConfig
	CTIURL          string // click-to-call hook of the telephony system; "" = tel: links only
	CTIToken        string
	SecureCookies   bool          // mark cookies Secure (serve behind HTTPS)
	ShutdownTimeout time.Duration // how long in-flight requests may finish
	Auth            auth.Policy
	Followup        followup.Policy
	Notify          notify.Policy
	Survey          survey.Config
	// DataKeys encrypt patient identifiers ("id:base64key,…", first is
	// current); IndexKey keys the blind indexes. See loadKeys.
	DataKeys string
	IndexKey string
	// ChainKey keys the hash chains (base64, 32 bytes); "" takes the key
	// file's (SQLite) or one derived from IndexKey.
	ChainKey string
	// CheckpointEvery is how often serve records every chain's head in the
	// audit log (when a head moved); 0 means 10 minutes, negative never.
	CheckpointEvery time.Duration
	Version         string
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// DemoHistoryDays is how many days of discharges and follow-up history
	// SeedDemo creates (0: 90; negative: none).
	DemoHistoryDays int
	// Classes are the HL7 PV1-2 and FHIR Encounter.class codes imported as
	// inpatient stays; every other class is a visit without a plan.
	Classes intake.Classes
	// PDFFont is the CJK TrueType font embedded in PDF documents; "" looks
	// in the known Debian paths (fonts-lxgw-wenkai, fonts-droid-fallback)
	// and, finding none, falls back to the non-embedded STSong-Light.
	PDFFont string
	// MetricsToken guards /metrics: a scraper sends it as a bearer token.
	// Empty turns /metrics off (it names routes, versions and load).
	MetricsToken string
	// Reveals caps reveals of full patient values per user; zero values
	// take patient.DefaultRevealLimits.
	Reveals patient.RevealLimits
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{DB: "./suifang.db", Addr: ":8080", ShutdownTimeout: 10 * time.Second, MLLP: DefaultMLLPConfig(), Classes: intake.DefaultClasses(),
		Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(), Notify: notify.DefaultPolicy(), Version: "dev",
		Reveals: patient.DefaultRevealLimits()}
}

// App is a running Suifang: its store and services.
type App struct {
	Cfg        Config
	Log        *slog.Logger
	DB         *store.DB
	Audit      *audit.Service
	Auth       *auth.Service
	Org        *org.Service
	Calendar   *caldb.Service
	Patients   *patient.Service
	Followup   *followup.Service
	Importer   *importer.Service
	Notify     *notify.Service
	Notices    *notice.Service
	Complaints *complaint.Service
	Abnormal   *abnormal.Service
	Senders    *mllpauth.Service

	// coreOpts is how the services were built; the demo builds a second
	// set on a clock of its own to write history at historical instants.
	coreOpts core.Options
	services *core.Services // the same services as the fields above, for the demo seed
	Survey   *survey.Service

	mllpLn  net.Listener // opened by ListenMLLP, served by Serve
	mllpTLS *tls.Config
	web     *web.Server
	api     http.Handler
	metrics *metrics
	ready   chan struct{}
	bg      sync.WaitGroup
}

// Open connects to the database, applies pending migrations and builds the
// services. Close releases it.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Cfg: cfg, Log: log, DB: db, ready: make(chan struct{})}
	keys, index, chainKey, err := loadKeys(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	var dialer followup.Dialer
	if cfg.CTIURL != "" {
		dialer = followup.NewHTTPDialer(cfg.CTIURL, cfg.CTIToken)
	}
	a.coreOpts = core.Options{Now: cfg.Now, Log: log, Auth: cfg.Auth, Followup: cfg.Followup,
		Keys: keys, Index: index, ChainKey: chainKey, Dialer: dialer, Notify: cfg.Notify, Survey: cfg.Survey, Classes: cfg.Classes,
		Reveals: cfg.Reveals}
	sv, err := core.Build(db, a.coreOpts)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.services = sv
	if err := sv.Audit.CheckKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.Audit, a.Auth, a.Org, a.Calendar = sv.Audit, sv.Auth, sv.Org, sv.Calendar
	a.Patients, a.Followup, a.Importer, a.Survey = sv.Patients, sv.Followup, sv.Importer, sv.Survey
	a.Notify, a.Notices, a.Complaints = sv.Notify, sv.Notices, sv.Complaints
	a.Abnormal, a.Senders = sv.Abnormal, sv.Senders
	font, err := loadPDFFont(cfg.PDFFont, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.web, err = web.New(web.Deps{Auth: a.Auth, Org: a.Org, Audit: a.Audit, Calendar: a.Calendar, Log: log, PDFFont: font,
		Patients: a.Patients, Followup: a.Followup, Importer: a.Importer, Notify: a.Notify, Notices: a.Notices, Survey: a.Survey,
		Complaints: a.Complaints,
		Abnormal:   a.Abnormal,
		KPI:        sv.KPI,
		Senders:    a.Senders,
		Now:        cfg.Now, Version: cfg.Version, SecureCookies: cfg.SecureCookies})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.api = api.New(api.Deps{Auth: a.Auth, Org: a.Org, Audit: a.Audit, Calendar: a.Calendar, Log: log, Version: cfg.Version,
		Patients: a.Patients, Followup: a.Followup, Importer: a.Importer, CalDB: a.Calendar, Now: cfg.Now, Notices: a.Notices,
		Complaints: a.Complaints, Abnormal: a.Abnormal, KPI: sv.KPI})
	a.metrics = newMetrics(cfg.Version, db)
	a.metrics.watchLoginGate(a.Auth.Gate())
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler is the whole HTTP surface: operational endpoints, the API and the UI.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", a.metrics.guard(a.Cfg.MetricsToken, a.metrics.handler()))
	mux.Handle("/api/v1/", a.api)
	mux.Handle("/", a.web.Handler())
	// The UI has its own mux behind middleware; ask it for the real pattern so
	// metrics are labelled per page rather than all as "/".
	route := func(r *http.Request) string {
		if _, p := mux.Handler(r); p != "/" {
			return p
		}
		return a.web.Route(r)
	}
	return a.metrics.instrument(mux, route)
}

// readyz answers 200 only once serving has started and the database answers
// with no migration pending, so a load balancer sends no traffic too early.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-a.ready:
	default:
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if n, err := a.DB.Pending(ctx); err != nil || n > 0 {
		http.Error(w, "migrations pending", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// Serve serves HTTP on ln until ctx ends, then shuts down in order: stop
// taking requests and let in-flight ones finish, stop background workers.
// The caller closes the App (the database) afterwards.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	// The MLLP port opens before anything runs, so a refused or failed
	// listen stops the start instead of leaving a server without its feed.
	if err := a.ListenMLLP(ctx); err != nil {
		return err
	}
	mllpLn, mllpTLS := a.mllpLn, a.mllpTLS
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	a.startWorkers(wctx)
	a.startSurveyWorker(wctx)
	if mllpLn != nil {
		a.bg.Go(func() {
			if err := a.serveMLLP(wctx, mllpLn, mllpTLS); err != nil {
				a.Log.Error("hl7 mllp listener stopped", "err", err)
			}
		})
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	close(a.ready)
	select {
	case err := <-errc:
		stopWorkers()
		a.bg.Wait()
		return fmt.Errorf("app: serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	a.Log.Info("shutting down: stopping workers")
	stopWorkers()
	a.bg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	return nil
}

// markInterruptedImports ends imports whose process died mid-file.
func (a *App) markInterruptedImports(ctx context.Context) {
	if n, err := a.Importer.MarkInterrupted(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("mark interrupted imports", "err", err)
	} else if n > 0 {
		a.Log.Warn("imports interrupted by a stopped process", "batches", n)
	}
}

// Resealed counts the rows Reseal changed.
type Resealed struct{ Patients, Complaints, Rejects, Messages int }

// Reseal binds every sealed value to its owning row (patients' identifiers,
// complaint contacts, import rejects, outbox messages), in batches;
// idempotent. Serve runs it at start, 'suifang keys reseal' on demand.
func (a *App) Reseal(ctx context.Context) (Resealed, error) {
	var r Resealed
	var err error
	for _, step := range []struct {
		n  *int
		fn func(context.Context, int) (int, error)
	}{{&r.Patients, a.Patients.Reseal}, {&r.Complaints, a.Complaints.Reseal}, {&r.Rejects, a.Importer.Reseal}, {&r.Messages, a.Notify.Reseal}} {
		if *step.n, err = step.fn(ctx, 500); err != nil {
			return r, err
		}
	}
	return r, nil
}

// every runs fn each period until ctx ends, as a background worker.
func (a *App) every(ctx context.Context, period time.Duration, fn func()) {
	a.bg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	})
}

// startWorkers launches the periodic housekeeping jobs and the outbox.
func (a *App) startWorkers(ctx context.Context) {
	a.bg.Go(func() { a.Notify.Run(ctx) })
	a.bg.Go(func() {
		r, err := a.Reseal(ctx)
		if err != nil && ctx.Err() == nil {
			a.Log.Error("re-seal patient data", "err", err)
		} else if r != (Resealed{}) {
			a.Log.Info("re-sealed patient data bound to its rows", "patients", r.Patients, "complaints", r.Complaints,
				"import_rejects", r.Rejects, "messages", r.Messages)
		}
	})
	// Every chain's head is anchored in the audit log now and then, so
	// rows cut off the end of a chain show in verify; a checkpoint is only
	// written when some head moved.
	if every := a.Cfg.CheckpointEvery; every >= 0 {
		if every == 0 {
			every = 10 * time.Minute
		}
		a.every(ctx, every, func() {
			if _, err := a.Audit.Checkpoint(ctx, access.System(), true); err != nil && ctx.Err() == nil {
				a.Log.Error("chain checkpoint", "err", err)
			}
		})
	}
	// Overdue notices escalate; the step is recorded in the database, so
	// every instance may run this.
	a.every(ctx, time.Minute, func() {
		if n, err := a.Notices.Escalate(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("escalate notices", "err", err)
		} else if n > 0 {
			a.Log.Info("escalated overdue notices", "steps", n)
		}
		// Passed complaint milestones escalate once each, the same way.
		if n, err := a.Complaints.Escalate(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("escalate complaints", "err", err)
		} else if n > 0 {
			a.Log.Info("escalated complaint milestones", "steps", n)
		}
		// Unacknowledged abnormal reports alert leadership again, once.
		if n, err := a.Abnormal.Realert(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("re-alert abnormal reports", "err", err)
		} else if n > 0 {
			a.Log.Info("re-alerted abnormal reports", "reports", n)
		}
	})
	a.bg.Go(func() { a.markInterruptedImports(ctx) }) // a restart after a crash shows it at once
	a.every(ctx, 5*time.Minute, func() {
		a.markInterruptedImports(ctx)
		if n, err := a.Auth.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("purge sessions", "err", err)
		} else if n > 0 {
			a.Log.Info("purged idle sessions", "count", n)
		}
	})
}

// surveyEvery is how often the survey worker looks for follow-up tasks to
// invite and invitations to remind.
const surveyEvery = time.Minute

// startSurveyWorker sends survey invitations when an sms/wechat/web task's
// window opens, and reminders. A worker (rather than inviting at plan time)
// lets tasks planned weeks ahead wait until they are due, and it notices
// tasks closed by phone meanwhile. Every instance may run it: invitations
// are unique per task and reminders are counted with a compare-and-set.
func (a *App) startSurveyWorker(ctx context.Context) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		t := time.NewTicker(surveyEvery)
		defer t.Stop()
		for {
			a.Survey.Work(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Listen opens the configured address.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("app: listen %s: %w", a.Cfg.Addr, err)
	}
	return ln, nil
}

// loadPDFFont reads the font PDF documents embed. A font named by the
// operator must load; without one, the known Debian paths are tried, and
// with none there the documents use STSong-Light, which renders only where
// the reader has a CJK font: worth a warning, not a refusal to start.
func loadPDFFont(flag string, log *slog.Logger) (*pdf.Font, error) {
	path := pdf.FindFont(flag)
	if path == "" {
		log.Warn("no CJK TrueType font found: PDF documents use the non-embedded STSong-Light and need a CJK font where they are read; install fonts-lxgw-wenkai or pass --pdf-font")
		return nil, nil
	}
	f, err := pdf.LoadFont(path)
	if err != nil {
		if flag != "" {
			return nil, fmt.Errorf("app: --pdf-font %s: %w", flag, err)
		}
		log.Warn("cannot use the CJK font: PDF documents use the non-embedded STSong-Light", "path", path, "err", err)
		return nil, nil
	}
	log.Info("PDF documents embed a subset of", "font", path)
	return f, nil
}
