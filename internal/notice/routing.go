package notice

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Routing modes: where a topic's notices go.
const (
	ToWard       = "ward"       // the encounter's ward
	ToDepartment = "department" // the encounter's department
	ToFixed      = "fixed"      // one chosen department
	ToNamed      = "named"      // an office named for the topic (后勤, 营养科 …), else the encounter's department
)

// Modes lists the routing modes.
func Modes() []string { return []string{ToWard, ToDepartment, ToFixed, ToNamed} }

// Route is one routing rule of an institution.
type Route struct {
	Topic        string
	Mode         string
	DepartmentID int64 // for ToFixed
}

// DefaultRoutes are the seeded rules: nurses → the ward, doctors and
// ethics → the department, the rest → an office named for the topic if
// the institution has one, else the department.
func DefaultRoutes() []Route {
	out := make([]Route, 0, len(topics))
	for _, t := range topics {
		r := Route{Topic: t, Mode: ToNamed}
		switch t {
		case "nurses":
			r.Mode = ToWard
		case "doctors", "ethics", "other":
			r.Mode = ToDepartment
		}
		out = append(out, r)
	}
	return out
}

// topicNames are the words in an office's name that make it the named
// department of a topic.
var topicNames = map[string][]string{
	"medtech":     {"医技", "检验", "影像", "放射"},
	"environment": {"后勤", "总务", "物业"},
	"meals":       {"营养", "膳食", "食堂"},
	"fees":        {"财务", "收费", "物价", "价格"},
	"process":     {"门诊部", "医务", "客户服务", "客服"},
}

// Settings are an institution's notice defaults.
type Settings struct {
	DeadlineDays int // working days to rectify (15)
	EscalateDays int // working days after the first escalation before quality hears (3)
}

// DefaultSettings are the documented defaults.
func DefaultSettings() Settings { return Settings{DeadlineDays: 15, EscalateDays: 3} }

// SeedInstitution stores the default routes and settings of a new
// institution; it is an org creation hook, so it runs in that transaction.
// Institutions made before notices existed use the same defaults until an
// administrator saves their own.
func (s *Service) SeedInstitution(ctx context.Context, tx *sql.Tx, inst int64) error {
	now := store.Micros(s.now())
	for _, r := range DefaultRoutes() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notice_routes (institution_id, topic, mode, department_id, updated_at)
			VALUES ($1,$2,$3,$4,$5) ON CONFLICT (institution_id, topic) DO NOTHING`, inst, r.Topic, r.Mode, r.DepartmentID, now); err != nil {
			return fmt.Errorf("notice: seed routes: %w", err)
		}
	}
	d := DefaultSettings()
	if _, err := tx.ExecContext(ctx, `INSERT INTO notice_settings (institution_id, deadline_days, escalate_days, updated_at)
		VALUES ($1,$2,$3,$4) ON CONFLICT (institution_id) DO NOTHING`, inst, d.DeadlineDays, d.EscalateDays, now); err != nil {
		return fmt.Errorf("notice: seed settings: %w", err)
	}
	return nil
}

func (s *Service) settings(ctx context.Context, q store.Querier, inst int64) (Settings, error) {
	st := DefaultSettings()
	err := q.QueryRowContext(ctx, `SELECT deadline_days, escalate_days FROM notice_settings WHERE institution_id = $1`, inst).
		Scan(&st.DeadlineDays, &st.EscalateDays)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("notice: settings: %w", err)
	}
	return st, nil
}

func (s *Service) routes(ctx context.Context, q store.Querier, inst int64) ([]Route, error) {
	rows, err := q.QueryContext(ctx, `SELECT topic, mode, department_id FROM notice_routes WHERE institution_id = $1`, inst)
	if err != nil {
		return nil, fmt.Errorf("notice: routes: %w", err)
	}
	defer rows.Close()
	stored := map[string]Route{}
	for rows.Next() {
		var r Route
		if err := rows.Scan(&r.Topic, &r.Mode, &r.DepartmentID); err != nil {
			return nil, fmt.Errorf("notice: routes: %w", err)
		}
		stored[r.Topic] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notice: routes: %w", err)
	}
	out := DefaultRoutes()
	for i, r := range out {
		if x, ok := stored[r.Topic]; ok {
			out[i] = x
		}
	}
	return out, nil
}

// route picks the department of a new notice: the given one, else the
// topic's rule, else the fallback, else the institution's quality office
// (unrouted is then true: an administrator is told). A record or an
// answer never fails to save because no rule found a department.
func (s *Service) route(ctx context.Context, tx *sql.Tx, in RaiseInput) (dept int64, unrouted bool, err error) {
	if in.DepartmentID != 0 {
		if !s.deptOf(ctx, tx, in.InstitutionID, in.DepartmentID) {
			return 0, false, errs.Field("department_id", "notice_bad_department", "choose a department of this institution")
		}
		return in.DepartmentID, false, nil
	}
	var encDept, encWard int64
	if in.EncounterID != 0 {
		err := tx.QueryRowContext(ctx, `SELECT department_id, ward_id FROM encounters WHERE id = $1 AND institution_id = $2`,
			in.EncounterID, in.InstitutionID).Scan(&encDept, &encWard)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, false, fmt.Errorf("notice: encounter: %w", err)
		}
	}
	rs, err := s.routes(ctx, tx, in.InstitutionID)
	if err != nil {
		return 0, false, err
	}
	var r Route
	for _, x := range rs {
		if x.Topic == in.Topic {
			r = x
		}
	}
	switch r.Mode {
	case ToWard:
		dept = encWard
		if dept == 0 {
			dept = encDept // a stay without a ward: its department answers
		}
	case ToDepartment:
		dept = encDept
	case ToFixed:
		if s.deptOf(ctx, tx, in.InstitutionID, r.DepartmentID) {
			dept = r.DepartmentID
		}
	case ToNamed:
		if dept, err = s.namedDept(ctx, tx, in.InstitutionID, in.Topic); err != nil {
			return 0, false, err
		}
		if dept == 0 {
			dept = encDept
		}
	}
	if dept == 0 && s.deptOf(ctx, tx, in.InstitutionID, in.FallbackDepartmentID) {
		dept = in.FallbackDepartmentID
	}
	if dept == 0 && s.QualityOffice != nil {
		if dept, err = s.QualityOffice(ctx, tx, in.InstitutionID); err != nil {
			return 0, false, err
		}
		unrouted = true
	}
	if dept == 0 {
		return 0, false, errs.Field("department_id", "no_department", "no rule finds the department for this notice; choose it")
	}
	return dept, unrouted, nil
}

// admins lists the active administrators, the institution's own first;
// at most five are told about one notice.
func (s *Service) admins(ctx context.Context, q store.Querier, inst int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = $1
		WHERE u.active = $2 ORDER BY CASE WHEN u.home_institution_id = $3 THEN 0 ELSE 1 END, u.id LIMIT 5`,
		string(access.SysAdmin), true, inst)
	if err != nil {
		return nil, fmt.Errorf("notice: administrators: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("notice: administrators: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// deptOf reports whether dept is an active department of inst.
func (s *Service) deptOf(ctx context.Context, q store.Querier, inst, dept int64) bool {
	if dept == 0 {
		return false
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE id = $1 AND institution_id = $2 AND active = $3`,
		dept, inst, true).Scan(&n)
	return err == nil && n == 1
}

// namedDept finds the active office whose name names the topic.
func (s *Service) namedDept(ctx context.Context, q store.Querier, inst int64, topic string) (int64, error) {
	words := topicNames[topic]
	if len(words) == 0 {
		return 0, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM departments WHERE institution_id = $1 AND kind = $2 AND active = $3 ORDER BY id`,
		inst, "office", true)
	if err != nil {
		return 0, fmt.Errorf("notice: offices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return 0, fmt.Errorf("notice: offices: %w", err)
		}
		for _, w := range words {
			if strings.Contains(name, w) {
				return id, nil
			}
		}
	}
	return 0, rows.Err()
}

// staff lists the active users whose scope covers department dept of
// inst through a department grant on it (or on its parent), with the
// roles asked for, heads first then by id.
func (s *Service) staff(ctx context.Context, q store.Querier, inst, dept int64, roles ...access.Role) ([]int64, error) {
	args := []any{inst, dept, true}
	cond := ""
	if len(roles) > 0 {
		var ph []string
		for _, r := range roles {
			args = append(args, string(r))
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		cond = ` AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role IN (` + strings.Join(ph, ",") + `))`
	}
	rows, err := q.QueryContext(ctx, `SELECT u.id, EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'dept_head'),
		sc.department_id = $2 FROM users u JOIN user_scopes sc ON sc.user_id = u.id
		WHERE sc.institution_id = $1 AND u.active = $3 AND (sc.department_id = $2
			OR sc.department_id = (SELECT COALESCE(parent_id, 0) FROM departments WHERE id = $2 AND parent_id IS NOT NULL))`+cond+`
		ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("notice: department staff: %w", err)
	}
	defer rows.Close()
	type cand struct {
		id         int64
		head, here bool
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.head, &c.here); err != nil {
			return nil, fmt.Errorf("notice: department staff: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Heads of this very department first, then the parent's head (a
	// ward's department head), then the department's own staff.
	rank := func(c cand) int {
		r := 0
		if !c.here {
			r += 1
		}
		if !c.head {
			r += 2
		}
		return r
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return rank(a) - rank(b) })
	var out []int64
	for _, c := range cs {
		if !slices.Contains(out, c.id) {
			out = append(out, c.id)
		}
	}
	return out, nil
}

// quality lists the active quality staff whose scope covers inst.
func (s *Service) quality(ctx context.Context, q store.Querier, inst int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = $1
		JOIN user_scopes sc ON sc.user_id = u.id WHERE u.active = $2 AND sc.department_id = 0
		AND (sc.institution_id = $3 OR sc.institution_id = (SELECT COALESCE(parent_id, 0) FROM institutions WHERE id = $3))
		ORDER BY u.id`, string(access.Quality), true, inst)
	if err != nil {
		return nil, fmt.Errorf("notice: quality staff: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// defaultOwner is who owns a new notice: the department head, else a
// member of the department, else quality, else whoever raised it. A notice
// is never ownerless.
func (s *Service) defaultOwner(ctx context.Context, tx *sql.Tx, inst, dept, raiser int64) (int64, error) {
	ids, err := s.staff(ctx, tx, inst, dept)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		if ids, err = s.quality(ctx, tx, inst); err != nil {
			return 0, err
		}
	}
	if len(ids) > 0 {
		return ids[0], nil
	}
	if raiser != 0 {
		return raiser, nil
	}
	// A hospital still being set up may have no staff yet; a patient's
	// answer must not fail for that, so an administrator holds the notice
	// until someone is assigned.
	var admin int64
	err = tx.QueryRowContext(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = $1
		WHERE u.active = $2 ORDER BY u.id LIMIT 1`, string(access.SysAdmin), true).Scan(&admin)
	if err == nil {
		return admin, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("notice: administrator: %w", err)
	}
	return 0, errs.New(errs.Conflict, "no_owner", "the department has no staff account to own the notice; add its head first")
}

// RoutingView is the admin page's data.
type RoutingView struct {
	Routes   []Route
	Settings Settings
}

// Routing returns inst's routing rules and settings.
func (s *Service) Routing(ctx context.Context, p *access.Principal, inst int64) (*RoutingView, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	rs, err := s.routes(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	st, err := s.settings(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	return &RoutingView{Routes: rs, Settings: st}, nil
}

// SetRouting replaces inst's routing rules and settings (administrators
// and quality staff of the institution).
func (s *Service) SetRouting(ctx context.Context, p *access.Principal, inst int64, v RoutingView) error {
	if !p.IsAdmin() && !(p.Has(access.Quality) && p.SeesInstitution(inst)) {
		return errs.New(errs.Forbidden, "notice_rules_forbidden", "only administrators and the quality department may change the notice rules")
	}
	if err := p.RequireInstitution(inst); err != nil {
		return err
	}
	if v.Settings.DeadlineDays < 1 || v.Settings.DeadlineDays > 120 {
		return errs.Field("deadline_days", "bad_deadline_days", "the deadline is 1 to 120 working days")
	}
	if v.Settings.EscalateDays < 1 || v.Settings.EscalateDays > 60 {
		return errs.Field("escalate_days", "bad_escalate_days", "the second escalation comes 1 to 60 working days after the first")
	}
	for _, r := range v.Routes {
		if !slices.Contains(topics, r.Topic) {
			return errs.Field("route_"+r.Topic, "bad_topic", "unknown topic")
		}
		if !slices.Contains(Modes(), r.Mode) {
			return errs.Field("route_"+r.Topic, "bad_mode", "choose where the topic's notices go")
		}
		if r.Mode == ToFixed && !s.deptOf(ctx, s.db.R(), inst, r.DepartmentID) {
			return errs.Field("route_"+r.Topic, "notice_bad_department", "choose the department this topic's notices go to")
		}
	}
	now := store.Micros(s.now())
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var parts []string
		for _, r := range v.Routes {
			if r.Mode != ToFixed {
				r.DepartmentID = 0
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notice_routes (institution_id, topic, mode, department_id, updated_at)
				VALUES ($1,$2,$3,$4,$5) ON CONFLICT (institution_id, topic) DO UPDATE SET mode = excluded.mode,
				department_id = excluded.department_id, updated_at = excluded.updated_at`, inst, r.Topic, r.Mode, r.DepartmentID, now); err != nil {
				return fmt.Errorf("notice: save route: %w", err)
			}
			parts = append(parts, fmt.Sprintf("%s=%s:%d", r.Topic, r.Mode, r.DepartmentID))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notice_settings (institution_id, deadline_days, escalate_days, updated_at)
			VALUES ($1,$2,$3,$4) ON CONFLICT (institution_id) DO UPDATE SET deadline_days = excluded.deadline_days,
			escalate_days = excluded.escalate_days, updated_at = excluded.updated_at`,
			inst, v.Settings.DeadlineDays, v.Settings.EscalateDays, now); err != nil {
			return fmt.Errorf("notice: save settings: %w", err)
		}
		e := audit.Event(p, "notice.rules", "institution", fmt.Sprint(inst), inst)
		e.Detail = fmt.Sprintf("deadline=%d escalate=%d %s", v.Settings.DeadlineDays, v.Settings.EscalateDays, strings.Join(parts, " "))
		return s.audit.Append(ctx, tx, e)
	})
}
