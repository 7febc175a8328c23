package complaint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Tab is a view of the complaint list.
type Tab string

const (
	TabMine Tab = "mine" // I own it and it is open
	TabDept Tab = "dept" // a department of mine is involved
	TabAll  Tab = "all"  // the whole institution (quality, leadership)
)

// Filter narrows the list.
type Filter struct {
	InstitutionID int64
	Tab           Tab
	Status        string // "" open ones; "all" every status
	Colour        string // "" any; red, amber, green, paused
	Limit, Offset int
	// Narrowing filters; zero values do not narrow.
	Category     string
	Channel      string
	DepartmentID int64     // involved (responsible or not); a department covers its wards
	ReceivedFrom time.Time // received at or after
	ReceivedTo   time.Time // received before
}

// List is one page of complaints with their clocks.
type List struct {
	Tab   Tab
	Tabs  []Tab
	Items []*View
	Total int
}

// TabsFor lists the tabs p has in inst.
func TabsFor(p *access.Principal, inst int64) []Tab {
	out := []Tab{TabMine}
	if len(deptGrants(p, inst)) > 0 && !p.Agency() {
		out = append(out, TabDept)
	}
	if p.SeesInstitution(inst) && !p.Agency() {
		out = append(out, TabAll)
	}
	return out
}

// deptGrants lists the departments p is granted in inst one by one.
func deptGrants(p *access.Principal, inst int64) []int64 {
	var out []int64
	for _, g := range p.Grants {
		if g.InstitutionID == inst && g.DepartmentID != 0 {
			out = append(out, g.DepartmentID)
		}
	}
	return out
}

// maxListed bounds how many open complaints a list colours at once: the
// colour is computed in Go from the calendar, not in SQL.
const maxListed = 2000

// List returns the complaints of a tab, newest first, each with its
// clocks; a colour filter keeps only complaints whose worst clock has it.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (*List, error) {
	if !p.TouchesInstitution(f.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	tabs := TabsFor(p, f.InstitutionID)
	if f.Tab == "" {
		f.Tab = tabs[0]
	}
	if !slices.Contains(tabs, f.Tab) {
		return nil, errs.New(errs.Forbidden, "complaint_tab_forbidden", "this list is outside your data scope")
	}
	if f.Status != "" && f.Status != "all" && f.Status != Merged && !slices.Contains(Statuses(), f.Status) {
		return nil, errs.Field("status", "bad_status", "unknown status")
	}
	if f.Colour != "" && !slices.Contains([]string{Red, Amber, Green, Paused}, f.Colour) {
		return nil, errs.Field("colour", "bad_colour", "colour is red, amber, green or paused")
	}
	if f.Channel != "" && !slices.Contains(channels, f.Channel) {
		return nil, errs.Field("channel", "bad_channel", "unknown channel")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	args := []any{f.InstitutionID}
	where := []string{"c.institution_id = $1"}
	switch f.Status {
	case "":
		// Open: neither archived nor merged into another complaint.
		args = append(args, Archived, Merged)
		where = append(where, fmt.Sprintf("c.status NOT IN ($%d, $%d)", len(args)-1, len(args)))
	case "all":
	default:
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("c.status = $%d", len(args)))
	}
	switch f.Tab {
	case TabMine:
		args = append(args, p.UserID)
		where = append(where, fmt.Sprintf("c.owner_id = $%d", len(args)))
	case TabDept:
		var ph []string
		for _, d := range deptGrants(p, f.InstitutionID) {
			args = append(args, d)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		// A grant on a department covers its wards.
		where = append(where, `EXISTS (SELECT 1 FROM complaint_departments cd JOIN departments dd ON dd.id = cd.department_id
			WHERE cd.complaint_id = c.id AND (cd.department_id IN (`+strings.Join(ph, ",")+`) OR dd.parent_id IN (`+strings.Join(ph, ",")+`)))`)
	}
	where, args = narrow(f, where, args)
	q := `SELECT ` + complaintCols + complaintFrom + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY c.received_at DESC, c.id DESC`
	rows, err := s.db.R().QueryContext(ctx, q+fmt.Sprintf(" LIMIT %d", maxListed), args...)
	if err != nil {
		return nil, fmt.Errorf("complaint: list: %w", err)
	}
	var all []*Complaint
	for rows.Next() {
		c, err := s.scan(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("complaint: list: %w", err)
		}
		all = append(all, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: list: %w", err)
	}
	if err := s.details(ctx, s.db.R(), all); err != nil {
		return nil, err
	}
	pol, err := s.cals.Policy(ctx, f.InstitutionID)
	if err != nil {
		return nil, err
	}
	pols, err := s.policies(ctx, s.db.R(), f.InstitutionID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &List{Tab: f.Tab, Tabs: tabs}
	for _, c := range all {
		v := &View{Complaint: c, Policy: choose(pols, c)}
		v.Clocks = Clocks(pol, v.Policy, c, now)
		v.Colour = Worst(v.Clocks)
		if f.Colour != "" && v.Colour != f.Colour {
			continue
		}
		out.Total++
		if out.Total > f.Offset && len(out.Items) < f.Limit {
			out.Items = append(out.Items, v)
		}
	}
	return out, nil
}

// narrow adds f's narrowing filters to the list query.
func narrow(f Filter, where []string, args []any) ([]string, []any) {
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Category != "" {
		add("c.category = $%d", f.Category)
	}
	if f.Channel != "" {
		add("c.channel = $%d", f.Channel)
	}
	if f.DepartmentID != 0 {
		add(`EXISTS (SELECT 1 FROM complaint_departments cd JOIN departments dd ON dd.id = cd.department_id
			WHERE cd.complaint_id = c.id AND (cd.department_id = $%[1]d OR dd.parent_id = $%[1]d))`, f.DepartmentID)
	}
	if !f.ReceivedFrom.IsZero() {
		add("c.received_at >= $%d", store.Micros(f.ReceivedFrom))
	}
	if !f.ReceivedTo.IsZero() {
		add("c.received_at < $%d", store.Micros(f.ReceivedTo))
	}
	return where, args
}
