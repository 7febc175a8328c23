package intake

import "strings"

// Code systems of Encounter.ClassCode.
const (
	ClassHL7  = "hl7"  // PV1-2, HL7 table 0004
	ClassFHIR = "fhir" // Encounter.class, v3 ActCode
)

// Classes says which encounter class codes are inpatient stays. A hospital
// whose HIS sends its own codes lists them; the rest of each table keeps its
// meaning (HL7 O, R, B outpatient, E emergency, P pre-admit; FHIR AMB
// outpatient, EMER emergency), and a code in neither table is another kind
// of visit. An empty code is an inpatient stay: CSV discharge lists and
// senders that leave PV1-2 empty send discharges.
type Classes struct {
	HL7  []string // default I
	FHIR []string // default IMP, ACUTE, NONAC
}

// DefaultClasses are the inpatient codes out of the box. OBSENC (an
// observation encounter, 急诊留观) is not among them: Chinese hospitals do
// not count an observation stay as an admission; list it to change that.
func DefaultClasses() Classes {
	return Classes{HL7: []string{"I"}, FHIR: []string{"IMP", "ACUTE", "NONAC"}}
}

// ParseClassList reads a comma-separated list of codes ("I,U").
func ParseClassList(s string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		out = append(out, strings.ToUpper(c))
	}
	return out
}

// Of is the class of code in system.
func (c Classes) Of(system, code string) Class {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return Inpatient
	}
	list := c.HL7
	if system == ClassFHIR {
		list = c.FHIR
	}
	for _, x := range list {
		if strings.EqualFold(x, code) {
			return Inpatient
		}
	}
	if system == ClassFHIR {
		switch code {
		case "AMB":
			return Outpatient
		case "EMER":
			return Emergency
		case "PRENC":
			return Preadmit
		}
		return OtherVisit
	}
	switch code {
	case "O", "R", "B":
		return Outpatient
	case "E":
		return Emergency
	case "P":
		return Preadmit
	}
	return OtherVisit
}

// Apply re-derives m's class with c (a no-op for messages with no code).
func (c Classes) Apply(m *Message) {
	if m.Encounter.ClassCode != "" {
		m.Encounter.Class = c.Of(m.Encounter.ClassSystem, m.Encounter.ClassCode)
	}
}
