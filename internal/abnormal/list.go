package abnormal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
)

// Tab is a view of the report list.
type Tab string

const (
	TabOpen Tab = "open" // not closed (leadership, quality)
	TabMine Tab = "mine" // reported by me or in my charge
	TabAll  Tab = "all"  // every report of the institution (leadership, quality)
)

// TabsFor lists the tabs p has in inst, the default first.
func TabsFor(p *access.Principal, inst int64) []Tab {
	if SeesAll(p, inst) {
		return []Tab{TabOpen, TabMine, TabAll}
	}
	return []Tab{TabMine}
}

// Filter narrows the list.
type Filter struct {
	InstitutionID int64
	Tab           Tab
	Kind          string // "" any
	Status        string // "" any
	BeforeID      int64  // only reports older than this one (the API's cursor)
	Limit, Offset int
}

// List is one page of reports, newest first (ids follow the reporting
// order: numbering takes the institution's chain lock).
type List struct {
	Tab   Tab
	Tabs  []Tab
	Items []*Report
	Total int
}

// List returns one page of a tab.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (*List, error) {
	if !p.TouchesInstitution(f.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	tabs := TabsFor(p, f.InstitutionID)
	if f.Tab == "" {
		f.Tab = tabs[0]
	}
	if !slices.Contains(tabs, f.Tab) {
		return nil, errs.New(errs.Forbidden, "abnormal_tab_forbidden", "this list is outside your data scope")
	}
	if f.Kind != "" && !slices.Contains(kinds, f.Kind) {
		return nil, errs.Field("kind", "abnormal_bad_kind", "unknown kind")
	}
	if f.Status != "" && !slices.Contains(Statuses(), f.Status) {
		return nil, errs.Field("status", "bad_status", "unknown status")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	args := []any{f.InstitutionID}
	where := []string{"a.institution_id = $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch f.Tab {
	case TabOpen:
		add("a.status <> $%d", Closed)
	case TabMine:
		if p.UserID == 0 {
			return &List{Tab: f.Tab, Tabs: tabs}, nil // a token reports for nobody
		}
		args = append(args, p.UserID)
		where = append(where, fmt.Sprintf("(a.reporter_id = $%d OR a.owner_id = $%d)", len(args), len(args)))
	}
	if f.Kind != "" {
		add("a.kind = $%d", f.Kind)
	}
	if f.Status != "" {
		add("a.status = $%d", f.Status)
	}
	cond0, nargs := strings.Join(where, " AND "), len(args)
	if f.BeforeID > 0 {
		add("a.id < $%d", f.BeforeID)
	}
	cond := strings.Join(where, " AND ")
	out := &List{Tab: f.Tab, Tabs: tabs}
	// The total ignores the cursor: it is the size of the whole list.
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM abnormal_reports a WHERE `+cond0, args[:nargs]...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("abnormal: count: %w", err)
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+reportCols+reportFrom+` WHERE `+cond+
		fmt.Sprintf(` ORDER BY a.id DESC LIMIT %d OFFSET %d`, f.Limit, f.Offset), args...)
	if err != nil {
		return nil, fmt.Errorf("abnormal: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("abnormal: list: %w", err)
		}
		out.Items = append(out.Items, r)
	}
	return out, rows.Err()
}
