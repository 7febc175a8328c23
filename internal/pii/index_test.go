package pii

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func mustIndexer(t testing.TB, b byte) *Indexer {
	t.Helper()
	x, err := NewIndexer(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestNormalize(t *testing.T) {
	cases := []struct{ kind, in, want string }{
		{"phone", "13812345678", "13812345678"},
		{"phone", "138 1234 5678", "13812345678"},
		{"phone", "138-1234-5678", "13812345678"},
		{"phone", "+8613812345678", "13812345678"},
		{"phone", "+86 138 1234 5678", "13812345678"},
		{"phone", "008613812345678", "13812345678"},
		{"phone", "8613812345678", "13812345678"},
		{"phone", "１３８１２３４５６７８", "13812345678"},
		{"phone", "(010) 1234-5678", "01012345678"},
		{"phone", "+86 10 12345678", "861012345678"},    // landline: code kept
		{"phone", "8623812345678", "8623812345678"},     // rest starts with 2
		{"phone", "86138123456789", "86138123456789"},   // rest is 12 digits
		{"phone", "0086 23 12345678", "00862312345678"}, // not a mobile
		{"phone", "86", "86"},
		{"phone", "", ""},
		{"phone", "abc", ""},
		{"national_id", " 11010519491231002x\t", "11010519491231002X"},
		{"national_id", "11010519491231002X", "11010519491231002X"},
		{"national_id", "x", "X"},
		{"national_id", "  ", ""},
		{"address", "  北京市朝阳区 ", "北京市朝阳区"},
		{"", " a b ", "a b"},
	}
	for _, c := range cases {
		if got := Normalize(c.kind, c.in); got != c.want {
			t.Errorf("Normalize(%q, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
}

func TestIndex(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	x, err := NewIndexer(secret)
	if err != nil {
		t.Fatal(err)
	}
	// Known answer computed directly from the documented formula.
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("phone\x0013812345678"))
	want := hex.EncodeToString(mac.Sum(nil))[:32]

	for _, in := range []string{"138 1234 5678", "+8613812345678", "13812345678", "0086-138-1234-5678",
		" 138-1234-5678 ", "１３８１２３４５６７８"} {
		if got := x.Index("phone", in); got != want {
			t.Errorf("Index(phone, %q) = %s, want %s", in, got, want)
		}
	}
	if len(want) != 32 || strings.Trim(want, "0123456789abcdef") != "" {
		t.Fatalf("index %q is not 32 lower-case hex chars", want)
	}
	if x.Index("phone", "13812345679") == want {
		t.Error("different numbers share an index")
	}
	if x.Index("national_id", "13812345678") == want || x.Index("", "13812345678") == want {
		t.Error("different kinds share an index")
	}
	if mustIndexer(t, 2).Index("phone", "13812345678") == want {
		t.Error("different secrets share an index")
	}
	if x.Index("national_id", "11010519491231002x") != x.Index("national_id", " 11010519491231002X") {
		t.Error("national ID index is not case/space insensitive for X")
	}
	if got := x.Index("phone", ""); got == "" || len(got) != 32 {
		t.Errorf(`Index(phone, "") = %q; want a real index, never ""`, got)
	}
	// kind and value are separated, so the boundary can't shift.
	if x.Index("ab", "c") == x.Index("a", "bc") {
		t.Error("kind/value boundary is ambiguous")
	}
	// Very long values work and don't poison the pool.
	long := strings.Repeat("9", 100000)
	if x.Index("phone", long) == x.Index("phone", long+"9") {
		t.Error("long values collide")
	}
	if got := x.Index("phone", "13812345678"); got != want {
		t.Errorf("after a long value: %s, want %s", got, want)
	}
}

func TestIndexConcurrent(t *testing.T) {
	x := mustIndexer(t, 3)
	want := make([]string, 50)
	for i := range want {
		want[i] = x.Index("phone", fmt.Sprintf("1380000%04d", i))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 200 {
				i := (g*31 + r) % len(want)
				if got := x.Index("phone", fmt.Sprintf("1380000%04d", i)); got != want[i] {
					t.Errorf("concurrent Index %d = %s, want %s", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIndexerSecrets(t *testing.T) {
	if _, err := NewIndexer(make([]byte, 31)); err == nil {
		t.Error("NewIndexer accepted a 31-byte secret")
	}
	s := bytes.Repeat([]byte("s"), 40)
	x, err := ParseIndexSecret(" " + base64.StdEncoding.EncodeToString(s) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	y, _ := NewIndexer(s)
	if x.Index("phone", "13812345678") != y.Index("phone", "13812345678") {
		t.Error("ParseIndexSecret and NewIndexer disagree")
	}
	clear(s) // NewIndexer keeps its own copy
	if x.Index("phone", "1") != y.Index("phone", "1") {
		t.Error("Indexer depends on the caller's secret slice")
	}
	short := base64.StdEncoding.EncodeToString([]byte("Secret-Material-31-bytes-long!!"))
	for _, spec := range []string{"", "   ", "not base64!", short, "U2VjcmV0LU1hdGVyaWFs"} {
		_, err := ParseIndexSecret(spec)
		if err == nil {
			t.Errorf("ParseIndexSecret(%q) accepted", spec)
			continue
		}
		if spec != "" && strings.TrimSpace(spec) != "" && strings.Contains(err.Error(), strings.TrimSpace(spec)) {
			t.Errorf("error %q contains the secret", err)
		}
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(format, x); strings.Contains(out, "sss") || strings.Contains(out, "115") {
			t.Errorf("%s prints the secret: %s", format, out)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	x := mustIndexer(b, 1)
	phones := []string{"13812345678", "+86 138 1234 5678", "010-12345678"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Index("phone", phones[i%len(phones)])
		i++
	}
}
