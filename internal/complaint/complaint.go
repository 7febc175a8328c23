package complaint

import (
	"context"
	"database/sql"
	"log/slog"
	"slices"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/kpi"
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
	targets kpi.TargetReader
	// revealCap counts a contact reveal under the patient room's cap per
	// user (core wires patient.CountReveal); nil: no cap.
	revealCap func(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (refusal, err error)
}

// SetRevealCap sets how contact reveals are counted against the per-user
// cap on full values.
func (s *Service) SetRevealCap(f func(ctx context.Context, tx *sql.Tx, p *access.Principal, inst int64) (refusal, err error)) {
	s.revealCap = f
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB         *store.DB        // the database
	Audit      *audit.Service   // the audit log, written in the callers' transactions
	Calendars  Calendars        // each institution's working-day calendar
	Keys       *pii.Keyring     // patient-data keys
	Encounters Encounters       // stays, read through the patient room's scope check
	Notices    Notices          // the notice room, for rectification steps
	Outbox     Outbox           // where messages are queued
	Now        func() time.Time // the clock (time.Now in production)
	Log        *slog.Logger     // nil: discard
	Targets    kpi.TargetReader // the institution's KPI targets; nil: the defaults
}

// New returns the complaint service. outbox and notices may be nil:
// notifications are then skipped and rectification raises no notice.
func New(d Deps) *Service {
	db, au, cals, keys, encs, notices, outbox, now, log := d.DB, d.Audit, d.Calendars, d.Keys, d.Encounters, d.Notices, d.Outbox, d.Now, d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, cals: cals, keys: keys, encs: encs, notices: notices, outbox: outbox, now: now, log: log,
		intake: IntakeOptions{}.withDefaults(), targets: d.Targets}
}
