package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// maxCalendarUpload bounds an imported year file; a real one is ~5 KiB.
const maxCalendarUpload = 1 << 20

// calCell is one day of a month grid; Day 0 is padding.
type calCell struct {
	Day   int
	Class string
	Title string
}

type calMonth struct {
	Name  string
	Weeks [][]calCell
}

// calDay is one exception in the year's list.
type calDay struct {
	calendar.Exception
	Weekday string
}

// calForm keeps the add/change form's input across an error.
type calForm struct {
	Date, Name, Kind string
}

type calendarData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	Year       int
	Prev, Next int   // 0 when out of range
	NavYears   []int // years with data plus the one shown, ascending
	View       *caldb.YearView
	WeekHead   []string
	Months     []calMonth
	Days       []calDay
	Holidays   int // days off among the exceptions
	Workdays   int // adjusted working days
	Form       calForm
	ImportErr  string // why an uploaded file was refused, in detail
	ImportYear int    // year the import form suggests
}

// calendarData builds the page for the institution and year asked in r (the
// query on GET, the form on POST); year 0 means "from the request".
func (s *Server) calendarData(r *http.Request, q *req, year int) (*calendarData, error) {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return nil, err
	}
	today := calendar.DateOf(s.Now().In(cst))
	if year == 0 {
		year = today.Year
		if v := strings.TrimSpace(r.FormValue("year")); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < calendar.MinYear || n > calendar.MaxYear {
				return nil, errs.Field("year", "bad_year",
					fmt.Sprintf("year must be between %d and %d", calendar.MinYear, calendar.MaxYear))
			}
			year = n
		}
	}
	v, err := s.Calendar.View(r.Context(), q.P, inst.ID, year)
	if err != nil {
		return nil, err
	}
	d := &calendarData{Inst: inst, Insts: insts, Year: year, View: v, Form: calForm{Kind: "off"}, ImportYear: year}
	if year > calendar.MinYear {
		d.Prev = year - 1
	}
	if year < calendar.MaxYear {
		d.Next = year + 1
	}
	d.NavYears = v.Years
	if !v.HasData {
		d.NavYears = append(slices.Clone(v.Years), year)
		slices.Sort(d.NavYears)
	}
	// Mon-first week header: Monday (1) … Saturday (6), Sunday (0).
	for i := 1; i <= 7; i++ {
		d.WeekHead = append(d.WeekHead, s.cat.T(q.Lang, fmt.Sprintf("cal.wd.%d", i%7)))
	}
	cal := calendar.New()
	if v.HasData {
		cal = calendar.New(calendar.Year{Year: year, Days: v.Days})
	}
	for m := time.January; m <= time.December; m++ {
		d.Months = append(d.Months, s.monthGrid(q, cal, year, m, today))
	}
	for _, e := range v.Days {
		d.Days = append(d.Days, calDay{Exception: e, Weekday: s.cat.T(q.Lang, fmt.Sprintf("cal.weekday.%d", int(e.Date.Weekday())))})
		if e.OffDay {
			d.Holidays++
		} else {
			d.Workdays++
		}
	}
	return d, nil
}

func (s *Server) monthGrid(q *req, cal *calendar.Calendar, year int, m time.Month, today calendar.Date) calMonth {
	mo := calMonth{Name: s.cat.T(q.Lang, fmt.Sprintf("cal.month.%d", int(m)))}
	first := calendar.Date{Year: year, Month: m, Day: 1}
	week := make([]calCell, (int(first.Weekday())+6)%7) // blanks before the 1st
	for day := first; day.Month == m; day = day.AddDays(1) {
		c := calCell{Day: day.Day}
		var cls []string
		wd := day.Weekday()
		if e, ok := cal.Exception(day); ok {
			if e.OffDay {
				cls = append(cls, "off")
				c.Title = e.Name + " · " + s.cat.T(q.Lang, "cal.kind.off")
			} else {
				cls = append(cls, "work")
				c.Title = e.Name + " · " + s.cat.T(q.Lang, "cal.kind.work")
			}
		} else if wd == time.Saturday || wd == time.Sunday {
			cls = append(cls, "weekend")
		}
		if day == today {
			cls = append(cls, "today")
			if c.Title == "" {
				c.Title = s.cat.T(q.Lang, "home.today")
			}
		}
		c.Class = strings.Join(cls, " ")
		week = append(week, c)
		if len(week) == 7 {
			mo.Weeks = append(mo.Weeks, week)
			week = nil
		}
	}
	if len(week) > 0 {
		for len(week) < 7 {
			week = append(week, calCell{})
		}
		mo.Weeks = append(mo.Weeks, week)
	}
	return mo
}

func (s *Server) calendarPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.calendarData(r, q, 0)
	if err != nil {
		return err
	}
	// ?edit=DATE fills the form with that exception, so a row can be changed
	// without retyping it.
	if want := r.URL.Query().Get("edit"); want != "" {
		for _, e := range d.Days {
			if e.Date.String() == want {
				d.Form = calForm{Date: want, Name: e.Name, Kind: "work"}
				if e.OffDay {
					d.Form.Kind = "off"
				}
			}
		}
	}
	return s.render(w, r, q, http.StatusOK, "calendar", "calendar", d)
}

func calendarURL(inst int64, year int) string {
	return fmt.Sprintf("/admin/calendar?inst=%d&year=%d", inst, year)
}

// recode gives a service's generic error code a page-specific one, so the
// message can say what the field really allows.
func recode(err error, from, to string) error {
	if e, ok := errs.As(err); ok && e.Code == from {
		c := *e
		c.Code = to
		if len(e.Fields) > 0 {
			c.Fields = map[string]string{}
			for k := range e.Fields {
				c.Fields[k] = to
			}
		}
		return &c
	}
	return err
}

func (s *Server) calendarSetDay(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	f := calForm{Date: strings.TrimSpace(r.PostFormValue("date")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Kind: r.PostFormValue("kind")}
	inst := formID(r, "inst")
	day, perr := calendar.ParseDate(f.Date)
	var err error
	switch {
	case perr != nil:
		err = errs.Field("date", "bad_date", "enter a date such as 2026-10-01")
	case f.Kind != "off" && f.Kind != "work":
		err = errs.Field("kind", "bad_day_kind", "choose holiday or adjusted working day")
	default:
		err = recode(s.Calendar.SetDay(r.Context(), q.P, inst, calendar.Exception{Date: day, Name: f.Name, OffDay: f.Kind == "off"}),
			"bad_name", "bad_day_name")
	}
	if err != nil {
		year := 0
		if perr == nil && day.Year >= calendar.MinYear && day.Year <= calendar.MaxYear {
			year = day.Year
		}
		d, derr := s.calendarData(r, q, year)
		if derr != nil {
			return err
		}
		d.Form = f
		return s.renderForm(w, r, q, "calendar", "calendar", d, err)
	}
	return s.redirect(w, r, calendarURL(inst, day.Year), "saved")
}

func (s *Server) calendarDeleteDay(w http.ResponseWriter, r *http.Request, q *req) error {
	inst := formID(r, "inst")
	day, err := calendar.ParseDate(strings.TrimSpace(r.PostFormValue("date")))
	if err != nil {
		return errs.Field("date", "bad_date", "enter a date such as 2026-10-01")
	}
	if err := s.Calendar.DeleteDay(r.Context(), q.P, inst, day); err != nil {
		return err
	}
	return s.redirect(w, r, calendarURL(inst, day.Year), "day_deleted")
}

// calendarImport replaces one year from an uploaded holiday-cn JSON file.
// The institution and year travel in the form's action URL, so they are
// known even when the upload itself is refused.
func (s *Server) calendarImport(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCalendarUpload)
	y, detail, err := readYearUpload(r)
	inst := formID(r, "inst")
	if err == nil {
		target := inst
		if r.PostFormValue("all") == "1" {
			target = 0
		}
		_, err = s.Calendar.ImportYear(r.Context(), q.P, target, y)
		if e, ok := errs.As(err); ok && e.Code == "bad_calendar" {
			detail = e.Msg
		}
	}
	if err != nil {
		d, derr := s.calendarData(r, q, 0)
		if derr != nil {
			return err
		}
		d.ImportErr = detail
		return s.renderForm(w, r, q, "calendar", "calendar", d, err)
	}
	return s.redirect(w, r, calendarURL(inst, y.Year), "calendar_imported")
}

// readYearUpload reads and parses the uploaded file; detail is the parser's
// own explanation, shown next to the form.
func readYearUpload(r *http.Request) (calendar.Year, string, error) {
	if err := r.ParseMultipartForm(maxCalendarUpload); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return calendar.Year{}, "", errs.Field("file", "file_too_large", "the file is larger than 1 MiB")
		}
		return calendar.Year{}, "", errs.Field("file", "no_file", "choose a JSON file to import")
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return calendar.Year{}, "", errs.Field("file", "no_file", "choose a JSON file to import")
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return calendar.Year{}, "", errs.Field("file", "file_too_large", "the file is larger than 1 MiB")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return calendar.Year{}, "", errs.Field("file", "no_file", "the file is empty")
	}
	y, err := calendar.ParseYearJSON(b)
	if err != nil {
		return calendar.Year{}, err.Error(), errs.Field("file", "bad_calendar", err.Error())
	}
	return y, "", nil
}
