package complaint

import (
	"strings"
	"testing"
)

// FuzzIdempotencyLine: whatever an event's detail holds, reading the key
// back never panics, only accepts what idempotencyLine writes, and reads
// back exactly what it wrote.
func FuzzIdempotencyLine(f *testing.F) {
	fp := fingerprint(&Input{Channel: "phone", Content: "x"})
	for _, s := range []string{
		"channel=phone category=process severity=general complexity=simple department=3 owner=7",
		"channel=phone\n" + idempotencyLine("6f1c2a9e-0b7d-4c35-9a51-2d3e4f5a6b7c", fp),
		"idempotency_key=a input=" + fp,
		"idempotency_key= input=" + fp,
		"idempotency_key=a b input=" + fp,
		"idempotency_key=a input=" + strings.ToUpper(fp),
		"idempotency_key=a input=" + fp + "\nlater line",
		"\n\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, detail string) {
		key, got, ok := parseIdempotencyLine(detail)
		if !ok {
			if key != "" || got != "" {
				t.Fatalf("refused %q but returned %q %q", detail, key, got)
			}
			return
		}
		if !ValidIdempotencyKey(key) || len(got) != 32 {
			t.Fatalf("accepted %q as key %q fingerprint %q", detail, key, got)
		}
		if !strings.HasSuffix(detail, idempotencyLine(key, got)) {
			t.Fatalf("%q does not end with the line for %q %q", detail, key, got)
		}
		// Writing what was read and reading it again is stable.
		k2, f2, ok2 := parseIdempotencyLine("x\n" + idempotencyLine(key, got))
		if !ok2 || k2 != key || f2 != got {
			t.Fatalf("round trip of %q %q gave %q %q %t", key, got, k2, f2, ok2)
		}
	})
}
