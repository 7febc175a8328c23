package complaint_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

const (
	nightText  = "住院期间夜班护士态度很差，我父亲半夜按呼叫铃二十分钟没人来，后来护士过来还说我们事多，要求护士长给个说法并道歉。"
	nightText2 = "我爸住院时半夜按了呼叫铃二十多分钟都没有护士来，来了以后护士还嫌我们事多，态度很差。希望护士长道歉，给个说法！"
	feeText    = "出院结算时发现CT检查费重复收取了两次，共多收380元，要求退还多收的费用。"
)

func (e *env) events(id int64) []string {
	e.t.Helper()
	evs, err := e.cs.Events(ctx, e.quality, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func numbers(ds []complaint.Duplicate) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Number)
	}
	return out
}

func TestDuplicatesWarnedAndMerged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		in := e.phoneComplaint()
		in.Content = nightText
		first := e.register(e.agent, in)

		// The same contact retelling the event, no stay named: a duplicate
		// by the contact's blind index; another matter is not.
		probe := complaint.Input{InstitutionID: e.inst, Channel: "counter", ComplainantName: "张女士", ComplainantRole: "relative",
			Contact: "13800138000", DepartmentID: e.cardio, Content: nightText2}
		ds, err := e.cs.CheckDuplicates(ctx, e.agent, probe)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].ID != first.ID || !ds[0].SameContact || ds[0].SamePatient || ds[0].Score < complaint.DefaultSimilarity {
			t.Fatalf("duplicates %+v; want the first complaint by contact", ds)
		}
		other := probe
		other.Content = feeText
		if ds, err := e.cs.CheckDuplicates(ctx, e.agent, other); err != nil || len(ds) != 0 {
			t.Errorf("another matter: %v %v", numbers(ds), err)
		}
		stranger := probe
		stranger.Contact = "13900139000"
		if ds, err := e.cs.CheckDuplicates(ctx, e.agent, stranger); err != nil || len(ds) != 0 {
			t.Errorf("another person: %v %v", numbers(ds), err)
		}
		// The same patient by the stay, another contact.
		byStay := stranger
		byStay.VisitNumber, byStay.DepartmentID = e.visit, 0
		if ds, err := e.cs.CheckDuplicates(ctx, e.agent, byStay); err != nil || len(ds) != 1 || !ds[0].SamePatient || ds[0].SameContact {
			t.Errorf("same patient: %+v %v", ds, err)
		}
		// A nurse of another department is not shown a complaint she may not see.
		if ds, err := e.cs.CheckDuplicates(ctx, e.orthoNurse, probe); err != nil || len(ds) != 0 {
			t.Errorf("out of scope candidates shown: %v %v", numbers(ds), err)
		}
		// A form with a mistake gets the mistake first.
		bad := probe
		bad.Content = ""
		_, err = e.cs.CheckDuplicates(ctx, e.agent, bad)
		wantErr(t, err, errs.Invalid, "bad_content")

		// Registering anyway is never refused; the history says so.
		dup := e.register(e.agent, probe)
		if evs := e.events(dup.ID); !slices.Equal(evs, []string{"register", "duplicate_suspected"}) {
			t.Errorf("duplicate's events %v", evs)
		}
		if got, err := e.cs.PossibleDuplicates(ctx, e.quality, first.ID); err != nil || fmt.Sprint(numbers(got)) != fmt.Sprint([]string{dup.Number}) {
			t.Errorf("first's possible duplicates %v %v", numbers(got), err)
		}

		// Merging: only the owner or quality, into a complaint of the same
		// institution they can see.
		_, err = e.cs.Merge(ctx, e.orthoNurse, dup.ID, first.ID, "")
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.cs.Merge(ctx, e.head, dup.ID, first.ID, "")
		wantErr(t, err, errs.Forbidden, "complaint_action_forbidden")
		_, err = e.cs.Merge(ctx, e.agent, dup.ID, dup.ID, "")
		wantErr(t, err, errs.Invalid, "merge_self")
		_, err = e.cs.Merge(ctx, e.agent, dup.ID, 99999, "")
		wantErr(t, err, errs.Invalid, "merge_no_primary")
		m, err := e.cs.Merge(ctx, e.agent, dup.ID, first.ID, "同一事件，家属来电")
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != complaint.Merged || m.MergedInto != first.ID {
			t.Fatalf("merged: status %s into %d", m.Status, m.MergedInto)
		}
		if evs := e.events(dup.ID); evs[len(evs)-1] != "merge" {
			t.Errorf("duplicate's events %v", evs)
		}
		if evs := e.events(first.ID); evs[len(evs)-1] != "merge_in" {
			t.Errorf("primary's events %v", evs)
		}
		// Reports count the event once: the merged duplicate is left out.
		rep, err := e.cs.Report(ctx, e.quality, first.InstitutionID, complaint.PeriodOf(complaint.Month, calendar.DateOf(e.clk.Now().In(e.loc))))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Received != 1 {
			t.Errorf("month report received %d, want 1 (the primary; its merged duplicate is not counted)", rep.Received)
		}
		from, err := e.cs.MergedFrom(ctx, e.quality, first.ID)
		if err != nil || len(from) != 1 || from[0].Content != nightText2 {
			t.Errorf("merged from %v %v", from, err)
		}
		// It is done: no more actions, no second merge, nothing merges into it.
		_, err = e.cs.Act(ctx, e.agent, dup.ID, complaint.ActionInput{Action: complaint.ActAccept})
		wantErr(t, err, errs.Conflict, "bad_transition")
		_, err = e.cs.Merge(ctx, e.agent, dup.ID, first.ID, "")
		wantErr(t, err, errs.Conflict, "merge_not_open")
		_, err = e.cs.Merge(ctx, e.agent, first.ID, dup.ID, "")
		wantErr(t, err, errs.Invalid, "merge_into_merged")
		// …and a primary with duplicates is not merged away itself.
		third := e.register(e.agent, e.phoneComplaint())
		_, err = e.cs.Merge(ctx, e.agent, first.ID, third.ID, "")
		wantErr(t, err, errs.Conflict, "merge_has_duplicates")
		if ds, err := e.cs.PossibleDuplicates(ctx, e.quality, first.ID); err != nil || slices.Contains(numbers(ds), dup.Number) {
			t.Errorf("a merged complaint is still a candidate: %v %v", numbers(ds), err)
		}

		// It leaves the open lists and can be listed on its own.
		open, err := e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range open.Items {
			if v.ID == dup.ID {
				t.Error("merged complaint on the open list")
			}
		}
		merged, err := e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll, Status: complaint.Merged})
		if err != nil || merged.Total != 1 || merged.Items[0].ID != dup.ID {
			t.Errorf("merged list %+v %v", merged, err)
		}

		// Its clocks stop: two weeks later the primary has escalated,
		// the duplicate never.
		var due int64
		if err := db.R().QueryRowContext(ctx, `SELECT next_due FROM complaints WHERE id = $1`, dup.ID).Scan(&due); err != nil || due != 0 {
			t.Errorf("merged next_due %d %v", due, err)
		}
		for range 14 * 8 {
			e.clk.Advance(time.Hour * 3)
			if _, err := e.cs.Escalate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		count := func(id int64) int {
			var n int
			if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_escalations WHERE complaint_id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count(first.ID) == 0 || count(dup.ID) != 0 {
			t.Errorf("escalations: primary %d, merged duplicate %d", count(first.ID), count(dup.ID))
		}
		v, err := e.cs.Page(ctx, e.quality, dup.ID)
		if err != nil || v.Colour != complaint.Met {
			t.Errorf("merged colour %s %v", v.Colour, err)
		}
	})
}

func (e *env) office(name string) int64 {
	e.t.Helper()
	id, err := e.sv.Org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: e.inst, Code: "9001", Name: name, Kind: org.DeptOffice})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestPublicDuplicatesAndUnknownDepartment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h, err := e.cs.PublicHospital(ctx, "H1")
		if err != nil || h.Office {
			t.Fatalf("no complaint office yet: %+v %v", h, err)
		}
		pub := complaint.PublicInput{Name: "李四", Phone: "13912345678", Role: "patient", DeptUnknown: true, Content: feeText}
		_, err = e.cs.RegisterPublic(ctx, "H1", pub)
		wantErr(t, err, errs.Invalid, "missing_department")

		office := e.office("客户服务中心")
		if h, err = e.cs.PublicHospital(ctx, "H1"); err != nil || !h.Office {
			t.Fatalf("office not found: %+v %v", h, err)
		}
		for _, d := range h.Depts {
			if d.ID == office {
				t.Error("the office is listed among the departments a complainant meets")
			}
		}
		r1, err := e.cs.RegisterPublic(ctx, "H1", pub)
		if err != nil {
			t.Fatal(err)
		}
		// The same person and matter again: still filed, still a number.
		r2, err := e.cs.RegisterPublic(ctx, "H1", pub)
		if err != nil || r2.TrackingCode == "" || r2.TrackingCode == r1.TrackingCode {
			t.Fatalf("second filing: %+v %v", r2, err)
		}
		var id1, id2, dept, owner int64
		if err := db.R().QueryRowContext(ctx, `SELECT id, department_id, owner_id FROM complaints WHERE tracking_code = $1`, r1.TrackingCode).
			Scan(&id1, &dept, &owner); err != nil {
			t.Fatal(err)
		}
		if dept != office || owner != e.quality.UserID {
			t.Errorf("unknown department went to %d owned by %d; want the office %d, quality %d", dept, owner, office, e.quality.UserID)
		}
		if err := db.R().QueryRowContext(ctx, `SELECT id FROM complaints WHERE tracking_code = $1`, r2.TrackingCode).Scan(&id2); err != nil {
			t.Fatal(err)
		}
		if evs := e.events(id2); !slices.Contains(evs, "duplicate_suspected") {
			t.Errorf("second filing's events %v", evs)
		}
		// Merged, the duplicate's tracking shows the primary's progress.
		if _, err := e.cs.Merge(ctx, e.quality, id2, id1, ""); err != nil {
			t.Fatal(err)
		}
		e.act(e.quality, id1, complaint.ActionInput{Action: complaint.ActAccept})
		st, err := e.cs.Track(ctx, r2.TrackingCode, "5678")
		if err != nil || st.Phase != "handling" {
			t.Errorf("merged tracking %+v %v", st, err)
		}
	})
}

func TestSuggestionBoxBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		office := e.office("患者服务中心")
		count := func() int {
			var n int
			if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		slips := []complaint.Slip{
			{FoundOn: "2026-02-27", Box: "门诊大厅", Text: "挂号窗口排队太久，只开了两个窗口。"},
			{},
			{FoundOn: "2026-03-02", Box: "住院部三楼", Text: feeText, Name: "王五", Contact: "13700137000", Dept: "骨科"},
			{FoundOn: "2026-13-01", Box: "住院部五楼", Text: "卫生间很脏。", Dept: "0301"},
		}
		_, err := e.cs.RegisterSlips(ctx, e.agent, e.inst, slips)
		var se *complaint.SlipError
		if !errors.As(err, &se) || se.Row != 3 || errs.CodeOf(err) != "bad_date" {
			t.Fatalf("bad row: %v", err)
		}
		if n := count(); n != 0 {
			t.Fatalf("%d complaints saved from a batch with a bad row", n)
		}
		slips[3].Dept = "眼科"
		slips[3].FoundOn = "2026-03-01"
		_, err = e.cs.RegisterSlips(ctx, e.agent, e.inst, slips)
		if !errors.As(err, &se) || se.Row != 3 || errs.CodeOf(err) != "slip_no_department" {
			t.Fatalf("unknown department: %v", err)
		}
		_, err = e.cs.RegisterSlips(ctx, e.agent, e.inst, []complaint.Slip{{}, {}})
		wantErr(t, err, errs.Invalid, "no_slips")
		_, err = e.cs.RegisterSlips(ctx, e.orthoNurse, e.inst+1, slips)
		wantErr(t, err, errs.Forbidden, "out_of_scope")

		slips[3].Dept = "0301"
		cs, err := e.cs.RegisterSlips(ctx, e.agent, e.inst, slips)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 3 || count() != 3 {
			t.Fatalf("registered %d, stored %d; want 3 (the blank row skipped)", len(cs), count())
		}
		pol, err := e.sv.Calendar.Policy(ctx, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		opened := time.Date(2026, 2, 27, 0, 0, 0, 0, e.loc).Add(time.Duration(pol.Hours.Start) * time.Minute)
		for i, c := range cs {
			if c.Channel != "suggestion_box" || c.OwnerID != e.agent.UserID {
				t.Errorf("slip %d: channel %s owner %d", i, c.Channel, c.OwnerID)
			}
		}
		if c := cs[0]; c.ComplainantName != "匿名" || c.DepartmentID != office || c.Location != "门诊大厅" || !c.ReceivedAt.Equal(opened) {
			t.Errorf("anonymous slip: %s dept %d at %s received %s (want %s)", c.ComplainantName, c.DepartmentID, c.Location, c.ReceivedAt, opened)
		}
		if c := cs[1]; c.ComplainantName != "王五" || c.DepartmentID != e.ortho || c.ContactMasked == "" || !c.ReceivedAt.Equal(e.clk.Now()) {
			t.Errorf("signed slip: %+v", c)
		}
		if c := cs[2]; c.DepartmentID != e.cardio || c.Number != "TS-H1-20260301-0001" {
			t.Errorf("slip by code: dept %d number %s", c.DepartmentID, c.Number)
		}
	})
}

func TestRaisedFromFollowupRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		var task int64
		if err := db.R().QueryRowContext(ctx, `SELECT id FROM followup_tasks WHERE encounter_id = $1 ORDER BY id LIMIT 1`, e.encounter).Scan(&task); err != nil {
			t.Fatal(err)
		}
		if err := e.sv.Followup.Claim(ctx, e.agent, task); err != nil {
			t.Fatal(err)
		}
		rec, err := e.sv.Followup.Complete(ctx, e.agent, task, followup.RecordInput{TreatmentEffect: "good", Satisfaction: followup.Satisfied,
			MedicationGuidance: "按时服药", RevisitAdvice: "两周后复查", NPS: -1, Opinions: "出院结算等了两个小时没人管"})
		if err != nil {
			t.Fatal(err)
		}
		in := complaint.Input{InstitutionID: e.inst, Channel: "followup_call", ComplainantName: "张晓明", Content: rec.Opinions,
			SourceRecordID: rec.ID}
		c := e.register(e.agent, in)
		if c.SourceRecordID != rec.ID || c.PatientID != e.patientID || c.EncounterID != e.encounter || c.DepartmentID != e.cardio {
			t.Errorf("raised from a record: record %d patient %d stay %d dept %d", c.SourceRecordID, c.PatientID, c.EncounterID, c.DepartmentID)
		}
		// A record of another institution, or of another patient than the
		// stay named, is refused.
		in.SourceRecordID = rec.ID + 1000
		_, err = e.cs.Register(ctx, e.agent, in)
		wantErr(t, err, errs.Invalid, "complaint_record_not_found")
	})
}

func TestParseSlipLines(t *testing.T) {
	text := "日期\t位置\t内容\t姓名\t联系方式\t科室\n" +
		"2026/3/1\t门诊大厅\t挂号排队太久\n" +
		"\n\t\t\n" +
		"2026年02月27日\t住院部\t\"护士态度差\n半夜没人管\"\t王五\t13700137000\t骨科\n" +
		"昨天\t急诊\t等了很久\t\t\t\n"
	got, err := complaint.ParseSlipLines(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []complaint.Slip{
		{FoundOn: "2026-03-01", Box: "门诊大厅", Text: "挂号排队太久"},
		{FoundOn: "2026-02-27", Box: "住院部", Text: "护士态度差\n半夜没人管", Name: "王五", Contact: "13700137000", Dept: "骨科"},
		{FoundOn: "昨天", Box: "急诊", Text: "等了很久"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	_, err = complaint.ParseSlipLines("2026-03-01\ta\tb\tc\td\te\tf\n")
	if !errors.Is(err, complaint.ErrSlipLines) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("seven cells: %v", err)
	}
	if got, err := complaint.ParseSlipLines(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

func FuzzParseSlipLines(f *testing.F) {
	for _, s := range []string{"", "2026-03-01\t门诊\t太慢", "日期\t位置\n2026/3/1\ta\t\"b\tc\"\n", "\"unterminated\n", "a\tb\tc\td\te\tf\tg",
		"2026年2月30日\tx\ty", "\xff\xfe\t\x00", "\"\"\"\t\"\r\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		slips, err := complaint.ParseSlipLines(text)
		if err != nil {
			if !errors.Is(err, complaint.ErrSlipLines) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(slips) > complaint.MaxSlips {
			t.Fatalf("%d slips, more than %d", len(slips), complaint.MaxSlips)
		}
		for _, s := range slips {
			if s.Blank() {
				t.Fatalf("a blank slip came back: %+v", s)
			}
			for _, v := range []string{s.FoundOn, s.Box, s.Text, s.Name, s.Contact, s.Dept} {
				if v != strings.TrimSpace(v) || !utf8Valid(v) {
					t.Fatalf("cell %q not trimmed valid UTF-8", v)
				}
			}
		}
	})
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
