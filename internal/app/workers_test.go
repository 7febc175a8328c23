package app

import (
	"context"
	"encoding/base64"
	"net"
	"path/filepath"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/org"
)

// A running instance anchors the chains by itself: a checkpoint soon after
// something changed, none while nothing does.
func TestServeWritesCheckpoints(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "cp.db")
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-app-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-app-test-index-key-32byt"))
	cfg.CheckpointEvery = 50 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	a, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "CP", Name: "检查点医院"}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	count := func() int {
		cps, err := a.Audit.Checkpoints(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(cps)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if count() != 1 {
		t.Fatalf("%d checkpoints after the first period, want 1", count())
	}
	time.Sleep(300 * time.Millisecond) // six more periods, nothing new
	if n := count(); n != 1 {
		t.Errorf("%d checkpoints while nothing changed, want 1", n)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err := a.Audit.Verify(context.Background())
	if err != nil || !res.OK {
		t.Fatalf("verify: %+v, %v", res, err)
	}
	if f, n, err := a.Audit.VerifyCheckpoints(context.Background(), res.PrunedUpTo, nil); err != nil || len(f) != 0 || n != 1 {
		t.Fatalf("checkpoints: %+v, %d, %v", f, n, err)
	}
}
