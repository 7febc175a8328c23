package e2e

// The outbox's exactly-once claim, measured: 10,000 webhook messages, the
// real binary killed with SIGKILL mid-run, restarted (two instances at once
// on PostgreSQL), and a receiver that counts every delivery per
// Idempotency-Key.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

const (
	crashMessages    = 10000
	crashConcurrency = 8
	crashSecret      = "crash-test-webhook-secret"
)

var (
	crashDataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte"))
	crashIndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-index-key-32byt"))
)

// receiver counts deliveries per idempotency key and remembers which
// instance made each.
type receiver struct {
	mu      sync.Mutex
	byKey   map[string][]string // key → instances, one per delivery
	total   int
	badSig  int
	firstAt time.Time
	lastAt  time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key, inst := r.Header.Get("Idempotency-Key"), r.Header.Get("X-Suifang-Instance")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.Header.Get("X-Suifang-Signature") != notify.Sign(crashSecret, body) {
		rc.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	now := time.Now()
	if rc.firstAt.IsZero() {
		rc.firstAt = now
	}
	rc.lastAt = now
	rc.byKey[key] = append(rc.byKey[key], inst)
	rc.total++
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) distinct() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.byKey)
}

// buildBinary compiles cmd/suifang once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "suifang")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	began := time.Now()
	out, err := exec.Command(goTool, "build", "-o", bin, "suifang/cmd/suifang").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the binary in %s", time.Since(began).Round(time.Millisecond))
	return bin
}

// fillOutbox queues the messages through the real service on dsn.
func fillOutbox(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	cfg := app.DefaultConfig()
	cfg.DB, cfg.DataKeys, cfg.IndexKey = dsn, crashDataKeys, crashIndexKey
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	inst, err := a.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H9", Name: "压测医院"})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for b := 0; b < crashMessages; b += 1000 {
		err := a.DB.Write(ctx, func(tx *sql.Tx) error {
			for i := b; i < b+1000; i++ {
				_, err := a.Notify.Enqueue(ctx, tx, notify.Message{InstitutionID: inst, Channel: notify.Webhook,
					Template: "survey.invite", To: "his-sms-gateway", IdempotencyKey: fmt.Sprintf("crash-%05d", i),
					Params: map[string]string{"name": "患者", "hospital": "压测医院", "link": fmt.Sprintf("https://sf.example.cn/s/k%05d", i),
						"phone": "0571-88880000"}})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("queued %d messages in %s", crashMessages, time.Since(began).Round(time.Millisecond))
}

// serveProc is one running `suifang serve`.
type serveProc struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func startServe(t *testing.T, bin, dsn, url string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--data-keys", crashDataKeys,
		"--index-key", crashIndexKey, "--notify-provider", "webhook", "--notify-webhook-url", url,
		"--notify-webhook-secret", crashSecret, "--notify-poll", "20ms", "--notify-lease", "2s",
		"--notify-concurrency", fmt.Sprint(crashConcurrency), "--notify-batch", "64",
		"--notify-quiet-hours", "off", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "SUIFANG_DB=") // the flags, not the caller's environment
	p := &serveProc{cmd: cmd, log: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

func (p *serveProc) stop(t *testing.T) {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Errorf("serve did not stop on SIGINT; log:\n%s", p.log)
	}
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutboxCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and sends 10,000 messages")
	}
	bin := buildBinary(t)
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.DSN(t, engine)
			fillOutbox(t, dsn)
			rc := &receiver{byKey: map[string][]string{}}
			srv := httptest.NewServer(rc)
			defer srv.Close()

			// 1. One instance sends until a few thousand have arrived, then
			// dies without warning.
			first := startServe(t, bin, dsn, srv.URL)
			began := time.Now()
			waitFor(t, "3,000 deliveries", 60*time.Second, func() bool { return rc.distinct() >= 3000 })
			if err := first.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			first.cmd.Wait()
			rc.mu.Lock()
			atKill, rate := rc.total, float64(rc.total)/rc.lastAt.Sub(rc.firstAt).Seconds()
			killedInst := ""
			for _, insts := range rc.byKey {
				killedInst = insts[0]
				break
			}
			rc.mu.Unlock()
			t.Logf("%s: killed after %d deliveries in %s (%.0f messages/s through the webhook)", engine, atKill,
				time.Since(began).Round(time.Millisecond), rate)

			// 2. Restart: one instance on SQLite, two at once on PostgreSQL.
			restarted := []*serveProc{startServe(t, bin, dsn, srv.URL)}
			if engine == "postgres" {
				restarted = append(restarted, startServe(t, bin, dsn, srv.URL))
			}
			resumed := time.Now()
			waitFor(t, "every message", 90*time.Second, func() bool { return rc.distinct() == crashMessages })
			tail := time.Since(resumed)
			// Let anything still in flight land before counting.
			time.Sleep(500 * time.Millisecond)
			for _, p := range restarted {
				p.stop(t)
			}

			rc.mu.Lock()
			defer rc.mu.Unlock()
			if rc.badSig != 0 {
				t.Errorf("%d deliveries had a bad signature", rc.badSig)
			}
			dups, byBoth := 0, 0
			for i := range crashMessages {
				key := fmt.Sprintf("crash-%05d", i)
				insts := rc.byKey[key]
				if len(insts) == 0 {
					t.Errorf("%s never arrived", key)
					continue
				}
				if len(insts) > 1 {
					dups += len(insts) - 1
					// The only allowed repeat is a message the killed
					// instance had in flight: sent, not yet marked sent.
					if insts[0] != killedInst || len(insts) > 2 {
						byBoth++
						t.Errorf("%s delivered %d times by %v", key, len(insts), insts)
					}
				}
			}
			t.Logf("%s: %d distinct messages, %d deliveries, %d duplicates (bound: %d in flight at the kill); "+
				"after the restart the rest took %s", engine, len(rc.byKey), rc.total, dups, crashConcurrency, tail.Round(time.Millisecond))
			if dups > crashConcurrency {
				t.Errorf("%d duplicates, more than the %d messages that can be in flight at a kill", dups, crashConcurrency)
			}
			if byBoth > 0 {
				t.Errorf("%d messages were delivered twice by running instances", byBoth)
			}
			if engine == "postgres" {
				seen := map[string]bool{}
				for _, insts := range rc.byKey {
					for _, in := range insts {
						seen[in] = true
					}
				}
				if len(seen) < 3 {
					t.Logf("note: only %d instances delivered (the second restarted instance found nothing left)", len(seen))
				}
			}
			// The database agrees: everything sent, nothing pending or dead.
			db, err := store.Open(context.Background(), dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var sent, other int
			db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`).Scan(&sent)
			db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`).Scan(&other)
			if sent != crashMessages || other != 0 {
				t.Errorf("database: %d sent, %d not sent", sent, other)
			}
		})
	}
}
