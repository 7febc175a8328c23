package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/pii"
)

// Parameters of the complaint routes.
var (
	pathComplaint = param{Name: "id", In: "path", Required: true, Description: "complaint id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryComplaintTab = param{Name: "tab", In: "query",
		Description: "mine (owned by the caller; always empty for API tokens), dept (a department of the caller's is involved) or all; " +
			"the default is the widest the caller has (all for API tokens)",
		Schema: obj{"type": "string", "enum": []string{string(complaint.TabMine), string(complaint.TabDept), string(complaint.TabAll)}}}
	queryComplaintStatus = param{Name: "status", In: "query", Description: "a status, or all; without it the open complaints (not archived)",
		Schema: obj{"type": "string", "enum": append(complaint.Statuses(), "all")}}
	queryColour = param{Name: "colour", In: "query", Description: "only complaints whose worst clock has this colour",
		Schema: obj{"type": "string", "enum": []string{complaint.Red, complaint.Amber, complaint.Green, complaint.Paused}}}
	queryCategory = param{Name: "category", In: "query", Description: "only this category",
		Schema: obj{"type": "string", "maxLength": 64, "examples": complaint.Categories()}}
	queryComplaintChannel = param{Name: "channel", In: "query", Description: "only complaints that arrived this way",
		Schema: obj{"type": "string", "enum": complaint.Channels()}}
	queryComplaintDept = param{Name: "department_id", In: "query",
		Description: "only complaints involving this department (responsible or not) or one of its wards",
		Schema:      obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryReceivedFrom = param{Name: "from", In: "query", Description: "received on or after this local date",
		Schema: obj{"type": "string", "format": "date"}}
	queryReceivedTo = param{Name: "to", In: "query", Description: "received on or before this local date",
		Schema: obj{"type": "string", "format": "date"}}
	headerIdempotency = param{Name: "Idempotency-Key", In: "header",
		Description: "a key of your choosing (a UUID); a POST repeated with the same key within 24 hours answers with the complaint " +
			"the first one made (201, Idempotent-Replayed: true) instead of registering it twice. The same key with a different " +
			"complaint answers 409 idempotency_key_reused.",
		Schema: obj{"type": "string", "minLength": 1, "maxLength": complaint.MaxIdempotencyKey, "pattern": `^[\x21-\x7e]+$`}}
)

// complaintRoutes are the complaints (投诉) and their histories.
func complaintRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/complaints", handle: (*server).listComplaints,
			Op: operation{ID: "listComplaints", Summary: "Complaints of the token's institution, newest first, each with its worst clock",
				Params: []param{queryComplaintTab, queryComplaintStatus, queryColour, queryCategory, queryComplaintChannel,
					queryComplaintDept, queryReceivedFrom, queryReceivedTo, queryLimit, queryCursor},
				Schema: "ComplaintPage", Errors: []int{400, 403, 503}}},
		{Method: "POST", Path: "/api/v1/complaints", handle: (*server).postComplaint,
			Op: operation{ID: "postComplaint", Summary: "Register a complaint (首诉负责制); quality owns what a token registers",
				Description: "Answers 201 with the complaint and its Location. The complainant's contact is sealed and only ever shown masked; " +
					"a mobile number or e-mail address gets a receipt with the tracking code. A 重大 (major) complaint alerts leadership at once.",
				Params: []param{headerIdempotency}, Body: "ComplaintRequest", Schema: "Complaint", Status: 201,
				Errors: []int{400, 409, 413, 415, 503}}},
		{Method: "GET", Path: "/api/v1/complaints/{id}", handle: (*server).getComplaint,
			Op: operation{ID: "getComplaint", Summary: "A complaint with its milestone clocks, pauses and departments",
				Params: []param{pathComplaint}, Schema: "Complaint", Errors: []int{404, 503}}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/actions", handle: (*server).actOnComplaint,
			Op: operation{ID: "actOnComplaint", Summary: "Move a complaint along its flow (accept, assess, … archive, pause, resume, reassign)",
				Description: "Answers the complaint as it is afterwards. A token handles complaints for its institution; approving or " +
					"returning a plan (the department head) and reopening (quality) need a named person and answer 403. An action the " +
					"complaint's status does not allow answers 409 bad_transition.",
				Params: []param{pathComplaint}, Body: "ComplaintAction", Schema: "Complaint",
				Errors: []int{400, 403, 404, 409, 413, 415, 503}}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/events", handle: (*server).complaintEvents,
			Op: operation{ID: "listComplaintEvents", Summary: "A complaint's history, oldest first: append-only and hash-chained per institution",
				Params: []param{pathComplaint}, Schema: "ComplaintEventList", Errors: []int{404, 503}}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/escalations", handle: (*server).complaintEscalations,
			Op: operation{ID: "listComplaintEscalations", Summary: "The milestones of a complaint that passed and were escalated, once each",
				Params: []param{pathComplaint}, Schema: "EscalationList", Errors: []int{404, 503}}},
		{Method: "GET", Path: "/api/v1/complaints/{id}/contact", handle: (*server).complaintContact,
			Op: operation{ID: "revealComplaintContact", Summary: "The complainant's full contact; every reveal is written to the audit log; past the per-caller cap it is refused (403 reveal_limit)",
				Params: []param{pathComplaint}, Schema: "ComplaintContact", Errors: []int{403, 404, 503}}},
	}
}

var (
	errComplaintsUnavailable = &httpError{status: http.StatusServiceUnavailable, code: "complaints_unavailable",
		detail: "the complaint service is not available"}
	// errComplaintNotFound answers both "no such complaint" and "outside
	// the caller's scope", so nobody can probe for complaints.
	errComplaintNotFound = errs.New(errs.NotFound, "complaint_not_found", "no such complaint")
)

func (s *server) needComplaints() error {
	if s.d.Complaints == nil || s.d.CalDB == nil || s.d.Patients == nil {
		return errComplaintsUnavailable
	}
	return nil
}

// hideComplaint answers "not found" for a complaint outside the caller's scope.
func hideComplaint(err error) error { return hideAs(errComplaintNotFound, err) }

type nextDeadlineJSON struct {
	Milestone string `json:"milestone"`
	DueAt     string `json:"due_at"`
	DueDate   string `json:"due_date"`
	Colour    string `json:"colour"`
}

// complaintItemJSON is a complaint as lists show it; the complainant's name
// and contact are masked.
type complaintItemJSON struct {
	ID              int64             `json:"id"`
	Number          string            `json:"number"`
	Channel         string            `json:"channel"`
	ComplainantName string            `json:"complainant_name"`
	ComplainantRole string            `json:"complainant_role"`
	Contact         string            `json:"contact"`
	Category        string            `json:"category"`
	Severity        string            `json:"severity"`
	Complexity      string            `json:"complexity"`
	DepartmentID    int64             `json:"department_id"`
	DepartmentName  string            `json:"department_name"`
	DepartmentIDs   []int64           `json:"department_ids"`
	OwnerID         int64             `json:"owner_id"`
	OwnerName       string            `json:"owner_name"`
	Status          string            `json:"status"`
	Paused          bool              `json:"paused"`
	ReceivedAt      string            `json:"received_at"`
	NextDeadline    *nextDeadlineJSON `json:"next_deadline"`
	Colour          string            `json:"colour"`
	Escalation      int               `json:"escalation_level"`
	Accountability  bool              `json:"accountability_review"`
}

type clockJSON struct {
	Milestone string  `json:"milestone"`
	Target    string  `json:"target"`
	DueAt     *string `json:"due_at"`
	DueDate   *string `json:"due_date"`
	MetAt     *string `json:"met_at"`
	Colour    string  `json:"colour"`
}

type pauseJSON struct {
	Reason string  `json:"reason"`
	From   string  `json:"from"`
	To     *string `json:"to"`
}

// complaintJSON is one complaint with everything the handling sheet has
// but its history (events) and escalations, which have routes of their own.
type complaintJSON struct {
	complaintItemJSON
	TrackingCode string      `json:"tracking_code"`
	VisitNumber  *string     `json:"visit_number"`
	OccurredOn   *string     `json:"occurred_on"`
	Location     string      `json:"location"`
	People       string      `json:"people"`
	Content      string      `json:"content"`
	Asks         string      `json:"asks"`
	Policy       string      `json:"policy"`
	Clocks       []clockJSON `json:"clocks"`
	Pauses       []pauseJSON `json:"pauses"`
	Plan         string      `json:"plan"`
	Compensation string      `json:"compensation"`
	ReturnReason string      `json:"return_reason"`
	FeedbackHow  string      `json:"feedback_how"`
	Feedback     string      `json:"feedback"`
	Satisfaction string      `json:"satisfaction"`
	ArchivedAt   *string     `json:"archived_at"`
	CreatedAt    string      `json:"created_at"`
	UpdatedAt    string      `json:"updated_at"`
}

type complaintPageJSON struct {
	Items      []complaintItemJSON `json:"items"`
	NextCursor *string             `json:"next_cursor"`
	Total      int                 `json:"total"`
	Tab        string              `json:"tab"`
	Tabs       []string            `json:"tabs"`
}

// utc writes an instant in UTC with its microseconds, as stored.
func utc(t time.Time) string { return t.UTC().Format(timeLayout) }

func optUTC(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := utc(t)
	return &s
}

// nextDeadline is the most urgent clock still owed: the first red one,
// else the one due soonest. Met and paused clocks owe nothing now.
func nextDeadline(cs []complaint.Clock) *nextDeadlineJSON {
	var best *complaint.Clock
	for i := range cs {
		c := &cs[i]
		if c.Colour == complaint.Met || c.Colour == complaint.MetLate || c.Deadline.Paused {
			continue
		}
		red, bestRed := c.Colour == complaint.Red, best != nil && best.Colour == complaint.Red
		if best == nil || red && !bestRed || red == bestRed && c.Deadline.At.Before(best.Deadline.At) {
			best = c
		}
	}
	if best == nil {
		return nil
	}
	return &nextDeadlineJSON{Milestone: best.Milestone, DueAt: utc(best.Deadline.At), DueDate: best.Deadline.Date.String(), Colour: best.Colour}
}

func complaintItemOf(v *complaint.View) complaintItemJSON {
	c := v.Complaint
	j := complaintItemJSON{ID: c.ID, Number: c.Number, Channel: c.Channel, ComplainantName: pii.MaskName(c.ComplainantName),
		ComplainantRole: c.ComplainantRole, Contact: c.ContactMasked, Category: c.Category, Severity: c.Severity,
		Complexity: c.Complexity, DepartmentID: c.DepartmentID, DepartmentName: c.DeptName, DepartmentIDs: c.DepartmentIDs,
		OwnerID: c.OwnerID, OwnerName: c.OwnerName, Status: c.Status, Paused: c.Paused, ReceivedAt: utc(c.ReceivedAt),
		NextDeadline: nextDeadline(v.Clocks), Colour: v.Colour, Escalation: c.Escalation, Accountability: c.Accountability}
	if j.DepartmentIDs == nil {
		j.DepartmentIDs = []int64{}
	}
	return j
}

// complaintOf renders a complaint with its clocks; visit is the stay's
// visit number ("" when none is linked).
func complaintOf(v *complaint.View, visit string) complaintJSON {
	c := v.Complaint
	j := complaintJSON{complaintItemJSON: complaintItemOf(v), TrackingCode: c.TrackingCode, VisitNumber: optString(visit),
		OccurredOn: optString(c.OccurredOn), Location: c.Location, People: c.People, Content: c.Content, Asks: c.Asks,
		Clocks: []clockJSON{}, Pauses: []pauseJSON{}, Plan: c.Plan, Compensation: c.Compensation, ReturnReason: c.ReturnReason,
		FeedbackHow: c.FeedbackHow, Feedback: c.Feedback, Satisfaction: c.Satisfaction, ArchivedAt: optUTC(c.ArchivedAt),
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt)}
	if v.Policy != nil {
		j.Policy = v.Policy.Name
	}
	for _, cl := range v.Clocks {
		n := cl.Deadline.Target.N
		if c.MultiDept() && cl.Deadline.Target.MultiN > 0 {
			n = cl.Deadline.Target.MultiN
		}
		cj := clockJSON{Milestone: cl.Milestone, Target: strconv.Itoa(n) + string(cl.Deadline.Target.Unit), MetAt: optUTC(cl.MetAt),
			Colour: cl.Colour}
		if !cl.Deadline.Paused {
			cj.DueAt, cj.DueDate = optUTC(cl.Deadline.At), optDate(cl.Deadline.Date)
		}
		j.Clocks = append(j.Clocks, cj)
	}
	for _, p := range c.Pauses {
		j.Pauses = append(j.Pauses, pauseJSON{Reason: p.Reason, From: utc(p.From), To: optUTC(p.To)})
	}
	return j
}

// listComplaints is the complaint list of the token's institution.
func (s *server) listComplaints(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	q := r.URL.Query()
	var fe fieldErrors
	f := complaint.Filter{InstitutionID: p.InstitutionID, Tab: complaint.Tab(q.Get("tab")), Status: q.Get("status"),
		Colour: q.Get("colour"), Category: strings.TrimSpace(q.Get("category")), Channel: q.Get("channel")}
	tabs := complaint.TabsFor(p, p.InstitutionID)
	switch f.Tab {
	case "":
		f.Tab = tabs[len(tabs)-1] // the widest: an integration owns nothing, so "mine" would be empty
	case complaint.TabMine, complaint.TabDept, complaint.TabAll:
	default:
		fe.add(errs.Field("tab", "bad_tab", "tab must be mine, dept or all"))
	}
	if f.Status != "" && f.Status != "all" && !slices.Contains(complaint.Statuses(), f.Status) {
		fe.add(errs.Field("status", "bad_status", "status must be a complaint status or all"))
	}
	if f.Colour != "" && !slices.Contains([]string{complaint.Red, complaint.Amber, complaint.Green, complaint.Paused}, f.Colour) {
		fe.add(errs.Field("colour", "bad_colour", "colour must be red, amber, green or paused"))
	}
	if len(f.Category) > 64 {
		fe.add(errs.Field("category", "bad_category", "category is at most 64 characters"))
	}
	if f.Channel != "" && !slices.Contains(complaint.Channels(), f.Channel) {
		fe.add(errs.Field("channel", "bad_channel", "channel must be one of "+strings.Join(complaint.Channels(), ", ")))
	}
	f.DepartmentID = queryInt(q, "department_id", 1, 1<<53, &fe)
	var from, to calendar.Date
	for _, d := range []struct {
		name string
		dst  *calendar.Date
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(d.name); v != "" {
			day, err := calendar.ParseDate(v)
			if err != nil {
				fe.add(errs.Field(d.name, "bad_"+d.name, d.name+" must be a date (YYYY-MM-DD)"))
			}
			*d.dst = day
		}
	}
	f.Limit, f.Offset = pageParams(q, &fe)
	if err := fe.err(); err != nil {
		return nil, err
	}
	if !from.IsZero() || !to.IsZero() {
		// Local dates of the institution become instants: from its
		// midnight, to the midnight after the last day.
		pol, err := s.d.CalDB.Policy(ctx, p.InstitutionID)
		if err != nil {
			return nil, err
		}
		if !from.IsZero() {
			f.ReceivedFrom = from.In(pol.Loc)
		}
		if !to.IsZero() {
			f.ReceivedTo = to.AddDays(1).In(pol.Loc)
		}
	}
	l, err := s.d.Complaints.List(ctx, p, f)
	if err != nil {
		return nil, err
	}
	page := complaintPageJSON{Items: make([]complaintItemJSON, 0, len(l.Items)), Total: l.Total, Tab: string(l.Tab),
		Tabs: make([]string, 0, len(l.Tabs))}
	for _, t := range l.Tabs {
		page.Tabs = append(page.Tabs, string(t))
	}
	for _, v := range l.Items {
		page.Items = append(page.Items, complaintItemOf(v))
	}
	if next := f.Offset + len(l.Items); len(l.Items) == f.Limit && next < l.Total {
		c := encodeCursor(int64(next))
		page.NextCursor = &c
	}
	return page, nil
}

// complaintID parses the path's id; a malformed id is simply not found.
func complaintID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errComplaintNotFound
	}
	return id, nil
}

// complaintView reads complaint id with its clocks, hiding scope failures.
func (s *server) complaintView(r *http.Request, p *access.Principal, id int64) (complaintJSON, error) {
	ctx := r.Context()
	v, err := s.d.Complaints.Page(ctx, p, id)
	if err != nil {
		return complaintJSON{}, hideComplaint(err)
	}
	visit := ""
	if v.EncounterID != 0 {
		// The stay's number, when the caller's scope covers the stay.
		enc, _, err := s.d.Patients.Stay(ctx, p, v.EncounterID)
		switch {
		case err == nil:
			visit = enc.VisitNumber
		case !errs.Is(err, errs.Forbidden):
			return complaintJSON{}, err
		}
	}
	return complaintOf(v, visit), nil
}

func (s *server) getComplaint(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	id, err := complaintID(r)
	if err != nil {
		return nil, err
	}
	return s.complaintView(r, p, id)
}

type complaintIn struct {
	Channel            string  `json:"channel"`
	ComplainantName    string  `json:"complainant_name"`
	ComplainantRole    string  `json:"complainant_role"`
	Contact            string  `json:"contact"`
	VisitNumber        string  `json:"visit_number"`
	OccurredOn         string  `json:"occurred_on"`
	Location           string  `json:"location"`
	People             string  `json:"people"`
	Content            string  `json:"content"`
	Asks               string  `json:"asks"`
	Category           string  `json:"category"`
	Severity           string  `json:"severity"`
	Complexity         string  `json:"complexity"`
	DepartmentID       int64   `json:"department_id"`
	OtherDepartmentIDs []int64 `json:"other_department_ids"`
	ReceivedAt         string  `json:"received_at"`
}

// apiFields renames the service's field names that differ from the JSON
// request's.
func apiFields(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 {
		return err
	}
	if _, has := e.Fields["departments"]; !has {
		return err
	}
	out := *e
	out.Fields = map[string]string{}
	for k, v := range e.Fields {
		if k == "departments" {
			k = "other_department_ids"
		}
		out.Fields[k] = v
	}
	return &out
}

// postComplaint registers a complaint; an Idempotency-Key makes a retry
// return the first complaint.
func (s *server) postComplaint(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if _, sent := r.Header["Idempotency-Key"]; sent && !complaint.ValidIdempotencyKey(key) {
		return nil, errs.Field("Idempotency-Key", "bad_idempotency_key",
			"Idempotency-Key is 1 to "+strconv.Itoa(complaint.MaxIdempotencyKey)+" visible ASCII characters without spaces")
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in complaintIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	cin := complaint.Input{InstitutionID: p.InstitutionID, Channel: in.Channel, ComplainantName: in.ComplainantName,
		ComplainantRole: in.ComplainantRole, Contact: in.Contact, VisitNumber: in.VisitNumber, OccurredOn: in.OccurredOn,
		Location: in.Location, People: in.People, Content: in.Content, Asks: in.Asks, Category: in.Category, Severity: in.Severity,
		Complexity: in.Complexity, DepartmentID: in.DepartmentID, OtherDepts: in.OtherDepartmentIDs, IdempotencyKey: key}
	if in.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, in.ReceivedAt)
		if err != nil {
			return nil, errs.Field("received_at", "bad_received_at", "received_at is an RFC 3339 time, e.g. 2026-10-09T16:55:00+08:00")
		}
		cin.ReceivedAt = t
	}
	c, err := s.d.Complaints.Register(r.Context(), p, cin)
	if err != nil {
		return nil, apiFields(err)
	}
	j, err := s.complaintView(r, p, c.ID)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Location": {"/api/v1/complaints/" + strconv.FormatInt(c.ID, 10)}}
	if c.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return statusBody{status: http.StatusCreated, body: j, header: h}, nil
}

type complaintActionIn struct {
	Action             string  `json:"action"`
	Note               string  `json:"note"`
	Category           string  `json:"category"`
	Severity           string  `json:"severity"`
	Complexity         string  `json:"complexity"`
	DepartmentID       int64   `json:"department_id"`
	OtherDepartmentIDs []int64 `json:"other_department_ids"`
	Plan               string  `json:"plan"`
	Compensation       string  `json:"compensation"`
	FeedbackHow        string  `json:"feedback_how"`
	Grade              string  `json:"grade"`
	Reason             string  `json:"reason"`
	OwnerID            int64   `json:"owner_id"`
}

// actOnComplaint takes one action; the service decides who may.
func (s *server) actOnComplaint(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	id, err := complaintID(r)
	if err != nil {
		return nil, err
	}
	// Out of scope is "not found" first, so the 403 below only ever means
	// "you may see it but not do this".
	if _, err := s.d.Complaints.Get(ctx, p, id); err != nil {
		return nil, hideComplaint(err)
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	var in complaintActionIn
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	if in.Action == "" {
		return nil, errs.Field("action", "missing_action", "action is one of "+strings.Join(complaint.Actions(), ", "))
	}
	_, err = s.d.Complaints.Act(ctx, p, id, complaint.ActionInput{Action: in.Action, Note: in.Note, Category: in.Category,
		Severity: in.Severity, Complexity: in.Complexity, DepartmentID: in.DepartmentID, OtherDepts: in.OtherDepartmentIDs,
		Plan: in.Plan, Compensation: in.Compensation, FeedbackHow: in.FeedbackHow, Grade: in.Grade, Reason: in.Reason,
		OwnerID: in.OwnerID})
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errComplaintNotFound
		}
		return nil, apiFields(err)
	}
	return s.complaintView(r, p, id)
}

type complaintEventJSON struct {
	ID       int64  `json:"id"`
	At       string `json:"at"`
	UserID   *int64 `json:"user_id"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	From     string `json:"from"`
	To       string `json:"to"`
	Detail   string `json:"detail"`
	State    string `json:"state"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

type complaintEventList struct {
	Items []complaintEventJSON `json:"items"`
}

func (s *server) complaintEvents(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	id, err := complaintID(r)
	if err != nil {
		return nil, err
	}
	evs, err := s.d.Complaints.Events(r.Context(), p, id)
	if err != nil {
		return nil, hideComplaint(err)
	}
	out := complaintEventList{Items: make([]complaintEventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Items = append(out.Items, complaintEventJSON{ID: e.ID, At: utc(e.At), UserID: optID(e.UserID), Actor: e.Actor,
			Action: e.Action, From: e.From, To: e.To, Detail: e.Detail, State: e.State, PrevHash: e.PrevHash, Hash: e.Hash})
	}
	return out, nil
}

type escalationJSON struct {
	Milestone string `json:"milestone"`
	Level     int    `json:"level"`
	To        string `json:"to"`
	DueAt     string `json:"due_at"`
	At        string `json:"at"`
}

type escalationList struct {
	Items []escalationJSON `json:"items"`
}

// escalationTo names who an escalation level tells.
var escalationTo = map[int]string{complaint.LevelHead: "dept_head", complaint.LevelQuality: "quality",
	complaint.LevelLeadership: "leadership"}

func (s *server) complaintEscalations(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	id, err := complaintID(r)
	if err != nil {
		return nil, err
	}
	es, err := s.d.Complaints.Escalations(r.Context(), p, id)
	if err != nil {
		return nil, hideComplaint(err)
	}
	out := escalationList{Items: make([]escalationJSON, 0, len(es))}
	for _, e := range es {
		out.Items = append(out.Items, escalationJSON{Milestone: e.Milestone, Level: e.Level, To: escalationTo[e.Level],
			DueAt: utc(e.DueAt), At: utc(e.At)})
	}
	return out, nil
}

type complaintContactJSON struct {
	Contact string `json:"contact"`
}

// complaintContact reveals the complainant's contact to a caller who may
// see the complaint; the service audits every reveal.
func (s *server) complaintContact(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needComplaints(); err != nil {
		return nil, err
	}
	id, err := complaintID(r)
	if err != nil {
		return nil, err
	}
	c, err := s.d.Complaints.RevealContact(r.Context(), p, id)
	if errs.CodeOf(err) == "reveal_limit" {
		return nil, err // the caller sees the complaint; only the cap refuses
	}
	if err != nil {
		return nil, hideComplaint(err)
	}
	return complaintContactJSON{Contact: c}, nil
}

// complaintSchemas are the OpenAPI schemas of the complaint routes.
func complaintSchemas() obj {
	id := obj{"type": "integer", "format": "int64"}
	str := obj{"type": "string"}
	instant := obj{"type": "string", "format": "date-time"}
	nullInstant := obj{"type": []string{"string", "null"}, "format": "date-time"}
	nullDate := obj{"type": []string{"string", "null"}, "format": "date"}
	nullStr := obj{"type": []string{"string", "null"}}
	array := func(items any) obj { return obj{"type": "array", "items": items} }
	object := func(required []string, props obj) obj {
		return obj{"type": "object", "required": required, "properties": props}
	}
	input := func(required []string, props obj) obj {
		o := object(required, props)
		o["additionalProperties"] = false
		return o
	}
	milestone := obj{"type": "string", "enum": complaint.Milestones()}
	colour := obj{"type": "string", "enum": []string{complaint.Green, complaint.Amber, complaint.Red, complaint.Paused, complaint.Met,
		complaint.MetLate}, "description": "amber: at most 20% of the working time left; red: passed and not met"}
	channel := obj{"type": "string", "enum": complaint.Channels()}
	category := obj{"type": "string", "description": "the institution's categories; the built-in ones are listed", "examples": complaint.Categories()}
	severity := obj{"type": "string", "enum": complaint.Severities(), "description": "一般 / 较重 / 重大"}
	complexity := obj{"type": "string", "enum": []string{complaint.Simple, complaint.Complex}}
	deptIDs := obj{"type": "array", "items": id, "maxItems": 20}
	text := func(max int) obj { return obj{"type": "string", "maxLength": max} }
	itemProps := obj{
		"id":                    id,
		"number":                obj{"type": "string", "examples": []string{"TS-H1-20261009-0001"}},
		"channel":               channel,
		"complainant_name":      obj{"type": "string", "description": "masked, e.g. 张*明"},
		"complainant_role":      obj{"type": "string", "enum": complaint.ComplainantRoles()},
		"contact":               obj{"type": "string", "description": "masked, e.g. 138****8000; the full value only through /contact, audited"},
		"category":              category,
		"severity":              severity,
		"complexity":            complexity,
		"department_id":         obj{"type": "integer", "format": "int64", "description": "the responsible department"},
		"department_name":       str,
		"department_ids":        obj{"type": "array", "items": id, "description": "every department involved, the responsible one first"},
		"owner_id":              obj{"type": "integer", "format": "int64", "description": "the named person who follows it; never empty"},
		"owner_name":            str,
		"status":                obj{"type": "string", "enum": complaint.Statuses()},
		"paused":                obj{"type": "boolean", "description": "the clocks wait on the complainant or a third party"},
		"received_at":           instant,
		"next_deadline":         obj{"oneOf": []obj{ref("schemas", "NextDeadline"), {"type": "null"}}},
		"colour":                obj{"type": "string", "enum": []string{complaint.Red, complaint.Amber, complaint.Paused, complaint.Green, complaint.Met}, "description": "the worst clock"},
		"escalation_level":      obj{"type": "integer", "minimum": 0, "maximum": complaint.LevelLeadership, "description": "highest level reached: 1 department head, 2 quality, 3 leadership"},
		"accountability_review": obj{"type": "boolean", "description": "责任倒查: no feedback to the complainant by the feedback milestone"},
	}
	itemRequired := []string{"id", "number", "channel", "complainant_name", "complainant_role", "contact", "category", "severity",
		"complexity", "department_id", "department_name", "department_ids", "owner_id", "owner_name", "status", "paused",
		"received_at", "next_deadline", "colour", "escalation_level", "accountability_review"}
	return obj{
		"NextDeadline": object([]string{"milestone", "due_at", "due_date", "colour"}, obj{
			"milestone": milestone, "due_at": obj{"type": "string", "format": "date-time", "description": "the instant it becomes overdue"},
			"due_date": obj{"type": "string", "format": "date", "description": "local date"}, "colour": colour,
		}),
		"ComplaintItem": object(itemRequired, itemProps),
		"ComplaintPage": object([]string{"items", "next_cursor", "total", "tab", "tabs"}, obj{
			"items":       array(ref("schemas", "ComplaintItem")),
			"next_cursor": obj{"type": []string{"string", "null"}, "description": "pass as ?cursor= for the next page; null on the last page"},
			"total":       obj{"type": "integer", "minimum": 0},
			"tab":         str,
			"tabs":        obj{"type": "array", "items": str, "description": "the tabs the caller has"},
		}),
		"Clock": object([]string{"milestone", "target", "due_at", "due_date", "met_at", "colour"}, obj{
			"milestone": milestone,
			"target":    obj{"type": "string", "description": "the budget: h service hours, wd working days, d days (节假日顺延)", "examples": []string{"1h", "5wd", "7d"}},
			"due_at":    obj{"type": []string{"string", "null"}, "format": "date-time", "description": "null while the clocks are paused"},
			"due_date":  nullDate,
			"met_at":    nullInstant,
			"colour":    colour,
		}),
		"Pause": object([]string{"reason", "from", "to"}, obj{
			"reason": obj{"type": "string", "enum": []string{complaint.WaitComplainant, complaint.WaitThirdParty}},
			"from":   instant,
			"to":     obj{"type": []string{"string", "null"}, "format": "date-time", "description": "null while it lasts"},
		}),
		"Complaint": obj{"allOf": []obj{ref("schemas", "ComplaintItem"), object([]string{"tracking_code", "visit_number", "occurred_on",
			"location", "people", "content", "asks", "policy", "clocks", "pauses", "plan", "compensation", "return_reason",
			"feedback_how", "feedback", "satisfaction", "archived_at", "created_at", "updated_at"}, obj{
			"tracking_code": obj{"type": "string", "description": "the complainant's random code for the public tracking page", "examples": []string{"K7MQ-X9PA-4TZB"}},
			"visit_number":  nullStr,
			"occurred_on":   nullDate,
			"location":      str,
			"people":        str,
			"content":       str,
			"asks":          str,
			"policy":        obj{"type": "string", "description": "the SLA policy the clocks follow"},
			"clocks":        array(ref("schemas", "Clock")),
			"pauses":        array(ref("schemas", "Pause")),
			"plan":          str,
			"compensation":  str,
			"return_reason": str,
			"feedback_how":  str,
			"feedback":      str,
			"satisfaction":  str,
			"archived_at":   nullInstant,
			"created_at":    instant,
			"updated_at":    instant,
		})}},
		"ComplaintRequest": input([]string{"channel", "complainant_name", "content"}, obj{
			"channel":              channel,
			"complainant_name":     text(200),
			"complainant_role":     obj{"type": "string", "enum": complaint.ComplainantRoles(), "default": "patient"},
			"contact":              obj{"type": "string", "maxLength": 200, "description": "phone or e-mail; sealed at rest"},
			"visit_number":         obj{"type": "string", "maxLength": 200, "description": "the stay, when known: links the patient and gives the department"},
			"occurred_on":          obj{"type": "string", "format": "date"},
			"location":             text(200),
			"people":               text(1000),
			"content":              obj{"type": "string", "minLength": 1, "maxLength": 4000},
			"asks":                 text(4000),
			"category":             obj{"type": "string", "default": "other", "examples": complaint.Categories()},
			"severity":             obj{"type": "string", "enum": complaint.Severities(), "default": complaint.General},
			"complexity":           obj{"type": "string", "enum": []string{complaint.Simple, complaint.Complex}, "default": complaint.Simple},
			"department_id":        obj{"type": "integer", "format": "int64", "description": "responsible department; required without visit_number"},
			"other_department_ids": deptIDs,
			"received_at":          obj{"type": "string", "format": "date-time", "description": "when the hospital received it (within 31 days); default now"},
		}),
		"ComplaintAction": input([]string{"action"}, obj{
			"action":               obj{"type": "string", "enum": complaint.Actions()},
			"note":                 obj{"type": "string", "maxLength": 4000, "description": "the team (investigate), the reason (return, reopen), what the complainant was told (feedback), the finding (revisit), or a note"},
			"category":             obj{"type": "string", "description": "assess, reclassify"},
			"severity":             obj{"type": "string", "enum": complaint.Severities(), "description": "assess, reclassify"},
			"complexity":           obj{"type": "string", "enum": []string{complaint.Simple, complaint.Complex}, "description": "assess, reclassify"},
			"department_id":        obj{"type": "integer", "format": "int64", "description": "assess, reclassify: the responsible department (default unchanged)"},
			"other_department_ids": deptIDs,
			"plan":                 obj{"type": "string", "maxLength": 4000, "description": "draft_plan: explanation, apology, remedy"},
			"compensation":         obj{"type": "string", "maxLength": 200, "description": "draft_plan"},
			"feedback_how":         obj{"type": "string", "enum": complaint.FeedbackWays(), "description": "feedback"},
			"grade":                obj{"type": "string", "enum": complaint.Grades(), "description": "satisfaction"},
			"reason":               obj{"type": "string", "enum": []string{complaint.WaitComplainant, complaint.WaitThirdParty}, "description": "pause"},
			"owner_id":             obj{"type": "integer", "format": "int64", "description": "reassign"},
		}),
		"ComplaintEvent": object([]string{"id", "at", "user_id", "actor", "action", "from", "to", "detail", "state", "prev_hash", "hash"}, obj{
			"id":        id,
			"at":        instant,
			"user_id":   obj{"type": []string{"integer", "null"}, "format": "int64", "description": "null for tokens and the platform"},
			"actor":     obj{"type": "string", "description": "login name; token:NAME for API tokens; system for the platform"},
			"action":    str,
			"from":      str,
			"to":        str,
			"detail":    str,
			"state":     obj{"type": "string", "description": "digest of the complaint's key fields after the event (empty for events from before digests)"},
			"prev_hash": obj{"type": "string", "description": "hash of the institution's previous complaint event"},
			"hash":      obj{"type": "string", "description": "HMAC-SHA-256 under the chain key over this event's fields, state and prev_hash (SHA-256 for events from before the cut-over)"},
		}),
		"ComplaintEventList": object([]string{"items"}, obj{"items": array(ref("schemas", "ComplaintEvent"))}),
		"Escalation": object([]string{"milestone", "level", "to", "due_at", "at"}, obj{
			"milestone": milestone,
			"level":     obj{"type": "integer", "minimum": 1, "maximum": complaint.LevelLeadership},
			"to":        obj{"type": "string", "enum": []string{"dept_head", "quality", "leadership"}},
			"due_at":    instant,
			"at":        instant,
		}),
		"EscalationList":   object([]string{"items"}, obj{"items": array(ref("schemas", "Escalation"))}),
		"ComplaintContact": object([]string{"contact"}, obj{"contact": obj{"type": "string", "description": "in full; the reveal is audited"}}),
	}
}
