package complaint

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// The suggestion box (意见箱) is opened weekly; its slips are typed in as a
// batch and registered together.

// Slip is one note from the suggestion box.
type Slip struct {
	FoundOn string // YYYY-MM-DD the box was opened; "" is today
	Box     string // where the box hangs
	Text    string
	Name    string // optional: slips are often anonymous
	Contact string // optional phone or e-mail
	Dept    string // optional department name or code; "" goes to the complaint office
}

// Blank reports whether nothing was typed on the row.
func (sl Slip) Blank() bool {
	return strings.TrimSpace(sl.FoundOn+sl.Box+sl.Text+sl.Name+sl.Contact+sl.Dept) == ""
}

// SlipError names the row (0-based among the rows given) whose problem
// stopped a batch; Err carries the field.
type SlipError struct {
	Row int
	Err error
}

func (e *SlipError) Error() string { return fmt.Sprintf("row %d: %v", e.Row+1, e.Err) }
func (e *SlipError) Unwrap() error { return e.Err }

// MaxSlips bounds one batch.
const MaxSlips = 100

// anonymous is the complainant's name on an unsigned slip.
const anonymous = "匿名"

// RegisterSlips registers the non-blank slips of a batch for inst in one
// transaction, channel suggestion_box: either all of them or, when one
// row is wrong, none (the error is a *SlipError naming it).
func (s *Service) RegisterSlips(ctx context.Context, p *access.Principal, inst int64, slips []Slip) ([]*Complaint, error) {
	if !canRegister(p) {
		return nil, errs.New(errs.Forbidden, "complaint_register_forbidden", "your role may not register complaints")
	}
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return nil, err
	}
	depts, err := s.deptLookup(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	office, err := s.complaintOffice(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	now := s.now()
	today := calendar.DateOf(now.In(pol.Loc))
	type row struct {
		i  int
		in Input
	}
	var rows []row
	for i, sl := range slips {
		if sl.Blank() {
			continue
		}
		if len(rows) == MaxSlips {
			return nil, &SlipError{Row: i, Err: errs.Field("text", "too_many_slips", fmt.Sprintf("at most %d slips at once", MaxSlips))}
		}
		in, err := slipInput(sl, inst, today, now, pol, depts, office)
		if err == nil {
			err = in.normalize()
		}
		if err != nil {
			return nil, &SlipError{Row: i, Err: err}
		}
		rows = append(rows, row{i, in})
	}
	if len(rows) == 0 {
		return nil, &SlipError{Row: 0, Err: errs.Field("text", "no_slips", "type at least one slip")}
	}
	var out []*Complaint
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, r := range rows {
			c, err := s.register(ctx, tx, p, r.in, 0, 0)
			if err != nil {
				if _, ok := errs.As(err); ok {
					return &SlipError{Row: r.i, Err: err}
				}
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// slipInput turns a slip into a complaint: the box is the place, the day
// the box was opened the receipt (at the start of service hours, or now
// when it is today).
func slipInput(sl Slip, inst int64, today calendar.Date, now time.Time, pol calendar.Policy, depts map[string]int64, office int64) (Input, error) {
	in := Input{InstitutionID: inst, Channel: "suggestion_box", ComplainantName: strings.TrimSpace(sl.Name), ComplainantRole: "other",
		Contact: sl.Contact, Location: sl.Box, Content: sl.Text}
	if in.ComplainantName == "" {
		in.ComplainantName = anonymous
	}
	if f := strings.TrimSpace(sl.FoundOn); f != "" {
		d, err := calendar.ParseDate(f)
		if err != nil {
			return in, errs.Field("found_on", "bad_date", "a date looks like 2026-10-08")
		}
		if d.After(today) || today.DaysSince(d) > 30 {
			return in, errs.Field("found_on", "slip_date_range", "the box was opened in the last 30 days, not in the future")
		}
		if d != today {
			in.ReceivedAt = d.In(pol.Loc).Add(time.Duration(pol.Hours.Start) * time.Minute)
		}
	}
	switch dept := strings.TrimSpace(sl.Dept); {
	case dept != "":
		id, ok := depts[dept]
		if !ok {
			return in, errs.Field("dept", "slip_no_department", "no department of this name or code")
		}
		in.DepartmentID = id
	case office != 0:
		in.DepartmentID = office
	default:
		return in, errs.Field("dept", "slip_no_office", "name the department: this hospital has no complaint office to send it to")
	}
	return in, nil
}

// deptLookup maps the names and codes of inst's active departments to
// their ids.
func (s *Service) deptLookup(ctx context.Context, q store.Querier, inst int64) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name FROM departments WHERE institution_id = $1 AND active = $2`, inst, true)
	if err != nil {
		return nil, fmt.Errorf("complaint: departments: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return nil, fmt.Errorf("complaint: departments: %w", err)
		}
		out[code], out[name] = id, id
	}
	return out, rows.Err()
}

// ErrSlipLines is the kind of every problem ParseSlipLines reports.
var ErrSlipLines = errors.New("complaint: pasted slips")

// SlipLineError is a problem with one pasted line: Reason is
// too_many_cells, too_many_slips or unreadable.
type SlipLineError struct {
	Line   int // 1-based
	Reason string
	Detail string
}

func (e *SlipLineError) Error() string {
	return fmt.Sprintf("%v: line %d: %s %s", ErrSlipLines, e.Line, e.Reason, e.Detail)
}
func (e *SlipLineError) Unwrap() error { return ErrSlipLines }

// maxSlipColumns: date, box, text, name, contact, department.
const maxSlipColumns = 6

// ParseSlipLines reads slips pasted from a spreadsheet: one slip a line,
// cells separated by tabs in the order date, box, text, name, contact,
// department (trailing cells may be left off). A cell Excel quoted
// because it holds a tab or a line break is read whole. Blank lines and a
// heading line are skipped; dates written 2026/11/20, 2026.11.20 or
// 2026年11月20日 become 2026-11-20, and anything else is kept as typed so
// the form can show it marked. Problems name the line (1-based).
func ParseSlipLines(text string) ([]Slip, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = false
	var out []Slip
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, &SlipLineError{Line: line, Reason: "unreadable", Detail: err.Error()}
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(strings.ToValidUTF8(rec[i], "\uFFFD"))
		}
		for len(rec) > 0 && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1]
		}
		if len(rec) == 0 {
			continue
		}
		if first && isHeading(rec) {
			first = false
			continue
		}
		first = false
		if len(rec) > maxSlipColumns {
			return nil, &SlipLineError{Line: line, Reason: "too_many_cells",
				Detail: fmt.Sprintf("%d cells, at most %d (date, box, text, name, contact, department)", len(rec), maxSlipColumns)}
		}
		if len(out) == MaxSlips {
			return nil, &SlipLineError{Line: line, Reason: "too_many_slips", Detail: fmt.Sprintf("at most %d slips at once", MaxSlips)}
		}
		rec = append(rec, make([]string, maxSlipColumns-len(rec))...)
		out = append(out, Slip{FoundOn: slipDate(rec[0]), Box: rec[1], Text: rec[2], Name: rec[3], Contact: rec[4], Dept: rec[5]})
	}
	return out, nil
}

// isHeading: a first line whose first cell names the column rather than
// giving a date.
func isHeading(rec []string) bool {
	h := strings.ToLower(rec[0])
	return slipDate(rec[0]) == rec[0] && (strings.Contains(h, "日期") || strings.Contains(h, "date") || strings.Contains(h, "时间"))
}

// slipDate normalises the date spellings a spreadsheet produces to
// YYYY-MM-DD; anything it cannot read comes back unchanged.
func slipDate(s string) string {
	t := strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(s)
	parts := strings.Split(t, "-")
	if len(parts) != 3 || utf8.RuneCountInString(t) > 10 {
		return s
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p == "" || p[0] == '+' {
			return s
		}
		n[i] = v
	}
	if n[0] < 1000 || n[0] > 9999 || n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 {
		return s
	}
	out := fmt.Sprintf("%04d-%02d-%02d", n[0], n[1], n[2])
	if _, err := calendar.ParseDate(out); err != nil {
		return s
	}
	return out
}
