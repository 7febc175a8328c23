package survey_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"

	"suifang/internal/access"
	"suifang/internal/store/storetest"
	"suifang/internal/survey"
)

// BenchmarkResults: the results page's figures for the inpatient
// questionnaire with 5,000 completed responses (about 80,000 answers) on
// SQLite. The rows are written directly; the survey flow itself is covered
// by the tests above.
func BenchmarkResults(b *testing.B) {
	db := storetest.SQLite(b)
	e := setup(b, db)
	qid := e.qid("inpatient_satisfaction")
	var vid, pid int64
	db.R().QueryRowContext(ctx, `SELECT id FROM questionnaire_versions WHERE questionnaire_id = $1`, qid).Scan(&vid)
	e.discharge("B1", "VB1")
	db.R().QueryRowContext(ctx, `SELECT id FROM patients LIMIT 1`).Scan(&pid)
	v, err := e.sur.Version(ctx, access.System(), vid)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 5000
	err = db.Write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			var inv, resp int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO survey_invitations (institution_id, token, idem_key, version_id, patient_id, channel,
				department_id, month, status, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,'sms',$6,'2026-09','answered',1,2) RETURNING id`,
				e.inst, fmt.Sprintf("tok%09d", i), fmt.Sprintf("bench:%d", i), vid, pid, e.dept).Scan(&inv); err != nil {
				return err
			}
			a := survey.Answers{}
			for _, it := range v.Body.Items() {
				if ch := it.Choices(); len(ch) > 0 {
					a[it.LinkID] = []string{ch[r.IntN(len(ch))].Code}
				} else if it.Type == survey.Text && r.IntN(5) == 0 {
					a[it.LinkID] = []string{"意见 " + fmt.Sprint(i)}
				}
			}
			sc := v.Body.Total(a)
			if err := tx.QueryRowContext(ctx, `INSERT INTO survey_responses (institution_id, invitation_id, version_id, questionnaire_id, patient_id,
				channel, department_id, month, status, points, max_points, satisfaction, nps, started_at, completed_at)
				VALUES ($1,$2,$3,$4,$5,'sms',$6,'2026-09','complete',$7,$8,$9,$10,1,$11) RETURNING id`, e.inst, inv, vid, qid, pid, e.dept,
				sc.Points, sc.Max, a["overall"][0], r.IntN(11), int64(i)).Scan(&resp); err != nil {
				return err
			}
			for _, it := range v.Body.Items() {
				if vals := a[it.LinkID]; len(vals) > 0 {
					got, best := it.Points(vals)
					if _, err := tx.ExecContext(ctx, `INSERT INTO survey_answers (response_id, link_id, value, points, max_points) VALUES ($1,$2,$3,$4,$5)`,
						resp, it.LinkID, vals[0], got, best); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var answers int
	db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_answers`).Scan(&answers)
	b.ResetTimer()
	for b.Loop() {
		res, err := e.sur.Results(ctx, access.System(), survey.ResultFilter{QuestionnaireID: qid, Month: "2026-09"})
		if err != nil || res.Answered != n {
			b.Fatalf("%v %d", err, res.Answered)
		}
	}
	b.ReportMetric(float64(answers), "answers")
}
