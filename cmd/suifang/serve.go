package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"suifang/internal/app"
	"suifang/internal/hl7"
	"suifang/internal/intake"
	"suifang/internal/notify"
)

// dbFlags registers the flags every data command shares.
type dbFlags struct {
	db, logFormat, logLevel string
	dataKeys, indexKey      string
	chainKey                string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.db, "db", "./suifang.db", "SQLite database file, or a postgres:// URL")
	fs.StringVar(&d.dataKeys, "data-keys", "", "patient-data keys \"id:base64,…\" (first encrypts); SQLite default: a key file beside the database")
	fs.StringVar(&d.indexKey, "index-key", "", "blind-index key (base64, 32 bytes); see 'suifang keys generate'")
	fs.StringVar(&d.chainKey, "chain-key", "", "key of the audit and record hash chains (base64, 32 bytes); default: the key file's (SQLite) or derived from --index-key")
	fs.StringVar(&d.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&d.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// open builds the app on the chosen database (migrating it), logging to stderr.
// classFlags are the encounter classes imported as inpatient stays, for
// the commands that import (serve takes MLLP and uploads; import files).
type classFlags struct{ hl7, fhir string }

func (cf *classFlags) register(fs *flag.FlagSet) {
	def := intake.DefaultClasses()
	fs.StringVar(&cf.hl7, "hl7-inpatient-classes", strings.Join(def.HL7, ","),
		"HL7 PV1-2 patient classes that are inpatient stays (discharges with a follow-up plan); others (O, E, P, R, B…) are visits")
	fs.StringVar(&cf.fhir, "fhir-inpatient-classes", strings.Join(def.FHIR, ","),
		"FHIR Encounter.class codes that are inpatient stays (add OBSENC to plan observation stays); others (AMB, EMER, VR, HH…) are visits")
}

func (cf *classFlags) apply(cfg *app.Config) {
	cfg.Classes = intake.Classes{HL7: intake.ParseClassList(cf.hl7), FHIR: intake.ParseClassList(cf.fhir)}
}

// parseOpen parses a subcommand's flags and opens the app on the
// database they name: what most administrative commands start with.
func (d *dbFlags) parseOpen(ctx context.Context, c *cli, fs *flag.FlagSet, args []string) (*app.App, error) {
	if err := parse(c, fs, args); err != nil {
		return nil, err
	}
	a, _, err := d.open(ctx, c, app.DefaultConfig())
	return a, err
}

func (d *dbFlags) open(ctx context.Context, c *cli, cfg app.Config) (*app.App, *slog.Logger, error) {
	log, err := logger(c.stderr, d.logFormat, d.logLevel)
	if err != nil {
		return nil, nil, err
	}
	cfg.DB = d.db
	cfg.DataKeys, cfg.IndexKey, cfg.ChainKey = d.dataKeys, d.indexKey, d.chainKey
	cfg.Version = version
	a, err := app.Open(ctx, cfg, log)
	return a, log, err
}

func cmdServe(ctx context.Context, c *cli, args []string) error {
	def := app.DefaultConfig()
	cfg := def
	var d dbFlags
	var demo bool
	var classes classFlags
	fs := newFlags(c, "serve", "", "Run Suifang: staff web UI, JSON API and background workers.")
	d.register(fs)
	classes.register(fs)
	fs.StringVar(&cfg.Addr, "addr", def.Addr, "listen address")
	fs.StringVar(&cfg.CTIURL, "cti-url", "", "click-to-call: POST {agent, agent_id, phone} as JSON to this telephony (CTI) URL")
	fs.StringVar(&cfg.CTIToken, "cti-token", "", "bearer token for --cti-url")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", "", "bearer token a Prometheus scraper sends for /metrics (off when empty)")
	fs.DurationVar(&cfg.Reveals.Window, "reveal-window", def.Reveals.Window, "window of the per-user cap on revealing full patient values")
	fs.IntVar(&cfg.Reveals.Staff, "reveal-limit", def.Reveals.Staff, "full patient values a member of staff may reveal per window")
	fs.IntVar(&cfg.Reveals.Agency, "reveal-limit-agency", def.Reveals.Agency, "full patient values (phones) an outside agency user may reveal per window")
	fs.IntVar(&cfg.Reveals.Integration, "reveal-limit-token", def.Reveals.Integration, "full patient values an API token may reveal per window")
	fs.StringVar(&cfg.Survey.PublicURL, "public-url", "", "patient-facing origin put in front of survey links in messages, e.g. https://sf.hospital.cn")
	fs.StringVar(&cfg.PDFFont, "pdf-font", "", "CJK TrueType font (.ttf with glyf outlines) embedded as a subset in PDF documents (default: fonts-lxgw-wenkai or fonts-droid-fallback if installed, else non-embedded STSong-Light)")
	fs.StringVar(&cfg.MLLPAddr, "mllp-addr", "", "HL7 v2 MLLP listen address for ADT from the HIS (off when empty); :2575 listens on 127.0.0.1 only, 0.0.0.0:2575 on every interface (needs 'suifang mllp allow')")
	fs.IntVar(&cfg.MLLP.MaxConns, "mllp-max-conns", def.MLLP.MaxConns, "MLLP connections served at once; more are closed at once")
	fs.IntVar(&cfg.MLLP.MaxMessage, "mllp-max-message", def.MLLP.MaxMessage, "largest MLLP message in bytes; a bigger one is answered AR and the connection closed")
	fs.DurationVar(&cfg.MLLP.IdleTimeout, "mllp-idle-timeout", def.MLLP.IdleTimeout, "how long an MLLP message may take to arrive before the connection is closed")
	fs.StringVar(&cfg.MLLP.TLSCert, "mllp-tls-cert", "", "PEM certificate file: serve MLLP over TLS")
	fs.StringVar(&cfg.MLLP.TLSKey, "mllp-tls-key", "", "PEM private key file for --mllp-tls-cert")
	fs.StringVar(&cfg.MLLP.TLSClientCA, "mllp-tls-client-ca", "", "PEM CA bundle: require MLLP clients to present a certificate it signed")
	ignore := def.MLLP.Ignore.String()
	fs.StringVar(&ignore, "hl7-ignore-events", ignore, "ADT trigger events acknowledged AA and not stored (\"none\" for none)")
	fs.BoolVar(&demo, "demo", false, "create the demo hospital group and accounts (once) and print the logins")
	fs.IntVar(&cfg.DemoHistoryDays, "demo-history-days", 0, "days of generated discharges and follow-up history the demo holds (0: 90; -1: none)")
	fs.DurationVar(&cfg.CheckpointEvery, "checkpoint-every", 10*time.Minute, "how often to record every hash chain's head in the audit log (when one moved); negative: never")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark cookies Secure (set when served over HTTPS)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "how long in-flight requests may finish at shutdown")
	fs.IntVar(&cfg.Auth.MaxFailures, "lockout-attempts", def.Auth.MaxFailures, "failed logins of one account from one address before it locks for that address")
	fs.IntVar(&cfg.Auth.AccountMaxFailures, "lockout-account-attempts", def.Auth.AccountMaxFailures, "failed logins of one account from all addresses before it locks except where it last logged in")
	fs.DurationVar(&cfg.Auth.LockoutFor, "lockout-duration", def.Auth.LockoutFor, "how long a lock lasts (and the window failures are counted in)")
	fs.IntVar(&cfg.Auth.Throttle.AddrBurst, "login-addr-burst", def.Auth.Throttle.AddrBurst, "failed logins one client address may make at once (then 429)")
	fs.DurationVar(&cfg.Auth.Throttle.AddrEvery, "login-addr-every", def.Auth.Throttle.AddrEvery, "one more failed login per address after each such interval")
	fs.IntVar(&cfg.Auth.Throttle.HashConcurrency, "login-hash-concurrency", 0, "password hashes (64 MiB each) run at once; 0: min(cores, --login-hash-memory / hash memory)")
	hashMiB := fs.Int64("login-hash-memory", def.Auth.Throttle.HashMemoryBudget>>20, "memory budget for concurrent password hashing, MiB")
	fs.DurationVar(&cfg.Auth.Throttle.HashWait, "login-hash-wait", def.Auth.Throttle.HashWait, "longest a login waits for a hashing slot before it is answered 429")
	fs.IntVar(&cfg.Auth.Password.History, "password-history", def.Auth.Password.History, "a new password may not repeat one of this many previous ones (0: off)")
	fs.DurationVar(&cfg.Auth.IdleTimeout, "session-idle", def.Auth.IdleTimeout, "idle time after which a session ends")
	fs.DurationVar(&cfg.Auth.MaxSessionAge, "session-max-age", def.Auth.MaxSessionAge, "longest a session lasts even when active")
	fs.IntVar(&cfg.Auth.Password.MinLength, "password-min-length", def.Auth.Password.MinLength, "shortest password allowed")
	fs.IntVar(&cfg.Auth.Password.MinClasses, "password-min-classes", def.Auth.Password.MinClasses, "character classes a password must mix (1-4)")
	routes, quiet := "log", def.Notify.Quiet.String()
	fs.StringVar(&routes, "notify-provider", routes, "outbox provider: log, webhook, or per channel \"sms=webhook,email=smtp,*=log\"")
	fs.StringVar(&cfg.Notify.Webhook.URL, "notify-webhook-url", "", "webhook provider: POST each message as signed JSON to this URL")
	fs.StringVar(&cfg.Notify.Webhook.Secret, "notify-webhook-secret", "", "webhook provider: HMAC-SHA256 key for X-Suifang-Signature")
	fs.DurationVar(&cfg.Notify.Webhook.Timeout, "notify-webhook-timeout", def.Notify.Webhook.Timeout, "webhook provider: time limit per message")
	fs.StringVar(&cfg.Notify.SMTP.Addr, "notify-smtp-addr", "", "smtp provider: mail relay host:port")
	fs.StringVar(&cfg.Notify.SMTP.From, "notify-smtp-from", "", "smtp provider: sender address")
	fs.StringVar(&cfg.Notify.SMTP.User, "notify-smtp-user", "", "smtp provider: user name (PLAIN auth, only over TLS or to localhost)")
	fs.StringVar(&cfg.Notify.SMTP.Password, "notify-smtp-password", "", "smtp provider: password")
	fs.StringVar(&quiet, "notify-quiet-hours", quiet, "no patient messages in this institution-local window (HH:MM-HH:MM, or off)")
	fs.IntVar(&cfg.Notify.MaxAttempts, "notify-max-attempts", def.Notify.MaxAttempts, "attempts before a message is dead")
	fs.IntVar(&cfg.Notify.Concurrency, "notify-concurrency", def.Notify.Concurrency, "messages in flight per instance")
	fs.IntVar(&cfg.Notify.Batch, "notify-batch", def.Notify.Batch, "messages claimed at once")
	fs.DurationVar(&cfg.Notify.Poll, "notify-poll", def.Notify.Poll, "how often an idle outbox looks for due messages")
	fs.DurationVar(&cfg.Notify.Lease, "notify-lease", def.Notify.Lease, "how long a claim lasts; a crashed instance's messages are retried after it")
	fs.IntVar(&cfg.Notify.Caps.PerNumberHour, "public-sms-number-hour", def.Notify.Caps.PerNumberHour, "verification codes to one mobile number in any hour")
	fs.IntVar(&cfg.Notify.Caps.PerNumberDay, "public-sms-number-day", def.Notify.Caps.PerNumberDay, "verification codes to one mobile number in any 24 hours")
	fs.IntVar(&cfg.Notify.Caps.PerClientHour, "public-sms-client-hour", def.Notify.Caps.PerClientHour, "verification codes requested from one client address in any hour")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	classes.apply(&cfg)
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.MLLP.Ignore, err = hl7.ParseEventSet(ignore); err != nil {
		return usageErr("--hl7-ignore-events: %v", err)
	}
	if cfg.MLLP.MaxConns < 1 || cfg.MLLP.MaxMessage < 1024 || cfg.MLLP.IdleTimeout < time.Second {
		return usageErr("--mllp-max-conns must be positive, --mllp-max-message at least 1024 and --mllp-idle-timeout at least 1s")
	}
	if cfg.MLLPAddr != "" {
		if _, err := app.MLLPListenAddr(cfg.MLLPAddr); err != nil {
			return usageErr("%v", err)
		}
	}
	if cfg.Notify.Routes, err = notify.ParseRoutes(routes); err != nil {
		return usageErr("--notify-provider: %v", err)
	}
	if cfg.Notify.Quiet, err = notify.ParseQuietHours(quiet); err != nil {
		return usageErr("--notify-quiet-hours: %v", err)
	}
	if cfg.Notify.MaxAttempts < 1 || cfg.Notify.Concurrency < 1 || cfg.Notify.Batch < 1 || cfg.Notify.Lease < time.Second {
		return usageErr("notify attempts, concurrency and batch must be positive and the lease at least 1s")
	}
	if cfg.Auth.MaxFailures < 1 || cfg.Auth.Password.MinLength < 1 || cfg.Auth.Password.MinClasses < 1 || cfg.Auth.Password.MinClasses > 4 {
		return usageErr("lockout attempts, password length and classes (1-4) must be positive")
	}
	cfg.Auth.Throttle.HashMemoryBudget = *hashMiB << 20
	th := cfg.Auth.Throttle
	if cfg.Auth.AccountMaxFailures < cfg.Auth.MaxFailures || th.AddrBurst < 1 || th.AddrEvery <= 0 || th.HashConcurrency < 0 ||
		*hashMiB < 1 || th.HashWait < 0 || cfg.Auth.Password.History < 0 {
		return usageErr("login throttle: account attempts must be at least --lockout-attempts, burst, interval and memory positive")
	}
	start := time.Now()
	a, log, err := d.open(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	var logins []app.DemoLogin
	if demo {
		if logins, err = a.SeedDemo(ctx); err != nil {
			return err
		}
	}
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	if err := a.ListenMLLP(ctx); err != nil {
		ln.Close()
		return err
	}
	log.Info("suifang listening", "addr", ln.Addr().String(), "engine", a.DB.Dialect, "version", version,
		"startup", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(c.stdout, "Suifang is running at %s\n", displayURL(ln.Addr()))
	if demo {
		fmt.Fprintf(c.stdout, "Demo logins (password %s for all):\n", app.DemoPassword)
		for _, l := range logins {
			fmt.Fprintf(c.stdout, "  %-8s %-12s %s\n", l.Username, l.Role, l.Name)
		}
	}
	fmt.Fprintln(c.stdout, "Press Ctrl+C to stop.")
	if err := a.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// displayURL turns a listen address into a URL a person can open.
func displayURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		port := 0
		if ok {
			port = tcp.Port
		}
		return fmt.Sprintf("http://localhost:%d/", port)
	}
	return "http://" + tcp.String() + "/"
}

func cmdMigrate(ctx context.Context, c *cli, args []string) error {
	var d dbFlags
	var status bool
	fs := newFlags(c, "migrate", "", "Apply pending database migrations (serve also does this at start).")
	d.register(fs)
	fs.BoolVar(&status, "status", false, "only report how many migrations are pending")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	log, err := logger(c.stderr, d.logFormat, d.logLevel)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, d.db, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if status {
		n, err := db.Pending(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%d migration(s) pending on %s\n", n, db.Dialect)
		return nil
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "applied %d migration(s) on %s\n", n, db.Dialect)
	return nil
}
