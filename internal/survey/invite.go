package survey

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/notify"
	"suifang/internal/store"
)

// Links: /s/{token} where token is a random id (12 base64url characters,
// 72 bits) followed by the first 16 hex characters of an HMAC of it. The
// id alone is what the database stores; the signature lets a tampered or
// made-up token be refused before any lookup, and a copy of the database
// alone cannot mint working links.
const (
	idLen    = 12
	sigLen   = 16
	TokenLen = idLen + sigLen
	linkKind = "survey_link"
)

func (s *Service) sign(id string) string { return s.signer.Index(linkKind, id)[:sigLen] }

// newToken returns a fresh link token and the id stored for it.
//
// The outbox's content guard reads the whole message, link included, and
// about one random token in 400 looks like an ID number (15 digits in a
// row, mostly in the hex signature) or an ICD code ("/s/F594-…"); that SMS
// would be refused and the patient never invited. Such tokens are drawn
// again, so every link the survey room mints passes the guard.
func (s *Service) newToken() (token, id string, err error) {
	b := make([]byte, idLen*6/8)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", "", fmt.Errorf("survey: random: %w", err)
		}
		id = base64.RawURLEncoding.EncodeToString(b)
		token = id + s.sign(id)
		// The slash stands for what precedes a token in every link.
		if notify.Guard("/"+token) == nil {
			return token, id, nil
		}
	}
}

// checkToken returns the stored id of a well-formed, correctly signed token.
func (s *Service) checkToken(token string) (string, bool) {
	if len(token) != TokenLen {
		return "", false
	}
	id, sig := token[:idLen], token[idLen:]
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", false
		}
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(s.sign(id))) != 1 {
		return "", false
	}
	return id, true
}

// Link returns the patient-facing address of a token.
func (s *Service) Link(token string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/s/" + token
}

// Invitation statuses.
const (
	Sent     = "sent"
	Opened   = "opened"
	Answered = "answered"
	Refused  = "refused"
	Stopped  = "stopped"
)

// inviteSpec is what one invitation is for.
type inviteSpec struct {
	Inst, PatientID, EncounterID, TaskID int64
	Channel, NoticeRef, Idem, Key        string
	Template                             string
}

// Greeting is how messages and the page address the patient: surname and
// 先生/女士, or the masked name — never more.
func Greeting(name string, sex intake.Sex) string {
	name = strings.TrimSpace(name)
	rs := []rune(name)
	if len(rs) == 0 {
		return "您好"
	}
	if unicode.Is(unicode.Han, rs[0]) {
		switch sex {
		case intake.Male:
			return string(rs[0]) + "先生"
		case intake.Female:
			return string(rs[0]) + "女士"
		}
		return string(rs[0]) + "*"
	}
	return string(rs[0]) + "***"
}

// invite creates the invitation (once per spec.Idem) and queues its
// message, in tx. It returns 0 when the patient must not be contacted or
// the invitation already exists.
func (s *Service) invite(ctx context.Context, tx *sql.Tx, sp inviteSpec) (int64, error) {
	pat, err := s.patients.Get(ctx, tx, sp.PatientID)
	if err != nil {
		return 0, err
	}
	if pat.InstitutionID != sp.Inst {
		return 0, errs.New(errs.Invalid, "patient_elsewhere", "the patient belongs to another institution")
	}
	if pat.DoNotContact || pat.Deceased || len(pat.Phones) == 0 {
		return 0, nil
	}
	st, err := s.settings(ctx, tx, sp.Inst)
	if err != nil {
		return 0, err
	}
	if sp.Key == "" {
		sp.Key = st.InviteKey
	}
	v, err := s.publishedByKey(ctx, tx, sp.Inst, sp.Key)
	if err != nil {
		return 0, err
	}
	now := s.now()
	month := now.In(cst).Format("2006-01")
	var dept, ward int64
	var doctor string
	if sp.EncounterID != 0 {
		enc, err := s.patients.Encounter(ctx, tx, sp.EncounterID)
		if err != nil {
			return 0, err
		}
		dept, ward, doctor = enc.DepartmentID, enc.WardID, enc.AttendingDoctor
		if !enc.DischargeDate.IsZero() {
			month = enc.DischargeDate.String()[:7]
		}
	}
	token, id, err := s.newToken()
	if err != nil {
		return 0, err
	}
	next := int64(0)
	if st.MaxReminders > 0 {
		next = store.Micros(now.AddDate(0, 0, st.RemindAfterDays))
	}
	var invID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO survey_invitations (institution_id, token, idem_key, version_id, patient_id, encounter_id, task_id,
		notice_ref, channel, department_id, ward_id, doctor, month, status, created_at, expires_at, next_remind_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (idem_key) DO NOTHING RETURNING id`,
		sp.Inst, id, sp.Idem, v.ID, sp.PatientID, sp.EncounterID, sp.TaskID, sp.NoticeRef, sp.Channel, dept, ward, doctor, month, Sent,
		store.Micros(now), store.Micros(now.AddDate(0, 0, st.LinkDays)), next).Scan(&invID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // another instance (or an earlier run) already invited
	}
	if err != nil {
		return 0, fmt.Errorf("survey: insert invitation: %w", err)
	}
	if err := s.enqueue(ctx, tx, sp.Inst, invID, sp.Channel, sp.Template, pat.Phones[0], Greeting(pat.Name, pat.Sex), token, st,
		"survey.invite:"+fmt.Sprint(invID)); err != nil {
		return 0, err
	}
	e := audit.Event(systemActor(), "survey.invite", "survey_invitation", fmt.Sprint(invID), sp.Inst)
	e.Detail = fmt.Sprintf("patient=%d task=%d channel=%s", sp.PatientID, sp.TaskID, sp.Channel)
	return invID, s.audit.Append(ctx, tx, e)
}

// enqueue hands a message to the outbox. Params are only the greeting, the
// hospital's name, the link and the service phone: never a diagnosis, a
// department or an identifier.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, inst, invID int64, channel, template, to, greeting, token string,
	st *Settings, idem string) error {
	if s.h().Outbox == nil {
		return nil
	}
	var hospital string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, inst).Scan(&hospital); err != nil {
		return fmt.Errorf("survey: institution name: %w", err)
	}
	ch := notify.SMS
	if channel == "wechat" {
		ch = notify.WeChat
	}
	_, err := s.h().Outbox.Enqueue(ctx, tx, notify.Message{InstitutionID: inst, Channel: ch, Template: template, To: to,
		Params:         map[string]string{"name": greeting, "hospital": hospital, "link": s.Link(token), "phone": st.ServicePhone},
		IdempotencyKey: idem, Patient: true, Ref: invitationRef(invID)})
	if err != nil {
		return fmt.Errorf("survey: enqueue: %w", err)
	}
	return nil
}

func invitationRef(id int64) string { return fmt.Sprintf("survey_invitation:%d", id) }

func systemActor() *access.Principal {
	return &access.Principal{Username: "survey", Name: "survey", Global: true, Roles: []access.Role{access.SysAdmin}}
}

// cst is the zone months and days are counted in for invitations.
var cst = time.FixedZone("CST", 8*3600)

// InviteDue invites the patients of open follow-up tasks whose channel is
// sms, wechat or web and whose window has opened. It is safe to run on
// several instances at once: the invitation's idempotency key (task id)
// is unique, and the outbox key is per invitation.
func (s *Service) InviteDue(ctx context.Context) (int, error) {
	today := s.now().In(cst).Format("2006-01-02")
	rows, err := s.db.R().QueryContext(ctx, `SELECT t.id, t.institution_id, t.patient_id, t.encounter_id, t.channel FROM followup_tasks t
		WHERE t.status = 'open' AND t.channel IN ('sms','wechat','web') AND t.next_date <= $1
		AND NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.task_id = t.id) ORDER BY t.id LIMIT 500`, today)
	if err != nil {
		return 0, fmt.Errorf("survey: due tasks: %w", err)
	}
	type due struct {
		task, inst, patient, enc int64
		channel                  string
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.task, &d.inst, &d.patient, &d.enc, &d.channel); err != nil {
			rows.Close()
			return 0, fmt.Errorf("survey: due tasks: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			id, err := s.invite(ctx, tx, inviteSpec{Inst: d.inst, PatientID: d.patient, EncounterID: d.enc, TaskID: d.task,
				Channel: d.channel, Idem: fmt.Sprintf("task:%d", d.task), Template: "survey.invite"})
			if id != 0 {
				n++
			}
			return err
		})
		if err != nil {
			// One bad task (say, no published questionnaire) must not stop the rest.
			s.log.Warn("survey invitation failed", "task", d.task, "err", err)
		}
	}
	return n, nil
}

// InviteRecovery invites a complainant to the complaint-recovery survey
// once a notice is closed; the notice room calls it in its transaction.
// Answering it calls Hooks.OnRecovery with noticeRef.
func (s *Service) InviteRecovery(ctx context.Context, tx *sql.Tx, inst, patientID, encounterID int64, noticeRef string) error {
	if strings.TrimSpace(noticeRef) == "" {
		return errs.New(errs.Invalid, "missing_notice_ref", "a recovery survey needs the notice it follows")
	}
	key := "complaint_recovery"
	var k string
	// Prefer the institution's own recovery questionnaire if it renamed it.
	err := tx.QueryRowContext(ctx, `SELECT q.qkey FROM questionnaires q JOIN questionnaire_versions v ON v.questionnaire_id = q.id
		WHERE q.institution_id = $1 AND q.purpose = 'recovery' AND v.status = 'published' ORDER BY q.id LIMIT 1`, inst).Scan(&k)
	if err == nil {
		key = k
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("survey: recovery questionnaire: %w", err)
	}
	_, err = s.invite(ctx, tx, inviteSpec{Inst: inst, PatientID: patientID, EncounterID: encounterID, Channel: "sms",
		NoticeRef: noticeRef, Idem: "recovery:" + noticeRef, Key: key, Template: "notice.recovery_survey"})
	return err
}

// RemindDue sends reminders to patients who have not answered, every
// RemindAfterDays up to MaxReminders, and stops inviting when the link
// expired, the task was closed some other way (say, by phone) or the
// patient may no longer be contacted.
func (s *Service) RemindDue(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R().QueryContext(ctx, `SELECT i.id FROM survey_invitations i WHERE i.status IN ('sent','opened')
		AND i.next_remind_at > 0 AND i.next_remind_at <= $1 ORDER BY i.next_remind_at LIMIT 500`, store.Micros(now))
	if err != nil {
		return 0, fmt.Errorf("survey: due reminders: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			sent, err := s.remindOne(ctx, tx, id, now)
			if sent {
				n++
			}
			return err
		})
		if err != nil {
			s.log.Warn("survey reminder failed", "invitation", id, "err", err)
		}
	}
	return n, nil
}

type invRow struct {
	ID, Inst, VersionID, PatientID, EncounterID, TaskID int64
	Token, Channel, NoticeRef, Status, Month, Doctor    string
	Dept, Ward                                          int64
	Reminders                                           int
	ExpiresAt, NextRemind                               int64
}

const invCols = `id, institution_id, version_id, patient_id, encounter_id, task_id, token, channel, notice_ref, status, month, doctor,
	department_id, ward_id, reminders, expires_at, next_remind_at`

func scanInv(sc interface{ Scan(...any) error }) (*invRow, error) {
	r := &invRow{}
	err := sc.Scan(&r.ID, &r.Inst, &r.VersionID, &r.PatientID, &r.EncounterID, &r.TaskID, &r.Token, &r.Channel, &r.NoticeRef, &r.Status,
		&r.Month, &r.Doctor, &r.Dept, &r.Ward, &r.Reminders, &r.ExpiresAt, &r.NextRemind)
	return r, err
}

// stop ends an invitation that will not be answered and cancels its queued
// messages.
func (s *Service) stop(ctx context.Context, tx *sql.Tx, inv *invRow, status, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = $1, stop_reason = $2, next_remind_at = 0 WHERE id = $3`,
		status, reason, inv.ID); err != nil {
		return fmt.Errorf("survey: stop invitation: %w", err)
	}
	if s.h().Outbox != nil {
		if _, err := s.h().Outbox.CancelRef(ctx, tx, inv.Inst, invitationRef(inv.ID)); err != nil {
			return fmt.Errorf("survey: cancel messages: %w", err)
		}
	}
	return nil
}

func (s *Service) remindOne(ctx context.Context, tx *sql.Tx, id int64, now time.Time) (bool, error) {
	inv, err := scanInv(tx.QueryRowContext(ctx, `SELECT `+invCols+` FROM survey_invitations WHERE id = $1`, id))
	if err != nil {
		return false, fmt.Errorf("survey: invitation: %w", err)
	}
	if inv.Status != Sent && inv.Status != Opened || inv.NextRemind == 0 || inv.NextRemind > store.Micros(now) {
		return false, nil // another instance got here first
	}
	if inv.ExpiresAt <= store.Micros(now) {
		_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET next_remind_at = 0 WHERE id = $1`, id)
		return false, err
	}
	if inv.TaskID != 0 {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM followup_tasks WHERE id = $1`, inv.TaskID).Scan(&status); err != nil {
			return false, fmt.Errorf("survey: task: %w", err)
		}
		if status != "open" {
			return false, s.stop(ctx, tx, inv, Stopped, "task_"+status)
		}
	}
	pat, err := s.patients.Get(ctx, tx, inv.PatientID)
	if err != nil {
		return false, err
	}
	if pat.DoNotContact || pat.Deceased || len(pat.Phones) == 0 {
		return false, s.stop(ctx, tx, inv, Stopped, "do_not_contact")
	}
	st, err := s.settings(ctx, tx, inv.Inst)
	if err != nil {
		return false, err
	}
	n := inv.Reminders + 1
	next := int64(0)
	if n < st.MaxReminders {
		next = store.Micros(now.AddDate(0, 0, st.RemindAfterDays))
	}
	// The compare-and-set on the count makes two instances send one reminder.
	r, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET reminders = $1, next_remind_at = $2 WHERE id = $3 AND reminders = $4`,
		n, next, id, inv.Reminders)
	if err != nil {
		return false, fmt.Errorf("survey: count reminder: %w", err)
	}
	if k, _ := r.RowsAffected(); k == 0 {
		return false, nil
	}
	token := inv.Token + s.sign(inv.Token)
	return true, s.enqueue(ctx, tx, inv.Inst, inv.ID, inv.Channel, "survey.remind", pat.Phones[0], Greeting(pat.Name, pat.Sex), token, st,
		fmt.Sprintf("survey.remind:%d:%d", inv.ID, n))
}

// SendReminders reminds, now, every patient of inst's department dept
// (0: all the caller sees) whose invitation for month (YYYY-MM) is not yet
// answered and not expired. At most one such reminder per invitation and
// day, so a double click sends nothing twice. Audited.
func (s *Service) SendReminders(ctx context.Context, p *access.Principal, inst, dept int64, month string) (int, error) {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Agent, access.DeptHead) {
		return 0, errs.New(errs.Forbidden, "survey_remind_forbidden", "only the service centre, quality office and department heads send reminders")
	}
	if dept != 0 {
		if err := p.RequireDepartment(inst, dept); err != nil {
			return 0, err
		}
	} else if err := p.RequireInstitution(inst); err != nil {
		return 0, err
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return 0, errs.Field("month", "bad_month", "the month looks like 2026-10")
	}
	now := s.now()
	day := now.In(cst).Format("2006-01-02")
	q := `SELECT ` + invCols + ` FROM survey_invitations WHERE institution_id = $1 AND month = $2 AND status IN ('sent','opened') AND expires_at > $3`
	args := []any{inst, month, store.Micros(now)}
	if dept != 0 {
		q += ` AND department_id = $4`
		args = append(args, dept)
	}
	n := 0
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q+` ORDER BY id LIMIT 5000`, args...)
		if err != nil {
			return fmt.Errorf("survey: bulk: %w", err)
		}
		var list []*invRow
		for rows.Next() {
			inv, err := scanInv(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("survey: bulk: %w", err)
			}
			list = append(list, inv)
		}
		rows.Close()
		st, err := s.settings(ctx, tx, inst)
		if err != nil {
			return err
		}
		for _, inv := range list {
			pat, err := s.patients.Get(ctx, tx, inv.PatientID)
			if err != nil {
				return err
			}
			if pat.DoNotContact || pat.Deceased || len(pat.Phones) == 0 {
				continue
			}
			token := inv.Token + s.sign(inv.Token)
			if err := s.enqueue(ctx, tx, inst, inv.ID, inv.Channel, "survey.remind", pat.Phones[0], Greeting(pat.Name, pat.Sex), token, st,
				fmt.Sprintf("survey.bulk:%d:%s", inv.ID, day)); err != nil {
				return err
			}
			n++
		}
		e := audit.Event(p, "survey.bulk_remind", "institution", fmt.Sprint(inst), inst)
		e.Detail = fmt.Sprintf("department=%d month=%s sent=%d", dept, month, n)
		return s.audit.Append(ctx, tx, e)
	})
	return n, err
}

// StopClosed ends the invitations whose follow-up task was closed some
// other way (done by phone, unreachable, cancelled) and cancels their
// queued messages, so a patient reached by phone hears no more about it.
func (s *Service) StopClosed(ctx context.Context) (int, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT i.id FROM survey_invitations i JOIN followup_tasks t ON t.id = i.task_id
		WHERE i.status IN ('sent','opened') AND t.status <> 'open' ORDER BY i.id LIMIT 500`)
	if err != nil {
		return 0, fmt.Errorf("survey: closed tasks: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		err := s.db.Write(ctx, func(tx *sql.Tx) error {
			inv, err := scanInv(tx.QueryRowContext(ctx, `SELECT `+invCols+` FROM survey_invitations WHERE id = $1`, id))
			if err != nil {
				return fmt.Errorf("survey: invitation: %w", err)
			}
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM followup_tasks WHERE id = $1`, inv.TaskID).Scan(&status); err != nil {
				return fmt.Errorf("survey: task: %w", err)
			}
			if inv.Status != Sent && inv.Status != Opened || status == "open" {
				return nil // answered or reopened meanwhile
			}
			n++
			return s.stop(ctx, tx, inv, Stopped, "task_"+status)
		})
		if err != nil {
			s.log.Warn("survey stop failed", "invitation", id, "err", err)
		}
	}
	return n, nil
}

// Work runs one round of the invitation and reminder sweeps; app.Serve
// calls it on a ticker.
func (s *Service) Work(ctx context.Context) {
	if n, err := s.StopClosed(ctx); err != nil {
		s.log.Error("survey stop", "err", err)
	} else if n > 0 {
		s.log.Info("survey invitations stopped", "count", n)
	}
	if n, err := s.InviteDue(ctx); err != nil {
		s.log.Error("survey invitations", "err", err)
	} else if n > 0 {
		s.log.Info("survey invitations sent", "count", n)
	}
	if n, err := s.RemindDue(ctx); err != nil {
		s.log.Error("survey reminders", "err", err)
	} else if n > 0 {
		s.log.Info("survey reminders sent", "count", n)
	}
}

// InviteTask sends the survey link for an open follow-up task now, on
// channel (sms, wechat or web) — for staff who would rather send the
// questionnaire than call. One invitation per task, as for the worker.
func (s *Service) InviteTask(ctx context.Context, p *access.Principal, taskID int64, channel string) (int64, error) {
	if channel != "sms" && channel != "wechat" && channel != "web" {
		return 0, errs.Field("channel", "bad_survey_channel", "a survey goes out by SMS, WeChat or web")
	}
	t, err := s.followup.Task(ctx, p, taskID)
	if err != nil {
		return 0, err
	}
	if t.Status != "open" {
		return 0, errs.New(errs.Conflict, "task_closed", "this follow-up is already closed")
	}
	var id int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		id, err = s.invite(ctx, tx, inviteSpec{Inst: t.InstitutionID, PatientID: t.PatientID, EncounterID: t.EncounterID, TaskID: t.ID,
			Channel: channel, Idem: fmt.Sprintf("task:%d", t.ID), Template: "survey.invite"})
		if err != nil {
			return err
		}
		if id == 0 {
			return errs.New(errs.Conflict, "survey_not_sent", "the patient may not be contacted or was already invited for this follow-up")
		}
		e := audit.Event(p, "survey.invite_task", "followup_task", fmt.Sprint(t.ID), t.InstitutionID)
		e.Detail = fmt.Sprintf("invitation=%d channel=%s", id, channel)
		return s.audit.Append(ctx, tx, e)
	})
	return id, err
}

// TokenOf returns the link token of an invitation, for the demo and the
// administrator's own test of a link; it is never listed anywhere.
func (s *Service) TokenOf(ctx context.Context, p *access.Principal, invitationID int64) (string, error) {
	if err := p.RequireAdmin(); err != nil {
		return "", err
	}
	var id string
	err := s.db.R().QueryRowContext(ctx, `SELECT token FROM survey_invitations WHERE id = $1`, invitationID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "invitation_not_found", "no such invitation")
	}
	if err != nil {
		return "", fmt.Errorf("survey: token: %w", err)
	}
	return id + s.sign(id), nil
}
