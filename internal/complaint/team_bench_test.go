package complaint_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"suifang/internal/complaint"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// BenchmarkTeam measures what the complaint page adds: reading a busy
// investigation (2 members, 40 tasks, 20 interview notes, 10 evidence
// files), and storing one 1 MB evidence file with its chained event.
func BenchmarkTeam(b *testing.B) {
	engines := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if os.Getenv("SUIFANG_TEST_POSTGRES") != "" {
		engines["postgres"] = storetest.Postgres
	}
	for name, open := range engines {
		b.Run(name, func(b *testing.B) { benchTeam(b, open(b)) })
	}
}

func benchTeam(b *testing.B, db *store.DB) {
	{
		e := setup(b, db)
		c := e.register(e.agent, e.phoneComplaint())
		m1, err := e.cs.AddMember(ctx, e.agent, c.ID, e.orthoNurse.UserID, "nursing")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.cs.AddMember(ctx, e.agent, c.ID, e.head.UserID, "medical"); err != nil {
			b.Fatal(err)
		}
		for i := range 40 {
			if _, err := e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m1.ID, What: fmt.Sprintf("任务 %d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 20 {
			if _, err := e.cs.AddInterview(ctx, e.agent, c.ID, complaint.InterviewInput{Interviewee: fmt.Sprintf("证人%d", i),
				HeldAt: "2026-03-02 08:00", Summary: "访谈要点"}); err != nil {
				b.Fatal(err)
			}
		}
		big := append(bytes.Clone(tinyPNG), make([]byte, 1<<20)...)
		for range 10 {
			if _, err := e.cs.Attach(ctx, e.agent, c.ID, "x.png", "", tinyPNG); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("read", func(b *testing.B) {
			for b.Loop() {
				if _, err := e.cs.Team(ctx, e.agent, c.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("attach-1MB", func(b *testing.B) {
			b.SetBytes(int64(len(big)))
			for b.Loop() {
				if _, err := e.cs.Attach(ctx, e.agent, c.ID, "big.png", "", big); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
