package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/patient"
)

// maxBulk is how many messages one bulk POST /encounters may carry.
const maxBulk = 1000

// encounterMessage is one HIS event as the API takes it: the JSON form of
// intake.Message.
type encounterMessage struct {
	Event     string      `json:"event"`
	Patient   patientIn   `json:"patient"`
	Encounter encounterIn `json:"encounter"`
}

type patientIn struct {
	MRN        string   `json:"mrn"`
	NationalID string   `json:"national_id"`
	Name       string   `json:"name"`
	Sex        string   `json:"sex"`
	BirthDate  string   `json:"birth_date"`
	Phones     []string `json:"phones"`
	Address    string   `json:"address"`
	Employer   string   `json:"employer"`
	Deceased   bool     `json:"deceased"`
}

type diagnosisJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type encounterIn struct {
	VisitNumber      string          `json:"visit_number"`
	DepartmentCode   string          `json:"department_code"`
	DepartmentName   string          `json:"department_name"`
	WardCode         string          `json:"ward_code"`
	WardName         string          `json:"ward_name"`
	AttendingDoctor  string          `json:"attending_doctor"`
	ResponsibleNurse string          `json:"responsible_nurse"`
	AdmittedAt       string          `json:"admitted_at"`
	DischargedAt     string          `json:"discharged_at"`
	Diagnoses        []diagnosisJSON `json:"diagnoses"`
	Surgery          bool            `json:"surgery"`
	Procedures       []string        `json:"procedures"`
	Outcome          string          `json:"outcome"`
	Class            string          `json:"class"`
}

var events = []intake.Event{intake.Admit, intake.Discharge, intake.Update, intake.CancelAdmit, intake.CancelDischarge}

var outcomes = []intake.Outcome{intake.Cured, intake.Improved, intake.NotCured, intake.Died, intake.Other}

// message checks what the API can check by itself and builds the intake
// message; the patient service checks the rest when the importer applies it.
func (in *encounterMessage) message(line int) (intake.Message, error) {
	var fe fieldErrors
	m := intake.Message{Source: fmt.Sprintf("api item %d", line), Line: line, Event: intake.Event(in.Event)}
	known := false
	for _, e := range events {
		known = known || e == m.Event
	}
	if !known {
		fe.add(errs.Field("event", "bad_event", "event must be admit, discharge, update, cancel_admit or cancel_discharge"))
	}
	p, e := in.Patient, in.Encounter
	m.Patient = intake.Patient{MRN: strings.TrimSpace(p.MRN), NationalID: p.NationalID, Name: p.Name, Sex: intake.Sex(p.Sex),
		Phones: p.Phones, Address: p.Address, Employer: p.Employer, Deceased: p.Deceased}
	if m.Patient.MRN == "" {
		fe.add(errs.Field("patient.mrn", "missing_mrn", "patient.mrn (病案号) is required"))
	}
	switch m.Patient.Sex {
	case "", intake.Male, intake.Female, intake.Unknown:
	default:
		fe.add(errs.Field("patient.sex", "bad_sex", "patient.sex must be M, F or U"))
	}
	if p.BirthDate != "" {
		d, err := calendar.ParseDate(p.BirthDate)
		if err != nil {
			fe.add(errs.Field("patient.birth_date", "bad_date", "patient.birth_date must be a date written YYYY-MM-DD"))
		}
		m.Patient.BirthDate = d
	}
	m.Encounter = intake.Encounter{VisitNumber: strings.TrimSpace(e.VisitNumber), DepartmentCode: e.DepartmentCode,
		DepartmentName: e.DepartmentName, WardCode: e.WardCode, WardName: e.WardName, AttendingDoctor: e.AttendingDoctor,
		ResponsibleNurse: e.ResponsibleNurse, Surgery: e.Surgery || len(e.Procedures) > 0, Procedures: e.Procedures, Outcome: intake.Outcome(e.Outcome),
		Class: intake.Class(e.Class)}
	switch m.Encounter.Class {
	case "", intake.Inpatient, intake.Outpatient, intake.Emergency, intake.Preadmit, intake.OtherVisit:
	default:
		fe.add(errs.Field("encounter.class", "bad_class", "encounter.class must be inpatient, outpatient, emergency, preadmit or other"))
	}
	if m.Encounter.VisitNumber == "" {
		fe.add(errs.Field("encounter.visit_number", "missing_visit_number", "encounter.visit_number (住院流水号) is required"))
	}
	for _, t := range []struct {
		name string
		v    string
		dst  *time.Time
	}{{"encounter.admitted_at", e.AdmittedAt, &m.Encounter.AdmittedAt}, {"encounter.discharged_at", e.DischargedAt, &m.Encounter.DischargedAt}} {
		if t.v == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			fe.add(errs.Field(t.name, "bad_time", t.name+" must be an RFC 3339 time with its offset, e.g. 2026-10-10T14:05:00+08:00"))
		}
		*t.dst = ts
	}
	if m.Encounter.Outcome != "" {
		known = false
		for _, o := range outcomes {
			known = known || o == m.Encounter.Outcome
		}
		if !known {
			fe.add(errs.Field("encounter.outcome", "bad_outcome", "encounter.outcome must be cured, improved, not_cured, died or other"))
		}
	}
	for _, d := range e.Diagnoses {
		m.Encounter.Diagnoses = append(m.Encounter.Diagnoses, intake.Diagnosis{Code: strings.TrimSpace(d.Code), Name: strings.TrimSpace(d.Name)})
	}
	return m, fe.err()
}

// encounterResultJSON is what storing one message did.
type encounterResultJSON struct {
	VisitNumber    string `json:"visit_number"`
	Status         string `json:"status"`
	Created        bool   `json:"created"`
	Change         string `json:"change"`
	TasksCreated   int    `json:"tasks_created"`
	TasksCancelled int    `json:"tasks_cancelled"`
	// Class is the stored encounter's class: only inpatient stays get a plan.
	Class    string        `json:"class"`
	Warnings []warningJSON `json:"warnings"`
}

// warningJSON is a value dropped from a stored message (masked).
type warningJSON struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Value  string `json:"value"`
}

type itemErrorJSON struct {
	Code   string            `json:"code"`
	Detail string            `json:"detail"`
	Errors map[string]string `json:"errors,omitempty"`
}

type bulkItemJSON struct {
	Index       int                  `json:"index"`
	HTTPStatus  int                  `json:"http_status"`
	VisitNumber string               `json:"visit_number"`
	Result      *encounterResultJSON `json:"result,omitempty"`
	Error       *itemErrorJSON       `json:"error,omitempty"`
}

type bulkResultJSON struct {
	Results  []bulkItemJSON `json:"results"`
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
}

// rejectFields maps the patient service's field names to JSON paths.
var rejectFields = map[string]string{
	"mrn": "patient.mrn", "name": "patient.name", "national_id": "patient.national_id", "birth_date": "patient.birth_date",
	"sex": "patient.sex", "phone": "patient.phones", "visit_number": "encounter.visit_number",
	"discharged_at": "encounter.discharged_at", "admitted_at": "encounter.admitted_at", "outcome": "encounter.outcome",
	"facility": "institution", "institution": "institution",
}

var errEncounterNotFound = errs.New(errs.NotFound, "encounter_not_found", "no such encounter")

// outcome turns the report of one stored message into the answer: the
// result with 201 (created) or 200, or the reject as an error.
func (s *server) outcome(ctx context.Context, p *access.Principal, m intake.Message, rep importer.Report) (int, *encounterResultJSON, error) {
	if rep.Rejected > 0 {
		if m.Event == intake.CancelAdmit || m.Event == intake.CancelDischarge {
			// A cancellation for a visit Suifang never received.
			if _, err := s.d.Patients.EncounterByVisit(ctx, p, p.InstitutionID, m.Encounter.VisitNumber); errs.Is(err, errs.NotFound) {
				return 0, nil, errEncounterNotFound
			}
		}
		e := &errs.Error{Kind: errs.Invalid, Code: "encounter_rejected", Msg: "the message was rejected"}
		if len(rep.Rejects) > 0 {
			rj := rep.Rejects[0]
			e.Msg = rj.Reason
			if rj.Field != "" {
				f := rj.Field
				if path, ok := rejectFields[f]; ok {
					f = path
				}
				e.Fields = map[string]string{f: "invalid"}
			}
		}
		return 0, nil, e
	}
	res := &encounterResultJSON{VisitNumber: m.Encounter.VisitNumber, Created: rep.New > 0,
		TasksCreated: rep.TasksCreated, TasksCancelled: rep.TasksCancelled}
	switch {
	case rep.New > 0:
		res.Change = "created"
	case rep.Cancelled > 0:
		res.Change = "cancelled"
	case rep.Updated > 0:
		res.Change = "updated"
	default:
		res.Change = "unchanged"
	}
	enc, err := s.d.Patients.EncounterByVisit(ctx, p, p.InstitutionID, m.Encounter.VisitNumber)
	if err != nil {
		return 0, nil, err
	}
	res.Status, res.Class = enc.Status, string(enc.Class)
	res.Warnings = []warningJSON{}
	for _, w := range rep.Warnings {
		res.Warnings = append(res.Warnings, warningJSON{Field: w.Field, Reason: w.Reason, Value: w.Value})
	}
	if res.Created {
		return http.StatusCreated, res, nil
	}
	return http.StatusOK, res, nil
}

// importOptions routes every message to the token's institution.
func (s *server) importOptions(ctx context.Context, p *access.Principal) (importer.Options, error) {
	inst, err := s.d.Org.Institution(ctx, p, p.InstitutionID)
	if err != nil {
		return importer.Options{}, err
	}
	return importer.Options{Filename: "api", Format: "json", Institution: inst.Code}, nil
}

// storeOne stores one message through the importer.
func (s *server) storeOne(ctx context.Context, p *access.Principal, m intake.Message) (any, error) {
	opt, err := s.importOptions(ctx, p)
	if err != nil {
		return nil, err
	}
	opt.KeepRejects = 1
	rep, err := s.d.Importer.ImportStream(ctx, p, opt, func(sink intake.Sink) error { return sink.Message(m) })
	if err != nil {
		return nil, err
	}
	status, res, err := s.outcome(ctx, p, m, *rep)
	if err != nil {
		return nil, err
	}
	return statusBody{status: status, body: res}, nil
}

// postEncounters takes one message (an object) or up to maxBulk (an array).
func (s *server) postEncounters(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBulkBody)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("[")) {
		return s.postEncounterBulk(r.Context(), r, p, b)
	}
	if len(b) > maxBody {
		return nil, errBodyTooLarge
	}
	var in encounterMessage
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	m, err := in.message(1)
	if err != nil {
		return nil, err
	}
	return s.storeOne(r.Context(), p, m)
}

func (s *server) postEncounterBulk(ctx context.Context, r *http.Request, p *access.Principal, b []byte) (any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errs.New(errs.Invalid, "bad_json", "the body is not a valid JSON array: "+strings.TrimPrefix(err.Error(), "json: "))
	}
	if len(raw) == 0 {
		return nil, errs.New(errs.Invalid, "empty_batch", "the array holds no messages")
	}
	if len(raw) > maxBulk {
		return nil, errs.New(errs.Invalid, "too_many_items", fmt.Sprintf("send at most %d messages per request", maxBulk))
	}
	rid := requestIDOf(ctx)
	out := bulkResultJSON{Results: make([]bulkItemJSON, len(raw))}
	fail := func(i int, err error) {
		pr := problemOf(err, rid)
		out.Results[i].HTTPStatus = pr.Status
		out.Results[i].Error = &itemErrorJSON{Code: pr.Code, Detail: pr.Detail, Errors: pr.Errors}
	}
	var msgs []intake.Message
	var index []int // msgs[k] is item index[k]
	for i, item := range raw {
		out.Results[i].Index = i
		var in encounterMessage
		err := decodeStrict(item, &in)
		out.Results[i].VisitNumber = strings.TrimSpace(in.Encounter.VisitNumber)
		if err == nil {
			var m intake.Message
			if m, err = in.message(i + 1); err == nil {
				msgs = append(msgs, m)
				index = append(index, i)
				continue
			}
		}
		fail(i, err)
	}
	if len(msgs) > 0 {
		opt, err := s.importOptions(ctx, p)
		if err != nil {
			return nil, err
		}
		_, err = s.d.Importer.ImportEach(ctx, p, opt, msgs, func(k int, rep importer.Report) error {
			i := index[k]
			status, res, err := s.outcome(ctx, p, msgs[k], rep)
			if err != nil {
				if statusOf(errs.KindOf(err)) == http.StatusInternalServerError {
					return err
				}
				fail(i, err)
				return nil
			}
			out.Results[i].HTTPStatus, out.Results[i].Result = status, res
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, it := range out.Results {
		if it.Error == nil {
			out.Accepted++
		} else {
			out.Rejected++
		}
	}
	return out, nil
}

type cancelIn struct {
	Kind string `json:"kind"`
}

// cancelEncounter cancels a stay's discharge (the patient is back in
// hospital) or its admission (the stay never happened); open tasks close.
func (s *server) cancelEncounter(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	enc, err := s.encounterOf(ctx, p, r.PathValue("visit_number"))
	if err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in cancelIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	m := intake.Message{Source: "api cancel", Line: 1, Encounter: intake.Encounter{VisitNumber: enc.VisitNumber}}
	switch in.Kind {
	case "admission":
		m.Event = intake.CancelAdmit
	case "discharge":
		m.Event = intake.CancelDischarge
		// The patient room's rule, the one HL7 A13 follows too.
		if _, err := patient.DischargeCancelled(enc); err != nil {
			return nil, err
		}
		if enc.Status != patient.Discharged {
			// The discharge was cancelled before: nothing to do.
			return encounterResultJSON{VisitNumber: enc.VisitNumber, Status: enc.Status, Change: "unchanged",
				Class: string(enc.Class), Warnings: []warningJSON{}}, nil
		}
	default:
		return nil, errs.Field("kind", "bad_kind", `kind must be "discharge" or "admission"`)
	}
	_, pat, err := s.d.Patients.Stay(ctx, p, enc.ID)
	if err != nil {
		return nil, err
	}
	m.Patient.MRN = pat.MRN
	return s.storeOne(ctx, p, m)
}

// encounterOf finds an encounter of the token's institution by visit number.
func (s *server) encounterOf(ctx context.Context, p *access.Principal, visit string) (*patient.Encounter, error) {
	visit = strings.TrimSpace(visit)
	if visit == "" {
		return nil, errEncounterNotFound
	}
	enc, err := s.d.Patients.EncounterByVisit(ctx, p, p.InstitutionID, visit)
	if err != nil {
		return nil, hideAs(errEncounterNotFound, err)
	}
	return enc, nil
}

type maskedPatientJSON struct {
	MRN          string   `json:"mrn"`
	Name         string   `json:"name"`
	Sex          string   `json:"sex"`
	BirthDate    *string  `json:"birth_date"`
	Phones       []string `json:"phones"`
	DoNotContact bool     `json:"do_not_contact"`
	Deceased     bool     `json:"deceased"`
}

type encounterJSON struct {
	VisitNumber      string            `json:"visit_number"`
	Status           string            `json:"status"`
	Patient          maskedPatientJSON `json:"patient"`
	DepartmentID     *int64            `json:"department_id"`
	DepartmentCode   string            `json:"department_code"`
	DepartmentName   string            `json:"department_name"`
	WardID           *int64            `json:"ward_id"`
	WardCode         string            `json:"ward_code"`
	WardName         string            `json:"ward_name"`
	AttendingDoctor  string            `json:"attending_doctor"`
	ResponsibleNurse string            `json:"responsible_nurse"`
	AdmittedAt       *string           `json:"admitted_at"`
	DischargedAt     *string           `json:"discharged_at"`
	DischargeDate    *string           `json:"discharge_date"`
	Diagnoses        []diagnosisJSON   `json:"diagnoses"`
	Surgery          bool              `json:"surgery"`
	Procedures       []string          `json:"procedures"`
	Outcome          *string           `json:"outcome"`
	Tasks            []taskJSON        `json:"tasks"`
}

// getEncounter returns a stay with its masked patient and its tasks.
func (s *server) getEncounter(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	enc, err := s.encounterOf(ctx, p, r.PathValue("visit_number"))
	if err != nil {
		return nil, err
	}
	_, pat, err := s.d.Patients.Stay(ctx, p, enc.ID)
	if err != nil {
		return nil, err
	}
	tasks, err := s.d.Followup.EncounterTasks(ctx, p, enc.ID)
	if err != nil {
		return nil, err
	}
	mp := pat.Mask()
	j := encounterJSON{VisitNumber: enc.VisitNumber, Status: enc.Status,
		Patient: maskedPatientJSON{MRN: mp.MRN, Name: mp.Name, Sex: string(mp.Sex), BirthDate: optDate(mp.BirthDate),
			Phones: mp.Phones, DoNotContact: mp.DoNotContact, Deceased: mp.Deceased},
		DepartmentID: optID(enc.DepartmentID), DepartmentCode: enc.DeptCode, DepartmentName: enc.DeptName,
		WardID: optID(enc.WardID), WardCode: enc.WardCode, WardName: enc.WardName,
		AttendingDoctor: enc.AttendingDoctor, ResponsibleNurse: enc.ResponsibleNurse,
		AdmittedAt: optTime(enc.AdmittedAt), DischargedAt: optTime(enc.DischargedAt), DischargeDate: optDate(enc.DischargeDate),
		Diagnoses: []diagnosisJSON{}, Surgery: enc.Surgery, Procedures: append([]string{}, enc.Procedures...), Outcome: optString(string(enc.Outcome)), Tasks: []taskJSON{}}
	if j.Patient.Phones == nil {
		j.Patient.Phones = []string{}
	}
	for _, d := range enc.Diagnoses {
		j.Diagnoses = append(j.Diagnoses, diagnosisJSON{Code: d.Code, Name: d.Name})
	}
	for _, t := range tasks {
		j.Tasks = append(j.Tasks, taskOf(t))
	}
	return j, nil
}
