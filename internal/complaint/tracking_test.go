package complaint

import (
	"testing"

	"suifang/internal/notify"
)

// A tracking code goes out in the receipt, so the outbox's content guard
// must accept every one: about 1 in 300 random codes looked like an ICD-10
// code ("Z349") and the complainant got no receipt.
func TestTrackingCodesPassTheContentGuard(t *testing.T) {
	seen := map[string]bool{}
	for range 20000 {
		code := newTrackingCode()
		if err := notify.Guard("您的投诉已受理，查询码 " + code + "，5 个工作日内答复。"); err != nil {
			t.Fatalf("the guard refuses the receipt for %s: %v", code, err)
		}
		if NormalizeTrackingCode(code) != code {
			t.Fatalf("%s does not normalize to itself", code)
		}
		seen[code] = true
	}
	if len(seen) < 19990 {
		t.Errorf("only %d distinct codes in 20,000", len(seen))
	}
}
