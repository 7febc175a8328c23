package intake

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"suifang/internal/calendar"
	"suifang/internal/hl7"
)

// hl7Zone is the time zone of HL7 times sent without an offset: China
// Standard Time.
var hl7Zone = time.FixedZone("CST", 8*3600)

// hl7RawLimit bounds Reject.Raw for HL7 messages.
const hl7RawLimit = 500

// ParseHL7 reads HL7 v2 ADT messages — one file, a batch file or an MLLP
// capture — and hands each to sink as a Message or a Reject, in order.
// name labels the source ("adt-20250301.hl7"); Source is "<name> message
// <n>" and Line n. Supported triggers: A01 admit, A03 discharge, A08
// update, A11 cancel admit, A13 cancel discharge. Field numbers are those
// of HL7 2.5, which are the same for the fields used here from 2.3 to 2.8.
//
// Bad messages are rejected with a reason and parsing continues; the error
// result is for read failures and errors returned by sink.
func ParseHL7(r io.Reader, name string, sink Sink) error {
	return hl7.SplitBatch(r, func(raw []byte, index int) error {
		src := fmt.Sprintf("%s message %d", name, index)
		msg, rej := mapHL7(raw)
		if rej != nil {
			rej.Line, rej.Source = index, src
			if sink.Reject != nil {
				return sink.Reject(*rej)
			}
			return nil
		}
		msg.Line, msg.Source = index, src
		if sink.Message != nil {
			return sink.Message(msg)
		}
		return nil
	})
}

var hl7Events = map[string]Event{
	"A01": Admit,
	"A03": Discharge,
	"A08": Update,
	"A11": CancelAdmit,
	"A13": CancelDischarge,
}

// mapHL7 turns one raw message into a Message, or says why it cannot.
func mapHL7(raw []byte) (Message, *Reject) {
	reject := func(field, format string, args ...any) (Message, *Reject) {
		text, _ := hl7.Decode(raw) // Raw in UTF-8, like every other field
		return Message{}, &Reject{Field: field, Reason: fmt.Sprintf(format, args...), Raw: hl7Clip(string(text), hl7RawLimit)}
	}
	m, err := hl7.ParseMessage(raw)
	if err != nil {
		return reject("", "not a valid HL7 v2 message: %s", strings.TrimPrefix(err.Error(), "hl7: "))
	}
	get := func(path string) string { return hl7Value(m.Get(path)) }

	typ, trigger := get("MSH-9.1"), get("MSH-9.2")
	if trigger == "" {
		trigger = get("EVN-1")
	}
	switch {
	case typ == "":
		return reject("MSH-9", "message type missing")
	case !strings.EqualFold(typ, "ADT"):
		return reject("MSH-9", "unsupported message type %q (only ADT)", hl7Clip(typ, 20))
	case trigger == "":
		return reject("MSH-9", "trigger event missing (MSH-9.2 and EVN-1 empty)")
	}
	ev, ok := hl7Events[strings.ToUpper(trigger)]
	if !ok {
		return reject("MSH-9", "unsupported trigger event %q", hl7Clip(trigger, 20))
	}
	if m.Segment("PID") == nil {
		return reject("PID", "PID segment missing")
	}

	out := Message{
		Event:     ev,
		Facility:  get("MSH-4.1"),
		ControlID: get("MSH-10"),
	}
	if out.Facility == "" {
		out.Facility = get("PV1-3.4.1")
	}

	// Patient.
	p := &out.Patient
	pid := m.Segment("PID")
	p.MRN, p.NationalID = hl7Identifiers(pid)
	if p.MRN == "" {
		return reject("PID-3", "no patient identifier (PID-3)")
	}
	if p.NationalID == "" {
		// PID-19 is the US social security number in the standard; Chinese
		// HIS put the 身份证号 there. Take it only when it has that shape, so
		// a foreign number is not mistaken for an invalid Chinese one.
		if v := hl7Value(pid.Field(19).Value()); looksLikeCitizenID(v) {
			p.NationalID = v
		}
	}
	p.Name = hl7Name(pid.Field(5).Rep(1), 1)
	p.Sex = hl7Sex(get("PID-8"))
	if dob := get("PID-7"); dob != "" {
		d, ok := hl7BirthDate(dob)
		if !ok {
			return reject("PID-7", "invalid birth date %q (want YYYYMMDD)", hl7Clip(dob, 30))
		}
		p.BirthDate = d
	}
	hl7Phones(&out, m)
	p.Address = hl7Address(pid.Field(11).Rep(1))
	p.Employer = hl7Employer(m)

	// Encounter.
	e := &out.Encounter
	pv1 := m.Segment("PV1")
	e.VisitNumber = hl7Value(pv1.Get("19.1"))
	if e.VisitNumber == "" {
		e.VisitNumber = get("PID-18.1")
	}
	if e.VisitNumber == "" {
		return reject("PV1-19", "visit number missing (PV1-19 and PID-18 empty)")
	}
	e.WardCode = hl7Value(pv1.Get("3.1"))
	e.WardName = hl7Value(pv1.Get("3.9"))
	e.DepartmentCode = hl7Value(pv1.Get("10.1"))
	e.DepartmentName = hl7Value(pv1.Get("10.2"))
	if e.DepartmentCode == "" {
		e.DepartmentCode = e.WardCode
	}
	e.AttendingDoctor = hl7Name(pv1.Field(7).Rep(1), 2)
	e.ResponsibleNurse = hl7Nurse(m)

	var err2 *Reject
	e.AdmittedAt, err2 = hl7Time(pv1, 44, false)
	if err2 != nil {
		return reject(err2.Field, "%s", err2.Reason)
	}
	e.DischargedAt, err2 = hl7Time(pv1, 45, ev == Discharge)
	if err2 != nil {
		return reject(err2.Field, "%s", err2.Reason)
	}
	for _, dg := range m.SegmentsNamed("DG1") {
		d := Diagnosis{Code: hl7Value(dg.Get("3.1")), Name: hl7Value(dg.Get("3.2"))}
		if d.Name == "" {
			d.Name = hl7Value(dg.Get("4"))
		}
		if d.Code != "" || d.Name != "" {
			e.Diagnoses = append(e.Diagnoses, d)
		}
	}
	for _, pr := range m.SegmentsNamed("PR1") {
		e.Surgery = true
		// PR1-3 is the procedure code (CE/CWE: code^text); PR1-4 the older description.
		name := hl7Value(pr.Get("3.2"))
		if name == "" {
			name = hl7Value(pr.Get("4"))
		}
		if name == "" {
			name = hl7Value(pr.Get("3.1"))
		}
		if name != "" && len(e.Procedures) < maxProcedures {
			e.Procedures = append(e.Procedures, clipRunes(name, maxProcedureName))
		}
	}
	e.Outcome = hl7Outcome(pv1.Field(36).Rep(1))
	if strings.EqualFold(get("PID-30"), "Y") {
		p.Deceased = true
		e.Outcome = Died
	} else if get("PID-29") != "" && !strings.EqualFold(get("PID-30"), "N") {
		p.Deceased = true // a death date/time without the indicator
	}
	// PV1-2 patient class (HL7 table 0004): only inpatients are discharges.
	// An empty PV1-2 leaves Class empty: inpatient for a new stay, the
	// stored class for a known one.
	if code := strings.ToUpper(hl7Clip(hl7Value(pv1.Get("2.1")), 20)); code != "" {
		e.ClassCode, e.ClassSystem = code, ClassHL7
		e.Class = DefaultClasses().Of(ClassHL7, code)
	}
	return out, nil
}

// hl7Value trims a primitive and treats the HL7 explicit null `""` as empty.
func hl7Value(s string) string {
	s = strings.TrimSpace(s)
	if s == `""` {
		return ""
	}
	return s
}

// hl7Clip cuts s to at most n bytes on a character boundary.
func hl7Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hl7Identifiers picks the MRN (the PID-3 repetition typed MR, else the first
// one; PID-2 for senders older than 2.3 that leave PID-3 empty) and the
// national id (the repetition typed NNCHN, ID or NI; not validated here).
func hl7Identifiers(pid *hl7.Segment) (mrn, nationalID string) {
	f := pid.Field(3)
	for i := 1; i <= f.NumReps(); i++ {
		r := f.Rep(i)
		id := hl7Value(r.Value())
		if id == "" {
			continue
		}
		switch strings.ToUpper(hl7Value(r.Component(5).Value())) {
		case "MR":
			if mrn == "" {
				mrn = id
			}
		case "NNCHN", "ID", "NI":
			if nationalID == "" {
				nationalID = id
			}
		}
	}
	if mrn == "" {
		for i := 1; i <= f.NumReps(); i++ {
			if id := hl7Value(f.Rep(i).Value()); id != "" {
				mrn = id
				break
			}
		}
	}
	if mrn == "" {
		mrn = hl7Value(pid.Field(2).Value())
	}
	return mrn, nationalID
}

// hl7Name formats an XPN (first = 1: family ^ given) or XCN (first = 2,
// after the id) name: family and given run together when either is
// Chinese ("张三"), "Given Family" otherwise. An XCN without a name falls
// back to its id.
func hl7Name(r hl7.Rep, first int) string {
	family := hl7Value(r.Component(first).Value())
	given := hl7Value(r.Component(first + 1).Value())
	name := ""
	switch {
	case family == "" || given == "":
		name = family + given
	case hl7HasHan(family) || hl7HasHan(given):
		name = family + given
	default:
		name = given + " " + family
	}
	if name == "" && first == 2 {
		name = hl7Value(r.Value())
	}
	return name
}

func hl7HasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// hl7Sex reads PID-8 (HL7 table 0001), also accepting GB/T 2261.1 codes and
// Chinese words, which Chinese HIS send.
func hl7Sex(s string) Sex {
	switch strings.ToUpper(s) {
	case "M", "1", "男":
		return Male
	case "F", "2", "女":
		return Female
	}
	return Unknown
}

// hl7BirthDate takes the first 8 digits of a TS as YYYYMMDD.
func hl7BirthDate(s string) (calendar.Date, bool) {
	if len(s) < 8 {
		return calendar.Date{}, false
	}
	n := [3]int{}
	for k, w := range [][2]int{{0, 4}, {4, 6}, {6, 8}} {
		for i := w[0]; i < w[1]; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return calendar.Date{}, false
			}
			n[k] = n[k]*10 + int(c-'0')
		}
	}
	d := calendar.Date{Year: n[0], Month: time.Month(n[1]), Day: n[2]}
	return d, d.Valid()
}

// hl7Phones collects PID-13 (home) and PID-14 (business) numbers, then
// the phones of next-of-kin (NK1-5, NK1-6) other than the employer: XTN.1,
// else XTN.12 (unformatted number), else area code + local number;
// e-mail-only repetitions are skipped. Each is normalised like a CSV cell;
// an unusable one is dropped with a warning.
func hl7Phones(out *Message, m *hl7.Message) {
	take := func(label string, f hl7.Field) {
		for i := 1; i <= f.NumReps(); i++ {
			r := f.Rep(i)
			num := hl7Value(r.Value())
			if num == "" {
				num = hl7Value(r.Component(12).Value())
			}
			if num == "" {
				num = hl7Value(r.Component(6).Value()) + hl7Value(r.Component(7).Value())
			}
			if num == "" {
				continue
			}
			ok, bad := ParsePhones(num)
			for _, b := range bad {
				out.warnPhone(label, b.Err, b.Raw)
			}
			for _, n := range ok {
				if len(out.Patient.Phones) < 10 {
					out.Patient.Phones = tblAppendUnique(out.Patient.Phones, n)
				}
			}
		}
	}
	pid := m.Segment("PID")
	take("PID-13", pid.Field(13))
	take("PID-14", pid.Field(14))
	for _, nk := range m.SegmentsNamed("NK1") {
		rel := strings.ToUpper(hl7Value(nk.Get("3.1")))
		if rel == "EMR" || rel == "EMP" || strings.EqualFold(hl7Value(nk.Get("7.1")), "E") {
			continue // the employer's switchboard is not the patient's phone
		}
		take("NK1-5", nk.Field(5))
		take("NK1-6", nk.Field(6))
	}
}

// hl7Address formats an XAD. Chinese addresses run province + city + street
// + other designation with no separator (parts the street already contains
// are not repeated); others are "street, other, city, state, zip".
func hl7Address(r hl7.Rep) string {
	var street []string
	for _, s := range r.Component(1) { // SAD: street & name & dwelling number
		if s = hl7Value(s); s != "" {
			street = append(street, s)
		}
	}
	st := strings.Join(street, " ")
	other := hl7Value(r.Component(2).Value())
	city := hl7Value(r.Component(3).Value())
	prov := hl7Value(r.Component(4).Value())
	zip := hl7Value(r.Component(5).Value())
	if hl7HasHan(st) || hl7HasHan(other) || hl7HasHan(city) || hl7HasHan(prov) {
		var b strings.Builder
		for _, part := range []string{prov, city} {
			if part != "" && !strings.Contains(st, part) {
				b.WriteString(part)
			}
		}
		b.WriteString(strings.Join(street, ""))
		b.WriteString(other)
		return b.String()
	}
	var parts []string
	for _, s := range []string{st, other, city, prov, zip} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// hl7Employer reads the patient's employer where ADT carries one: an NK1
// whose relationship (NK1-3) is EMR/EMP or whose contact role (NK1-7) is E
// (organisation name NK1-13, else the contact's name NK1-2); else a GT1
// whose guarantor is the patient (GT1-11 SEL/SLF) — its GT1-16.
func hl7Employer(m *hl7.Message) string {
	for _, nk := range m.SegmentsNamed("NK1") {
		rel := strings.ToUpper(hl7Value(nk.Get("3.1")))
		role := strings.ToUpper(hl7Value(nk.Get("7.1")))
		if rel == "EMR" || rel == "EMP" || role == "E" {
			if org := hl7Value(nk.Get("13.1")); org != "" {
				return org
			}
			if n := hl7Name(nk.Field(2).Rep(1), 1); n != "" {
				return n
			}
		}
	}
	for _, gt := range m.SegmentsNamed("GT1") {
		switch strings.ToUpper(hl7Value(gt.Get("11.1"))) {
		case "SEL", "SLF", "SELF":
			if e := hl7Value(gt.Get("16.1")); e != "" {
				return e
			}
		}
	}
	return ""
}

// hl7Nurse returns the person of the first ROL segment whose role (ROL-3) is
// a nurse; HL7 ADT has no standard responsible-nurse field.
func hl7Nurse(m *hl7.Message) string {
	for _, rol := range m.SegmentsNamed("ROL") {
		switch strings.ToUpper(hl7Value(rol.Get("3.1"))) {
		case "NURSE", "RN", "PNURSE", "责任护士", "护士":
			if n := hl7Name(rol.Field(4).Rep(1), 2); n != "" {
				return n
			}
		}
	}
	return ""
}

// hl7Time parses PV1-n as a TS (China Standard Time when no offset).
func hl7Time(pv1 *hl7.Segment, n int, required bool) (time.Time, *Reject) {
	field := fmt.Sprintf("PV1-%d", n)
	s := hl7Value(pv1.Field(n).Value())
	if s == "" {
		if required {
			return time.Time{}, &Reject{Field: field, Reason: "discharge date/time missing"}
		}
		return time.Time{}, nil
	}
	t, err := hl7.ParseTime(s, hl7Zone)
	if err != nil {
		return time.Time{}, &Reject{Field: field, Reason: strings.TrimPrefix(err.Error(), "hl7: ")}
	}
	return t, nil
}

// hl7Outcome maps PV1-36 (discharge disposition). Chinese HIS send the
// treatment-result code of the front sheet (1 治愈, 2 好转, 3 未愈, 4 死亡,
// 9 其他) or its words; HL7 table 0112 code 20 (and 40–42) means expired.
func hl7Outcome(r hl7.Rep) Outcome {
	code := hl7Value(r.Value())
	if o, ok := hl7OutcomeOf(code); ok {
		return o
	}
	if o, ok := hl7OutcomeOf(hl7Value(r.Component(2).Value())); ok {
		return o
	}
	if code == "" && hl7Value(r.Component(2).Value()) == "" {
		return ""
	}
	return Other
}

func hl7OutcomeOf(s string) (Outcome, bool) {
	switch s {
	case "01", "1", "治愈":
		return Cured, true
	case "02", "2", "好转":
		return Improved, true
	case "03", "3", "未愈":
		return NotCured, true
	case "04", "4", "死亡", "20", "40", "41", "42":
		return Died, true
	}
	return "", false
}

// looksLikeCitizenID reports whether v has the shape of a GB 11643 number:
// 18 characters (17 digits and a digit or X) or 15 digits.
func looksLikeCitizenID(v string) bool {
	if len(v) != 18 && len(v) != 15 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			if !(i == 17 && (c == 'X' || c == 'x')) {
				return false
			}
		}
	}
	return true
}
