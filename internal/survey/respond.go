package survey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/store"
)

// Link errors the patient page turns into kind pages.
var (
	ErrLinkInvalid = errs.New(errs.NotFound, "survey_link_invalid", "this survey link is not valid")
	ErrLinkExpired = errs.New(errs.Conflict, "survey_link_expired", "this survey link has expired")
	ErrLinkUsed    = errs.New(errs.Conflict, "survey_link_used", "this survey has already been answered")
	ErrLinkRefused = errs.New(errs.Conflict, "survey_link_refused", "the patient declined this survey")
	ErrLinkStopped = errs.New(errs.Conflict, "survey_link_stopped", "this survey is no longer needed")
)

// Sheet is what the patient's page shows for a link: never more about the
// patient than the greeting.
type Sheet struct {
	Token        string
	Greeting     string
	Hospital     string
	ServicePhone string
	Version      *Version
	Section      int // the section to show
	Answers      Answers
	Done         bool
}

// Visible returns the section's items shown given the saved answers.
func (sh *Sheet) Visible(sec int) []*Item {
	var out []*Item
	if sec < 0 || sec >= len(sh.Version.Body.Sections) {
		return nil
	}
	for i := range sh.Version.Body.Sections[sec].Items {
		it := &sh.Version.Body.Sections[sec].Items[i]
		if sh.Version.Body.Visible(it, sh.Answers) {
			out = append(out, it)
		}
	}
	return out
}

// Has reports whether code is among the saved answers of item link.
func (sh *Sheet) Has(link, code string) bool { return slices.Contains(sh.Answers[link], code) }

// Value is the saved free-text or date answer of item link.
func (sh *Sheet) Value(link string) string { return strings.Join(sh.Answers[link], "\n") }

// openInv checks a token and returns its invitation; an answered, refused,
// stopped or expired one is the matching link error.
func (s *Service) openInv(ctx context.Context, q store.Querier, token string) (*invRow, error) {
	id, ok := s.checkToken(token)
	if !ok {
		return nil, ErrLinkInvalid
	}
	inv, err := scanInv(q.QueryRowContext(ctx, `SELECT `+invCols+` FROM survey_invitations WHERE token = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("survey: invitation: %w", err)
	}
	switch inv.Status {
	case Answered:
		return inv, ErrLinkUsed
	case Refused:
		return inv, ErrLinkRefused
	case Stopped:
		return inv, ErrLinkStopped
	}
	if inv.ExpiresAt <= store.Micros(s.now()) {
		return inv, ErrLinkExpired
	}
	return inv, nil
}

// ServicePhone returns the hospital name and service phone behind a link,
// for the kind pages of used or expired links (nothing for invalid ones).
func (s *Service) ServicePhone(ctx context.Context, token string) (hospital, phone string) {
	id, ok := s.checkToken(token)
	if !ok {
		return "", ""
	}
	var inst int64
	if err := s.db.R().QueryRowContext(ctx, `SELECT institution_id FROM survey_invitations WHERE token = $1`, id).Scan(&inst); err != nil {
		return "", ""
	}
	s.db.R().QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, inst).Scan(&hospital)
	if st, err := s.settings(ctx, s.db.R(), inst); err == nil {
		phone = st.ServicePhone
	}
	return hospital, phone
}

// Open returns the sheet of a valid link, resuming at the first section
// not yet saved. Opening marks the invitation as opened.
func (s *Service) Open(ctx context.Context, token string) (*Sheet, error) {
	var sh *Sheet
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		inv, err := s.openInv(ctx, tx, token)
		if err != nil {
			return err
		}
		if inv.Status == Sent {
			if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = $1 WHERE id = $2 AND status = $3`, Opened, inv.ID, Sent); err != nil {
				return fmt.Errorf("survey: mark opened: %w", err)
			}
		}
		sh, err = s.sheet(ctx, tx, inv, token)
		return err
	})
	return sh, err
}

func (s *Service) sheet(ctx context.Context, tx *sql.Tx, inv *invRow, token string) (*Sheet, error) {
	v, err := s.version(ctx, tx, inv.VersionID)
	if err != nil {
		return nil, err
	}
	pat, err := s.patients.Get(ctx, tx, inv.PatientID)
	if err != nil {
		return nil, err
	}
	st, err := s.settings(ctx, tx, inv.Inst)
	if err != nil {
		return nil, err
	}
	sh := &Sheet{Token: token, Greeting: Greeting(pat.Name, pat.Sex), ServicePhone: st.ServicePhone, Version: v, Answers: Answers{}}
	if err := tx.QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, inv.Inst).Scan(&sh.Hospital); err != nil {
		return nil, fmt.Errorf("survey: institution: %w", err)
	}
	var respID int64
	err = tx.QueryRowContext(ctx, `SELECT id, section FROM survey_responses WHERE invitation_id = $1`, inv.ID).Scan(&respID, &sh.Section)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("survey: response: %w", err)
	}
	if respID != 0 {
		if sh.Answers, err = loadAnswers(ctx, tx, respID); err != nil {
			return nil, err
		}
	}
	return sh, nil
}

func loadAnswers(ctx context.Context, q store.Querier, respID int64) (Answers, error) {
	rows, err := q.QueryContext(ctx, `SELECT link_id, value FROM survey_answers WHERE response_id = $1`, respID)
	if err != nil {
		return nil, fmt.Errorf("survey: answers: %w", err)
	}
	defer rows.Close()
	a := Answers{}
	for rows.Next() {
		var link, val string
		if err := rows.Scan(&link, &val); err != nil {
			return nil, fmt.Errorf("survey: answers: %w", err)
		}
		a[link] = decodeValue(val)
	}
	return a, rows.Err()
}

// Answer values are stored as one text: codes joined by a unit separator.
func encodeValue(vals []string) string { return strings.Join(vals, "\x1f") }
func decodeValue(v string) []string    { return strings.Split(v, "\x1f") }

// SaveResult says what a save did.
type SaveResult struct {
	Sheet    *Sheet
	Problems map[string]string // by link id; the section is shown again
	Revealed bool              // an answer revealed a new item on this page; it is shown again
	Done     bool
}

// Save stores the answers to section sec and moves the sheet on to the
// next section with a visible item, or completes the response after the
// last one. Valid answers are kept even when others in the section have a
// problem, so nothing the patient typed is lost.
//
// shown lists the items the page displayed. Pages work without script, so
// an item that an answer on the same page reveals (show B when A = 不满意)
// appears only after the save: the section is then shown again with it
// (Revealed) instead of moving on. A nil shown skips this check.
func (s *Service) Save(ctx context.Context, token string, sec int, raw Answers, shown []string) (*SaveResult, error) {
	res := &SaveResult{}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// Two saves of one survey at once (a double tap, a retry through
		// another instance) take turns on the invitation's row lock, so
		// the second finds the first's response instead of inserting a
		// second one. SQLite serialises writers already.
		if id, ok := s.checkToken(token); ok {
			if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET token = token WHERE token = $1`, id); err != nil {
				return fmt.Errorf("survey: lock invitation: %w", err)
			}
		}
		inv, err := s.openInv(ctx, tx, token)
		if err != nil {
			return err
		}
		sh, err := s.sheet(ctx, tx, inv, token)
		if err != nil {
			return err
		}
		body := &sh.Version.Body
		if sec < 0 || sec >= len(body.Sections) || sec > sh.Section {
			return errs.New(errs.Invalid, "survey_bad_section", "this page of the survey is not open yet")
		}
		merged := Answers{}
		for k, v := range sh.Answers {
			merged[k] = v
		}
		for _, it := range body.Sections[sec].Items {
			delete(merged, it.LinkID)
			if v, ok := raw[it.LinkID]; ok {
				merged[it.LinkID] = v
			}
		}
		clean, problems := body.Check(sec, merged)
		for _, it := range body.Sections[sec].Items {
			delete(sh.Answers, it.LinkID)
			if v, ok := clean[it.LinkID]; ok {
				sh.Answers[it.LinkID] = v
			}
		}
		next := sec
		if shown != nil {
			for _, it := range sh.Visible(sec) {
				if !slices.Contains(shown, it.LinkID) && len(sh.Answers[it.LinkID]) == 0 {
					res.Revealed = true
				}
			}
		}
		if len(problems) == 0 && !res.Revealed {
			next = sec + 1
			for next < len(body.Sections) && len(sh.Visible(next)) == 0 {
				next++
			}
		}
		respID, err := s.storeAnswers(ctx, tx, inv, sh, sec, max(next, sh.Section))
		if err != nil {
			return err
		}
		sh.Section = next
		res.Sheet, res.Problems = sh, problems
		if len(problems) > 0 || res.Revealed || next < len(body.Sections) {
			return nil
		}
		// Last page: check everything once more (a changed answer can
		// reveal a required item on an earlier page).
		if _, all := body.Check(-1, sh.Answers); len(all) > 0 {
			res.Problems = all
			for si := range body.Sections {
				if slices.ContainsFunc(body.Sections[si].Items, func(it Item) bool { return all[it.LinkID] != "" }) {
					sh.Section = si
					break
				}
			}
			return nil
		}
		res.Done, sh.Done = true, true
		return s.complete(ctx, tx, inv, sh, respID)
	})
	return res, err
}

// storeAnswers upserts the response row and the section's answers.
func (s *Service) storeAnswers(ctx context.Context, tx *sql.Tx, inv *invRow, sh *Sheet, sec, reached int) (int64, error) {
	now := store.Micros(s.now())
	var respID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM survey_responses WHERE invitation_id = $1`, inv.ID).Scan(&respID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRowContext(ctx, `INSERT INTO survey_responses (institution_id, invitation_id, version_id, questionnaire_id, patient_id, channel,
			department_id, ward_id, doctor, month, status, section, started_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
			inv.Inst, inv.ID, inv.VersionID, sh.Version.QuestionnaireID, inv.PatientID, inv.Channel, inv.Dept, inv.Ward, inv.Doctor, inv.Month,
			"partial", reached, now).Scan(&respID)
		if err != nil {
			return 0, fmt.Errorf("survey: start response: %w", err)
		}
	case err != nil:
		return 0, fmt.Errorf("survey: response: %w", err)
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE survey_responses SET section = $1 WHERE id = $2`, reached, respID); err != nil {
			return 0, fmt.Errorf("survey: response section: %w", err)
		}
	}
	body := &sh.Version.Body
	// Rewrite every answer: a changed answer on this page may hide items
	// on later pages, whose stale answers must not count.
	if _, err := tx.ExecContext(ctx, `DELETE FROM survey_answers WHERE response_id = $1`, respID); err != nil {
		return 0, fmt.Errorf("survey: clear answers: %w", err)
	}
	for _, it := range body.Items() {
		vals := sh.Answers[it.LinkID]
		if len(vals) == 0 {
			continue
		}
		if !body.Visible(it, sh.Answers) {
			delete(sh.Answers, it.LinkID)
			continue
		}
		got, best := it.Points(vals)
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_answers (response_id, link_id, value, points, max_points) VALUES ($1,$2,$3,$4,$5)`,
			respID, it.LinkID, encodeValue(vals), got, best); err != nil {
			return 0, fmt.Errorf("survey: store answer: %w", err)
		}
	}
	return respID, nil
}

// complete closes the response: totals, the invitation answered and its
// queued reminders cancelled, negative answers raised, the follow-up task
// completed with a record, and a recovery survey reported to its notice.
func (s *Service) complete(ctx context.Context, tx *sql.Tx, inv *invRow, sh *Sheet, respID int64) error {
	body := &sh.Version.Body
	a := sh.Answers
	score := body.Total(a)
	satisfaction := overallSatisfaction(body, a)
	nps := -1
	for _, it := range body.Items() {
		if it.Type == NPS && len(a[it.LinkID]) == 1 {
			if n, err := strconv.Atoi(a[it.LinkID][0]); err == nil && (it.Element == "nps" || nps < 0) {
				nps = n
			}
		}
	}
	now := store.Micros(s.now())
	rec, err := s.completeTask(ctx, tx, inv, body, a, satisfaction, nps)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE survey_responses SET status = $1, points = $2, max_points = $3, satisfaction = $4, nps = $5,
		record_number = $6, completed_at = $7 WHERE id = $8`, "complete", score.Points, score.Max, satisfaction, nps, rec, now, respID); err != nil {
		return fmt.Errorf("survey: complete response: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = $1, answered_at = $2, next_remind_at = 0 WHERE id = $3`,
		Answered, now, inv.ID); err != nil {
		return fmt.Errorf("survey: invitation answered: %w", err)
	}
	if s.h().Outbox != nil {
		if _, err := s.h().Outbox.CancelRef(ctx, tx, inv.Inst, invitationRef(inv.ID)); err != nil {
			return fmt.Errorf("survey: cancel reminders: %w", err)
		}
	}
	if s.h().OnNegative != nil {
		for _, it := range body.Items() {
			if !it.Negative(a[it.LinkID]) {
				continue
			}
			topic := it.Topic
			if topic == "" {
				topic = "other"
			}
			if err := s.h().OnNegative(ctx, tx, Negative{InstitutionID: inv.Inst, PatientID: inv.PatientID, EncounterID: inv.EncounterID,
				TaskID: inv.TaskID, ResponseID: respID, DepartmentID: inv.Dept, Topic: topic, Question: it.Text, Text: it.Label(a[it.LinkID])}); err != nil {
				return fmt.Errorf("survey: raise negative answer: %w", err)
			}
		}
	}
	if inv.NoticeRef != "" && s.h().OnRecovery != nil {
		var pct *int
		if p := score.Percent(); p >= 0 {
			pct = &p
		}
		if err := s.h().OnRecovery(ctx, tx, inv.NoticeRef, satisfaction, pct); err != nil {
			return fmt.Errorf("survey: report recovery: %w", err)
		}
	}
	e := audit.Event(systemActor(), "survey.response", "survey_response", fmt.Sprint(respID), inv.Inst)
	e.Detail = fmt.Sprintf("invitation=%d satisfaction=%s score=%d/%d record=%s", inv.ID, satisfaction, score.Points, score.Max, rec)
	return s.audit.Append(ctx, tx, e)
}

// overallSatisfaction is the answer to the item marked as the record's
// satisfaction element, or else the worst of the satisfaction items.
func overallSatisfaction(b *Body, a Answers) string {
	worst := ""
	rank := map[string]int{Satisfied: 1, Basically: 2, Dissatisfied: 3}
	for _, it := range b.Items() {
		if it.Type != Satisfaction || len(a[it.LinkID]) != 1 {
			continue
		}
		v := a[it.LinkID][0]
		if it.Element == "satisfaction" {
			return v
		}
		if rank[v] > rank[worst] {
			worst = v
		}
	}
	return worst
}

// completeTask writes the follow-up record of a task invitation and returns
// its number ("" when there is no task, it was closed meanwhile, or the
// questionnaire cannot say how satisfied the patient is).
func (s *Service) completeTask(ctx context.Context, tx *sql.Tx, inv *invRow, b *Body, a Answers, satisfaction string, nps int) (string, error) {
	if inv.TaskID == 0 || s.followup == nil || satisfaction == "" {
		return "", nil
	}
	in := followup.RecordInput{Channel: inv.Channel, Satisfaction: satisfaction, NPS: nps,
		MedicationGuidance: "问卷未涉及", RevisitAdvice: "问卷未涉及"}
	var opinions []string
	for _, it := range b.Items() {
		vals := a[it.LinkID]
		if len(vals) == 0 {
			continue
		}
		switch it.Element {
		case "treatment_effect":
			if slices.Contains(followup.Effects(), vals[0]) {
				in.TreatmentEffect = vals[0]
			}
		case "medication_guidance":
			in.MedicationGuidance = "患者问卷：" + it.Text + " " + it.Label(vals)
		case "revisit_advice":
			in.RevisitAdvice = "患者问卷：" + it.Text + " " + it.Label(vals)
		case "opinions":
			opinions = append(opinions, it.Label(vals))
		default:
			if it.Type == Text && it.Negative(vals) || it.Type == Text && it.When != nil {
				opinions = append(opinions, it.Text+" "+it.Label(vals))
			}
		}
	}
	in.Opinions = strings.Join(opinions, "\n")
	if r := []rune(in.Opinions); len(r) > 4000 {
		in.Opinions = string(r[:4000])
	}
	rec, err := s.followup.CompleteBySurvey(ctx, tx, inv.TaskID, in)
	if e, ok := errs.As(err); ok && e.Code == "do_not_contact" {
		// The patient said no to contact meanwhile: keep the answers, write
		// no record. (Only this refusal: any other conflict, e.g. a notice
		// that cannot be raised, must roll the response back, not half-save.)
		return "", nil
	}
	if err != nil || rec == nil {
		return "", err
	}
	return rec.Number, nil
}

// Refuse records that the patient does not want to take part: no more
// reminders for this invitation.
func (s *Service) Refuse(ctx context.Context, token string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		inv, err := s.openInv(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := s.stop(ctx, tx, inv, Refused, "patient_declined"); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Event(systemActor(), "survey.refuse", "survey_invitation", fmt.Sprint(inv.ID), inv.Inst))
	})
}
