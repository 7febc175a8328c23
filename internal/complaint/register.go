// Registration: what a complaint is filed with, its checks, the owner it
// gets, and the messages that go out when it arrives.

package complaint

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/store"
)

// Input is a new complaint as the intake form or the API gives it.
type Input struct {
	InstitutionID   int64
	Channel         string
	ComplainantName string
	ComplainantRole string
	Contact         string // phone or e-mail; sealed at rest
	VisitNumber     string // the stay, when known
	OccurredOn      string // YYYY-MM-DD, optional
	Location        string
	People          string
	Content         string
	Asks            string
	Category        string
	Severity        string
	Complexity      string
	DepartmentID    int64   // responsible department; the stay's when 0
	OtherDepts      []int64 // further departments involved
	// ReceivedAt is when the hospital received it (a letter from the
	// suggestion box opened today may be older); zero is now.
	ReceivedAt time.Time
	// IdempotencyKey, when set (the API's Idempotency-Key), makes a repeat
	// by the same caller return the first complaint (idempotency.go).
	IdempotencyKey string
	// SourceRecordID is the follow-up record the complaint was raised
	// from; it gives the patient and the stay when no visit is named.
	SourceRecordID int64
	// verifyFirst holds the receipt until the contact is verified: the
	// public form's number was typed by a stranger (RegisterPublic).
	verifyFirst bool
}

const (
	maxText  = 4000
	maxShort = 200
)

func (in *Input) normalize() error {
	for _, f := range []*string{&in.Channel, &in.ComplainantName, &in.ComplainantRole, &in.Contact, &in.VisitNumber, &in.OccurredOn,
		&in.Location, &in.People, &in.Content, &in.Asks, &in.Category, &in.Severity, &in.Complexity} {
		*f = strings.TrimSpace(*f)
	}
	if in.Severity == "" {
		in.Severity = General
	}
	if in.Complexity == "" {
		in.Complexity = Simple
	}
	if in.Category == "" {
		in.Category = "other"
	}
	if in.ComplainantRole == "" {
		in.ComplainantRole = "patient"
	}
	short := func(s string) bool { return utf8.RuneCountInString(s) <= maxShort }
	switch {
	case in.InstitutionID <= 0:
		return errs.Field("institution_id", "bad_institution", "choose an institution")
	case !slices.Contains(channels, in.Channel):
		return errs.Field("channel", "bad_channel", "choose how the complaint arrived")
	case in.ComplainantName == "" || !short(in.ComplainantName):
		return errs.Field("complainant_name", "bad_complainant", "give the complainant's name (at most 200 characters)")
	case !slices.Contains(complainantRoles, in.ComplainantRole):
		return errs.Field("complainant_role", "bad_complainant_role", "the complainant is the patient, a relative or someone else")
	case !short(in.Contact):
		return errs.Field("contact", "bad_contact", "at most 200 characters")
	case in.Content == "" || utf8.RuneCountInString(in.Content) > maxText:
		return errs.Field("content", "bad_content", "write down what happened (at most 4000 characters)")
	case utf8.RuneCountInString(in.Asks) > maxText:
		return errs.Field("asks", "too_long", "at most 4000 characters")
	case !short(in.Location):
		return errs.Field("location", "too_long", "at most 200 characters")
	case utf8.RuneCountInString(in.People) > 1000:
		return errs.Field("people", "too_long", "at most 1000 characters")
	case !categoryCodeRE.MatchString(in.Category): // the institution's list is checked in Register
		return errs.Field("category", "bad_category", "choose a category")
	case !slices.Contains(Severities(), in.Severity):
		return errs.Field("severity", "bad_severity", "severity is general, serious or major")
	case in.Complexity != Simple && in.Complexity != Complex:
		return errs.Field("complexity", "bad_complexity", "a complaint is simple or complex")
	case !short(in.VisitNumber):
		return errs.Field("visit_number", "bad_visit_number", "at most 200 characters")
	}
	if in.OccurredOn != "" {
		if _, err := calendar.ParseDate(in.OccurredOn); err != nil {
			return errs.Field("occurred_on", "bad_date", "a date looks like 2026-10-08")
		}
	}
	if in.DepartmentID == 0 && in.VisitNumber == "" && in.SourceRecordID == 0 {
		return errs.Field("department_id", "missing_department", "choose the department, or give the stay's visit number")
	}
	return nil
}

// chainKey is the advisory lock of institution inst's complaint numbering
// and event chain.
func chainKey(inst int64) int64 { return 0x5453_0000_0000_0000 + inst }

const adContact = "complaints.complainant_contact"

// trackingAlphabet leaves out 0/O, 1/I/L so a code read over the phone is
// not misheard; 12 letters carry 58 random bits.
const trackingAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newTrackingCode returns a random public tracking code such as
// "K7MQ-X9PA-4TZB": not sequential, so it cannot be guessed from another.
// The receipt carries the code, and the outbox's content guard refuses
// text that looks like an ICD-10 code ("Z349" does): such a code would
// leave the complainant without a receipt, so it is drawn again.
func newTrackingCode() string {
	for {
		var b [12]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		var sb strings.Builder
		for i, x := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(trackingAlphabet[int(x)%len(trackingAlphabet)])
		}
		if code := sb.String(); notify.Guard(code) == nil {
			return code
		}
	}
}

// canRegister: anyone who receives complaints in person, on the phone or
// on a call may register one (首诉负责制).
func canRegister(p *access.Principal) bool {
	return p.HasAny(access.SysAdmin, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse, access.Doctor,
		access.Leadership, access.Integration)
}

// Register records a new complaint received by p, who owns it until it
// is handed over (首诉负责制). A major complaint alerts leadership at
// once.
func (s *Service) Register(ctx context.Context, p *access.Principal, in Input) (*Complaint, error) {
	if !canRegister(p) {
		return nil, errs.New(errs.Forbidden, "complaint_register_forbidden", "your role may not register complaints")
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(in.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	var patientID, encounterID int64
	if in.VisitNumber != "" {
		enc, err := s.encs.EncounterByVisit(ctx, p, in.InstitutionID, in.VisitNumber)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("visit_number", "complaint_encounter_not_found", "no such stay in this institution")
			}
			return nil, err
		}
		patientID, encounterID = enc.PatientID, enc.ID
		if in.DepartmentID == 0 {
			in.DepartmentID = enc.DepartmentID
		}
	}
	var out *Complaint
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.register(ctx, tx, p, in, patientID, encounterID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// register stores a normalized complaint in tx: its number, event, clocks,
// alerts, receipt and audit entry, and notes possible duplicates.
func (s *Service) register(ctx context.Context, tx *sql.Tx, p *access.Principal, in Input, patientID, encounterID int64) (*Complaint, error) {
	if in.SourceRecordID != 0 {
		var err error
		if patientID, encounterID, err = s.sourceRecord(ctx, tx, &in, patientID, encounterID); err != nil {
			return nil, err
		}
	}
	depts, err := s.checkDepartments(ctx, tx, in.InstitutionID, in.DepartmentID, in.OtherDepts)
	if err != nil {
		return nil, err
	}
	if err := s.checkCategory(ctx, tx, in.InstitutionID, in.Category, ""); err != nil {
		return nil, err
	}
	if err := s.db.SerializeKey(ctx, tx, chainKey(in.InstitutionID)); err != nil {
		return nil, err
	}
	if in.IdempotencyKey != "" { // a retry answers with the first request's complaint
		var first *Complaint
		if done, err := s.replay(ctx, tx, p, &in, &first); err != nil || done {
			return first, err
		}
	}
	owner := p.UserID
	if owner == 0 { // the platform or an integration: quality owns it
		if owner, err = s.fallbackOwner(ctx, tx, in.InstitutionID, in.DepartmentID); err != nil {
			return nil, err
		}
	}
	pol, err := s.cals.Policy(ctx, in.InstitutionID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	received := now
	if !in.ReceivedAt.IsZero() {
		if in.ReceivedAt.After(now) || now.Sub(in.ReceivedAt) > 31*24*time.Hour {
			return nil, errs.Field("received_at", "bad_received_at", "the complaint was received in the last 31 days, not in the future")
		}
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	var code string
	if err := tx.QueryRowContext(ctx, `SELECT code FROM institutions WHERE id = $1`, in.InstitutionID).Scan(&code); err != nil {
		return nil, fmt.Errorf("complaint: institution: %w", err)
	}
	// Complaints are never deleted, so the day's count gives the
	// sequence (the chain lock keeps two registrations apart).
	prefix := "TS-" + code + "-" + received.In(pol.Loc).Format("20060102") + "-"
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints WHERE institution_id = $1 AND number >= $2 AND number < $3`,
		in.InstitutionID, prefix, prefix+"~").Scan(&count); err != nil {
		return nil, fmt.Errorf("complaint: number: %w", err)
	}
	c := &Complaint{InstitutionID: in.InstitutionID, Number: fmt.Sprintf("%s%04d", prefix, count+1), TrackingCode: newTrackingCode(),
		Channel: in.Channel, ComplainantName: in.ComplainantName, ComplainantRole: in.ComplainantRole, PatientID: patientID,
		EncounterID: encounterID, OccurredOn: in.OccurredOn, Location: in.Location, People: in.People, Content: in.Content,
		Asks: in.Asks, Category: in.Category, Severity: in.Severity, Complexity: in.Complexity, DepartmentID: in.DepartmentID,
		DepartmentIDs: depts, OwnerID: owner, Status: Registered, ReceivedAt: received, CreatedBy: p.UserID, CreatedAt: now,
		SourceRecordID: in.SourceRecordID}
	contactIdx := s.contactIndex(in.Contact)
	// The contact is bound to the complaint's number (unique, known before
	// the INSERT), so a contact copied onto another complaint does not open.
	sealed, err := s.keys.SealRow(in.Contact, adContact, c.Number)
	if err != nil {
		return nil, fmt.Errorf("complaint: seal contact: %w", err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO complaints (institution_id, number, tracking_code, channel, complainant_name,
		complainant_role, complainant_contact, patient_id, encounter_id, occurred_on, location, people, content, asks, category,
		severity, complexity, department_id, owner_id, status, received_at, created_by, created_at, updated_at, contact_idx,
		source_record_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$23,$24,$25) RETURNING id`,
		c.InstitutionID, c.Number, c.TrackingCode, c.Channel, c.ComplainantName, c.ComplainantRole, sealed, c.PatientID,
		c.EncounterID, c.OccurredOn, c.Location, c.People, c.Content, c.Asks, c.Category, c.Severity, c.Complexity,
		c.DepartmentID, c.OwnerID, c.Status, store.Micros(received), c.CreatedBy, store.Micros(now), contactIdx,
		c.SourceRecordID).Scan(&c.ID)
	if err != nil {
		return nil, fmt.Errorf("complaint: store: %w", err)
	}
	for _, d := range depts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_departments (complaint_id, department_id) VALUES ($1,$2)`, c.ID, d); err != nil {
			return nil, fmt.Errorf("complaint: store department: %w", err)
		}
	}
	detail := fmt.Sprintf("channel=%s category=%s severity=%s complexity=%s department=%d owner=%d", c.Channel, c.Category,
		c.Severity, c.Complexity, c.DepartmentID, c.OwnerID)
	if c.SourceRecordID != 0 {
		detail += fmt.Sprintf(" record=%d", c.SourceRecordID)
	}
	if in.IdempotencyKey != "" {
		detail += "\n" + idempotencyLine(in.IdempotencyKey, fingerprint(&in))
	}
	if err := s.appendEvent(ctx, tx, p, c, "register", "", Registered, detail); err != nil {
		return nil, err
	}
	if err := s.noteDuplicates(ctx, tx, c, contactIdx); err != nil {
		return nil, err
	}
	if err := s.refreshDue(ctx, tx, c, pol); err != nil {
		return nil, err
	}
	if c.Severity == Major {
		if err := s.alertMajor(ctx, tx, c); err != nil {
			return nil, err
		}
	}
	if !in.verifyFirst {
		if err := s.receipt(ctx, tx, c, in.Contact); err != nil {
			return nil, err
		}
	}
	e := audit.Event(p, "complaint.register", "complaint", c.Number, c.InstitutionID)
	e.Detail = detail
	if err := s.audit.Append(ctx, tx, e); err != nil {
		return nil, err
	}
	return s.get(ctx, tx, c.ID)
}

// checkDepartments checks that every department belongs to inst and
// returns them, the responsible one first, without repeats.
func (s *Service) checkDepartments(ctx context.Context, q store.Querier, inst, main int64, others []int64) ([]int64, error) {
	out := []int64{main}
	for _, d := range others {
		if d != 0 && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) > 20 {
		return nil, errs.Field("departments", "too_many_departments", "at most 20 departments")
	}
	for i, d := range out {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE id = $1 AND institution_id = $2`, d, inst).Scan(&n); err != nil {
			return nil, fmt.Errorf("complaint: department: %w", err)
		}
		if n == 0 {
			field := "departments"
			if i == 0 {
				field = "department_id"
			}
			return nil, errs.Field(field, "bad_department", "choose a department of this institution")
		}
	}
	return out, nil
}

// usersWith lists active users of inst with role r: with a department,
// those whose grant covers it (or its parent); without, those with an
// institution-wide grant (here or on the group above).
func (s *Service) usersWith(ctx context.Context, q store.Querier, inst, dept int64, r access.Role) ([]int64, error) {
	query := `SELECT DISTINCT u.id FROM users u JOIN user_roles ro ON ro.user_id = u.id AND ro.role = $1
		JOIN user_scopes sc ON sc.user_id = u.id WHERE u.active = $2 AND sc.department_id = 0
		AND (sc.institution_id = $3 OR sc.institution_id = (SELECT COALESCE(parent_id, 0) FROM institutions WHERE id = $3)) ORDER BY u.id`
	args := []any{string(r), true, inst}
	if dept != 0 {
		query = `SELECT DISTINCT u.id FROM users u JOIN user_roles ro ON ro.user_id = u.id AND ro.role = $1
			JOIN user_scopes sc ON sc.user_id = u.id WHERE u.active = $2 AND sc.institution_id = $3 AND (sc.department_id = $4
			OR sc.department_id = (SELECT COALESCE(parent_id, 0) FROM departments WHERE id = $4 AND parent_id IS NOT NULL)) ORDER BY u.id`
		args = append(args, dept)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: staff: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("complaint: staff: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// fallbackOwner owns a complaint nobody in person received: quality, else
// the department's head. A complaint is never ownerless.
func (s *Service) fallbackOwner(ctx context.Context, q store.Querier, inst, dept int64) (int64, error) {
	for _, try := range []struct {
		dept int64
		role access.Role
	}{{0, access.Quality}, {dept, access.DeptHead}, {0, access.Leadership}} {
		ids, err := s.usersWith(ctx, q, inst, try.dept, try.role)
		if err != nil {
			return 0, err
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
	}
	return 0, errs.New(errs.Conflict, "no_owner", "nobody can own this complaint: add a quality or department head account first")
}

// tell queues an in-app message to a staff user. Params carry the
// complaint number, a deadline and its page only.
func (s *Service) tell(ctx context.Context, tx *sql.Tx, c *Complaint, template, key, deadline string, user int64) error {
	if s.outbox == nil || user == 0 {
		return nil
	}
	id := strconv.FormatInt(c.ID, 10)
	params := map[string]string{"number": c.Number, "link": "/complaints/" + id}
	if template == "complaint.escalate" {
		params["deadline"] = deadline
	}
	m := notify.Message{InstitutionID: c.InstitutionID, Channel: notify.InApp, Template: template, To: strconv.FormatInt(user, 10),
		Ref: "complaint:" + id, Params: params, IdempotencyKey: fmt.Sprintf("complaint:%d:%s:%d", c.ID, key, user)}
	if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
		return fmt.Errorf("complaint: enqueue %s: %w", template, err)
	}
	return nil
}

// alertMajor tells leadership of a major (重大) complaint at once.
func (s *Service) alertMajor(ctx context.Context, tx *sql.Tx, c *Complaint) error {
	ids, err := s.usersWith(ctx, tx, c.InstitutionID, 0, access.Leadership)
	if err != nil {
		return err
	}
	for _, u := range ids {
		if err := s.tell(ctx, tx, c, "complaint.major", "major", "", u); err != nil {
			return err
		}
	}
	return s.appendEvent(ctx, tx, nil, c, "alert_leadership", c.Status, c.Status, fmt.Sprintf("users=%s", joinIDs(ids)))
}

// receipt sends the complainant a receipt with the tracking code when the
// contact is a mobile number or an e-mail address.
func (s *Service) receipt(ctx context.Context, tx *sql.Tx, c *Complaint, contact string) error {
	if s.outbox == nil {
		return nil
	}
	ch := ""
	switch {
	case isMobile(contact):
		ch, contact = notify.SMS, digitsOnly(contact)
	case strings.Count(contact, "@") == 1 && !strings.ContainsAny(contact, " \t"):
		ch = notify.Email
	default:
		return nil
	}
	var hospital string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, c.InstitutionID).Scan(&hospital); err != nil {
		return fmt.Errorf("complaint: institution: %w", err)
	}
	days := "5"
	if sla, err := s.policyFor(ctx, tx, c); err == nil && sla != nil {
		if t, ok := sla.Target(MFeedback); ok {
			days = strconv.Itoa(t.N)
			if c.MultiDept() && t.MultiN > 0 {
				days = strconv.Itoa(t.MultiN)
			}
		}
	}
	m := notify.Message{InstitutionID: c.InstitutionID, Channel: ch, Template: "complaint.received", To: contact, Patient: true,
		Ref: "complaint:" + strconv.FormatInt(c.ID, 10), IdempotencyKey: fmt.Sprintf("complaint:%d:received", c.ID),
		Params: map[string]string{"hospital": hospital, "number": c.TrackingCode, "days": days}}
	if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
		// A refused receipt (the guard) must not lose the complaint.
		s.log.Warn("complaint receipt not queued", "complaint", c.Number, "err", err)
	}
	return nil
}

func isMobile(s string) bool {
	d := digitsOnly(s)
	return len(d) == 11 && d[0] == '1' && len(strings.Trim(s, "0123456789 -+")) == 0
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
