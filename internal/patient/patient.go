// Package patient owns the discharged-patient archive: patients, their
// encounters (stays), do-not-contact and deceased flags. National ID numbers,
// phone numbers and addresses are sealed with AES-256-GCM (package pii) and
// findable only through keyed blind indexes; lists show masked values and
// every reveal of a full value is audited.
package patient

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/pii"
	"suifang/internal/sealed"
	"suifang/internal/store"
)

// Encounter statuses.
const (
	Admitted   = "admitted"
	Discharged = "discharged"
	Cancelled  = "cancelled"
)

// Associated data binding each sealed value to its column.
const (
	adNationalID = "patient.national_id"
	adPhones     = "patient.phones"
	adAddress    = "patient.address"
)

// Service is the door to the patient archive.
type Service struct {
	db    *store.DB
	audit *audit.Service
	keys  *pii.Keyring
	index *pii.Indexer
	now   func() time.Time
	// callScope answers whether an outside agency has an open task for a
	// patient (the follow-up room owns tasks); nil refuses agencies.
	callScope func(ctx context.Context, q store.Querier, p *access.Principal, patientID int64) (bool, error)
	reveals   RevealLimits
	outbox    Outbox // alerts quality when a caller goes over the reveal cap
}

// SetCallScope sets how the service learns whether an agency principal has
// an open task for a patient (core wires the follow-up room's answer).
func (s *Service) SetCallScope(f func(ctx context.Context, q store.Querier, p *access.Principal, patientID int64) (bool, error)) {
	s.callScope = f
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB    *store.DB        // the database
	Audit *audit.Service   // the audit log, written in the callers' transactions
	Keys  *pii.Keyring     // patient-data keys
	Index *pii.Indexer     // the blind-index key
	Now   func() time.Time // the clock (time.Now in production)
}

// New returns the patient service.
func New(d Deps) *Service {
	db, au, keys, index, now := d.DB, d.Audit, d.Keys, d.Index, d.Now
	return &Service{db: db, audit: au, keys: keys, index: index, now: now, reveals: DefaultRevealLimits()}
}

// Patient is one person in one institution (matched by MRN, never by name).
type Patient struct {
	ID            int64
	InstitutionID int64
	MRN           string
	Name          string
	Sex           intake.Sex
	BirthDate     calendar.Date
	NationalID    string // plain only after Reveal or inside services
	Phones        []string
	Address       string
	Employer      string
	DoNotContact  bool
	DNCReason     string
	Deceased      bool
}

// Age returns the patient's age in whole years on day d (-1 if unknown).
func (p *Patient) Age(d calendar.Date) int {
	if p.BirthDate.IsZero() {
		return -1
	}
	age := d.Year - p.BirthDate.Year
	if d.Month < p.BirthDate.Month || (d.Month == p.BirthDate.Month && d.Day < p.BirthDate.Day) {
		age--
	}
	return age
}

// Masked is a patient as lists and exports show it.
type Masked struct {
	ID           int64
	MRN          string
	Name         string
	Sex          intake.Sex
	BirthDate    calendar.Date
	NationalID   string
	Phones       []string
	Address      string
	DoNotContact bool
	Deceased     bool
}

// Mask hides what lists must not show.
func (p *Patient) Mask() Masked {
	m := Masked{ID: p.ID, MRN: p.MRN, Name: pii.MaskName(p.Name), Sex: p.Sex, BirthDate: p.BirthDate,
		NationalID: pii.MaskNationalID(p.NationalID), Address: pii.MaskAddress(p.Address),
		DoNotContact: p.DoNotContact, Deceased: p.Deceased}
	for _, ph := range p.Phones {
		m.Phones = append(m.Phones, pii.MaskPhone(ph))
	}
	return m
}

// Encounter is one hospital stay.
type Encounter struct {
	ID               int64
	InstitutionID    int64
	PatientID        int64
	VisitNumber      string
	Status           string
	DepartmentID     int64
	WardID           int64
	DeptCode         string
	DeptName         string
	WardCode         string
	WardName         string
	AttendingDoctor  string
	ResponsibleNurse string
	AdmittedAt       time.Time
	DischargedAt     time.Time
	DischargeDate    calendar.Date // local date in the institution's zone
	Diagnoses        []intake.Diagnosis
	Surgery          bool
	Procedures       []string // operation names, when the source gave them
	Outcome          intake.Outcome
	// Class is inpatient for a stay; an outpatient, emergency or other
	// visit is stored but gets no discharge plan.
	Class intake.Class
}

// Visit reports whether e is not an inpatient stay.
func (e *Encounter) Visit() bool { return e.Class.Visit() }

// PrimaryICD is the first diagnosis code, upper-cased.
func (e *Encounter) PrimaryICD() string {
	if len(e.Diagnoses) == 0 {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(e.Diagnoses[0].Code))
}

// Departments resolves HIS department and ward codes to department ids of
// one institution (0 when the code is unknown). The importer builds it once
// per import from the org service.
type Departments interface {
	Resolve(code string) int64
}

// Change says what Apply did.
type Change struct {
	Patient    *Patient
	Encounter  *Encounter
	Created    bool   // the encounter is new
	PrevStatus string // status before ("" when new)
	Updated    bool   // an existing encounter's data changed
	// PrevDischargeDate is the stay's discharge date before this message
	// (zero when new), so a corrected discharge date can move the plan.
	PrevDischargeDate calendar.Date
}

func invalid(field, reason string) error {
	return &errs.Error{Kind: errs.Invalid, Code: "bad_" + field, Msg: reason, Fields: map[string]string{field: "invalid"}}
}

// validate checks one message before anything is written.
func validate(m *intake.Message) error {
	p, e := &m.Patient, &m.Encounter
	p.MRN, p.Name, e.VisitNumber = strings.TrimSpace(p.MRN), strings.TrimSpace(p.Name), strings.TrimSpace(e.VisitNumber)
	if p.MRN == "" || utf8.RuneCountInString(p.MRN) > 64 {
		return invalid("mrn", "MRN (病案号) is missing or longer than 64 characters")
	}
	if e.VisitNumber == "" || utf8.RuneCountInString(e.VisitNumber) > 64 {
		return invalid("visit_number", "visit number (住院流水号) is missing or longer than 64 characters")
	}
	if m.Event != intake.CancelAdmit && m.Event != intake.CancelDischarge {
		if p.Name == "" || utf8.RuneCountInString(p.Name) > 64 {
			return invalid("name", "patient name is missing or longer than 64 characters")
		}
	}
	if m.Event == intake.Discharge && e.DischargedAt.IsZero() {
		return invalid("discharged_at", "a discharge needs its discharge time")
	}
	if !e.AdmittedAt.IsZero() && !e.DischargedAt.IsZero() && e.DischargedAt.Before(e.AdmittedAt) {
		return invalid("discharged_at", "discharge time is before admission time")
	}
	if p.NationalID = strings.ToUpper(strings.TrimSpace(p.NationalID)); p.NationalID != "" {
		if _, err := pii.ValidateNationalID(p.NationalID); err != nil {
			return invalid("national_id", "national ID number: "+err.Error())
		}
	}
	if !p.BirthDate.IsZero() && !p.BirthDate.Valid() {
		return invalid("birth_date", "birth date is not a real date")
	}
	switch p.Sex {
	case intake.Male, intake.Female, intake.Unknown:
	case "":
		p.Sex = intake.Unknown
	default:
		return invalid("sex", "sex must be M, F or U")
	}
	var phones []string
	for _, ph := range p.Phones {
		ph = strings.TrimSpace(ph)
		if ph == "" {
			continue
		}
		// A short or odd number is kept as sent: the agent sees it and logs
		// "wrong number", which is better than losing the discharge.
		if utf8.RuneCountInString(ph) > 32 {
			return invalid("phone", "a phone number is longer than 32 characters")
		}
		phones = append(phones, ph)
	}
	p.Phones = phones
	var procs []string
	for _, pr := range e.Procedures {
		if pr = strings.TrimSpace(pr); pr == "" {
			continue
		}
		if utf8.RuneCountInString(pr) > 200 {
			return invalid("procedures", "a surgery name is longer than 200 characters")
		}
		procs = append(procs, pr)
	}
	if len(procs) > 20 {
		return invalid("procedures", "more than 20 surgery names")
	}
	e.Procedures = procs
	if len(procs) > 0 {
		e.Surgery = true
	}
	switch e.Outcome {
	case "", intake.Cured, intake.Improved, intake.NotCured, intake.Died, intake.Other:
	default:
		return invalid("outcome", "unknown treatment outcome")
	}
	switch e.Class {
	case "", intake.Inpatient, intake.Outpatient, intake.Emergency, intake.Preadmit, intake.OtherVisit:
	default:
		return invalid("class", "unknown encounter class")
	}
	return nil
}

// DischargeCancelled is the one rule for taking back a discharge (HL7 A13,
// the API's cancel, a file's 取消出院 row): a discharged stay is admitted
// again; a stay whose discharge was already taken back stays as it is (a
// re-sent A13); a stay never discharged, or cancelled, has no discharge to
// take back, which is a conflict the sender should see.
func DischargeCancelled(e *Encounter) (string, error) {
	switch {
	case e.Status == Discharged:
		return Admitted, nil
	case e.Status == Admitted && !e.DischargedAt.IsZero():
		return Admitted, nil
	default:
		return "", &errs.Error{Kind: errs.Conflict, Code: "not_discharged", Msg: "this encounter has no discharge to cancel",
			Fields: map[string]string{"visit_number": "not_discharged"}}
	}
}

// Apply stores one intake message in tx for institution inst: it finds or
// creates the patient by MRN, creates or updates the encounter by visit
// number, and applies cancellations. Applying the same message twice changes
// nothing the second time. loc is the institution's zone for local dates.
func (s *Service) Apply(ctx context.Context, tx store.Querier, inst int64, depts Departments, loc *time.Location, m intake.Message) (*Change, error) {
	if err := validate(&m); err != nil {
		return nil, err
	}
	// Another instance may add the same new patient or stay between our
	// look-up and our INSERT; its row wins and the message is applied
	// again on top of it, as a re-sent message would be. Once is enough
	// (a row, once there, stays); the bound only guards against a bug.
	for range 3 {
		ch, err := s.apply(ctx, tx, inst, depts, loc, m)
		if !errors.Is(err, errRaced) {
			return ch, err
		}
	}
	return nil, fmt.Errorf("patient: %s: %w", m.Encounter.VisitNumber, errRaced)
}

// errRaced says an INSERT found its key taken by a concurrent writer.
var errRaced = errors.New("patient: row added concurrently")

func (s *Service) apply(ctx context.Context, tx store.Querier, inst int64, depts Departments, loc *time.Location, m intake.Message) (*Change, error) {
	now := store.Micros(s.now())
	// Every check that can refuse the message runs before anything is
	// written: the importer rejects the message and goes on in the same
	// transaction, so a refusal must leave no half-applied patient behind.
	enc, err := s.encounterByVisit(ctx, tx, inst, m.Encounter.VisitNumber)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	cancel := m.Event == intake.CancelAdmit || m.Event == intake.CancelDischarge
	if enc == nil && cancel {
		return nil, &errs.Error{Kind: errs.NotFound, Code: "unknown_visit", Msg: "cancellation for a visit number Suifang has never received",
			Fields: map[string]string{"visit_number": "unknown"}}
	}
	if enc != nil {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM patients WHERE institution_id = $1 AND mrn = $2`, inst, m.Patient.MRN).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("patient: read patient: %w", err)
		}
		if owner != enc.PatientID {
			return nil, invalid("visit_number", "this visit number already belongs to another patient (MRN differs)")
		}
	}
	status := Cancelled // A11 cancels the stay
	if m.Event == intake.CancelDischarge {
		if status, err = DischargeCancelled(enc); err != nil {
			return nil, err
		}
	}
	pat, err := s.upsertPatient(ctx, tx, inst, m, now)
	if err != nil {
		return nil, err
	}
	ch := &Change{Patient: pat}
	if enc != nil {
		ch.PrevStatus, ch.PrevDischargeDate = enc.Status, enc.DischargeDate
	}
	if cancel {
		if status != enc.Status {
			if _, err := tx.ExecContext(ctx, `UPDATE encounters SET status = $1, updated_at = $2 WHERE id = $3`, status, now, enc.ID); err != nil {
				return nil, fmt.Errorf("patient: cancel encounter: %w", err)
			}
			enc.Status, ch.Updated = status, true
		}
		ch.Encounter = enc
		return ch, nil
	}
	next := encounterFrom(inst, pat.ID, depts, loc, m)
	if enc != nil && m.Encounter.Class == "" {
		next.Class = enc.Class // a message that names no class (an A08 without PV1-2) keeps it
	}
	switch {
	case enc == nil:
		if err := insertEncounter(ctx, tx, next, now); err != nil {
			return nil, err
		}
		ch.Created = true
		ch.Encounter = next
		return ch, nil
	case m.Event == intake.Admit && enc.Status == Discharged:
		// A late admit message for a stay already discharged: keep the discharge.
		next.Status, next.DischargedAt, next.DischargeDate = enc.Status, enc.DischargedAt, enc.DischargeDate
	case m.Event == intake.Update:
		next.Status = enc.Status
		if next.DischargedAt.IsZero() {
			next.DischargedAt, next.DischargeDate = enc.DischargedAt, enc.DischargeDate
		}
		if next.Status == Cancelled {
			break
		}
		if !next.DischargedAt.IsZero() && enc.Status == Admitted {
			next.Status = Admitted // an update never discharges; only A03 does
		}
	}
	next.ID = enc.ID
	if sameEncounter(enc, next) {
		ch.Encounter = enc
		return ch, nil
	}
	if err := updateEncounter(ctx, tx, next, now); err != nil {
		return nil, err
	}
	ch.Updated, ch.Encounter = true, next
	return ch, nil
}

func encounterFrom(inst, patient int64, depts Departments, loc *time.Location, m intake.Message) *Encounter {
	e := m.Encounter
	status := Admitted
	if m.Event == intake.Discharge || (m.Event == intake.Update && !e.DischargedAt.IsZero()) {
		status = Discharged
	}
	out := &Encounter{InstitutionID: inst, PatientID: patient, VisitNumber: e.VisitNumber, Status: status,
		DeptCode: e.DepartmentCode, DeptName: e.DepartmentName, WardCode: e.WardCode, WardName: e.WardName,
		AttendingDoctor: e.AttendingDoctor, ResponsibleNurse: e.ResponsibleNurse,
		AdmittedAt: e.AdmittedAt.UTC().Truncate(time.Microsecond), DischargedAt: e.DischargedAt.UTC().Truncate(time.Microsecond),
		Diagnoses: e.Diagnoses, Surgery: e.Surgery, Procedures: e.Procedures, Outcome: e.Outcome, Class: e.Class}
	if out.Class == "" {
		out.Class = intake.Inpatient
	}
	if depts != nil {
		out.DepartmentID = depts.Resolve(e.DepartmentCode)
		out.WardID = depts.Resolve(e.WardCode)
		if out.DepartmentID == 0 {
			out.DepartmentID = out.WardID
		}
	}
	if !out.DischargedAt.IsZero() {
		out.DischargeDate = calendar.DateOf(out.DischargedAt.In(loc))
	}
	return out
}

func sameEncounter(a, b *Encounter) bool {
	da, _ := json.Marshal(a.Diagnoses)
	db, _ := json.Marshal(b.Diagnoses)
	return a.Status == b.Status && a.DepartmentID == b.DepartmentID && a.WardID == b.WardID &&
		a.DeptCode == b.DeptCode && a.DeptName == b.DeptName && a.WardCode == b.WardCode && a.WardName == b.WardName &&
		a.AttendingDoctor == b.AttendingDoctor && a.ResponsibleNurse == b.ResponsibleNurse &&
		a.AdmittedAt.Equal(b.AdmittedAt) && a.DischargedAt.Equal(b.DischargedAt) &&
		string(da) == string(db) && a.Surgery == b.Surgery && a.Outcome == b.Outcome &&
		strings.Join(a.Procedures, "\n") == strings.Join(b.Procedures, "\n") && a.Class == b.Class
}

func procJSON(p []string) string {
	if len(p) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func diagJSON(d []intake.Diagnosis) string {
	if len(d) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// encounterInsertCols are the columns encounterArgs fills, in order.
const encounterInsertCols = `institution_id, patient_id, visit_number, status, department_id, ward_id,
	dept_code, dept_name, ward_code, ward_name, attending_doctor, responsible_nurse, admitted_at, discharged_at, discharge_date,
	diagnoses, primary_icd, surgery, outcome, procedures, class, created_at, updated_at`

// encounterArgs are e's values for encounterInsertCols but the last (updated_at = created_at).
func encounterArgs(e *Encounter, now int64) []any {
	return []any{e.InstitutionID, e.PatientID, e.VisitNumber, e.Status, e.DepartmentID, e.WardID, e.DeptCode, e.DeptName, e.WardCode,
		e.WardName, e.AttendingDoctor, e.ResponsibleNurse, store.Micros(e.AdmittedAt), store.Micros(e.DischargedAt),
		dateText(e.DischargeDate), diagJSON(e.Diagnoses), e.PrimaryICD(), e.Surgery, string(e.Outcome), procJSON(e.Procedures), string(e.Class), now}
}

func insertEncounter(ctx context.Context, tx store.Querier, e *Encounter, now int64) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO encounters (`+encounterInsertCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$22)
		ON CONFLICT (institution_id, visit_number) DO NOTHING RETURNING id`,
		encounterArgs(e, now)...).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return errRaced
	}
	if err != nil {
		return fmt.Errorf("patient: insert encounter: %w", err)
	}
	return nil
}

func updateEncounter(ctx context.Context, tx store.Querier, e *Encounter, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE encounters SET status=$1, department_id=$2, ward_id=$3, dept_code=$4, dept_name=$5,
		ward_code=$6, ward_name=$7, attending_doctor=$8, responsible_nurse=$9, admitted_at=$10, discharged_at=$11,
		discharge_date=$12, diagnoses=$13, primary_icd=$14, surgery=$15, outcome=$16, procedures=$17, updated_at=$18, class=$20 WHERE id=$19`,
		e.Status, e.DepartmentID, e.WardID, e.DeptCode, e.DeptName, e.WardCode, e.WardName, e.AttendingDoctor,
		e.ResponsibleNurse, store.Micros(e.AdmittedAt), store.Micros(e.DischargedAt), dateText(e.DischargeDate),
		diagJSON(e.Diagnoses), e.PrimaryICD(), e.Surgery, string(e.Outcome), procJSON(e.Procedures), now, e.ID, string(e.Class))
	if err != nil {
		return fmt.Errorf("patient: update encounter: %w", err)
	}
	return nil
}

func dateText(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// upsertPatient finds the patient by institution + MRN and refreshes the
// data the message carries (empty fields never erase stored ones).
func (s *Service) upsertPatient(ctx context.Context, tx store.Querier, inst int64, m intake.Message, now int64) (*Patient, error) {
	in := m.Patient
	cur, err := s.byMRN(ctx, tx, inst, in.MRN)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	next := &Patient{InstitutionID: inst, MRN: in.MRN, Name: in.Name, Sex: in.Sex, BirthDate: in.BirthDate,
		NationalID: in.NationalID, Phones: in.Phones, Address: strings.TrimSpace(in.Address), Employer: strings.TrimSpace(in.Employer)}
	if m.Outcome() == intake.Died || in.Deceased {
		next.Deceased = true
	}
	if cur != nil {
		next.ID, next.DoNotContact, next.DNCReason = cur.ID, cur.DoNotContact, cur.DNCReason
		next.Deceased = next.Deceased || cur.Deceased
		if next.Name == "" {
			next.Name = cur.Name
		}
		if next.Sex == intake.Unknown {
			next.Sex = cur.Sex
		}
		if next.BirthDate.IsZero() {
			next.BirthDate = cur.BirthDate
		}
		if next.NationalID == "" {
			next.NationalID = cur.NationalID
		}
		if len(next.Phones) == 0 {
			next.Phones = cur.Phones
		}
		if next.Address == "" {
			next.Address = cur.Address
		}
		if next.Employer == "" {
			next.Employer = cur.Employer
		}
		if samePatient(cur, next) {
			return cur, nil
		}
	}
	sl, err := s.seal(inst, next)
	if err != nil {
		return nil, err
	}
	nid, phones, addr, nidx := sl.nid, sl.phones, sl.addr, sl.nidx
	if cur == nil {
		err = tx.QueryRowContext(ctx, `INSERT INTO patients (institution_id, mrn, name, sex, birth_date, national_id_enc, national_id_idx,
			phones_enc, address_enc, employer, deceased, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)
			ON CONFLICT (institution_id, mrn) DO NOTHING RETURNING id`,
			inst, next.MRN, next.Name, string(next.Sex), dateText(next.BirthDate), nid, nidx, phones, addr, next.Employer, next.Deceased, now).Scan(&next.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errRaced
		}
		if err != nil {
			return nil, fmt.Errorf("patient: insert: %w", err)
		}
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE patients SET name=$1, sex=$2, birth_date=$3, national_id_enc=$4, national_id_idx=$5,
			phones_enc=$6, address_enc=$7, employer=$8, deceased=$9, updated_at=$10 WHERE id=$11`,
			next.Name, string(next.Sex), dateText(next.BirthDate), nid, nidx, phones, addr, next.Employer, next.Deceased, now, next.ID)
		if err != nil {
			return nil, fmt.Errorf("patient: update: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM patient_phones WHERE patient_id = $1`, next.ID); err != nil {
			return nil, fmt.Errorf("patient: clear phones: %w", err)
		}
	}
	for i, ph := range next.Phones {
		if _, err := tx.ExecContext(ctx, `INSERT INTO patient_phones (patient_id, pos, phone_idx) VALUES ($1,$2,$3)`,
			next.ID, i, s.index.Index("phone", ph)); err != nil {
			return nil, fmt.Errorf("patient: index phone: %w", err)
		}
	}
	return next, nil
}

// sealedPII is a patient's identifiers as stored: sealed, plus the blind
// index of the national ID.
type sealedPII struct{ nid, nidx, phones, addr string }

// RowKey is the stable key of a patient row sealed values are bound to:
// institution and MRN, which exist before the INSERT (unlike the id) and
// never change. A sealed ID number copied onto another patient does not
// open there.
func RowKey(inst int64, mrn string) string { return sealed.RowKey(strconv.FormatInt(inst, 10), mrn) }

func (s *Service) seal(inst int64, p *Patient) (sealedPII, error) {
	var out sealedPII
	var err error
	row := RowKey(inst, p.MRN)
	if out.nid, err = s.keys.SealRow(p.NationalID, adNationalID, row); err != nil {
		return out, fmt.Errorf("patient: seal id: %w", err)
	}
	if out.phones, err = s.keys.SealRow(strings.Join(p.Phones, "\n"), adPhones, row); err != nil {
		return out, fmt.Errorf("patient: seal phones: %w", err)
	}
	if out.addr, err = s.keys.SealRow(p.Address, adAddress, row); err != nil {
		return out, fmt.Errorf("patient: seal address: %w", err)
	}
	if p.NationalID != "" {
		out.nidx = s.index.Index("national_id", p.NationalID)
	}
	return out, nil
}

func samePatient(a, b *Patient) bool {
	return a.Name == b.Name && a.Sex == b.Sex && a.BirthDate == b.BirthDate && a.NationalID == b.NationalID &&
		strings.Join(a.Phones, "\n") == strings.Join(b.Phones, "\n") && a.Address == b.Address &&
		a.Employer == b.Employer && a.Deceased == b.Deceased
}

const patientCols = `id, institution_id, mrn, name, sex, birth_date, national_id_enc, phones_enc, address_enc, employer,
	do_not_contact, dnc_reason, deceased`

func (s *Service) scanPatient(sc interface{ Scan(...any) error }) (*Patient, error) {
	p := &Patient{}
	var sex, birth, nid, phones, addr string
	if err := sc.Scan(&p.ID, &p.InstitutionID, &p.MRN, &p.Name, &sex, &birth, &nid, &phones, &addr, &p.Employer,
		&p.DoNotContact, &p.DNCReason, &p.Deceased); err != nil {
		return nil, err
	}
	p.Sex = intake.Sex(sex)
	if birth != "" {
		p.BirthDate, _ = calendar.ParseDate(birth)
	}
	var err error
	row := RowKey(p.InstitutionID, p.MRN)
	if p.NationalID, err = s.keys.OpenRow(nid, adNationalID, row); err != nil {
		return nil, fmt.Errorf("patient %d: national id: %w", p.ID, err)
	}
	ph, err := s.keys.OpenRow(phones, adPhones, row)
	if err != nil {
		return nil, fmt.Errorf("patient %d: phones: %w", p.ID, err)
	}
	if ph != "" {
		p.Phones = strings.Split(ph, "\n")
	}
	if p.Address, err = s.keys.OpenRow(addr, adAddress, row); err != nil {
		return nil, fmt.Errorf("patient %d: address: %w", p.ID, err)
	}
	return p, nil
}

func (s *Service) byMRN(ctx context.Context, q store.Querier, inst int64, mrn string) (*Patient, error) {
	p, err := s.scanPatient(q.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE institution_id = $1 AND mrn = $2`, inst, mrn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "patient_not_found", "no such patient")
	}
	return p, err
}

// Get returns a patient for services that checked scope (plain values).
func (s *Service) Get(ctx context.Context, q store.Querier, id int64) (*Patient, error) {
	if q == nil {
		q = s.db.R()
	}
	p, err := s.scanPatient(q.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "patient_not_found", "no such patient")
	}
	if err != nil {
		return nil, fmt.Errorf("patient: get: %w", err)
	}
	return p, nil
}

const encounterCols = `id, institution_id, patient_id, visit_number, status, department_id, ward_id, dept_code, dept_name,
	ward_code, ward_name, attending_doctor, responsible_nurse, admitted_at, discharged_at, discharge_date, diagnoses, surgery, outcome, procedures, class`

func scanEncounter(sc interface{ Scan(...any) error }) (*Encounter, error) {
	e := &Encounter{}
	var adm, dis int64
	var ddate, diags, outcome, procs, class string
	if err := sc.Scan(&e.ID, &e.InstitutionID, &e.PatientID, &e.VisitNumber, &e.Status, &e.DepartmentID, &e.WardID,
		&e.DeptCode, &e.DeptName, &e.WardCode, &e.WardName, &e.AttendingDoctor, &e.ResponsibleNurse, &adm, &dis, &ddate,
		&diags, &e.Surgery, &outcome, &procs, &class); err != nil {
		return nil, err
	}
	e.AdmittedAt, e.DischargedAt, e.Outcome, e.Class = store.Time(adm), store.Time(dis), intake.Outcome(outcome), intake.Class(class)
	if ddate != "" {
		e.DischargeDate, _ = calendar.ParseDate(ddate)
	}
	if err := json.Unmarshal([]byte(diags), &e.Diagnoses); err != nil {
		return nil, fmt.Errorf("patient: encounter %d diagnoses: %w", e.ID, err)
	}
	if len(e.Diagnoses) == 0 {
		e.Diagnoses = nil
	}
	if err := json.Unmarshal([]byte(procs), &e.Procedures); err != nil {
		return nil, fmt.Errorf("patient: encounter %d procedures: %w", e.ID, err)
	}
	if len(e.Procedures) == 0 {
		e.Procedures = nil
	}
	return e, nil
}

func (s *Service) encounterByVisit(ctx context.Context, q store.Querier, inst int64, visit string) (*Encounter, error) {
	e, err := scanEncounter(q.QueryRowContext(ctx, `SELECT `+encounterCols+` FROM encounters WHERE institution_id = $1 AND visit_number = $2`, inst, visit))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "encounter_not_found", "no such encounter")
	}
	if err != nil {
		return nil, fmt.Errorf("patient: read encounter: %w", err)
	}
	return e, nil
}

// Encounter returns one encounter for services that checked scope.
func (s *Service) Encounter(ctx context.Context, q store.Querier, id int64) (*Encounter, error) {
	if q == nil {
		q = s.db.R()
	}
	e, err := scanEncounter(q.QueryRowContext(ctx, `SELECT `+encounterCols+` FROM encounters WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "encounter_not_found", "no such encounter")
	}
	if err != nil {
		return nil, fmt.Errorf("patient: read encounter: %w", err)
	}
	return e, nil
}

// Stay returns stay id and its patient to p, whose scope must cover the
// stay's department or ward (an outside agency also needs an open task for
// the patient). Pages of other rooms name a linked stay through it.
func (s *Service) Stay(ctx context.Context, p *access.Principal, id int64) (*Encounter, *Patient, error) {
	e, err := s.Encounter(ctx, s.db.R(), id)
	if err != nil {
		return nil, nil, err
	}
	if !p.SeesDepartment(e.InstitutionID, e.DepartmentID) && !p.SeesDepartment(e.InstitutionID, e.WardID) {
		return nil, nil, errs.New(errs.Forbidden, "out_of_scope", "this stay is outside your data scope")
	}
	pat, err := s.Get(ctx, s.db.R(), e.PatientID)
	if err != nil {
		return nil, nil, err
	}
	if p.Agency() {
		if err := s.requirePatientScope(ctx, p, pat); err != nil {
			return nil, nil, err
		}
	}
	return e, pat, nil
}

// EncounterByVisit finds an encounter by its visit number, checking scope.
func (s *Service) EncounterByVisit(ctx context.Context, p *access.Principal, inst int64, visit string) (*Encounter, error) {
	e, err := s.encounterByVisit(ctx, s.db.R(), inst, visit)
	if err != nil {
		return nil, err
	}
	if !p.SeesDepartment(inst, e.DepartmentID) && !p.SeesDepartment(inst, e.WardID) {
		return nil, errs.New(errs.NotFound, "encounter_not_found", "no such encounter")
	}
	return e, nil
}

// Reveal returns one full value of a patient (national_id, phone, address)
// to someone whose scope covers one of the patient's encounters, and
// audits it: PIPL asks that every access to sensitive data be traceable.
// An outside agency may reveal only the phone number, and only of a
// patient it has an open task for (requirePatientScope); every role is
// held to a number of reveals per window (RevealLimits).
func (s *Service) Reveal(ctx context.Context, p *access.Principal, patientID int64, field string) (string, error) {
	pat, err := s.Get(ctx, s.db.R(), patientID)
	if err != nil {
		return "", err
	}
	if err := s.requirePatientScope(ctx, p, pat); err != nil {
		return "", err
	}
	if p.Agency() && field != "phone" {
		return "", errs.New(errs.Forbidden, "agency_reveal_forbidden", "an outside agency may reveal only the phone number of its own calls")
	}
	var v string
	switch field {
	case "national_id":
		v = pat.NationalID
	case "phone":
		v = strings.Join(pat.Phones, ", ")
	case "address":
		v = pat.Address
	default:
		return "", errs.Field("field", "bad_field", "field must be national_id, phone or address")
	}
	over := false
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if over, err = s.countReveal(ctx, tx, p, pat.InstitutionID); err != nil {
			return err
		}
		// A refused reveal is audited too, and its count and alert commit.
		e := audit.Event(p, "patient.reveal", "patient", fmt.Sprint(pat.ID), pat.InstitutionID)
		e.Detail, e.Success = "field="+field, !over
		if over {
			e.Detail += " refused=reveal_limit"
		}
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	if over {
		return "", s.errRevealLimit(p)
	}
	return v, nil
}

// requirePatientScope allows p when an encounter of the patient lies in p's
// scope (or p sees the whole institution).
func (s *Service) requirePatientScope(ctx context.Context, p *access.Principal, pat *Patient) error {
	if err := s.inScope(ctx, p, pat); err != nil {
		return err
	}
	if !p.Agency() {
		return nil
	}
	// An outside agency sees a patient only while it has a call to make.
	if s.callScope != nil {
		ok, err := s.callScope(ctx, nil, p, pat.ID)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return errs.New(errs.Forbidden, "agency_out_of_scope", "this patient has no open follow-up routed to your agency")
}

// inScope allows p when an encounter of the patient lies in p's scope.
func (s *Service) inScope(ctx context.Context, p *access.Principal, pat *Patient) error {
	if p.SeesInstitution(pat.InstitutionID) {
		return nil
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT department_id, ward_id FROM encounters WHERE patient_id = $1`, pat.ID)
	if err != nil {
		return fmt.Errorf("patient: scope: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, w int64
		if err := rows.Scan(&d, &w); err != nil {
			return fmt.Errorf("patient: scope: %w", err)
		}
		if p.SeesDepartment(pat.InstitutionID, d) || p.SeesDepartment(pat.InstitutionID, w) {
			return nil
		}
	}
	return errs.New(errs.Forbidden, "out_of_scope", "this patient is outside your data scope")
}

// FindByPhone lists the patients of inst with that exact phone number
// (through the blind index; the number itself is never in an index).
func (s *Service) FindByPhone(ctx context.Context, p *access.Principal, inst int64, phone string) ([]*Patient, error) {
	return s.find(ctx, p, inst, `SELECT `+patientCols+` FROM patients WHERE institution_id = $1 AND id IN
		(SELECT patient_id FROM patient_phones WHERE phone_idx = $2)`, s.index.Index("phone", phone))
}

// FindByNationalID lists the patients of inst with that ID number.
func (s *Service) FindByNationalID(ctx context.Context, p *access.Principal, inst int64, id string) ([]*Patient, error) {
	return s.find(ctx, p, inst, `SELECT `+patientCols+` FROM patients WHERE institution_id = $1 AND national_id_idx = $2`,
		s.index.Index("national_id", id))
}

func (s *Service) find(ctx context.Context, p *access.Principal, inst int64, q string, idx string) ([]*Patient, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	rows, err := s.db.R().QueryContext(ctx, q, inst, idx)
	if err != nil {
		return nil, fmt.Errorf("patient: find: %w", err)
	}
	var list []*Patient
	for rows.Next() {
		pat, err := s.scanPatient(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, pat)
	}
	rows.Close()
	var out []*Patient
	for _, pat := range list {
		if s.requirePatientScope(ctx, p, pat) == nil {
			out = append(out, pat)
		}
	}
	return out, rows.Err()
}

// SetDoNotContact marks a patient who refuses follow-up (seed 000 第九条) in
// tx; the follow-up service closes the open tasks in the same transaction.
func (s *Service) SetDoNotContact(ctx context.Context, tx *sql.Tx, p *access.Principal, patientID int64, reason string) error {
	r, err := tx.ExecContext(ctx, `UPDATE patients SET do_not_contact = $1, dnc_reason = $2, updated_at = $3 WHERE id = $4`,
		true, reason, store.Micros(s.now()), patientID)
	if err != nil {
		return fmt.Errorf("patient: do-not-contact: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.New(errs.NotFound, "patient_not_found", "no such patient")
	}
	var inst int64
	if err := tx.QueryRowContext(ctx, `SELECT institution_id FROM patients WHERE id = $1`, patientID).Scan(&inst); err != nil {
		return fmt.Errorf("patient: do-not-contact: %w", err)
	}
	e := audit.Event(p, "patient.do_not_contact", "patient", fmt.Sprint(patientID), inst)
	e.Detail = reason
	return s.audit.Append(ctx, tx, e)
}

// SetDeceased records in tx that the patient died (a contact attempt or a
// staff member found out), audited with how it became known.
func (s *Service) SetDeceased(ctx context.Context, tx *sql.Tx, p *access.Principal, patientID int64, reason string) error {
	r, err := tx.ExecContext(ctx, `UPDATE patients SET deceased = $1, updated_at = $2 WHERE id = $3`,
		true, store.Micros(s.now()), patientID)
	if err != nil {
		return fmt.Errorf("patient: deceased: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.New(errs.NotFound, "patient_not_found", "no such patient")
	}
	var inst int64
	if err := tx.QueryRowContext(ctx, `SELECT institution_id FROM patients WHERE id = $1`, patientID).Scan(&inst); err != nil {
		return fmt.Errorf("patient: deceased: %w", err)
	}
	e := audit.Event(p, "patient.deceased", "patient", fmt.Sprint(patientID), inst)
	e.Detail = reason
	return s.audit.Append(ctx, tx, e)
}

// MoveDepartment files inst's stays of department (or ward) from under to
// instead, in the caller's transaction: an org hook for a department made
// from a HIS code and later mapped onto the hospital's own.
func (s *Service) MoveDepartment(ctx context.Context, tx *sql.Tx, inst, from, to int64) error {
	for _, col := range []string{"department_id", "ward_id"} {
		if _, err := tx.ExecContext(ctx, `UPDATE encounters SET `+col+` = $1, updated_at = $2 WHERE institution_id = $3 AND `+col+` = $4`,
			to, store.Micros(s.now()), inst, from); err != nil {
			return fmt.Errorf("patient: move department: %w", err)
		}
	}
	return nil
}

// MaskedPhones opens a patient's sealed phones column (as stored, with the
// row's institution and MRN) and returns the numbers masked, for bulk
// listings that read the patients table themselves: the plain numbers
// never leave this room.
func (s *Service) MaskedPhones(inst int64, mrn, sealedPhones string) ([]string, error) {
	ph, err := s.keys.OpenRow(sealedPhones, adPhones, RowKey(inst, mrn))
	if err != nil {
		return nil, fmt.Errorf("patient: phones: %w", err)
	}
	if ph == "" {
		return nil, nil
	}
	out := strings.Split(ph, "\n")
	for i, p := range out {
		out[i] = pii.MaskPhone(p)
	}
	return out, nil
}
