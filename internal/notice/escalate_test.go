package notice_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/notice"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// TestNoticeEscalationSimulatedClock raises notices over several days
// (National Day among them), then runs the escalation worker of two
// instances every 30 simulated minutes for five weeks. Every overdue
// notice reaches the department head exactly once, on the first working
// day after its deadline, and quality exactly once, EscalateDays working
// days later; nothing is sent at night, on a weekend or in the holiday; a
// notice submitted in time never escalates, one submitted after the first
// step never reaches quality.
func TestNoticeEscalationSimulatedClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		pol, err := e.sv.Calendar.Policy(ctx, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		// A second instance on the same database, with its own service.
		other := notice.New(notice.Deps{DB: db, Audit: e.sv.Audit, Calendars: e.sv.Calendar, Outbox: e.outbox, Now: e.clk.Now})

		var all []*notice.Notice
		for i := range 40 {
			topic := []string{"doctors", "nurses", "environment", "other"}[i%4]
			all = append(all, e.raise(e.quality, topic, 0))
			e.clk.Advance(7 * time.Hour) // raised at all hours, holidays too
		}
		inTime, late := all[0], all[1]
		sub := notice.TransitionInput{Action: notice.ActSubmit, RootCause: "原因", ActionTaken: "措施"}
		for _, n := range []*notice.Notice{inTime, late} {
			e.act(e.head, n.ID, notice.TransitionInput{Action: notice.ActAccept})
		}
		e.act(e.head, inTime.ID, sub)

		end := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
		steps := 0
		submittedLate := false
		for e.clk.Now().Before(end) {
			e.clk.Advance(30 * time.Minute)
			if db.Dialect == store.Postgres {
				var wg sync.WaitGroup
				var errA, errB error
				var a, b int
				wg.Add(2)
				go func() { defer wg.Done(); a, errA = e.nt.Escalate(ctx) }()
				go func() { defer wg.Done(); b, errB = other.Escalate(ctx) }()
				wg.Wait()
				if errA != nil || errB != nil {
					t.Fatalf("escalate: %v / %v", errA, errB)
				}
				steps += a + b
			} else {
				for _, s := range []*notice.Service{e.nt, other} {
					n, err := s.Escalate(ctx)
					if err != nil {
						t.Fatal(err)
					}
					steps += n
				}
			}
			if !submittedLate {
				if n, _ := e.nt.Get(ctx, e.quality, late.ID); n.Escalation == notice.EscalateHead {
					e.act(e.head, late.ID, sub)
					submittedLate = true
				}
			}
		}
		if !submittedLate {
			t.Fatal("the late notice never reached the department head")
		}

		type key struct {
			id   string
			step string
		}
		sent := map[key]int{}
		first := map[key]time.Time{}
		for _, m := range e.outbox.of("notice.escalate") {
			if !notice.InService(pol, m.At) {
				t.Errorf("%s sent at %s, outside service hours or on a day off", m.IdempotencyKey, m.At.In(pol.Loc))
			}
			step := "1"
			if strings.Contains(m.IdempotencyKey, ":escalate2:") {
				step = "2"
			}
			k := key{m.Ref, step}
			sent[k]++
			if first[k].IsZero() {
				first[k] = m.At
			}
		}
		heads, quality := 0, 0
		for _, n := range all {
			n, err := e.nt.Get(ctx, e.quality, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			ref := fmt.Sprintf("notice:%d", n.ID)
			s1, s2 := sent[key{ref, "1"}], sent[key{ref, "2"}]
			evs, _ := e.nt.Events(ctx, e.quality, n.ID)
			escEvents := 0
			for _, ev := range evs {
				if ev.Action == "escalate" {
					escEvents++
				}
			}
			switch n.ID {
			case inTime.ID:
				if s1+s2+escEvents != 0 || n.Escalation != 0 {
					t.Errorf("the notice submitted in time escalated: %d/%d messages, %d events", s1, s2, escEvents)
				}
				continue
			case late.ID:
				if s1 != 1 || s2 != 0 || n.Escalation != 1 || escEvents != 1 {
					t.Errorf("the notice submitted after step 1: %d/%d messages, level %d, %d events", s1, s2, n.Escalation, escEvents)
				}
				continue
			}
			// One head (心血管内科's) and one quality user hear of each step.
			if s1 != 1 || s2 != 1 || n.Escalation != 2 || escEvents != 2 {
				t.Errorf("%s (deadline %s): %d head and %d quality messages, level %d, %d events; want 1, 1, 2, 2",
					n.Number, n.Deadline, s1, s2, n.Escalation, escEvents)
				continue
			}
			d1 := calendar.DateOf(first[key{ref, "1"}].In(pol.Loc))
			d2 := calendar.DateOf(first[key{ref, "2"}].In(pol.Loc))
			if want := pol.Cal.NextWorkingDay(n.Deadline.AddDays(1)); d1 != want {
				t.Errorf("%s: head told on %s, want the first working day after the deadline %s, %s", n.Number, d1, n.Deadline, want)
			}
			if want := pol.Cal.NextWorkingDay(pol.Cal.AddWorkingDays(n.Deadline, 3).AddDays(1)); d2 != want {
				t.Errorf("%s: quality told on %s, want %s", n.Number, d2, want)
			}
			heads++
			quality++
		}
		if heads != 38 || quality != 38 {
			t.Errorf("%d notices reached heads and %d quality, want 38 each", heads, quality)
		}
		if steps != 2*38+1 {
			t.Errorf("the workers report %d steps, want %d", steps, 2*38+1)
		}
		// Messages name the notice only; the test looks its department up.
		deptOf := map[string]string{}
		rows, err := db.R().QueryContext(ctx, `SELECT n.number, d.name FROM notices n JOIN departments d ON d.id = n.department_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var num, dept string
			if err := rows.Scan(&num, &dept); err != nil {
				t.Fatal(err)
			}
			deptOf[num] = dept
		}
		rows.Close()
		for _, m := range e.outbox.of("notice.escalate") {
			m.Params["department"] = deptOf[m.Params["number"]]
			if m.Params["number"] == "" || m.Params["deadline"] == "" || m.Params["department"] == "" {
				t.Errorf("escalation message without its params: %+v", m.Params)
			}
			// 后勤保障部 has no head: its owner (quality, for want of staff) hears.
			want := fmt.Sprint(e.head.UserID)
			if m.Params["department"] == "后勤保障部" {
				want = fmt.Sprint(e.quality.UserID)
			}
			if strings.Contains(m.IdempotencyKey, ":escalate1:") && m.To != want {
				t.Errorf("step 1 of %s went to user %s, want %s", m.Params["department"], m.To, want)
			}
			if strings.Contains(m.IdempotencyKey, ":escalate2:") && m.To != fmt.Sprint(e.quality.UserID) {
				t.Errorf("step 2 went to user %s, want quality %d", m.To, e.quality.UserID)
			}
		}
	})
}
