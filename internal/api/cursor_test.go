package api

import (
	"math"
	"testing"
)

func TestAPICursorRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 9, 10, 12345, math.MaxInt64} {
		got, err := decodeCursor(encodeCursor(id))
		if err != nil || got != id {
			t.Errorf("%d → %q → %d, %v", id, encodeCursor(id), got, err)
		}
	}
}

func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "MQ", encodeCursor(42), encodeCursor(math.MaxInt64), "MA", "LTE", "MDE", "MQ==", "!!", "\x00", "ＭＱ", "NA\r", "M\nQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := decodeCursor(s)
		if err != nil {
			return
		}
		// Accepted cursors are exactly the ones encodeCursor makes.
		if id <= 0 || encodeCursor(id) != s {
			t.Fatalf("decodeCursor(%q) = %d, re-encodes to %q", s, id, encodeCursor(id))
		}
	})
}
