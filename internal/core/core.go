// Package core wires Suifang's services together on an open database: the
// one place that knows which service needs which. internal/app uses it to
// run the platform and service tests use it to get the same wiring, so a
// test never drifts from production.
package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar/caldb"
	"suifang/internal/chain"
	"suifang/internal/complaint"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/kpi"
	"suifang/internal/mllpauth"
	"suifang/internal/notice"
	"suifang/internal/notify"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/survey"
)

// Options are what the services need besides the database.
type Options struct {
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: discard
	Auth     auth.Policy
	Followup followup.Policy
	Keys     *pii.Keyring // patient-data keys (required)
	Index    *pii.Indexer // blind-index key (required)
	ChainKey *chain.Key   // keys the hash chains; nil: audit.TestKey (tests only)
	Dialer   followup.Dialer
	Notify   notify.Policy
	Outbox   notice.Outbox // nil: notices notify through the outbox (Services.Notify)
	Survey   survey.Config
	// Classes are the encounter class codes imported as inpatient stays
	// (zero: intake.DefaultClasses).
	Classes intake.Classes
	Reveals patient.RevealLimits // zero: patient.DefaultRevealLimits
}

// Services are the doors to every room.
type Services struct {
	Audit      *audit.Service
	Auth       *auth.Service
	Org        *org.Service
	Calendar   *caldb.Service
	Patients   *patient.Service
	Followup   *followup.Service
	Importer   *importer.Service
	Notify     *notify.Service
	Notices    *notice.Service
	Complaints *complaint.Service
	Survey     *survey.Service
	Abnormal   *abnormal.Service
	KPI        *kpi.Service      // follow-up KPIs and targets, defined once
	Senders    *mllpauth.Service // who may send HL7 over MLLP, for which institution
}

// Build constructs the services on db (already migrated).
func Build(db *store.DB, o Options) (*Services, error) {
	if o.Keys == nil || o.Index == nil {
		return nil, errors.New("core: patient-data keys are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Services{Audit: audit.NewKeyed(db, o.Now, o.ChainKey)}
	var err error
	if s.Auth, err = auth.New(auth.Deps{DB: db, Audit: s.Audit, Now: o.Now, Policy: o.Auth, Log: o.Log}); err != nil {
		return nil, err
	}
	// A new institution gets the statutory calendar and the default plan
	// rules in the same transaction that creates it.
	s.Org = org.New(org.Deps{DB: db, Audit: s.Audit, Now: o.Now, OnCreate: []org.Hook{func(ctx context.Context, tx *sql.Tx, id int64) error {
		if err := s.Calendar.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		if err := s.Followup.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		if err := s.Notices.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		return s.Survey.SeedInstitution(ctx, tx, id)
	}}})
	s.Calendar = caldb.New(caldb.Deps{DB: db, Audit: s.Audit, Org: s.Org, Now: o.Now})
	s.Patients = patient.New(patient.Deps{DB: db, Audit: s.Audit, Keys: o.Keys, Index: o.Index, Now: o.Now})
	s.Followup = followup.New(followup.Deps{DB: db, Audit: s.Audit, Patients: s.Patients, Now: o.Now, Log: o.Log, Policy: o.Followup, Dialer: o.Dialer})
	// An outside agency sees a patient while it has an open task for her.
	s.Patients.SetCallScope(s.Followup.RoutedPatient)
	if s.Notify, err = notify.New(notify.Deps{DB: db, Audit: s.Audit, Keys: o.Keys, Index: o.Index, Now: o.Now, Log: o.Log, Policy: o.Notify}); err != nil {
		return nil, err
	}
	if o.Outbox == nil {
		o.Outbox = s.Notify
	}
	// A caller over the reveal cap is refused and quality alerted in-app.
	s.Patients.SetRevealLimits(o.Reveals, o.Outbox)
	s.Notices = notice.New(notice.Deps{DB: db, Audit: s.Audit, Calendars: s.Calendar, Outbox: o.Outbox, Now: o.Now, Log: o.Log})
	// A notice no rule can place goes to the quality office (made if the
	// institution has none), never back to the caller as an error.
	s.Notices.QualityOffice = s.Org.QualityOffice
	// Mapping a HIS code onto a department folds the department an import
	// made from that code into it: stays and open follow-ups move along.
	s.Org.OnDepartmentMoved(s.Patients.MoveDepartment)
	s.Org.OnDepartmentMoved(s.Followup.MoveDepartment)
	// A 不满意 or a flagged opinion becomes a notice in the record's
	// transaction.
	s.Followup.SetCaseHook(NoticeCaseHook(s.Notices))
	// Complaint reports and survey results flag figures below the KPI targets.
	s.KPI = kpi.New(kpi.Deps{DB: db, Audit: s.Audit, Calendars: s.Calendar, Orgs: s.Org, Phones: s.Patients, Now: o.Now, Log: o.Log})
	s.Complaints = complaint.New(complaint.Deps{DB: db, Audit: s.Audit, Calendars: s.Calendar, Keys: o.Keys, Encounters: s.Patients,
		Notices: s.Notices, Outbox: o.Outbox, Now: o.Now, Log: o.Log, Targets: s.KPI})
	// Abnormal reports read their source (a record, a complaint) through the
	// source room's scope check and alert leadership through the outbox.
	s.Abnormal = abnormal.New(abnormal.Deps{DB: db, Audit: s.Audit, Calendars: s.Calendar, Encounters: s.Patients,
		Records: s.Followup, Complaints: s.Complaints, Outbox: o.Outbox, Now: o.Now, Log: o.Log})
	// An edited calendar or new service hours move the stored deadlines of
	// open complaints, in the transaction of the edit.
	s.Calendar.OnChange(s.Complaints.CalendarChanged)
	s.Org.OnHoursChanged(s.Calendar.Changed)
	s.Complaints.SetIntake(complaint.IntakeOptions{Index: o.Index, Codes: s.Notify}) // duplicates: same patient or contact, similar text
	s.Complaints.SetRevealCap(s.Patients.CountReveal)                                // a contact reveal counts like a patient's
	s.Importer = importer.New(importer.Deps{DB: db, Audit: s.Audit, Org: s.Org, Calendar: s.Calendar, Patients: s.Patients,
		Keys: o.Keys, Followup: s.Followup, Now: o.Now, Log: o.Log})
	s.Senders = mllpauth.New(mllpauth.Deps{DB: db, Audit: s.Audit, Org: s.Org, Now: o.Now, Log: o.Log})
	if o.Classes.HL7 != nil || o.Classes.FHIR != nil {
		s.Importer.SetClasses(o.Classes)
	}
	// Surveys send through the outbox; a negative answer raises a notice;
	// a closed notice may send a recovery survey, whose answer comes back
	// to the notice. All in the callers' transactions.
	s.Survey = survey.New(survey.Deps{DB: db, Audit: s.Audit, Patients: s.Patients, Followup: s.Followup, Signer: o.Index,
		Now: o.Now, Log: o.Log, Config: o.Survey, Targets: s.KPI})
	s.Survey.SetHooks(survey.Hooks{Outbox: s.Notify,
		OnNegative: func(ctx context.Context, tx *sql.Tx, n survey.Negative) error {
			_, err := s.Notices.Raise(ctx, tx, noticeOfAnswer(n))
			return err
		},
		OnRecovery: func(ctx context.Context, tx *sql.Tx, ref, satisfaction string, score *int) error {
			id, ok := strings.CutPrefix(ref, noticeRefPrefix)
			n, err := strconv.ParseInt(id, 10, 64)
			if !ok || err != nil {
				return fmt.Errorf("core: recovery survey for %q: not a notice", ref)
			}
			return s.Notices.RecordRecovery(ctx, tx, n, satisfaction, score)
		}})
	s.Notices.OnClosed = func(ctx context.Context, tx *sql.Tx, n *notice.Notice) error {
		if n.PatientID == 0 {
			return nil // a notice raised by hand about no patient has no one to ask
		}
		return s.Survey.InviteRecovery(ctx, tx, n.InstitutionID, n.PatientID, n.EncounterID, noticeRefPrefix+strconv.FormatInt(n.ID, 10))
	}
	return s, nil
}

// noticeRefPrefix names a notice in a recovery survey's reference.
const noticeRefPrefix = "notice:"

// noticeOfAnswer turns a negative survey answer into a notice: one per
// response and topic, routed by the topic's rule, with the task's
// department when no rule finds one.
func noticeOfAnswer(n survey.Negative) notice.RaiseInput {
	summary := n.Text
	if q := strings.TrimRight(n.Question, "？?：: "); q != "" {
		summary = q + "：" + n.Text
	}
	return notice.RaiseInput{InstitutionID: n.InstitutionID, SourceKind: notice.FromSurvey,
		SourceRef: fmt.Sprintf("survey_response:%d:%s", n.ResponseID, n.Topic), PatientID: n.PatientID,
		EncounterID: n.EncounterID, Topic: n.Topic, Summary: summary, FallbackDepartmentID: n.DepartmentID}
}

// NoticeCaseHook is the follow-up case hook that raises the case as a
// notice in the record's transaction (tests that wire services by hand use
// it too).
func NoticeCaseHook(n *notice.Service) func(ctx context.Context, tx *sql.Tx, c followup.CaseOpened) error {
	return func(ctx context.Context, tx *sql.Tx, c followup.CaseOpened) error {
		_, err := n.Raise(ctx, tx, noticeOfCase(c))
		return err
	}
}

// noticeOfCase turns a follow-up case into a notice: the step's role says
// what the patient's words are about (a nurse's call → nurses), so the
// routing rules choose the ward or the department; the task's department
// answers when no rule finds one.
func noticeOfCase(c followup.CaseOpened) notice.RaiseInput {
	in := notice.RaiseInput{InstitutionID: c.InstitutionID, SourceKind: notice.FromRecord,
		SourceRef: fmt.Sprintf("followup_record:%d", c.RecordID), PatientID: c.PatientID, EncounterID: c.EncounterID,
		Topic: "other", Summary: c.Summary, FallbackDepartmentID: c.DepartmentID, By: c.By}
	if c.Kind != "dissatisfied" {
		in.SourceKind = notice.FromAgentFlag
	}
	switch c.Role {
	case access.Nurse:
		in.Topic = "nurses"
	case access.Doctor:
		in.Topic = "doctors"
	}
	if c.RecordNumber != "" {
		in.Summary = c.Summary + "（" + c.RecordNumber + "）"
	}
	return in
}
