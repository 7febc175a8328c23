package complaint_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// token is an API token's principal for H1, as auth.AuthenticateToken
// makes it.
func (e *env) token(name string) *access.Principal {
	return &access.Principal{Username: "token:" + name, Name: name, InstitutionID: e.inst,
		Roles: []access.Role{access.Integration}, Grants: []access.Grant{{InstitutionID: e.inst}}}
}

func TestRegisterIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		tok := e.token("his")
		in := e.phoneComplaint()
		in.IdempotencyKey = "6f1c2a9e-0b7d-4c35-9a51-2d3e4f5a6b7c"
		first := e.register(tok, in)
		if first.Replayed || first.OwnerID != e.quality.UserID {
			t.Fatalf("first: replayed %t owner %d; want a new complaint owned by quality", first.Replayed, first.OwnerID)
		}
		// The same request again, even an hour later: the same complaint.
		e.clk.Advance(time.Hour)
		again := e.register(tok, in)
		if !again.Replayed || again.ID != first.ID || again.Number != first.Number || again.TrackingCode != first.TrackingCode {
			t.Fatalf("retry made %s (replayed %t), want %s", again.Number, again.Replayed, first.Number)
		}
		// Concurrent retries still make one complaint: the chain lock
		// serialises the lookup and the insert. Twelve, twice the PostgreSQL
		// pool on two cores: Register reads the calendar through the pool
		// while it holds the chain lock, which deadlocked at 6 before
		// store.DB.Write bounded writers to half the pool.
		in2 := e.phoneComplaint()
		in2.IdempotencyKey = "race-1"
		var wg sync.WaitGroup
		ids := make([]int64, 12)
		for i := range ids {
			wg.Go(func() {
				c, err := e.cs.Register(ctx, tok, in2)
				if err != nil {
					t.Errorf("concurrent register: %v", err)
					return
				}
				ids[i] = c.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent retries made complaints %v", ids)
			}
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d complaints stored, want 2", n)
		}
		// The same key with another complaint is refused, nothing is lost
		// silently.
		other := in
		other.Content = "另一件事：门诊挂号排队太久"
		_, err := e.cs.Register(ctx, tok, other)
		wantErr(t, err, errs.Conflict, "idempotency_key_reused")
		// Keys belong to their caller: another token's same key is new.
		c3 := e.register(e.token("wechat"), in)
		if c3.Replayed || c3.ID == first.ID {
			t.Errorf("another caller's key replayed %s", c3.Number)
		}
		// A key is remembered for a day.
		e.clk.Advance(complaint.IdempotencyWindow)
		c4 := e.register(tok, in)
		if c4.Replayed || c4.ID == first.ID {
			t.Errorf("a key older than the window replayed %s", c4.Number)
		}
		// A bad key is a field error.
		for _, k := range []string{"has space", strings.Repeat("k", complaint.MaxIdempotencyKey+1), "换行"} {
			bad := e.phoneComplaint()
			bad.IdempotencyKey = k
			_, err := e.cs.Register(ctx, tok, bad)
			wantErr(t, err, errs.Invalid, "bad_idempotency_key")
		}
		// The key is part of the register event, so the history shows which
		// request made the complaint; the chain stays intact.
		evs, err := e.cs.Events(ctx, e.quality, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 || evs[0].Action != "register" || !strings.Contains(evs[0].Detail, "\nidempotency_key="+in.IdempotencyKey+" input=") {
			t.Errorf("register event detail %q", evs[0].Detail)
		}
		res, err := e.cs.VerifyEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if !r.OK {
				t.Errorf("chain broken: %+v", r)
			}
		}
	})
}

// An integration handles complaints for the whole institution; approval,
// return and reopening stay with named people.
func TestIntegrationActsButDoesNotApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		tok := e.token("his")
		c := e.register(tok, e.phoneComplaint())
		for _, a := range []complaint.ActionInput{
			{Action: complaint.ActAccept},
			{Action: complaint.ActAssess, Category: "process", Severity: complaint.General, Complexity: complaint.Simple},
			{Action: complaint.ActInvestigate, Note: "医务：王医生；护理：李护士长"},
			{Action: complaint.ActDraftPlan, Plan: "解释并道歉"},
		} {
			c = e.act(tok, c.ID, a)
		}
		for _, a := range []string{complaint.ActApprove, complaint.ActReturn} {
			_, err := e.cs.Act(ctx, tok, c.ID, complaint.ActionInput{Action: a, Note: "x"})
			wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		}
		c = e.act(e.head, c.ID, complaint.ActionInput{Action: complaint.ActApprove})
		c = e.act(tok, c.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "已电话解释"})
		c = e.act(tok, c.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "satisfied"})
		c = e.act(tok, c.ID, complaint.ActionInput{Action: complaint.ActArchive})
		_, err := e.cs.Act(ctx, tok, c.ID, complaint.ActionInput{Action: complaint.ActReopen, Note: "再查"})
		wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		// Another institution's token sees nothing.
		other := e.token("h2")
		other.InstitutionID, other.Grants = e.inst+100, []access.Grant{{InstitutionID: e.inst + 100}}
		_, err = e.cs.Act(ctx, other, c.ID, complaint.ActionInput{Action: complaint.ActNote, Note: "x"})
		wantErr(t, err, errs.Forbidden, "out_of_scope")
	})
}

func TestListNarrowingFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.register(e.agent, e.phoneComplaint()) // cardio, process, phone, Monday 09:00
		e.clk.Advance(26 * time.Hour)
		in := e.phoneComplaint()
		in.VisitNumber, in.DepartmentID, in.OtherDepts, in.Channel, in.Category = "", e.ortho, []int64{e.cardio}, "wechat", "fees"
		b := e.register(e.agent, in) // ortho + cardio, fees, wechat, Tuesday 11:00
		tue := time.Date(2026, 3, 3, 0, 0, 0, 0, e.loc)
		for _, c := range []struct {
			name string
			f    complaint.Filter
			want []int64
		}{
			{"none", complaint.Filter{}, []int64{b.ID, a.ID}},
			{"category", complaint.Filter{Category: "fees"}, []int64{b.ID}},
			{"unknown category", complaint.Filter{Category: "nothing"}, nil},
			{"channel", complaint.Filter{Channel: "phone"}, []int64{a.ID}},
			{"department involved", complaint.Filter{DepartmentID: e.cardio}, []int64{b.ID, a.ID}},
			{"department responsible only", complaint.Filter{DepartmentID: e.ortho}, []int64{b.ID}},
			{"from", complaint.Filter{ReceivedFrom: tue}, []int64{b.ID}},
			{"to", complaint.Filter{ReceivedTo: tue}, []int64{a.ID}},
			{"both", complaint.Filter{ReceivedFrom: tue, ReceivedTo: tue.AddDate(0, 0, 1), Channel: "wechat"}, []int64{b.ID}},
		} {
			f := c.f
			f.InstitutionID, f.Tab = e.inst, complaint.TabAll
			l, err := e.cs.List(ctx, e.quality, f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var got []int64
			for _, v := range l.Items {
				got = append(got, v.ID)
			}
			if l.Total != len(c.want) || !equalIDs(got, c.want) {
				t.Errorf("%s: got %v (total %d), want %v", c.name, got, l.Total, c.want)
			}
		}
		_, err := e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll, Channel: "pigeon"})
		wantErr(t, err, errs.Invalid, "bad_channel")
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
