// Package demo seeds a demo hospital group for trying Suifang out and for
// the browser tests: two hospitals, every role's account, and days of
// generated discharges whose follow-up history is played through the
// services as the staff would, at historical instants.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/core"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/gen"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/store"
)

// Password is the password of every demo account. It is printed at start
// and meant only for trying Suifang out.
const Password = "Suifang@2026"

// Env is what the seed works with: the services, the database and the
// options they were built with (the history is played through a second set
// on its own clock), and the demo's settings.
type Env struct {
	*core.Services
	DB          *store.DB
	CoreOptions core.Options
	Now         func() time.Time
	HistoryDays int // days of generated history (0: 90; negative: none)
	Log         *slog.Logger
}

// Login is one account the demo creates, for the start-up banner.
type Login struct {
	Username string
	Role     access.Role
	Name     string
}

type demoDept struct {
	code, name, kind, parent string
}

// Seed creates a demo hospital group — two hospitals, their departments
// and wards, and a staff account for every role — unless it exists already.
// On that first run it also imports Env.HistoryDays days of
// generated discharges (about 25 a day) and plays their follow-up history
// through the services, so every worklist tab, record and case has
// something in it (see seedHistory).
func (e *Env) Seed(ctx context.Context) ([]Login, error) {
	sys := access.System()
	logins := []Login{
		{"admin", access.SysAdmin, "系统管理员"},
		{"leader", access.Leadership, "王院长"},
		{"quality", access.Quality, "李质控"},
		{"agent", access.Agent, "赵随访"},
		{"head", access.DeptHead, "陈主任"},
		{"doctor", access.Doctor, "刘医生"},
		{"nurse", access.Nurse, "周护士"},
		{"agency", access.ThirdParty, "孙专员（第三方）"},
	}
	if _, err := e.Org.InstitutionByCode(ctx, "DEMO"); err == nil {
		return logins, nil
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	group, err := e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "DEMO", Name: "示范医疗集团", Kind: org.KindGroup})
	if err != nil {
		return nil, fmt.Errorf("demo: group: %w", err)
	}
	h1, err := e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H01", Name: "示范市第一人民医院", Kind: org.KindHospital, ParentID: group})
	if err != nil {
		return nil, fmt.Errorf("demo: hospital 1: %w", err)
	}
	h2, err := e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H02", Name: "示范市第二人民医院", Kind: org.KindHospital, ParentID: group})
	if err != nil {
		return nil, fmt.Errorf("demo: hospital 2: %w", err)
	}
	depts := map[string]int64{}
	add := func(inst int64, prefix string, list []demoDept) error {
		for _, d := range list {
			in := org.DepartmentInput{InstitutionID: inst, Code: d.code, Name: d.name, Kind: d.kind}
			if d.parent != "" {
				in.ParentID = depts[prefix+d.parent]
			}
			id, err := e.Org.CreateDepartment(ctx, sys, in)
			if err != nil {
				return fmt.Errorf("demo: department %s: %w", d.code, err)
			}
			depts[prefix+d.code] = id
		}
		return nil
	}
	if err := add(h1, "H01/", []demoDept{
		{"0301", "心血管内科", org.DeptClinical, ""},
		{"0301W1", "心血管内科一病区", org.DeptWard, "0301"},
		{"0402", "普通外科", org.DeptClinical, ""},
		{"0402W1", "普通外科病区", org.DeptWard, "0402"},
		{"0405", "骨科", org.DeptClinical, ""},
		{"0501", "妇产科", org.DeptClinical, ""},
		{"0601", "儿科", org.DeptClinical, ""},
		{"9001", "客户服务中心", org.DeptOffice, ""},
		{"9002", "医务科", org.DeptOffice, ""},
	}); err != nil {
		return nil, err
	}
	if err := add(h2, "H02/", []demoDept{
		{"0300", "内科", org.DeptClinical, ""},
		{"0400", "外科", org.DeptClinical, ""},
		{"1200", "口腔科", org.DeptClinical, ""},
		{"9001", "客户服务中心", org.DeptOffice, ""},
	}); err != nil {
		return nil, err
	}
	inst := access.Grant{InstitutionID: h1}
	cardio := access.Grant{InstitutionID: h1, DepartmentID: depts["H01/0301"]}
	cardioWard := access.Grant{InstitutionID: h1, DepartmentID: depts["H01/0301W1"]}
	scopes := map[string][]access.Grant{
		"admin":   {{InstitutionID: group}},
		"leader":  {{InstitutionID: group}},
		"quality": {inst},
		"agent":   {inst},
		"head":    {cardio, cardioWard},
		"doctor":  {cardio},
		"nurse":   {cardioWard},
		"agency":  {inst},
	}
	users := map[string]int64{}
	for _, l := range logins {
		home := h1
		if l.Role == access.SysAdmin || l.Role == access.Leadership {
			home = group
		}
		id, err := e.Auth.CreateUser(ctx, sys, auth.UserInput{Username: l.Username, DisplayName: l.Name, Password: Password,
			HomeInstitutionID: home, Roles: []access.Role{l.Role}, Grants: scopes[l.Username], Active: true, Demo: true})
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", l.Username, err)
		}
		users[l.Username] = id
	}
	e.Log.Info("demo data created", "institutions", 3, "departments", len(depts), "users", len(logins))
	if err := e.seedHistory(ctx, users, depts); err != nil {
		return nil, err
	}
	return logins, nil
}

// DefaultDemoHistoryDays is how many days of discharges the demo holds when
// Config.DemoHistoryDays is 0.
const DefaultDemoHistoryDays = 90

const (
	demoSeed   = 20260901 // the same demo patients on every machine
	demoPerDay = 25       // discharges a day, both hospitals together
)

// demoHistory plays the follow-up work of the weeks before today.
type demoHistory struct {
	e                                   *Env
	today                               calendar.Date
	admin, agent, agency, nurse, doctor *access.Principal
	cardio, cardioWard                  int64 // H01 心血管内科 and its ward
	spec                                map[string]gen.Specialty
	records, attempts                   int
	// fu is the follow-up service on the demo's own clock: each action is
	// stamped with the instant it is played at, so records, attempts and
	// their audit entries carry historical times, not the seed's.
	fu  *followup.Service
	clk time.Time
}

// seedHistory imports the generated discharges of the last days (ending
// now) for H01 and H02 and then works their follow-ups as the staff would
// have: most tasks that fell due more than three days ago are completed
// with the four elements (satisfaction about 92% 满意, 6% 基本满意, 2%
// 不满意, which opens a case), some only after a missed call; a few stay
// overdue, some were not answered once or twice, a few numbers are wrong or
// dead, a couple of patients refused further calls and one had died.
// Today's and upcoming tasks stay open. Every call and record happens on a
// working day inside the task's window, at office hours, in time order.
func (e *Env) seedHistory(ctx context.Context, users, depts map[string]int64) error {
	days := e.HistoryDays
	if days == 0 {
		days = DefaultDemoHistoryDays
	}
	if days < 0 {
		return nil
	}
	began := time.Now()
	sys := access.System()
	h1, err := e.Org.InstitutionByCode(ctx, "H01")
	if err != nil {
		return err
	}
	h2, err := e.Org.InstitutionByCode(ctx, "H02")
	if err != nil {
		return err
	}
	now := e.Now()
	loc := h1.Location()
	today := followup.Today(now, loc)
	if err := e.outsourceSurgeryCalls(ctx, sys, h1.ID); err != nil {
		return err
	}
	cfg := gen.Config{Seed: demoSeed, Count: demoPerDay * days, Start: today.AddDays(1 - days).In(loc), End: now,
		Institutions: []string{"H01", "H02"}, Weights: []int{3, 1}}
	rep, err := e.Importer.ImportStream(ctx, sys, importer.Options{Filename: "演示数据 demo-discharges", Format: "gen"},
		func(sink intake.Sink) error { return gen.Generate(cfg, sink.Message) })
	if err != nil {
		return fmt.Errorf("demo: discharges: %w", err)
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("demo: %d generated discharges rejected, first: %v", rep.Rejected, rep.Rejects[0])
	}
	imported := time.Since(began)

	h := &demoHistory{e: e, today: today, cardio: depts["H01/0301"], cardioWard: depts["H01/0301W1"], spec: map[string]gen.Specialty{}}
	opts := e.CoreOptions
	opts.Now = func() time.Time { return h.clk }
	hist, err := core.Build(e.DB, opts)
	if err != nil {
		return fmt.Errorf("demo: services: %w", err)
	}
	h.fu = hist.Followup
	for _, d := range gen.DefaultDepartments() {
		h.spec[d.Name] = d.Specialty
	}
	for name, dst := range map[string]**access.Principal{"admin": &h.admin, "agent": &h.agent, "agency": &h.agency, "nurse": &h.nurse, "doctor": &h.doctor} {
		if *dst, err = e.Auth.PrincipalFor(ctx, users[name]); err != nil {
			return fmt.Errorf("demo: principal %s: %w", name, err)
		}
	}
	for i, inst := range []*org.Institution{h1, h2} {
		if err := h.work(ctx, inst, uint64(i+1)); err != nil {
			return fmt.Errorf("demo: history of %s: %w", inst.Code, err)
		}
	}
	if err := e.seedSurveys(ctx, h1); err != nil {
		return err
	}
	if err := h.seedComplaints(ctx, h1, hist.Complaints, users, depts); err != nil {
		return err
	}
	if err := h.seedInvestigation(ctx, h1, hist.Complaints, hist.Abnormal, users); err != nil {
		return err
	}
	e.Log.Info("demo history created", "days", days, "discharges", rep.New, "tasks", rep.TasksCreated,
		"records", h.records, "attempts", h.attempts, "import", imported.Round(time.Millisecond),
		"took", time.Since(began).Round(time.Millisecond))
	return nil
}

// demoAct is one thing done on a task at a historical instant.
type demoAct struct {
	at  time.Time
	seq int
	day calendar.Date
	do  func(ctx context.Context, today calendar.Date) error
}

// work plans one institution's history task by task, most overdue first
// (so the same seed always tells the same story), then plays the actions
// in time order on the demo clock.
func (h *demoHistory) work(ctx context.Context, inst *org.Institution, stream uint64) error {
	cal, err := h.e.Calendar.Calendar(ctx, inst.ID)
	if err != nil {
		return err
	}
	loc := inst.Location()
	// The overdue list, read in one query (paging through Worklist, which
	// counts every tab per page, cost a second).
	rows, err := h.e.DB.R().QueryContext(ctx, `SELECT t.id, t.encounter_id, t.step_key, t.level, t.assignee_role, t.department_id,
		t.channel, t.satisfaction, t.earliest_date, t.due_date, e.dept_name FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
		WHERE t.institution_id = $1 AND t.status = $2 AND t.due_date < $3 ORDER BY t.due_date, t.level, t.id`,
		inst.ID, followup.Open, h.today.AddDays(-3).String())
	if err != nil {
		return err
	}
	var tasks []*followup.Task
	for rows.Next() {
		t := &followup.Task{}
		var role, earliest, due string
		if err := rows.Scan(&t.ID, &t.EncounterID, &t.StepKey, &t.Level, &role, &t.DepartmentID, &t.Channel, &t.Satisfaction,
			&earliest, &due, &t.DeptName); err != nil {
			rows.Close()
			return err
		}
		t.Role = access.Role(role)
		t.Earliest, _ = calendar.ParseDate(earliest)
		t.Due, _ = calendar.ParseDate(due)
		tasks = append(tasks, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(demoSeed, stream))
	var acts []demoAct
	// at is an office-hours instant of day d; the discharge-day call comes
	// in the afternoon, after the patient went home.
	at := func(d calendar.Date, afternoon bool) time.Time {
		mins := 8*60 + 30 + r.IntN(9*60)
		if afternoon {
			mins = 15*60 + r.IntN(3*60)
		}
		return d.In(loc).Add(time.Duration(mins) * time.Minute)
	}
	add := func(d calendar.Date, t *followup.Task, do func(ctx context.Context, today calendar.Date) error) {
		acts = append(acts, demoAct{at: at(d, t.Earliest == t.Due && t.Level == 1), seq: len(acts), day: d, do: do})
	}
	done := map[int64]bool{} // encounters with a completed follow-up
	refused, deceased := 0, 0
	for _, t := range tasks {
		if t.StepKey == "FIRST" && done[t.EncounterID] {
			continue // the completed level-1 call met it
		}
		p := h.who(inst.Code, t, r)
		// The first try falls on a working day of the window, early more
		// often than late; later tries on the following working days.
		first := t.Earliest
		if span := daysBetween(t.Earliest, t.Due); span > 0 {
			first = t.Earliest.AddDays(min(r.IntN(span+1), r.IntN(span+1)))
		}
		if !cal.IsWorkingDay(first) {
			first = cal.NextWorkingDay(first)
		}
		last := h.today.AddDays(-1)
		if first.After(last) {
			first = last
		}
		day := first
		next := func() calendar.Date {
			d := day
			if n := cal.AddWorkingDays(day, 1); !n.After(last) {
				day = n
			}
			return d
		}
		attempt := func(outcome, note string) {
			t := t
			add(next(), t, func(ctx context.Context, today calendar.Date) error {
				_, err := h.fu.Attempt(ctx, p, t.ID, followup.AttemptInput{Outcome: outcome, Channel: t.Channel, Note: note}, cal, today)
				if errs.Is(err, errs.Conflict) {
					return nil // closed meanwhile (refusal, death)
				}
				if err == nil {
					h.attempts++
				}
				return err
			})
		}
		x := r.Float64()
		switch {
		case refused < 2 && t.Level == 3 && r.IntN(120) == 0:
			refused++
			attempt(followup.Refused, "患者表示身体已恢复，不需要随访，要求今后不再来电")
		case deceased < 1 && inst.Code == "H01" && t.Level == 2 && r.IntN(400) == 0:
			deceased++
			attempt(followup.Deceased, "家属告知患者已于出院后在家中去世")
		case x < 0.03:
			// Nobody got to it: it stays overdue.
		case x < 0.055:
			for n := 1 + r.IntN(2); n > 0; n-- {
				attempt([]string{followup.NoAnswer, followup.NoAnswer, followup.Busy}[r.IntN(3)], "")
			}
		case x < 0.07:
			if r.IntN(5) < 2 {
				attempt(followup.WrongNumber, "号码有误，接听者不认识患者")
			} else {
				attempt(followup.Disconnected, "电话停机")
			}
		default:
			if x < 0.10 {
				attempt(followup.NoAnswer, "")
			}
			in := h.recordInput(t, r)
			t := t
			add(next(), t, func(ctx context.Context, _ calendar.Date) error { return h.complete(ctx, p, t, in) })
			done[t.EncounterID] = true
		}
	}
	slices.SortStableFunc(acts, func(a, b demoAct) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	for _, act := range acts {
		h.clk = act.at
		if err := act.do(ctx, act.day); err != nil {
			return fmt.Errorf("at %s: %w", act.at.Format(time.DateTime), err)
		}
	}
	return nil
}

// outsourceSurgeryCalls routes H01's service-centre calls of surgery
// patients (L3, K90) to the third-party agency, the way a hospital
// outsources part of its calls: the plan rule's step role is what routes a
// task to the agency.
func (e *Env) outsourceSurgeryCalls(ctx context.Context, sys *access.Principal, inst int64) error {
	rules, err := e.Followup.Rules(ctx, sys, inst)
	if err != nil {
		return fmt.Errorf("demo: rules: %w", err)
	}
	for _, r := range rules {
		if r.Match.Surgery == nil || !*r.Match.Surgery {
			continue
		}
		for i := range r.Steps {
			if r.Steps[i].Role == access.Agent {
				r.Steps[i].Role = access.ThirdParty
			}
		}
		if _, err := e.Followup.SaveRule(ctx, sys, *r); err != nil {
			return fmt.Errorf("demo: outsource rule: %w", err)
		}
	}
	return nil
}

func daysBetween(a, b calendar.Date) int {
	return int(b.In(time.UTC).Sub(a.In(time.UTC)).Hours() / 24)
}

// who does a task: the demo nurse and doctor for 心血管内科 (their scope),
// the service centre and the third-party agency (its surgery patients) for
// H01's level-3 calls,
// and the administrator for everything else.
func (h *demoHistory) who(inst string, t *followup.Task, r *rand.Rand) *access.Principal {
	if inst == "H01" {
		switch {
		case t.Role == access.Nurse && t.DepartmentID == h.cardioWard:
			return h.nurse
		case t.Role == access.Doctor && t.DepartmentID == h.cardio:
			return h.doctor
		case t.Role == access.ThirdParty:
			return h.agency
		case t.Role == access.Agent:
			return h.agent
		}
	}
	return h.admin
}

// recordInput writes a follow-up with plausible four-element texts.
func (h *demoHistory) recordInput(t *followup.Task, r *rand.Rand) followup.RecordInput {
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	spec := h.spec[t.DeptName]
	in := followup.RecordInput{Channel: t.Channel, NPS: -1, RevisitNeeded: r.IntN(100) < 35}
	if t.Level == 3 {
		switch x := r.IntN(20); {
		case x < 3:
			in.Channel = "wechat"
		case x < 5:
			in.Channel = "web"
		}
	}
	switch x := r.IntN(100); {
	case x < 45:
		in.TreatmentEffect = "good"
	case x < 88:
		in.TreatmentEffect = "improved"
	case x < 98:
		in.TreatmentEffect = "unchanged"
	default:
		in.TreatmentEffect = "worse"
	}
	in.MedicationGuidance = pick(demoMedication[spec])
	in.RevisitAdvice = pick(demoRevisit[spec])
	switch x := r.IntN(100); {
	case x < 92:
		in.Satisfaction = followup.Satisfied
		if t.Satisfaction {
			in.NPS = 8 + r.IntN(3)
		}
		switch y := r.IntN(100); {
		case y < 4:
			in.Opinions = pick(demoPraise)
		case y < 5:
			in.Opinions, in.OpinionProblem = pick(demoProblems), true
		}
	case x < 98:
		in.Satisfaction = followup.Basically
		if t.Satisfaction {
			in.NPS = 6 + r.IntN(3)
		}
		if r.IntN(4) == 0 {
			in.Opinions, in.OpinionProblem = pick(demoProblems), true
		}
	default:
		in.Satisfaction = followup.Dissatisfied
		if t.Satisfaction {
			in.NPS = r.IntN(6)
		}
		in.Opinions = pick(demoComplaints)
	}
	return in
}

// complete records the follow-up.
func (h *demoHistory) complete(ctx context.Context, p *access.Principal, t *followup.Task, in followup.RecordInput) error {
	_, err := h.fu.Complete(ctx, p, t.ID, in)
	if errs.Is(err, errs.Conflict) {
		return nil // closed meanwhile (a refusal closed the patient's tasks)
	}
	if err == nil {
		h.records++
	}
	return err
}

var demoMedication = map[gen.Specialty][]string{
	gen.Cardiology: {
		"坚持服用阿司匹林、氯吡格雷及他汀类药物，不可自行停药；注意有无牙龈出血、黑便。",
		"按时服用降压药和β受体阻滞剂，每日早晚测量血压、心率并记录。",
		"利尿剂晨起服用，每日称体重，限制饮水和食盐摄入。",
	},
	gen.Internal: {
		"按医嘱服用降糖药，监测空腹及餐后血糖，注意低血糖反应。",
		"规律使用吸入剂，用后漱口；口服药按疗程服完。",
		"坚持服用抗血小板及降脂药物，控制血压，按时做康复训练。",
		"按时服用抑酸护胃药，饭前半小时服用胃黏膜保护剂。",
	},
	gen.Surgery: {
		"按医嘱服用止痛药，如有发热、切口红肿渗液及时就诊。",
		"少食多餐，忌辛辣油腻；按医嘱服用助消化药物。",
	},
	gen.SurgeryMix: {
		"按医嘱服用止痛药，如有发热、切口红肿渗液及时就诊。",
		"按时服用钙剂，遵医嘱使用抗凝药预防下肢静脉血栓。",
	},
	gen.Orthopedics: {
		"按时服用钙剂及抗骨质疏松药物；遵医嘱使用抗凝药预防下肢静脉血栓。",
		"消炎止痛药饭后服用，如有胃部不适及时告知医生。",
	},
	gen.ObGyn: {
		"按医嘱补充铁剂和钙剂，哺乳期用药请先咨询医生。",
		"按医嘱服完抗生素疗程，注意阴道出血情况。",
	},
	gen.Pediatrics: {
		"按医嘱足量服完抗生素疗程，体温超过38.5℃可服用退热药。",
		"按时雾化吸入，服用止咳化痰药，多饮水。",
		"继续口服补液盐和益生菌，注意孩子的尿量和精神状态。",
	},
	gen.Dental: {
		"按医嘱服用抗生素及止痛药，使用漱口水含漱，术后24小时内勿刷牙。",
		"进温凉软食，按时服用消炎药。",
	},
}

var demoRevisit = map[gen.Specialty][]string{
	gen.Cardiology:  {"出院后1周到心血管内科门诊复诊，复查血常规、肝肾功能及心电图。", "1个月后门诊复查心脏彩超；如有胸痛、胸闷立即就诊。"},
	gen.Internal:    {"2周后内科门诊复诊，复查血糖和糖化血红蛋白。", "1个月后门诊复查胸部CT。", "症状加重随时就诊，1个月后门诊复诊。"},
	gen.Surgery:     {"术后10天门诊拆线换药。", "术后1个月门诊复查腹部彩超。"},
	gen.SurgeryMix:  {"术后10天门诊拆线换药。", "1个月后门诊复查X线片。"},
	gen.Orthopedics: {"术后2周门诊拆线，1个月、3个月复查X线片。", "6周内患肢避免负重，1个月后门诊复查。"},
	gen.ObGyn:       {"产后42天到产科门诊复查。", "术后1个月妇科门诊复查B超。"},
	gen.Pediatrics:  {"1周后儿科门诊复诊，复查血常规。", "如再发热或咳嗽加重及时就诊，2周后门诊复查。"},
	gen.Dental:      {"1周后口腔科门诊拆线。", "3个月后复查，定期洁牙。"},
}

var (
	demoPraise     = []string{"感谢医护人员的悉心照顾。", "医生护士都很耐心，非常满意。", "出院指导很详细，谢谢。"}
	demoProblems   = []string{"住院期间卫生间热水时有时无，希望尽快维修。", "希望医院增加停车位。", "食堂饭菜偏咸，希望改进。", "复诊挂号难，希望增加号源。"}
	demoComplaints = []string{"出院结算排队时间太长。", "夜间病房噪音大，影响休息。", "个别护士说话态度生硬。", "检查预约等待时间过长。",
		"医生查房时间太短，病情没有解释清楚。", "病房卫生间清洁不及时。"}
)
