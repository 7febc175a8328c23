package hl7

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// BenchmarkMLLPHeldFrames is the attack of issue 10: 60 connections each
// send an unfinished frame just under the size cap and stay. It reports
// the heap the server holds meanwhile (run with -benchtime=1x).
func BenchmarkMLLPHeldFrames(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		l := &Listener{Handler: func(ctx context.Context, req *Request) Response { return Response{Code: AA} }}
		done := make(chan error, 1)
		go func() { done <- l.Serve(ctx, ln) }()
		body := append([]byte{0x0b}, bytes.Repeat([]byte("x"), DefaultMaxMessage-100)...)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var conns []net.Conn
		for j := 0; j < 60; j++ {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			go c.Write(body)
		}
		time.Sleep(2 * time.Second) // let the server read what it will
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "MiB-held")
		b.ReportMetric(float64(l.Refused()), "refused")
		for _, c := range conns {
			c.Close()
		}
		cancel()
		<-done
	}
}
