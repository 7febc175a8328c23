package kpi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/intake"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Phones opens and masks a patient's sealed phones; patient.Service
// satisfies it. The ledger never sees a plain number it could print.
type Phones interface {
	MaskedPhones(inst int64, mrn, sealed string) ([]string, error)
}

// Follow-up states of a ledger row (随访情况).
const (
	LedgerReached     = "reached"
	LedgerRefused     = "refused"
	LedgerUnreachable = "unreachable"
	LedgerPending     = "pending"
)

// Remarks of a ledger row (备注).
const (
	RemarkDeceased     = "deceased"
	RemarkDoNotContact = "do_not_contact"
	RemarkCancelled    = "cancelled" // every task of the stay was cancelled
	RemarkMoved        = "moved"     // a task was moved to another department
)

// LedgerRow is one stay of the month in the paper register's columns.
// Name and phones are masked; codes (state, channel, satisfaction,
// remarks) are put into words by the reader's catalog.
type LedgerRow struct {
	EncounterID  int64
	Discharge    calendar.Date // 出院时间
	Name         string        // 姓名, masked
	Sex          string        // 性别 (M, F, U)
	Age          int           // 年龄, -1 unknown
	Diagnosis    string        // 出院诊断
	Phone        string        // 联系电话, masked
	State        string        // 随访情况
	Channel      string        // of the latest record or attempt
	Satisfaction string        // the latest record's
	Opinions     string        // 患者意见
	Agent        string        // 随访者
	At           time.Time     // 随访时间, zero when nobody followed up
	Remarks      []string      // 备注
}

// Ledger is a department's (or ward's) month as the paper register (台账).
type Ledger struct {
	InstitutionID int64
	Institution   string // name
	DepartmentID  int64
	Department    string // name
	Month         Month
	Loc           *time.Location
	Rows          []LedgerRow
}

// Ledger is the register of department or ward dept of institution inst
// for month m: one row per cohort stay discharged from or through it.
// Scope as Report: a department head only their own departments and wards.
// A fixed number of queries per month, none per row.
func (s *Service) Ledger(ctx context.Context, p *access.Principal, inst, dept int64, m Month) (*Ledger, error) {
	sc, err := scopeOf(p, inst)
	if err != nil {
		return nil, err
	}
	if sc != nil && !slices.Contains(sc.depts, dept) {
		return nil, errs.New(errs.Forbidden, "kpi_forbidden", "this department's ledger is outside your data scope")
	}
	pol, err := s.cals.Policy(ctx, inst)
	if err != nil {
		return nil, fmt.Errorf("kpi: calendar: %w", err)
	}
	if pol.Loc == nil {
		return nil, fmt.Errorf("kpi: institution %d has no time zone", inst)
	}
	q := s.db.R()
	l := &Ledger{InstitutionID: inst, DepartmentID: dept, Month: m, Loc: pol.Loc}
	err = q.QueryRowContext(ctx, `SELECT i.name, d.name FROM departments d JOIN institutions i ON i.id = d.institution_id
		WHERE d.id = $1 AND d.institution_id = $2`, dept, inst).Scan(&l.Institution, &l.Department)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "kpi_no_department", "no such department in this institution")
	}
	if err != nil {
		return nil, fmt.Errorf("kpi: ledger department: %w", err)
	}
	args := []any{inst, encDischarged, encInpatient, m.First().String(), m.Next().First().String(), dept}
	where := cohortWhere + ` AND (e.department_id = $6 OR e.ward_id = $6)`
	rows, err := s.ledgerStays(ctx, q, where, args)
	if err != nil {
		return nil, err
	}
	if err := ledgerTasks(ctx, q, where, args, rows); err != nil {
		return nil, err
	}
	if err := ledgerRecords(ctx, q, where, args, rows, pol.Loc); err != nil {
		return nil, err
	}
	for _, r := range rows.list {
		st := rows.state[r.EncounterID]
		switch {
		case st.reached:
			r.State = LedgerReached
		case st.refused:
			r.State = LedgerRefused
		case st.nonCancelled > 0 && st.unreach == st.nonCancelled:
			r.State = LedgerUnreachable
		default:
			r.State = LedgerPending
		}
		if st.tasks > 0 && st.nonCancelled == 0 && !st.refused {
			r.Remarks = append(r.Remarks, RemarkCancelled)
		}
		if st.moved {
			r.Remarks = append(r.Remarks, RemarkMoved)
		}
		l.Rows = append(l.Rows, *r)
	}
	return l, nil
}

// ledgerState is what the tasks and attempts say about a stay.
type ledgerState struct {
	tasks, nonCancelled, unreach int
	refused, reached, moved      bool
	deptID, wardID               int64
	attemptAt                    int64
}

type ledgerSet struct {
	list  []*LedgerRow
	by    map[int64]*LedgerRow
	state map[int64]*ledgerState
}

func (s *Service) ledgerStays(ctx context.Context, q store.Querier, where string, args []any) (*ledgerSet, error) {
	rs, err := q.QueryContext(ctx, `SELECT e.id, e.department_id, e.ward_id, e.discharge_date, e.diagnoses, e.primary_icd, e.outcome,
		p.institution_id, p.mrn, p.name, p.sex, p.birth_date, p.phones_enc, p.deceased, p.do_not_contact
		FROM encounters e JOIN patients p ON p.id = e.patient_id WHERE `+where+` ORDER BY e.discharge_date, e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("kpi: ledger stays: %w", err)
	}
	defer rs.Close()
	set := &ledgerSet{by: map[int64]*LedgerRow{}, state: map[int64]*ledgerState{}}
	for rs.Next() {
		r := &LedgerRow{Age: -1}
		var deptID, wardID, pinst int64
		var day, diags, icd, outcome, mrn, birth, phones string
		var deceased, dnc bool
		if err := rs.Scan(&r.EncounterID, &deptID, &wardID, &day, &diags, &icd, &outcome, &pinst, &mrn, &r.Name, &r.Sex, &birth,
			&phones, &deceased, &dnc); err != nil {
			return nil, fmt.Errorf("kpi: ledger stays: %w", err)
		}
		if r.Discharge, err = calendar.ParseDate(day); err != nil {
			return nil, fmt.Errorf("kpi: stay %d: %w", r.EncounterID, err)
		}
		if b, err := calendar.ParseDate(birth); err == nil && birth != "" {
			r.Age = r.Discharge.Year - b.Year
			if r.Discharge.Month < b.Month || r.Discharge.Month == b.Month && r.Discharge.Day < b.Day {
				r.Age--
			}
		}
		r.Name = pii.MaskName(r.Name)
		r.Diagnosis = diagnosisText(diags, icd)
		if s.phones != nil {
			ph, err := s.phones.MaskedPhones(pinst, mrn, phones)
			if err != nil {
				return nil, fmt.Errorf("kpi: stay %d: %w", r.EncounterID, err)
			}
			r.Phone = strings.Join(ph, " / ")
		}
		if deceased || outcome == outcomeDied {
			r.Remarks = append(r.Remarks, RemarkDeceased)
		}
		if dnc {
			r.Remarks = append(r.Remarks, RemarkDoNotContact)
		}
		set.list = append(set.list, r)
		set.by[r.EncounterID] = r
		set.state[r.EncounterID] = &ledgerState{deptID: deptID, wardID: wardID}
	}
	return set, rs.Err()
}

// diagnosisText is the stored diagnoses' names ("名称 (编码)", joined), or
// the primary code when none is named.
func diagnosisText(stored, icd string) string {
	var ds []intake.Diagnosis
	_ = json.Unmarshal([]byte(stored), &ds) // unreadable: the primary code below
	var out []string
	for _, d := range ds {
		switch {
		case d.Name != "" && d.Code != "":
			out = append(out, d.Name+" ("+d.Code+")")
		case d.Name != "":
			out = append(out, d.Name)
		case d.Code != "":
			out = append(out, d.Code)
		}
	}
	if len(out) == 0 {
		return icd
	}
	return strings.Join(out, "；")
}

func ledgerTasks(ctx context.Context, q store.Querier, where string, args []any, set *ledgerSet) error {
	rs, err := q.QueryContext(ctx, `SELECT t.encounter_id, t.status, t.close_reason, t.department_id
		FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("kpi: ledger tasks: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var enc, dept int64
		var status, reason string
		if err := rs.Scan(&enc, &status, &reason, &dept); err != nil {
			return fmt.Errorf("kpi: ledger tasks: %w", err)
		}
		st := set.state[enc]
		if st == nil {
			continue
		}
		st.tasks++
		if reason == reasonRefused {
			st.refused = true
		}
		// Nurses' tasks sit with the ward, doctors' with the department;
		// anywhere else the task was moved (a merged department).
		if dept != 0 && dept != st.deptID && dept != st.wardID {
			st.moved = true
		}
		if status == taskCancelled {
			continue
		}
		st.nonCancelled++
		if status == taskUnreach {
			st.unreach++
		}
	}
	return rs.Err()
}

// ledgerRecords fills each stay's latest record: a correction is later
// than what it corrects, so the latest is what stands.
func ledgerRecords(ctx context.Context, q store.Querier, where string, args []any, set *ledgerSet, loc *time.Location) error {
	rs, err := q.QueryContext(ctx, `SELECT t.encounter_id, r.id, r.at, r.channel, r.satisfaction, r.opinions, r.actor
		FROM encounters e JOIN followup_tasks t ON t.encounter_id = e.id JOIN followup_records r ON r.task_id = t.id
		WHERE `+where+` ORDER BY r.id`, args...)
	if err != nil {
		return fmt.Errorf("kpi: ledger records: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var enc, id, at int64
		var channel, sat, opinions, actor string
		if err := rs.Scan(&enc, &id, &at, &channel, &sat, &opinions, &actor); err != nil {
			return fmt.Errorf("kpi: ledger records: %w", err)
		}
		r := set.by[enc]
		if r == nil {
			continue
		}
		set.state[enc].reached = true
		r.At, r.Channel, r.Satisfaction, r.Opinions, r.Agent = store.Time(at).In(loc), channel, sat, opinions, actor
	}
	return rs.Err()
}

// LedgerLabels put the ledger's codes into the reader's words (the web
// adapter passes its catalog).
type LedgerLabels struct {
	Title   string   // the title row: institution, department, month
	Headers []string // the 12 column heads
	Label   func(kind, code string) string
}

// Cells are the 12 printed values of r, in the register's order.
func (r *LedgerRow) Cells(l LedgerLabels, loc *time.Location) []string {
	age := ""
	if r.Age >= 0 {
		age = strconv.Itoa(r.Age)
	}
	state := l.Label("state", r.State)
	if r.Channel != "" {
		state += " · " + l.Label("channel", r.Channel)
	}
	opinion := r.Opinions
	if r.Satisfaction != "" {
		opinion = strings.TrimSpace(l.Label("satisfaction", r.Satisfaction) + " " + opinion)
	}
	at := ""
	if !r.At.IsZero() {
		at = r.At.In(loc).Format("2006-01-02 15:04")
	}
	var rem []string
	for _, k := range r.Remarks {
		rem = append(rem, l.Label("remark", k))
	}
	return []string{r.Discharge.String(), r.Name, l.Label("sex", r.Sex), age, r.Diagnosis, r.Phone, state, opinion,
		r.Agent, at, "", strings.Join(rem, "；")}
}

// ExportLedger is the ledger as a workbook written to w, and an audit
// entry (kpi.ledger_export) saying who exported which month and how many
// rows. labels words the ledger (its title names the department).
func (s *Service) ExportLedger(ctx context.Context, p *access.Principal, inst, dept int64, m Month, labels func(*Ledger) LedgerLabels, w io.Writer) (*Ledger, error) {
	led, err := s.Ledger(ctx, p, inst, dept, m)
	if err != nil {
		return nil, err
	}
	e := audit.Event(p, "kpi.ledger_export", "department", strconv.FormatInt(dept, 10), inst)
	e.Detail = fmt.Sprintf("inst=%d dept=%d month=%s rows=%d", inst, dept, m, len(led.Rows))
	if err := s.audit.Record(ctx, e); err != nil {
		return nil, fmt.Errorf("kpi: ledger audit: %w", err)
	}
	if err := led.WriteXLSX(labels(led), w); err != nil {
		return nil, err
	}
	return led, nil
}

// ledgerWidths are the columns' widths in characters, for an A4
// landscape page.
var ledgerWidths = []float64{11, 8, 5, 5, 24, 14, 14, 24, 9, 16, 10, 14}

// WriteXLSX streams the ledger as one sheet: a title row, a frozen header
// repeated on each printed page, A4 landscape fitted to the page width.
func (led *Ledger) WriteXLSX(l LedgerLabels, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sh = "Sheet1"
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Horizontal: "center", WrapText: true},
		Border: ledgerBorder(), Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF4"}}})
	if err != nil {
		return fmt.Errorf("kpi: ledger style: %w", err)
	}
	title, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	cell, _ := f.NewStyle(&excelize.Style{Border: ledgerBorder(), Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	last, _ := excelize.CoordinatesToCellName(len(ledgerWidths), len(led.Rows)+2)
	// The stream writer writes the sheet's properties and dimension as
	// they are when it starts, and the page set-up from the same sheet when
	// it flushes: all are set first. Without the real dimension, readers
	// that trust it would see one cell (see internal/workbook).
	if err := f.SetSheetDimension(sh, "A1:"+last); err != nil {
		return fmt.Errorf("kpi: ledger dimension: %w", err)
	}
	orient, size, fit, one, zero := "landscape", 9, true, 1, 0 // 9: A4
	if err := f.SetPageLayout(sh, &excelize.PageLayoutOptions{Orientation: &orient, Size: &size, FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return fmt.Errorf("kpi: ledger page: %w", err)
	}
	if err := f.SetSheetProps(sh, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("kpi: ledger page: %w", err)
	}
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: sh + "!$2:$2", Scope: sh}); err != nil {
		return fmt.Errorf("kpi: ledger print titles: %w", err)
	}
	sw, err := f.NewStreamWriter(sh)
	if err != nil {
		return fmt.Errorf("kpi: ledger stream: %w", err)
	}
	for i, wd := range ledgerWidths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("kpi: ledger width: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("kpi: ledger panes: %w", err)
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: title, Value: l.Title}}); err != nil {
		return fmt.Errorf("kpi: ledger title: %w", err)
	}
	hs := make([]any, len(l.Headers))
	for i, h := range l.Headers {
		hs[i] = excelize.Cell{StyleID: head, Value: h}
	}
	if err := sw.SetRow("A2", hs); err != nil {
		return fmt.Errorf("kpi: ledger header: %w", err)
	}
	vals := make([]any, len(ledgerWidths))
	for i := range led.Rows {
		for j, v := range led.Rows[i].Cells(l, led.Loc) {
			vals[j] = excelize.Cell{StyleID: cell, Value: v}
		}
		ref, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := sw.SetRow(ref, vals); err != nil {
			return fmt.Errorf("kpi: ledger row: %w", err)
		}
	}
	if err := sw.MergeCell("A1", "L1"); err != nil {
		return fmt.Errorf("kpi: ledger title: %w", err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("kpi: ledger flush: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("kpi: ledger write: %w", err)
	}
	return nil
}

func ledgerBorder() []excelize.Border {
	var b []excelize.Border
	for _, t := range []string{"left", "right", "top", "bottom"} {
		b = append(b, excelize.Border{Type: t, Color: "000000", Style: 1})
	}
	return b
}
