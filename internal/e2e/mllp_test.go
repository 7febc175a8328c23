package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/auth"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
)

// The HIS interface engine sends ADT messages over MLLP: each gets an ACK,
// a discharge gets its plan, a bad message gets AE with the reason.
func TestMLLPDischargeFlow(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "hl7")
	a03, err := os.ReadFile(filepath.Join(dir, "ADT-A03-01.hl7"))
	if err != nil {
		t.Skip("shared HL7 samples not present:", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := app.DefaultConfig()
	cfg.DB = storetest.DSN(t, "sqlite")
	cfg.Addr, cfg.MLLPAddr = "127.0.0.1:0", addr
	cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-e2e-test-index-key-32byt"))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "医院"}); err != nil {
		t.Fatal(err)
	}
	hl, _ := a.Listen()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, hl) }()
	defer func() { cancel(); <-done; a.Close() }()

	var c net.Conn
	for i := 0; i < 100; i++ { // the listener starts with the server
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c == nil {
		t.Fatalf("mllp not listening: %v", err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	send := func(msg []byte) string {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(append(append([]byte{0x0b}, msg...), 0x1c, 0x0d))
		b, err := r.ReadBytes(0x1c)
		if err != nil {
			t.Fatalf("read ack: %v", err)
		}
		r.ReadByte()
		return string(b)
	}
	// The sample is a pre-admitted patient (PV1-2 = P) who died (PID-30):
	// accepted, stored as a visit, no plan. The same discharge of a living
	// inpatient, as a ward's HIS sends it, gets the plan.
	ack := send(a03)
	if !containsAll(ack, "MSA|AA|") {
		t.Fatalf("pre-admit A03 ack: %q", ack)
	}
	var tasks int
	if err := a.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_tasks`).Scan(&tasks); err != nil || tasks != 0 {
		t.Fatalf("a pre-admit got %d tasks (%v), want none", tasks, err)
	}
	// (another patient: the first one is known deceased now)
	living := bytes.ReplaceAll(a03, []byte("|20080825111630+0115|Y|"), []byte("||N|"))
	living = bytes.ReplaceAll(living, []byte("|PATID1234^"), []byte("|PATID1235^"))
	living = bytes.ReplaceAll(bytes.ReplaceAll(living, []byte("PV1|1|P|"), []byte("PV1|1|I|")), []byte("|40007716^"), []byte("|40007717^"))
	ack = send(living)
	if !containsAll(ack, "MSA|AA|") {
		t.Fatalf("inpatient A03 ack: %q", ack)
	}
	ack = send([]byte("MSH|^~\\&|HIS|H1|SF|SF|20261010||ADT^A03|X9|P|2.5\rPID|1||M1^^^^MR||张^三\rPV1|1|I\r"))
	if !containsAll(ack, "MSA|AE|X9") {
		t.Fatalf("bad A03 ack: %q", ack)
	}
	inst, _ := a.Org.InstitutionByCode(ctx, "H1")
	wl, err := a.Followup.Worklist(ctx, access.System(), followup.Filter{InstitutionID: inst.ID, Tab: followup.TabOverdue}, mustDate("2026-09-30"))
	if err != nil {
		t.Fatal(err)
	}
	if wl.Counts[followup.TabOverdue] == 0 {
		t.Fatalf("the living inpatient's 2015 discharge has no overdue calls: %+v", wl.Counts)
	}
	for _, visit := range []string{"40007716", "40007717"} {
		if _, err := a.Patients.EncounterByVisit(ctx, access.System(), inst.ID, visit); err != nil {
			t.Fatalf("the A03 stay %s was not stored: %v", visit, err)
		}
	}
}
