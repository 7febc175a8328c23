package survey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/kpi"
	"suifang/internal/store"
)

// ResultFilter narrows the results of one questionnaire.
type ResultFilter struct {
	InstitutionID   int64
	QuestionnaireID int64
	DepartmentID    int64
	WardID          int64
	Doctor          string
	Month           string // YYYY-MM of the discharge (or of the invitation)
}

// ChannelStat is the response rate of one channel.
type ChannelStat struct {
	Channel           string
	Invited, Answered int
}

// Rate is the share answered, in percent (-1 when nobody was invited).
func (c ChannelStat) Rate() int { return pct(c.Answered, c.Invited) }

func pct(n, d int) int {
	if d == 0 {
		return -1
	}
	return (n*100 + d/2) / d
}

// OptionStat counts one answer of a closed item.
type OptionStat struct {
	Code, Label string
	Count       int
	Negative    bool
}

// ItemStat is one item's results.
type ItemStat struct {
	LinkID, Text, Type, Topic string
	Answered                  int
	Points, Max               int // summed over the answers, weights applied
	Options                   []OptionStat
}

// Score is the item's average score out of 100 (-1 when not scored).
func (it ItemStat) Score() int { return pct(it.Points, it.Max) }

// Share is an option's share of the item's answers, in percent.
func (it ItemStat) Share(o OptionStat) int { return max(pct(o.Count, it.Answered), 0) }

// TextAnswer is one free-text answer.
type TextAnswer struct {
	ResponseID int64
	At         time.Time
	Question   string
	Text       string
	Negative   bool
}

// Results are a questionnaire's figures for a filter (issue 4 §6).
type Results struct {
	Filter                            ResultFilter
	Questionnaire                     *Questionnaire
	Channels                          []ChannelStat
	Invited, Answered                 int
	Points, Max                       int
	Satisfied, Basically, Unsatisfied int
	Promoters, Passives, Detractors   int
	Items                             []ItemStat
	Texts                             []TextAnswer
	Months                            []string // months with invitations, newest first (for the filter)
	Doctors                           []string
	Targets                           kpi.Targets // the institution's, when computed
}

// ResponseRate is answered / invited in percent (-1 when none).
func (r *Results) ResponseRate() int { return pct(r.Answered, r.Invited) }

// SatisfactionRate is (满意 + 基本满意) / answered, in percent.
func (r *Results) SatisfactionRate() int {
	return pct(r.Satisfied+r.Basically, r.Satisfied+r.Basically+r.Unsatisfied)
}

// NPSAnswers is how many gave a recommendation score.
func (r *Results) NPSAnswers() int { return r.Promoters + r.Passives + r.Detractors }

// NPS is promoters minus detractors in percent points; ok is false when
// nobody answered.
func (r *Results) NPS() (int, bool) {
	n := r.NPSAnswers()
	if n == 0 {
		return 0, false
	}
	return pct(r.Promoters, n) - pct(r.Detractors, n), true
}

// NPSScore is NPS for templates (0 when nobody answered; check NPSAnswers).
func (r *Results) NPSScore() int {
	n, _ := r.NPS()
	return n
}

// AvgScore is the mean total score out of 100 (-1 when not scored).
func (r *Results) AvgScore() int { return pct(r.Points, r.Max) }

var monthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// maxTexts bounds the free-text answers a results page lists.
const maxTexts = 300

// Results computes the results of a questionnaire. Staff who see only
// some departments must filter by one of them.
func (s *Service) Results(ctx context.Context, p *access.Principal, f ResultFilter) (*Results, error) {
	q, err := s.Questionnaire(ctx, p, f.QuestionnaireID)
	if err != nil {
		return nil, err
	}
	if f.InstitutionID == 0 {
		f.InstitutionID = q.InstitutionID
	}
	if q.InstitutionID != f.InstitutionID {
		return nil, errs.New(errs.NotFound, "questionnaire_not_found", "no such questionnaire in this institution")
	}
	if f.DepartmentID != 0 {
		if err := p.RequireDepartment(f.InstitutionID, f.DepartmentID); err != nil {
			return nil, err
		}
	} else if f.WardID != 0 {
		if err := p.RequireDepartment(f.InstitutionID, f.WardID); err != nil {
			return nil, err
		}
	} else if err := p.RequireInstitution(f.InstitutionID); err != nil {
		return nil, errs.New(errs.Forbidden, "survey_results_pick_department", "choose one of your departments to see its results")
	}
	if f.Month != "" && !monthRE.MatchString(f.Month) {
		return nil, errs.Field("month", "bad_month", "the month looks like 2026-10")
	}
	f.Doctor = strings.TrimSpace(f.Doctor)
	res := &Results{Filter: f, Questionnaire: q}
	if res.Targets, err = s.targetsOf(ctx, f.InstitutionID); err != nil {
		return nil, err
	}
	items, order, err := s.itemsOf(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	cond, args := resultWhere(f, "i")
	rows, err := s.db.R().QueryContext(ctx, `SELECT i.channel, COUNT(*), SUM(CASE WHEN i.status = 'answered' THEN 1 ELSE 0 END)
		FROM survey_invitations i JOIN questionnaire_versions v ON v.id = i.version_id WHERE v.questionnaire_id = $1`+cond+
		` GROUP BY i.channel ORDER BY i.channel`, append([]any{q.ID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("survey: results by channel: %w", err)
	}
	for rows.Next() {
		var c ChannelStat
		if err := rows.Scan(&c.Channel, &c.Invited, &c.Answered); err != nil {
			rows.Close()
			return nil, fmt.Errorf("survey: results by channel: %w", err)
		}
		res.Channels = append(res.Channels, c)
		res.Invited += c.Invited
		res.Answered += c.Answered
	}
	rows.Close()
	rcond, rargs := resultWhere(f, "r")
	rows, err = s.db.R().QueryContext(ctx, `SELECT r.points, r.max_points, r.satisfaction, r.nps FROM survey_responses r
		WHERE r.questionnaire_id = $1 AND r.status = 'complete'`+rcond, append([]any{q.ID}, rargs...)...)
	if err != nil {
		return nil, fmt.Errorf("survey: results: %w", err)
	}
	for rows.Next() {
		var pts, mx, nps int
		var sat string
		if err := rows.Scan(&pts, &mx, &sat, &nps); err != nil {
			rows.Close()
			return nil, fmt.Errorf("survey: results: %w", err)
		}
		res.Points, res.Max = res.Points+pts, res.Max+mx
		switch sat {
		case Satisfied:
			res.Satisfied++
		case Basically:
			res.Basically++
		case Dissatisfied:
			res.Unsatisfied++
		}
		switch {
		case nps >= 9:
			res.Promoters++
		case nps >= 7:
			res.Passives++
		case nps >= 0:
			res.Detractors++
		}
	}
	rows.Close()
	stats := map[string]*ItemStat{}
	for _, link := range order {
		it := items[link]
		st := &ItemStat{LinkID: link, Text: it.Text, Type: it.Type, Topic: it.Topic}
		for _, o := range it.Choices() {
			st.Options = append(st.Options, OptionStat{Code: o.Code, Label: o.Label, Negative: o.Negative})
		}
		stats[link] = st
	}
	// Counted in SQL per item and answer, so the page costs the same for
	// a hundred responses or a hundred thousand.
	rows, err = s.db.R().QueryContext(ctx, `SELECT a.link_id, a.value, COUNT(*), SUM(a.points), SUM(a.max_points)
		FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id
		WHERE r.questionnaire_id = $1 AND r.status = 'complete'`+rcond+` GROUP BY a.link_id, a.value`, append([]any{q.ID}, rargs...)...)
	if err != nil {
		return nil, fmt.Errorf("survey: answers: %w", err)
	}
	var texts []any
	for rows.Next() {
		var link, val string
		var n, pts, mx int
		if err := rows.Scan(&link, &val, &n, &pts, &mx); err != nil {
			rows.Close()
			return nil, fmt.Errorf("survey: answers: %w", err)
		}
		st := stats[link]
		if st == nil {
			continue
		}
		vals := decodeValue(val)
		st.Answered += n
		st.Points, st.Max = st.Points+pts, st.Max+mx
		for i := range st.Options {
			if slices.Contains(vals, st.Options[i].Code) {
				st.Options[i].Count += n
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, link := range order {
		if items[link].Type == Text {
			texts = append(texts, link)
		}
	}
	if len(texts) > 0 {
		marks := make([]string, len(texts))
		args := append([]any{q.ID}, rargs...)
		for i, l := range texts {
			args = append(args, l)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		rows, err = s.db.R().QueryContext(ctx, `SELECT a.link_id, a.value, r.id, r.completed_at
			FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id
			WHERE r.questionnaire_id = $1 AND r.status = 'complete'`+rcond+` AND a.link_id IN (`+strings.Join(marks, ",")+`)
			ORDER BY r.completed_at DESC, r.id DESC, a.link_id LIMIT `+fmt.Sprint(maxTexts), args...)
		if err != nil {
			return nil, fmt.Errorf("survey: texts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var link, val string
			var rid, at int64
			if err := rows.Scan(&link, &val, &rid, &at); err != nil {
				return nil, fmt.Errorf("survey: texts: %w", err)
			}
			it := items[link]
			res.Texts = append(res.Texts, TextAnswer{ResponseID: rid, At: store.Time(at), Question: it.Text, Text: val,
				Negative: it.Negative(decodeValue(val))})
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, link := range order {
		res.Items = append(res.Items, *stats[link])
	}
	res.Months, res.Doctors, err = s.filterValues(ctx, q.ID, f.InstitutionID)
	return res, err
}

// resultWhere is the filter as SQL on a table alias (invitations and
// responses carry the same columns), with arguments from $2 on.
func resultWhere(f ResultFilter, a string) (string, []any) {
	var b strings.Builder
	var args []any
	add := func(col string, v any) {
		args = append(args, v)
		fmt.Fprintf(&b, " AND %s.%s = $%d", a, col, len(args)+1)
	}
	add("institution_id", f.InstitutionID)
	if f.DepartmentID != 0 {
		add("department_id", f.DepartmentID)
	}
	if f.WardID != 0 {
		add("ward_id", f.WardID)
	}
	if f.Doctor != "" {
		add("doctor", f.Doctor)
	}
	if f.Month != "" {
		add("month", f.Month)
	}
	return b.String(), args
}

// itemsOf returns every item ever asked by a questionnaire (the newest
// version's wording wins) in the newest version's order, older items last.
func (s *Service) itemsOf(ctx context.Context, qid int64) (map[string]*Item, []string, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+vCols+` FROM questionnaire_versions v JOIN questionnaires q ON q.id = v.questionnaire_id
		WHERE v.questionnaire_id = $1 ORDER BY v.version DESC`, qid)
	if err != nil {
		return nil, nil, fmt.Errorf("survey: versions: %w", err)
	}
	defer rows.Close()
	items := map[string]*Item{}
	var order []string
	for rows.Next() {
		v, err := scanV(rows)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range v.Body.Items() {
			if items[it.LinkID] == nil {
				items[it.LinkID] = it
				order = append(order, it.LinkID)
			}
		}
	}
	return items, order, rows.Err()
}

func (s *Service) filterValues(ctx context.Context, qid, inst int64) (months, doctors []string, err error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT DISTINCT i.month FROM survey_invitations i JOIN questionnaire_versions v ON v.id = i.version_id
		WHERE v.questionnaire_id = $1 AND i.institution_id = $2 ORDER BY i.month DESC`, qid, inst)
	if err != nil {
		return nil, nil, fmt.Errorf("survey: months: %w", err)
	}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return nil, nil, err
		}
		months = append(months, m)
	}
	rows.Close()
	rows, err = s.db.R().QueryContext(ctx, `SELECT DISTINCT i.doctor FROM survey_invitations i JOIN questionnaire_versions v ON v.id = i.version_id
		WHERE v.questionnaire_id = $1 AND i.institution_id = $2 AND i.doctor <> '' ORDER BY i.doctor`, qid, inst)
	if err != nil {
		return nil, nil, fmt.Errorf("survey: doctors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, nil, err
		}
		doctors = append(doctors, d)
	}
	return months, doctors, rows.Err()
}

// ResponseFHIR exports one completed or partial response as a FHIR R4
// QuestionnaireResponse, for staff who see its department.
func (s *Service) ResponseFHIR(ctx context.Context, p *access.Principal, id int64) ([]byte, error) {
	var inst, dept, vid, patientID, completed int64
	var status string
	err := s.db.R().QueryRowContext(ctx, `SELECT institution_id, department_id, version_id, patient_id, status, completed_at
		FROM survey_responses WHERE id = $1`, id).Scan(&inst, &dept, &vid, &patientID, &status, &completed)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "response_not_found", "no such survey response")
		}
		return nil, fmt.Errorf("survey: response: %w", err)
	}
	if !p.SeesDepartment(inst, dept) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this response is outside your data scope")
	}
	v, err := s.version(ctx, s.db.R(), vid)
	if err != nil {
		return nil, err
	}
	a, err := loadAnswers(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	return ExportResponseFHIR(v, id, patientID, status == "complete", store.Time(completed), a)
}
