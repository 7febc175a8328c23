package abnormal

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
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/notify"
	"suifang/internal/patient"
	"suifang/internal/store"
)

// Statuses of a report, in flow order.
const (
	Reported      = "reported"      // 已上报
	Acknowledged  = "acknowledged"  // 已认领
	Investigating = "investigating" // 调查中
	Concluded     = "concluded"     // 已结论
	Closed        = "closed"        // 已关闭
)

// Statuses lists the statuses in flow order.
func Statuses() []string { return []string{Reported, Acknowledged, Investigating, Concluded, Closed} }

// Kinds of abnormal finding: 疑似骗保, 医疗纠纷苗头, other patient-safety
// events. A fixed list: each kind has its own handling office.
var kinds = []string{"insurance_fraud", "dispute", "safety"}

// Kinds lists the kinds in form order.
func Kinds() []string { return slices.Clone(kinds) }

// Severities: normal, or urgent (act today).
const (
	Normal = "normal"
	Urgent = "urgent"
)

// Severities lists the severities, mildest first.
func Severities() []string { return []string{Normal, Urgent} }

// Where a report was raised from.
const (
	FromManual    = "manual"
	FromRecord    = "record"
	FromComplaint = "complaint"
)

// RealertAfter is how long, in service hours on working days, a report may
// wait unacknowledged before leadership is told again (once).
const RealertAfter = 2 * time.Hour

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

// Encounters finds a stay by its visit number within p's scope;
// patient.Service satisfies it.
type Encounters interface {
	EncounterByVisit(ctx context.Context, p *access.Principal, inst int64, visit string) (*patient.Encounter, error)
}

// Records reads a follow-up record within p's scope; followup.Service
// satisfies it.
type Records interface {
	Record(ctx context.Context, p *access.Principal, id int64) (*followup.RecordView, error)
}

// Complaints reads a complaint within p's scope; complaint.Service
// satisfies it.
type Complaints interface {
	Get(ctx context.Context, p *access.Principal, id int64) (*complaint.Complaint, error)
}

// Report is one abnormal report.
type Report struct {
	ID             int64
	InstitutionID  int64
	Number         string
	Kind           string
	Severity       string
	Status         string
	Summary        string
	PatientID      int64
	EncounterID    int64
	SourceKind     string
	SourceID       int64
	SourceRef      string // the record's or complaint's number
	ReporterID     int64
	ReporterName   string
	OwnerID        int64 // 0 only while reported
	Finding        string
	ReferredTo     string
	Conclusion     string
	Actions        string
	ReportedAt     time.Time
	AcknowledgedAt time.Time
	ConcludedAt    time.Time
	ClosedAt       time.Time
	RealertDue     time.Time // zero: no re-alert pending
	RealertedAt    time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Joined for lists and pages.
	OwnerName string
}

// Open reports whether the report is still being handled.
func (r *Report) Open() bool { return r.Status != Closed }

// Service is the door to abnormal reports.
type Service struct {
	db         *store.DB
	audit      *audit.Service
	cals       Calendars
	encs       Encounters
	records    Records
	complaints Complaints
	outbox     Outbox
	now        func() time.Time
	log        *slog.Logger
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB         *store.DB        // the database
	Audit      *audit.Service   // the audit log, written in the callers' transactions
	Calendars  Calendars        // each institution's working-day calendar
	Encounters Encounters       // stays, read through the patient room's scope check
	Records    Records          // follow-up records, read through their room's scope check
	Complaints Complaints       // complaints, read through their room's scope check
	Outbox     Outbox           // where messages are queued
	Now        func() time.Time // the clock (time.Now in production)
	Log        *slog.Logger     // nil: discard
}

// New returns the abnormal-report service. outbox may be nil: alerts are
// then skipped (tests of the flow alone).
func New(d Deps) *Service {
	db, au, cals, encs, records, complaints, outbox, now, log := d.DB, d.Audit, d.Calendars, d.Encounters, d.Records, d.Complaints, d.Outbox, d.Now, d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, cals: cals, encs: encs, records: records, complaints: complaints, outbox: outbox, now: now, log: log}
}

// Input is a new report as the forms and the API give it.
type Input struct {
	InstitutionID int64 // taken from the source when there is one
	Kind          string
	Severity      string
	Summary       string
	VisitNumber   string // optional, for a report raised by hand
	RecordID      int64  // raised from this follow-up record
	ComplaintID   int64  // raised from this complaint
}

const maxText = 4000

func (in *Input) normalize() error {
	in.Kind, in.Severity = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Severity)
	in.Summary, in.VisitNumber = strings.TrimSpace(in.Summary), strings.TrimSpace(in.VisitNumber)
	if in.Severity == "" {
		in.Severity = Normal
	}
	switch {
	case in.RecordID < 0 || in.ComplaintID < 0 || (in.RecordID > 0 && in.ComplaintID > 0):
		return errs.Field("source", "abnormal_bad_source", "a report comes from one follow-up record, one complaint, or neither")
	case in.RecordID == 0 && in.ComplaintID == 0 && in.InstitutionID <= 0:
		return errs.Field("institution_id", "bad_institution", "choose an institution")
	case !slices.Contains(kinds, in.Kind):
		return errs.Field("kind", "abnormal_bad_kind", "choose what kind of abnormal finding this is")
	case !slices.Contains(Severities(), in.Severity):
		return errs.Field("severity", "abnormal_bad_severity", "severity is normal or urgent")
	case in.Summary == "" || utf8.RuneCountInString(in.Summary) > maxText:
		return errs.Field("summary", "abnormal_bad_summary", "describe what was noticed (at most 4000 characters)")
	case utf8.RuneCountInString(in.VisitNumber) > 64:
		return errs.Field("visit_number", "abnormal_bad_visit_number", "at most 64 characters")
	}
	return nil
}

// chainKey is the advisory lock of institution inst's report numbering and
// event chain.
func chainKey(inst int64) int64 { return 0x5943_0000_0000_0000 + inst }

// canRaise: every member of staff may report what they noticed; an API
// token may pass on what a HIS flagged.
func canRaise(p *access.Principal) bool {
	return p.HasAny(access.SysAdmin, access.Leadership, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse,
		access.Doctor, access.Integration)
}

// handler reports whether p handles the institution's reports: leadership
// or quality, as a person (an owner is a person).
func handler(p *access.Principal, inst int64) bool {
	return p != nil && p.UserID != 0 && p.HasAny(access.Leadership, access.Quality) && p.SeesInstitution(inst)
}

// canSee: the reporter sees their own report, the owner theirs, and
// leadership and quality (and the institution's API token) all of the
// institution. Nobody else: a suspicion of fraud is not the ward's business.
func canSee(p *access.Principal, r *Report) bool {
	if p == nil {
		return false
	}
	if p.UserID != 0 && (p.UserID == r.ReporterID || p.UserID == r.OwnerID) {
		return true
	}
	return p.HasAny(access.Leadership, access.Quality, access.Integration) && p.SeesInstitution(r.InstitutionID)
}

// SeesAll reports whether p sees every report of inst (the list's "all"
// and "open" tabs, the navigation entry).
func SeesAll(p *access.Principal, inst int64) bool {
	return p.HasAny(access.Leadership, access.Quality, access.Integration) && p.SeesInstitution(inst)
}

// Raise files a report by p and, in the same transaction, alerts every
// leadership and quality user of the institution. The report's re-alert
// falls due RealertAfter service hours later.
func (s *Service) Raise(ctx context.Context, p *access.Principal, in Input) (*Report, error) {
	if !canRaise(p) {
		return nil, errs.New(errs.Forbidden, "abnormal_raise_forbidden", "your role may not file abnormal reports")
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	r := &Report{Kind: in.Kind, Severity: in.Severity, Summary: in.Summary, SourceKind: FromManual, Status: Reported,
		ReporterID: p.UserID, ReporterName: p.Name}
	if r.ReporterName == "" {
		r.ReporterName = p.Username
	}
	// The source is read through its own room's scope check: a report can
	// only be raised from a record or complaint the reporter may see.
	switch {
	case in.RecordID > 0 && s.records == nil, in.ComplaintID > 0 && s.complaints == nil:
		return nil, errs.Field("source", "abnormal_source_unavailable", "reports cannot be raised from that source here")
	case in.RecordID > 0:
		rec, err := s.records.Record(ctx, p, in.RecordID)
		if err != nil {
			return nil, sourceErr(err, "record_id")
		}
		r.InstitutionID, r.PatientID, r.EncounterID = rec.InstitutionID, rec.PatientID, rec.EncounterID
		r.SourceKind, r.SourceID, r.SourceRef = FromRecord, rec.ID, rec.Number
	case in.ComplaintID > 0:
		c, err := s.complaints.Get(ctx, p, in.ComplaintID)
		if err != nil {
			return nil, sourceErr(err, "complaint_id")
		}
		r.InstitutionID, r.PatientID, r.EncounterID = c.InstitutionID, c.PatientID, c.EncounterID
		r.SourceKind, r.SourceID, r.SourceRef = FromComplaint, c.ID, c.Number
	default:
		r.InstitutionID = in.InstitutionID
		if !p.TouchesInstitution(r.InstitutionID) {
			return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
		}
		if in.VisitNumber != "" {
			enc, err := s.encs.EncounterByVisit(ctx, p, r.InstitutionID, in.VisitNumber)
			if err != nil {
				if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
					return nil, errs.Field("visit_number", "abnormal_encounter_not_found", "no such stay in your data scope")
				}
				return nil, err
			}
			r.PatientID, r.EncounterID = enc.PatientID, enc.ID
		}
	}
	pol, err := s.cals.Policy(ctx, r.InstitutionID)
	if err != nil {
		return nil, err
	}
	var out *Report
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.db.SerializeKey(ctx, tx, chainKey(r.InstitutionID)); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		r.ReportedAt, r.CreatedAt = now, now
		r.RealertDue = pol.AddWorkingDuration(now, RealertAfter)
		var code string
		if err := tx.QueryRowContext(ctx, `SELECT code FROM institutions WHERE id = $1`, r.InstitutionID).Scan(&code); err != nil {
			return fmt.Errorf("abnormal: institution: %w", err)
		}
		// Reports are never deleted, so the day's count gives the sequence
		// (the chain lock keeps two reports apart).
		prefix := "YC-" + code + "-" + now.In(pol.Loc).Format("20060102") + "-"
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM abnormal_reports WHERE institution_id = $1 AND number >= $2 AND number < $3`,
			r.InstitutionID, prefix, prefix+"~").Scan(&count); err != nil {
			return fmt.Errorf("abnormal: number: %w", err)
		}
		r.Number = fmt.Sprintf("%s%04d", prefix, count+1)
		err := tx.QueryRowContext(ctx, `INSERT INTO abnormal_reports (institution_id, number, kind, severity, status, summary,
			patient_id, encounter_id, source_kind, source_id, source_ref, reporter_id, reporter_name, reported_at, realert_due,
			created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$14,$14) RETURNING id`,
			r.InstitutionID, r.Number, r.Kind, r.Severity, r.Status, r.Summary, r.PatientID, r.EncounterID, r.SourceKind, r.SourceID,
			r.SourceRef, r.ReporterID, r.ReporterName, store.Micros(now), store.Micros(r.RealertDue)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("abnormal: store: %w", err)
		}
		detail := fmt.Sprintf("kind=%s severity=%s source=%s", r.Kind, r.Severity, r.SourceKind)
		if r.SourceRef != "" {
			detail += ":" + r.SourceRef
		}
		if err := s.appendEvent(ctx, tx, p, r, "report", "", Reported, detail+"\n"+r.Summary); err != nil {
			return err
		}
		if err := s.alert(ctx, tx, r, "abnormal.raised", "raised", []access.Role{access.Leadership, access.Quality}); err != nil {
			return err
		}
		e := audit.Event(p, "abnormal.raise", "abnormal_report", r.Number, r.InstitutionID)
		e.Detail = detail
		if err := s.audit.Append(ctx, tx, e); err != nil {
			return err
		}
		out, err = s.get(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sourceErr names the source field when the source is missing or out of
// the reporter's scope.
func sourceErr(err error, field string) error {
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
		return errs.Field(field, "abnormal_source_not_found", "no such source in your data scope")
	}
	return err
}

// staff is a user to alert: id and, when it is a mobile number, phone.
type staff struct {
	id    int64
	phone string
}

// usersWith lists the active users of inst holding one of roles with an
// institution-wide grant (here or on the group above), each once.
func (s *Service) usersWith(ctx context.Context, q store.Querier, inst int64, roles []access.Role) ([]staff, error) {
	args := []any{true, inst}
	var ph []string
	for _, r := range roles {
		args = append(args, string(r))
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id, u.phone FROM users u JOIN user_roles ro ON ro.user_id = u.id
		JOIN user_scopes sc ON sc.user_id = u.id WHERE u.active = $1 AND sc.department_id = 0
		AND (sc.institution_id = $2 OR sc.institution_id = (SELECT COALESCE(parent_id, 0) FROM institutions WHERE id = $2))
		AND ro.role IN (`+strings.Join(ph, ",")+`) ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("abnormal: staff: %w", err)
	}
	defer rows.Close()
	var out []staff
	for rows.Next() {
		var u staff
		if err := rows.Scan(&u.id, &u.phone); err != nil {
			return nil, fmt.Errorf("abnormal: staff: %w", err)
		}
		u.phone = mobile(u.phone)
		out = append(out, u)
	}
	return out, rows.Err()
}

// alert tells every user with one of roles about r: in-app with the report
// number and its page, and by SMS when they have a mobile number. Staff
// messages wait for no quiet hours, so the alert goes out now. The SMS
// names nothing at all: a number carrying the institution code ("H01")
// can look like a diagnosis code to the content guard, and a text on a
// phone is read by whoever holds it.
func (s *Service) alert(ctx context.Context, tx *sql.Tx, r *Report, template, key string, roles []access.Role) error {
	if s.outbox == nil {
		return nil
	}
	users, err := s.usersWith(ctx, tx, r.InstitutionID, roles)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(r.ID, 10)
	ids := make([]string, 0, len(users))
	for _, u := range users {
		uid := strconv.FormatInt(u.id, 10)
		ids = append(ids, uid)
		m := notify.Message{InstitutionID: r.InstitutionID, Channel: notify.InApp, Template: template, To: uid,
			Ref: "abnormal:" + id, Params: map[string]string{"number": r.Number, "link": "/abnormal/" + id},
			IdempotencyKey: fmt.Sprintf("abnormal:%d:%s:%d", r.ID, key, u.id)}
		if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
			return fmt.Errorf("abnormal: enqueue %s: %w", template, err)
		}
		if u.phone == "" {
			continue
		}
		m = notify.Message{InstitutionID: r.InstitutionID, Channel: notify.SMS, Template: template, To: u.phone,
			Ref: "abnormal:" + id, Params: map[string]string{}, IdempotencyKey: fmt.Sprintf("abnormal:%d:%s:sms:%d", r.ID, key, u.id)}
		if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
			// The in-app alert is there; a refused SMS must not lose the report.
			s.log.Warn("abnormal sms not queued", "report", r.Number, "err", err)
		}
	}
	return s.appendEvent(ctx, tx, nil, r, "alert", r.Status, r.Status, key+" users="+strings.Join(ids, ","))
}

// mobile returns s's digits when s is a mainland mobile number as people
// write it ("138 0000 0001"), else "".
func mobile(s string) string {
	var d []rune
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, r)
		case r == ' ' || r == '-':
		default:
			return ""
		}
	}
	if len(d) != 11 || d[0] != '1' {
		return ""
	}
	return string(d)
}

const reportCols = `a.id, a.institution_id, a.number, a.kind, a.severity, a.status, a.summary, a.patient_id, a.encounter_id,
	a.source_kind, a.source_id, a.source_ref, a.reporter_id, a.reporter_name, a.owner_id, a.finding, a.referred_to, a.conclusion,
	a.actions, a.reported_at, a.acknowledged_at, a.concluded_at, a.closed_at, a.realert_due, a.realerted_at, a.created_at,
	a.updated_at, COALESCE(u.display_name, '')`

const reportFrom = ` FROM abnormal_reports a LEFT JOIN users u ON u.id = a.owner_id`

func scan(sc interface{ Scan(...any) error }) (*Report, error) {
	r := &Report{}
	var rep, ack, con, clo, due, rea, cre, upd int64
	if err := sc.Scan(&r.ID, &r.InstitutionID, &r.Number, &r.Kind, &r.Severity, &r.Status, &r.Summary, &r.PatientID, &r.EncounterID,
		&r.SourceKind, &r.SourceID, &r.SourceRef, &r.ReporterID, &r.ReporterName, &r.OwnerID, &r.Finding, &r.ReferredTo, &r.Conclusion,
		&r.Actions, &rep, &ack, &con, &clo, &due, &rea, &cre, &upd, &r.OwnerName); err != nil {
		return nil, err
	}
	r.ReportedAt, r.AcknowledgedAt, r.ConcludedAt, r.ClosedAt = store.Time(rep), store.Time(ack), store.Time(con), store.Time(clo)
	r.RealertDue, r.RealertedAt, r.CreatedAt, r.UpdatedAt = store.Time(due), store.Time(rea), store.Time(cre), store.Time(upd)
	return r, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Report, error) {
	r, err := scan(q.QueryRowContext(ctx, `SELECT `+reportCols+reportFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "abnormal_not_found", "no such abnormal report")
	}
	if err != nil {
		return nil, fmt.Errorf("abnormal: read: %w", err)
	}
	return r, nil
}

// Get returns one report p may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (*Report, error) {
	r, err := s.get(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, r) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this abnormal report is outside your data scope")
	}
	return r, nil
}

// BySource lists the reports raised from a follow-up record or a complaint
// that p may see, oldest first (the link back from the source's page).
func (s *Service) BySource(ctx context.Context, p *access.Principal, kind string, id int64) ([]*Report, error) {
	if kind != FromRecord && kind != FromComplaint {
		return nil, errs.Field("source_kind", "abnormal_bad_source", "reports come from a record or a complaint")
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+reportCols+reportFrom+` WHERE a.source_kind = $1 AND a.source_id = $2 ORDER BY a.id`,
		kind, id)
	if err != nil {
		return nil, fmt.Errorf("abnormal: by source: %w", err)
	}
	defer rows.Close()
	var out []*Report
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("abnormal: by source: %w", err)
		}
		if canSee(p, r) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}
