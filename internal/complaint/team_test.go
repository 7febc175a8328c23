package complaint_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// tinyPNG is a PNG signature and header: enough for the sniffer.
var tinyPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)

// wantParams checks that a queued message carries exactly its template's
// parameters (the outbox refuses anything else).
func wantParams(t *testing.T, m sentMsg) {
	t.Helper()
	tpl, ok := notify.Default(m.Template, m.Channel)
	if !ok {
		t.Fatalf("no built-in template %s/%s", m.Template, m.Channel)
	}
	got := slices.Sorted(maps.Keys(m.Params))
	want := slices.Sorted(slices.Values(tpl.Params))
	if !slices.Equal(got, want) {
		t.Errorf("%s params %v, template wants %v", m.Template, got, want)
	}
}

func (e *env) auditCount(action string) int {
	e.t.Helper()
	var n int
	if err := e.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestInvestigationTeam(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c := e.register(e.agent, e.phoneComplaint())
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "process", Severity: complaint.General,
			Complexity: complaint.Simple})

		// The orthopaedic nurse sees nothing of this cardiology case until
		// she is on the team.
		_, err := e.cs.Get(ctx, e.orthoNurse, c.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		choices, err := e.cs.StaffChoices(ctx, e.agent, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(choices, func(x complaint.StaffChoice) bool { return x.ID == e.orthoNurse.UserID && x.DeptID == e.ortho }) {
			t.Fatalf("staff choices %+v lack the orthopaedic nurse under 骨科", choices)
		}
		// Only the owner or quality runs the team.
		_, err = e.cs.AddMember(ctx, e.head, c.ID, e.orthoNurse.UserID, "nursing")
		wantErr(t, err, errs.Forbidden, "complaint_team_forbidden")
		_, err = e.cs.AddMember(ctx, e.agent, c.ID, e.orthoNurse.UserID, "surgery")
		wantErr(t, err, errs.Invalid, "bad_discipline")
		_, err = e.cs.AddMember(ctx, e.agent, c.ID, 99999, "nursing")
		wantErr(t, err, errs.Invalid, "bad_member")
		m, err := e.cs.AddMember(ctx, e.agent, c.ID, e.orthoNurse.UserID, "nursing")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.cs.AddMember(ctx, e.quality, c.ID, e.orthoNurse.UserID, "medical")
		wantErr(t, err, errs.Invalid, "already_member")
		if _, err := e.cs.AddMember(ctx, e.quality, c.ID, e.head.UserID, "medical"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cs.Get(ctx, e.orthoNurse, c.ID); err != nil {
			t.Fatalf("a member cannot see the complaint: %v", err)
		}
		// She is told in-app, with the number and the link only.
		msgs := e.outbox.of("complaint.team")
		if len(msgs) != 2 || msgs[0].To != fmt.Sprint(e.orthoNurse.UserID) || msgs[0].Channel != notify.InApp ||
			msgs[0].Params["number"] != c.Number || msgs[0].Params["link"] != fmt.Sprintf("/complaints/%d", c.ID) {
			t.Fatalf("team messages %+v", msgs)
		}
		wantParams(t, msgs[0])

		// A task: 3 working days by default, counted from the day after
		// (Monday 2026-03-02 → Thursday 2026-03-05).
		_, err = e.cs.AddTask(ctx, e.orthoNurse, c.ID, complaint.TaskInput{MemberID: m.ID, What: "x"})
		wantErr(t, err, errs.Forbidden, "complaint_team_forbidden")
		_, err = e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m.ID, What: "调取呼叫铃记录", Due: "2026-03-01"})
		wantErr(t, err, errs.Invalid, "due_in_past")
		_, err = e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m.ID, What: "  "})
		wantErr(t, err, errs.Invalid, "bad_task")
		task, err := e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m.ID, What: "调取当晚呼叫铃记录"})
		if err != nil {
			t.Fatal(err)
		}
		if task.Due != "2026-03-05" || task.AssigneeID != e.orthoNurse.UserID || task.Status != complaint.TaskOpen {
			t.Fatalf("task %+v; want due 2026-03-05, the nurse, open", task)
		}
		tm := e.outbox.of("complaint.task")
		if len(tm) != 1 || tm[0].To != fmt.Sprint(e.orthoNurse.UserID) {
			t.Fatalf("task messages %+v", tm)
		}
		wantParams(t, tm[0])
		mine, err := e.cs.MyTasks(ctx, e.orthoNurse, e.inst)
		if err != nil || len(mine) != 1 || mine[0].Number != c.Number || mine[0].What != "调取当晚呼叫铃记录" {
			t.Fatalf("my tasks %+v, %v", mine, err)
		}

		// Investigating needs no free-text team once members exist.
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActInvestigate})
		// The plan waits for the open task unless the owner confirms.
		_, err = e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "解释并致歉"})
		wantErr(t, err, errs.Invalid, "open_tasks")

		// Only the assignee marks it done, with a result.
		err = e.cs.DoneTask(ctx, e.agent, c.ID, task.ID, "已调取")
		wantErr(t, err, errs.Forbidden, "complaint_task_forbidden")
		err = e.cs.DoneTask(ctx, e.orthoNurse, c.ID, task.ID, " ")
		wantErr(t, err, errs.Invalid, "bad_result")
		if err := e.cs.DoneTask(ctx, e.orthoNurse, c.ID, task.ID, "呼叫铃 23:10 响铃，23:31 应答"); err != nil {
			t.Fatal(err)
		}
		err = e.cs.DoneTask(ctx, e.orthoNurse, c.ID, task.ID, "again")
		wantErr(t, err, errs.Conflict, "complaint_task_closed")
		if mine, _ := e.cs.MyTasks(ctx, e.orthoNurse, e.inst); len(mine) != 0 {
			t.Errorf("done task still listed as mine: %+v", mine)
		}

		// A second task, cancelled by quality; a third one open when the
		// owner confirms drafting the plan.
		t2, err := e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m.ID, What: "约谈当班护士", Due: "2026-03-10"})
		if err != nil {
			t.Fatal(err)
		}
		err = e.cs.CancelTask(ctx, e.orthoNurse, c.ID, t2.ID, "")
		wantErr(t, err, errs.Forbidden, "complaint_team_forbidden")
		if err := e.cs.CancelTask(ctx, e.quality, c.ID, t2.ID, "已由护士长约谈"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cs.AddTask(ctx, e.agent, c.ID, complaint.TaskInput{MemberID: m.ID, What: "整理排班表"}); err != nil {
			t.Fatal(err)
		}

		// Interview notes: structured, local time, never in the future.
		_, err = e.cs.AddInterview(ctx, e.orthoNurse, c.ID, complaint.InterviewInput{Interviewee: "李护士", Role: "当班护士",
			HeldAt: "2026-03-02T11:00", Summary: "x"})
		wantErr(t, err, errs.Invalid, "bad_interview_time")
		_, err = e.cs.AddInterview(ctx, e.orthoNurse, c.ID, complaint.InterviewInput{Interviewee: "李护士", HeldAt: "yesterday", Summary: "x"})
		wantErr(t, err, errs.Invalid, "bad_interview_time")
		_, err = e.cs.AddInterview(ctx, e.leader, c.ID, complaint.InterviewInput{Interviewee: "李护士", HeldAt: "2026-03-02 08:30", Summary: "x"})
		wantErr(t, err, errs.Forbidden, "complaint_team_forbidden")
		iv, err := e.cs.AddInterview(ctx, e.orthoNurse, c.ID, complaint.InterviewInput{Interviewee: "李护士", Role: "当班护士",
			HeldAt: "2026-03-02 08:30", Place: "护士站", Summary: "当晚同时处理两名危重患者，未及时应答"})
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC); !iv.HeldAt.Equal(want) {
			t.Errorf("held at %v, want %v (08:30 Beijing)", iv.HeldAt, want)
		}

		// Evidence: sniffed, cleaned, hashed, audited on download.
		_, err = e.cs.Attach(ctx, e.orthoNurse, c.ID, "note.txt", "", []byte("just text"))
		wantErr(t, err, errs.Invalid, "bad_file_type")
		_, err = e.cs.Attach(ctx, e.orthoNurse, c.ID, "big.png", "", append(slices.Clone(tinyPNG), make([]byte, complaint.MaxEvidence)...))
		wantErr(t, err, errs.Invalid, "attachment_too_large")
		_, err = e.cs.Attach(ctx, e.orthoNurse, c.ID, "empty.png", "", nil)
		wantErr(t, err, errs.Invalid, "empty_file")
		ev, err := e.cs.Attach(ctx, e.orthoNurse, c.ID, `C:\tmp\..\呼叫铃记录.exe`, "当晚记录截图", tinyPNG)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Filename != "呼叫铃记录.png" || ev.ContentType != "image/png" || ev.Size != int64(len(tinyPNG)) || len(ev.SHA256) != 64 {
			t.Fatalf("evidence %+v", ev)
		}
		stranger := e.user("orthodoc", access.Doctor, access.Grant{InstitutionID: e.inst, DepartmentID: e.ortho})
		_, _, err = e.cs.Download(ctx, stranger, c.ID, ev.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, _, err = e.cs.Download(ctx, e.quality, c.ID, ev.ID+1000)
		wantErr(t, err, errs.NotFound, "attachment_not_found")
		got, data, err := e.cs.Download(ctx, e.quality, c.ID, ev.ID)
		if err != nil || !bytes.Equal(data, tinyPNG) || got.Filename != ev.Filename {
			t.Fatalf("download %+v %d bytes, %v", got, len(data), err)
		}
		if n := e.auditCount("complaint.download"); n != 1 {
			t.Errorf("downloads audited %d times, want 1", n)
		}

		team, err := e.cs.Team(ctx, e.orthoNurse, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(team.Members) != 2 || len(team.Tasks) != 3 || team.OpenTasks != 1 || len(team.Interviews) != 1 || len(team.Evidence) != 1 ||
			team.Tasks[0].Status != complaint.TaskOpen || team.Evidence[0].Note != "当晚记录截图" {
			t.Fatalf("team %d members %d tasks (%d open) %d interviews %d files", len(team.Members), len(team.Tasks), team.OpenTasks,
				len(team.Interviews), len(team.Evidence))
		}

		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "解释并致歉", ConfirmOpenTasks: true})
		evs, err := e.cs.Events(ctx, e.agent, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if last.Action != complaint.ActDraftPlan || !strings.Contains(last.Detail, "open_tasks=1 confirmed") {
			t.Errorf("the confirmation is not in the history: %s %q", last.Action, last.Detail)
		}
		for _, ev := range evs {
			if ev.Action == complaint.ActInvestigate && !strings.Contains(ev.Detail, "orthonurse-名") {
				t.Errorf("investigate detail %q does not name the team", ev.Detail)
			}
		}

		// Removing her cancels her open task and ends her view.
		if err := e.cs.RemoveMember(ctx, e.agent, c.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		err = e.cs.RemoveMember(ctx, e.agent, c.ID, m.ID)
		wantErr(t, err, errs.NotFound, "member_not_found")
		_, err = e.cs.Get(ctx, e.orthoNurse, c.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		if team, err = e.cs.Team(ctx, e.quality, c.ID); err != nil || team.OpenTasks != 0 || team.Members[1].Active() {
			t.Fatalf("after removal: %+v, %v", team, err)
		}

		// Archived, the investigation is frozen.
		c = e.act(e.head, c.ID, complaint.ActionInput{Action: complaint.ActApprove})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActFeedback, FeedbackHow: "phone", Note: "已电话告知"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActSatisfaction, Grade: "satisfied"})
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActArchive})
		_, err = e.cs.Attach(ctx, e.agent, c.ID, "late.png", "", tinyPNG)
		wantErr(t, err, errs.Conflict, "complaint_archived")
		_, err = e.cs.AddMember(ctx, e.agent, c.ID, e.orthoNurse.UserID, "nursing")
		wantErr(t, err, errs.Conflict, "complaint_archived")

		// Every change is a chained event and an audit entry.
		acts := e.events(c.ID)
		for _, a := range []string{"member_add", "task_add", "task_done", "task_cancel", "interview", "evidence", "member_remove"} {
			if !slices.Contains(acts, a) {
				t.Errorf("history %v lacks %s", acts, a)
			}
			if e.auditCount("complaint."+a) == 0 {
				t.Errorf("no audit entry complaint.%s", a)
			}
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

func TestInvestigateNeedsATeam(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		c := e.register(e.agent, e.phoneComplaint())
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActAssess, Category: "process", Severity: complaint.General,
			Complexity: complaint.Simple})
		// Neither members nor a note: refused, as before.
		_, err := e.cs.Act(ctx, e.agent, c.ID, complaint.ActionInput{Action: complaint.ActInvestigate})
		wantErr(t, err, errs.Invalid, "missing_team")
		c = e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActInvestigate, Note: "医务：李医生"})
		if c.Status != complaint.Investigating {
			t.Fatalf("status %s", c.Status)
		}
		// No tasks: the plan needs no confirmation.
		e.act(e.agent, c.ID, complaint.ActionInput{Action: complaint.ActDraftPlan, Plan: "解释"})
	})
}

func TestParseLocalMinute(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-10-08T14:30", time.Date(2026, 10, 8, 6, 30, 0, 0, time.UTC), true},
		{" 2026-10-08 14:30 ", time.Date(2026, 10, 8, 6, 30, 0, 0, time.UTC), true},
		{"2026-10-08", time.Time{}, false},
		{"2026-02-30 10:00", time.Time{}, false},
		{"2026-10-08T25:00", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := complaint.ParseLocalMinute(c.in, loc)
		if (err == nil) != c.ok || (c.ok && !got.Equal(c.want)) {
			t.Errorf("ParseLocalMinute(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseLocalMinute(f *testing.F) {
	for _, s := range []string{"2026-10-08T14:30", "2026-10-08 14:30", "2026-13-01T00:00", "0000-01-01T00:00", "2026-10-08T14:30:00", "\x00", "９"} {
		f.Add(s)
	}
	loc := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := complaint.ParseLocalMinute(s, loc)
		if err != nil {
			return
		}
		// What parses prints back as a minute of that zone.
		back := got.In(loc).Format("2006-01-02 15:04")
		again, err := complaint.ParseLocalMinute(back, loc)
		if err != nil || !again.Equal(got) || got.Second() != 0 {
			t.Fatalf("%q → %v → %q → %v, %v", s, got, back, again, err)
		}
	})
}
