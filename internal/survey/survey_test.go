package survey_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/survey"
)

var ctx = context.Background()

var shanghai = time.FixedZone("CST", 8*3600)

// fakeOutbox records what the survey room queues and cancels.
type fakeOutbox struct {
	mu        sync.Mutex
	msgs      []notify.Message
	keys      map[string]bool
	cancelled []string
}

func (f *fakeOutbox) Enqueue(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if f.keys[m.IdempotencyKey] {
		return 0, nil
	}
	f.keys[m.IdempotencyKey] = true
	f.msgs = append(f.msgs, m)
	return int64(len(f.msgs)), nil
}

func (f *fakeOutbox) CancelRef(_ context.Context, _ *sql.Tx, _ int64, ref string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, ref)
	return 1, nil
}

func (f *fakeOutbox) byTemplate(tpl string) []notify.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []notify.Message
	for _, m := range f.msgs {
		if m.Template == tpl {
			out = append(out, m)
		}
	}
	return out
}

type recovery struct {
	ref, satisfaction string
	score             *int
}

type env struct {
	t         testing.TB
	db        *store.DB
	clk       *clock.Fake
	sv        *core.Services
	sur       *survey.Service
	out       *fakeOutbox
	negatives []survey.Negative
	recovered []recovery
	inst      int64
	dept      int64
}

func setup(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clk: clock.NewFake(time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)), out: &fakeOutbox{}}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.sv, err = core.Build(db, core.Options{Now: e.clk.Now, Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(), Keys: keys,
		Index: index, Survey: survey.Config{PublicURL: "https://sf.example.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	e.sur = e.sv.Survey
	e.sur.SetHooks(survey.Hooks{Outbox: e.out,
		OnNegative: func(_ context.Context, _ *sql.Tx, n survey.Negative) error {
			e.negatives = append(e.negatives, n)
			return nil
		},
		OnRecovery: func(_ context.Context, _ *sql.Tx, ref, sat string, score *int) error {
			e.recovered = append(e.recovered, recovery{ref, sat, score})
			return nil
		}})
	e.inst, err = e.sv.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		t.Fatal(err)
	}
	e.dept, err = e.sv.Org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: e.inst, Code: "0301", Name: "心血管内科", Kind: org.DeptClinical})
	if err != nil {
		t.Fatal(err)
	}
	// A department head owns the notices a 不满意 raises (a notice is never
	// left without an owner).
	if _, err := e.sv.Auth.CreateUser(ctx, access.System(), auth.UserInput{Username: "head", DisplayName: "科主任", Password: "Passw0rd!x",
		HomeInstitutionID: e.inst, Roles: []access.Role{access.DeptHead},
		Grants: []access.Grant{{InstitutionID: e.inst, DepartmentID: e.dept}}, Active: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// discharge imports a discharge of 2026-09-29 and makes its level-3 task
// an SMS survey that is due now; it returns the task id.
func (e *env) discharge(mrn, visit string) int64 {
	e.t.Helper()
	at := time.Date(2026, 9, 29, 9, 30, 0, 0, shanghai)
	m := intake.Message{Source: "test", Line: 1, Event: intake.Discharge,
		Patient: intake.Patient{MRN: mrn, Name: "张三" + mrn, Sex: intake.Male, BirthDate: day("1958-03-12"), Phones: []string{"13800138000"}},
		Encounter: intake.Encounter{VisitNumber: visit, DepartmentCode: "0301", DepartmentName: "心血管内科", AttendingDoctor: "陈医生",
			AdmittedAt: at.AddDate(0, 0, -7), DischargedAt: at, Diagnoses: []intake.Diagnosis{{Code: "J18.9", Name: "肺炎"}}, Outcome: intake.Improved}}
	rep, err := e.sv.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "t"}, func(s intake.Sink) error { return s.Message(m) })
	if err != nil || rep.Rejected != 0 {
		e.t.Fatalf("import: %v %+v", err, rep)
	}
	var id int64
	if err := e.db.R().QueryRowContext(ctx, `SELECT t.id FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
		WHERE e.visit_number = $1 AND t.step_key = 'L3'`, visit).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	e.exec(`UPDATE followup_tasks SET channel = 'sms', next_date = '2026-09-30' WHERE id = $1`, id)
	return id
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if err := e.db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *env) qid(key string) int64 {
	e.t.Helper()
	list, err := e.sur.List(ctx, access.System(), e.inst)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range list {
		if q.Key == key {
			return q.ID
		}
	}
	e.t.Fatalf("no questionnaire %s", key)
	return 0
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, kind) || (code != "" && errs.CodeOf(err) != code) {
		t.Fatalf("got %v (kind %v code %q), want %v %q", err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

func tokenOf(t *testing.T, m notify.Message) string {
	t.Helper()
	link := m.Params["link"]
	i := strings.LastIndex(link, "/s/")
	if i < 0 {
		t.Fatalf("no link in %v", m.Params)
	}
	return link[i+3:]
}

func TestSurveySeedAndVersioning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		admin := access.System()
		list, err := e.sur.List(ctx, admin, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(survey.Defaults()) {
			t.Fatalf("seeded %d questionnaires, want %d", len(list), len(survey.Defaults()))
		}
		var inpatient *survey.Questionnaire
		for _, q := range list {
			if q.Published.ID == 0 || q.Latest.Status != survey.Published {
				t.Fatalf("%s is not published: %+v", q.Key, q)
			}
			if q.Key == "inpatient_satisfaction" {
				inpatient = q
			}
		}
		v1, err := e.sur.Version(ctx, admin, inpatient.Published.ID)
		if err != nil {
			t.Fatal(err)
		}
		topics := map[string]bool{}
		for _, it := range v1.Body.Items() {
			topics[it.Topic] = true
		}
		for _, want := range []string{"doctors", "nurses", "medtech", "environment", "meals", "fees", "process", "ethics"} {
			if !topics[want] {
				t.Errorf("inpatient questionnaire has no %s item", want)
			}
		}
		// A published version refuses edits, in the service and in the table.
		wantErr(t, e.sur.SaveDraft(ctx, admin, v1.ID, "x", v1.Body), errs.Conflict, "version_published")
		err = db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE questionnaire_versions SET body_json = '{}' WHERE id = $1`, v1.ID)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("editing a published version in SQL: %v", err)
		}
		// New version: a draft copy; asking again returns the same draft.
		v2id, err := e.sur.NewVersion(ctx, admin, inpatient.ID)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := e.sur.NewVersion(ctx, admin, inpatient.ID)
		if again != v2id {
			t.Fatalf("second NewVersion made %d, want the draft %d", again, v2id)
		}
		v1Items := len(v1.Body.Items())
		body := v1.Body
		body.Sections[0].Items = append(body.Sections[0].Items, survey.Item{LinkID: "pain", Text: "疼痛评分", Type: survey.Rating, Weight: 1})
		if err := e.sur.SaveDraft(ctx, admin, v2id, "住院患者满意度调查（第二版）", body); err != nil {
			t.Fatal(err)
		}
		// A bad draft is refused with the field named.
		bad := body
		bad.Sections = []survey.Section{{Items: []survey.Item{{LinkID: "a", Text: "A", Type: survey.Choice}}}}
		wantErr(t, e.sur.SaveDraft(ctx, admin, v2id, "x", bad), errs.Invalid, "bad_options")
		// Only designers design.
		nurse := &access.Principal{UserID: 5, Username: "n", Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.inst}}}
		wantErr(t, e.sur.Publish(ctx, nurse, v2id), errs.Forbidden, "")
		if err := e.sur.Publish(ctx, admin, v2id); err != nil {
			t.Fatal(err)
		}
		q, _ := e.sur.Questionnaire(ctx, admin, inpatient.ID)
		if q.Published.ID != v2id || q.Published.Number != 2 {
			t.Fatalf("published is %+v, want version 2", q.Published)
		}
		old, _ := e.sur.Version(ctx, admin, v1.ID)
		if old.Status != survey.Retired || len(old.Body.Items()) != v1Items {
			t.Fatalf("version 1 after publishing 2: %s with %d items", old.Status, len(old.Body.Items()))
		}
	})
}

func TestSurveyGroupLibrary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		admin := access.System()
		g, err := e.sv.Org.CreateInstitution(ctx, admin, org.InstitutionInput{Code: "G", Name: "集团", Kind: org.KindGroup})
		if err != nil {
			t.Fatal(err)
		}
		h, err := e.sv.Org.CreateInstitution(ctx, admin, org.InstitutionInput{Code: "H2", Name: "分院", ParentID: g})
		if err != nil {
			t.Fatal(err)
		}
		body := survey.Body{Sections: []survey.Section{{Title: "S", Items: []survey.Item{
			{LinkID: "q1", Text: "口腔诊疗满意吗？", Type: survey.Satisfaction, Required: true, Weight: 1, Topic: "doctors"}}}}}
		qid, _, err := e.sur.Create(ctx, admin, g, survey.NewInput{Key: "dental", Title: "口腔满意度", Purpose: "outpatient", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		member := &access.Principal{UserID: 9, Username: "q", Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: h}}}
		libCount := func() int {
			list, err := e.sur.List(ctx, member, h)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, q := range list {
				if q.Library {
					n++
				}
			}
			return n
		}
		if n := libCount(); n != 0 {
			t.Fatalf("unshared group questionnaire visible to a member: %d", n)
		}
		_, err = e.sur.Questionnaire(ctx, member, qid)
		wantErr(t, err, errs.Forbidden, "")
		if err := e.sur.SetShared(ctx, admin, qid, true); err != nil {
			t.Fatal(err)
		}
		if n := libCount(); n != 1 {
			t.Fatalf("shared library shows %d, want 1", n)
		}
		// A member copies it as its own draft, and cannot edit the group's.
		nq, nv, err := e.sur.CopyFromLibrary(ctx, member, h, qid, "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.sur.Questionnaire(ctx, member, nq)
		if err != nil || c.Library || c.CopiedFrom != qid || c.Latest.ID != nv || c.Latest.Status != survey.Draft {
			t.Fatalf("copy: %+v %v", c, err)
		}
		_, err = e.sur.NewVersion(ctx, member, qid)
		wantErr(t, err, errs.Forbidden, "")
	})
}

func TestSurveyFHIRRoundTrip(t *testing.T) {
	for _, d := range survey.Defaults() {
		v := &survey.Version{VersionInfo: survey.VersionInfo{Number: 3, Status: survey.Published, Title: d.Title}, Key: d.Key,
			Purpose: d.Purpose, Body: d.Body}
		data, err := survey.ExportFHIR(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"resourceType": "Questionnaire"`, `"type": "group"`, `"status": "active"`} {
			if !bytes.Contains(data, []byte(want)) {
				t.Fatalf("%s export lacks %s", d.Key, want)
			}
		}
		in, err := survey.ImportFHIR(data)
		if err != nil {
			t.Fatalf("%s: import own export: %v", d.Key, err)
		}
		if err := in.Body.Validate(); err != nil {
			t.Fatalf("%s: imported body invalid: %v", d.Key, err)
		}
		again, _ := survey.ExportFHIR(&survey.Version{VersionInfo: v.VersionInfo, Key: in.Key, Purpose: in.Purpose,
			Body: in.Body})
		if !bytes.Equal(data, again) {
			t.Fatalf("%s: export → import → export differs:\n%s\n---\n%s", d.Key, data, again)
		}
		if in.Key != d.Key || in.Title != d.Title || in.Purpose != d.Purpose {
			t.Fatalf("%s: key/title/purpose %q %q %q", d.Key, in.Key, in.Title, in.Purpose)
		}
	}
	// The inpatient questionnaire's condition travels as enableWhen.
	data, _ := survey.ExportFHIR(&survey.Version{Key: "x", Body: survey.Defaults()[0].Body})
	if !bytes.Contains(data, []byte(`"question": "overall"`)) || !bytes.Contains(data, []byte(`ordinalValue`)) {
		t.Fatalf("export lacks enableWhen or ordinalValue:\n%s", data)
	}
	// A foreign questionnaire with plain FHIR types imports.
	foreign := `{"resourceType":"Questionnaire","status":"active","name":"pain_check","title":"疼痛回访","item":[
		{"linkId":"1","text":"还疼吗？","type":"boolean","required":true},
		{"linkId":"2","text":"哪里疼？","type":"string","enableWhen":[{"question":"1","operator":"=","answerBoolean":true}]},
		{"linkId":"g","type":"group","text":"其他","item":[{"linkId":"3","text":"颜色","type":"choice","answerOption":[{"valueString":"红"},{"valueString":"蓝"}]}]}]}`
	in, err := survey.ImportFHIR([]byte(foreign))
	if err != nil {
		t.Fatal(err)
	}
	// linkIds "1" are not valid Suifang ids: Validate names the problem.
	wantErr(t, in.Body.Validate(), errs.Invalid, "bad_link_id")
	for _, bad := range []string{`[]`, `{"resourceType":"Patient"}`, `{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"quantity"}]}`,
		`{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"choice","enableWhen":[{"question":"b","operator":">"}]}]}`} {
		if _, err := survey.ImportFHIR([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("import %s: %v, want Invalid", bad, err)
		}
	}
}

// answerAll walks a sheet page by page giving answers from a, and returns
// the last result.
func answerAll(t *testing.T, s *survey.Service, token string, a survey.Answers) *survey.SaveResult {
	t.Helper()
	sh, err := s.Open(ctx, token)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	for i := 0; i < 20; i++ {
		res, err := s.Save(ctx, token, sh.Section, a, nil)
		if err != nil {
			t.Fatalf("save section %d: %v", sh.Section, err)
		}
		if len(res.Problems) > 0 {
			t.Fatalf("section %d problems: %v", sh.Section, res.Problems)
		}
		if res.Done {
			return res
		}
		sh = res.Sheet
	}
	t.Fatal("survey never finished")
	return nil
}

func happy() survey.Answers {
	return survey.Answers{"effect": {"improved"}, "medication": {"yes"}, "revisit": {"yes"}, "doctors": {survey.Satisfied},
		"nurses": {survey.Satisfied}, "medtech": {survey.Basically}, "environment": {survey.Satisfied}, "meals": {survey.Satisfied},
		"fees": {survey.Satisfied}, "process": {survey.Satisfied}, "ethics": {survey.Satisfied}, "gift": {"no"},
		"overall": {survey.Satisfied}, "nps": {"9"}, "opinions": {"护士很耐心"}}
}

func TestSurveyInviteAndRespond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		task := e.discharge("M1", "V1")
		n, err := e.sur.InviteDue(ctx)
		if err != nil || n != 1 {
			t.Fatalf("InviteDue = %d, %v; want 1", n, err)
		}
		if n, _ := e.sur.InviteDue(ctx); n != 0 {
			t.Fatalf("second sweep invited %d again", n)
		}
		inv := e.out.byTemplate("survey.invite")
		if len(inv) != 1 {
			t.Fatalf("queued %d invitations", len(inv))
		}
		m := inv[0]
		if m.To != "13800138000" || m.Channel != notify.SMS || !m.Patient || m.Params["name"] != "张先生" || m.Params["hospital"] != "第一医院" {
			t.Fatalf("message %+v", m)
		}
		for k, v := range m.Params {
			if k != "name" && k != "hospital" && k != "link" && k != "phone" || strings.Contains(v, "肺炎") || strings.Contains(v, "心血管") {
				t.Fatalf("message carries %s=%q", k, v)
			}
		}
		token := tokenOf(t, m)
		if !strings.HasPrefix(m.Params["link"], "https://sf.example.cn/s/") || len(token) != survey.TokenLen {
			t.Fatalf("link %q", m.Params["link"])
		}
		// Tampered tokens are refused: every single-character change.
		for i := range token {
			b := []byte(token)
			b[i] ^= 1
			if _, err := e.sur.Open(ctx, string(b)); !errs.Is(err, errs.NotFound) {
				t.Fatalf("tampered at %d: %v", i, err)
			}
		}
		for _, bad := range []string{"", "abc", token + "0", token[:survey.TokenLen-1]} {
			_, err := e.sur.Open(ctx, bad)
			wantErr(t, err, errs.NotFound, "survey_link_invalid")
		}
		sh, err := e.sur.Open(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if sh.Greeting != "张先生" || sh.Section != 0 || len(sh.Visible(0)) != 3 {
			t.Fatalf("sheet %+v", sh)
		}
		// Missing required answers: the page comes back with them marked,
		// and what was answered is kept.
		res, err := e.sur.Save(ctx, token, 0, survey.Answers{"effect": {"improved"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Problems["medication"] != "required" || res.Sheet.Section != 0 {
			t.Fatalf("problems %v section %d", res.Problems, res.Sheet.Section)
		}
		sh, _ = e.sur.Open(ctx, token)
		if !sh.Has("effect", "improved") {
			t.Fatal("partial answer lost")
		}
		// A bad answer code is a problem, not a crash.
		res, _ = e.sur.Save(ctx, token, 0, survey.Answers{"effect": {"splendid"}, "medication": {"yes"}, "revisit": {"yes"}}, nil)
		if res.Problems["effect"] != "bad_answer" {
			t.Fatalf("bad code: %v", res.Problems)
		}
		// The patient is dissatisfied overall and with the meals; the
		// follow-up-up reason appears only for 不满意.
		a := happy()
		a["overall"], a["meals"], a["overall_why"] = []string{survey.Dissatisfied}, []string{survey.Dissatisfied}, []string{"饭菜太凉"}
		res = answerAll(t, e.sur, token, a)
		if !res.Done {
			t.Fatal("not done")
		}
		tk, err := e.sv.Followup.Task(ctx, access.System(), task)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != followup.Done || !strings.HasPrefix(tk.CloseReason, "record:") {
			t.Fatalf("task after survey: %s %s", tk.Status, tk.CloseReason)
		}
		recs, _ := e.sv.Followup.TaskRecords(ctx, access.System(), task)
		if len(recs) != 1 || recs[0].Satisfaction != followup.Dissatisfied || recs[0].Channel != "sms" || recs[0].NPS != 9 ||
			recs[0].TreatmentEffect != "improved" || !strings.Contains(recs[0].Opinions, "饭菜太凉") || recs[0].Actor != "patient-survey" {
			t.Fatalf("record %+v", recs)
		}
		// The survey's own negative answers raise the notices (OnNegative,
		// recorded below); the record it writes raises no second one.
		if n := e.count(`SELECT COUNT(*) FROM notices WHERE source_kind = 'followup_record' AND source_ref = $1`,
			fmt.Sprintf("followup_record:%d", recs[0].ID)); n != 0 {
			t.Fatalf("%d record notices beside the survey's own", n)
		}
		topics := map[string]bool{}
		for _, n := range e.negatives {
			topics[n.Topic] = true
			if n.TaskID != task || n.DepartmentID != e.dept || n.ResponseID == 0 {
				t.Fatalf("negative %+v", n)
			}
		}
		if len(e.negatives) != 2 || !topics["meals"] || !topics["other"] {
			t.Fatalf("negatives %+v", e.negatives)
		}
		if len(e.out.cancelled) != 1 || !strings.HasPrefix(e.out.cancelled[0], "survey_invitation:") {
			t.Fatalf("cancelled %v", e.out.cancelled)
		}
		// Points: the response keeps its score.
		var pts, maxPts int
		var sat string
		db.R().QueryRowContext(ctx, `SELECT points, max_points, satisfaction FROM survey_responses`).Scan(&pts, &maxPts, &sat)
		if sat != survey.Dissatisfied || maxPts == 0 || pts >= maxPts {
			t.Fatalf("score %d/%d satisfaction %s", pts, maxPts, sat)
		}
		// Results: the response counts by channel, item and satisfaction.
		rs, err := e.sur.Results(ctx, access.System(), survey.ResultFilter{QuestionnaireID: e.qid("inpatient_satisfaction")})
		if err != nil {
			t.Fatal(err)
		}
		if rs.Invited != 1 || rs.Answered != 1 || len(rs.Channels) != 1 || rs.Channels[0].Channel != "sms" || rs.ResponseRate() != 100 {
			t.Fatalf("response rate %+v", rs.Channels)
		}
		if rs.Unsatisfied != 1 || rs.SatisfactionRate() != 0 || rs.Detractors != 0 || rs.Promoters != 1 {
			t.Fatalf("satisfaction %d/%d/%d nps %d/%d/%d", rs.Satisfied, rs.Basically, rs.Unsatisfied, rs.Promoters, rs.Passives, rs.Detractors)
		}
		var meals survey.ItemStat
		for _, it := range rs.Items {
			if it.LinkID == "meals" {
				meals = it
			}
		}
		if meals.Answered != 1 || meals.Score() != 0 || meals.Options[2].Count != 1 {
			t.Fatalf("meals %+v", meals)
		}
		if len(rs.Texts) != 2 {
			t.Fatalf("texts %+v", rs.Texts)
		}
		xlsx, err := survey.ResultsXLSX(rs, "", nil)
		if err != nil || !bytes.HasPrefix(xlsx, []byte("PK")) {
			t.Fatalf("xlsx: %v", err)
		}
		// A department-scoped head must pick the department; another month is empty.
		head := &access.Principal{UserID: 3, Username: "h", Roles: []access.Role{access.DeptHead}, Grants: []access.Grant{{InstitutionID: e.inst, DepartmentID: e.dept}}}
		_, err = e.sur.Results(ctx, head, survey.ResultFilter{QuestionnaireID: e.qid("inpatient_satisfaction")})
		wantErr(t, err, errs.Forbidden, "survey_results_pick_department")
		rs, err = e.sur.Results(ctx, head, survey.ResultFilter{QuestionnaireID: e.qid("inpatient_satisfaction"), DepartmentID: e.dept, Month: "2026-09"})
		if err != nil || rs.Answered != 1 {
			t.Fatalf("head's results: %v %+v", err, rs)
		}
		rs, _ = e.sur.Results(ctx, head, survey.ResultFilter{QuestionnaireID: e.qid("inpatient_satisfaction"), DepartmentID: e.dept, Month: "2026-08"})
		if rs.Invited != 0 || rs.SatisfactionRate() != -1 {
			t.Fatalf("empty month %+v", rs)
		}
		// The response exports as a FHIR QuestionnaireResponse.
		var rid int64
		db.R().QueryRowContext(ctx, `SELECT id FROM survey_responses`).Scan(&rid)
		qr, err := e.sur.ResponseFHIR(ctx, head, rid)
		if err != nil || !bytes.Contains(qr, []byte(`"resourceType": "QuestionnaireResponse"`)) || !bytes.Contains(qr, []byte(`"status": "completed"`)) ||
			!bytes.Contains(qr, []byte(`"code": "dissatisfied"`)) || bytes.Contains(qr, []byte("张三")) {
			t.Fatalf("QuestionnaireResponse %v\n%s", err, qr)
		}
		// Reuse is refused.
		_, err = e.sur.Open(ctx, token)
		wantErr(t, err, errs.Conflict, "survey_link_used")
		_, err = e.sur.Save(ctx, token, 0, a, nil)
		wantErr(t, err, errs.Conflict, "survey_link_used")
	})
}

func TestSurveyExpiryAndReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		task := e.discharge("M1", "V1")
		e.discharge("M2", "V2")
		if n, _ := e.sur.InviteDue(ctx); n != 2 {
			t.Fatalf("invited %d", n)
		}
		remind := func(want int) {
			t.Helper()
			n, err := e.sur.RemindDue(ctx)
			if err != nil || n != want {
				t.Fatalf("RemindDue = %d, %v; want %d", n, err, want)
			}
		}
		remind(0)
		e.clk.Advance(3 * 24 * time.Hour)
		remind(2)
		remind(0) // nothing twice
		// The first patient's task is completed by phone: no more reminders,
		// and the queued messages are cancelled.
		agent := &access.Principal{UserID: 7, Username: "agent", Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: e.inst}}}
		if _, err := e.sv.Followup.Complete(ctx, agent, task, followup.RecordInput{Channel: "phone", TreatmentEffect: "good",
			Satisfaction: followup.Satisfied, MedicationGuidance: "按时服药", RevisitAdvice: "两周复诊", NPS: -1}); err != nil {
			t.Fatal(err)
		}
		// The worker's sweep stops it at once; the link then says the
		// survey has ended.
		if n, err := e.sur.StopClosed(ctx); err != nil || n != 1 {
			t.Fatalf("StopClosed = %d, %v", n, err)
		}
		if len(e.out.cancelled) != 1 || e.count(`SELECT COUNT(*) FROM survey_invitations WHERE status = 'stopped' AND stop_reason = 'task_done'`) != 1 {
			t.Fatalf("cancelled %v", e.out.cancelled)
		}
		_, err := e.sur.Open(ctx, tokenOf(t, e.out.byTemplate("survey.invite")[0]))
		wantErr(t, err, errs.Conflict, "survey_link_stopped")
		if n, _ := e.sur.StopClosed(ctx); n != 0 {
			t.Fatalf("stopped %d twice", n)
		}
		e.clk.Advance(3 * 24 * time.Hour)
		remind(1)
		e.clk.Advance(3 * 24 * time.Hour)
		remind(0) // at most 2 reminders
		if got := len(e.out.byTemplate("survey.remind")); got != 3 {
			t.Fatalf("%d reminders queued, want 3", got)
		}
		// Bulk send: one reminder per open invitation and day, audited.
		month := "2026-09"
		n, err := e.sur.SendReminders(ctx, agent, e.inst, 0, month)
		if err != nil || n != 1 {
			t.Fatalf("bulk = %d, %v", n, err)
		}
		if e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'survey.bulk_remind'`) != 1 {
			t.Fatal("bulk not audited")
		}
		nurse := &access.Principal{UserID: 8, Username: "n", Roles: []access.Role{access.Nurse}, Grants: []access.Grant{{InstitutionID: e.inst}}}
		_, err = e.sur.SendReminders(ctx, nurse, e.inst, 0, month)
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.sur.SendReminders(ctx, agent, e.inst, 0, "2026-13")
		wantErr(t, err, errs.Invalid, "bad_month")
		// After 14 days the link has expired.
		tok := tokenOf(t, e.out.byTemplate("survey.invite")[1])
		e.clk.Advance(6 * 24 * time.Hour)
		_, err = e.sur.Open(ctx, tok)
		wantErr(t, err, errs.Conflict, "survey_link_expired")
		if n, _ := e.sur.SendReminders(ctx, agent, e.inst, 0, month); n != 0 {
			t.Fatalf("bulk reminded %d expired invitations", n)
		}
	})
}

func TestSurveyRefuseAndRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		e.discharge("M1", "V1")
		e.sur.InviteDue(ctx)
		tok := tokenOf(t, e.out.byTemplate("survey.invite")[0])
		if err := e.sur.Refuse(ctx, tok); err != nil {
			t.Fatal(err)
		}
		_, err := e.sur.Open(ctx, tok)
		wantErr(t, err, errs.Conflict, "survey_link_refused")

		var pid, eid int64
		db.R().QueryRowContext(ctx, `SELECT patient_id, encounter_id FROM followup_tasks LIMIT 1`).Scan(&pid, &eid)
		for range 2 { // the notice room may retry: one invitation
			if err := db.Write(ctx, func(tx *sql.Tx) error { return e.sur.InviteRecovery(ctx, tx, e.inst, pid, eid, "notice:42") }); err != nil {
				t.Fatal(err)
			}
		}
		rec := e.out.byTemplate("notice.recovery_survey")
		if len(rec) != 1 {
			t.Fatalf("%d recovery invitations", len(rec))
		}
		answerAll(t, e.sur, tokenOf(t, rec[0]), survey.Answers{"resolved": {"yes"}, "overall": {survey.Basically}, "attitude": {"5"}})
		if len(e.recovered) != 1 || e.recovered[0].ref != "notice:42" || e.recovered[0].satisfaction != survey.Basically ||
			e.recovered[0].score == nil || *e.recovered[0].score != 71 {
			t.Fatalf("recovery hook %+v", e.recovered)
		}
	})
}

// TestSurveyInviteConcurrent: several instances sweeping at once invite
// each due task exactly once.
func TestSurveyInviteConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for i := range 6 {
			e.discharge(fmt.Sprintf("M%d", i), fmt.Sprintf("V%d", i))
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.sur.InviteDue(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := e.count(`SELECT COUNT(*) FROM survey_invitations`); n != 6 {
			t.Fatalf("%d invitations for 6 tasks", n)
		}
		if n := len(e.out.byTemplate("survey.invite")); n != 6 {
			t.Fatalf("%d invitation messages for 6 tasks", n)
		}
		e.clk.Advance(3 * 24 * time.Hour)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.sur.RemindDue(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// The fake outbox drops repeated keys, so count on the rows too.
		if n := len(e.out.byTemplate("survey.remind")); n != 6 || e.count(`SELECT SUM(reminders) FROM survey_invitations`) != 6 {
			t.Fatalf("%d reminder messages, %d counted, for 6 invitations", n, e.count(`SELECT SUM(reminders) FROM survey_invitations`))
		}
	})
}

// TestSurveyAnswerTwiceAtOnce: a patient's phone sends the first page
// twice at the same moment (a double tap, a retry through the load
// balancer). Both saves succeed and one response holds the answers once.
func TestSurveyAnswerTwiceAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for i := range 8 {
			e.discharge(fmt.Sprintf("M%d", i), fmt.Sprintf("V%d", i))
		}
		if _, err := e.sur.InviteDue(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := e.out.byTemplate("survey.invite")
		if len(msgs) != 8 {
			t.Fatalf("%d invitations", len(msgs))
		}
		for _, m := range msgs {
			token := tokenOf(t, m)
			a := survey.Answers{"effect": {"improved"}, "medication": {"yes"}, "revisit": {"yes"}}
			start := make(chan struct{})
			errc := make(chan error, 2)
			for range 2 {
				go func() {
					<-start
					_, err := e.sur.Save(ctx, token, 0, a, nil)
					errc <- err
				}()
			}
			close(start)
			for range 2 {
				if err := <-errc; err != nil {
					t.Fatalf("concurrent save: %v", err)
				}
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM survey_responses`); n != 8 {
			t.Errorf("%d responses for 8 invitations", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id WHERE a.link_id = 'effect'`); n != 8 {
			t.Errorf("%d 'effect' answers for 8 responses", n)
		}
	})
}

// TestSurveyViewerRole: questionnaires, their settings and results are for
// the service centre, quality, leadership and department heads. The
// service checks the role itself; it used to check only the data scope and
// leave the role to the web handlers, so any other door let a nurse or an
// outside agency in.
func TestSurveyViewerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		id := e.qid("inpatient_satisfaction")
		inst := []access.Grant{{InstitutionID: e.inst}}
		for _, r := range []access.Role{access.Nurse, access.Doctor, access.ThirdParty} {
			p := &access.Principal{UserID: 9, Username: string(r), Roles: []access.Role{r}, Grants: inst}
			_, err := e.sur.List(ctx, p, e.inst)
			wantErr(t, err, errs.Forbidden, "survey_forbidden")
			_, err = e.sur.Questionnaire(ctx, p, id)
			wantErr(t, err, errs.Forbidden, "survey_forbidden")
			_, err = e.sur.Settings(ctx, p, e.inst)
			wantErr(t, err, errs.Forbidden, "survey_forbidden")
			_, err = e.sur.Results(ctx, p, survey.ResultFilter{QuestionnaireID: id})
			wantErr(t, err, errs.Forbidden, "survey_forbidden")
		}
		for _, r := range []access.Role{access.Agent, access.Quality, access.Leadership} {
			p := &access.Principal{UserID: 9, Username: string(r), Roles: []access.Role{r}, Grants: inst}
			if _, err := e.sur.List(ctx, p, e.inst); err != nil {
				t.Errorf("%s: %v", r, err)
			}
			if _, err := e.sur.Questionnaire(ctx, p, id); err != nil {
				t.Errorf("%s: %v", r, err)
			}
		}
	})
}
