package kpi_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/kpi"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

var ctx = context.Background()

// beijing is 10:00 on day d of 2026 in the institution's zone (UTC+8).
func beijing(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 2, 0, 0, 0, time.UTC)
}

const csvHeader = "机构代码,病案号,住院流水号,姓名,性别,身份证号,联系电话,现住址,科室代码,科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,治疗结果\n"

// The September 2026 discharges of H1, as a HIS exports them.
const septemberCSV = csvHeader +
	"H1,M0001,ZY01,张建国,男,,13905710001,浙江省杭州市上城区解放路1号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-20,2026-09-28,I21.9,急性心肌梗死,好转\n" +
	"H1,M0002,ZY02,李秀英,女,,13905710002,浙江省杭州市拱墅区湖墅南路2号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-21,2026-09-29,I10,高血压病,好转\n" +
	"H1,M0003,ZY03,王德明,男,,13905710003,浙江省杭州市西湖区文三路3号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-22,2026-09-29,I50.9,心力衰竭,死亡\n" +
	"H1,M0004,ZY04,赵桂兰,女,,13905710004,浙江省杭州市滨江区江南大道4号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-22,2026-09-29,I20.0,不稳定型心绞痛,好转\n" +
	"H1,M0005,ZY05,钱文华,男,,13905710005,浙江省杭州市上城区清泰街5号,0302,呼吸内科,W07,呼吸病区,孙医生,周护士,2026-09-23,2026-09-30,J18.9,肺炎,治愈\n" +
	"H1,M0006,ZY06,孙丽娟,女,,13905710006,浙江省杭州市拱墅区莫干山路6号,0302,呼吸内科,W07,呼吸病区,孙医生,周护士,2026-09-23,2026-09-30,J44.1,慢性阻塞性肺病急性加重,好转\n" +
	"H1,M0007,ZY07,周志强,男,,13905710007,浙江省杭州市西湖区教工路7号,0302,呼吸内科,W07,呼吸病区,孙医生,周护士,2026-09-22,2026-09-29,J18.9,肺炎,治愈\n" +
	"H1,M0008,ZY08,吴美玲,女,,13905710008,浙江省杭州市余杭区文一西路8号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-20,2026-09-28,I48.9,心房颤动,好转\n" +
	"H1,M0009,ZY09,郑国庆,男,,13905710009,浙江省杭州市萧山区人民路9号,0303,神经内科,W09,神经内科病区,何医生,冯护士,2026-09-18,2026-09-28,I63.9,脑梗死,好转\n" +
	"H1,M0010,ZY10,冯淑珍,女,,13905710010,浙江省杭州市临平区南苑街10号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-09-22,2026-09-29,I10,高血压病,好转\n"

// P10's August stay: she asks not to be called after it, before ZY10.
const augustCSV = csvHeader +
	"H1,M0010,ZY10A,冯淑珍,女,,13905710010,浙江省杭州市临平区南苑街10号,0301,心血管内科,W05,心内一病区,陈医生,刘护士,2026-08-12,2026-08-20,I10,高血压病,好转\n"

type world struct {
	e    *testkit.Env
	inst int64
	cal  *calendar.Calendar
}

func (w *world) importCSV(t *testing.T, text string) {
	t.Helper()
	rep, err := w.e.Importer.Import(ctx, access.System(), strings.NewReader(text), importer.Options{Filename: "出院患者.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 0 {
		t.Fatalf("import rejected rows: %+v", rep)
	}
}

func (w *world) scalar(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.e.DB.R().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (w *world) task(t *testing.T, visit, step string) int64 {
	t.Helper()
	return w.scalar(t, `SELECT t.id FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
		WHERE e.visit_number = $1 AND t.step_key = $2`, visit, step)
}

func (w *world) record(t *testing.T, visit, step, sat string, nps int) *followup.Record {
	t.Helper()
	rec, err := w.e.Followup.Complete(ctx, access.System(), w.task(t, visit, step), followup.RecordInput{
		Channel: "phone", TreatmentEffect: "improved", Satisfaction: sat, NPS: nps,
		MedicationGuidance: "按医嘱继续服药，不可自行停药", RevisitAdvice: "出院两周后专科门诊复诊"})
	if err != nil {
		t.Fatalf("record %s %s: %v", visit, step, err)
	}
	return rec
}

func (w *world) attempt(t *testing.T, visit, step, outcome string) {
	t.Helper()
	today := calendar.DateOf(w.e.Clock.Now().In(time.FixedZone("CST", 8*3600)))
	if _, err := w.e.Followup.Attempt(ctx, access.System(), w.task(t, visit, step),
		followup.AttemptInput{Outcome: outcome, Note: "电话随访"}, w.cal, today); err != nil {
		t.Fatalf("attempt %s %s: %v", visit, step, err)
	}
}

// build makes the fixed data set of the tests through the real services:
// the importer for stays (CSV and an HL7 A13), the follow-up service for
// attempts, records and corrections, the org hook for a department move.
func build(t *testing.T, db *store.DB) *world {
	e := testkit.New(t, db, testkit.Options{Start: beijing(time.August, 21)})
	w := &world{e: e, inst: e.Institution(t, "H1", "杭州市第一人民医院")}
	var err error
	if w.cal, err = e.Calendar.Calendar(ctx, w.inst); err != nil {
		t.Fatal(err)
	}
	// August: P10 is discharged and asks not to be called again.
	w.importCSV(t, augustCSV)
	p10 := w.scalar(t, `SELECT id FROM patients WHERE mrn = 'M0010'`)
	if _, err := e.Followup.MarkDoNotContact(ctx, access.System(), p10, "患者来信要求不再电话随访"); err != nil {
		t.Fatal(err)
	}
	// 30 September, the eve of National Day: the month's discharges.
	e.Clock.Set(beijing(time.September, 30))
	w.importCSV(t, septemberCSV)
	// ZY04's discharge is taken back (A13).
	if _, err := e.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "ADT^A13", Format: "hl7"},
		func(s intake.Sink) error {
			return s.Message(intake.Message{Source: "MSG00042", Line: 1, Event: intake.CancelDischarge, Facility: "H1",
				Patient: intake.Patient{MRN: "M0004"}, Encounter: intake.Encounter{VisitNumber: "ZY04"}})
		}); err != nil {
		t.Fatal(err)
	}
	// An outpatient visit of 心血管内科 sent as an HL7 A03 (PV1-2 = O) is
	// stored but is no discharge: it stays out of the cohort.
	if rep, err := e.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "ADT^A03", Format: "hl7"},
		func(s intake.Sink) error {
			return s.Message(intake.Message{Source: "MSG00043", Line: 1, Event: intake.Discharge, Facility: "H1",
				Patient: intake.Patient{MRN: "M0011", Name: "陈晓燕", Sex: "F", Phones: []string{"13905710011"}},
				Encounter: intake.Encounter{VisitNumber: "MZ11", DepartmentCode: "0301", DepartmentName: "心血管内科",
					ClassCode: "O", ClassSystem: "hl7", Class: intake.Outpatient,
					AdmittedAt: beijing(time.September, 29), DischargedAt: beijing(time.September, 29)}})
		}); err != nil || rep.Rejected != 0 {
		t.Fatalf("visit: %v %+v", err, rep)
	}
	if got := w.scalar(t, `SELECT COUNT(*) FROM encounters WHERE visit_number = 'MZ11' AND class = 'outpatient' AND status = 'discharged'`); got != 1 {
		t.Fatalf("the visit was not stored as a discharged outpatient visit (%d)", got)
	}
	// ZY09's doctor follow-up moves from 神经内科 to 呼吸内科 (the org
	// hook that folds a department moves open tasks, not stays).
	from := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY09'`)
	to := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY05'`)
	if err := db.Write(ctx, func(tx *sql.Tx) error { return e.Followup.MoveDepartment(ctx, tx, w.inst, from, to) }); err != nil {
		t.Fatal(err)
	}
	if got := w.scalar(t, `SELECT department_id FROM followup_tasks WHERE id = $1`, w.task(t, "ZY09", "L2")); got != to {
		t.Fatalf("ZY09's L2 task is in department %d, want %d", got, to)
	}
	w.record(t, "ZY01", "FIRST", followup.Satisfied, 10)
	w.attempt(t, "ZY02", "FIRST", followup.Refused)
	amended := w.record(t, "ZY05", "FIRST", followup.Basically, 6)
	for _, step := range []string{"L1", "FIRST", "L2", "L3"} {
		w.attempt(t, "ZY08", step, followup.WrongNumber)
	}
	// 9 October (Friday, a working day after the holiday).
	e.Clock.Set(beijing(time.October, 9))
	w.record(t, "ZY07", "FIRST", followup.Satisfied, 8)
	w.record(t, "ZY09", "L2", followup.Satisfied, 9)
	quality := &access.Principal{UserID: 920, Username: "zhikong", Roles: []access.Role{access.Quality},
		Grants: []access.Grant{{InstitutionID: w.inst}}, InstitutionID: w.inst}
	if _, err := e.Followup.Amend(ctx, quality, amended.ID, followup.RecordInput{
		Channel: "phone", TreatmentEffect: "good", Satisfaction: followup.Satisfied, NPS: 9,
		MedicationGuidance: "按医嘱继续服药，不可自行停药", RevisitAdvice: "出院两周后专科门诊复诊"},
		"患者回电更正：对护理很满意"); err != nil {
		t.Fatal(err)
	}
	// ZY06's 不满意 becomes a notice for 呼吸病区, which needs its head.
	ward := w.scalar(t, `SELECT ward_id FROM encounters WHERE visit_number = 'ZY06'`)
	e.User(t, auth.UserInput{Username: "huxi_hsz", DisplayName: "呼吸病区护士长", Password: "Huxi-Bingqu-2026!",
		HomeInstitutionID: w.inst, Roles: []access.Role{access.DeptHead},
		Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: ward}}})
	// 12 October (Monday): ZY06 is reached two days after its deadline.
	e.Clock.Set(beijing(time.October, 12))
	w.record(t, "ZY06", "FIRST", followup.Dissatisfied, 3)
	return w
}

// want is a row's expected counts.
type want struct {
	discharges, deceased, dnc, due, covered, unreachable, refused, onTime int
	l1p, l1d, l2p, l2d, l3p, l3d                                          int
	answers, satisfied, basically, dissatisfied, npsN, prom, detr         int
}

func check(t *testing.T, name string, r kpi.Row, w want) {
	t.Helper()
	got := want{r.Discharges, r.Deceased, r.DoNotContact, r.Due, r.Covered, r.Unreachable, r.Refused, r.FirstContactOnTime,
		r.Level1Planned, r.Level1Done, r.Level2Planned, r.Level2Done, r.Level3Planned, r.Level3Done,
		r.SatisfactionAnswers, r.Satisfied, r.BasicallySatisfied, r.Dissatisfied, r.NPSAnswers, r.Promoters, r.Detractors}
	if got != w {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
	}
}

func rate(t *testing.T, name string, got *float64, want float64, ok bool) {
	t.Helper()
	switch {
	case !ok && got != nil:
		t.Errorf("%s = %v, want null", name, *got)
	case ok && got == nil:
		t.Errorf("%s = null, want %v", name, want)
	case ok && (*got-want > 1e-9 || want-*got > 1e-9):
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

func rowOf(t *testing.T, rows []kpi.Row, code string) kpi.Row {
	t.Helper()
	for _, r := range rows {
		if r.Code == code {
			return r
		}
	}
	t.Fatalf("no row %s in %+v", code, rows)
	return kpi.Row{}
}

// TestMonthDefinitions computes September and October 2026 of the fixed data
// set; every expected number is worked out by hand in the comments.
func TestMonthDefinitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		// The first-contact deadlines, by hand from the 2026 calendar
		// (国庆 10-01..10-07 off, Saturday 10-10 a working day; counting
		// starts the day after discharge):
		//   09-28 → 09-29, 09-30, 10-08 → 10-08
		//   09-29 → 09-30, 10-08, 10-09 → 10-09
		//   09-30 → 10-08, 10-09, 10-10 → 10-10
		for visit, due := range map[string]string{"ZY01": "2026-10-08", "ZY07": "2026-10-09", "ZY06": "2026-10-10", "ZY09": "2026-10-08"} {
			var got string
			if err := db.R().QueryRowContext(ctx, `SELECT t.due_date FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
				WHERE e.visit_number = $1 AND t.first_contact = $2`, visit, true).Scan(&got); err != nil || got != due {
				t.Fatalf("%s first-contact deadline %q (%v), want %s", visit, got, err, due)
			}
		}
		sep, err := w.e.KPI.Report(ctx, access.System(), w.inst, kpi.Month{Year: 2026, Month: time.September})
		if err != nil {
			t.Fatal(err)
		}
		// 0301 心血管内科: cohort ZY01 ZY02 ZY03 ZY08 ZY10 = 5 (ZY04 was
		// cancelled by A13; MZ11 is an outpatient visit). Due = 5 − ZY03 (死亡) − ZY10 (do-not-contact
		// since August, so no plan) = 3. Covered: ZY01 only. Unreachable:
		// ZY08 (wrong number on all four tasks). Refused: ZY02. On time:
		// ZY01 (reached 09-30 ≤ 10-08). Levels (cancelled excluded):
		// ZY01 L1+FIRST open/done, L2 open, L3 open → L1 2/1, L2 1/0, L3 1/0;
		// ZY02 all cancelled by the refusal → nothing; ZY08 four unreachable
		// → L1 2/0, L2 1/0, L3 1/0. Sum L1 4/1, L2 2/0, L3 2/0.
		// Answers in September: ZY01's record (满意, 10).
		c := rowOf(t, sep.Departments, "0301")
		check(t, "0301", c, want{5, 1, 1, 3, 1, 1, 1, 1, 4, 1, 2, 0, 2, 0, 1, 1, 0, 0, 1, 1, 0})
		rate(t, "0301 coverage", c.Coverage, 1.0/3, true)
		rate(t, "0301 first contact", c.FirstContactRate, 1.0/3, true)
		rate(t, "0301 NPS", c.NPS, 100, true)
		// 0302 呼吸内科: ZY05 ZY06 ZY07, all due, all covered. On time: ZY05
		// (09-30 ≤ 10-10), ZY07 (10-09 ≤ 10-09; counting calendar days it
		// would be a week late); ZY06 reached 10-12 > 10-10 is late → 2.
		// Each: FIRST done by its record, L1 L2 L3 open; ZY06 (J44.1,
		// COPD) is a key patient whose plan adds K7 (level 2) and K90
		// (level 3), both open → L1 6/3, L2 4/0, L3 4/0. Answers in September: ZY05's record, corrected on 10-09
		// from 基本满意/6 to 满意/9 — one answer, counted with the
		// correction: satisfied 1, promoter 1. The moved ZY09 task is not
		// here.
		r := rowOf(t, sep.Departments, "0302")
		check(t, "0302", r, want{3, 0, 0, 3, 3, 0, 0, 2, 6, 3, 4, 0, 4, 0, 1, 1, 0, 0, 1, 1, 0})
		rate(t, "0302 first contact", r.FirstContactRate, 2.0/3, true)
		rate(t, "0302 satisfaction", r.SatisfactionRate, 1, true)
		// 0303 神经内科: ZY09, due and covered by the L2 record of 10-09,
		// which also meets its FIRST task — after the 10-08 deadline, so
		// late. I63.9 (stroke) makes it a key patient (K7, K90). L1 open +
		// FIRST done → 2/1; L2 done in 呼吸内科 after the move, still
		// counted here, K7 open → 2/1; L3 and K90 open → 2/0. Its answer
		// is October's.
		n := rowOf(t, sep.Departments, "0303")
		check(t, "0303", n, want{1, 0, 0, 1, 1, 0, 0, 0, 2, 1, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0})
		rate(t, "0303 first contact", n.FirstContactRate, 0, true)
		rate(t, "0303 satisfaction", n.SatisfactionRate, 0, false)
		rate(t, "0303 NPS", n.NPS, 0, false)
		// Total = the three rows: 9 discharges, 7 due, 5 covered (5/7),
		// 3 on time (3/7), L1 4+6+2 = 12 / 1+3+1 = 5, L2 2+4+2 = 8 / 1,
		// L3 2+4+2 = 8 / 0, 2 answers both 满意,
		// NPS (2−0)/2 = 100, recommendation 2/2.
		check(t, "total", sep.Total, want{9, 1, 1, 7, 5, 1, 1, 3, 12, 5, 8, 1, 8, 0, 2, 2, 0, 0, 2, 2, 0})
		rate(t, "total coverage", sep.Total.Coverage, 5.0/7, true)
		rate(t, "total first contact", sep.Total.FirstContactRate, 3.0/7, true)
		rate(t, "total level 2", sep.Total.Level2Rate, 1.0/8, true)
		rate(t, "total level 3", sep.Total.Level3Rate, 0, true)
		rate(t, "total recommendation", sep.Total.RecommendationRate, 1, true)
		// Flags against the defaults (coverage 90%, first contact 95%,
		// satisfaction 96%).
		if got := strings.Join(sep.Total.Below, ","); got != "coverage,first_contact" {
			t.Errorf("total below target: %q", got)
		}
		if got := strings.Join(r.Below, ","); got != "first_contact" {
			t.Errorf("0302 below target: %q", got)
		}
		// Wards follow the stays: 心内一病区 is 0301's stays.
		check(t, "W05", rowOf(t, sep.Wards, "W05"), want{5, 1, 1, 3, 1, 1, 1, 1, 4, 1, 2, 0, 2, 0, 1, 1, 0, 0, 1, 1, 0})

		oct, err := w.e.KPI.Report(ctx, access.System(), w.inst, kpi.Month{Year: 2026, Month: time.October})
		if err != nil {
			t.Fatal(err)
		}
		// October: no discharges, so every due-based rate is null. Answers
		// recorded in October: ZY07 满意/8 and ZY06 不满意/3 (0302), ZY09
		// 满意/9 (0303, the stay's department, not the task's). ZY05's
		// correction is not a new answer. 0302: 2 answers, 1 satisfied →
		// 1/2; NPS (0 promoters − 1 detractor)/2 = −50. Total: 3 answers,
		// 2 satisfied → 2/3; NPS (1−1)/3 = 0; recommendation 1/3.
		check(t, "Oct 0302", rowOf(t, oct.Departments, "0302"), want{answers: 2, satisfied: 1, dissatisfied: 1, npsN: 2, detr: 1})
		rate(t, "Oct 0302 NPS", rowOf(t, oct.Departments, "0302").NPS, -50, true)
		check(t, "Oct total", oct.Total, want{answers: 3, satisfied: 2, dissatisfied: 1, npsN: 3, prom: 1, detr: 1})
		rate(t, "Oct coverage", oct.Total.Coverage, 0, false)
		rate(t, "Oct satisfaction", oct.Total.SatisfactionRate, 2.0/3, true)
		rate(t, "Oct NPS", oct.Total.NPS, 0, true)
		rate(t, "Oct recommendation", oct.Total.RecommendationRate, 1.0/3, true)
		if got := strings.Join(oct.Total.Below, ","); got != "satisfaction" {
			t.Errorf("October below target: %q", got)
		}

		// Compute is the unscoped figure a roll-up must equal.
		raw, err := w.e.KPI.Compute(ctx, w.inst, kpi.Month{Year: 2026, Month: time.September})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "Compute total", raw.Total, want{9, 1, 1, 7, 5, 1, 1, 3, 12, 5, 8, 1, 8, 0, 2, 2, 0, 0, 2, 2, 0})
	})
}

// TestScope: a department head sees their department's rows and a total of
// their own stays; a nurse sees nothing.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		resp := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY05'`)
		head := &access.Principal{UserID: 900, Username: "huxi_zr", Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: resp}}, InstitutionID: w.inst}
		rep, err := w.e.KPI.Report(ctx, head, w.inst, kpi.Month{Year: 2026, Month: time.September})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Departments) != 1 || rep.Departments[0].Code != "0302" {
			t.Fatalf("department head sees %+v", rep.Departments)
		}
		// Their total is 0302's row (3 discharges, 3 due …; see
		// TestMonthDefinitions), not the
		// hospital's 9.
		check(t, "head total", rep.Total, want{3, 0, 0, 3, 3, 0, 0, 2, 6, 3, 4, 0, 4, 0, 1, 1, 0, 0, 1, 1, 0})
		nurse := &access.Principal{UserID: 901, Roles: []access.Role{access.Nurse},
			Grants: []access.Grant{{InstitutionID: w.inst}}, InstitutionID: w.inst}
		if _, err := w.e.KPI.Report(ctx, nurse, w.inst, kpi.Month{Year: 2026, Month: time.September}); !isKind(err, errs.Forbidden) {
			t.Errorf("a nurse read the KPIs: %v", err)
		}
		other := &access.Principal{UserID: 902, Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: w.inst + 99}}}
		if _, err := w.e.KPI.Report(ctx, other, w.inst, kpi.Month{Year: 2026, Month: time.September}); !isKind(err, errs.Forbidden) {
			t.Errorf("quality of another hospital read the KPIs: %v", err)
		}
	})
}

func isKind(err error, k errs.Kind) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == k
}

// TestTargets: defaults, a change by quality (audited) that moves the flags,
// and refusals.
func TestTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		sep := kpi.Month{Year: 2026, Month: time.September}
		got, err := w.e.KPI.Targets(ctx, access.System(), w.inst)
		if err != nil || got != kpi.DefaultTargets() {
			t.Fatalf("targets %+v %v, want the defaults", got, err)
		}
		quality := &access.Principal{UserID: 910, Username: "zhikong", Roles: []access.Role{access.Quality},
			Grants: []access.Grant{{InstitutionID: w.inst}}, InstitutionID: w.inst}
		nt := kpi.DefaultTargets()
		nt.Coverage, nt.FirstContact = 7000, 4000 // 5/7 ≈ 71.4% and 3/7 ≈ 42.9% are now on target
		if err := w.e.KPI.SetTargets(ctx, quality, w.inst, nt); err != nil {
			t.Fatal(err)
		}
		if n := w.scalar(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'kpi.targets'`); n != 1 {
			t.Errorf("%d audit entries for the change, want 1", n)
		}
		rep, err := w.e.KPI.Report(ctx, quality, w.inst, sep)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Total.Below) != 0 || rep.Targets != nt {
			t.Errorf("after the change: below %v, targets %+v", rep.Total.Below, rep.Targets)
		}
		head := &access.Principal{UserID: 911, Roles: []access.Role{access.DeptHead, access.Leadership},
			Grants: []access.Grant{{InstitutionID: w.inst}}, InstitutionID: w.inst}
		if err := w.e.KPI.SetTargets(ctx, head, w.inst, kpi.DefaultTargets()); !isKind(err, errs.Forbidden) {
			t.Errorf("leadership set targets: %v", err)
		}
		bad := nt
		bad.Satisfaction = 10001
		if err := w.e.KPI.SetTargets(ctx, quality, w.inst, bad); !isKind(err, errs.Invalid) {
			t.Errorf("a 100.01%% target: %v", err)
		}
	})
}

// TestStoredValues pins the stored spellings the definitions read against
// the rooms that write them.
func TestStoredValues(t *testing.T) {
	for k, v := range map[string]string{
		"discharged": patient.Discharged, "inpatient": string(intake.Inpatient), "died": string(intake.Died),
		"done": followup.Done, "unreachable": followup.Unreachable, "cancelled": followup.Cancelled,
		"refused": followup.Refused, "satisfied": followup.Satisfied, "basically": followup.Basically,
		"dissatisfied": followup.Dissatisfied,
	} {
		if kpi.Stored[k] != v {
			t.Errorf("kpi reads %s as %q, its room stores %q", k, kpi.Stored[k], v)
		}
	}
}

// TestGroup: a group's report has one row per member hospital (its total)
// and sums them; a department head of one member sees no group report.
func TestGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		sys := access.System()
		g := testkit.Must(t)(w.e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "G1", Name: "杭州医疗集团", Kind: org.KindGroup, Active: true}))
		if err := w.e.Org.UpdateInstitution(ctx, sys, w.inst, org.InstitutionInput{Code: "H1", Name: "杭州市第一人民医院",
			Kind: org.KindHospital, ParentID: g, Active: true}); err != nil {
			t.Fatal(err)
		}
		h2 := testkit.Must(t)(w.e.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H2", Name: "杭州市第二人民医院",
			Kind: org.KindHospital, ParentID: g, Active: true}))
		rep, err := w.e.KPI.ReportByCode(ctx, sys, "G1", kpi.Month{Year: 2026, Month: time.September})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Group || len(rep.Departments) != 2 || rep.Departments[0].Code != "H1" || rep.Departments[1].Code != "H2" {
			t.Fatalf("group rows %+v", rep.Departments)
		}
		// H1's row is H1's total of TestMonthDefinitions; H2 has nothing;
		// the group total is their sum, 5/7 covered.
		h1 := want{9, 1, 1, 7, 5, 1, 1, 3, 12, 5, 8, 1, 8, 0, 2, 2, 0, 0, 2, 2, 0}
		check(t, "H1", rep.Departments[0], h1)
		check(t, "H2", rep.Departments[1], want{})
		check(t, "G1", rep.Total, h1)
		rate(t, "G1 coverage", rep.Total.Coverage, 5.0/7, true)
		rate(t, "H2 coverage", rep.Departments[1].Coverage, 0, false)
		head := &access.Principal{UserID: 930, Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: 1}, {InstitutionID: h2, DepartmentID: 1}}}
		if _, err := w.e.KPI.ReportByCode(ctx, head, "G1", kpi.Month{Year: 2026, Month: time.September}); !isKind(err, errs.Forbidden) {
			t.Errorf("a department head read the group: %v", err)
		}
	})
}
