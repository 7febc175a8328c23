package complaint

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Intake helpers: duplicate detection and merging, the complaint office a
// complaint goes to when nobody knows the department, and the follow-up
// record a complaint was raised from.

// IntakeOptions tune duplicate detection.
type IntakeOptions struct {
	// Index makes blind indexes of complainants' contacts, so the same
	// phone or e-mail is found without opening sealed values; without it
	// only the same patient matches.
	Index *pii.Indexer
	// DuplicateDays: archived complaints this recent are still candidates
	// (open ones always are). Default 30.
	DuplicateDays int
	// Similarity is the text score from which a candidate is shown.
	// Default DefaultSimilarity.
	Similarity float64
	// Codes verifies the number typed on the public form before any
	// message goes to it; without it the public form sends nothing.
	Codes PhoneCodes
}

// PhoneCodes sends and checks the codes that prove a member of the public
// holds a mobile number, under the caps on public SMS; notify.Service
// satisfies it.
type PhoneCodes interface {
	SendCode(ctx context.Context, tx *sql.Tx, r notify.CodeRequest) (string, error)
	ResendCode(ctx context.Context, tx *sql.Tx, token, client string) error
	CheckCode(ctx context.Context, tx *sql.Tx, token, code string) (*notify.CodeCheck, error)
	CodeState(ctx context.Context, q store.Querier, token string) (*notify.CodeState, error)
}

func (o IntakeOptions) withDefaults() IntakeOptions {
	if o.DuplicateDays <= 0 {
		o.DuplicateDays = 30
	}
	if o.Similarity <= 0 || o.Similarity > 1 {
		o.Similarity = DefaultSimilarity
	}
	return o
}

// SetIntake sets the intake options; core.Build calls it before the
// service is used.
func (s *Service) SetIntake(o IntakeOptions) { s.intake = o.withDefaults() }

// kindEmail is the blind-index kind of complainants' e-mail addresses.
const kindEmail = "complaint_email"

// contactIndex is the blind index of a phone number or e-mail address, ""
// for anything else (a name, "ask at the ward") or without an indexer.
func (s *Service) contactIndex(contact string) string {
	contact = strings.TrimSpace(contact)
	if s.intake.Index == nil || contact == "" {
		return ""
	}
	if strings.Count(contact, "@") == 1 && !strings.ContainsAny(contact, " \t") {
		return s.intake.Index.Index(kindEmail, strings.ToLower(contact))
	}
	if d := pii.Normalize(pii.KindPhone, contact); len(d) >= 7 && len(strings.Trim(contact, "0123456789 -+()（）")) == 0 {
		return s.intake.Index.Index(pii.KindPhone, contact)
	}
	return ""
}

// Duplicate is a complaint that may be about the same matter.
type Duplicate struct {
	ID          int64
	Number      string
	Status      string
	ReceivedAt  time.Time
	Content     string
	DeptName    string
	Score       float64 // text similarity, 0–1
	SamePatient bool
	SameContact bool
}

// maxCandidates bounds how many complaints of one person a search scores.
const maxCandidates = 200

// findDuplicates lists inst's complaints other than exclude, open or
// archived within the window, of the same patient or contact whose text
// scores at least the threshold, best first. Merged complaints are not
// candidates: their primary is.
func (s *Service) findDuplicates(ctx context.Context, q store.Querier, inst, exclude, patientID int64, contactIdx, content string) ([]Duplicate, error) {
	if patientID == 0 && contactIdx == "" {
		return nil, nil
	}
	since := s.now().Add(-time.Duration(s.intake.DuplicateDays) * 24 * time.Hour)
	args := []any{inst, exclude, Merged, Archived, store.Micros(since)}
	var who []string
	if patientID != 0 {
		args = append(args, patientID)
		who = append(who, fmt.Sprintf("c.patient_id = $%d", len(args)))
	}
	if contactIdx != "" {
		args = append(args, contactIdx)
		who = append(who, fmt.Sprintf("c.contact_idx = $%d", len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.number, c.status, c.received_at, c.content, c.patient_id, c.contact_idx,
		COALESCE(d.name, '') FROM complaints c LEFT JOIN departments d ON d.id = c.department_id
		WHERE c.institution_id = $1 AND c.id <> $2 AND c.status <> $3 AND (c.status <> $4 OR c.archived_at >= $5)
		AND (`+strings.Join(who, " OR ")+fmt.Sprintf(`) ORDER BY c.received_at DESC, c.id DESC LIMIT %d`, maxCandidates), args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: duplicates: %w", err)
	}
	defer rows.Close()
	var out []Duplicate
	mine := profileOf(content)
	for rows.Next() {
		var d Duplicate
		var rec, pid int64
		var idx string
		if err := rows.Scan(&d.ID, &d.Number, &d.Status, &rec, &d.Content, &pid, &idx, &d.DeptName); err != nil {
			return nil, fmt.Errorf("complaint: duplicates: %w", err)
		}
		d.ReceivedAt = store.Time(rec)
		d.SamePatient = patientID != 0 && pid == patientID
		d.SameContact = contactIdx != "" && idx == contactIdx
		if d.Score = mine.dice(profileOf(d.Content)); d.Score >= s.intake.Similarity {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: duplicates: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Duplicate) int { return cmp.Compare(b.Score, a.Score) })
	return out, nil
}

// noteDuplicates records in c's history which complaints it may repeat,
// so quality sees it even when nobody was warned (the public page, the
// API, a batch of slips).
func (s *Service) noteDuplicates(ctx context.Context, tx *sql.Tx, c *Complaint, contactIdx string) error {
	ds, err := s.findDuplicates(ctx, tx, c.InstitutionID, c.ID, c.PatientID, contactIdx, c.Content)
	if err != nil || len(ds) == 0 {
		return err
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s (%.2f)", d.Number, d.Score)
	}
	return s.appendEvent(ctx, tx, nil, c, "duplicate_suspected", c.Status, c.Status, strings.Join(parts, ", "))
}

// visible keeps the duplicates p may see: a warning must not show a
// complaint outside the reader's scope.
func (s *Service) visible(ctx context.Context, p *access.Principal, ds []Duplicate) ([]Duplicate, error) {
	out := ds[:0]
	for _, d := range ds {
		c, err := s.get(ctx, s.db.R(), d.ID)
		if err != nil {
			return nil, err
		}
		if canSee(p, c) {
			out = append(out, d)
		}
	}
	return out, nil
}

// CheckDuplicates lists the complaints p may see that a new complaint in
// would repeat, for the intake form's warning before it saves. It checks
// the input as Register would, so a form with mistakes gets those first.
func (s *Service) CheckDuplicates(ctx context.Context, p *access.Principal, in Input) ([]Duplicate, error) {
	if !canRegister(p) {
		return nil, errs.New(errs.Forbidden, "complaint_register_forbidden", "your role may not register complaints")
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(in.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	var patientID int64
	if in.VisitNumber != "" {
		enc, err := s.encs.EncounterByVisit(ctx, p, in.InstitutionID, in.VisitNumber)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("visit_number", "complaint_encounter_not_found", "no such stay in this institution")
			}
			return nil, err
		}
		patientID = enc.PatientID
	} else if in.SourceRecordID != 0 {
		var err error
		if patientID, _, err = s.sourceRecord(ctx, s.db.R(), &in, 0, 0); err != nil {
			return nil, err
		}
	}
	ds, err := s.findDuplicates(ctx, s.db.R(), in.InstitutionID, 0, patientID, s.contactIndex(in.Contact), in.Content)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return s.visible(ctx, p, ds)
}

// PossibleDuplicates lists the complaints p may see that complaint id may
// repeat (or that repeat it), for its page.
func (s *Service) PossibleDuplicates(ctx context.Context, p *access.Principal, id int64) ([]Duplicate, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if c.Status == Merged {
		return nil, nil
	}
	var idx string
	if err := s.db.R().QueryRowContext(ctx, `SELECT contact_idx FROM complaints WHERE id = $1`, id).Scan(&idx); err != nil {
		return nil, fmt.Errorf("complaint: contact index: %w", err)
	}
	ds, err := s.findDuplicates(ctx, s.db.R(), c.InstitutionID, c.ID, c.PatientID, idx, c.Content)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return s.visible(ctx, p, ds)
}

// MergedFrom lists the duplicates merged into complaint id, oldest first,
// so the primary's page shows what they said.
func (s *Service) MergedFrom(ctx context.Context, p *access.Principal, id int64) ([]*Complaint, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+complaintCols+complaintFrom+` WHERE c.merged_into = $1 ORDER BY c.received_at, c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: merged: %w", err)
	}
	defer rows.Close()
	var out []*Complaint
	for rows.Next() {
		c, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("complaint: merged: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CanMerge reports whether p may merge c into another complaint: its
// owner or quality, while it is open.
func CanMerge(p *access.Principal, c *Complaint) bool {
	return slices.Contains(open, c.Status) && handler(p, c)
}

// Merge folds duplicate dupID into primaryID: the duplicate becomes
// merged (its clocks and escalations stop, it leaves the open lists) and
// points at the primary, and both histories record it. There is no
// unmerge: a wrong merge is answered by registering the matter again.
func (s *Service) Merge(ctx context.Context, p *access.Principal, dupID, primaryID int64, note string) (*Complaint, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxText {
		return nil, errs.Field("note", "too_long", "at most 4000 characters")
	}
	if dupID == primaryID {
		return nil, errs.Field("primary_id", "merge_self", "a complaint cannot be merged into itself")
	}
	var out *Complaint
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		dup, err := s.get(ctx, tx, dupID)
		if err != nil {
			return err
		}
		if !canSee(p, dup) {
			return errs.New(errs.Forbidden, "out_of_scope", "this complaint is outside your data scope")
		}
		if err := s.db.SerializeKey(ctx, tx, chainKey(dup.InstitutionID)); err != nil {
			return err
		}
		if dup, err = s.get(ctx, tx, dupID); err != nil {
			return err
		}
		prim, err := s.get(ctx, tx, primaryID)
		if errs.Is(err, errs.NotFound) {
			return errs.Field("primary_id", "merge_no_primary", "no such complaint to merge into")
		}
		if err != nil {
			return err
		}
		switch {
		case !slices.Contains(open, dup.Status):
			return errs.New(errs.Conflict, "merge_not_open", "only an open complaint can be merged")
		case !handler(p, dup):
			return errs.New(errs.Forbidden, "complaint_action_forbidden", "only the owner or quality may merge this complaint")
		case prim.InstitutionID != dup.InstitutionID || !canSee(p, prim):
			return errs.Field("primary_id", "merge_no_primary", "no such complaint to merge into")
		case prim.Status == Merged:
			return errs.Field("primary_id", "merge_into_merged", "that complaint is itself merged; merge into its primary")
		}
		var children int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints WHERE merged_into = $1`, dup.ID).Scan(&children); err != nil {
			return fmt.Errorf("complaint: merge: %w", err)
		}
		if children > 0 {
			return errs.New(errs.Conflict, "merge_has_duplicates", "other complaints are merged into this one; merge the other way round")
		}
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE complaints SET status = $1, merged_into = $2, paused = $3, updated_at = $4 WHERE id = $5`,
			Merged, prim.ID, false, now, dup.ID); err != nil {
			return fmt.Errorf("complaint: merge: %w", err)
		}
		// An open wait ends with the case: its clocks stop for good.
		if _, err := tx.ExecContext(ctx, `UPDATE complaint_pauses SET to_at = $1 WHERE complaint_id = $2 AND to_at = 0`, now, dup.ID); err != nil {
			return fmt.Errorf("complaint: merge: %w", err)
		}
		if err := s.appendEvent(ctx, tx, p, dup, "merge", dup.Status, Merged, strings.TrimSpace("into="+prim.Number+"\n"+note)); err != nil {
			return err
		}
		if err := s.appendEvent(ctx, tx, p, prim, "merge_in", prim.Status, prim.Status, strings.TrimSpace("from="+dup.Number+"\n"+note)); err != nil {
			return err
		}
		if out, err = s.get(ctx, tx, dup.ID); err != nil {
			return err
		}
		pol, err := s.cals.Policy(ctx, dup.InstitutionID)
		if err != nil {
			return err
		}
		if err := s.refreshDue(ctx, tx, out, pol); err != nil {
			return err
		}
		e := audit.Event(p, "complaint.merge", "complaint", dup.Number, dup.InstitutionID)
		e.Detail = "into " + prim.Number
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// officeWords name the office that takes complaints nobody can place, in
// order of preference: the complaint office or patient service centre,
// then quality, then medical affairs.
var officeWords = []string{"投诉", "患者服务", "客户服务", "客服", "医患", "质控", "质量", "医务"}

// complaintOffice finds inst's active office that takes complaints whose
// department the complainant does not know; 0 when it has none.
func (s *Service) complaintOffice(ctx context.Context, q store.Querier, inst int64) (int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM departments WHERE institution_id = $1 AND kind = $2 AND active = $3 ORDER BY code, id`,
		inst, "office", true)
	if err != nil {
		return 0, fmt.Errorf("complaint: offices: %w", err)
	}
	defer rows.Close()
	best, rank := int64(0), len(officeWords)
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return 0, fmt.Errorf("complaint: offices: %w", err)
		}
		for i, w := range officeWords[:rank] {
			if strings.Contains(name, w) {
				best, rank = id, i
				break
			}
		}
	}
	return best, rows.Err()
}

// sourceRecord checks the follow-up record a complaint is raised from: it
// must belong to the institution and, when a stay was named, to its
// patient. Without a stay the record gives the patient, the stay and the
// department.
func (s *Service) sourceRecord(ctx context.Context, q store.Querier, in *Input, patientID, encounterID int64) (int64, int64, error) {
	var inst, pid, eid, dept int64
	err := q.QueryRowContext(ctx, `SELECT r.institution_id, r.patient_id, r.encounter_id, COALESCE(e.department_id, 0)
		FROM followup_records r LEFT JOIN encounters e ON e.id = r.encounter_id WHERE r.id = $1`, in.SourceRecordID).Scan(&inst, &pid, &eid, &dept)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && inst != in.InstitutionID) {
		return 0, 0, errs.Field("source_record_id", "complaint_record_not_found", "no such follow-up record in this institution")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("complaint: source record: %w", err)
	}
	if patientID != 0 && pid != patientID {
		return 0, 0, errs.Field("visit_number", "complaint_record_other_patient", "this stay is not the follow-up record's patient")
	}
	if patientID == 0 {
		patientID, encounterID = pid, eid
	}
	if in.DepartmentID == 0 {
		in.DepartmentID = dept
	}
	if in.DepartmentID == 0 {
		return 0, 0, errs.Field("department_id", "missing_department", "choose the department, or give the stay's visit number")
	}
	return patientID, encounterID, nil
}
