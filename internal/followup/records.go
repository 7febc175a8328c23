package followup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"suifang/internal/chain"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Satisfaction grades (seed 001).
const (
	Satisfied    = "satisfied"    // 满意
	Basically    = "basically"    // 基本满意
	Dissatisfied = "dissatisfied" // 不满意
)

// Treatment effects as the patient reports them.
var effects = []string{"good", "improved", "unchanged", "worse"}

// Effects lists the treatment-effect grades in display order.
func Effects() []string { return append([]string(nil), effects...) }

// RecordInput is a completed follow-up: the four required elements (seed
// 000 第九条) and what else the call produced.
type RecordInput struct {
	Channel            string
	TreatmentEffect    string // good / improved / unchanged / worse
	Satisfaction       string // satisfied / basically / dissatisfied
	MedicationGuidance string
	RevisitAdvice      string
	NPS                int // 0–10, or -1 when not asked
	Opinions           string
	OpinionProblem     bool // the opinion needs the department's attention
	RevisitNeeded      bool
	RecordingConsent   bool
	RecordingRef       string // stored only with consent
	bySurvey           bool   // filled in by the patient's own survey response
}

// Record is a stored, numbered follow-up record.
type Record struct {
	ID            int64
	InstitutionID int64
	Number        string
	TaskID        int64
	EncounterID   int64
	PatientID     int64
	UserID        int64
	Actor         string
	At            time.Time
	RecordInput
	AmendsID    int64
	AmendReason string
	PrevHash    string
	Hash        string
	// OpenedCase: recording it handed the department a case (Complete only).
	OpenedCase bool
}

// OpensCase is the rule that a record hands its department a case: the
// patient was 不满意 or the caller flagged the opinion as a problem. A
// survey's own record opens none (its answers raise their own notices).
func (in *RecordInput) OpensCase() bool {
	return (in.Satisfaction == Dissatisfied || in.OpinionProblem) && !in.bySurvey
}

func (in *RecordInput) validate() error {
	in.MedicationGuidance, in.RevisitAdvice = strings.TrimSpace(in.MedicationGuidance), strings.TrimSpace(in.RevisitAdvice)
	in.Opinions, in.RecordingRef = strings.TrimSpace(in.Opinions), strings.TrimSpace(in.RecordingRef)
	if in.Channel == "" {
		in.Channel = "phone"
	}
	if !validChannel(in.Channel) {
		return errs.Field("channel", "bad_channel", "unknown contact channel")
	}
	ok := in.bySurvey && in.TreatmentEffect == NotAsked
	for _, e := range effects {
		ok = ok || e == in.TreatmentEffect
	}
	if !ok {
		return errs.Field("treatment_effect", "missing_treatment_effect", "record the treatment effect")
	}
	if in.Satisfaction != Satisfied && in.Satisfaction != Basically && in.Satisfaction != Dissatisfied {
		return errs.Field("satisfaction", "missing_satisfaction", "record the patient's satisfaction")
	}
	if in.MedicationGuidance == "" || utf8.RuneCountInString(in.MedicationGuidance) > 2000 {
		return errs.Field("medication_guidance", "missing_medication_guidance", "record the medication guidance given (at most 2000 characters)")
	}
	if in.RevisitAdvice == "" || utf8.RuneCountInString(in.RevisitAdvice) > 2000 {
		return errs.Field("revisit_advice", "missing_revisit_advice", "record the revisit advice given (at most 2000 characters)")
	}
	if in.NPS < -1 || in.NPS > 10 {
		return errs.Field("nps", "bad_nps", "the recommendation score is 0 to 10")
	}
	if utf8.RuneCountInString(in.Opinions) > 4000 {
		return errs.Field("opinions", "opinions_too_long", "opinions may have at most 4000 characters")
	}
	if in.RecordingRef != "" && !in.RecordingConsent {
		return errs.Field("recording_ref", "recording_without_consent", "a call recording may be kept only with the patient's consent")
	}
	if in.OpinionProblem && in.Opinions == "" {
		return errs.Field("opinions", "missing_opinions", "write down the opinion that needs the department's attention")
	}
	return nil
}

// chainKey is the advisory lock of institution inst's record chain.
func chainKey(inst int64) int64 { return 0x5346_0000_0000_0000 + inst }

// CaseOpened is a record that needs the department: the patient was 不满意
// or the agent flagged the opinion as a problem.
type CaseOpened struct {
	InstitutionID int64
	DepartmentID  int64 // the task's department
	EncounterID   int64
	PatientID     int64
	RecordID      int64
	RecordNumber  string
	Role          access.Role // who did the follow-up step
	Kind          string      // "dissatisfied" or "opinion"
	Summary       string
	By            *access.Principal
}

// SetCaseHook names what a case becomes (core wires the notice room); it
// runs in the record's transaction, so the record and its notice commit
// together. Without a hook no case is opened.
func (s *Service) SetCaseHook(h func(ctx context.Context, tx *sql.Tx, c CaseOpened) error) {
	s.caseHook = h
}

// Complete records a reached follow-up: the task is done, the record gets
// its number and its link in the institution's hash chain, the encounter's
// first-contact task is met, and a 不满意 or a problem opinion opens a case
// for the department (the case hook) — all in one transaction.
func (s *Service) Complete(ctx context.Context, p *access.Principal, taskID int64, in RecordInput) (*Record, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var rec *Record
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		t, err := s.task(ctx, tx, p, taskID)
		if err != nil {
			return err
		}
		if t.Status != Open {
			return errs.New(errs.Conflict, "task_closed", "this follow-up is already closed")
		}
		if err := s.requireClaim(t, p); err != nil {
			return err
		}
		if t.DNC {
			return errs.New(errs.Conflict, "do_not_contact", "this patient asked not to be contacted")
		}
		rec, err = s.closeWithRecord(ctx, tx, p, t, in)
		return err
	})
	return rec, err
}

// closeWithRecord stores the record of an open task and closes the task,
// the stay's first-contact task and, for 不满意 or a problem opinion, opens
// the department's case. The caller has checked scope and state.
func (s *Service) closeWithRecord(ctx context.Context, tx *sql.Tx, p *access.Principal, t *Task, in RecordInput) (*Record, error) {
	rec := &Record{InstitutionID: t.InstitutionID, TaskID: t.ID, EncounterID: t.EncounterID, PatientID: t.PatientID, RecordInput: in}
	err := func() error {
		if err := s.appendRecord(ctx, tx, p, rec); err != nil {
			return err
		}
		now := store.Micros(s.now())
		// The call that produced the record is a reached contact, unless the
		// agent already logged it as reached before filling in the form.
		var lastOutcome string
		err := tx.QueryRowContext(ctx, `SELECT outcome FROM contact_attempts WHERE task_id = $1 ORDER BY id DESC LIMIT 1`, t.ID).Scan(&lastOutcome)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("followup: last attempt: %w", err)
		}
		if lastOutcome != Reached {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contact_attempts (institution_id, task_id, patient_id, user_id, at, channel, outcome, note)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, t.InstitutionID, t.ID, t.PatientID, p.UserID, now, in.Channel, Reached, rec.Number); err != nil {
				return fmt.Errorf("followup: log reached: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET status = $1, close_reason = $2, closed_at = $3, updated_at = $3,
			attempts = (SELECT COUNT(*) FROM contact_attempts WHERE task_id = $4) WHERE id = $4`, Done, "record:"+rec.Number, now, t.ID); err != nil {
			return fmt.Errorf("followup: close task: %w", err)
		}
		// The first completed follow-up of the stay meets its first-contact task.
		if _, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET status = $1, close_reason = $2, closed_at = $3, updated_at = $3
			WHERE encounter_id = $4 AND status = $5 AND first_contact = $6`, Done, "first_contact_met:"+rec.Number, now, t.EncounterID, Open, true); err != nil {
			return fmt.Errorf("followup: first contact: %w", err)
		}
		// A survey's negative answers raise their own notices, one per topic
		// the patient was unhappy about; a case for the same record would
		// hand the department the same complaint twice.
		if in.OpensCase() && s.caseHook != nil {
			c := CaseOpened{InstitutionID: t.InstitutionID, DepartmentID: t.DepartmentID, EncounterID: t.EncounterID,
				PatientID: t.PatientID, RecordID: rec.ID, RecordNumber: rec.Number, Role: t.Role, Kind: "opinion",
				Summary: in.Opinions, By: p}
			if in.Satisfaction == Dissatisfied {
				c.Kind = "dissatisfied"
				if c.Summary == "" {
					c.Summary = "患者表示不满意"
				}
			}
			if err := s.caseHook(ctx, tx, c); err != nil {
				return err
			}
			rec.OpenedCase = true
		}
		e := audit.Event(p, "followup.record", "followup_record", rec.Number, t.InstitutionID)
		e.Detail = fmt.Sprintf("task=%d satisfaction=%s", t.ID, in.Satisfaction)
		return s.audit.Append(ctx, tx, e)
	}()
	return rec, err
}

// Amend appends a correction to a record; the original stays as it was.
func (s *Service) Amend(ctx context.Context, p *access.Principal, recordID int64, in RecordInput, reason string) (*Record, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, errs.Field("amend_reason", "missing_amend_reason", "say why the record is corrected")
	}
	var rec *Record
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		orig, err := s.record(ctx, tx, recordID)
		if err != nil {
			return err
		}
		t, err := s.task(ctx, tx, p, orig.TaskID)
		if err != nil {
			return err
		}
		if err := mayAmend(p, orig, t.DepartmentID); err != nil {
			return err
		}
		// Corrections form a line, not a tree: a record already corrected
		// is corrected by amending its latest version.
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_records WHERE amends_id = $1`, orig.ID).Scan(&later); err != nil {
			return fmt.Errorf("followup: later versions: %w", err)
		}
		if later > 0 {
			return errs.New(errs.Conflict, "record_superseded", "this record was corrected already; correct its latest version")
		}
		rec = &Record{InstitutionID: orig.InstitutionID, TaskID: orig.TaskID, EncounterID: orig.EncounterID, PatientID: orig.PatientID,
			RecordInput: in, AmendsID: orig.ID, AmendReason: reason}
		if err := s.appendRecord(ctx, tx, p, rec); err != nil {
			return err
		}
		e := audit.Event(p, "followup.amend", "followup_record", rec.Number, rec.InstitutionID)
		e.Detail = "amends=" + orig.Number + " reason=" + reason
		return s.audit.Append(ctx, tx, e)
	})
	return rec, err
}

// appendRecord numbers rec, links it into its institution's chain and
// stores it. The chain lock makes numbering and linking atomic across
// instances.
func (s *Service) appendRecord(ctx context.Context, tx *sql.Tx, p *access.Principal, rec *Record) error {
	if err := s.db.SerializeKey(ctx, tx, chainKey(rec.InstitutionID)); err != nil {
		return err
	}
	var code, tz string
	if err := tx.QueryRowContext(ctx, `SELECT code, timezone FROM institutions WHERE id = $1`, rec.InstitutionID).Scan(&code, &tz); err != nil {
		return fmt.Errorf("followup: institution: %w", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	rec.At = s.now().UTC().Truncate(time.Microsecond)
	rec.UserID, rec.Actor = p.UserID, p.Username
	day := rec.At.In(loc).Format("20060102")
	prefix := "SF-" + code + "-" + day + "-"
	// Records are never deleted, so the day's count gives the next
	// sequence; counting (not taking the largest) stays right past 9999,
	// where "%04d" widens and text order would break.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_records WHERE institution_id = $1 AND number >= $2 AND number < $3`,
		rec.InstitutionID, prefix, prefix+"~").Scan(&n); err != nil {
		return fmt.Errorf("followup: number: %w", err)
	}
	seq := n + 1
	rec.Number = fmt.Sprintf("%s%04d", prefix, seq)
	rec.PrevHash = genesis
	err = tx.QueryRowContext(ctx, `SELECT hash FROM followup_records WHERE institution_id = $1 ORDER BY id DESC LIMIT 1`, rec.InstitutionID).Scan(&rec.PrevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("followup: chain head: %w", err)
	}
	rec.Hash = recordHash(s.audit.ChainKey(), rec)
	if !rec.RecordingConsent {
		rec.RecordingRef = ""
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO followup_records (institution_id, number, task_id, encounter_id, patient_id, user_id, actor, at,
		channel, treatment_effect, satisfaction, medication_guidance, revisit_advice, nps, opinions, opinion_problem, revisit_needed,
		recording_consent, recording_ref, amends_id, amend_reason, prev_hash, hash)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23) RETURNING id`,
		rec.InstitutionID, rec.Number, rec.TaskID, rec.EncounterID, rec.PatientID, rec.UserID, rec.Actor, store.Micros(rec.At),
		rec.Channel, rec.TreatmentEffect, rec.Satisfaction, rec.MedicationGuidance, rec.RevisitAdvice, rec.NPS, rec.Opinions,
		rec.OpinionProblem, rec.RevisitNeeded, rec.RecordingConsent, rec.RecordingRef, rec.AmendsID, rec.AmendReason,
		rec.PrevHash, rec.Hash).Scan(&rec.ID)
	if err != nil {
		return fmt.Errorf("followup: store record: %w", err)
	}
	return nil
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// recordHash covers every stored field and the previous hash, each
// length-prefixed so no two different records share an encoding: an HMAC
// under the chain key, or plain SHA-256 (nil key) for records from before
// the cut-over.
func recordHash(k *chain.Key, r *Record) string {
	return k.Sum(
		r.PrevHash, r.Number, strconv.FormatInt(r.InstitutionID, 10), strconv.FormatInt(r.TaskID, 10),
		strconv.FormatInt(r.EncounterID, 10), strconv.FormatInt(r.PatientID, 10), strconv.FormatInt(r.UserID, 10), r.Actor,
		strconv.FormatInt(store.Micros(r.At), 10), r.Channel, r.TreatmentEffect, r.Satisfaction, r.MedicationGuidance,
		r.RevisitAdvice, strconv.Itoa(r.NPS), r.Opinions, strconv.FormatBool(r.OpinionProblem), strconv.FormatBool(r.RevisitNeeded),
		strconv.FormatBool(r.RecordingConsent), r.RecordingRef, strconv.FormatInt(r.AmendsID, 10), r.AmendReason)
}

const recordCols = `id, institution_id, number, task_id, encounter_id, patient_id, user_id, actor, at, channel, treatment_effect,
	satisfaction, medication_guidance, revisit_advice, nps, opinions, opinion_problem, revisit_needed, recording_consent,
	recording_ref, amends_id, amend_reason, prev_hash, hash`

func scanRecord(sc interface{ Scan(...any) error }) (*Record, error) {
	r := &Record{}
	var at int64
	err := sc.Scan(&r.ID, &r.InstitutionID, &r.Number, &r.TaskID, &r.EncounterID, &r.PatientID, &r.UserID, &r.Actor, &at,
		&r.Channel, &r.TreatmentEffect, &r.Satisfaction, &r.MedicationGuidance, &r.RevisitAdvice, &r.NPS, &r.Opinions,
		&r.OpinionProblem, &r.RevisitNeeded, &r.RecordingConsent, &r.RecordingRef, &r.AmendsID, &r.AmendReason, &r.PrevHash, &r.Hash)
	r.At = store.Time(at)
	return r, err
}

func (s *Service) record(ctx context.Context, q store.Querier, id int64) (*Record, error) {
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordCols+` FROM followup_records WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "record_not_found", "no such follow-up record")
	}
	if err != nil {
		return nil, fmt.Errorf("followup: read record: %w", err)
	}
	return r, nil
}

// TaskRecords lists the records (and amendments) of a task p may see.
func (s *Service) TaskRecords(ctx context.Context, p *access.Principal, taskID int64) ([]*Record, error) {
	if _, err := s.Task(ctx, p, taskID); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+recordCols+` FROM followup_records WHERE task_id = $1 ORDER BY id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("followup: records: %w", err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("followup: records: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChainResult is the verification of one institution's chain.
type ChainResult = chain.Result

// VerifyRecords recomputes every institution's record chain and names the
// first broken record of each.
func (s *Service) VerifyRecords(ctx context.Context) ([]ChainResult, error) {
	hs, err := chain.NewHasher(ctx, s.db.R(), s.audit.ChainKey(), "followup_records")
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+recordCols+` FROM followup_records ORDER BY institution_id, id`)
	if err != nil {
		return nil, fmt.Errorf("followup: verify: %w", err)
	}
	defer rows.Close()
	w := chain.NewWalker(genesis, "record")
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("followup: verify: %w", err)
		}
		w.Add(chain.Link{InstitutionID: r.InstitutionID, ID: r.ID, Ref: r.Number, PrevHash: r.PrevHash, Hash: r.Hash, Computed: recordHash(hs.For(r.ID), r)})
	}
	return w.Results(), rows.Err()
}

// Today is the institution-local date of now, for worklists.
func Today(now time.Time, loc *time.Location) calendar.Date { return calendar.DateOf(now.In(loc)) }
