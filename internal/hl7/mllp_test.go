package hl7

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestMLLPListenerAcks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	l := &Listener{Handler: func(ctx context.Context, raw []byte) (string, string) {
		m, _ := ParseMessage(raw)
		got = append(got, m.ControlID())
		if m.ControlID() == "BAD" {
			return "AE", "visit number missing"
		}
		return "AA", ""
	}, Now: func() time.Time { return time.Date(2026, 10, 10, 8, 0, 0, 0, time.UTC) }}
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, ln) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	send := func(body string) *Message {
		t.Helper()
		c.Write(append(append([]byte{0x0b}, body...), 0x1c, 0x0d))
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
	ok := send("MSH|^~\\&|HIS|H01|SF|SF|20261010080000||ADT^A03|OK1|P|2.5\rPID|1||123^^^^MR\r")
	if code := ok.Get("MSA-1"); code != "AA" || ok.Get("MSA-2") != "OK1" {
		t.Fatalf("ack = %s / %s", code, ok.Get("MSA-2"))
	}
	bad := send("MSH|^~\\&|HIS|H01|SF|SF|20261010080000||ADT^A03|BAD|P|2.5\rPID|1||123^^^^MR\r")
	if bad.Get("MSA-1") != "AE" || !strings.Contains(bad.String(), "visit number missing") {
		t.Fatalf("error ack = %q", bad.String())
	}
	junk := send("this is not HL7")
	if junk.Get("MSA-1") != "AR" {
		t.Fatalf("junk ack = %q", junk.String())
	}
	c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "OK1" || got[1] != "BAD" {
		t.Fatalf("handler saw %v", got)
	}
}

func TestReadFrameTooBig(t *testing.T) {
	in := append(append([]byte("\n\x0b"), bytes.Repeat([]byte("x"), 100)...), 0x1c, 0x0d, 0x0b, 'M', 0x1c, 0x0d)
	r := bufio.NewReader(bytes.NewReader(in))
	_, big, err := readFrame(r, 10)
	if err != nil || !big {
		t.Fatalf("big=%v err=%v", big, err)
	}
	raw, big, err := readFrame(r, 10)
	if err != nil || big || string(raw) != "M" {
		t.Fatalf("next frame %q big=%v err=%v", raw, big, err)
	}
}
