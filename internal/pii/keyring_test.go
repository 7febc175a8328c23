package pii

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func testSpec(id string, b byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(testKey(b))
}

func mustKeyring(t testing.TB, spec string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKeyring(t, testSpec("k1", 1))
	for _, pt := range []string{"13812345678", "11010519491231002X", "北京市朝阳区建国路88号", "x",
		strings.Repeat("长", 5000), "a\x00b\nc", "\xff invalid utf-8"} {
		s, err := k.Seal(pt, "patient.phone")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "v1.k1.") || strings.ContainsAny(s[6:], ".+/=\n") {
			t.Fatalf("sealed %q has the wrong shape", s)
		}
		if len(pt) >= 4 && strings.Contains(s, pt) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := k.Open(s, "patient.phone")
		if err != nil || got != pt {
			t.Fatalf("Open = %q, %v; want %q", got, err, pt)
		}
		s2, _ := k.Seal(pt, "patient.phone")
		if s2 == s {
			t.Fatalf("two seals of the same value are equal (nonce reuse?)")
		}
	}
}

func TestSealEmpty(t *testing.T) {
	k := mustKeyring(t, testSpec("k1", 1))
	if s, err := k.Seal("", "patient.phone"); s != "" || err != nil {
		t.Fatalf(`Seal("") = %q, %v; want "", nil`, s, err)
	}
	if s, err := k.Open("", "patient.phone"); s != "" || err != nil {
		t.Fatalf(`Open("") = %q, %v; want "", nil`, s, err)
	}
	if k.NeedsRotation("") {
		t.Fatal(`NeedsRotation("") = true`)
	}
}

func TestOpenErrors(t *testing.T) {
	k := mustKeyring(t, testSpec("k1", 1))
	s, err := k.Seal("13812345678", "patient.phone")
	if err != nil {
		t.Fatal(err)
	}
	payload := s[len("v1.k1."):]

	// Every single-byte change of the payload fails authentication (or,
	// for the last character's spare bits, the strict decoding).
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	for i := range raw {
		mod := bytes.Clone(raw)
		mod[i] ^= 0x01
		_, err := k.Open("v1.k1."+base64.RawURLEncoding.EncodeToString(mod), "patient.phone")
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("flipped byte %d: err = %v, want ErrAuth", i, err)
		}
	}

	other := mustKeyring(t, testSpec("k1", 2)) // same id, different key
	cases := []struct {
		name   string
		k      *Keyring
		sealed string
		ad     string
		want   error
		inErr  string
	}{
		{"wrong ad", k, s, "patient.national_id", ErrAuth, ""},
		{"empty ad", k, s, "", ErrAuth, ""},
		{"wrong key same id", other, s, "patient.phone", ErrAuth, ""},
		{"unknown key", k, "v1.k9." + payload, "patient.phone", ErrUnknownKey, `"k9"`},
		{"nil keyring", nil, s, "patient.phone", ErrUnknownKey, `"k1"`},
		{"no dots", k, "garbage", "patient.phone", ErrMalformed, ""},
		{"plaintext", k, "13812345678", "patient.phone", ErrMalformed, ""},
		{"version", k, "v2.k1." + payload, "patient.phone", ErrMalformed, ""},
		{"bad id", k, "v1.K1." + payload, "patient.phone", ErrMalformed, ""},
		{"empty id", k, "v1.." + payload, "patient.phone", ErrMalformed, ""},
		{"no payload sep", k, "v1.k1", "patient.phone", ErrMalformed, ""},
		{"padding", k, s + "==", "patient.phone", ErrMalformed, ""},
		{"std alphabet", k, "v1.k1.+" + payload[1:], "patient.phone", ErrMalformed, ""},
		{"extra dot", k, s + ".x", "patient.phone", ErrMalformed, ""},
		{"newline", k, s[:10] + "\n" + s[10:], "patient.phone", ErrMalformed, ""},
		{"short", k, "v1.k1.AAAA", "patient.phone", ErrMalformed, ""},
		{"empty payload", k, "v1.k1.", "patient.phone", ErrMalformed, ""},
		{"truncated", k, s[:len(s)-4], "patient.phone", ErrAuth, ""},
	}
	for _, c := range cases {
		got, err := c.k.Open(c.sealed, c.ad)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Open = %q, %v; want %v", c.name, got, err, c.want)
			continue
		}
		if got != "" {
			t.Errorf("%s: Open returned %q with an error", c.name, got)
		}
		if !strings.Contains(err.Error(), c.inErr) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.inErr)
		}
		if strings.Contains(err.Error(), "13812345678") {
			t.Errorf("%s: error %q contains the plaintext", c.name, err)
		}
		for _, other := range []error{ErrAuth, ErrUnknownKey, ErrMalformed} {
			if other != c.want && errors.Is(err, other) {
				t.Errorf("%s: error %v also matches %v", c.name, err, other)
			}
		}
	}
}

// sealFixedNonce builds a v1 sealed value independently of Seal, with an
// all-zero nonce.
func sealFixedNonce(t testing.TB, id string, key []byte, pt, ad string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	return "v1." + id + "." + base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(pt), []byte(ad)))
}

func TestOpenKnownFormat(t *testing.T) {
	k := mustKeyring(t, testSpec("k2", 2))
	s := sealFixedNonce(t, "k2", testKey(2), "11010519491231002X", "patient.national_id")
	if got, err := k.Open(s, "patient.national_id"); err != nil || got != "11010519491231002X" {
		t.Fatalf("Open(independently built value) = %q, %v", got, err)
	}
}

func TestRotation(t *testing.T) {
	old := mustKeyring(t, testSpec("k1", 1))
	s1, err := old.Seal("13812345678", "patient.phone")
	if err != nil {
		t.Fatal(err)
	}
	if old.NeedsRotation(s1) {
		t.Fatal("value sealed with the current key needs rotation")
	}

	k := mustKeyring(t, testSpec("k2", 2)+", "+testSpec("k1", 1))
	if k.CurrentID() != "k2" {
		t.Fatalf("CurrentID = %q, want k2", k.CurrentID())
	}
	if got := fmt.Sprint(k.IDs()); got != "[k2 k1]" {
		t.Fatalf("IDs = %s", got)
	}
	if got, err := k.Open(s1, "patient.phone"); err != nil || got != "13812345678" {
		t.Fatalf("Open(old value) = %q, %v", got, err)
	}
	if !k.NeedsRotation(s1) {
		t.Fatal("value sealed with k1 does not need rotation")
	}
	s2, err := k.Seal("13812345678", "patient.phone")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s2, "v1.k2.") || k.NeedsRotation(s2) {
		t.Fatalf("new seal %q is not with k2", s2)
	}
	if _, err := old.Open(s2, "patient.phone"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old keyring opening a k2 value: %v, want ErrUnknownKey", err)
	}
	for _, junk := range []string{"garbage", "v1.K1.xx", "v3.k1.xx"} {
		if k.NeedsRotation(junk) {
			t.Fatalf("NeedsRotation(%q) = true", junk)
		}
	}
}

func TestNewKeyring(t *testing.T) {
	k, err := NewKeyring("b", map[string][]byte{"b": testKey(2), "a": testKey(1), "c": testKey(3)})
	if err != nil {
		t.Fatal(err)
	}
	if k.CurrentID() != "b" || fmt.Sprint(k.IDs()) != "[b a c]" {
		t.Fatalf("keyring %v", k)
	}
	key := testKey(4)
	k2, err := NewKeyring("x", map[string][]byte{"x": key})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := k2.Seal("v", "ad")
	clear(key) // the keyring must have its own copy
	if got, err := k2.Open(s, "ad"); err != nil || got != "v" {
		t.Fatalf("after clearing the caller's key: %q, %v", got, err)
	}

	for name, c := range map[string]struct {
		cur  string
		keys map[string][]byte
	}{
		"missing current": {"z", map[string][]byte{"a": testKey(1)}},
		"empty current":   {"", map[string][]byte{"a": testKey(1)}},
		"short key":       {"a", map[string][]byte{"a": testKey(1)[:16]}},
		"bad id":          {"a", map[string][]byte{"a": testKey(1), "B": testKey(2)}},
		"duplicate key":   {"a", map[string][]byte{"a": testKey(1), "b": testKey(1)}},
		"no keys":         {"a", nil},
	} {
		if _, err := NewKeyring(c.cur, c.keys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseKeyringErrors(t *testing.T) {
	k32 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789ABCDEF"))
	k16 := base64.StdEncoding.EncodeToString([]byte("0123456789ABCDEF"))
	k31 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789ABCDE"))
	cases := []struct {
		spec, want string
	}{
		{"", "empty"},
		{"  ", "empty"},
		{k32, "entry 1: want id:base64key"},
		{"k1:" + k32 + ",", "entry 2 is empty"},
		{"k1:" + k32 + ",," + "k2:" + k32, "entry 2 is empty"},
		{"K1:" + k32, "entry 1: invalid key id"},
		{k32 + ":k1", "entry 1: invalid key id"},
		{"abcdefghijklmnopq:" + k32, "entry 1: invalid key id"},
		{":" + k32, "entry 1: invalid key id"},
		{"k1:" + k16, `entry 1 (id "k1"): key is 16 bytes, want 32`},
		{"k2:" + k32 + ",k1:" + k31, `entry 2 (id "k1"): key is 31 bytes, want 32`},
		{"k1:" + strings.TrimRight(k32, "="), `entry 1 (id "k1"): key is not valid standard base64`},
		{"k1:" + strings.NewReplacer("+", "-", "/", "_").Replace(k32) + "!", "not valid standard base64"},
		{"k1:" + k32 + ",k1:" + k32, `entry 2: duplicate key id "k1"`},
		{"k1:" + k32 + ",k2:" + k32, `keys "k1" and "k2" are identical`},
	}
	for _, c := range cases {
		_, err := ParseKeyring(c.spec)
		if err == nil {
			t.Errorf("ParseKeyring(%q) succeeded", c.spec)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("ParseKeyring(%q) = %q, want %q", c.spec, msg, c.want)
		}
		for _, secret := range []string{k32, k16, k31, strings.TrimRight(k32, "="), k32[:12], k16[:12],
			"0123456789abcdef", "0123456789ABCDEF"} {
			if strings.Contains(msg, secret) {
				t.Errorf("ParseKeyring error %q contains key material %q", msg, secret)
			}
		}
	}
}

func TestParseKeyringOK(t *testing.T) {
	k := mustKeyring(t, " k2:"+base64.StdEncoding.EncodeToString(testKey(2))+" ,\n k_1-x : "+
		base64.StdEncoding.EncodeToString(testKey(1))+"\n")
	if k.CurrentID() != "k2" || fmt.Sprint(k.IDs()) != "[k2 k_1-x]" {
		t.Fatalf("keyring %v", k)
	}
}

func TestKeyringNeverPrintsKeys(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(testKey(7))
	k := mustKeyring(t, "k7:"+b64)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, k)
		if strings.Contains(out, b64) || strings.Contains(out, string(testKey(7))) || strings.Contains(out, "0x7, 0x7") {
			t.Fatalf("%s prints key material: %s", format, out)
		}
	}
	if got := k.String(); got != "pii.Keyring{current: k7, ids: [k7]}" {
		t.Fatalf("String = %q", got)
	}
}

func TestGenerateKeySpec(t *testing.T) {
	a, err := GenerateKeySpec("k3")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKeySpec("k2")
	if a[3:] == b[3:] {
		t.Fatal("two generated keys are equal")
	}
	k := mustKeyring(t, a+","+b)
	if k.CurrentID() != "k3" {
		t.Fatalf("CurrentID = %q", k.CurrentID())
	}
	if _, err := GenerateKeySpec("Bad.ID"); err == nil {
		t.Fatal("GenerateKeySpec accepted a bad id")
	}
}

func TestUninitialisedKeyring(t *testing.T) {
	var k *Keyring
	if _, err := k.Seal("x", "ad"); err == nil {
		t.Fatal("nil keyring sealed")
	}
	if _, err := new(Keyring).Seal("x", "ad"); err == nil {
		t.Fatal("zero keyring sealed")
	}
	if k.CurrentID() != "" || k.NeedsRotation("v1.k1.AAAA") || k.String() == "" {
		t.Fatal("nil keyring methods")
	}
}

func FuzzOpen(f *testing.F) {
	k := mustKeyring(f, testSpec("k2", 2)+","+testSpec("k1", 1))
	// Deterministic (fixed-nonce) seed, so every fuzz worker agrees on it.
	s := sealFixedNonce(f, "k2", testKey(2), "13812345678", "patient.phone")
	for _, seed := range []string{s, "", "v1.", "v1..", "v1.k1.", "v1.k2.AAAA", "v1.k9." + s[6:], "v2.k2." + s[6:],
		s + "=", s[:len(s)-1], "v1.k2.\n" + s[6:], "\xff.\xff.\xff"} {
		f.Add(seed, "patient.phone")
	}
	f.Fuzz(func(t *testing.T, sealed, ad string) {
		// A v1 value opens by row too (until re-sealed); nothing else forged does.
		if pt, err := k.OpenRow(sealed, ad, "7/ZY0012"); err == nil && sealed != "" && (sealed != s || ad != "patient.phone" || pt != "13812345678") {
			t.Fatalf("OpenRow(%q, %q) = %q", sealed, ad, pt)
		}
		k.NeedsReseal(sealed)
		pt, err := k.Open(sealed, ad)
		k.NeedsRotation(sealed)
		if err != nil {
			if pt != "" {
				t.Fatalf("plaintext %q with error %v", pt, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrAuth) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		// Anything that opens must be what we sealed: forging is infeasible.
		if sealed != "" && (sealed != s || ad != "patient.phone" || pt != "13812345678") {
			t.Fatalf("Open(%q, %q) = %q", sealed, ad, pt)
		}
	})
}

func FuzzParseKeyring(f *testing.F) {
	k32 := base64.StdEncoding.EncodeToString(testKey(9))
	for _, seed := range []string{"k1:" + k32, "k2:" + k32 + ",k1:" + k32, k32, "k1:", ":", ",", "K1:" + k32,
		"k1:" + k32[:20], "k1:" + k32 + ",k1:" + k32, " k1 : " + k32 + " "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		k, err := ParseKeyring(spec)
		if err == nil {
			if !ValidKeyID(k.CurrentID()) || len(k.IDs()) == 0 || k.IDs()[0] != k.CurrentID() {
				t.Fatalf("bad keyring %v from %q", k, spec)
			}
			s, err := k.Seal("x", "ad")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := k.Open(s, "ad"); err != nil || got != "x" {
				t.Fatalf("round trip: %q, %v", got, err)
			}
			return
		}
		// Error messages are built from fixed lower-case text, entry
		// numbers and valid ids only, so no key text with an upper-case
		// letter, '+' or '/' can appear in them.
		msg := err.Error()
		for entry := range strings.SplitSeq(spec, ",") {
			_, key, _ := strings.Cut(entry, ":")
			for _, part := range []string{entry, key, strings.TrimSpace(key)} {
				if len(part) >= 6 && strings.ContainsAny(part, "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/") &&
					strings.Contains(msg, part) {
					t.Fatalf("error %q contains key text %q", msg, part)
				}
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := mustKeyring(b, testSpec("k1", 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal("13812345678", "patient.phone"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustKeyring(b, testSpec("k1", 1))
	s, _ := k.Seal("13812345678", "patient.phone")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(s, "patient.phone"); err != nil {
			b.Fatal(err)
		}
	}
}

// A row-bound value opens only on its own row: copied onto another
// patient it fails, as a wrong key would; values sealed before rows were
// bound still open until re-sealed.
func TestSealRow(t *testing.T) {
	k := mustKeyring(t, testSpec("k1", 1))
	const ad = "patients.national_id"
	s, err := k.SealRow("11010519491231002X", ad, "3/ZY20260012")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "v2.k1.") || k.NeedsReseal(s) {
		t.Fatalf("row seal %q has the wrong shape", s)
	}
	if pt, err := k.OpenRow(s, ad, "3/ZY20260012"); err != nil || pt != "11010519491231002X" {
		t.Fatalf("own row: %q, %v", pt, err)
	}
	for _, row := range []string{"3/ZY20260013", "4/ZY20260012", "", "3/ZY20260012\x00"} {
		if _, err := k.OpenRow(s, ad, row); !errors.Is(err, ErrAuth) {
			t.Fatalf("row %q opened a value of another row: %v", row, err)
		}
	}
	if _, err := k.Open(s, ad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Open of a row-bound value: %v", err)
	}
	old, err := k.Seal("13812345678", "patients.phones")
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.OpenRow(old, "patients.phones", "3/ZY20260012"); err != nil || pt != "13812345678" || !k.NeedsReseal(old) {
		t.Fatalf("v1 value by row: %q, %v, reseal %v", pt, err, k.NeedsReseal(old))
	}
	rotated := mustKeyring(t, testSpec("k2", 2)+","+testSpec("k1", 1))
	if !rotated.NeedsReseal(s) {
		t.Fatal("a row value under an old key needs re-sealing")
	}
}
