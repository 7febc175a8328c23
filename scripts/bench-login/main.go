// Command bench-login floods a real `suifang serve` with concurrent bogus
// logins on loopback and measures the server's peak memory (VmHWM) and the
// latency of a real login made meanwhile from another loopback address.
//
// Usage: go run ./scripts/bench-login [-mode one|many] [-flood 200] [-per 5] [-runs 3]
//
//	-mode one   the flood comes from 127.0.0.1 (the per-address throttle answers it)
//	-mode many  each flood worker has its own address 127.0.1.x (only the hashing gate holds)
//
// Each run starts a fresh server on a demo database seeded beforehand (so
// the seed's own hashing is not in the figure), logs the nurse in once from
// 127.0.0.2 (her workstation), fires flood×per bogus logins with flood
// workers at once, and during the flood logs the nurse in again from
// 127.0.0.2 every 250 ms. Everything is bounded: at most flood×per requests
// and -timeout per run. Linux only (/proc and the 127/8 loopback net).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "one", "one: flood from 127.0.0.1; many: one address per flood worker (127.0.1.x)")
	flood := flag.Int("flood", 200, "concurrent bogus logins")
	per := flag.Int("per", 5, "bogus logins each flood worker sends")
	runs := flag.Int("runs", 3, "runs (fresh server each); medians are reported")
	timeout := flag.Duration("timeout", 60*time.Second, "longest a run's flood may last")
	bin := flag.String("bin", "", "suifang binary (default: built from this tree)")
	extra := flag.String("serve-args", "", "extra arguments for suifang serve, space-separated")
	flag.Parse()
	if err := run(*mode, *flood, *per, *runs, *timeout, *bin, *extra); err != nil {
		fmt.Fprintln(os.Stderr, "bench-login:", err)
		os.Exit(1)
	}
}

const demoPassword = "Suifang@2026" // app.DemoPassword; the bench drives the binary, not the package

func run(mode string, flood, per, runs int, timeout time.Duration, bin, extra string) error {
	if mode != "one" && mode != "many" {
		return fmt.Errorf("-mode: want one or many")
	}
	if flood < 1 || flood > 250 || per < 1 || per > 50 || runs < 1 {
		return fmt.Errorf("bounds: 1 ≤ flood ≤ 250, 1 ≤ per ≤ 50, runs ≥ 1")
	}
	tmp, err := os.MkdirTemp("", "suifang-bench-login")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "suifang")
		b := exec.Command("go", "build", "-o", bin, "./cmd/suifang")
		b.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	db := filepath.Join(tmp, "bench.db")
	// Seed once: the demo accounts, no history.
	seed, err := startServer(bin, db, []string{"--demo", "--demo-history-days", "-1"})
	if err != nil {
		return err
	}
	seed.stop()

	fmt.Printf("machine: %d cores, load average %s; mode %s, %d concurrent × %d bogus logins\n", numCPU(), loadAvg(), mode, flood, per)
	var hwm, medReal, maxReal []float64
	for i := range runs {
		r, err := oneRun(bin, db, mode, flood, per, timeout, strings.Fields(extra))
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d: before the flood peak RSS %.0f MiB, real login %.0f ms\n", i+1, r.idleHWM, r.idleMS)
		fmt.Printf("run %d: peak RSS %.0f MiB; flood %d requests in %.1fs: %s; real logins %d ok / %d, median %.0f ms, max %.0f ms (failed: %v)\n",
			i+1, r.hwmMiB, r.sent, r.floodSecs, r.statuses, r.realOK, len(r.realMS), median(r.realMS), slices.Max(r.realMS), r.realBad)
		hwm = append(hwm, r.hwmMiB)
		medReal = append(medReal, median(r.realMS))
		maxReal = append(maxReal, slices.Max(r.realMS))
	}
	fmt.Printf("load average after: %s\n", loadAvg())
	fmt.Printf("median of %d runs: peak RSS %.0f MiB, real login median %.0f ms, worst %.0f ms\n",
		runs, median(hwm), median(medReal), median(maxReal))
	return nil
}

type result struct {
	idleHWM   float64 // peak RSS before the flood
	idleMS    float64 // real login before the flood (median of 3)
	hwmMiB    float64
	sent      int64
	floodSecs float64
	statuses  string
	realMS    []float64
	realOK    int
	realBad   []int // statuses of real logins that failed
}

func oneRun(bin, db, mode string, flood, per int, timeout time.Duration, extra []string) (*result, error) {
	srv, err := startServer(bin, db, extra)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	nurse := client("127.0.0.2")
	var idleMS []float64
	for range 3 { // her workstation: the first login makes 127.0.0.2 a known address
		ms, code := login(nurse, srv.url, "nurse", demoPassword)
		if code != http.StatusSeeOther {
			return nil, fmt.Errorf("login before the flood: status %d (%.0f ms)", code, ms)
		}
		idleMS = append(idleMS, ms)
	}
	idleHWM, err := vmHWM(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		wg       sync.WaitGroup
		sent     atomic.Int64
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	start := make(chan struct{})
	shared := client("127.0.0.1")
	for w := range flood {
		c := shared
		if mode == "many" {
			c = client(fmt.Sprintf("127.0.1.%d", w+1))
		}
		wg.Go(func() {
			<-start
			for i := range per {
				if ctx.Err() != nil {
					return
				}
				// Names sprayed over unknown accounts: every checked attempt
				// costs a full hash, the worst case for the server.
				_, code := login(c, srv.url, fmt.Sprintf("guess%03d-%d", w, i), "Wrong#Passw0rd")
				sent.Add(1)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	t0 := time.Now()
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var realMS []float64
	var realBad []int
	realOK := 0
	time.Sleep(50 * time.Millisecond) // let the flood arrive first
	for loop := true; loop; {
		ms, code := login(nurse, srv.url, "nurse", demoPassword)
		realMS = append(realMS, ms)
		if code == http.StatusSeeOther {
			realOK++
		} else {
			realBad = append(realBad, code)
		}
		select {
		case <-done:
			loop = false
		case <-time.After(250 * time.Millisecond):
		}
	}
	floodSecs := time.Since(t0).Seconds()
	hwm, err := vmHWM(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	var keys []int
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", statuses[k], k))
	}
	return &result{hwmMiB: hwm, idleHWM: idleHWM, idleMS: median(idleMS), sent: sent.Load(), floodSecs: floodSecs, statuses: strings.Join(parts, " "),
		realMS: realMS, realOK: realOK, realBad: realBad}, nil
}

// client makes requests from the loopback address ip and never follows redirects.
func client(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 256},
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// login posts the login form and returns the milliseconds it took and the status (0 on a network error).
func login(c *http.Client, base, user, pw string) (float64, int) {
	t0 := time.Now()
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pw}, "next": {"/"}})
	ms := float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		return ms, 0
	}
	resp.Body.Close()
	return ms, resp.StatusCode
}

type server struct {
	cmd *exec.Cmd
	url string
}

func startServer(bin, db string, extra []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--db", db, "--addr", addr, "--log-level", "error"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr}
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("server not ready within 120 s")
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// vmHWM reads the peak resident set of pid in MiB.
func vmHWM(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}

// loadAvg is the 1-minute load average: the other work sharing the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
