package hl7

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/testcert"
)

const a03 = "MSH|^~\\&|HIS|H01|SF|SF|20261010080000||ADT^A03^ADT_A03|%s|P|2.5\rEVN|A03|20261010080000\r" +
	"PID|1||0012345^^^H01^MR||王^秀英||19580312|F|||北京市东城区东四十条94号||13901234567\r" +
	"PV1|1|I|0301^12床^^H01^^^^^心内科病区|||||D001^李^建国||||||||||||V20261001|||||||||||||||||||||||||20261001090000|20261010080000\r"

// startListener serves l on a loopback port and stops it when the test ends.
func startListener(t *testing.T, l *Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func frame(body string) []byte { return append(append([]byte{0x0b}, body...), 0x1c, 0x0d) }

// exchange sends one framed message on c and parses the ACK.
func exchange(t *testing.T, c net.Conn, r *bufio.Reader, body string) *Message {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(frame(body)); err != nil {
		t.Fatalf("write: %v", err)
	}
	raw, _, err := readFrame(r, 1<<20)
	if err != nil {
		t.Fatalf("read ack: %v", err)
	}
	ack, err := ParseMessage(raw)
	if err != nil {
		t.Fatalf("parse ack %q: %v", raw, err)
	}
	return ack
}

func fixedNow() time.Time { return time.Date(2026, 10, 10, 8, 0, 0, 0, time.UTC) }

func TestMLLPListenerAcks(t *testing.T) {
	var mu sync.Mutex
	var got []string
	l := &Listener{Handler: func(ctx context.Context, req *Request) Response {
		mu.Lock()
		got = append(got, req.Msg.ControlID())
		mu.Unlock()
		if req.Remote == nil || !strings.HasPrefix(req.Remote.String(), "127.0.0.1:") {
			t.Errorf("remote = %v", req.Remote)
		}
		if req.Msg.ControlID() == "BAD" {
			return Response{Code: AE, Err: &AckError{Code: ErrRequiredMissing, Location: "PV1-19", Text: "visit number missing"}}
		}
		return Response{Code: AA}
	}, Now: fixedNow}
	addr := startListener(t, l)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ok := exchange(t, c, r, strings.Replace(a03, "%s", "OK1", 1))
	if code := ok.Get("MSA-1"); code != "AA" || ok.Get("MSA-2") != "OK1" {
		t.Fatalf("ack = %s / %s", code, ok.Get("MSA-2"))
	}
	bad := exchange(t, c, r, strings.Replace(a03, "%s", "BAD", 1))
	if bad.Get("MSA-1") != "AE" || bad.Get("ERR-3") != "101" || bad.Get("ERR-2") != "PV1" || bad.Get("ERR-2.3") != "19" ||
		bad.Get("ERR-8") != "visit number missing" {
		t.Fatalf("error ack = %q", bad.String())
	}
	junk := exchange(t, c, r, "this is not HL7")
	if junk.Get("MSA-1") != "AR" || junk.Get("ERR-3") != "100" {
		t.Fatalf("junk ack = %q", junk.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "OK1" || got[1] != "BAD" {
		t.Fatalf("handler saw %v", got)
	}
}

// countingReader counts the bytes the frame reader took from the wire.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// endless yields a frame start and then x forever: a frame with no end.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	if !e.started && len(p) > 0 {
		p[0], e.started = 0x0b, true
	}
	return len(p), nil
}

// A 20 MiB frame (or one with no end at all) is held only up to the cap:
// the reader stops taking bytes from the wire there.
func TestReadFrameStopsAtCap(t *testing.T) {
	const max = 1 << 20
	big := append(append([]byte{0x0b}, []byte("MSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^A03|BIG1|P|2.5\r")...), bytes.Repeat([]byte("x"), 20<<20)...)
	big = append(big, 0x1c, 0x0d)
	for name, src := range map[string]io.Reader{"20MiB": bytes.NewReader(big), "endless": &endless{}} {
		cr := &countingReader{r: src}
		r := bufio.NewReaderSize(cr, 64<<10)
		raw, tooBig, err := readFrame(r, max)
		if err != nil || !tooBig {
			t.Fatalf("%s: tooBig=%v err=%v", name, tooBig, err)
		}
		if len(raw) != max || cap(raw) > max {
			t.Errorf("%s: held %d bytes in a buffer of %d, cap is %d", name, len(raw), cap(raw), max)
		}
		if cr.n > max+2*(64<<10) { // the cap plus what bufio reads ahead
			t.Errorf("%s: read %d bytes from the wire for a %d-byte cap", name, cr.n, max)
		}
		if name == "20MiB" {
			if m := headerOnly(raw); m == nil || m.ControlID() != "BIG1" {
				t.Errorf("header of the oversize frame not parsed: %v", m)
			}
		}
	}
	// A frame under the cap is returned whole, and the next one follows.
	in := append(append(frame("MSH|^~\\&|A|B|C|D|20261010||ADT^A01|M1|P|2.5\r"), '\n'), frame("M")...)
	r := bufio.NewReader(bytes.NewReader(in))
	raw, big2, err := readFrame(r, max)
	if err != nil || big2 || !bytes.HasSuffix(raw, []byte("|2.5\r")) {
		t.Fatalf("first frame %q big=%v err=%v", raw, big2, err)
	}
	if raw, big2, err = readFrame(r, max); err != nil || big2 || string(raw) != "M" {
		t.Fatalf("next frame %q big=%v err=%v", raw, big2, err)
	}
}

// Over the listener: a 20 MiB message is answered AR 104 and the
// connection closed, and the server allocates about the cap, not the message.
func TestMLLPOversizeFrame(t *testing.T) {
	handled := false
	l := &Listener{Handler: func(ctx context.Context, req *Request) Response { handled = true; return Response{Code: AA} }, Now: fixedNow}
	addr := startListener(t, l)
	body := append([]byte("\x0bMSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^A03|BIG1|P|2.5\r"), bytes.Repeat([]byte("OBX|1|TX|||"), 2<<20)...)
	body = append(body, 0x1c, 0x0d) // 22 MiB
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	go c.Write(body) // fails once the server hangs up
	raw, _, err := readFrame(bufio.NewReader(c), 1<<20)
	if err != nil {
		t.Fatalf("no ACK to an oversize frame: %v", err)
	}
	runtime.ReadMemStats(&after)
	ack, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Get("MSA-1") != "AR" || ack.Get("MSA-2") != "BIG1" || ack.Get("ERR-3") != "104" {
		t.Fatalf("oversize ack = %q", ack.String())
	}
	if handled {
		t.Error("the handler saw a truncated message")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("serving a 22 MiB frame allocated %d bytes; the cap is %d", grew, DefaultMaxMessage)
	}
	// The server hung up: the next read ends.
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after an oversize frame")
	}
}

// A client that starts a frame and trickles bytes is cut off at the
// timeout: it cannot hold a connection slot forever.
func TestMLLPSlowlorisCutOff(t *testing.T) {
	l := &Listener{Handler: func(ctx context.Context, req *Request) Response { return Response{Code: AA} },
		IdleTimeout: 300 * time.Millisecond}
	addr := startListener(t, l)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan struct{})
	go func() {
		c.Read(make([]byte, 1)) // returns when the server closes
		close(closed)
	}()
	start := time.Now()
	c.Write([]byte{0x0b})
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			// The deadline runs from the accept, a moment before start.
			if time.Since(start) < 200*time.Millisecond {
				t.Errorf("closed after %v, before the timeout", time.Since(start))
			}
			return
		case <-tick.C:
			if time.Since(start) > 10*time.Second {
				t.Fatal("a trickling client kept its connection for 10 s")
			}
			c.Write([]byte("M"))
		}
	}
}

// Past the cap, connections are closed at once; those inside it still work.
func TestMLLPConnectionCap(t *testing.T) {
	l := &Listener{Handler: func(ctx context.Context, req *Request) Response { return Response{Code: AA} }, MaxConns: 4}
	addr := startListener(t, l)
	var held []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// Each held connection has been accepted once it answers a message.
	for _, c := range held {
		if ack := exchange(t, c, bufio.NewReader(c), strings.Replace(a03, "%s", "H", 1)); ack.Get("MSA-1") != "AA" {
			t.Fatalf("held connection: %q", ack.String())
		}
	}
	for i := 0; i < 60; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(frame(strings.Replace(a03, "%s", "X", 1)))
		n, err := c.Read(make([]byte, 64))
		if err == nil || n > 0 {
			t.Fatalf("connection %d over the cap was served (%d bytes, %v)", i, n, err)
		}
		c.Close()
	}
	if got := l.Refused(); got != 60 {
		t.Errorf("refused %d connections, want 60", got)
	}
	// Closing a held connection frees its slot.
	held[0].Close()
	var c net.Conn
	for i := 0; i < 50; i++ {
		c2, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c2.SetDeadline(time.Now().Add(10 * time.Second))
		c2.Write(frame(strings.Replace(a03, "%s", "F", 1)))
		if _, err := bufio.NewReader(c2).Peek(1); err == nil {
			c = c2
			break
		}
		c2.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if c == nil {
		t.Fatal("a freed slot was never reused")
	}
	c.Close()
}

// With a client CA, only clients holding a certificate it signed get in.
func TestMLLPTLSClientCertificates(t *testing.T) {
	ca := testcert.NewCA(t, "Suifang MLLP test CA")
	other := testcert.NewCA(t, "Someone else's CA")
	srv := ca.Server(t)
	var peer string
	l := &Listener{Handler: func(ctx context.Context, req *Request) Response {
		if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
			peer = req.TLS.PeerCertificates[0].Subject.CommonName
		}
		return Response{Code: AA}
	}, TLS: &tls.Config{Certificates: []tls.Certificate{srv.TLS}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12}, IdleTimeout: 5 * time.Second}
	addr := startListener(t, l)
	dial := func(certs ...tls.Certificate) (*Message, error) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: certs})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(frame(strings.Replace(a03, "%s", "T1", 1))); err != nil {
			return nil, err
		}
		raw, _, err := readFrame(bufio.NewReader(c), 1<<20)
		if err != nil {
			return nil, err
		}
		return ParseMessage(raw)
	}
	ack, err := dial(ca.Client(t, "his-engine.hospital.cn").TLS)
	if err != nil || ack.Get("MSA-1") != "AA" {
		t.Fatalf("client with a certificate: %v %v", ack, err)
	}
	if peer != "his-engine.hospital.cn" {
		t.Errorf("handler saw peer %q", peer)
	}
	if ack, err := dial(); err == nil {
		t.Fatalf("client without a certificate got an ACK: %q", ack.String())
	}
	if ack, err := dial(other.Client(t, "intruder").TLS); err == nil {
		t.Fatalf("client with a foreign certificate got an ACK: %q", ack.String())
	}
	// Plain TCP to a TLS port gets nothing.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(frame(strings.Replace(a03, "%s", "P1", 1)))
	if raw, _, err := readFrame(bufio.NewReader(c), 1<<20); err == nil {
		t.Fatalf("plain client got a frame %q", raw)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("\n\x0bMSH|^~\\&|A|B\r\x1c\r\x0bM\x1c\r"), 16)
	f.Add([]byte("\x0b\x1c"), 1)
	f.Add([]byte("junk junk\x0bxxxxxxxxxxxxxxxxxxxxxxxx"), 8)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(in), 16)
		for i := 0; i < 100; i++ {
			raw, tooBig, err := readFrame(r, max)
			if err != nil {
				return
			}
			if cap(raw) > max || len(raw) > max || (tooBig && len(raw) != max) {
				t.Fatalf("max %d: held %d (cap %d), tooBig %v", max, len(raw), cap(raw), tooBig)
			}
			if !tooBig && bytes.IndexByte(raw, 0x1c) >= 0 {
				t.Fatalf("frame %q holds its end byte", raw)
			}
			if tooBig {
				return // the listener hangs up here
			}
		}
	})
}
