package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"suifang/internal/complaint"
	"suifang/internal/store/storetest"
)

// BenchmarkAPIComplaintList is the list's worst case: 2,000 open
// complaints (complaint.List colours at most that many, in Go), one page of
// 50 per request, on SQLite.
func BenchmarkAPIComplaintList(b *testing.B) {
	e := newComplaintEnv(b, storetest.SQLite(b))
	ctx := context.Background()
	for i := range 2000 {
		_, err := e.cs.Register(ctx, e.quality, complaint.Input{InstitutionID: e.h1, Channel: complaint.Channels()[i%7],
			ComplainantName: "患者", Content: fmt.Sprintf("第%d件", i), DepartmentID: e.h1Depts[i%5], Category: complaint.Categories()[i%7]})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"", "?colour=red", "?channel=phone&category=fees"} {
		b.Run("list"+q, func(b *testing.B) {
			for b.Loop() {
				if w := e.do("GET", "/api/v1/complaints"+q, e.tok1); w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			if w := e.do("GET", "/api/v1/complaints/1000", e.tok1); w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
