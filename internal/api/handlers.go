package api

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
)

const (
	defaultLimit = 50
	maxLimit     = 200
	minWorkdays  = 1
	maxWorkdays  = 1000
	dateLayout   = "2006-01-02"
)

type meJSON struct {
	Name          string   `json:"name"`
	InstitutionID int64    `json:"institution_id"`
	Roles         []string `json:"roles"`
}

type institutionJSON struct {
	ID           int64  `json:"id"`
	Code         string `json:"code"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Timezone     string `json:"timezone"`
	ServiceHours string `json:"service_hours"`
}

type departmentJSON struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	ParentID *int64 `json:"parent_id"`
	Active   bool   `json:"active"`
}

type departmentPage struct {
	Items      []departmentJSON `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

type workdaysJSON struct {
	From string `json:"from"`
	N    int    `json:"n"`
	Date string `json:"date"`
}

type dayJSON struct {
	Date       string `json:"date"`
	WorkingDay bool   `json:"working_day"`
}

func departmentOf(d *org.Department) departmentJSON {
	j := departmentJSON{ID: d.ID, Code: d.Code, Name: d.Name, Kind: d.Kind, Active: d.Active}
	if d.ParentID != 0 {
		pid := d.ParentID
		j.ParentID = &pid
	}
	return j
}

// fieldErrors gathers invalid query parameters into one Invalid error.
type fieldErrors struct {
	first  *errs.Error
	fields map[string]string
	msgs   []string
}

func (f *fieldErrors) add(e *errs.Error) {
	if f.first == nil {
		f.first, f.fields = e, map[string]string{}
	}
	for k, v := range e.Fields {
		f.fields[k] = v
	}
	f.msgs = append(f.msgs, e.Msg)
}

func (f *fieldErrors) err() error {
	if f.first == nil {
		return nil
	}
	code := f.first.Code
	if len(f.fields) > 1 {
		code = "invalid_parameters"
	}
	return &errs.Error{Kind: errs.Invalid, Code: code, Msg: strings.Join(f.msgs, "; "), Fields: f.fields}
}

func (s *server) getOpenAPI(r *http.Request, _ *access.Principal) (any, error) {
	return json.RawMessage(s.openapi), nil
}

func (s *server) getMe(r *http.Request, p *access.Principal) (any, error) {
	me := meJSON{Name: p.Name, InstitutionID: p.InstitutionID, Roles: make([]string, 0, len(p.Roles))}
	for _, role := range p.Roles {
		me.Roles = append(me.Roles, string(role))
	}
	return me, nil
}

func (s *server) getInstitution(r *http.Request, p *access.Principal) (any, error) {
	i, err := s.d.Org.Institution(r.Context(), p, p.InstitutionID)
	if err != nil {
		return nil, err
	}
	return institutionJSON{ID: i.ID, Code: i.Code, Name: i.Name, Kind: i.Kind, Timezone: i.Timezone,
		ServiceHours: i.ServiceHours}, nil
}

// listDepartments pages through the institution's departments in id order.
// org.Service lists a whole institution at once (hundreds of rows at most),
// so the page is cut here.
func (s *server) listDepartments(r *http.Request, p *access.Principal) (any, error) {
	q := r.URL.Query()
	var fe fieldErrors
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			fe.add(errs.Field("limit", "bad_limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxLimit)))
		}
		limit = n
	}
	var after int64
	if v := q.Get("cursor"); v != "" {
		id, err := decodeCursor(v)
		if err != nil {
			fe.add(errBadCursor)
		}
		after = id
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	list, err := s.d.Org.Departments(r.Context(), p, p.InstitutionID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b *org.Department) int { return cmp.Compare(a.ID, b.ID) })
	start := sort.Search(len(list), func(i int) bool { return list[i].ID > after })
	end := min(start+limit, len(list))
	page := departmentPage{Items: make([]departmentJSON, 0, end-start)}
	for _, d := range list[start:end] {
		page.Items = append(page.Items, departmentOf(d))
	}
	if end < len(list) {
		c := encodeCursor(list[end-1].ID)
		page.NextCursor = &c
	}
	return page, nil
}

// errDepartmentNotFound answers both "no such department" and "another
// institution's department", so a token cannot probe other institutions.
var errDepartmentNotFound = errs.New(errs.NotFound, "department_not_found", "no such department")

func (s *server) getDepartment(r *http.Request, p *access.Principal) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errDepartmentNotFound
	}
	d, err := s.d.Org.Department(r.Context(), p, id)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) || (err == nil && d.InstitutionID != p.InstitutionID) {
		return nil, errDepartmentNotFound
	}
	if err != nil {
		return nil, err
	}
	return departmentOf(d), nil
}

var errCalendarUnavailable = &httpError{status: http.StatusServiceUnavailable, code: "calendar_unavailable",
	detail: "the working-day calendar is not available"}

// parseDate accepts exactly YYYY-MM-DD naming a real day.
func parseDate(field, v string) (string, *errs.Error) {
	t, err := time.Parse(dateLayout, v)
	if err != nil || t.Format(dateLayout) != v {
		return "", errs.Field(field, "bad_date", field+" must be a date written YYYY-MM-DD")
	}
	return v, nil
}

func (s *server) addWorkdays(r *http.Request, p *access.Principal) (any, error) {
	if s.d.Calendar == nil {
		return nil, errCalendarUnavailable
	}
	q := r.URL.Query()
	var fe fieldErrors
	from, ferr := parseDate("from", q.Get("from"))
	if ferr != nil {
		fe.add(ferr)
	}
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n < minWorkdays || n > maxWorkdays {
		fe.add(errs.Field("n", "bad_n", "n must be a whole number from "+strconv.Itoa(minWorkdays)+" to "+strconv.Itoa(maxWorkdays)))
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	date, err := s.d.Calendar.AddWorkdays(r.Context(), p, p.InstitutionID, from, n)
	if err != nil {
		return nil, err
	}
	return workdaysJSON{From: from, N: n, Date: date}, nil
}

func (s *server) getDay(r *http.Request, p *access.Principal) (any, error) {
	if s.d.Calendar == nil {
		return nil, errCalendarUnavailable
	}
	date, ferr := parseDate("date", r.PathValue("date"))
	if ferr != nil {
		return nil, ferr
	}
	ok, err := s.d.Calendar.IsWorkday(r.Context(), p, p.InstitutionID, date)
	if err != nil {
		return nil, err
	}
	return dayJSON{Date: date, WorkingDay: ok}, nil
}
