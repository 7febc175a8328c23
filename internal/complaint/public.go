package complaint

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/notify"
	"suifang/internal/pii"
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
	// Client is the submitter's network address: the caps on public SMS
	// count per address as well as per number.
	Client string
}

// PublicReceipt is what the complainant is shown after filing: the random
// tracking code, never the sequential number, and where the check of
// their number stands.
type PublicReceipt struct {
	TrackingCode string
	Hospital     string
	HospitalCode string
	ReceivedAt   time.Time
	FeedbackDays int

	// Verify is the token the complainant's browser posts back with the
	// code; "" when no verification could be started.
	Verify      string
	PhoneMasked string
	CodeSent    bool          // a code went out and can be entered now
	Verified    bool          // the number is verified and the receipt SMS queued
	RetryAfter  time.Duration // > 0: a cap stopped the code; another may be asked for then
	Problem     string        // the last entry: wrong, expired, locked, format, none_sent
	Left        int           // wrong entries left
}

// complaintRef names a complaint in a verification.
func complaintRef(id int64) string { return "complaint:" + strconv.FormatInt(id, 10) }

// RegisterPublic files a complaint from the website form of hospital code.
// The complaint is stored at once and its tracking code shown, whatever
// happens next; nothing is sent to the typed number until its holder
// enters the code texted to it (VerifyPublic): only then does the receipt
// go out. The code SMS itself is capped per number and per address.
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
		DepartmentID: in.DepartmentID, verifyFirst: true})
	if err != nil {
		return nil, err
	}
	r := s.publicReceipt(ctx, c, h)
	if s.intake.Codes == nil {
		return r, nil
	}
	var sendErr error
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		r.Verify, sendErr = s.intake.Codes.SendCode(ctx, tx, notify.CodeRequest{InstitutionID: h.ID, Phone: digitsOnly(in.Phone),
			Client: in.Client, Ref: complaintRef(c.ID)})
		var lim *notify.LimitError
		if errors.As(sendErr, &lim) {
			r.RetryAfter = lim.RetryAfter
			return nil // the verification is kept: a code may be asked for later
		}
		return sendErr
	})
	if err != nil {
		// The complaint is filed and its code is on the screen; a failed
		// SMS must not turn that into an error page.
		s.log.Warn("complaint: verification not started", "complaint", c.Number, "err", err)
		r.Verify = ""
		return r, nil
	}
	r.PhoneMasked, r.CodeSent = pii.MaskPhone(digitsOnly(in.Phone)), r.RetryAfter == 0
	r.Left = notify.CodeAttempts
	return r, nil
}

// publicReceipt is the part of the answer that comes from the complaint.
func (s *Service) publicReceipt(ctx context.Context, c *Complaint, h *PublicInstitution) *PublicReceipt {
	r := &PublicReceipt{TrackingCode: c.TrackingCode, Hospital: h.Name, HospitalCode: h.Code, ReceivedAt: c.ReceivedAt,
		FeedbackDays: 5}
	if sla, err := s.policyFor(ctx, s.db.R(), c); err == nil && sla != nil {
		if t, ok := sla.Target(MFeedback); ok {
			r.FeedbackDays = t.N
		}
	}
	return r
}

// pending rebuilds the answer page of the verification token: the
// complaint's receipt and where the check of the number stands. Only the
// complainant's browser holds the token (256 random bits, never in a URL),
// so it may see its own tracking code again.
func (s *Service) pending(ctx context.Context, token string) (*PublicReceipt, error) {
	if s.intake.Codes == nil || token == "" || len(token) > 100 {
		return nil, errVerifyNotFound()
	}
	st, err := s.intake.Codes.CodeState(ctx, s.db.R(), token)
	if errs.Is(err, errs.NotFound) {
		return nil, errVerifyNotFound()
	}
	if err != nil {
		return nil, err
	}
	id, ok := strings.CutPrefix(st.Ref, "complaint:")
	cid, perr := strconv.ParseInt(id, 10, 64)
	if !ok || perr != nil {
		return nil, errVerifyNotFound()
	}
	c, err := s.get(ctx, s.db.R(), cid)
	if err != nil {
		return nil, err
	}
	h := &PublicInstitution{ID: c.InstitutionID}
	if err := s.db.R().QueryRowContext(ctx, `SELECT code, name FROM institutions WHERE id = $1`, c.InstitutionID).
		Scan(&h.Code, &h.Name); err != nil {
		return nil, fmt.Errorf("complaint: institution: %w", err)
	}
	r := s.publicReceipt(ctx, c, h)
	r.Verify, r.PhoneMasked, r.Verified, r.CodeSent, r.Left = token, st.PhoneMasked, st.Verified, st.Sent, st.Left
	return r, nil
}

// errVerifyNotFound is the answer to an unknown or malformed token.
func errVerifyNotFound() error {
	return errs.New(errs.NotFound, "complaint_verify_not_found", "no such verification")
}

// VerifyPublic takes the code the complainant typed for verification
// token. The right code verifies the number and queues the receipt SMS
// (once, whatever is posted again) with a history event; a wrong one
// spends one of the code's attempts. Either way the answer is the receipt
// page's data, with Problem saying what went wrong.
func (s *Service) VerifyPublic(ctx context.Context, token, code string) (*PublicReceipt, error) {
	if _, err := s.pending(ctx, token); err != nil {
		return nil, err
	}
	var chk *notify.CodeCheck
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if chk, err = s.intake.Codes.CheckCode(ctx, tx, token, code); err != nil || !chk.Now {
			return err // a wrong entry commits its spent attempt
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(chk.Ref, "complaint:"), 10, 64)
		c, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		var sealed string
		if err := tx.QueryRowContext(ctx, `SELECT complainant_contact FROM complaints WHERE id = $1`, id).Scan(&sealed); err != nil {
			return fmt.Errorf("complaint: contact: %w", err)
		}
		contact, err := s.keys.OpenRow(sealed, adContact, c.Number)
		if err != nil {
			return fmt.Errorf("complaint: open contact: %w", err)
		}
		if err := s.db.SerializeKey(ctx, tx, chainKey(c.InstitutionID)); err != nil {
			return err
		}
		if err := s.appendEvent(ctx, tx, publicActor(), c, "contact_verified", c.Status, c.Status, ""); err != nil {
			return err
		}
		return s.receipt(ctx, tx, c, contact)
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errVerifyNotFound()
	}
	if err != nil {
		return nil, err
	}
	r, err := s.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	r.Problem = chk.Problem
	if chk.Problem != "" {
		r.Left = chk.Left
	}
	return r, nil
}

// ResendPublic sends a fresh code for verification token, under the caps
// on public SMS (client is the requester's address); a cap answers with
// RetryAfter set and nothing sent.
func (s *Service) ResendPublic(ctx context.Context, token, client string) (*PublicReceipt, error) {
	if _, err := s.pending(ctx, token); err != nil {
		return nil, err
	}
	var retry time.Duration
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		err := s.intake.Codes.ResendCode(ctx, tx, token, client)
		var lim *notify.LimitError
		if errors.As(err, &lim) {
			retry = lim.RetryAfter
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	r, err := s.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	r.RetryAfter = retry
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
