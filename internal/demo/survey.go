package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/survey"
)

// demoSurveys is how many of H01's open level-3 follow-ups the demo sends
// as surveys; about two thirds of the patients answer.
const demoSurveys = 40

// seedSurveys gives the results page something to show: H01's service
// phone, some level-3 follow-ups sent as SMS/WeChat surveys, and answers
// to most of them (mostly satisfied, a few not), each completing its task.
func (e *Env) seedSurveys(ctx context.Context, inst *org.Institution) error {
	sys := access.System()
	if err := e.Survey.SaveSettings(ctx, sys, survey.Settings{InstitutionID: inst.ID, ServicePhone: "0571-88886666", LinkDays: 14,
		RemindAfterDays: 3, MaxReminders: 2, InviteKey: "inpatient_satisfaction"}); err != nil {
		return fmt.Errorf("demo: survey settings: %w", err)
	}
	rows, err := e.DB.R().QueryContext(ctx, `SELECT t.id FROM followup_tasks t JOIN patients p ON p.id = t.patient_id
		WHERE t.institution_id = $1 AND t.step_key = 'L3' AND t.status = $2 AND p.do_not_contact = $3 ORDER BY t.id LIMIT $4`,
		inst.ID, followup.Open, false, demoSurveys)
	if err != nil {
		return err
	}
	var tasks []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		tasks = append(tasks, id)
	}
	rows.Close()
	r := rand.New(rand.NewPCG(demoSeed, 99))
	answered := 0
	for i, task := range tasks {
		channel := "sms"
		if i%4 == 0 {
			channel = "wechat"
		}
		inv, err := e.Survey.InviteTask(ctx, sys, task, channel)
		if errs.Is(err, errs.Conflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo: invite task %d: %w", task, err)
		}
		if r.IntN(3) == 0 {
			continue // not answered (yet)
		}
		token, err := e.Survey.TokenOf(ctx, sys, inv)
		if err != nil {
			return err
		}
		if err := demoAnswer(ctx, e.Survey, token, r); err != nil {
			return fmt.Errorf("demo: answer invitation %d: %w", inv, err)
		}
		answered++
	}
	e.Log.Info("demo surveys created", "invited", len(tasks), "answered", answered)
	return nil
}

// demoAnswer walks a survey page by page as a patient would.
func demoAnswer(ctx context.Context, s *survey.Service, token string, r *rand.Rand) error {
	sh, err := s.Open(ctx, token)
	if err != nil {
		return err
	}
	mood := r.IntN(100) // one mood per patient, so answers agree
	for range 20 {
		a := survey.Answers{}
		for _, it := range sh.Visible(sh.Section) {
			a[it.LinkID] = demoPick(it, mood, r)
		}
		res, err := s.Save(ctx, token, sh.Section, a, nil)
		if err != nil {
			return err
		}
		if res.Done {
			return nil
		}
		if len(res.Problems) > 0 {
			return fmt.Errorf("demo answers refused: %v", res.Problems)
		}
		sh = res.Sheet
	}
	return fmt.Errorf("demo survey did not finish")
}

func demoPick(it *survey.Item, mood int, r *rand.Rand) []string {
	switch it.Type {
	case survey.Satisfaction:
		switch {
		case mood < 4 && r.IntN(2) == 0:
			return []string{survey.Dissatisfied}
		case mood < 15 || r.IntN(12) == 0:
			return []string{survey.Basically}
		}
		return []string{survey.Satisfied}
	case survey.Rating:
		return []string{strconv.Itoa(max(1, 5-r.IntN(2)-boolInt(mood < 10)*2))}
	case survey.NPS:
		if mood < 10 {
			return []string{strconv.Itoa(r.IntN(7))}
		}
		return []string{strconv.Itoa(7 + r.IntN(4))}
	case survey.YesNo:
		if r.IntN(12) == 0 {
			return []string{"no"}
		}
		return []string{"yes"}
	case survey.Text:
		if it.When != nil {
			return []string{demoComplaints[r.IntN(len(demoComplaints))]}
		}
		switch x := r.IntN(10); {
		case x < 2:
			return []string{demoPraise[r.IntN(len(demoPraise))]}
		case x < 3:
			return []string{demoProblems[r.IntN(len(demoProblems))]}
		}
		return nil
	case survey.Date:
		return nil
	}
	// Choice items: mostly the first answer; a negative one (加重了, 有
	// 红包) only from the few unhappy patients.
	var opts []survey.Option
	for _, o := range it.Choices() {
		if !o.Negative || mood < 3 {
			opts = append(opts, o)
		}
	}
	if len(opts) == 0 {
		return nil
	}
	if r.IntN(10) < 7 {
		return []string{opts[0].Code}
	}
	return []string{opts[r.IntN(len(opts))].Code}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
