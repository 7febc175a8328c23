package followup_test

import (
	"fmt"
	"testing"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/patient"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func withPatient(name, phone, nid string) func(*intake.Message) {
	return func(m *intake.Message) {
		m.Patient.Name, m.Patient.Phones, m.Patient.NationalID = name, []string{phone}, nid
	}
}

func hitMRNs(res *patient.SearchResult) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.MRN)
	}
	return out
}

func TestPatientSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{},
			discharge("2026000123", "ZY01", "2026-09-28", withPatient("李建国", "13800138000", "110105195803121232")),
			discharge("2026000456", "ZY02", "2026-09-29", withPatient("王建华", "13900139000", ""), inOrtho),
			discharge("2026000789", "ZY03", "2026-09-30", withPatient("张小明", "13700137000", "")))
		agent := e.agent(201)
		search := func(p *access.Principal, text string) *patient.SearchResult {
			t.Helper()
			res, err := e.pat.Search(ctx, p, patient.Query{InstitutionID: e.inst, Text: text})
			if err != nil {
				t.Fatalf("search %q: %v", text, err)
			}
			return res
		}
		for text, want := range map[string]string{
			"建":                  "2026000456,2026000123", // name substring, newest first
			"李建国":                "2026000123",
			"2026000":            "2026000789,2026000456,2026000123", // MRN prefix
			"2026000456":         "2026000456",
			"ZY03":               "2026000789", // visit number
			"13900139000":        "2026000456", // phone, blind index
			"139 0013-9000":      "2026000456", // phone as typed
			"110105195803121232": "2026000123", // national ID
			"11010519580312123x": "",           // no partial ID matches
			"1380013":            "",           // no partial phone matches
			"%":                  "",           // LIKE wildcards are literal
		} {
			res := search(agent, text)
			got := fmt.Sprint(hitMRNs(res))
			if want == "" && len(res.Hits) != 0 || want != "" && got != fmt.Sprint(splitComma(want)) || res.Total != len(res.Hits) {
				t.Errorf("search %q = %s (total %d), want %s", text, got, res.Total, want)
			}
		}
		res := search(agent, "13800138000")
		h := res.Hits[0]
		if h.Name != "李*国" || h.Phones[0] != "138****8000" || h.NationalID != "110***********1232" || h.LastVisit != "ZY01" ||
			h.LastDischarge.String() != "2026-09-28" || h.LastDept != "心血管内科" || h.Stays != 1 {
			t.Errorf("hit = %+v", h)
		}
		// Paging.
		page, err := e.pat.Search(ctx, agent, patient.Query{InstitutionID: e.inst, Text: "2026", Limit: 2, Offset: 2})
		if err != nil || page.Total != 3 || len(page.Hits) != 1 || page.Hits[0].MRN != "2026000123" {
			t.Errorf("page 2 = %v %+v", err, page)
		}
		// A ward nurse sees the patients with a stay on her ward only.
		nurse := e.nurse(e.ward)
		if got := fmt.Sprint(hitMRNs(search(nurse, "2026"))); got != "[2026000789 2026000123]" {
			t.Errorf("W05 nurse finds %s", got)
		}
		if res := search(e.nurse(e.ward2), "13800138000"); len(res.Hits) != 0 {
			t.Errorf("W07 nurse finds %v by phone", hitMRNs(res))
		}
		// Another institution's staff get Forbidden; bad input names the field.
		other := &access.Principal{UserID: 9, Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: e.inst + 99}}}
		_, err = e.pat.Search(ctx, other, patient.Query{InstitutionID: e.inst, Text: "李"})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.pat.Search(ctx, agent, patient.Query{InstitutionID: e.inst, Text: "  "})
		wantField(t, err, "q")
		_, err = e.pat.Search(ctx, agent, patient.Query{InstitutionID: e.inst, Text: "a\x00b"})
		wantField(t, err, "q")
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestPatientViewAndFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// One patient, a stay on W05 (cardiology) and a later one in orthopaedics.
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-28"), discharge("M1", "V2", "2026-09-30", inOrtho))
		pat := e.patientByMRN("M1")
		nurse := e.nurse(e.ward)
		rec := e.complete(nurse, e.task("V1", "L1").ID, goodRecord())
		if _, err := e.fu.Attempt(ctx, e.agent(201), e.task("V2", "L1").ID, followup.AttemptInput{Outcome: followup.NoAnswer}, e.cal(), today); err != nil {
			t.Fatal(err)
		}

		v, err := e.pat.View(ctx, e.agent(201), pat.ID, today)
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "患**1" || v.Phones[0] != "138****8000" || len(v.Encounters) != 2 || v.Encounters[0].VisitNumber != "V2" || v.Age != 68 {
			t.Errorf("agent view = %+v", v)
		}
		// The ward nurse sees the patient, but only the stay on her ward.
		v, err = e.pat.View(ctx, nurse, pat.ID, today)
		if err != nil || len(v.Encounters) != 1 || v.Encounters[0].VisitNumber != "V1" {
			t.Errorf("nurse view = %v %+v", err, v)
		}
		// A nurse of a ward the patient never stayed on gets Forbidden.
		_, err = e.pat.View(ctx, e.nurse(e.dept2+1000), pat.ID, today)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.pat.View(ctx, e.agent(201), pat.ID+1000, today)
		wantErr(t, err, errs.NotFound, "patient_not_found")

		f, err := e.fu.PatientFile(ctx, e.agent(201), pat.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tasks) != 8 || len(f.Records) != 1 || f.Records[0].ID != rec.ID || len(f.Attempts) != 2 {
			t.Errorf("agent file: %d tasks, %d records, %d attempts", len(f.Tasks), len(f.Records), len(f.Attempts))
		}
		// The nurse's file holds her ward's tasks and their contacts only.
		f, err = e.fu.PatientFile(ctx, nurse, pat.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range f.Tasks {
			if tk.DepartmentID != e.ward {
				t.Errorf("nurse sees task %d of department %d", tk.ID, tk.DepartmentID)
			}
		}
		if len(f.Tasks) != 2 || len(f.Records) != 1 || len(f.Attempts) != 1 {
			t.Errorf("nurse file: %d tasks, %d records, %d attempts", len(f.Tasks), len(f.Records), len(f.Attempts))
		}
		_, err = e.fu.PatientFile(ctx, e.nurse(e.ward2+1000), pat.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
	})
}

func TestDoNotContactByHand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"), discharge("M2", "V2", "2026-09-30"))
		pat := e.patientByMRN("M1")
		nurse := e.nurse(e.ward)

		_, err := e.fu.MarkDoNotContact(ctx, nurse, pat.ID, "  ")
		wantField(t, err, "reason")
		_, err = e.fu.MarkDoNotContact(ctx, e.nurse(e.ward2), pat.ID, "患者来信")
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		n, err := e.fu.MarkDoNotContact(ctx, nurse, pat.ID, "患者来信要求不再回访")
		if err != nil || n != 4 {
			t.Fatalf("mark DNC closed %d: %v", n, err)
		}
		for k, tk := range e.tasks("V1") {
			if tk.Status != followup.Cancelled || tk.CloseReason != "do_not_contact" || !tk.DNC {
				t.Errorf("V1 %s: %s %q", k, tk.Status, tk.CloseReason)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM followup_tasks WHERE patient_id <> $1 AND status = 'open'`, pat.ID); n != 4 {
			t.Errorf("other patient has %d open tasks", n)
		}
		_, err = e.fu.MarkDoNotContact(ctx, nurse, pat.ID, "again")
		wantErr(t, err, errs.Conflict, "already_do_not_contact")

		// A nurse may not lift it; the service centre may, with a reason.
		err = e.fu.ClearDoNotContact(ctx, nurse, pat.ID, "患者同意")
		wantErr(t, err, errs.Forbidden, "may_not_clear_dnc")
		err = e.fu.ClearDoNotContact(ctx, e.agent(201), pat.ID, "")
		wantField(t, err, "reason")
		if err := e.fu.ClearDoNotContact(ctx, e.agent(201), pat.ID, "患者来电同意继续随访"); err != nil {
			t.Fatal(err)
		}
		if p := e.patientByMRN("M1"); p.DoNotContact || p.DNCReason != "" {
			t.Errorf("after clearing: dnc %v %q", p.DoNotContact, p.DNCReason)
		}
		// Closed tasks stay closed; the next discharge is planned again.
		if tk := e.task("V1", "L3"); tk.Status != followup.Cancelled {
			t.Errorf("L3 reopened: %s", tk.Status)
		}
		if rep := e.importMsgs(importer.Options{}, discharge("M1", "V3", "2026-09-30")); rep.TasksCreated != 4 {
			t.Errorf("new discharge after clearing planned %d tasks", rep.TasksCreated)
		}
		err = e.fu.ClearDoNotContact(ctx, e.agent(201), pat.ID, "again")
		wantErr(t, err, errs.Conflict, "not_do_not_contact")

		for action, want := range map[string]string{"patient.do_not_contact": "患者来信要求不再回访", "patient.do_not_contact_cleared": "患者来电同意继续随访"} {
			all, err := e.au.List(ctx, access.System(), audit.Filter{Action: action})
			var es []audit.Entry
			for _, x := range all {
				if x.Action == action {
					es = append(es, x)
				}
			}
			if err != nil || len(es) != 1 || es[0].Detail != want || es[0].ObjectID != fmt.Sprint(pat.ID) {
				t.Errorf("%s audit: %v %+v", action, err, es)
			}
		}
	})
}

func TestDeceasedByHand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		pat := e.patientByMRN("M1")
		_, err := e.fu.MarkDeceased(ctx, e.nurse(e.ward2), pat.ID, "家属告知")
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.fu.MarkDeceased(ctx, e.nurse(e.ward), pat.ID, "")
		wantField(t, err, "reason")
		n, err := e.fu.MarkDeceased(ctx, e.nurse(e.ward), pat.ID, "家属来电告知患者已去世")
		if err != nil || n != 4 {
			t.Fatalf("deceased closed %d: %v", n, err)
		}
		// Every open follow-up closes, clinical and satisfaction alike.
		for k, tk := range e.tasks("V1") {
			if tk.Status != followup.Cancelled || tk.CloseReason != "deceased" {
				t.Errorf("%s: %s %q", k, tk.Status, tk.CloseReason)
			}
		}
		if p := e.patientByMRN("M1"); !p.Deceased {
			t.Error("patient not deceased")
		}
		_, err = e.fu.MarkDeceased(ctx, e.nurse(e.ward), pat.ID, "again")
		wantErr(t, err, errs.Conflict, "already_deceased")
		es, err := e.au.List(ctx, access.System(), audit.Filter{Action: "patient.deceased"})
		if err != nil || len(es) != 1 || es[0].Detail != "家属来电告知患者已去世" {
			t.Errorf("deceased audit: %v %+v", err, es)
		}
	})
}

func TestRecordBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-29"), discharge("M2", "V2", "2026-09-30", inOrtho))
		nurse, ortho := e.nurse(e.ward), e.nurse(e.ward2)
		r1 := e.complete(nurse, e.task("V1", "L1").ID, goodRecord())
		bad := goodRecord()
		bad.Satisfaction = followup.Dissatisfied
		bad.Opinions = "夜间太吵"
		e.clk.Advance(24 * 3600e9) // 10-01
		r2 := e.complete(ortho, e.task("V2", "L1").ID, bad)

		list := func(p *access.Principal, f followup.RecordFilter) []string {
			t.Helper()
			f.InstitutionID = e.inst
			page, err := e.fu.Records(ctx, p, f)
			if err != nil {
				t.Fatalf("records %+v: %v", f, err)
			}
			var out []string
			for _, r := range page.Rows {
				out = append(out, r.Number)
			}
			if page.Total != len(out) {
				t.Errorf("total %d for %d rows", page.Total, len(out))
			}
			return out
		}
		agent := e.agent(201)
		for name, c := range map[string]struct {
			p    *access.Principal
			f    followup.RecordFilter
			want string
		}{
			"all newest first": {agent, followup.RecordFilter{}, fmt.Sprint([]string{r2.Number, r1.Number})},
			"W05 nurse":        {nurse, followup.RecordFilter{}, fmt.Sprint([]string{r1.Number})},
			"department":       {agent, followup.RecordFilter{DepartmentID: e.ward2}, fmt.Sprint([]string{r2.Number})},
			"dissatisfied":     {agent, followup.RecordFilter{Satisfaction: followup.Dissatisfied}, fmt.Sprint([]string{r2.Number})},
			"on 09-30":         {agent, followup.RecordFilter{From: day("2026-09-30"), To: day("2026-09-30")}, fmt.Sprint([]string{r1.Number})},
			"from 10-01":       {agent, followup.RecordFilter{From: day("2026-10-01")}, fmt.Sprint([]string{r2.Number})},
			"number prefix":    {agent, followup.RecordFilter{Number: "sf-h1-20261001"}, fmt.Sprint([]string{r2.Number})},
			"level 2":          {agent, followup.RecordFilter{Level: 2}, "[]"},
		} {
			if got := fmt.Sprint(list(c.p, c.f)); got != c.want {
				t.Errorf("%s: %s, want %s", name, got, c.want)
			}
		}
		_, err := e.fu.Records(ctx, nurse, followup.RecordFilter{InstitutionID: e.inst, DepartmentID: e.ward2})
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		_, err = e.fu.Records(ctx, agent, followup.RecordFilter{InstitutionID: e.inst, From: day("2026-10-02"), To: day("2026-10-01")})
		wantField(t, err, "to")
		_, err = e.fu.Records(ctx, agent, followup.RecordFilter{InstitutionID: e.inst, Satisfaction: "meh"})
		wantField(t, err, "satisfaction")

		// The record page: its chain position and its (so far single) version.
		v, err := e.fu.Record(ctx, nurse, r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Position != 1 || v.ChainLen != 2 || v.PrevNumber != "" || len(v.Versions) != 1 || !v.Latest || !v.CanAmend ||
			v.PatientName != "患者M1" {
			t.Errorf("view r1 = pos %d/%d prev %q versions %d latest %v amend %v", v.Position, v.ChainLen, v.PrevNumber,
				len(v.Versions), v.Latest, v.CanAmend)
		}
		_, err = e.fu.Record(ctx, nurse, r2.ID)
		wantErr(t, err, errs.Forbidden, "out_of_scope")
		v, err = e.fu.Record(ctx, agent, r2.ID)
		if err != nil || v.Position != 2 || v.PrevNumber != r1.Number || v.CanAmend {
			t.Errorf("agent view r2 = %v %+v (an agent who did not write it may not amend)", err, v)
		}
	})
}

func TestAmendPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.importMsgs(importer.Options{}, discharge("M1", "V1", "2026-09-30"))
		author := e.nurse(e.ward)
		orig := e.complete(author, e.task("V1", "L1").ID, goodRecord())
		fix := goodRecord()
		fix.RevisitAdvice = "一周后复诊"

		// Another nurse of the same ward did not write it.
		colleague := e.nurse(e.ward)
		colleague.UserID = 555
		_, err := e.fu.Amend(ctx, colleague, orig.ID, fix, "复诊时间有误")
		wantErr(t, err, errs.Forbidden, "may_not_amend")
		// Neither does a system administrator write clinical records.
		_, err = e.fu.Amend(ctx, access.System(), orig.ID, fix, "复诊时间有误")
		wantErr(t, err, errs.Forbidden, "may_not_amend")
		// A head of another department is out of scope.
		_, err = e.fu.Amend(ctx, e.deptHead(301, e.dept2), orig.ID, fix, "复诊时间有误")
		wantErr(t, err, errs.Forbidden, "out_of_scope")

		a1, err := e.fu.Amend(ctx, author, orig.ID, fix, "复诊时间有误")
		if err != nil {
			t.Fatal(err)
		}
		// The original is superseded: corrections go to the latest version.
		_, err = e.fu.Amend(ctx, author, orig.ID, fix, "再改")
		wantErr(t, err, errs.Conflict, "record_superseded")
		// The ward's head and quality may correct the latest version.
		fix.Opinions = "无"
		a2, err := e.fu.Amend(ctx, e.deptHead(301, e.ward), a1.ID, fix, "补充意见")
		if err != nil {
			t.Fatal(err)
		}
		quality := &access.Principal{UserID: 401, Username: "quality", InstitutionID: e.inst, Roles: []access.Role{access.Quality},
			Grants: []access.Grant{{InstitutionID: e.inst}}}
		a3, err := e.fu.Amend(ctx, quality, a2.ID, fix, "质控核对")
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.fu.Record(ctx, quality, orig.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range v.Versions {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint([]int64{orig.ID, a1.ID, a2.ID, a3.ID}) || v.Latest || v.CanAmend || !v.Amended {
			t.Errorf("versions %v latest %v canAmend %v amended %v", ids, v.Latest, v.CanAmend, v.Amended)
		}
		if v, err := e.fu.Record(ctx, quality, a3.ID); err != nil || !v.Latest || !v.CanAmend || v.Amended {
			t.Errorf("latest version view: %v %+v", err, v)
		}
		res, err := e.fu.VerifyRecords(ctx)
		if err != nil || len(res) != 1 || !res[0].OK || res[0].Checked != 4 {
			t.Errorf("verify after amendments: %v %+v", err, res)
		}
	})
}
