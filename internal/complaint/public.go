package complaint

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/errs"
)

// The public side of complaints: the hospital website's form and the
// tracking lookup. Nobody is logged in, so these methods take no
// principal; they are the only doors that do, and they show nothing a
// stranger could use to find another person's complaint.

// publicActor registers complaints filed on the website: the events and
// the audit name the website, and quality owns what it files.
func publicActor() *access.Principal {
	return &access.Principal{Username: "website", Name: "website", Roles: []access.Role{access.SysAdmin}, Global: true}
}

// PublicInstitution is the hospital a public form belongs to, with the
// departments a complainant may choose from.
type PublicInstitution struct {
	ID    int64
	Code  string
	Name  string
	Depts []PublicDept
	// Office: the hospital has a complaint office, so "I don't know the
	// department" can be offered.
	Office bool
}

// PublicDept is one department on the public form.
type PublicDept struct {
	ID   int64
	Name string
}

// PublicHospital looks up an active hospital or clinic by its code; an
// unknown or inactive code is NotFound.
func (s *Service) PublicHospital(ctx context.Context, code string) (*PublicInstitution, error) {
	code = strings.TrimSpace(code)
	if code == "" || utf8.RuneCountInString(code) > 64 {
		return nil, errs.New(errs.NotFound, "complaint_hospital_not_found", "no such hospital")
	}
	in := &PublicInstitution{}
	err := s.db.R().QueryRowContext(ctx, `SELECT id, code, name FROM institutions WHERE code = $1 AND active = $2 AND kind <> 'group'`,
		code, true).Scan(&in.ID, &in.Code, &in.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "complaint_hospital_not_found", "no such hospital")
	}
	if err != nil {
		return nil, fmt.Errorf("complaint: public hospital: %w", err)
	}
	// Clinical departments and wards only: a complainant meets those, not
	// the offices.
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, name FROM departments WHERE institution_id = $1 AND active = $2
		AND kind <> 'office' ORDER BY code`, in.ID, true)
	if err != nil {
		return nil, fmt.Errorf("complaint: public departments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d PublicDept
		if err := rows.Scan(&d.ID, &d.Name); err != nil {
			return nil, fmt.Errorf("complaint: public departments: %w", err)
		}
		in.Depts = append(in.Depts, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: public departments: %w", err)
	}
	office, err := s.complaintOffice(ctx, s.db.R(), in.ID)
	in.Office = office != 0
	return in, err
}

// PublicInput is what the website form asks.
type PublicInput struct {
	Name         string
	Phone        string // a mainland mobile number: the receipt and the tracking check need it
	Role         string // patient or relative
	DepartmentID int64
	DeptUnknown  bool // "不清楚": the complaint office takes it
	OccurredOn   string
	Content      string
	Asks         string
}

// PublicReceipt is what the complainant is shown after filing: the random
// tracking code, never the sequential number.
type PublicReceipt struct {
	TrackingCode string
	Hospital     string
	ReceivedAt   time.Time
	FeedbackDays int
}

// RegisterPublic files a complaint from the website form of hospital code.
func (s *Service) RegisterPublic(ctx context.Context, code string, in PublicInput) (*PublicReceipt, error) {
	h, err := s.PublicHospital(ctx, code)
	if err != nil {
		return nil, err
	}
	in.Phone = strings.TrimSpace(in.Phone)
	in.Role = strings.TrimSpace(in.Role)
	switch {
	case strings.TrimSpace(in.Name) == "":
		return nil, errs.Field("complainant_name", "bad_complainant", "give your name")
	case !isMobile(in.Phone):
		return nil, errs.Field("contact", "bad_phone", "give an 11-digit mobile number")
	case in.Role != "patient" && in.Role != "relative":
		return nil, errs.Field("complainant_role", "bad_complainant_role", "you are the patient or a relative")
	case in.DepartmentID == 0 && !in.DeptUnknown:
		return nil, errs.Field("department_id", "missing_department", "choose the department")
	}
	if in.DeptUnknown {
		// Nobody has to know the hospital's structure to complain: the
		// complaint office takes it, and quality owns it as usual.
		office, err := s.complaintOffice(ctx, s.db.R(), h.ID)
		if err != nil {
			return nil, err
		}
		if office == 0 {
			return nil, errs.Field("department_id", "missing_department", "choose the department")
		}
		in.DepartmentID = office
	}
	c, err := s.Register(ctx, publicActor(), Input{InstitutionID: h.ID, Channel: "website", ComplainantName: in.Name,
		ComplainantRole: in.Role, Contact: digitsOnly(in.Phone), OccurredOn: in.OccurredOn, Content: in.Content, Asks: in.Asks,
		DepartmentID: in.DepartmentID})
	if err != nil {
		return nil, err
	}
	r := &PublicReceipt{TrackingCode: c.TrackingCode, Hospital: h.Name, ReceivedAt: c.ReceivedAt, FeedbackDays: 5}
	if sla, err := s.policyFor(ctx, s.db.R(), c); err == nil && sla != nil {
		if t, ok := sla.Target(MFeedback); ok {
			r.FeedbackDays = t.N
		}
	}
	return r, nil
}

// PublicStep is one public milestone of a complaint: what happened and
// when, without names or notes.
type PublicStep struct {
	Step string // received, accepted, feedback, closed
	At   time.Time
}

// PublicStatus is what the tracking lookup shows.
type PublicStatus struct {
	TrackingCode string
	Hospital     string
	Phase        string // received, handling, answered, improving, closed: the internal steps are not shown
	Paused       bool
	Steps        []PublicStep
}

// NormalizeTrackingCode upper-cases a typed code and puts the dashes back,
// so "k7mq x9pa 4tzb" finds K7MQ-X9PA-4TZB; anything else is "".
func NormalizeTrackingCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r < 128 && strings.ContainsRune(trackingAlphabet, r):
			if b.Len() == 4 || b.Len() == 9 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
		default:
			return ""
		}
		if b.Len() > 14 {
			return ""
		}
	}
	if b.Len() != 14 {
		return ""
	}
	return b.String()
}

// errTrackNotFound is the one answer to every failed lookup: an unknown
// code and a wrong phone end read the same, so neither can be probed.
func errTrackNotFound() error {
	return errs.New(errs.NotFound, "complaint_track_not_found", "no complaint matches this code and phone number")
}

// Track finds a complaint by its tracking code and the last four digits of
// the phone it was filed with; both must match.
func (s *Service) Track(ctx context.Context, code, last4 string) (*PublicStatus, error) {
	code = NormalizeTrackingCode(code)
	last4 = strings.TrimSpace(last4)
	if code == "" || len(last4) != 4 || digitsOnly(last4) != last4 {
		return nil, errTrackNotFound()
	}
	c, err := s.scan(s.db.R().QueryRowContext(ctx, `SELECT `+complaintCols+complaintFrom+` WHERE c.tracking_code = $1`, code))
	var contact string
	if err == nil {
		err = s.db.R().QueryRowContext(ctx, `SELECT complainant_contact FROM complaints WHERE id = $1`, c.ID).Scan(&contact)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTrackNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("complaint: track: %w", err)
	}
	plain, err := s.keys.OpenRow(contact, adContact, c.Number)
	if err != nil {
		return nil, fmt.Errorf("complaint: open contact: %w", err)
	}
	d := digitsOnly(plain)
	if len(d) < 4 || subtle.ConstantTimeCompare([]byte(d[len(d)-4:]), []byte(last4)) != 1 {
		return nil, errTrackNotFound()
	}
	st := &PublicStatus{TrackingCode: c.TrackingCode, Phase: publicPhase(c.Status), Paused: c.Paused}
	if c.Status == Merged {
		// The matter is handled on the complaint it was merged into; its
		// progress is the complainant's progress.
		var status string
		if err := s.db.R().QueryRowContext(ctx, `SELECT status FROM complaints WHERE id = $1`, c.MergedInto).Scan(&status); err != nil {
			return nil, fmt.Errorf("complaint: track merged: %w", err)
		}
		st.Phase = publicPhase(status)
	}
	if err := s.db.R().QueryRowContext(ctx, `SELECT name FROM institutions WHERE id = $1`, c.InstitutionID).Scan(&st.Hospital); err != nil {
		return nil, fmt.Errorf("complaint: institution: %w", err)
	}
	for _, p := range []PublicStep{{"received", c.ReceivedAt}, {"accepted", c.AcceptedAt}, {"feedback", c.FeedbackAt},
		{"closed", c.ArchivedAt}} {
		if !p.At.IsZero() {
			st.Steps = append(st.Steps, p)
		}
	}
	return st, nil
}

// publicPhase folds the internal flow into what a complainant needs to
// know; plan drafts and approvals are the hospital's business.
func publicPhase(status string) string {
	switch status {
	case Registered:
		return "received"
	case FeedbackGiven, Satisfaction:
		return "answered"
	case Rectification, Revisit:
		return "improving"
	case Archived:
		return "closed"
	}
	return "handling"
}
