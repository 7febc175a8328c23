// Package intake turns what the hospital information system sends — CSV and
// Excel exports, HL7 v2 ADT messages, FHIR R4 bundles — into one shape,
// Message, and reports every row or message it cannot use with the reason.
// Parsers stream: they call a function per message and never hold a whole
// file in memory. Storing patients and planning follow-ups is done by the
// services that consume Messages, not here.
package intake

import (
	"fmt"
	"time"

	"suifang/internal/calendar"
)

// Event is what a message says happened to an encounter.
type Event string

const (
	Admit           Event = "admit"            // HL7 A01
	Discharge       Event = "discharge"        // HL7 A03; a CSV row of a discharge list
	Update          Event = "update"           // HL7 A08
	CancelAdmit     Event = "cancel_admit"     // HL7 A11
	CancelDischarge Event = "cancel_discharge" // HL7 A13
)

// Outcome is the treatment result recorded at discharge (治疗结果).
type Outcome string

const (
	Cured    Outcome = "cured"     // 治愈
	Improved Outcome = "improved"  // 好转
	NotCured Outcome = "not_cured" // 未愈
	Died     Outcome = "died"      // 死亡
	Other    Outcome = "other"     // 其他
)

// Sex follows GB/T 2261.1 in spirit: male, female, unknown.
type Sex string

const (
	Male    Sex = "M"
	Female  Sex = "F"
	Unknown Sex = "U"
)

// Diagnosis is one discharge diagnosis (ICD-10 code and its name).
type Diagnosis struct {
	Code string // e.g. "I21.0"
	Name string // e.g. "急性前壁心肌梗死"
}

// Patient is who the message is about. Identifiers and contact data are
// plain text here; the patient service encrypts them at rest.
type Patient struct {
	MRN        string // medical record number (病案号/住院号), unique per institution
	NationalID string // 身份证号, GB 11643
	Name       string
	Sex        Sex
	BirthDate  calendar.Date
	Phones     []string
	Address    string
	Employer   string
	// Deceased: the source says the patient has died (HL7 PID-30 = Y,
	// FHIR Patient.deceased[x]); such a patient gets no calls.
	Deceased bool
}

// Class is the kind of encounter: only inpatient stays are discharges
// with a follow-up plan; the others are visits, stored and counted.
type Class string

const (
	Inpatient  Class = "inpatient"  // HL7 PV1-2 I; FHIR IMP, ACUTE, NONAC
	Outpatient Class = "outpatient" // HL7 O, R, B; FHIR AMB
	Emergency  Class = "emergency"  // HL7 E; FHIR EMER
	Preadmit   Class = "preadmit"   // HL7 P
	OtherVisit Class = "other"      // FHIR VR, HH, OBSENC…; any other code
)

// Visit reports whether c is not an inpatient stay ("" counts as inpatient:
// CSV lists and senders that leave the class empty send discharges).
func (c Class) Visit() bool { return c != "" && c != Inpatient }

// Encounter is the hospital stay.
type Encounter struct {
	VisitNumber      string // 住院流水号/就诊号: the idempotency key
	DepartmentCode   string
	DepartmentName   string
	WardCode         string
	WardName         string
	AttendingDoctor  string
	ResponsibleNurse string
	AdmittedAt       time.Time
	DischargedAt     time.Time
	Diagnoses        []Diagnosis
	Surgery          bool
	// Procedures are the operation names (手术名称), when the source gives them.
	Procedures []string
	Outcome    Outcome
	// Class is the encounter class the parser derived from ClassCode with
	// DefaultClasses; the importer re-derives it with the configured lists.
	// Empty when the source names none: a new stay is then inpatient, a
	// known one keeps its class.
	Class Class
	// ClassCode is the code as sent, upper-cased (PV1-2 "I", FHIR "AMB"),
	// with ClassSystem saying whose table it is from ("hl7", "fhir").
	ClassCode   string
	ClassSystem string
}

// Message is one usable row or message.
type Message struct {
	// Where it came from, for reports: "ADT-A03-01.hl7 message 1", "row 12".
	Source string
	// Line is the 1-based row (CSV/Excel, header = row 1) or message number.
	Line  int
	Event Event
	// Facility is the institution code the message names (HL7 MSH-4 or
	// PV1-3.4, a CSV column); empty when the file does not say.
	Facility  string
	Patient   Patient
	Encounter Encounter
	// ControlID is the sender's message id (HL7 MSH-10), for the ACK.
	ControlID string
	// Warnings are problems that did not cost the message: a phone number
	// that could not be used and was dropped.
	Warnings []Warning
}

// Warning is a value dropped from a usable row or message. Value is
// masked: warnings are kept with the import report and must not hold a
// patient's full phone number.
type Warning struct {
	Line   int
	Source string
	Field  string // e.g. "联系电话", "PID-13", "Patient.telecom"
	Reason string
	Value  string // masked
}

// warnPhone records a dropped phone number.
func (m *Message) warnPhone(field string, err error, raw string) {
	if len(m.Warnings) >= 20 {
		return
	}
	m.Warnings = append(m.Warnings, PhoneWarning(field, BadPhone{Raw: raw, Err: err}))
}

// PhoneWarning words a dropped phone number, its value masked.
func PhoneWarning(field string, b BadPhone) Warning {
	return Warning{Field: field, Reason: "电话号码不可用，已忽略 / unusable phone number dropped: " + phoneReason(b.Err), Value: MaskRaw(b.Raw)}
}

// Reject is a row or message that could not be used.
type Reject struct {
	Line   int
	Source string
	Field  string // the column or HL7 field at fault, e.g. "出院日期" or "PID-7"
	Reason string
	// Raw is the offending row or message (truncated), so the rejects file
	// can be corrected and re-imported.
	Raw string
}

func (r Reject) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("%s: %s: %s", r.Source, r.Field, r.Reason)
	}
	return fmt.Sprintf("%s: %s", r.Source, r.Reason)
}

// Sink receives parsed messages and rejects in input order. Returning an
// error from either stops the parse (for I/O failures, not bad rows).
type Sink struct {
	Message func(Message) error
	Reject  func(Reject) error
}

// Outcome returns the treatment outcome the message reports.
func (m Message) Outcome() Outcome { return m.Encounter.Outcome }
