package complaint

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/notice"
	"suifang/internal/notify"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Statuses of a complaint, in flow order.
const (
	Registered    = "registered"     // 已登记
	Accepted      = "accepted"       // 已受理
	Assessed      = "assessed"       // 已评估
	Investigating = "investigating"  // 调查中
	PlanDrafted   = "plan_drafted"   // 方案待审批
	Approved      = "approved"       // 方案已批准
	FeedbackGiven = "feedback_given" // 已反馈
	Satisfaction  = "satisfaction"   // 已评价
	Rectification = "rectification"  // 整改中
	Revisit       = "revisit"        // 已回访
	Archived      = "archived"       // 已归档
	// Merged is outside the flow: a duplicate merged into its primary
	// (已合并) stops its clocks and leaves the open lists.
	Merged = "merged"
)

// Statuses lists the statuses in flow order.
func Statuses() []string {
	return []string{Registered, Accepted, Assessed, Investigating, PlanDrafted, Approved, FeedbackGiven, Satisfaction,
		Rectification, Revisit, Archived}
}

// Channels a complaint arrives by.
var channels = []string{"counter", "phone", "email", "website", "suggestion_box", "wechat", "followup_call"}

// Channels lists the channels in form order.
func Channels() []string { return slices.Clone(channels) }

// Categories: 医疗质量, 服务态度, 环境卫生, 费用, 流程, 医德医风, 其他.
var categories = []string{"medical_quality", "service_attitude", "environment", "fees", "process", "ethics", "other"}

// Categories lists the categories in form order.
func Categories() []string { return slices.Clone(categories) }

// Severities: 一般, 较重, 重大.
const (
	General = "general"
	Serious = "serious"
	Major   = "major"
)

// Severities lists the severities, mildest first.
func Severities() []string { return []string{General, Serious, Major} }

// Complainant roles.
var complainantRoles = []string{"patient", "relative", "other"}

// ComplainantRoles lists who may complain.
func ComplainantRoles() []string { return slices.Clone(complainantRoles) }

// Pause reasons.
const (
	WaitComplainant = "complainant" // 等待投诉人
	WaitThirdParty  = "third_party" // 等待第三方
)

// Satisfaction grades of the complainant with the outcome.
var grades = []string{"satisfied", "basic", "dissatisfied"}

// Grades lists the satisfaction grades.
func Grades() []string { return slices.Clone(grades) }

// noticeTopic maps a complaint category to the notice room's topics.
var noticeTopic = map[string]string{"medical_quality": "doctors", "service_attitude": "nurses", "environment": "environment",
	"fees": "fees", "process": "process", "ethics": "ethics", "other": "other"}

// Outbox queues a notification in the caller's transaction; the notify
// room's service satisfies it.
type Outbox interface {
	Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Notices raises a rectification notice in the caller's transaction; the
// notice room's service satisfies it.
type Notices interface {
	Raise(ctx context.Context, tx *sql.Tx, in notice.RaiseInput) (*notice.Notice, error)
}

// Calendars gives an institution's working-day calendar, service hours
// and time zone; caldb.Service satisfies it.
type Calendars interface {
	Policy(ctx context.Context, inst int64) (calendar.Policy, error)
}

// Encounters finds a stay by its visit number within p's scope;
// patient.Service satisfies it.
type Encounters interface {
	EncounterByVisit(ctx context.Context, p *access.Principal, inst int64, visit string) (*patient.Encounter, error)
}

// Complaint is one complaint.
type Complaint struct {
	ID                 int64
	InstitutionID      int64
	Number             string
	TrackingCode       string
	Channel            string
	ComplainantName    string
	ComplainantRole    string
	ContactMasked      string // the sealed contact, masked for display
	PatientID          int64
	EncounterID        int64
	OccurredOn         string
	Location           string
	People             string
	Content            string
	Asks               string
	Category           string
	Severity           string
	Complexity         string
	DepartmentID       int64
	DepartmentIDs      []int64 // every department involved, the responsible one included
	OwnerID            int64
	Status             string
	ReceivedAt         time.Time
	Paused             bool
	AcceptedAt         time.Time
	AssessedAt         time.Time
	PlanAt             time.Time
	FeedbackAt         time.Time
	ClosedAt           time.Time
	RectifiedAt        time.Time
	ArchivedAt         time.Time
	Plan, Compensation string
	ReturnReason       string
	FeedbackHow        string
	Feedback           string
	Satisfaction       string
	NoticeID           int64
	Escalation         int  // highest level reached: 1 owner's head, 2 quality, 3 leadership
	Accountability     bool // 责任倒查: no feedback within the feedback milestone
	CreatedBy          int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
	MergedInto         int64 // the primary this duplicate was merged into
	SourceRecordID     int64 // the follow-up record it was raised from
	Pauses             []Pause
	MemberIDs          []int64 // users on the investigation team now; they may see the complaint
	// Joined for lists and pages.
	DeptName  string
	OwnerName string
	// Replayed: Register returned the complaint an earlier request with the
	// same idempotency key made.
	Replayed bool
}

// Pause is one wait on the complainant or a third party; a zero To is
// still open.
type Pause struct {
	Reason   string
	From, To time.Time
}

// Clock is the complaint's SLA clock: started on receipt, stopped while
// waiting.
func (c *Complaint) Clock() calendar.Clock {
	cl := calendar.Clock{Started: c.ReceivedAt}
	for _, p := range c.Pauses {
		cl.Pauses = append(cl.Pauses, calendar.Interval{From: p.From, To: p.To})
	}
	return cl
}

// MultiDept reports whether several departments are involved.
func (c *Complaint) MultiDept() bool { return len(c.DepartmentIDs) > 1 }

// MetAt is when milestone m was met (zero: not yet).
func (c *Complaint) MetAt(m string) time.Time {
	switch m {
	case MAccepted:
		return c.AcceptedAt
	case MAssessed:
		return c.AssessedAt
	case MPlan:
		return c.PlanAt
	case MAnswerSimple, MFeedback, MAnswerComplex:
		return c.FeedbackAt
	case MClosed:
		return c.ClosedAt
	case MRectified:
		return c.RectifiedAt
	}
	return time.Time{}
}

// Clock is one milestone of one complaint as the lists and pages show it.
type Clock struct {
	Milestone string
	Deadline  Deadline
	MetAt     time.Time
	Colour    string
}

// Clocks computes every milestone of c's policy at now.
func Clocks(pol calendar.Policy, sla *SLAPolicy, c *Complaint, now time.Time) []Clock {
	if sla == nil {
		return nil
	}
	cl := c.Clock()
	out := make([]Clock, 0, len(sla.Targets))
	for _, t := range sla.Targets {
		d := Due(pol, cl, t, c.MultiDept())
		met := c.MetAt(t.Milestone)
		if !met.IsZero() && d.Paused {
			// Met before the current wait: measure it against the clock as
			// it stood then.
			d = Due(pol, clockUntil(cl, met), t, c.MultiDept())
		}
		colour := Colour(pol, cl, d, now, met)
		if met.IsZero() && (c.Status == Archived || c.Status == Merged) {
			colour = Met // an archived complaint owes nothing more
		}
		out = append(out, Clock{Milestone: t.Milestone, Deadline: d, MetAt: met, Colour: colour})
	}
	return out
}

// clockUntil drops the pauses that began after t.
func clockUntil(c calendar.Clock, t time.Time) calendar.Clock {
	out := calendar.Clock{Started: c.Started}
	for _, p := range c.Pauses {
		if p.From.Before(t) {
			out.Pauses = append(out.Pauses, p)
		}
	}
	return out
}

// Worst is the colour a list shows for a complaint: red before amber before
// paused before green.
func Worst(cs []Clock) string {
	rank := map[string]int{Red: 4, Amber: 3, Paused: 2, Green: 1}
	best := ""
	for _, c := range cs {
		if rank[c.Colour] > rank[best] {
			best = c.Colour
		}
	}
	if best == "" {
		return Met
	}
	return best
}

// Service is the door to complaints.
type Service struct {
	db      *store.DB
	audit   *audit.Service
	cals    Calendars
	keys    *pii.Keyring
	encs    Encounters
	notices Notices
	outbox  Outbox
	now     func() time.Time
	log     *slog.Logger
	intake  IntakeOptions
	// revealCap counts a contact reveal under the patient room's cap per
	// user (core wires patient.CountReveal); nil: no cap.
	revealCap func(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (refusal, err error)
}

// SetRevealCap sets how contact reveals are counted against the per-user
// cap on full values.
func (s *Service) SetRevealCap(f func(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (refusal, err error)) {
	s.revealCap = f
}

// New returns the complaint service. outbox and notices may be nil:
// notifications are then skipped and rectification raises no notice.
func New(db *store.DB, au *audit.Service, cals Calendars, keys *pii.Keyring, encs Encounters, notices Notices, outbox Outbox,
	now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, cals: cals, keys: keys, encs: encs, notices: notices, outbox: outbox, now: now, log: log,
		intake: IntakeOptions{}.withDefaults()}
}

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

const complaintCols = `c.id, c.institution_id, c.number, c.tracking_code, c.channel, c.complainant_name, c.complainant_role,
	c.complainant_contact, c.patient_id, c.encounter_id, c.occurred_on, c.location, c.people, c.content, c.asks, c.category,
	c.severity, c.complexity, c.department_id, c.owner_id, c.status, c.received_at, c.paused, c.accepted_at, c.assessed_at,
	c.plan_at, c.feedback_at, c.closed_at, c.rectified_at, c.archived_at, c.plan, c.compensation, c.return_reason,
	c.feedback_how, c.feedback, c.satisfaction, c.notice_id, c.escalation, c.accountability, c.created_by, c.created_at,
	c.updated_at, c.merged_into, c.source_record_id, COALESCE(d.name, ''), COALESCE(u.display_name, '')`

const complaintFrom = ` FROM complaints c LEFT JOIN departments d ON d.id = c.department_id LEFT JOIN users u ON u.id = c.owner_id`

func (s *Service) scan(sc interface{ Scan(...any) error }) (*Complaint, error) {
	c := &Complaint{}
	var contact string
	var rec, acc, ass, plan, fb, closed, rect, arch, created, updated int64
	if err := sc.Scan(&c.ID, &c.InstitutionID, &c.Number, &c.TrackingCode, &c.Channel, &c.ComplainantName, &c.ComplainantRole,
		&contact, &c.PatientID, &c.EncounterID, &c.OccurredOn, &c.Location, &c.People, &c.Content, &c.Asks, &c.Category,
		&c.Severity, &c.Complexity, &c.DepartmentID, &c.OwnerID, &c.Status, &rec, &c.Paused, &acc, &ass, &plan, &fb, &closed,
		&rect, &arch, &c.Plan, &c.Compensation, &c.ReturnReason, &c.FeedbackHow, &c.Feedback, &c.Satisfaction, &c.NoticeID,
		&c.Escalation, &c.Accountability, &c.CreatedBy, &created, &updated, &c.MergedInto, &c.SourceRecordID, &c.DeptName,
		&c.OwnerName); err != nil {
		return nil, err
	}
	c.ReceivedAt, c.AcceptedAt, c.AssessedAt, c.PlanAt = store.Time(rec), store.Time(acc), store.Time(ass), store.Time(plan)
	c.FeedbackAt, c.ClosedAt, c.RectifiedAt, c.ArchivedAt = store.Time(fb), store.Time(closed), store.Time(rect), store.Time(arch)
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	if contact != "" {
		plain, err := s.keys.OpenRow(contact, adContact, c.Number)
		if err != nil {
			return nil, fmt.Errorf("complaint: open contact: %w", err)
		}
		c.ContactMasked = MaskContact(plain)
	}
	return c, nil
}

// MaskContact masks a phone number digit by digit and an e-mail address's
// local part.
func MaskContact(s string) string {
	if local, domain, ok := strings.Cut(s, "@"); ok {
		r := []rune(local)
		if len(r) > 1 {
			return string(r[:1]) + "***@" + domain
		}
		return "***@" + domain
	}
	return pii.MaskPhone(s)
}

// get reads one complaint with its departments and pauses.
func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Complaint, error) {
	c, err := s.scan(q.QueryRowContext(ctx, `SELECT `+complaintCols+complaintFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "complaint_not_found", "no such complaint")
	}
	if err != nil {
		return nil, fmt.Errorf("complaint: read: %w", err)
	}
	if err := s.details(ctx, q, []*Complaint{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// details loads the departments and pauses of cs.
func (s *Service) details(ctx context.Context, q store.Querier, cs []*Complaint) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*Complaint, len(cs))
	ph := make([]string, 0, len(cs))
	args := make([]any, 0, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
		c.DepartmentIDs, c.Pauses, c.MemberIDs = nil, nil, nil
		args = append(args, c.ID)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	in := "(" + strings.Join(ph, ",") + ")"
	rows, err := q.QueryContext(ctx, `SELECT complaint_id, department_id FROM complaint_departments WHERE complaint_id IN `+in, args...)
	if err != nil {
		return fmt.Errorf("complaint: departments: %w", err)
	}
	for rows.Next() {
		var cid, d int64
		if err := rows.Scan(&cid, &d); err != nil {
			rows.Close()
			return fmt.Errorf("complaint: departments: %w", err)
		}
		byID[cid].DepartmentIDs = append(byID[cid].DepartmentIDs, d)
	}
	rows.Close()
	for _, c := range cs {
		// The responsible department first.
		slices.SortFunc(c.DepartmentIDs, func(a, b int64) int {
			switch {
			case a == c.DepartmentID:
				return -1
			case b == c.DepartmentID:
				return 1
			}
			return int(a - b)
		})
	}
	rows, err = q.QueryContext(ctx, `SELECT complaint_id, user_id FROM complaint_members WHERE removed_at = 0 AND complaint_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return fmt.Errorf("complaint: members: %w", err)
	}
	for rows.Next() {
		var cid, u int64
		if err := rows.Scan(&cid, &u); err != nil {
			rows.Close()
			return fmt.Errorf("complaint: members: %w", err)
		}
		byID[cid].MemberIDs = append(byID[cid].MemberIDs, u)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT complaint_id, reason, from_at, to_at FROM complaint_pauses WHERE complaint_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return fmt.Errorf("complaint: pauses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, from, to int64
		var p Pause
		if err := rows.Scan(&cid, &p.Reason, &from, &to); err != nil {
			return fmt.Errorf("complaint: pauses: %w", err)
		}
		p.From, p.To = store.Time(from), store.Time(to)
		byID[cid].Pauses = append(byID[cid].Pauses, p)
	}
	return rows.Err()
}

// canSee reports whether p may read c: institution-wide scope, any
// involved department's scope, its owner, or a member of its
// investigation team. An outside agency sees only what it owns or was
// put on: the hospital's complaints are not its business.
func canSee(p *access.Principal, c *Complaint) bool {
	if p == nil {
		return false
	}
	if p.Agency() {
		return (p.UserID != 0 && p.UserID == c.OwnerID) || member(p, c)
	}
	if p.SeesInstitution(c.InstitutionID) || (p.UserID != 0 && p.UserID == c.OwnerID) || member(p, c) {
		return true
	}
	for _, d := range c.DepartmentIDs {
		if p.SeesDepartment(c.InstitutionID, d) {
			return true
		}
	}
	return false
}

// Get returns one complaint p may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (*Complaint, error) {
	c, err := s.get(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, c) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this complaint is outside your data scope")
	}
	return c, nil
}

// RevealContact returns the complainant's full contact to someone who may
// see the complaint, and audits it.
func (s *Service) RevealContact(ctx context.Context, p *access.Principal, id int64) (string, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return "", err
	}
	var sealed string
	if err := s.db.R().QueryRowContext(ctx, `SELECT complainant_contact FROM complaints WHERE id = $1`, id).Scan(&sealed); err != nil {
		return "", fmt.Errorf("complaint: contact: %w", err)
	}
	plain, err := s.keys.OpenRow(sealed, adContact, c.Number)
	if err != nil {
		return "", fmt.Errorf("complaint: open contact: %w", err)
	}
	var refused error
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		e := audit.Event(p, "complaint.reveal_contact", "complaint", c.Number, c.InstitutionID)
		if s.revealCap != nil {
			var err error
			if refused, err = s.revealCap(ctx, tx, p, c.InstitutionID); err != nil {
				return err
			}
			if refused != nil {
				e.Success, e.Detail = false, "refused=reveal_limit"
			}
		}
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	if refused != nil {
		return "", refused
	}
	return plain, nil
}

// Policies returns inst's SLA policies: its own, or the defaults when it
// has none.
func (s *Service) policies(ctx context.Context, q store.Querier, inst int64) ([]*SLAPolicy, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, category, severity, complexity, targets FROM complaint_policies
		WHERE institution_id = $1 ORDER BY id`, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: policies: %w", err)
	}
	defer rows.Close()
	var out []*SLAPolicy
	for rows.Next() {
		p := &SLAPolicy{}
		var targets string
		if err := rows.Scan(&p.ID, &p.Name, &p.Category, &p.Severity, &p.Complexity, &targets); err != nil {
			return nil, fmt.Errorf("complaint: policies: %w", err)
		}
		if p.Targets, err = ParseTargets(targets); err != nil {
			return nil, fmt.Errorf("complaint: stored policy %q: %w", p.Name, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return DefaultPolicies(), nil
	}
	return out, nil
}

// policyFor chooses c's SLA policy; the defaults answer when none of the
// institution's policies matches.
func (s *Service) policyFor(ctx context.Context, q store.Querier, c *Complaint) (*SLAPolicy, error) {
	pols, err := s.policies(ctx, q, c.InstitutionID)
	if err != nil {
		return nil, err
	}
	return choose(pols, c), nil
}

func choose(pols []*SLAPolicy, c *Complaint) *SLAPolicy {
	if p := ChoosePolicy(pols, c.Category, c.Severity, c.Complexity); p != nil {
		return p
	}
	return ChoosePolicy(DefaultPolicies(), c.Category, c.Severity, c.Complexity)
}

// View is a complaint with its clocks, as the page and the API show it.
type View struct {
	*Complaint
	Policy *SLAPolicy
	Clocks []Clock
	Colour string // the worst clock
}

// view computes c's clocks now.
func (s *Service) view(ctx context.Context, c *Complaint) (*View, error) {
	pol, err := s.cals.Policy(ctx, c.InstitutionID)
	if err != nil {
		return nil, err
	}
	sla, err := s.policyFor(ctx, s.db.R(), c)
	if err != nil {
		return nil, err
	}
	v := &View{Complaint: c, Policy: sla, Clocks: Clocks(pol, sla, c, s.now())}
	v.Colour = Worst(v.Clocks)
	return v, nil
}

// Page returns complaint id with its clocks.
func (s *Service) Page(ctx context.Context, p *access.Principal, id int64) (*View, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, c)
}

// refreshDue stores the earliest deadline of c's milestones neither met
// nor escalated yet, which the escalation worker reads (0: none, or the
// clock is paused). c must be as stored.
func (s *Service) refreshDue(ctx context.Context, tx *sql.Tx, c *Complaint, pol calendar.Policy) error {
	next, err := s.nextDue(ctx, tx, c, pol)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE complaints SET next_due = $1 WHERE id = $2`, next, c.ID); err != nil {
		return fmt.Errorf("complaint: next due: %w", err)
	}
	return nil
}

func (s *Service) nextDue(ctx context.Context, tx *sql.Tx, c *Complaint, pol calendar.Policy) (int64, error) {
	if c.Status == Archived || c.Status == Merged || c.Paused {
		return 0, nil
	}
	sla, err := s.policyFor(ctx, tx, c)
	if err != nil {
		return 0, err
	}
	done, err := s.escalated(ctx, tx, c.ID)
	if err != nil {
		return 0, err
	}
	return nextDueOf(pol, sla, c, done), nil
}

// nextDueOf is the earliest deadline (micros) among c's milestones that are
// neither met nor escalated; 0 when there is none or the clock is paused.
func nextDueOf(pol calendar.Policy, sla *SLAPolicy, c *Complaint, escalated []string) int64 {
	if c.Status == Archived || c.Status == Merged || c.Paused {
		return 0
	}
	var next time.Time
	cl := c.Clock()
	for _, t := range sla.Targets {
		if !c.MetAt(t.Milestone).IsZero() || slices.Contains(escalated, t.Milestone) {
			continue
		}
		d := Due(pol, cl, t, c.MultiDept())
		if !d.Paused && (next.IsZero() || d.At.Before(next)) {
			next = d.At
		}
	}
	if next.IsZero() {
		return 0
	}
	return store.Micros(next)
}

// escalated lists the milestones of complaint id already escalated.
func (s *Service) escalated(ctx context.Context, q store.Querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT milestone FROM complaint_escalations WHERE complaint_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint: escalations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
