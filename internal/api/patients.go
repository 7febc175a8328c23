package api

import (
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/patient"
	"suifang/internal/pii"
)

// Parameters of the patient and record-browser routes.
var (
	queryQ = param{Name: "q", In: "query", Required: true,
		Description: "name (part of it), MRN (prefix), visit number, or a complete phone or national ID number (matched exactly through blind indexes)",
		Schema:      obj{"type": "string", "minLength": 1, "maxLength": patient.MaxQueryLen}}
	pathPatient = param{Name: "id", In: "path", Required: true, Description: "patient id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	pathRecord = param{Name: "id", In: "path", Required: true, Description: "follow-up record id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryTaskOpt = param{Name: "task_id", In: "query",
		Description: "the task whose records (and amendments) to list, oldest first; without it the institution's records are listed, newest first, with the filters below",
		Schema:      obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryRecFrom = param{Name: "from", In: "query", Description: "records made on or after this local date",
		Schema: obj{"type": "string", "format": "date"}}
	queryRecTo = param{Name: "to", In: "query", Description: "records made on or before this local date",
		Schema: obj{"type": "string", "format": "date"}}
	querySatisfaction = param{Name: "satisfaction", In: "query", Description: "only records with this satisfaction",
		Schema: obj{"type": "string", "enum": []string{followup.Satisfied, followup.Basically, followup.Dissatisfied}}}
	queryNumber = param{Name: "number", In: "query", Description: "a record number or its beginning, e.g. SF-H1-20261009",
		Schema: obj{"type": "string", "maxLength": 64}}
)

// patientRoutes are the patient archive and the record browser.
func patientRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/patients", handle: (*server).searchPatients,
			Op: operation{ID: "searchPatients", Summary: "Find patients of the token's institution; values are masked",
				Params: []param{queryQ, queryLimit, queryCursor}, Schema: "PatientPage", Errors: []int{400, 503}}},
		{Method: "GET", Path: "/api/v1/patients/{id}", handle: (*server).getPatient,
			Op: operation{ID: "getPatient", Summary: "A patient, masked, with stays and follow-up tasks",
				Params: []param{pathPatient}, Schema: "Patient", Errors: []int{404, 503}}},
		{Method: "GET", Path: "/api/v1/records/{id}", handle: (*server).getRecord,
			Op: operation{ID: "getRecord", Summary: "A follow-up record with its place in the hash chain and its versions",
				Params: []param{pathRecord}, Schema: "RecordDetail", Errors: []int{404, 503}}},
		{Method: "POST", Path: "/api/v1/records/{id}/amend", handle: (*server).amendRecord,
			Op: operation{ID: "amendRecord", Summary: "Append a correction to the latest version of a record; the original stays",
				Description: "A token may correct the records it made. Correcting a record that was corrected already answers 409 record_superseded.",
				Params:      []param{pathRecord}, Body: "AmendRequest", Schema: "RecordCreated", Status: 201,
				Errors: []int{400, 403, 404, 409, 413, 415, 503}}},
	}
}

type patientHitJSON struct {
	ID            int64    `json:"id"`
	MRN           string   `json:"mrn"`
	Name          string   `json:"name"`
	Sex           string   `json:"sex"`
	BirthDate     *string  `json:"birth_date"`
	Phones        []string `json:"phones"`
	NationalID    *string  `json:"national_id"`
	DoNotContact  bool     `json:"do_not_contact"`
	Deceased      bool     `json:"deceased"`
	LastVisit     *string  `json:"last_visit_number"`
	LastDischarge *string  `json:"last_discharge_date"`
}

type patientPageJSON struct {
	Items      []patientHitJSON `json:"items"`
	NextCursor *string          `json:"next_cursor"`
	Total      int              `json:"total"`
}

func hitOf(m patient.Masked) patientHitJSON {
	j := patientHitJSON{ID: m.ID, MRN: m.MRN, Name: m.Name, Sex: string(m.Sex), BirthDate: optDate(m.BirthDate), Phones: m.Phones,
		NationalID: optString(m.NationalID), DoNotContact: m.DoNotContact, Deceased: m.Deceased}
	if j.Phones == nil {
		j.Phones = []string{}
	}
	return j
}

// searchPatients finds patients of the token's institution.
func (s *server) searchPatients(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var fe fieldErrors
	limit, offset := pageParams(q, &fe)
	if err := fe.err(); err != nil {
		return nil, err
	}
	res, err := s.d.Patients.Search(r.Context(), p, patient.Query{InstitutionID: p.InstitutionID, Text: q.Get("q"), Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	page := patientPageJSON{Items: make([]patientHitJSON, 0, len(res.Hits)), Total: res.Total}
	for _, h := range res.Hits {
		j := hitOf(h.Masked)
		j.LastVisit, j.LastDischarge = optString(h.LastVisit), optDate(h.LastDischarge)
		page.Items = append(page.Items, j)
	}
	if next := offset + len(res.Hits); len(res.Hits) == limit && next < res.Total {
		c := encodeCursor(int64(next))
		page.NextCursor = &c
	}
	return page, nil
}

type stayJSON struct {
	VisitNumber      string          `json:"visit_number"`
	Status           string          `json:"status"`
	DepartmentID     *int64          `json:"department_id"`
	DepartmentName   string          `json:"department_name"`
	WardID           *int64          `json:"ward_id"`
	WardName         string          `json:"ward_name"`
	AttendingDoctor  string          `json:"attending_doctor"`
	ResponsibleNurse string          `json:"responsible_nurse"`
	AdmittedAt       *string         `json:"admitted_at"`
	DischargedAt     *string         `json:"discharged_at"`
	DischargeDate    *string         `json:"discharge_date"`
	Diagnoses        []diagnosisJSON `json:"diagnoses"`
	Surgery          bool            `json:"surgery"`
	Outcome          *string         `json:"outcome"`
}

type patientJSON struct {
	patientHitJSON
	Address    *string    `json:"address"`
	Encounters []stayJSON `json:"encounters"`
	Tasks      []taskJSON `json:"tasks"`
}

var errPatientNotFound = errs.New(errs.NotFound, "patient_not_found", "no such patient")

// hidePatient answers "not found" for another institution's patient or one
// outside the token's scope, so a token cannot probe.
func hidePatient(err error) error { return hideAs(errPatientNotFound, err) }

func (s *server) getPatient(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errPatientNotFound
	}
	today, _, err := s.localDay(ctx, p.InstitutionID)
	if err != nil {
		return nil, err
	}
	v, err := s.d.Patients.View(ctx, p, id, today)
	if err != nil {
		return nil, hidePatient(err)
	}
	if v.InstitutionID != p.InstitutionID {
		return nil, errPatientNotFound
	}
	f, err := s.d.Followup.PatientFile(ctx, p, id)
	if err != nil {
		return nil, hidePatient(err)
	}
	j := patientJSON{patientHitJSON: hitOf(v.Masked), Address: optString(v.Address), Encounters: []stayJSON{}, Tasks: []taskJSON{}}
	for _, e := range v.Encounters {
		st := stayJSON{VisitNumber: e.VisitNumber, Status: e.Status, DepartmentID: optID(e.DepartmentID), DepartmentName: e.DeptName,
			WardID: optID(e.WardID), WardName: e.WardName, AttendingDoctor: e.AttendingDoctor, ResponsibleNurse: e.ResponsibleNurse,
			AdmittedAt: optTime(e.AdmittedAt), DischargedAt: optTime(e.DischargedAt), DischargeDate: optDate(e.DischargeDate),
			Diagnoses: []diagnosisJSON{}, Surgery: e.Surgery, Outcome: optString(string(e.Outcome))}
		for _, d := range e.Diagnoses {
			st.Diagnoses = append(st.Diagnoses, diagnosisJSON{Code: d.Code, Name: d.Name})
		}
		j.Encounters = append(j.Encounters, st)
	}
	for _, t := range f.Tasks {
		j.Tasks = append(j.Tasks, taskOf(t))
	}
	return j, nil
}

type recordRowJSON struct {
	recordJSON
	PatientMRN   string `json:"patient_mrn"`
	PatientName  string `json:"patient_name"`
	Level        int    `json:"level"`
	DepartmentID *int64 `json:"department_id"`
	Amended      bool   `json:"amended"`
}

type recordDetailJSON struct {
	recordRowJSON
	Position int          `json:"chain_position"`
	ChainLen int          `json:"chain_length"`
	Latest   bool         `json:"latest"`
	Versions []recordJSON `json:"versions"`
}

func recordRowOf(r *followup.RecordRow) recordRowJSON {
	return recordRowJSON{recordJSON: recordOf(r.Record), PatientMRN: r.MRN, PatientName: pii.MaskName(r.PatientName), Level: r.Level,
		DepartmentID: optID(r.DepartmentID), Amended: r.Amended}
}

// browseRecords is GET /api/v1/records without task_id: the institution's
// records, newest first, filtered and paged.
func (s *server) browseRecords(r *http.Request, p *access.Principal) (any, error) {
	q := r.URL.Query()
	var fe fieldErrors
	f := followup.RecordFilter{InstitutionID: p.InstitutionID}
	f.DepartmentID = queryInt(q, "department_id", 1, 1<<53, &fe)
	f.Level = int(queryInt(q, "level", 0, 9, &fe))
	for _, d := range []struct {
		name string
		dst  *calendar.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(d.name); v != "" {
			day, err := calendar.ParseDate(v)
			if err != nil {
				fe.add(errs.Field(d.name, "bad_"+d.name, d.name+" must be a date (YYYY-MM-DD)"))
			}
			*d.dst = day
		}
	}
	if v := q.Get("satisfaction"); v != "" {
		if v != followup.Satisfied && v != followup.Basically && v != followup.Dissatisfied {
			fe.add(errs.Field("satisfaction", "bad_satisfaction", "satisfaction must be satisfied, basically or dissatisfied"))
		}
		f.Satisfaction = v
	}
	f.Number = strings.TrimSpace(q.Get("number"))
	f.Limit, f.Offset = pageParams(q, &fe)
	if err := fe.err(); err != nil {
		return nil, err
	}
	page, err := s.d.Followup.Records(r.Context(), p, f)
	if err != nil {
		return nil, err
	}
	out := recordBrowseJSON{Items: make([]recordRowJSON, 0, len(page.Rows)), Total: page.Total}
	for _, row := range page.Rows {
		out.Items = append(out.Items, recordRowOf(row))
	}
	if next := f.Offset + len(page.Rows); len(page.Rows) == f.Limit && next < page.Total {
		c := encodeCursor(int64(next))
		out.NextCursor = &c
	}
	return out, nil
}

type recordBrowseJSON struct {
	Items      []recordRowJSON `json:"items"`
	NextCursor *string         `json:"next_cursor"`
	Total      int             `json:"total"`
}

var errRecordNotFound = errs.New(errs.NotFound, "record_not_found", "no such follow-up record")

func (s *server) recordByID(r *http.Request, p *access.Principal) (*followup.RecordView, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errRecordNotFound
	}
	v, err := s.d.Followup.Record(r.Context(), p, id)
	if err != nil {
		return nil, hideAs(errRecordNotFound, err)
	}
	if v.InstitutionID != p.InstitutionID {
		return nil, errRecordNotFound
	}
	return v, err
}

func (s *server) getRecord(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	v, err := s.recordByID(r, p)
	if err != nil {
		return nil, err
	}
	j := recordDetailJSON{recordRowJSON: recordRowOf(v.RecordRow), Position: v.Position, ChainLen: v.ChainLen, Latest: v.Latest,
		Versions: []recordJSON{}}
	for _, x := range v.Versions {
		j.Versions = append(j.Versions, recordOf(x))
	}
	return j, nil
}

type amendIn struct {
	Channel            string `json:"channel"`
	TreatmentEffect    string `json:"treatment_effect"`
	Satisfaction       string `json:"satisfaction"`
	MedicationGuidance string `json:"medication_guidance"`
	RevisitAdvice      string `json:"revisit_advice"`
	NPS                *int   `json:"nps"`
	Opinions           string `json:"opinions"`
	OpinionProblem     bool   `json:"opinion_problem"`
	RevisitNeeded      bool   `json:"revisit_needed"`
	RecordingConsent   bool   `json:"recording_consent"`
	RecordingRef       string `json:"recording_ref"`
	AmendReason        string `json:"amend_reason"`
}

// amendRecord appends a correction; the service decides who may.
func (s *server) amendRecord(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	v, err := s.recordByID(r, p)
	if err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in amendIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	rin := followup.RecordInput{Channel: in.Channel, TreatmentEffect: in.TreatmentEffect, Satisfaction: in.Satisfaction,
		MedicationGuidance: in.MedicationGuidance, RevisitAdvice: in.RevisitAdvice, NPS: -1, Opinions: in.Opinions,
		OpinionProblem: in.OpinionProblem, RevisitNeeded: in.RevisitNeeded, RecordingConsent: in.RecordingConsent,
		RecordingRef: in.RecordingRef}
	if in.NPS != nil {
		if *in.NPS < 0 {
			return nil, errs.Field("nps", "bad_nps", "the recommendation score is 0 to 10; leave nps out when it was not asked")
		}
		rin.NPS = *in.NPS
	}
	rec, err := s.d.Followup.Amend(r.Context(), p, v.ID, rin, in.AmendReason)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errRecordNotFound
		}
		return nil, err
	}
	return created(recordCreatedJSON{ID: rec.ID, Number: rec.Number, Hash: rec.Hash, At: rec.At.UTC().Format(timeLayout)}), nil
}

// patientSchemas are the OpenAPI schemas of the patient and record-browser routes.
func patientSchemas() obj {
	id := obj{"type": "integer", "format": "int64"}
	str := obj{"type": "string"}
	boolean := obj{"type": "boolean"}
	nullStr := obj{"type": []string{"string", "null"}}
	nullDate := obj{"type": []string{"string", "null"}, "format": "date"}
	nullTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	nullID := obj{"type": []string{"integer", "null"}, "format": "int64"}
	array := func(items any) obj { return obj{"type": "array", "items": items} }
	cursor := obj{"type": []string{"string", "null"}, "description": "pass as ?cursor= for the next page; null on the last page"}
	hitProps := obj{
		"id":                  id,
		"mrn":                 str,
		"name":                obj{"type": "string", "description": "masked, e.g. 张*明"},
		"sex":                 obj{"type": "string", "enum": []string{"M", "F", "U"}},
		"birth_date":          nullDate,
		"phones":              obj{"type": "array", "items": str, "description": "masked, e.g. 138****5678"},
		"national_id":         obj{"type": []string{"string", "null"}, "description": "masked, e.g. 110***********1234"},
		"do_not_contact":      boolean,
		"deceased":            boolean,
		"last_visit_number":   nullStr,
		"last_discharge_date": nullDate,
	}
	hitRequired := []string{"id", "mrn", "name", "sex", "birth_date", "phones", "national_id", "do_not_contact", "deceased",
		"last_visit_number", "last_discharge_date"}
	patientProps := obj{}
	for k, v := range hitProps {
		patientProps[k] = v
	}
	patientProps["address"] = obj{"type": []string{"string", "null"}, "description": "masked"}
	patientProps["encounters"] = array(ref("schemas", "Stay"))
	patientProps["tasks"] = array(ref("schemas", "Task"))
	rowProps := obj{
		"patient_mrn":   str,
		"patient_name":  obj{"type": "string", "description": "masked"},
		"level":         obj{"type": "integer"},
		"department_id": nullID,
		"amended":       obj{"type": "boolean", "description": "a later record corrects this one"},
	}
	recordRow := obj{"allOf": []obj{ref("schemas", "Record"), {"type": "object",
		"required": []string{"patient_mrn", "patient_name", "level", "department_id", "amended"}, "properties": rowProps}}}
	amend := obj{}
	if rr, ok := coreSchemas()["RecordRequest"].(obj); ok {
		for k, v := range rr {
			amend[k] = v
		}
		props := obj{"amend_reason": obj{"type": "string", "minLength": 1, "maxLength": 500, "description": "why the record is corrected"}}
		for k, v := range rr["properties"].(obj) {
			props[k] = v
		}
		amend["properties"] = props
		amend["required"] = append(append([]string(nil), rr["required"].([]string)...), "amend_reason")
	}
	return obj{
		"PatientHit": obj{"type": "object", "required": hitRequired, "properties": hitProps},
		"PatientPage": obj{"type": "object", "required": []string{"items", "next_cursor", "total"}, "properties": obj{
			"items": array(ref("schemas", "PatientHit")), "next_cursor": cursor, "total": obj{"type": "integer", "minimum": 0},
		}},
		"Stay": obj{"type": "object", "required": []string{"visit_number", "status", "department_id", "department_name", "ward_id",
			"ward_name", "attending_doctor", "responsible_nurse", "admitted_at", "discharged_at", "discharge_date", "diagnoses",
			"surgery", "outcome"}, "properties": obj{
			"visit_number": str, "status": obj{"type": "string", "enum": []string{"admitted", "discharged", "cancelled"}},
			"department_id": nullID, "department_name": str, "ward_id": nullID, "ward_name": str,
			"attending_doctor": str, "responsible_nurse": str, "admitted_at": nullTime, "discharged_at": nullTime,
			"discharge_date": nullDate, "diagnoses": array(ref("schemas", "Diagnosis")), "surgery": boolean, "outcome": nullStr,
		}},
		"Patient": obj{"type": "object", "required": append(append([]string(nil), hitRequired...), "address", "encounters", "tasks"),
			"properties": patientProps},
		"RecordRow": recordRow,
		"RecordPage": obj{"type": "object", "required": []string{"items", "next_cursor", "total"}, "properties": obj{
			"items": array(ref("schemas", "RecordRow")), "next_cursor": cursor, "total": obj{"type": "integer", "minimum": 0},
		}},
		"RecordDetail": obj{"allOf": []obj{ref("schemas", "RecordRow"), {"type": "object",
			"required": []string{"chain_position", "chain_length", "latest", "versions"}, "properties": obj{
				"chain_position": obj{"type": "integer", "minimum": 1, "description": "1-based place in the institution's record chain"},
				"chain_length":   obj{"type": "integer", "minimum": 1},
				"latest":         obj{"type": "boolean", "description": "no later record corrects this one"},
				"versions":       obj{"type": "array", "items": ref("schemas", "Record"), "description": "original first, then every correction"},
			}}}},
		"AmendRequest": amend,
		"RecordListing": obj{"anyOf": []obj{ref("schemas", "RecordList"), ref("schemas", "RecordPage")},
			"description": "a RecordList with task_id, a RecordPage without"},
	}
}
