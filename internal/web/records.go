package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"suifang/internal/abnormal"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/pii"
)

// recordsPageSize is how many records one browser page shows.
const recordsPageSize = 50

// recordQuery is the record browser's filter as typed, kept for the form.
type recordQuery struct {
	Dept         int64
	From, To     string
	Satisfaction string
	Level        int
	Number       string
	Offset       int
}

// parseRecordQuery reads the browser's query string. It never fails on
// what it can ignore (a bad offset is 0); a bad date or choice is an
// Invalid error naming the field, and the form is shown again as typed.
func parseRecordQuery(v url.Values) (recordQuery, followup.RecordFilter, error) {
	rq := recordQuery{From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
		Satisfaction: strings.TrimSpace(v.Get("satisfaction")), Number: strings.TrimSpace(v.Get("number"))}
	var f followup.RecordFilter
	rq.Dept, _ = strconv.ParseInt(strings.TrimSpace(v.Get("dept")), 10, 64)
	if rq.Dept < 0 {
		rq.Dept = 0
	}
	if o, err := strconv.Atoi(v.Get("offset")); err == nil && o > 0 && o < 1<<30 {
		rq.Offset = o
	}
	f.DepartmentID, f.Offset, f.Limit = rq.Dept, rq.Offset, recordsPageSize
	if l := strings.TrimSpace(v.Get("level")); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > 9 {
			return rq, f, errs.Field("level", "bad_level", "level must be 0–9")
		}
		rq.Level, f.Level = n, n
	}
	for _, d := range []struct {
		name string
		text string
		dst  *calendar.Date
	}{{"from", rq.From, &f.From}, {"to", rq.To, &f.To}} {
		if d.text == "" {
			continue
		}
		day, err := calendar.ParseDate(d.text)
		if err != nil {
			return rq, f, errs.Field(d.name, "bad_date", "dates look like 2026-10-10")
		}
		*d.dst = day
	}
	switch rq.Satisfaction {
	case "", followup.Satisfied, followup.Basically, followup.Dissatisfied:
		f.Satisfaction = rq.Satisfaction
	default:
		return rq, f, errs.Field("satisfaction", "bad_satisfaction", "satisfaction must be satisfied, basically or dissatisfied")
	}
	if utf8.RuneCountInString(rq.Number) > 64 || !utf8.ValidString(rq.Number) {
		return rq, f, errs.Field("number", "bad_record_number", "a record number has at most 64 characters")
	}
	f.Number = rq.Number
	return rq, f, nil
}

func (rq recordQuery) values(inst int64, offset int) url.Values {
	v := url.Values{}
	if inst != 0 {
		v.Set("inst", strconv.FormatInt(inst, 10))
	}
	if rq.Dept != 0 {
		v.Set("dept", strconv.FormatInt(rq.Dept, 10))
	}
	for k, x := range map[string]string{"from": rq.From, "to": rq.To, "satisfaction": rq.Satisfaction, "number": rq.Number} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if rq.Level != 0 {
		v.Set("level", strconv.Itoa(rq.Level))
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return v
}

type recordListRow struct {
	*followup.RecordRow
	Name string // masked
	Who  string
}

type recordsData struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	Q        recordQuery
	Depts    []*org.Department
	Sats     []string
	Rows     []recordListRow
	Total    int
	From, To int
	PrevURL  string
	NextURL  string
	Filtered bool
}

func (s *Server) recordsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	depts, err := s.Org.Departments(ctx, q.P, inst.ID)
	if err != nil {
		return err
	}
	rq, f, perr := parseRecordQuery(r.URL.Query())
	d := recordsData{Inst: inst, Insts: insts, Q: rq, Depts: depts,
		Sats:     []string{followup.Satisfied, followup.Basically, followup.Dissatisfied},
		Filtered: rq.Dept != 0 || rq.From != "" || rq.To != "" || rq.Satisfaction != "" || rq.Level != 0 || rq.Number != ""}
	if perr != nil {
		return s.renderForm(w, r, q, "records", "records", d, perr)
	}
	f.InstitutionID = inst.ID
	page, err := s.Followup.Records(ctx, q.P, f)
	if err != nil {
		return s.renderForm(w, r, q, "records", "records", d, err)
	}
	names := s.staff(ctx, q.P)
	for _, row := range page.Rows {
		d.Rows = append(d.Rows, recordListRow{RecordRow: row, Name: pii.MaskName(row.PatientName), Who: authorName(names, row.Record)})
	}
	d.Total = page.Total
	multi := int64(0)
	if len(insts) > 1 {
		multi = inst.ID
	}
	if len(d.Rows) > 0 {
		d.From, d.To = rq.Offset+1, rq.Offset+len(d.Rows)
	}
	if rq.Offset > 0 {
		d.PrevURL = withQuery("/followup/records", rq.values(multi, max(0, rq.Offset-recordsPageSize)))
	}
	if rq.Offset+len(d.Rows) < page.Total {
		d.NextURL = withQuery("/followup/records", rq.values(multi, rq.Offset+recordsPageSize))
	}
	return s.render(w, r, q, http.StatusOK, "records", "records", d)
}

type versionRow struct {
	*followup.Record
	Who     string
	Current bool
}

type recordData struct {
	V        *followup.RecordView
	Name     string // masked
	Who      string
	Versions []versionRow
	LatestID int64
	Form     recordForm
	Reason   string
	Channels []string
	Effects  []string
	Sats     []string
	NPS      []int
	Abnormal abnormalLinks // 异常上报 raised from this record
	// CanComplain offers "raise complaint" (the complaint room's intake form).
	CanComplain bool
}

func (s *Server) recordData(r *http.Request, q *req, id int64) (*recordData, error) {
	ctx := r.Context()
	v, err := s.Followup.Record(ctx, q.P, id)
	if err != nil {
		return nil, err
	}
	names := s.staff(ctx, q.P)
	d := &recordData{V: v, Name: pii.MaskName(v.PatientName), Who: authorName(names, v.Record), Form: recordForm{v.RecordInput},
		Channels: followup.Channels(), Effects: followup.Effects(),
		Sats: []string{followup.Satisfied, followup.Basically, followup.Dissatisfied}}
	d.CanComplain = s.Complaints != nil && canComplain(q.P)
	for i := range 11 {
		d.NPS = append(d.NPS, i)
	}
	d.Abnormal = s.abnormalLinksOf(r, q, abnormal.FromRecord, id)
	for _, x := range v.Versions {
		d.Versions = append(d.Versions, versionRow{Record: x, Who: authorName(names, x), Current: x.ID == v.ID})
		d.LatestID = x.ID
	}
	return d, nil
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.recordData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "record", "records", d)
}

// recordAmend appends a correction; the original stays as it was and the
// browser lands on the new version.
func (s *Server) recordAmend(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := recordInput(r)
	reason := r.PostFormValue("amend_reason")
	rec, err := s.Followup.Amend(r.Context(), q.P, id, in, reason)
	if err != nil {
		if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Conflict) {
			return err
		}
		d, derr := s.recordData(r, q, id)
		if derr != nil {
			return err
		}
		d.Form, d.Reason = recordForm{in}, reason
		return s.renderForm(w, r, q, "record", "records", d, err)
	}
	return s.redirectFlash(w, r, "/followup/records/"+strconv.FormatInt(rec.ID, 10), s.cat.T(q.Lang, "rec.flash.amended", rec.Number))
}

// authorName is who wrote a record: the staff name where the caller may
// see the account, else the account name the record itself carries.
func authorName(names *staffNames, r *followup.Record) string {
	if n := names.name(r.UserID); !strings.HasPrefix(n, "#") && n != "—" || r.Actor == "" {
		return n
	}
	return r.Actor
}
