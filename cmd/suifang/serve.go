package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	"suifang/internal/app"
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
	fs := newFlags(c, "serve", "", "Run Suifang: staff web UI, JSON API and background workers.")
	d.register(fs)
	fs.StringVar(&cfg.Addr, "addr", def.Addr, "listen address")
	fs.StringVar(&cfg.CTIURL, "cti-url", "", "click-to-call: POST {agent, agent_id, phone} as JSON to this telephony (CTI) URL")
	fs.StringVar(&cfg.CTIToken, "cti-token", "", "bearer token for --cti-url")
	fs.StringVar(&cfg.Survey.PublicURL, "public-url", "", "patient-facing origin put in front of survey links in messages, e.g. https://sf.hospital.cn")
	fs.StringVar(&cfg.MLLPAddr, "mllp-addr", "", "HL7 v2 MLLP listen address for ADT messages from the HIS, e.g. :2575 (off when empty)")
	fs.BoolVar(&demo, "demo", false, "create the demo hospital group and accounts (once) and print the logins")
	fs.IntVar(&cfg.DemoHistoryDays, "demo-history-days", 0, "days of generated discharges and follow-up history the demo holds (0: 90; -1: none)")
	fs.DurationVar(&cfg.CheckpointEvery, "checkpoint-every", 10*time.Minute, "how often to record every hash chain's head in the audit log (when one moved); negative: never")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark cookies Secure (set when served over HTTPS)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "how long in-flight requests may finish at shutdown")
	fs.IntVar(&cfg.Auth.MaxFailures, "lockout-attempts", def.Auth.MaxFailures, "failed logins before an account locks")
	fs.DurationVar(&cfg.Auth.LockoutFor, "lockout-duration", def.Auth.LockoutFor, "how long a locked account stays locked")
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
	if err := parse(c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	var err error
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
