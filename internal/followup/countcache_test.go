package followup

import (
	"fmt"
	"testing"
	"time"
)

func TestOverflowCache(t *testing.T) {
	c := newOverflowCache(30 * time.Second)
	t0 := time.Date(2026, 10, 8, 9, 0, 0, 0, time.UTC)
	if c.overflows("a", t0) {
		t.Fatal("an unknown key overflows")
	}
	c.remember("a", t0)
	if !c.overflows("a", t0.Add(29*time.Second)) {
		t.Error("forgot within the ttl")
	}
	if c.overflows("a", t0.Add(30*time.Second)) {
		t.Error("remembered past the ttl")
	}
	if c.overflows("a", t0.Add(time.Second)) {
		t.Error("an expired key came back")
	}
	// Bounded: 5,000 keys never hold more than 4,096 entries.
	for i := range 5000 {
		c.remember(fmt.Sprint(i), t0)
	}
	if n := len(c.expires); n > 4096 {
		t.Errorf("%d entries, want at most 4096", n)
	}
}
