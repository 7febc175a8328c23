// Package notice is the closing of the loop (闭环): a notice (抄告单) carries
// a patient's 不满意, a negative opinion, an agent's flag, a complaint or a
// hand-written finding to the responsible department, which names the root
// cause and the rectification (整改) before a deadline in working days. The
// quality department verifies or returns it and closes it; overdue notices
// escalate to the department head and then to quality. Every step is an
// append-only, hash-chained event.
package notice

import (
	"context"
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
	"suifang/internal/notify"
	"suifang/internal/store"
)

// Statuses of a notice, in flow order.
const (
	Issued     = "issued"     // 已下发
	Accepted   = "accepted"   // 已签收
	Rectifying = "rectifying" // 整改中
	Submitted  = "submitted"  // 已提交整改
	Verified   = "verified"   // 已验证
	Returned   = "returned"   // 已退回
	Closed     = "closed"     // 已关闭
)

// Statuses lists the statuses in flow order.
func Statuses() []string {
	return []string{Issued, Accepted, Rectifying, Submitted, Returned, Verified, Closed}
}

// openForDept are the statuses in which the department still owes work;
// only these can be overdue.
var openForDept = []string{Issued, Accepted, Rectifying, Returned}

// Source kinds: where a notice came from.
const (
	FromSurvey    = "survey_answer"
	FromRecord    = "followup_record"
	FromAgentFlag = "agent_flag"
	FromManual    = "manual"
	FromComplaint = "complaint"
)

// SourceKinds lists the source kinds.
func SourceKinds() []string {
	return []string{FromSurvey, FromRecord, FromAgentFlag, FromManual, FromComplaint}
}

// Topics: the item the patient's answer was about.
var topics = []string{"doctors", "nurses", "medtech", "environment", "meals", "fees", "process", "ethics", "other"}

// Topics lists the topics in display order.
func Topics() []string { return slices.Clone(topics) }

// Outbox queues a notification in the caller's transaction; the notify
// room's service satisfies it.
type Outbox interface {
	Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Calendars gives an institution's working-day calendar, service hours
// and time zone; caldb.Service satisfies it.
type Calendars interface {
	Policy(ctx context.Context, inst int64) (calendar.Policy, error)
}

// Notice is one 抄告单.
type Notice struct {
	ID             int64
	InstitutionID  int64
	Number         string
	SourceKind     string
	SourceRef      string
	PatientID      int64
	EncounterID    int64
	Topic          string
	Summary        string
	DepartmentID   int64
	OwnerID        int64
	Status         string
	IssuedOn       calendar.Date
	Deadline       calendar.Date
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SubmittedAt    time.Time
	ClosedAt       time.Time
	RootCause      string
	ActionTaken    string
	ReturnReason   string
	Escalation     int // 0 none, 1 department head, 2 quality
	SendRecovery   bool
	RecoveryResult string // the recovery survey's satisfaction; "" until answered
	RecoveryScore  int    // its score, -1 when none
	RecoveryAt     time.Time
	// Joined for lists and pages.
	DeptName    string
	OwnerName   string
	PatientName string // unmasked: adapters mask it
}

// Overdue reports whether the department still owes work past the deadline
// on day today.
func (n *Notice) Overdue(today calendar.Date) bool {
	return slices.Contains(openForDept, n.Status) && n.Deadline.Before(today)
}

// Service is the door to notices.
type Service struct {
	db     *store.DB
	audit  *audit.Service
	cals   Calendars
	outbox Outbox
	now    func() time.Time
	log    *slog.Logger
	// OnClosed runs in the closing transaction when the closer asked for a
	// recovery survey; core wires it to the survey room. Nil: none is sent.
	OnClosed func(ctx context.Context, tx *sql.Tx, n *Notice) error
	// QualityOffice finds (or makes) the institution's quality office in
	// the caller's transaction: where a notice goes when no rule finds
	// its department. core wires it to the org room. Nil: such a notice
	// is refused (no_department).
	QualityOffice func(ctx context.Context, tx *sql.Tx, inst int64) (int64, error)
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB        *store.DB        // the database
	Audit     *audit.Service   // the audit log, written in the callers' transactions
	Calendars Calendars        // each institution's working-day calendar
	Outbox    Outbox           // where messages are queued
	Now       func() time.Time // the clock (time.Now in production)
	Log       *slog.Logger     // nil: discard
}

// New returns the notice service. outbox may be nil: notifications are
// then skipped.
func New(d Deps) *Service {
	db, au, cals, outbox, now, log := d.DB, d.Audit, d.Calendars, d.Outbox, d.Now, d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, cals: cals, outbox: outbox, now: now, log: log}
}

// SetOutbox plugs in the outbox once it exists (core builds rooms in order).
func (s *Service) SetOutbox(o Outbox) { s.outbox = o }

// RaiseInput is what any room hands over to raise a notice.
type RaiseInput struct {
	InstitutionID int64
	SourceKind    string // survey_answer, followup_record, agent_flag, manual, complaint
	// SourceRef names the source object ("followup_record:42"); a second
	// Raise with the same institution, kind and ref returns the first notice.
	SourceRef   string
	PatientID   int64 // 0 when unknown
	EncounterID int64 // 0 when unknown; routing by ward/department needs it
	Topic       string
	Summary     string
	// DepartmentID, when known, skips the routing rules.
	DepartmentID int64
	// FallbackDepartmentID is used when neither DepartmentID nor a rule
	// gives a department (e.g. the follow-up task's department).
	FallbackDepartmentID int64
	// By is who raised it; nil is the platform itself.
	By *access.Principal
}

const maxSummary = 5000 // a follow-up opinion (4000) and its record number fit

func (in *RaiseInput) validate() error {
	in.Summary = strings.TrimSpace(in.Summary)
	in.SourceRef = strings.TrimSpace(in.SourceRef)
	if in.Topic == "" {
		in.Topic = "other"
	}
	if in.InstitutionID <= 0 {
		return errs.Field("institution_id", "bad_institution", "choose an institution")
	}
	if !slices.Contains(SourceKinds(), in.SourceKind) {
		return errs.Field("source_kind", "bad_source_kind", "source must be survey_answer, followup_record, agent_flag, manual or complaint")
	}
	if !slices.Contains(topics, in.Topic) {
		return errs.Field("topic", "bad_topic", "choose what the notice is about")
	}
	if in.Summary == "" || utf8.RuneCountInString(in.Summary) > maxSummary {
		return errs.Field("summary", "bad_summary", "describe the problem (at most 5000 characters)")
	}
	if len(in.SourceRef) > 200 {
		return errs.Field("source_ref", "bad_source_ref", "the source reference may have at most 200 characters")
	}
	return nil
}

// chainKey is the advisory lock of institution inst's notice numbering and
// event chain.
func chainKey(inst int64) int64 { return 0x4347_0000_0000_0000 + inst }

// Raise creates a notice inside the caller's transaction (a follow-up
// record, a survey answer, a complaint): it routes it to a department,
// gives it an owner and a deadline, numbers it, records the first event
// and tells the owner. The caller has checked its own scope.
func (s *Service) Raise(ctx context.Context, tx *sql.Tx, in RaiseInput) (*Notice, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	by := in.By
	if by == nil {
		by = access.System()
	}
	if err := s.db.SerializeKey(ctx, tx, chainKey(in.InstitutionID)); err != nil {
		return nil, err
	}
	if in.SourceRef != "" {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM notices WHERE institution_id = $1 AND source_kind = $2 AND source_ref = $3`,
			in.InstitutionID, in.SourceKind, in.SourceRef).Scan(&id)
		if err == nil {
			return s.get(ctx, tx, id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("notice: find source: %w", err)
		}
	}
	dept, unrouted, err := s.route(ctx, tx, in)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, tx, in.InstitutionID)
	if err != nil {
		return nil, err
	}
	pol, err := s.cals.Policy(ctx, in.InstitutionID)
	if err != nil {
		return nil, err
	}
	owner, err := s.defaultOwner(ctx, tx, in.InstitutionID, dept, by.UserID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	local := now.In(pol.Loc)
	today := calendar.DateOf(local)
	n := &Notice{InstitutionID: in.InstitutionID, SourceKind: in.SourceKind, SourceRef: in.SourceRef, PatientID: in.PatientID,
		EncounterID: in.EncounterID, Topic: in.Topic, Summary: in.Summary, DepartmentID: dept, OwnerID: owner, Status: Issued,
		IssuedOn: today, Deadline: pol.Cal.AddWorkingDays(today, set.DeadlineDays), CreatedBy: by.UserID, CreatedAt: now, UpdatedAt: now,
		RecoveryScore: -1}
	var code string
	if err := tx.QueryRowContext(ctx, `SELECT code FROM institutions WHERE id = $1`, in.InstitutionID).Scan(&code); err != nil {
		return nil, fmt.Errorf("notice: institution: %w", err)
	}
	// Notices are never deleted, so the month's count gives the sequence
	// (counting stays right past 9999, where text order would not).
	prefix := "CG-" + code + "-" + local.Format("200601") + "-"
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notices WHERE institution_id = $1 AND number >= $2 AND number < $3`,
		in.InstitutionID, prefix, prefix+"~").Scan(&count); err != nil {
		return nil, fmt.Errorf("notice: number: %w", err)
	}
	n.Number = fmt.Sprintf("%s%04d", prefix, count+1)
	err = tx.QueryRowContext(ctx, `INSERT INTO notices (institution_id, number, source_kind, source_ref, patient_id, encounter_id, topic,
		summary, department_id, owner_id, status, issued_on, deadline, created_by, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$15) RETURNING id`,
		n.InstitutionID, n.Number, n.SourceKind, n.SourceRef, n.PatientID, n.EncounterID, n.Topic, n.Summary, n.DepartmentID,
		n.OwnerID, n.Status, n.IssuedOn.String(), n.Deadline.String(), n.CreatedBy, store.Micros(now)).Scan(&n.ID)
	if err != nil {
		return nil, fmt.Errorf("notice: store: %w", err)
	}
	detail := fmt.Sprintf("source=%s %s topic=%s department=%d owner=%d deadline=%s", n.SourceKind, n.SourceRef, n.Topic,
		n.DepartmentID, n.OwnerID, n.Deadline)
	if err := s.appendEvent(ctx, tx, by, n, "raise", "", Issued, detail); err != nil {
		return nil, err
	}
	if err := s.tell(ctx, tx, n, "notice.issued", "issued", n.OwnerID); err != nil {
		return nil, err
	}
	if unrouted {
		// The quality office holds it; an administrator puts it right
		// (the stay's department, a routing rule) and reassigns it.
		admins, err := s.admins(ctx, tx, n.InstitutionID)
		if err != nil {
			return nil, err
		}
		for _, a := range admins {
			if err := s.tell(ctx, tx, n, "notice.unrouted", "unrouted", a); err != nil {
				return nil, err
			}
		}
	}
	e := audit.Event(by, "notice.raise", "notice", n.Number, n.InstitutionID)
	e.Detail = detail
	if err := s.audit.Append(ctx, tx, e); err != nil {
		return nil, err
	}
	return s.get(ctx, tx, n.ID) // with the department's and the owner's names
}

// RaiseByHand raises a notice from the form or the API. Anyone who works
// with patients' feedback in the institution may; someone with only
// department scope raises for their own departments.
func (s *Service) RaiseByHand(ctx context.Context, p *access.Principal, in RaiseInput) (*Notice, error) {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse, access.Doctor,
		access.Leadership, access.Integration) {
		return nil, errs.New(errs.Forbidden, "notice_raise_forbidden", "your role may not raise notices")
	}
	if !p.TouchesInstitution(in.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	if in.SourceKind == "" {
		in.SourceKind = FromManual
	}
	if in.DepartmentID == 0 && in.EncounterID == 0 {
		return nil, errs.Field("department_id", "missing_department", "choose the department, or give the stay so the rules can choose")
	}
	if in.DepartmentID != 0 && !p.SeesDepartment(in.InstitutionID, in.DepartmentID) && !p.SeesInstitution(in.InstitutionID) {
		return nil, errs.Field("department_id", "out_of_scope", "this department is outside your data scope")
	}
	in.By = p
	var n *Notice
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if in.EncounterID != 0 {
			var inst, pat int64
			err := tx.QueryRowContext(ctx, `SELECT institution_id, patient_id FROM encounters WHERE id = $1`, in.EncounterID).Scan(&inst, &pat)
			if errors.Is(err, sql.ErrNoRows) || err == nil && inst != in.InstitutionID {
				return errs.Field("visit_number", "notice_encounter_not_found", "no such stay in this institution")
			}
			if err != nil {
				return fmt.Errorf("notice: encounter: %w", err)
			}
			in.PatientID = pat
		}
		n, err = s.Raise(ctx, tx, in)
		if err != nil {
			return err
		}
		if !p.SeesInstitution(n.InstitutionID) && !p.SeesDepartment(n.InstitutionID, n.DepartmentID) {
			// The rules sent it elsewhere: someone with department scope
			// may only raise for their own departments.
			return errs.Field("department_id", "out_of_scope", "the rules send this notice to a department outside your data scope; choose yours")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// tell queues an in-app notification to a staff user. Params carry the
// notice number, the deadline and its page only — never a diagnosis, a
// patient identifier or the department (a specialty's name can say too much).
func (s *Service) tell(ctx context.Context, tx *sql.Tx, n *Notice, template, key string, user int64) error {
	if s.outbox == nil || user == 0 {
		return nil
	}
	m := notify.Message{InstitutionID: n.InstitutionID, Channel: notify.InApp, Template: template,
		To: strconv.FormatInt(user, 10), Ref: "notice:" + strconv.FormatInt(n.ID, 10),
		Params: map[string]string{"number": n.Number, "deadline": n.Deadline.String(),
			"link": "/notices/" + strconv.FormatInt(n.ID, 10)},
		IdempotencyKey: fmt.Sprintf("notice:%d:%s:%d", n.ID, key, user)}
	if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
		return fmt.Errorf("notice: enqueue %s: %w", template, err)
	}
	return nil
}

const noticeCols = `n.id, n.institution_id, n.number, n.source_kind, n.source_ref, n.patient_id, n.encounter_id, n.topic, n.summary,
	n.department_id, n.owner_id, n.status, n.issued_on, n.deadline, n.created_by, n.created_at, n.updated_at, n.submitted_at,
	n.closed_at, n.root_cause, n.action_taken, n.return_reason, n.escalation, n.send_recovery, n.recovery_result, n.recovery_score,
	n.recovery_at, COALESCE(d.name, ''), COALESCE(u.display_name, ''), COALESCE(p.name, '')`

const noticeFrom = ` FROM notices n LEFT JOIN departments d ON d.id = n.department_id LEFT JOIN users u ON u.id = n.owner_id
	LEFT JOIN patients p ON p.id = n.patient_id`

func scanNotice(sc interface{ Scan(...any) error }) (*Notice, error) {
	n := &Notice{}
	var issued, deadline string
	var created, updated, submitted, closed, recAt int64
	if err := sc.Scan(&n.ID, &n.InstitutionID, &n.Number, &n.SourceKind, &n.SourceRef, &n.PatientID, &n.EncounterID, &n.Topic,
		&n.Summary, &n.DepartmentID, &n.OwnerID, &n.Status, &issued, &deadline, &n.CreatedBy, &created, &updated, &submitted,
		&closed, &n.RootCause, &n.ActionTaken, &n.ReturnReason, &n.Escalation, &n.SendRecovery, &n.RecoveryResult,
		&n.RecoveryScore, &recAt, &n.DeptName, &n.OwnerName, &n.PatientName); err != nil {
		return nil, err
	}
	n.IssuedOn, _ = calendar.ParseDate(issued)
	n.Deadline, _ = calendar.ParseDate(deadline)
	n.CreatedAt, n.UpdatedAt, n.SubmittedAt = store.Time(created), store.Time(updated), store.Time(submitted)
	n.ClosedAt, n.RecoveryAt = store.Time(closed), store.Time(recAt)
	return n, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Notice, error) {
	n, err := scanNotice(q.QueryRowContext(ctx, `SELECT `+noticeCols+noticeFrom+` WHERE n.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "notice_not_found", "no such notice")
	}
	if err != nil {
		return nil, fmt.Errorf("notice: read: %w", err)
	}
	return n, nil
}

// canSee reports whether p may read notice n: its department's scope, or
// its owner.
func canSee(p *access.Principal, n *Notice) bool {
	if p.Agency() { // an outside agency: only what it owns
		return p.UserID != 0 && p.UserID == n.OwnerID
	}
	return p.SeesDepartment(n.InstitutionID, n.DepartmentID) || (p != nil && p.UserID != 0 && p.UserID == n.OwnerID)
}

// Get returns one notice p may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (*Notice, error) {
	n, err := s.get(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, n) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this notice is outside your data scope")
	}
	return n, nil
}
