package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"suifang/internal/clock"
)

func TestRefundGivesBackOneTokenUpToBurst(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l := New(clk.Now, 2, 10*time.Second)
	l.Refund("10.0.0.7") // a full bucket stays at burst
	for i := range 2 {
		if ok, _ := l.Allow("10.0.0.7"); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	if ok, wait := l.Allow("10.0.0.7"); ok || wait != 10*time.Second {
		t.Fatalf("empty bucket: %v %v", ok, wait)
	}
	l.Refund("10.0.0.7")
	if ok, _ := l.Allow("10.0.0.7"); !ok {
		t.Fatal("refunded token not available")
	}
	clk.Advance(4 * time.Second)
	if ok, wait := l.Allow("10.0.0.7"); ok || wait != 6*time.Second {
		t.Fatalf("partly refilled: %v %v", ok, wait)
	}
}

func TestBucketsStayBounded(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l := New(clk.Now, 1, time.Second)
	for i := range maxBuckets + 10 {
		l.Allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept, limit %d", n, maxBuckets)
	}
}
