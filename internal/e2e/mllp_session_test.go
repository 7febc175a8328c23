package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/hl7"
	"suifang/internal/mllpauth"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
	"suifang/internal/testcert"
)

// mllpApp starts the app with its MLLP listener on a free loopback port;
// prepare runs on the opened app before it serves.
func mllpApp(t *testing.T, engine string, mllp app.MLLPConfig, prepare func(a *app.App)) (*app.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := app.DefaultConfig()
	cfg.DB = storetest.DSN(t, engine)
	cfg.Addr, cfg.MLLPAddr, cfg.MLLP = "127.0.0.1:0", addr, mllp
	cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-index-key-32byt"))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	prepare(a)
	hl, err := a.Listen()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, hl) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return a, addr
}

// mllpClient is the HIS interface engine's side of one connection.
type mllpClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (m *mllpClient) send(msg string) *hl7.Message {
	m.t.Helper()
	m.c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := m.c.Write([]byte("\x0b" + strings.ReplaceAll(msg, "\n", "\r") + "\x1c\r")); err != nil {
		m.t.Fatalf("send: %v", err)
	}
	b, err := m.r.ReadBytes(0x1c)
	if err != nil {
		m.t.Fatalf("read ack: %v", err)
	}
	m.r.ReadByte()
	ack, err := hl7.ParseMessage([]byte(strings.TrimPrefix(strings.TrimSuffix(string(b), "\x1c"), "\x0b")))
	if err != nil {
		m.t.Fatalf("ack does not parse: %v %q", err, b)
	}
	return ack
}

// An interface engine broadcasting its whole ADT feed to Suifang, as a
// Chinese HIS integration platform does, over TLS with a client
// certificate: registrations, transfers and person updates are accepted
// and not used; the inpatient discharge is stored; an event Suifang does
// not know is rejected 201; a message for another hospital is refused and
// audited; a client without a certificate gets no session at all.
func TestMLLPSessionAcks(t *testing.T) {
	ca := testcert.NewCA(t, "医院集成平台 CA")
	dir := t.TempDir()
	certFile, keyFile := ca.Server(t).WriteFiles(t, dir, "server")
	caFile := dir + "/client-ca.pem"
	if err := writeFile(caFile, ca.PEM); err != nil {
		t.Fatal(err)
	}
	mcfg := app.DefaultMLLPConfig()
	mcfg.TLSCert, mcfg.TLSKey, mcfg.TLSClientCA = certFile, keyFile, caFile
	ctx := context.Background()
	a, addr := mllpApp(t, "sqlite", mcfg, func(a *app.App) {
		sys := access.System()
		g, err := a.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "G1", Name: "市医疗集团", Kind: org.KindGroup})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []org.InstitutionInput{{Code: "H01", Name: "城东医院", ParentID: g}, {Code: "H02", Name: "城西医院", ParentID: g}} {
			if _, err := a.Org.CreateInstitution(ctx, sys, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Senders.Allow(ctx, sys, mllpauth.AllowInput{Institution: "H01", Source: "127.0.0.1", App: "HIS", Facility: "H01", Note: "东院集成平台"}); err != nil {
			t.Fatal(err)
		}
	})

	// Without a client certificate the handshake fails: no ACK, nothing read.
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("\x0bMSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^A08|NOCERT|P|2.4\rPID|1||1^^^^MR\r\x1c\r"))
		if n, err := c.Read(make([]byte, 64)); err == nil && n > 0 {
			t.Fatal("a client without a certificate got an answer")
		}
		c.Close()
	}
	var c *tls.Conn
	var err error
	for i := 0; i < 100; i++ { // the listener starts with the server
		if c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost",
			Certificates: []tls.Certificate{ca.Client(t, "his-engine.hospital.cn").TLS}}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("tls dial with a client certificate: %v", err)
	}
	defer c.Close()
	his := &mllpClient{t: t, c: c, r: bufio.NewReader(c)}

	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := a.DB.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	stored := func() (int, int) {
		return count(`SELECT COUNT(*) FROM encounters`), count(`SELECT COUNT(*) FROM import_batches`)
	}
	enc0, batches0 := stored()

	pid := "PID|1||0088123^^^H01^MR~110101195803120023^^^CHN^NNCHN||刘^桂兰||19580312|F|||北京市东城区东四十条94号^^北京市^北京市^100007||13901234567\n"
	for _, msg := range []string{
		// 门诊挂号 (registration)
		"MSH|^~\\&|HIS|H01|SUIFANG|SF|20261008093012||ADT^A04^ADT_A01|HIS2026100809301201|P|2.4|||AL|NE\nEVN|A04|20261008093012\n" + pid +
			"PV1|1|O|MZ03^^^H01^^^^^心内科门诊|||||D1021^王^建国||||||||||||OP20261008001\n",
		// 转科 (transfer)
		"MSH|^~\\&|HIS|H01|SUIFANG|SF|20261003140000||ADT^A02^ADT_A02|HIS2026100314000007|P|2.4|||AL|NE\nEVN|A02|20261003140000\n" + pid +
			pv1(map[int]string{2: "I", 3: "0302^15床^^H01^^^^^心内二病区", 6: "0301^12床^^H01", 7: "D1021^王^建国", 10: "0302^心血管内科", 19: "ZY20261001888"}),
		// 新建患者 (add person)
		"MSH|^~\\&|HIS|H01|SUIFANG|SF|20261001080000||ADT^A28^ADT_A05|HIS2026100108000003|P|2.4|||AL|NE\nEVN|A28|20261001080000\n" + pid +
			"PV1|1|N\n",
	} {
		ack := his.send(msg)
		if ack.Get("MSA-1") != "AA" || ack.Segment("ERR") != nil {
			t.Fatalf("ignored event %s: %q", ack.Get("MSH-9.2"), ack.String())
		}
	}
	if enc, b := stored(); enc != enc0 || b != batches0 {
		t.Fatalf("ignored events stored something: encounters %d→%d, batches %d→%d", enc0, enc, batches0, b)
	}

	// 出院 of an inpatient: stored with its plan.
	a03 := "MSH|^~\\&|HIS|H01|SUIFANG|SF|20261010100512||ADT^A03^ADT_A03|HIS2026101010051288|P|2.4|||AL|NE\nEVN|A03|20261010100512\n" + pid +
		pv1(map[int]string{2: "I", 3: "0302^15床^^H01^^^^^心内二病区", 7: "D1021^王^建国", 10: "0302^心血管内科", 19: "ZY20261001888",
			36: "2^好转", 44: "20261001090000", 45: "20261010100000"}) +
		"DG1|1||I21.0^急性前壁心肌梗死^ICD10|||F\n"
	if ack := his.send(a03); ack.Get("MSA-1") != "AA" || ack.Get("MSA-2") != "HIS2026101010051288" {
		t.Fatalf("A03: %q", ack.String())
	}
	if n := count(`SELECT COUNT(*) FROM encounters WHERE visit_number = $1`, "ZY20261001888"); n != 1 {
		t.Fatalf("the discharge was not stored: %d", n)
	}
	if n := count(`SELECT COUNT(*) FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id WHERE e.visit_number = $1`, "ZY20261001888"); n == 0 {
		t.Error("the discharge got no follow-up plan")
	}

	// An event Suifang does not know: AR 201 at MSH-9 (2.4: ERR-1 ELD).
	z := his.send("MSH|^~\\&|HIS|H01|SUIFANG|SF|20261010110000||ADT^Z99|HIS2026101011000001|P|2.4\nEVN|Z99|20261010110000\n" + pid)
	if z.Get("MSA-1") != "AR" || z.Get("ERR-1") != "MSH" || z.Get("ERR-1.3") != "9" || z.Get("ERR-1.4") != "201" {
		t.Errorf("Z99: %q", z.String())
	}
	// Not ADT at all: AR 200 (2.5: ERR-3).
	oru := his.send("MSH|^~\\&|HIS|H01|SUIFANG|SF|20261010110500||ORU^R01^ORU_R01|LIS0001|P|2.5\n" + pid + "OBR|1\n")
	if oru.Get("MSA-1") != "AR" || oru.Get("ERR-3") != "200" {
		t.Errorf("ORU: %q", oru.String())
	}
	// A data error: AE 101 with the field (visit number missing).
	bad := his.send("MSH|^~\\&|HIS|H01|SUIFANG|SF|20261010111000||ADT^A03^ADT_A03|HIS2026101011100002|P|2.5\nEVN|A03|20261010111000\n" + pid +
		pv1(map[int]string{2: "I", 3: "0302^15床^^H01", 45: "20261010100000"}))
	if bad.Get("MSA-1") != "AE" || bad.Get("ERR-3") != "101" || bad.Get("ERR-2") != "PV1" || bad.Get("ERR-2.3") != "19" {
		t.Errorf("missing visit number: %q", bad.String())
	}
	// A bad birth date: AE 102 at PID-7.
	bd := his.send("MSH|^~\\&|HIS|H01|SUIFANG|SF|20261010111500||ADT^A08^ADT_A01|HIS2026101011150003|P|2.5\nEVN|A08|20261010111500\n" +
		strings.Replace(pid, "||19580312|", "||1958-3-12|", 1) + pv1(map[int]string{2: "I", 19: "ZY20261001888"}))
	if bd.Get("MSA-1") != "AE" || bd.Get("ERR-3") != "102" || bd.Get("ERR-2.3") != "7" {
		t.Errorf("bad birth date: %q", bd.String())
	}

	// The same engine naming the other hospital in MSH-4: refused, audited,
	// nothing changed — an A08 that would rewrite H02's patient's phone.
	enc1, _ := stored()
	for i := 0; i < 3; i++ {
		r := his.send("MSH|^~\\&|HIS|H02|SUIFANG|SF|20261010120000||ADT^A08^ADT_A01|HIS2026101012000009|P|2.5\nEVN|A08|20261010120000\n" +
			strings.Replace(pid, "13901234567", "17000000000", 1) + pv1(map[int]string{2: "I", 19: "ZY20261001999"}))
		if r.Get("MSA-1") != "AR" || r.Get("ERR-3") != "103" || r.Get("ERR-2") != "MSH" || r.Get("ERR-2.3") != "4" || r.Get("ERR-5") != "SF_SENDER" {
			t.Fatalf("foreign MSH-4: %q", r.String())
		}
	}
	if enc, _ := stored(); enc != enc1 {
		t.Error("a refused message stored an encounter")
	}
	entries, err := a.Audit.List(ctx, access.System(), audit.Filter{Action: "mllp.refused"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, "facility=H02") || entries[0].IP != "127.0.0.1" {
		t.Errorf("refusals audited as %+v (want one entry for three refusals in a minute)", entries)
	}
}

// Listening beyond loopback with nobody allowed would take ADT from anyone
// who reaches the port: the server refuses to start.
func TestMLLPRefusesToExposeAnEmptyAllowList(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.DB = storetest.DSN(t, "sqlite")
	cfg.Addr, cfg.MLLPAddr = "127.0.0.1:0", "0.0.0.0:0"
	cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-index-key-32byt"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := app.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hl, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer hl.Close()
	err = a.Serve(ctx, hl)
	if err == nil || !strings.Contains(err.Error(), "suifang mllp allow") {
		t.Fatalf("serve with an exposed, empty allow-list: %v", err)
	}
}

func writeFile(name string, b []byte) error { return os.WriteFile(name, b, 0o600) }

// pv1 writes a PV1 segment with the given fields (by number) filled.
func pv1(f map[int]string) string {
	n := 0
	for k := range f {
		n = max(n, k)
	}
	parts := make([]string, n+1)
	parts[0], parts[1] = "PV1", "1"
	for k, v := range f {
		parts[k] = v
	}
	return strings.Join(parts, "|") + "\n"
}
