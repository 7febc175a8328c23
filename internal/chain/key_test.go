package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// The keyed hash depends on the key, the plain one (nil key) is the
// SHA-256 the chains used before; signatures verify only with their key;
// short or malformed keys are refused without echoing them.
func TestKey(t *testing.T) {
	a, err := NewKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKey(bytes.Repeat([]byte{2}, 32))
	fields := []string{"0000", "1796601600000000", "张建国", ""}
	var plain *Key
	// The old chains' encoding: each field as <byte length>:<field>;
	old := sha256.Sum256([]byte("4:0000;16:1796601600000000;9:张建国;0:;"))
	if got := plain.Sum(fields...); got != hex.EncodeToString(old[:]) {
		t.Fatalf("plain sum %q", got)
	}
	if a.Sum(fields...) == plain.Sum(fields...) || a.Sum(fields...) == b.Sum(fields...) {
		t.Fatal("the keyed hash does not depend on the key")
	}
	// Length prefixes: moving a separator changes the hash.
	if a.Sum("ab", "c") == a.Sum("a", "bc") {
		t.Fatal("fields run together")
	}
	sig := a.Sign("suifang checkpoint 1\nat 1\n")
	if !a.ValidSig("suifang checkpoint 1\nat 1\n", sig) || b.ValidSig("suifang checkpoint 1\nat 1\n", sig) ||
		a.ValidSig("suifang checkpoint 1\nat 2\n", sig) || a.ValidSig("suifang checkpoint 1\nat 1\n", "zz"+sig[2:]) {
		t.Fatal("signature checks")
	}
	d, err := DeriveKey(bytes.Repeat([]byte{1}, 32))
	if err != nil || d.Sum("x") == a.Sum("x") {
		t.Fatalf("a derived key equals its secret used as a key: %v", err)
	}
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	for _, spec := range []string{"", "not base64!", short} {
		if _, err := ParseKey(spec); err == nil || (spec != "" && strings.Contains(err.Error(), spec)) {
			t.Errorf("ParseKey(%q): %v", spec, err)
		}
	}
	if s := a.String() + a.GoString(); strings.Contains(s, "\x01") {
		t.Error("String shows the key")
	}
}
