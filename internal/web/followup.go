package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
)

// worklistPage is how many tasks one worklist page shows.
const worklistPage = 50

// wlState is the worklist view a task was opened from. It travels with the
// task page (query string, hidden fields) so "next task" and the redirect
// after a save stay in the same tab with the same filters.
type wlState struct {
	Inst    int64 // 0 when the user has one institution
	Tab     followup.Tab
	Level   int
	Dept    int64
	Channel string
	Offset  int
}

// readWL reads the view from the URL only: the task page's forms carry it
// in their action URLs, so it never mixes with their own fields (a record
// has a channel too).
func readWL(r *http.Request) wlState {
	v := r.URL.Query()
	id := func(k string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(v.Get(k)), 10, 64)
		return n
	}
	st := wlState{Inst: id("inst"), Tab: followup.Tab(v.Get("tab")), Dept: id("dept"), Channel: strings.TrimSpace(v.Get("channel"))}
	if !slices.Contains(followup.Tabs(), st.Tab) {
		st.Tab = followup.TabToday
	}
	if l, err := strconv.Atoi(v.Get("level")); err == nil && l >= 0 && l <= 3 {
		st.Level = l
	}
	if !slices.Contains(followup.Channels(), st.Channel) {
		st.Channel = ""
	}
	if o, err := strconv.Atoi(v.Get("offset")); err == nil && o > 0 {
		st.Offset = o
	}
	return st
}

func (st wlState) values(withOffset bool) url.Values {
	v := url.Values{}
	if st.Inst != 0 {
		v.Set("inst", strconv.FormatInt(st.Inst, 10))
	}
	if st.Tab != followup.TabToday && st.Tab != "" {
		v.Set("tab", string(st.Tab))
	}
	if st.Level != 0 {
		v.Set("level", strconv.Itoa(st.Level))
	}
	if st.Dept != 0 {
		v.Set("dept", strconv.FormatInt(st.Dept, 10))
	}
	if st.Channel != "" {
		v.Set("channel", st.Channel)
	}
	if withOffset && st.Offset > 0 {
		v.Set("offset", strconv.Itoa(st.Offset))
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if q := v.Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

// ListURL is the worklist page the state describes.
func (st wlState) ListURL() string { return withQuery("/followup", st.values(true)) }

// TabURL is the first page of another tab with the same filters.
func (st wlState) TabURL(tab followup.Tab) string {
	st.Tab, st.Offset = tab, 0
	return withQuery("/followup", st.values(false))
}

// PageURL is another page of the same tab.
func (st wlState) PageURL(offset int) string {
	st.Offset = max(0, offset)
	return withQuery("/followup", st.values(true))
}

// TaskURL opens a task, remembering the view.
func (st wlState) TaskURL(id int64) string {
	return withQuery("/followup/tasks/"+strconv.FormatInt(id, 10), st.values(false))
}

// NextURL moves on from task id to the next one of the view.
func (st wlState) NextURL(id int64) string {
	v := st.values(false)
	v.Set("after", strconv.FormatInt(id, 10))
	return withQuery("/followup/next", v)
}

// Action is the URL of a task form (claim, attempts, record …), carrying
// the view.
func (st wlState) Action(id int64, verb string) string {
	return withQuery("/followup/tasks/"+strconv.FormatInt(id, 10)+"/"+verb, st.values(false))
}

// instToday is the institution's working calendar and its local date.
func (s *Server) instToday(ctx context.Context, inst int64) (calendar.Policy, calendar.Date, error) {
	pol, err := s.Calendar.Policy(ctx, inst)
	if err != nil {
		return pol, calendar.Date{}, err
	}
	return pol, calendar.DateOf(s.Now().In(pol.Loc)), nil
}

// daysBetween is b - a in calendar days.
func daysBetween(a, b calendar.Date) int {
	return int(b.In(time.UTC).Sub(a.In(time.UTC)).Hours() / 24)
}

func dateText(d calendar.Date) string {
	if d.IsZero() {
		return "—"
	}
	return d.String()
}

// purposeHead is the name of a step's purpose: "一级随访（…）：…" → "一级随访".
func purposeHead(p string) string {
	if i := strings.IndexAny(p, "（(：:"); i > 0 {
		p = p[:i]
	}
	return clip(strings.TrimSpace(p), 16)
}

// shortPurpose is a step's purpose for a table cell: its name and the first
// item after the colon, "一级随访 · 核实地址电话与主治医生".
func shortPurpose(p string) string {
	head := purposeHead(p)
	_, rest, ok := strings.Cut(p, "：")
	if !ok {
		_, rest, ok = strings.Cut(p, ": ")
	}
	if first, _, _ := strings.Cut(rest, "，"); ok && first != "" {
		first, _, _ = strings.Cut(first, "、")
		return head + " · " + clip(strings.TrimSpace(first), 12)
	}
	return head
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}

// taskStatus is the pill of a task on day today: overdue red with the days,
// due today amber, upcoming grey, done green.
func (s *Server) taskStatus(lang string, t *followup.Task, today calendar.Date) (string, string) {
	switch t.Status {
	case followup.Done:
		return s.cat.T(lang, "fu.st.done"), "green"
	case followup.Unreachable:
		return s.cat.T(lang, "fu.st.unreachable"), "red"
	case followup.Cancelled:
		return s.cat.T(lang, "fu.st.cancelled"), "grey"
	}
	switch {
	case t.Due.Before(today):
		return s.cat.T(lang, "fu.st.overdue", daysBetween(t.Due, today)), "red"
	case t.Next.After(today):
		if t.Attempts > 0 {
			return s.cat.T(lang, "fu.st.retry", t.Next.String()[5:]), "grey"
		}
		return s.cat.T(lang, "fu.st.upcoming"), "grey"
	case t.Due == today:
		return s.cat.T(lang, "fu.st.due_today"), "amber"
	default:
		return s.cat.T(lang, "fu.st.due_in", daysBetween(today, t.Due)), ""
	}
}

// staffNames resolves user ids to names as far as the caller may see them.
type staffNames struct {
	ctx   context.Context
	s     *Server
	p     *access.Principal
	cache map[int64]string
}

func (s *Server) staff(ctx context.Context, p *access.Principal) *staffNames {
	return &staffNames{ctx: ctx, s: s, p: p, cache: map[int64]string{}}
}

func (n *staffNames) name(id int64) string {
	switch {
	case id == 0:
		return "—"
	case id == n.p.UserID:
		return n.p.Name
	}
	if v, ok := n.cache[id]; ok {
		return v
	}
	v := "#" + strconv.FormatInt(id, 10)
	if u, err := n.s.Auth.GetUser(n.ctx, n.p, id); err == nil {
		v = u.DisplayName
	}
	n.cache[id] = v
	return v
}

// who names the author of a history event: the person's display name as
// far as the caller may see accounts, else the account name the event
// recorded; no user at all is the system.
func (n *staffNames) who(lang string, userID int64, actor string) string {
	if userID == 0 {
		return n.s.cat.T(lang, "nt.system")
	}
	if v := n.name(userID); !strings.HasPrefix(v, "#") {
		return v
	}
	return actor
}

// taskRow is one line of the worklist.
type taskRow struct {
	*followup.Task
	Name      string // masked
	Purpose   string
	Pill      string
	PillClass string
	Discharge string
	URL       string
	Mine      bool
	Held      bool // claimed by someone else
	Overdue   bool
}

type tabLink struct {
	Tab     followup.Tab
	URL     string
	Count   string // "1000+" above followup.CountCap
	Current bool
	Alert   bool
}

type worklistData struct {
	Inst      *org.Institution
	Insts     []*org.Institution
	WL        wlState
	Today     string
	Tabs      []tabLink
	Rows      []taskRow
	Total     int
	TotalText string // Total as shown: "1000+" when capped
	From, To  int
	PrevURL   string
	NextURL   string
	Depts     []*org.Department
	Channels  []string
	Filtered  bool
	ClearURL  string
	CanImport bool
}

func (s *Server) worklist(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	st := readWL(r)
	st.Inst = 0
	if len(insts) > 1 {
		st.Inst = inst.ID
	}
	_, today, err := s.instToday(ctx, inst.ID)
	if err != nil {
		return err
	}
	wl, err := s.Followup.Worklist(ctx, q.P, followup.Filter{InstitutionID: inst.ID, Tab: st.Tab, Level: st.Level,
		DepartmentID: st.Dept, Channel: st.Channel, Limit: worklistPage, Offset: st.Offset}, today)
	if err != nil {
		return err
	}
	depts, err := s.Org.Departments(ctx, q.P, inst.ID)
	if err != nil {
		return err
	}
	d := worklistData{Inst: inst, Insts: insts, WL: st, Today: today.String(), Total: wl.Total, TotalText: countText(wl.Total), Depts: depts,
		Channels: followup.Channels(), Filtered: st.Level != 0 || st.Dept != 0 || st.Channel != "",
		CanImport: q.P.HasAny(access.SysAdmin, access.Quality, access.Agent)}
	clear := st
	clear.Level, clear.Dept, clear.Channel = 0, 0, ""
	d.ClearURL = clear.TabURL(st.Tab)
	for _, tab := range followup.Tabs() {
		d.Tabs = append(d.Tabs, tabLink{Tab: tab, URL: st.TabURL(tab), Count: countText(wl.Counts[tab]), Current: tab == st.Tab,
			Alert: tab == followup.TabOverdue && wl.Counts[tab] > 0})
	}
	for _, t := range wl.Tasks {
		row := taskRow{Task: t, Name: pii.MaskName(t.PatientName), Purpose: shortPurpose(t.Purpose),
			Discharge: dateText(t.DischargeDate), URL: st.TaskURL(t.ID), Mine: t.ClaimedBy == q.P.UserID && t.ClaimedBy != 0,
			Held: s.Followup.HeldByOther(t, q.P), Overdue: t.Overdue(today)}
		row.Pill, row.PillClass = s.taskStatus(q.Lang, t, today)
		d.Rows = append(d.Rows, row)
	}
	if len(d.Rows) > 0 {
		d.From, d.To = st.Offset+1, st.Offset+len(d.Rows)
	}
	if st.Offset > 0 {
		d.PrevURL = st.PageURL(st.Offset - worklistPage)
	}
	if st.Offset+len(d.Rows) < wl.Total {
		d.NextURL = st.PageURL(st.Offset + worklistPage)
	}
	return s.render(w, r, q, http.StatusOK, "worklist", "followup", d)
}

// nextTaskURL is where "next" leads from task id in view st: the task after
// it in the view's order (wrapping round), skipping tasks someone else
// holds; the worklist itself when nothing is left.
func (s *Server) nextTaskURL(ctx context.Context, q *req, st wlState, inst, id int64) string {
	if st.Inst != 0 {
		inst = st.Inst
	}
	_, today, err := s.instToday(ctx, inst)
	if err != nil {
		return st.ListURL()
	}
	wl, err := s.Followup.Worklist(ctx, q.P, followup.Filter{InstitutionID: inst, Tab: st.Tab, Level: st.Level,
		DepartmentID: st.Dept, Channel: st.Channel, Limit: 500}, today)
	if err != nil {
		return st.ListURL()
	}
	list := wl.Tasks
	for i, t := range list {
		if t.ID == id {
			list = append(slices.Clone(list[i+1:]), list[:i]...)
			break
		}
	}
	for _, t := range list {
		if t.ID != id && t.Status == followup.Open && !s.Followup.HeldByOther(t, q.P) {
			return st.TaskURL(t.ID)
		}
	}
	return ""
}

func (s *Server) taskNext(w http.ResponseWriter, r *http.Request, q *req) error {
	st := readWL(r)
	id, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	inst := st.Inst
	if inst == 0 {
		if t, err := s.Followup.Task(r.Context(), q.P, id); err == nil {
			inst = t.InstitutionID
		} else {
			i, _, err := s.hospitalInScope(r, q)
			if err != nil {
				return err
			}
			inst = i.ID
		}
	}
	if to := s.nextTaskURL(r.Context(), q, st, inst, id); to != "" {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	return s.redirect(w, r, st.ListURL(), "worklist_done")
}

// outcomeOpt is one radio of the attempt form; Key is its access key.
type outcomeOpt struct {
	Value   string
	Key     int
	Checked bool
}

type attemptRow struct {
	followup.Attempt
	Who      string
	ThisTask bool
}

type recordRow struct {
	*followup.Record
	Who string
}

// recordForm is the record form's input; NPS -1 means not asked.
type recordForm struct {
	followup.RecordInput
}

type taskData struct {
	Info        string // a note about this page itself (no usable phone)
	T           *followup.Task
	WL          wlState
	Pat         patient.Masked
	PatDNCWhy   string
	Age         int
	Enc         *patient.Encounter
	Discharge   string
	Status      string
	StatusClass string
	Overdue     bool
	Open        bool
	Script      []string
	Revealed    []telLink
	Attempts    []attemptRow
	Records     []recordRow
	Mine        bool
	Held        bool
	Claimer     string
	Outcomes    []outcomeOpt
	Channels    []string
	Effects     []string
	Sats        []string
	NPS         []int
	AttNote     string
	AttChannel  string
	Rec         recordForm
	CloseReason string
	OutcomeKey  string
	Purpose     string
	NextURL     string
}

// telLink is a revealed phone number and its dialling link.
type telLink struct {
	Number string
	Href   template.URL
}

func telOf(n string) telLink {
	var b strings.Builder
	for _, r := range n {
		if r >= '0' && r <= '9' || r == '+' || r == '-' || r == '*' || r == '#' {
			b.WriteRune(r)
		}
	}
	// Only digits and dialling symbols reach the URL, so it is safe.
	return telLink{Number: n, Href: template.URL("tel:" + b.String())}
}

// taskData gathers everything the task page shows. The task read checks
// scope; the patient and stay are read for that task only.
func (s *Server) taskData(w http.ResponseWriter, r *http.Request, q *req, id int64) (*taskData, error) {
	ctx := r.Context()
	t, pat, enc, err := s.Followup.TaskPatient(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	_, today, err := s.instToday(ctx, t.InstitutionID)
	if err != nil {
		return nil, err
	}
	atts, err := s.Followup.PatientAttempts(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	recs, err := s.Followup.TaskRecords(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	st := readWL(r)
	names := s.staff(ctx, q.P)
	d := &taskData{T: t, WL: st, Pat: pat.Mask(), PatDNCWhy: pat.DNCReason, Age: pat.Age(enc.DischargeDate),
		Enc: enc, Discharge: dateText(enc.DischargeDate), Open: t.Status == followup.Open, Overdue: t.Overdue(today),
		Mine: t.ClaimedBy != 0 && t.ClaimedBy == q.P.UserID, Held: s.Followup.HeldByOther(t, q.P),
		Channels: followup.Channels(), Effects: followup.Effects(),
		Sats:       []string{followup.Satisfied, followup.Basically, followup.Dissatisfied},
		AttChannel: t.Channel, Rec: recordForm{followup.RecordInput{Channel: t.Channel, NPS: -1}}}
	if d.Held {
		d.Claimer = names.name(t.ClaimedBy)
	}
	d.Status, d.StatusClass = s.taskStatus(q.Lang, t, today)
	for i := range 11 {
		d.NPS = append(d.NPS, i)
	}
	for i, o := range followup.Outcomes() {
		d.Outcomes = append(d.Outcomes, outcomeOpt{Value: o, Key: i + 1})
	}
	key := fmt.Sprintf("fu.script.%d", t.Level)
	if !s.cat.Has(q.Lang, key) {
		key = "fu.script.0"
	}
	for _, line := range strings.Split(s.cat.T(q.Lang, key), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			d.Script = append(d.Script, line)
		}
	}
	for _, a := range atts {
		d.Attempts = append(d.Attempts, attemptRow{Attempt: a, Who: names.name(a.UserID), ThisTask: a.TaskID == t.ID})
	}
	for _, rec := range recs {
		d.Records = append(d.Records, recordRow{Record: rec, Who: names.name(rec.UserID)})
	}
	if t.CloseReason != "" {
		head, tail, _ := strings.Cut(t.CloseReason, ":")
		if strings.HasPrefix(head, "no_answer_") {
			head = "no_answer"
		}
		if s.cat.Has(q.Lang, "fu.close."+head) {
			d.CloseReason = strings.TrimSpace(s.cat.T(q.Lang, "fu.close."+head) + " " + tail)
		} else {
			d.CloseReason = t.CloseReason
		}
	}
	d.NextURL = st.NextURL(t.ID)
	d.Purpose = purposeHead(t.Purpose)
	d.OutcomeKey = "fu.none"
	if enc.Outcome != "" {
		d.OutcomeKey = "fu.outcome." + string(enc.Outcome)
	}
	return d, nil
}

func (s *Server) taskPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.taskData(w, r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "task", "followup", d)
}

// taskFormError re-shows the task page with a failed form's input kept;
// fill copies the input into the page data.
func (s *Server) taskFormError(w http.ResponseWriter, r *http.Request, q *req, id int64, ferr error, fill func(*taskData)) error {
	if _, ok := errs.As(ferr); !ok {
		return ferr
	}
	d, err := s.taskData(w, r, q, id)
	if err != nil {
		return ferr
	}
	if fill != nil {
		fill(d)
	}
	return s.renderForm(w, r, q, "task", "followup", d, ferr)
}

func (s *Server) taskClaim(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Followup.Claim(r.Context(), q.P, id); err != nil {
		return s.taskFormError(w, r, q, id, err, nil)
	}
	return s.redirect(w, r, readWL(r).TaskURL(id), "task_claimed")
}

func (s *Server) taskRelease(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Followup.Release(r.Context(), q.P, id); err != nil {
		return s.taskFormError(w, r, q, id, err, nil)
	}
	return s.redirect(w, r, readWL(r).TaskURL(id), "task_released")
}

// taskReveal shows the full phone numbers once, as dialling links; the
// service audits the reveal. The page is not stored (no-store) and a
// reload shows the masked numbers again.
func (s *Server) taskReveal(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.taskData(w, r, q, id)
	if err != nil {
		return err
	}
	v, err := s.Patients.Reveal(r.Context(), q.P, d.T.PatientID, "phone")
	if err != nil {
		return err
	}
	for _, n := range strings.Split(v, ", ") {
		if n = strings.TrimSpace(n); n != "" {
			d.Revealed = append(d.Revealed, telOf(n))
		}
	}
	if len(d.Revealed) == 0 {
		d.Info = s.cat.T(q.Lang, "fu.no_phone")
	}
	return s.render(w, r, q, http.StatusOK, "task", "followup", d)
}

func (s *Server) taskDial(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Followup.Dial(r.Context(), q.P, id); err != nil {
		return s.taskFormError(w, r, q, id, err, nil)
	}
	return s.redirect(w, r, readWL(r).TaskURL(id), "dialing")
}

func (s *Server) taskAttempt(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.Followup.Task(ctx, q.P, id)
	if err != nil {
		return err
	}
	pol, today, err := s.instToday(ctx, t.InstitutionID)
	if err != nil {
		return err
	}
	in := followup.AttemptInput{Outcome: r.PostFormValue("outcome"), Channel: r.PostFormValue("channel"),
		Note: strings.TrimSpace(r.PostFormValue("note"))}
	res, err := s.Followup.Attempt(ctx, q.P, id, in, pol.Cal, today)
	if err != nil {
		return s.taskFormError(w, r, q, id, err, func(d *taskData) {
			for i := range d.Outcomes {
				d.Outcomes[i].Checked = d.Outcomes[i].Value == in.Outcome
			}
			d.AttNote, d.AttChannel = in.Note, in.Channel
		})
	}
	st := readWL(r)
	var text string
	switch {
	case in.Outcome == followup.Reached:
		// The patient is on the line: stay and fill in the record.
		return s.redirectFlash(w, r, st.TaskURL(id)+"#record", s.cat.T(q.Lang, "fu.flash.reached"))
	case in.Outcome == followup.Refused:
		text = s.cat.T(q.Lang, "fu.flash.refused", res.Closed)
	case in.Outcome == followup.Deceased:
		text = s.cat.T(q.Lang, "fu.flash.deceased", res.Closed)
	case res.Status == followup.Open:
		text = s.cat.T(q.Lang, "fu.flash.retry", res.Attempts, res.Next.String())
	default:
		text = s.cat.T(q.Lang, "fu.flash.unreachable", res.Attempts)
	}
	to := s.nextTaskURL(ctx, q, st, t.InstitutionID, id)
	if to == "" {
		to = st.ListURL()
		text += s.cat.T(q.Lang, "fu.sep") + s.cat.T(q.Lang, "fu.flash.no_more")
	}
	return s.redirectFlash(w, r, to, text)
}

// recordInput reads the record form. An NPS that is not 0–10 is passed on
// as out of range so the service names the field.
func recordInput(r *http.Request) followup.RecordInput {
	in := followup.RecordInput{
		Channel: r.PostFormValue("channel"), TreatmentEffect: r.PostFormValue("treatment_effect"),
		Satisfaction: r.PostFormValue("satisfaction"), MedicationGuidance: r.PostFormValue("medication_guidance"),
		RevisitAdvice: r.PostFormValue("revisit_advice"), Opinions: r.PostFormValue("opinions"),
		OpinionProblem: r.PostFormValue("opinion_problem") == "1", RevisitNeeded: r.PostFormValue("revisit_needed") == "1",
		RecordingConsent: r.PostFormValue("recording_consent") == "1", RecordingRef: r.PostFormValue("recording_ref"),
		NPS: -1,
	}
	if v := strings.TrimSpace(r.PostFormValue("nps")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = 99
		}
		in.NPS = n
	}
	return in
}

func (s *Server) taskRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := recordInput(r)
	rec, err := s.Followup.Complete(ctx, q.P, id, in)
	if err != nil {
		return s.taskFormError(w, r, q, id, err, func(d *taskData) { d.Rec = recordForm{in} })
	}
	st := readWL(r)
	text := s.cat.T(q.Lang, "fu.flash.recorded", rec.Number)
	if rec.OpenedCase {
		text += s.cat.T(q.Lang, "fu.sep") + s.cat.T(q.Lang, "fu.flash.case_opened")
	}
	to := s.nextTaskURL(ctx, q, st, rec.InstitutionID, id)
	if to == "" {
		to = st.ListURL()
		text += s.cat.T(q.Lang, "fu.sep") + s.cat.T(q.Lang, "fu.flash.no_more")
	}
	return s.redirectFlash(w, r, to, text)
}

// countText shows a capped count: "1000+" means more than followup.CountCap.
func countText(n int) string {
	if n > followup.CountCap {
		return strconv.Itoa(followup.CountCap) + "+"
	}
	return strconv.Itoa(n)
}
