package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"suifang/internal/calendar"
)

// ParseFHIR reads a FHIR R4 Bundle (type transaction, batch, collection,
// searchset or message) holding Patient, Encounter, Condition and
// optionally Procedure, Organization, Location and Practitioner resources,
// and calls sink with one Message per Encounter, in entry order.
//
// The entry array is decoded one entry at a time with a json.Decoder; the
// resources are kept in compact typed form because references may point
// forward, and messages are sent once the bundle has been read. Line is
// the 1-based entry number and Source "name entry N".
//
// References resolve by fullUrl (urn:uuid:… or absolute URL) or by
// "Type/id". Conditions attach to an encounter through Condition.encounter
// or Encounter.diagnosis; a Procedure on the encounter marks surgery.
// Conditions and Procedures that reach no encounter are rejected at their
// own entry. A document that is not a Bundle is an error; so is malformed
// JSON, since the stream cannot be resynchronised. Summary.Rows counts
// entries and IgnoredColumns lists resource types that were skipped.
func ParseFHIR(r io.Reader, name string, sink Sink) (Summary, error) {
	b, err := fhirRead(r, name)
	if err != nil {
		return Summary{}, err
	}
	return b.emit(sink)
}

// ---- FHIR R4 shapes (only the elements used) ----

type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type fhirConcept struct {
	Coding []fhirCoding `json:"coding"`
	Text   string       `json:"text"`
}

type fhirIdentifier struct {
	Use    string       `json:"use"`
	Type   *fhirConcept `json:"type"`
	System string       `json:"system"`
	Value  string       `json:"value"`
}

type fhirReference struct {
	Reference  string          `json:"reference"`
	Display    string          `json:"display"`
	Identifier *fhirIdentifier `json:"identifier"`
}

type fhirHumanName struct {
	Use    string   `json:"use"`
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type fhirContactPoint struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirAddress struct {
	Use      string   `json:"use"`
	Text     string   `json:"text"`
	Line     []string `json:"line"`
	City     string   `json:"city"`
	District string   `json:"district"`
	State    string   `json:"state"`
}

type fhirPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type fhirPatient struct {
	Identifier []fhirIdentifier     `json:"identifier"`
	Name       []fhirHumanName      `json:"name"`
	Gender     string               `json:"gender"`
	BirthDate  string               `json:"birthDate"`
	Telecom    []fhirContactPoint   `json:"telecom"`
	Address    []fhirAddress        `json:"address"`
	Contact    []fhirPatientContact `json:"contact"`
	// deceased[x]: a boolean or a dateTime.
	DeceasedBoolean  *bool  `json:"deceasedBoolean"`
	DeceasedDateTime string `json:"deceasedDateTime"`
}

type fhirPatientContact struct {
	Relationship []fhirConcept  `json:"relationship"`
	Name         *fhirHumanName `json:"name"`
	Organization *fhirReference `json:"organization"`
}

type fhirEncounter struct {
	Status          string           `json:"status"`
	Class           json.RawMessage  `json:"class"` // R4 Coding; R5 CodeableConcept list
	Identifier      []fhirIdentifier `json:"identifier"`
	Subject         *fhirReference   `json:"subject"`
	Period          *fhirPeriod      `json:"period"`
	ServiceType     *fhirConcept     `json:"serviceType"`
	ServiceProvider *fhirReference   `json:"serviceProvider"`
	Hospitalization *struct {
		DischargeDisposition *fhirConcept `json:"dischargeDisposition"`
	} `json:"hospitalization"`
	Location []struct {
		Location fhirReference `json:"location"`
	} `json:"location"`
	Participant []struct {
		Type       []fhirConcept  `json:"type"`
		Individual *fhirReference `json:"individual"`
	} `json:"participant"`
	Diagnosis []struct {
		Condition fhirReference `json:"condition"`
		Rank      int           `json:"rank"`
	} `json:"diagnosis"`
}

type fhirCondition struct {
	Code               *fhirConcept   `json:"code"`
	Subject            *fhirReference `json:"subject"`
	Encounter          *fhirReference `json:"encounter"`
	VerificationStatus *fhirConcept   `json:"verificationStatus"`
}

type fhirProcedure struct {
	Status    string         `json:"status"`
	Code      *fhirConcept   `json:"code"`
	Subject   *fhirReference `json:"subject"`
	Encounter *fhirReference `json:"encounter"`
}

type fhirNamed struct { // Organization, Location
	Name       string           `json:"name"`
	Identifier []fhirIdentifier `json:"identifier"`
}

type fhirPractitioner struct {
	Name []fhirHumanName `json:"name"`
}

// fhirEntry is one decoded bundle entry.
type fhirEntry struct {
	num    int // 1-based
	rtype  string
	id     string
	url    string // the entry's fullUrl
	raw    string // the resource JSON, truncated, for rejects
	reject *Reject

	patient      *fhirPatient
	encounter    *fhirEncounter
	condition    *fhirCondition
	procedure    *fhirProcedure
	named        *fhirNamed
	practitioner *fhirPractitioner

	// Filled while linking.
	conditions []int // entry indexes of this encounter's conditions
	surgery    bool
	procedures []string
	linked     bool // a Condition/Procedure reached an encounter
	warned     bool // a Patient's warnings went out with an earlier message
}

type fhirBundle struct {
	name    string
	rtype   string
	btype   string
	entries []*fhirEntry
	keys    map[string]int // fullUrl and Type/id → entry index
	ignored []string
}

func fhirRead(r io.Reader, name string) (*fhirBundle, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("intake: %s: "+format, append([]any{name}, args...)...)
	}
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fail("不是 JSON / not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail("不是 FHIR Bundle（顶层不是对象）/ not a FHIR Bundle: top level is not an object")
	}
	b := &fhirBundle{name: name, keys: make(map[string]int)}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("%w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "resourceType":
			if err := dec.Decode(&b.rtype); err != nil {
				return nil, fail("resourceType: %w", err)
			}
			if b.rtype != "Bundle" {
				return nil, fail("不是 FHIR Bundle / not a FHIR Bundle: resourceType %q", b.rtype)
			}
		case "type":
			if err := dec.Decode(&b.btype); err != nil {
				return nil, fail("Bundle.type: %w", err)
			}
		case "entry":
			if err := b.readEntries(dec); err != nil {
				return nil, fail("%w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail("%w", err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail("%w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("Bundle 之后还有内容 / data after the Bundle")
	}
	if b.rtype != "Bundle" {
		return nil, fail("不是 FHIR Bundle / not a FHIR Bundle: resourceType %q", b.rtype)
	}
	switch b.btype {
	case "transaction", "batch", "collection", "searchset", "message":
	default:
		return nil, fail("不支持的 Bundle.type %q / unsupported Bundle.type: want transaction, batch or collection", b.btype)
	}
	return b, nil
}

func (b *fhirBundle) readEntries(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // "entry": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("Bundle.entry 不是数组 / Bundle.entry is not an array")
	}
	for dec.More() {
		var raw struct {
			FullURL  string          `json:"fullUrl"`
			Resource json.RawMessage `json:"resource"`
		}
		e := &fhirEntry{num: len(b.entries) + 1}
		b.entries = append(b.entries, e)
		// A syntax error is fatal; a type error only rejects the entry.
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			return fmt.Errorf("entry %d: %w", e.num, err)
		}
		if err := json.Unmarshal(msg, &raw); err != nil {
			e.reject = &Reject{Field: "entry", Reason: "条目格式错误 / malformed entry: " + fhirJSONErr(err), Raw: tblTruncate(string(msg), tblRawMax)}
			continue
		}
		b.addEntry(e, raw.FullURL, raw.Resource)
	}
	_, err = dec.Token() // ']'
	return err
}

func (b *fhirBundle) addEntry(e *fhirEntry, fullURL string, res json.RawMessage) {
	var compact bytes.Buffer
	if json.Compact(&compact, res) == nil {
		e.raw = tblTruncate(compact.String(), tblRawMax)
	} else {
		e.raw = tblTruncate(string(res), tblRawMax)
	}
	if len(bytes.TrimSpace(res)) == 0 || string(bytes.TrimSpace(res)) == "null" {
		e.reject = &Reject{Field: "entry.resource", Reason: "条目没有资源 / entry has no resource"}
		return
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(res, &head); err != nil {
		e.reject = &Reject{Field: "entry.resource", Reason: "资源格式错误 / malformed resource: " + fhirJSONErr(err), Raw: e.raw}
		return
	}
	e.rtype, e.id, e.url = head.ResourceType, head.ID, fullURL
	var target any
	switch e.rtype {
	case "Patient":
		e.patient = new(fhirPatient)
		target = e.patient
	case "Encounter":
		e.encounter = new(fhirEncounter)
		target = e.encounter
	case "Condition":
		e.condition = new(fhirCondition)
		target = e.condition
	case "Procedure":
		e.procedure = new(fhirProcedure)
		target = e.procedure
	case "Organization", "Location":
		e.named = new(fhirNamed)
		target = e.named
	case "Practitioner":
		e.practitioner = new(fhirPractitioner)
		target = e.practitioner
	case "":
		e.reject = &Reject{Field: "resourceType", Reason: "资源缺少 resourceType / resource has no resourceType", Raw: e.raw}
		return
	default:
		if len(b.ignored) < 100 && !fhirContains(b.ignored, e.rtype) {
			b.ignored = append(b.ignored, tblTruncate(e.rtype, 64))
		}
		return
	}
	if err := json.Unmarshal(res, target); err != nil {
		e.patient, e.encounter, e.condition, e.procedure, e.named, e.practitioner = nil, nil, nil, nil, nil, nil
		e.reject = &Reject{Field: e.rtype, Reason: "资源格式错误 / malformed resource: " + fhirJSONErr(err), Raw: e.raw}
		return
	}
	if e.rtype != "Encounter" {
		e.raw = "" // only encounters are quoted in rejects
	}
	idx := e.num - 1
	register := func(k string) {
		if k == "" {
			return
		}
		if _, dup := b.keys[k]; !dup {
			b.keys[k] = idx
		}
	}
	if fullURL != "" {
		if prev, dup := b.keys[fullURL]; dup && b.entries[prev].rtype != "" {
			e.reject = &Reject{Field: "entry.fullUrl", Reason: fmt.Sprintf("fullUrl 与条目 %d 重复 / duplicate fullUrl of entry %d", prev+1, prev+1)}
			e.patient, e.encounter, e.condition, e.procedure, e.named, e.practitioner = nil, nil, nil, nil, nil, nil
			return
		}
		register(fullURL)
		if k := fhirTypeID(fullURL); k != "" && strings.HasPrefix(k, e.rtype+"/") {
			register(k)
		}
	}
	if e.id != "" {
		register(e.rtype + "/" + e.id)
	}
}

// fhirJSONErr words a decoding error without Go type names.
func fhirJSONErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s 的 JSON 类型不对（是 %s）/ %s has the wrong JSON type (%s)", te.Field, te.Value, te.Field, te.Value)
	}
	return err.Error()
}

func fhirContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fhirTypeID returns "Type/id" from a relative or absolute reference,
// without a version suffix; "" when it has no such shape.
func fhirTypeID(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	t, id := parts[len(parts)-2], parts[len(parts)-1]
	if t == "" || id == "" || !unicode.IsUpper(rune(t[0])) {
		return ""
	}
	return t + "/" + id
}

// resolve finds the entry a reference points to; want is the expected
// resource type. The error explains a failed lookup.
func (b *fhirBundle) resolve(ref *fhirReference, want string) (*fhirEntry, error) {
	if ref == nil || strings.TrimSpace(ref.Reference) == "" {
		return nil, errors.New("没有引用 / no reference")
	}
	r := strings.TrimSpace(ref.Reference)
	idx, ok := b.keys[r]
	if !ok {
		if k := fhirTypeID(r); k != "" {
			idx, ok = b.keys[k]
		}
	}
	if !ok {
		return nil, fmt.Errorf("引用的 %s 不在 Bundle 中 / %q is not in the bundle", want, tblTruncate(r, 200))
	}
	e := b.entries[idx]
	if e.rtype != want {
		return nil, fmt.Errorf("引用指向 %s 而不是 %s / %q is a %s, not a %s", e.rtype, want, tblTruncate(r, 200), e.rtype, want)
	}
	if e.reject != nil {
		return nil, fmt.Errorf("引用的条目 %d 已被拒绝 / %q refers to rejected entry %d", e.num, tblTruncate(r, 200), e.num)
	}
	return e, nil
}

// link attaches Conditions and Procedures to encounters.
func (b *fhirBundle) link() {
	// Encounters per patient, for resources that name only the patient.
	byPatient := make(map[*fhirEntry][]*fhirEntry)
	for _, e := range b.entries {
		if e.encounter == nil || e.reject != nil {
			continue
		}
		if p, err := b.resolve(e.encounter.Subject, "Patient"); err == nil {
			byPatient[p] = append(byPatient[p], e)
		}
	}
	// Encounter.diagnosis first, in rank order.
	for _, e := range b.entries {
		if e.encounter == nil || e.reject != nil {
			continue
		}
		diag := e.encounter.Diagnosis
		order := make([]int, len(diag))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool {
			ri, rj := diag[order[i]].Rank, diag[order[j]].Rank
			if ri == 0 || rj == 0 {
				return ri != 0 && rj == 0
			}
			return ri < rj
		})
		for _, i := range order {
			c, err := b.resolve(&diag[i].Condition, "Condition")
			if err != nil {
				continue // reported below if nothing links the Condition
			}
			idx := c.num - 1
			if !fhirHasInt(e.conditions, idx) {
				e.conditions = append(e.conditions, idx)
			}
			c.linked = true
		}
	}
	target := func(enc, subj *fhirReference) (*fhirEntry, error) {
		if enc != nil && strings.TrimSpace(enc.Reference) != "" {
			return b.resolve(enc, "Encounter")
		}
		p, err := b.resolve(subj, "Patient")
		if err != nil {
			return nil, errors.New("既没有 encounter 引用，也找不到患者 / neither an encounter reference nor a known subject")
		}
		if n := len(byPatient[p]); n != 1 {
			return nil, fmt.Errorf("没有 encounter 引用，而该患者有 %d 次就诊 / no encounter reference and the patient has %d encounters", n, n)
		}
		return byPatient[p][0], nil
	}
	for _, e := range b.entries {
		switch {
		case e.reject != nil:
		case e.condition != nil:
			if fhirVoided(e.condition.VerificationStatus) {
				e.linked = true
				continue
			}
			if e.linked && (e.condition.Encounter == nil || e.condition.Encounter.Reference == "") {
				continue
			}
			enc, err := target(e.condition.Encounter, e.condition.Subject)
			if err != nil {
				if !e.linked {
					e.reject = &Reject{Field: "Condition.encounter", Reason: "诊断无法关联到就诊 / cannot link the Condition to an encounter: " + err.Error()}
				}
				continue
			}
			if !fhirHasInt(enc.conditions, e.num-1) {
				enc.conditions = append(enc.conditions, e.num-1)
			}
			e.linked = true
		case e.procedure != nil:
			switch e.procedure.Status {
			case "not-done", "entered-in-error":
				continue
			}
			enc, err := target(e.procedure.Encounter, e.procedure.Subject)
			if err != nil {
				e.reject = &Reject{Field: "Procedure.encounter", Reason: "手术无法关联到就诊 / cannot link the Procedure to an encounter: " + err.Error()}
				continue
			}
			enc.surgery = true
			if name := fhirConceptName(e.procedure.Code); name != "" && len(enc.procedures) < maxProcedures {
				enc.procedures = append(enc.procedures, clipRunes(name, maxProcedureName))
			}
		}
	}
}

func fhirHasInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// fhirVoided reports a Condition recorded in error or refuted.
func fhirVoided(c *fhirConcept) bool {
	if c == nil {
		return false
	}
	for _, cd := range c.Coding {
		if cd.Code == "entered-in-error" || cd.Code == "refuted" {
			return true
		}
	}
	return false
}

// emit links the bundle and sends messages and rejects in entry order.
func (b *fhirBundle) emit(sink Sink) (Summary, error) {
	b.link()
	sum := Summary{Rows: len(b.entries), IgnoredColumns: b.ignored}
	for _, e := range b.entries {
		src := fmt.Sprintf("entry %d", e.num)
		if b.name != "" {
			src = b.name + " " + src
		}
		var rej *Reject
		var msg *Message
		switch {
		case e.reject != nil:
			rej = e.reject
		case e.encounter != nil:
			m, r := b.message(e)
			if r != nil {
				rej = r
				rej.Raw = e.raw
			} else {
				msg = &m
			}
		}
		if rej != nil {
			rej.Line, rej.Source = e.num, src
			if e.rtype != "" && e.id != "" {
				rej.Reason = fmt.Sprintf("%s/%s: %s", e.rtype, tblTruncate(e.id, 64), rej.Reason)
			}
			sum.Rejects++
			if sink.Reject != nil {
				if err := sink.Reject(*rej); err != nil {
					return sum, fmt.Errorf("intake: %s: %w", b.name, err)
				}
			}
		}
		if msg != nil {
			msg.Line, msg.Source = e.num, src
			sum.Messages++
			if sink.Message != nil {
				if err := sink.Message(*msg); err != nil {
					return sum, fmt.Errorf("intake: %s: %w", b.name, err)
				}
			}
		}
	}
	return sum, nil
}

func fhirRej(field, reason string) *Reject { return &Reject{Field: field, Reason: reason} }

// message maps one Encounter and its Patient.
func (b *fhirBundle) message(e *fhirEntry) (Message, *Reject) {
	enc := e.encounter
	var m Message

	switch enc.Status {
	case "finished":
		m.Event = Discharge
	case "in-progress", "arrived", "triaged", "onleave":
		m.Event = Admit
	case "cancelled", "entered-in-error":
		m.Event = CancelDischarge
	default:
		return m, fhirRej("Encounter.status", fmt.Sprintf("不支持的就诊状态 / unsupported status %q", tblTruncate(enc.Status, 64)))
	}
	pe, err := b.resolve(enc.Subject, "Patient")
	if err != nil {
		return m, fhirRej("Encounter.subject", "找不到患者 / patient not found: "+err.Error())
	}
	if r := fhirPatientInto(&m, pe.patient); r != nil {
		r.Reason = fmt.Sprintf("条目 %d（Patient）: %s / entry %d (Patient)", pe.num, r.Reason, pe.num)
		return m, r
	}

	x := &m.Encounter
	code, ok := fhirClassCode(enc.Class)
	if !ok {
		return m, fhirRej("Encounter.class", "就诊类别格式错误 / Encounter.class is neither a Coding nor a list of CodeableConcepts")
	}
	if code != "" {
		x.ClassCode, x.ClassSystem = code, ClassFHIR
		x.Class = DefaultClasses().Of(ClassFHIR, code)
	}
	// identifier is optional in R4 (Synthea sends none): the resource id,
	// else the fullUrl's last segment, is stable across re-sends.
	x.VisitNumber = fhirVisitNumber(enc.Identifier)
	if x.VisitNumber == "" {
		x.VisitNumber = fhirResourceKey(e.id, e.url)
	}
	if x.VisitNumber == "" {
		return m, fhirRej("Encounter.identifier", "就诊号为空（无 identifier、id 与 fullUrl）/ no visit number: no identifier, id or fullUrl")
	}
	if len(x.VisitNumber) > 64 {
		return m, fhirRej("Encounter.identifier", "就诊号过长 / visit number longer than 64 characters")
	}
	if enc.Period != nil {
		var err error
		if enc.Period.Start != "" {
			if x.AdmittedAt, _, err = tblParseTime(enc.Period.Start, false, false); err != nil {
				return m, fhirRej("Encounter.period.start", err.Error())
			}
		}
		if enc.Period.End != "" {
			if x.DischargedAt, _, err = tblParseTime(enc.Period.End, false, false); err != nil {
				return m, fhirRej("Encounter.period.end", err.Error())
			}
		}
	}
	if m.Event == Discharge && x.DischargedAt.IsZero() && x.Class.Visit() && !x.AdmittedAt.IsZero() {
		x.DischargedAt = x.AdmittedAt // a finished visit without an end: it ended the day it began
	}
	if m.Event == Discharge && x.DischargedAt.IsZero() {
		return m, fhirRej("Encounter.period.end", "已完成的就诊缺少出院时间 / finished encounter without period.end")
	}
	if !x.AdmittedAt.IsZero() && !x.DischargedAt.IsZero() && x.DischargedAt.Before(x.AdmittedAt) {
		return m, fhirRej("Encounter.period.end", "出院时间早于入院时间 / discharged before admitted")
	}
	if !m.Patient.BirthDate.IsZero() && !x.AdmittedAt.IsZero() && tblDateOf(x.AdmittedAt).Before(m.Patient.BirthDate) {
		return m, fhirRej("Patient.birthDate", "出生日期晚于入院日期 / born after admission")
	}

	if st := enc.ServiceType; st != nil {
		if len(st.Coding) > 0 {
			x.DepartmentCode = fhirClip(st.Coding[0].Code)
			x.DepartmentName = fhirClip(st.Coding[0].Display)
		}
		if x.DepartmentName == "" {
			x.DepartmentName = fhirClip(st.Text)
		}
	}
	if len(enc.Location) > 0 {
		loc := enc.Location[0].Location
		x.WardName = fhirClip(loc.Display)
		if loc.Identifier != nil {
			x.WardCode = fhirClip(loc.Identifier.Value)
		}
		if le, err := b.resolve(&loc, "Location"); err == nil {
			if x.WardName == "" {
				x.WardName = fhirClip(le.named.Name)
			}
			if x.WardCode == "" && len(le.named.Identifier) > 0 {
				x.WardCode = fhirClip(le.named.Identifier[0].Value)
			}
		}
	}
	// The attending (ATND, 主治), else the primary performer (PPRF: Synthea
	// and many facades name the doctor only so).
	participants := enc.Participant
	for i, p := range enc.Participant {
		if p.Individual != nil && fhirParticipantIs(p.Type, "ATND", "主治") {
			participants = enc.Participant[i:]
			break
		}
	}
	for _, p := range participants {
		if p.Individual == nil || !fhirParticipantIs(p.Type, "ATND", "主治") && !fhirParticipantIs(p.Type, "PPRF", "") {
			continue
		}
		x.AttendingDoctor = fhirClip(p.Individual.Display)
		if x.AttendingDoctor == "" {
			if pr, err := b.resolve(p.Individual, "Practitioner"); err == nil && len(pr.practitioner.Name) > 0 {
				x.AttendingDoctor = fhirClip(fhirName(pr.practitioner.Name))
			}
		}
		break
	}
	m.Facility = b.facility(enc.ServiceProvider)
	if h := enc.Hospitalization; h != nil && h.DischargeDisposition != nil {
		x.Outcome = fhirOutcome(h.DischargeDisposition)
	}
	for _, ci := range e.conditions {
		if d, ok := fhirDiagnosis(b.entries[ci].condition.Code); ok {
			x.Diagnoses = append(x.Diagnoses, d)
		}
	}
	x.Surgery = e.surgery
	x.Procedures = e.procedures
	if died, ok := fhirDeathTime(pe.patient); ok && !died.IsZero() && !x.AdmittedAt.IsZero() && !x.DischargedAt.IsZero() &&
		!died.Before(x.AdmittedAt) && !died.After(x.DischargedAt.Add(24*time.Hour)) {
		x.Outcome = Died // died during this stay, like PID-30 on an A03
	}
	// A patient with several encounters is mapped for each: its warnings
	// go out once, with the first usable one.
	if pe.warned {
		m.Warnings = nil
	}
	pe.warned = true
	return m, nil
}

// fhirDeathTime reads Patient.deceased[x]: ok when the patient has died,
// with the time when deceasedDateTime gives one.
func fhirDeathTime(p *fhirPatient) (time.Time, bool) {
	if v := strings.TrimSpace(p.DeceasedDateTime); v != "" {
		t, _, err := tblParseTime(v, false, false)
		if err != nil {
			return time.Time{}, true // dead at an unreadable time is still dead
		}
		return t, true
	}
	return time.Time{}, p.DeceasedBoolean != nil && *p.DeceasedBoolean
}

// fhirClassCode reads Encounter.class: an R4 Coding, an R5 list of
// CodeableConcepts (the first coding with a code), or nothing (""). A v3
// ActCode coding is preferred when several are given.
func fhirClassCode(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", true
	}
	var codings []fhirCoding
	switch t[0] {
	case '{':
		var c fhirCoding
		if json.Unmarshal(t, &c) != nil {
			return "", false
		}
		codings = []fhirCoding{c}
	case '[':
		var list []fhirConcept
		if json.Unmarshal(t, &list) != nil {
			return "", false
		}
		for _, cc := range list {
			codings = append(codings, cc.Coding...)
		}
	default:
		return "", false
	}
	pick := ""
	for _, c := range codings {
		code := strings.ToUpper(strings.TrimSpace(c.Code))
		if code == "" {
			continue
		}
		if strings.Contains(c.System, "v3-ActCode") || strings.Contains(c.System, "2.16.840.1.113883.5.4") {
			return tblTruncate(code, 20), true
		}
		if pick == "" {
			pick = code
		}
	}
	return tblTruncate(pick, 20), true
}

// fhirResourceKey is an Encounter's id, else its fullUrl's last segment
// (urn:uuid:…, urn:oid:…, or …/Encounter/<id>[/_history/n]).
func fhirResourceKey(id, fullURL string) string {
	if id = strings.TrimSpace(id); id != "" {
		return id
	}
	u := strings.TrimSpace(fullURL)
	for _, pre := range []string{"urn:uuid:", "urn:oid:"} {
		if rest, ok := strings.CutPrefix(u, pre); ok {
			return rest
		}
	}
	if k := fhirTypeID(u); k != "" {
		_, rest, _ := strings.Cut(k, "/")
		return rest
	}
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}

func (b *fhirBundle) facility(sp *fhirReference) string {
	if sp == nil {
		return ""
	}
	if sp.Identifier != nil && sp.Identifier.Value != "" {
		return fhirClip(sp.Identifier.Value)
	}
	if o, err := b.resolve(sp, "Organization"); err == nil {
		for _, id := range o.named.Identifier {
			if id.Value != "" {
				return fhirClip(id.Value)
			}
		}
		if sp.Display == "" {
			return fhirClip(o.named.Name)
		}
	}
	return fhirClip(sp.Display)
}

// fhirClip trims and bounds a free-text value.
func fhirClip(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 500 {
		s = string([]rune(s)[:500])
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func fhirHasCode(c *fhirConcept, codes ...string) bool {
	if c == nil {
		return false
	}
	for _, cd := range c.Coding {
		for _, want := range codes {
			if strings.EqualFold(cd.Code, want) {
				return true
			}
		}
	}
	return false
}

func fhirParticipantIs(types []fhirConcept, code, zh string) bool {
	for i := range types {
		if fhirHasCode(&types[i], code) || (zh != "" && strings.Contains(types[i].Text, zh)) {
			return true
		}
	}
	return false
}

// fhirVisitNumber prefers an identifier typed VN (visit number), then
// the first one with a value.
func fhirVisitNumber(ids []fhirIdentifier) string {
	for _, id := range ids {
		if fhirHasCode(id.Type, "VN") && strings.TrimSpace(id.Value) != "" {
			return strings.TrimSpace(id.Value)
		}
	}
	for _, id := range ids {
		if v := strings.TrimSpace(id.Value); v != "" {
			return v
		}
	}
	return ""
}

// fhirPatientInto maps a Patient resource.
func fhirPatientInto(m *Message, p *fhirPatient) *Reject {
	pt := &m.Patient
	var nidStrict, nidLoose []string
	for _, id := range p.Identifier {
		v := strings.TrimSpace(id.Value)
		if v == "" {
			continue
		}
		switch {
		case fhirHasCode(id.Type, "MR") || (id.Type != nil && (strings.Contains(id.Type.Text, "病案") || strings.Contains(id.Type.Text, "住院号"))):
			if pt.MRN == "" {
				pt.MRN = v
			}
		case fhirHasCode(id.Type, "NNCHN", "CZ", "NI") || (id.Type != nil && strings.Contains(id.Type.Text, "身份证")):
			nidStrict = append(nidStrict, v)
		case strings.Contains(id.System, "2.16.156"):
			nidLoose = append(nidLoose, v)
		}
	}
	if pt.MRN == "" {
		return fhirRej("Patient.identifier", "缺少病案号（type MR 的 identifier）/ no identifier of type MR (medical record number)")
	}
	if len(pt.MRN) > 64 {
		return fhirRej("Patient.identifier", "病案号过长 / MRN longer than 64 characters")
	}
	var idBirth calendar.Date
	var idSex Sex
	if len(nidStrict) > 0 { // the first typed resident ID must be valid
		id, bd, sex, err := gb11643Parse(nidStrict[0])
		if err != nil {
			return fhirRej("Patient.identifier", err.Error())
		}
		pt.NationalID, idBirth, idSex = id, bd, sex
	}
	if pt.NationalID == "" {
		// A Chinese OID system without a type: use it only if it is an ID.
		for _, v := range nidLoose {
			if id, bd, sex, err := gb11643Parse(v); err == nil {
				pt.NationalID, idBirth, idSex = id, bd, sex
				break
			}
		}
	}

	pt.Name = fhirClip(fhirName(p.Name))
	if pt.Name == "" {
		return fhirRej("Patient.name", "姓名为空 / no name")
	}
	switch p.Gender {
	case "male":
		pt.Sex = Male
	case "female":
		pt.Sex = Female
	case "other", "unknown":
		pt.Sex = Unknown
	case "":
		pt.Sex = idSex
	default:
		return fhirRej("Patient.gender", fmt.Sprintf("性别无法识别 / unknown gender %q", tblTruncate(p.Gender, 32)))
	}
	if pt.Sex == "" {
		pt.Sex = Unknown
	}
	switch bd := strings.TrimSpace(p.BirthDate); len(bd) {
	case 0, 4, 7: // absent or partial (YYYY, YYYY-MM): no date
		pt.BirthDate = idBirth
	default:
		d, err := calendar.ParseDate(bd)
		if err != nil {
			return fhirRej("Patient.birthDate", "出生日期无效 / invalid birthDate "+fmt.Sprintf("%q", tblTruncate(bd, 32)))
		}
		pt.BirthDate = d
	}
	for _, t := range p.Telecom {
		if t.System != "phone" && t.System != "sms" {
			continue
		}
		if strings.TrimSpace(t.Value) == "" {
			continue
		}
		phones, bad := ParsePhones(t.Value)
		for _, b := range bad {
			m.warnPhone("Patient.telecom", b.Err, b.Raw)
		}
		for _, ph := range phones {
			pt.Phones = tblAppendUnique(pt.Phones, ph)
		}
	}
	_, pt.Deceased = fhirDeathTime(p)
	pt.Address = fhirClip(fhirAddressText(p.Address))
	for _, c := range p.Contact {
		if !fhirParticipantIs(c.Relationship, "E", "单位") {
			continue
		}
		if c.Organization != nil && c.Organization.Display != "" {
			pt.Employer = fhirClip(c.Organization.Display)
		} else if c.Name != nil {
			pt.Employer = fhirClip(fhirName([]fhirHumanName{*c.Name}))
		}
		break
	}
	return nil
}

// fhirName picks the official name (else the first) and writes it as
// text, or family+given: no space for Chinese, "given family" otherwise.
func fhirName(names []fhirHumanName) string {
	if len(names) == 0 {
		return ""
	}
	n := names[0]
	for _, x := range names {
		if x.Use == "official" {
			n = x
			break
		}
	}
	if t := strings.TrimSpace(n.Text); t != "" {
		return t
	}
	given := strings.TrimSpace(strings.Join(n.Given, ""))
	family := strings.TrimSpace(n.Family)
	if fhirHasHan(family) || fhirHasHan(given) {
		return family + given
	}
	return strings.TrimSpace(strings.TrimSpace(strings.Join(n.Given, " ")) + " " + family)
}

func fhirHasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// fhirAddressText prefers a home address; text, else state+city+district+
// lines (Chinese order, largest first).
func fhirAddressText(as []fhirAddress) string {
	if len(as) == 0 {
		return ""
	}
	a := as[0]
	for _, x := range as {
		if x.Use == "home" {
			a = x
			break
		}
	}
	if t := strings.TrimSpace(a.Text); t != "" {
		return t
	}
	var parts []string
	for _, p := range append([]string{a.State, a.City, a.District}, a.Line...) {
		p = strings.TrimSpace(p)
		if p != "" && (len(parts) == 0 || parts[len(parts)-1] != p) {
			parts = append(parts, p)
		}
	}
	sep := " "
	if fhirHasHan(strings.Join(parts, "")) {
		sep = ""
	}
	return strings.Join(parts, sep)
}

// fhirOutcome maps a discharge disposition: the Chinese outcome words or
// their codes, "exp" (expired) → died, "oth" → other; other dispositions
// (home, transfer…) say nothing about the treatment result.
func fhirOutcome(c *fhirConcept) Outcome {
	var cands []string
	for _, cd := range c.Coding {
		cands = append(cands, cd.Code, cd.Display)
	}
	cands = append(cands, c.Text)
	for _, s := range cands {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "":
			continue
		case "exp":
			return Died
		case "oth":
			return Other
		}
		if o, err := tblParseOutcome(s); err == nil && o != "" {
			return o
		}
	}
	return ""
}

// fhirDiagnosis takes the ICD-10 coding of a Condition (system naming
// ICD-10 or OID 2.16.840.1.113883.6.3), else the first coding, else text.
// fhirConceptName is a concept's human name: its text, else the first
// coding's display, else its code.
func fhirConceptName(c *fhirConcept) string {
	if c == nil {
		return ""
	}
	if t := strings.TrimSpace(c.Text); t != "" {
		return t
	}
	for _, cd := range c.Coding {
		if d := strings.TrimSpace(cd.Display); d != "" {
			return d
		}
	}
	if len(c.Coding) > 0 {
		return strings.TrimSpace(c.Coding[0].Code)
	}
	return ""
}

func fhirDiagnosis(c *fhirConcept) (Diagnosis, bool) {
	if c == nil {
		return Diagnosis{}, false
	}
	var pick *fhirCoding
	for i := range c.Coding {
		sys := strings.ToLower(c.Coding[i].System)
		if strings.Contains(sys, "icd-10") || strings.Contains(sys, "icd10") || strings.Contains(sys, "2.16.840.1.113883.6.3") {
			pick = &c.Coding[i]
			break
		}
	}
	if pick == nil && len(c.Coding) > 0 {
		pick = &c.Coding[0]
	}
	var d Diagnosis
	if pick != nil {
		d = Diagnosis{Code: fhirClip(pick.Code), Name: fhirClip(pick.Display)}
	}
	if d.Name == "" {
		d.Name = fhirClip(c.Text)
	}
	if len(d.Code) > 64 {
		d.Code = tblTruncate(d.Code, 64)
	}
	return d, d.Code != "" || d.Name != ""
}
