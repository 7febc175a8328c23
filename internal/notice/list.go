package notice

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"suifang/internal/access"
	"suifang/internal/calendar"
	"suifang/internal/errs"
)

// Tab is a view of the notice list.
type Tab string

const (
	TabMine    Tab = "mine"    // I own it and it is not closed
	TabDept    Tab = "dept"    // my departments' notices
	TabOverdue Tab = "overdue" // the department owes work past the deadline
	TabAll     Tab = "all"     // everything in the institution (institution-wide scope)
)

// Tabs lists the tabs in display order.
func Tabs() []Tab { return []Tab{TabMine, TabDept, TabOverdue, TabAll} }

// Filter narrows the list.
type Filter struct {
	InstitutionID int64
	Tab           Tab
	Status        string // "" any
	DepartmentID  int64  // 0 any in scope
	Month         string // "2026-10": issued in that month; "" any
	Limit, Offset int
}

// List is one page of notices and the counts of every tab p may see.
type List struct {
	Tab     Tab
	Tabs    []Tab // the tabs p has
	Notices []*Notice
	Counts  map[Tab]int
	Total   int
}

var monthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// TabsFor lists the tabs p has in inst: "my department" for department
// scope, "all" for institution-wide scope.
func TabsFor(p *access.Principal, inst int64) []Tab {
	out := []Tab{TabMine}
	if deptGrants(p, inst) != nil && !p.Agency() {
		out = append(out, TabDept)
	}
	out = append(out, TabOverdue)
	if p.SeesInstitution(inst) && !p.Agency() {
		out = append(out, TabAll)
	}
	return out
}

func deptGrants(p *access.Principal, inst int64) []int64 {
	if p == nil {
		return nil
	}
	var out []int64
	for _, g := range p.Grants {
		if g.InstitutionID == inst && g.DepartmentID != 0 {
			out = append(out, g.DepartmentID)
		}
	}
	return out
}

// List returns one tab of inst's notices that p may see; today is the
// institution's local date (for "overdue").
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter, today calendar.Date) (*List, error) {
	if !p.TouchesInstitution(f.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	tabs := TabsFor(p, f.InstitutionID)
	if f.Tab == "" {
		f.Tab = tabs[len(tabs)-1]
		if f.Tab == TabOverdue {
			f.Tab = TabMine
		}
		if slices.Contains(tabs, TabDept) {
			f.Tab = TabDept
		}
	}
	if !slices.Contains(tabs, f.Tab) {
		return nil, errs.Field("tab", "bad_tab", "this view is not available to you")
	}
	if f.Status != "" && !slices.Contains(Statuses(), f.Status) {
		return nil, errs.Field("status", "bad_status", "unknown status")
	}
	if f.Month != "" && !monthRE.MatchString(f.Month) {
		return nil, errs.Field("month", "bad_month", "the month looks like 2026-10")
	}
	if f.DepartmentID != 0 && !p.SeesDepartment(f.InstitutionID, f.DepartmentID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this department is outside your data scope")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds := []string{"n.institution_id = " + arg(f.InstitutionID)}
	if !p.SeesInstitution(f.InstitutionID) || p.Agency() {
		var ids []string
		for _, d := range deptGrants(p, f.InstitutionID) {
			if p.Agency() {
				break // an outside agency lists only what it owns
			}
			ids = append(ids, arg(d))
		}
		own := "n.owner_id = " + arg(p.UserID)
		if len(ids) > 0 {
			own += " OR n.department_id IN (" + strings.Join(ids, ",") + ")"
		}
		conds = append(conds, "("+own+")")
	}
	if f.Status != "" {
		conds = append(conds, "n.status = "+arg(f.Status))
	}
	if f.DepartmentID != 0 {
		conds = append(conds, "n.department_id = "+arg(f.DepartmentID))
	}
	if f.Month != "" {
		conds = append(conds, "n.issued_on >= "+arg(f.Month+"-01"), "n.issued_on <= "+arg(f.Month+"-31"))
	}
	base := strings.Join(conds, " AND ")
	tabCond := func(t Tab, a *[]any) string {
		add := func(v any) string {
			*a = append(*a, v)
			return fmt.Sprintf("$%d", len(*a))
		}
		switch t {
		case TabMine:
			if p.UserID == 0 {
				return "1 = 0"
			}
			return "n.owner_id = " + add(p.UserID) + " AND n.status <> " + add(Closed)
		case TabDept:
			var ids []string
			for _, d := range deptGrants(p, f.InstitutionID) {
				ids = append(ids, add(d))
			}
			return "n.department_id IN (" + strings.Join(ids, ",") + ")"
		case TabOverdue:
			var st []string
			for _, x := range openForDept {
				st = append(st, add(x))
			}
			return "n.status IN (" + strings.Join(st, ",") + ") AND n.deadline < " + add(today.String())
		default:
			return "1 = 1"
		}
	}
	out := &List{Tab: f.Tab, Tabs: tabs, Counts: map[Tab]int{}}
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		for _, t := range tabs {
			a := slices.Clone(args)
			var n0 int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notices n WHERE `+base+` AND `+tabCond(t, &a), a...).Scan(&n0); err != nil {
				return fmt.Errorf("notice: count %s: %w", t, err)
			}
			out.Counts[t] = n0
		}
		out.Total = out.Counts[f.Tab]
		a := slices.Clone(args)
		q := `SELECT ` + noticeCols + noticeFrom + ` WHERE ` + base + ` AND ` + tabCond(f.Tab, &a)
		order := ` ORDER BY n.id DESC`
		if f.Tab == TabOverdue || f.Tab == TabMine {
			order = ` ORDER BY n.deadline, n.id`
		}
		a = append(a, f.Limit, f.Offset)
		rows, err := tx.QueryContext(ctx, q+order+fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(a)-1, len(a)), a...)
		if err != nil {
			return fmt.Errorf("notice: list: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return fmt.Errorf("notice: list: %w", err)
			}
			out.Notices = append(out.Notices, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForPatient lists the notices raised about one patient that p may see,
// newest first, for the patient's page.
func (s *Service) ForPatient(ctx context.Context, p *access.Principal, patientID int64) ([]*Notice, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+noticeCols+noticeFrom+` WHERE n.patient_id = $1
		ORDER BY n.created_at DESC, n.id DESC LIMIT 200`, patientID)
	if err != nil {
		return nil, fmt.Errorf("notice: patient notices: %w", err)
	}
	defer rows.Close()
	var out []*Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("notice: patient notices: %w", err)
		}
		if canSee(p, n) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}
