package abnormal_test

import (
	"testing"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/store/storetest"
)

// BenchmarkRaise files manual reports: number under the chain lock, the
// row, the event, two in-app alerts and an SMS, the alert event and the
// audit entry, in one transaction.
func BenchmarkRaise(b *testing.B) {
	e := setup(b, storetest.SQLite(b))
	in := abnormal.Input{InstitutionID: e.inst, Kind: "dispute", Summary: "家属情绪激动"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.ab.Raise(ctx, e.agent, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRealert200 re-alerts a backlog of 200 unacknowledged reports in
// one pass (each in its own transaction).
func BenchmarkRealert200(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := setup(b, storetest.SQLite(b))
		for range 200 {
			if _, err := e.ab.Raise(ctx, e.agent, abnormal.Input{InstitutionID: e.inst, Kind: "safety", Summary: "地面湿滑"}); err != nil {
				b.Fatal(err)
			}
		}
		e.clk.Advance(3 * time.Hour)
		b.StartTimer()
		n, err := e.ab.Realert(ctx)
		if err != nil || n != 200 {
			b.Fatalf("re-alerted %d: %v", n, err)
		}
	}
}
