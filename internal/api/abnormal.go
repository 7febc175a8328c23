package api

import (
	"net/http"
	"strconv"
	"time"

	"suifang/internal/abnormal"
	"suifang/internal/access"
	"suifang/internal/errs"
)

// Parameters of the abnormal-report routes.
var (
	pathAbnormal = param{Name: "id", In: "path", Required: true, Description: "abnormal report id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryAbnormalTab = param{Name: "tab", In: "query", Description: "open (not closed) or all; mine is always empty for API tokens",
		Schema: obj{"type": "string", "enum": []string{string(abnormal.TabOpen), string(abnormal.TabMine), string(abnormal.TabAll)},
			"default": string(abnormal.TabOpen)}}
	queryAbnormalKind = param{Name: "kind", In: "query", Description: "only reports of this kind",
		Schema: obj{"type": "string", "enum": abnormal.Kinds()}}
	queryAbnormalStatus = param{Name: "status", In: "query", Description: "only reports in this status",
		Schema: obj{"type": "string", "enum": abnormal.Statuses()}}
)

var errAbnormalNotFound = errs.New(errs.NotFound, "abnormal_not_found", "no such abnormal report")

// abnormalRoutes are the abnormal reports (异常上报).
func abnormalRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/abnormal-reports", handle: (*server).listAbnormal,
			Op: operation{ID: "listAbnormalReports", Summary: "Abnormal reports of the token's institution, newest first",
				Params: []param{queryAbnormalTab, queryAbnormalKind, queryAbnormalStatus, queryLimit, queryCursor},
				Schema: "AbnormalPage", Errors: []int{400, 503}}},
		{Method: "POST", Path: "/api/v1/abnormal-reports", handle: (*server).raiseAbnormal,
			Op: operation{ID: "raiseAbnormalReport", Summary: "File an abnormal report; leadership and quality are alerted at once",
				Description: "Give record_id or complaint_id to raise it from a follow-up record or a complaint (patient and stay come from " +
					"the source), or neither with an optional visit_number. Every leadership and quality user gets an in-app message naming " +
					"only the report number, in the same transaction.",
				Body: "AbnormalRequest", Schema: "AbnormalReport", Status: 201, Errors: []int{400, 403, 413, 415, 503}}},
		{Method: "GET", Path: "/api/v1/abnormal-reports/{id}", handle: (*server).getAbnormal,
			Op: operation{ID: "getAbnormalReport", Summary: "One abnormal report", Params: []param{pathAbnormal},
				Schema: "AbnormalReport", Errors: []int{404, 503}}},
		{Method: "POST", Path: "/api/v1/abnormal-reports/{id}/actions", handle: (*server).actAbnormal,
			Op: operation{ID: "actAbnormalReport", Summary: "Take one step of a report's flow",
				Description: "reported → acknowledged → investigating → concluded → closed; reopen and note at any time. The one who " +
					"acknowledges owns the report, so acknowledging and the later steps need a person (leadership or quality): " +
					"an API token may add notes only and gets 403 abnormal_action_forbidden otherwise. A step the status does " +
					"not allow answers 409 bad_transition.",
				Params: []param{pathAbnormal}, Body: "AbnormalAction", Schema: "AbnormalReport", Errors: []int{400, 403, 404, 409, 413, 415, 503}}},
		{Method: "GET", Path: "/api/v1/abnormal-reports/{id}/events", handle: (*server).abnormalEvents,
			Op: operation{ID: "listAbnormalEvents", Summary: "A report's hash-chained history, oldest first",
				Params: []param{pathAbnormal}, Schema: "AbnormalEventList", Errors: []int{404, 503}}},
	}
}

var errAbnormalUnavailable = &httpError{status: http.StatusServiceUnavailable, code: "abnormal_unavailable",
	detail: "abnormal reports are not available on this server"}

func (s *server) needAbnormal() error {
	if s.d.Abnormal == nil {
		return errAbnormalUnavailable
	}
	return nil
}

type abnormalJSON struct {
	ID             int64   `json:"id"`
	Number         string  `json:"number"`
	Kind           string  `json:"kind"`
	Severity       string  `json:"severity"`
	Status         string  `json:"status"`
	Summary        string  `json:"summary"`
	PatientID      *int64  `json:"patient_id"`
	EncounterID    *int64  `json:"encounter_id"`
	SourceKind     string  `json:"source_kind"`
	SourceID       *int64  `json:"source_id"`
	SourceRef      *string `json:"source_ref"`
	Reporter       string  `json:"reporter"`
	OwnerID        *int64  `json:"owner_id"`
	Finding        *string `json:"finding"`
	ReferredTo     *string `json:"referred_to"`
	Conclusion     *string `json:"conclusion"`
	Actions        *string `json:"actions"`
	ReportedAt     string  `json:"reported_at"`
	AcknowledgedAt *string `json:"acknowledged_at"`
	ConcludedAt    *string `json:"concluded_at"`
	ClosedAt       *string `json:"closed_at"`
	RealertDue     *string `json:"realert_due"`
}

func abnormalOf(r *abnormal.Report) abnormalJSON {
	return abnormalJSON{ID: r.ID, Number: r.Number, Kind: r.Kind, Severity: r.Severity, Status: r.Status, Summary: r.Summary,
		PatientID: optID(r.PatientID), EncounterID: optID(r.EncounterID), SourceKind: r.SourceKind, SourceID: optID(r.SourceID),
		SourceRef: optString(r.SourceRef), Reporter: r.ReporterName, OwnerID: optID(r.OwnerID), Finding: optString(r.Finding),
		ReferredTo: optString(r.ReferredTo), Conclusion: optString(r.Conclusion), Actions: optString(r.Actions),
		ReportedAt: r.ReportedAt.UTC().Format(time.RFC3339), AcknowledgedAt: optTime(r.AcknowledgedAt),
		ConcludedAt: optTime(r.ConcludedAt), ClosedAt: optTime(r.ClosedAt), RealertDue: optTime(r.RealertDue)}
}

type abnormalPageJSON struct {
	Items      []abnormalJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Total      int            `json:"total"`
}

func (s *server) listAbnormal(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needAbnormal(); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var fe fieldErrors
	f := abnormal.Filter{InstitutionID: p.InstitutionID, Tab: abnormal.Tab(q.Get("tab")), Kind: q.Get("kind"), Status: q.Get("status"),
		Limit: defaultLimit}
	if f.Tab != "" && f.Tab != abnormal.TabOpen && f.Tab != abnormal.TabMine && f.Tab != abnormal.TabAll {
		fe.add(errs.Field("tab", "bad_tab", "tab is open, mine or all"))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			fe.add(errs.Field("limit", "bad_limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxLimit)))
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := decodeCursor(v)
		if err != nil {
			fe.add(errBadCursor)
		}
		f.BeforeID = id
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	list, err := s.d.Abnormal.List(r.Context(), p, f)
	if err != nil {
		return nil, err
	}
	out := abnormalPageJSON{Items: make([]abnormalJSON, 0, len(list.Items)), Total: list.Total}
	for _, x := range list.Items {
		out.Items = append(out.Items, abnormalOf(x))
	}
	if n := len(list.Items); n == f.Limit {
		c := encodeCursor(list.Items[n-1].ID)
		out.NextCursor = &c
	}
	return out, nil
}

type abnormalIn struct {
	Kind        string `json:"kind"`
	Severity    string `json:"severity"`
	Summary     string `json:"summary"`
	VisitNumber string `json:"visit_number"`
	RecordID    int64  `json:"record_id"`
	ComplaintID int64  `json:"complaint_id"`
}

func (s *server) raiseAbnormal(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needAbnormal(); err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in abnormalIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	rep, err := s.d.Abnormal.Raise(r.Context(), p, abnormal.Input{InstitutionID: p.InstitutionID, Kind: in.Kind, Severity: in.Severity,
		Summary: in.Summary, VisitNumber: in.VisitNumber, RecordID: in.RecordID, ComplaintID: in.ComplaintID})
	if err != nil {
		return nil, err
	}
	return created(abnormalOf(rep)), nil
}

// abnormalByID reads the report in the path; another institution's report
// is not found, as everywhere in the API.
func (s *server) abnormalByID(r *http.Request, p *access.Principal) (*abnormal.Report, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errAbnormalNotFound
	}
	rep, err := s.d.Abnormal.Get(r.Context(), p, id)
	if err != nil {
		return nil, hideAs(errAbnormalNotFound, err)
	}
	if rep.InstitutionID != p.InstitutionID {
		return nil, errAbnormalNotFound
	}
	return rep, err
}

func (s *server) getAbnormal(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needAbnormal(); err != nil {
		return nil, err
	}
	rep, err := s.abnormalByID(r, p)
	if err != nil {
		return nil, err
	}
	return abnormalOf(rep), nil
}

type abnormalActionIn struct {
	Action     string `json:"action"`
	Note       string `json:"note"`
	Finding    string `json:"finding"`
	ReferredTo string `json:"referred_to"`
	Conclusion string `json:"conclusion"`
	Actions    string `json:"actions"`
}

func (s *server) actAbnormal(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needAbnormal(); err != nil {
		return nil, err
	}
	rep, err := s.abnormalByID(r, p)
	if err != nil {
		return nil, err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in abnormalActionIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	rep, err = s.d.Abnormal.Act(r.Context(), p, rep.ID, abnormal.ActionInput{Action: in.Action, Note: in.Note, Finding: in.Finding,
		ReferredTo: in.ReferredTo, Conclusion: in.Conclusion, Actions: in.Actions})
	if err != nil {
		return nil, err
	}
	return abnormalOf(rep), nil
}

type abnormalEventJSON struct {
	ID       int64   `json:"id"`
	At       string  `json:"at"`
	Actor    string  `json:"actor"`
	Action   string  `json:"action"`
	From     *string `json:"from_status"`
	To       *string `json:"to_status"`
	Detail   string  `json:"detail"`
	PrevHash string  `json:"prev_hash"`
	Hash     string  `json:"hash"`
}

type abnormalEventList struct {
	Items []abnormalEventJSON `json:"items"`
}

func (s *server) abnormalEvents(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needAbnormal(); err != nil {
		return nil, err
	}
	rep, err := s.abnormalByID(r, p)
	if err != nil {
		return nil, err
	}
	evs, err := s.d.Abnormal.Events(r.Context(), p, rep.ID)
	if err != nil {
		return nil, err
	}
	out := abnormalEventList{Items: make([]abnormalEventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Items = append(out.Items, abnormalEventJSON{ID: e.ID, At: e.At.UTC().Format(timeLayout), Actor: e.Actor, Action: e.Action,
			From: optString(e.From), To: optString(e.To), Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash})
	}
	return out, nil
}

func abnormalSchemas() obj {
	id := obj{"type": "integer", "format": "int64"}
	nid := obj{"type": []string{"integer", "null"}, "format": "int64"}
	str := obj{"type": "string"}
	nstr := obj{"type": []string{"string", "null"}}
	ntime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	report := obj{
		"id": id, "number": obj{"type": "string", "examples": []string{"YC-H01-20261009-0001"}},
		"kind":     obj{"type": "string", "enum": abnormal.Kinds()},
		"severity": obj{"type": "string", "enum": abnormal.Severities()},
		"status":   obj{"type": "string", "enum": abnormal.Statuses()},
		"summary":  str, "patient_id": nid, "encounter_id": nid,
		"source_kind": obj{"type": "string", "enum": []string{abnormal.FromManual, abnormal.FromRecord, abnormal.FromComplaint}},
		"source_id":   nid, "source_ref": nstr, "reporter": str, "owner_id": nid,
		"finding":     obj{"type": []string{"string", "null"}, "enum": []any{"confirmed", "unfounded", "referred", nil}},
		"referred_to": nstr, "conclusion": nstr, "actions": nstr,
		"reported_at": obj{"type": "string", "format": "date-time"}, "acknowledged_at": ntime, "concluded_at": ntime, "closed_at": ntime,
		"realert_due": obj{"type": []string{"string", "null"}, "format": "date-time",
			"description": "when leadership is alerted again if nobody has acknowledged the report (2 service hours after it was filed)"},
	}
	required := make([]string, 0, len(report))
	for k := range report {
		required = append(required, k)
	}
	return obj{
		"AbnormalReport": obj{"type": "object", "required": required, "properties": report},
		"AbnormalPage": obj{
			"type":     "object",
			"required": []string{"items", "next_cursor", "total"},
			"properties": obj{
				"items":       obj{"type": "array", "items": ref("schemas", "AbnormalReport")},
				"next_cursor": obj{"type": []string{"string", "null"}, "description": "pass as ?cursor= for the next page; null on the last page"},
				"total":       obj{"type": "integer"},
			},
		},
		"AbnormalRequest": obj{
			"type":                 "object",
			"required":             []string{"kind", "summary"},
			"additionalProperties": false,
			"properties": obj{
				"kind":         obj{"type": "string", "enum": abnormal.Kinds()},
				"severity":     obj{"type": "string", "enum": abnormal.Severities(), "default": abnormal.Normal},
				"summary":      obj{"type": "string", "minLength": 1, "maxLength": 4000},
				"visit_number": obj{"type": "string", "maxLength": 64},
				"record_id":    obj{"type": "integer", "format": "int64", "minimum": 1},
				"complaint_id": obj{"type": "integer", "format": "int64", "minimum": 1},
			},
		},
		"AbnormalAction": obj{
			"type":                 "object",
			"required":             []string{"action"},
			"additionalProperties": false,
			"properties": obj{
				"action":      obj{"type": "string", "enum": abnormal.Actions()},
				"note":        obj{"type": "string", "maxLength": 4000, "description": "the note; the reason for reopen"},
				"finding":     obj{"type": "string", "enum": abnormal.Findings(), "description": "conclude"},
				"referred_to": obj{"type": "string", "maxLength": 200, "description": "conclude with finding referred"},
				"conclusion":  obj{"type": "string", "maxLength": 4000, "description": "conclude"},
				"actions":     obj{"type": "string", "maxLength": 4000, "description": "conclude"},
			},
		},
		"AbnormalEvent": obj{
			"type":     "object",
			"required": []string{"id", "at", "actor", "action", "from_status", "to_status", "detail", "prev_hash", "hash"},
			"properties": obj{
				"id": id, "at": obj{"type": "string", "format": "date-time"}, "actor": str, "action": str,
				"from_status": nstr, "to_status": nstr, "detail": str, "prev_hash": str, "hash": str,
			},
		},
		"AbnormalEventList": obj{
			"type":       "object",
			"required":   []string{"items"},
			"properties": obj{"items": obj{"type": "array", "items": ref("schemas", "AbnormalEvent")}},
		},
	}
}
