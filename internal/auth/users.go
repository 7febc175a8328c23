package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

const userCols = `id, username, display_name, home_institution_id, phone, must_change_password,
	failed_logins, locked_until, active, created_at, last_login_at, last_login_ip, prev_login_at, prev_login_ip`

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (*User, error) {
	u := &User{}
	var locked, created, last, prev int64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.HomeInstitutionID, &u.Phone,
		&u.MustChangePassword, &u.FailedLogins, &locked, &u.Active, &created, &last, &u.LastLoginIP, &prev, &u.PrevLoginIP}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	u.LockedUntil, u.CreatedAt, u.LastLoginAt, u.PrevLoginAt = store.Time(locked), store.Time(created), store.Time(last), store.Time(prev)
	return u, nil
}

func (s *Service) userByName(ctx context.Context, q store.Querier, username string) (*User, string, error) {
	// No stored name has these, and PostgreSQL would refuse the query.
	if !utf8.ValidString(username) || strings.ContainsRune(username, 0) {
		return nil, "", errs.New(errs.NotFound, "user_not_found", "no such user")
	}
	var hash string
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE username = $1`,
		strings.TrimSpace(username)), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", errs.New(errs.NotFound, "user_not_found", "no such user")
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth: read user: %w", err)
	}
	return u, hash, s.loadAccess(ctx, q, u)
}

func (s *Service) user(ctx context.Context, q store.Querier, id int64) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "user_not_found", "no such user")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read user %d: %w", id, err)
	}
	return u, s.loadAccess(ctx, q, u)
}

func (s *Service) loadAccess(ctx context.Context, q store.Querier, u *User) error {
	rows, err := q.QueryContext(ctx, `SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role`, u.ID)
	if err != nil {
		return fmt.Errorf("auth: read roles: %w", err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			return fmt.Errorf("auth: scan role: %w", err)
		}
		u.Roles = append(u.Roles, access.Role(r))
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT institution_id, department_id FROM user_scopes WHERE user_id = $1
		ORDER BY institution_id, department_id`, u.ID)
	if err != nil {
		return fmt.Errorf("auth: read scopes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g access.Grant
		if err := rows.Scan(&g.InstitutionID, &g.DepartmentID); err != nil {
			return fmt.Errorf("auth: scan scope: %w", err)
		}
		u.Grants = append(u.Grants, g)
	}
	return rows.Err()
}

// principal builds the caller's identity. A grant on a group institution
// covers its member hospitals, so group leadership sees the roll-up.
func (s *Service) principal(ctx context.Context, u *User) (*access.Principal, error) {
	p := &access.Principal{UserID: u.ID, Username: u.Username, Name: u.DisplayName,
		InstitutionID: u.HomeInstitutionID, Roles: u.Roles, Global: slices.Contains(u.Roles, access.SysAdmin)}
	for _, g := range u.Grants {
		p.Grants = append(p.Grants, g)
		if g.DepartmentID != 0 {
			continue
		}
		rows, err := s.db.R().QueryContext(ctx, `SELECT id FROM institutions WHERE parent_id = $1`, g.InstitutionID)
		if err != nil {
			return nil, fmt.Errorf("auth: member institutions: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("auth: scan member: %w", err)
			}
			p.Grants = append(p.Grants, access.Grant{InstitutionID: id})
		}
		rows.Close()
	}
	return p, nil
}

// UserInput is what an administrator fills in for an account.
type UserInput struct {
	Username          string
	DisplayName       string
	Password          string // create and reset only
	HomeInstitutionID int64
	Phone             string
	Roles             []access.Role
	Grants            []access.Grant
	Active            bool
	// MustChangePassword forces a change at first login (default for accounts
	// an administrator creates).
	MustChangePassword bool
	// Demo marks an account of the demo seed: its published password is on
	// the common-password list, which every other account creation, reset
	// and change refuses. No form or command sets it.
	Demo bool
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,63}$`)

func (s *Service) validate(ctx context.Context, q store.Querier, in *UserInput, creating bool) error {
	in.Username = strings.TrimSpace(in.Username)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if creating && !usernameRE.MatchString(in.Username) {
		return errs.Field("username", "bad_username", "user name: 2–64 letters, digits, dot, dash or underscore")
	}
	if in.DisplayName == "" || utf8.RuneCountInString(in.DisplayName) > 64 {
		return errs.Field("display_name", "bad_display_name", "name is required (at most 64 characters)")
	}
	if len(in.Roles) == 0 {
		return errs.Field("roles", "no_role", "choose at least one role")
	}
	for _, r := range in.Roles {
		if !r.Valid() {
			return errs.Field("roles", "bad_role", fmt.Sprintf("unknown role %q", r))
		}
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions WHERE id = $1`, in.HomeInstitutionID).Scan(&n); err != nil {
		return fmt.Errorf("auth: check institution: %w", err)
	}
	if n == 0 {
		return errs.Field("home_institution_id", "bad_institution", "choose the institution this person belongs to")
	}
	if len(in.Grants) == 0 {
		// Without an explicit scope, a person sees their home institution.
		in.Grants = []access.Grant{{InstitutionID: in.HomeInstitutionID}}
	}
	for _, g := range in.Grants {
		if g.DepartmentID == 0 {
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM institutions WHERE id = $1`, g.InstitutionID).Scan(&n); err != nil {
				return fmt.Errorf("auth: check institution: %w", err)
			}
			if n == 0 {
				return errs.Field("grants", "bad_institution", "a chosen institution does not exist")
			}
			continue
		}
		var inst int64
		err := q.QueryRowContext(ctx, `SELECT institution_id FROM departments WHERE id = $1`, g.DepartmentID).Scan(&inst)
		if err != nil || inst != g.InstitutionID {
			return errs.Field("grants", "bad_department", "a chosen department does not belong to its institution")
		}
	}
	if creating {
		if err := s.pol.Password.Check(in.Password, in.Username); err != nil {
			return err
		}
		if !in.Demo {
			if err := s.pol.Password.CheckCommon(in.Password); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateUser adds a staff account. Only administrators may; the password
// must meet the rules and is hashed with argon2id.
func (s *Service) CreateUser(ctx context.Context, p *access.Principal, in UserInput) (int64, error) {
	if err := p.RequireAdmin(); err != nil {
		return 0, err
	}
	in.Active = true // new accounts are always active (and audited as such)
	if err := s.validate(ctx, s.db.R(), &in, true); err != nil {
		return 0, err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return 0, err
	}
	now := store.Micros(s.now())
	var id int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, must_change_password,
			home_institution_id, phone, active, created_at, updated_at, password_changed_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$8) RETURNING id`,
			in.Username, in.DisplayName, hash, in.MustChangePassword, in.HomeInstitutionID, in.Phone, true, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Field("username", "username_taken", "this user name is already taken")
		}
		if err != nil {
			return fmt.Errorf("auth: create user: %w", err)
		}
		if err := writeAccess(ctx, tx, id, in); err != nil {
			return err
		}
		e := audit.Event(p, "user.create", "user", fmt.Sprint(id), in.HomeInstitutionID)
		e.Detail = accessDetail(in)
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return 0, err // the insert was rolled back
	}
	return id, nil
}

func accessDetail(in UserInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "username=%s roles=", in.Username)
	for i, r := range in.Roles {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(r))
	}
	b.WriteString(" scope=")
	for i, g := range in.Grants {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d/%d", g.InstitutionID, g.DepartmentID)
	}
	fmt.Fprintf(&b, " active=%t", in.Active)
	return b.String()
}

func writeAccess(ctx context.Context, tx *sql.Tx, id int64, in UserInput) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("auth: clear roles: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_scopes WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("auth: clear scopes: %w", err)
	}
	seen := map[access.Role]bool{}
	for _, r := range in.Roles {
		if seen[r] {
			continue
		}
		seen[r] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1,$2)`, id, string(r)); err != nil {
			return fmt.Errorf("auth: add role: %w", err)
		}
	}
	seenG := map[access.Grant]bool{}
	for _, g := range in.Grants {
		if seenG[g] {
			continue
		}
		seenG[g] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_scopes (user_id, institution_id, department_id) VALUES ($1,$2,$3)`,
			id, g.InstitutionID, g.DepartmentID); err != nil {
			return fmt.Errorf("auth: add scope: %w", err)
		}
	}
	return nil
}

// UpdateUser changes name, phone, roles, scope and active flag. Disabling an
// account ends its sessions at once.
func (s *Service) UpdateUser(ctx context.Context, p *access.Principal, id int64, in UserInput) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	old, err := s.user(ctx, s.db.R(), id)
	if err != nil {
		return err
	}
	in.Username = old.Username
	if err := s.validate(ctx, s.db.R(), &in, false); err != nil {
		return err
	}
	if id == p.UserID && (!in.Active || !slices.Contains(in.Roles, access.SysAdmin)) {
		return errs.Field("roles", "self_lockout", "you cannot remove your own administrator role or disable yourself")
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $1, phone = $2, home_institution_id = $3,
			active = $4, updated_at = $5 WHERE id = $6`,
			in.DisplayName, in.Phone, in.HomeInstitutionID, in.Active, store.Micros(s.now()), id); err != nil {
			return fmt.Errorf("auth: update user: %w", err)
		}
		if err := writeAccess(ctx, tx, id, in); err != nil {
			return err
		}
		if !in.Active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("auth: end sessions: %w", err)
			}
		}
		e := audit.Event(p, "user.update", "user", fmt.Sprint(id), in.HomeInstitutionID)
		e.Detail = accessDetail(in)
		return s.audit.Append(ctx, tx, e)
	})
}

// ResetPassword sets a temporary password the user must change at next login,
// and clears any lockout (of the account and of every address).
func (s *Service) ResetPassword(ctx context.Context, p *access.Principal, id int64, pw string) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	u, cur, err := s.userWithHash(ctx, id)
	if err != nil {
		return err
	}
	if err := s.pol.Password.Check(pw, u.Username); err != nil {
		return err
	}
	if err := s.pol.Password.CheckCommon(pw); err != nil {
		return err
	}
	if err := s.checkHistory(ctx, id, cur, pw); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0,
			locked_until = 0, updated_at = $3 WHERE id = $4`, hash, true, store.Micros(s.now()), id); err != nil {
			return fmt.Errorf("auth: reset password: %w", err)
		}
		if err := s.remember(ctx, tx, id, cur); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = $1`, u.Username); err != nil {
			return fmt.Errorf("auth: clear address locks: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("auth: end sessions: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "user.reset_password", "user", fmt.Sprint(id), u.HomeInstitutionID))
	})
}

// userWithHash reads an account and its current password hash by id.
func (s *Service) userWithHash(ctx context.Context, id int64) (*User, string, error) {
	u, err := s.user(ctx, s.db.R(), id)
	if err != nil {
		return nil, "", err
	}
	var hash string
	if err := s.db.R().QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil {
		return nil, "", fmt.Errorf("auth: read password hash: %w", err)
	}
	return u, hash, nil
}

// Unlock lifts a lockout early: the account's and every address's.
func (s *Service) Unlock(ctx context.Context, p *access.Principal, id int64) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	u, err := s.user(ctx, s.db.R(), id)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1`, id); err != nil {
			return fmt.Errorf("auth: unlock: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = $1`, u.Username); err != nil {
			return fmt.Errorf("auth: clear address locks: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "user.unlock", "user", fmt.Sprint(id), u.HomeInstitutionID))
	})
}

// GetUser returns one account. Administrators see any; department heads,
// quality staff and leadership see accounts whose scope lies inside theirs;
// everyone sees themselves.
func (s *Service) GetUser(ctx context.Context, p *access.Principal, id int64) (*User, error) {
	u, err := s.user(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !canSeeUser(p, u) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this account is outside your data scope")
	}
	return u, nil
}

func canSeeUser(p *access.Principal, u *User) bool {
	if p.IsAdmin() || p.UserID == u.ID {
		return true
	}
	if !p.HasAny(access.DeptHead, access.Quality, access.Leadership) {
		return false
	}
	for _, g := range u.Grants {
		if g.DepartmentID == 0 && !p.SeesInstitution(g.InstitutionID) {
			return false
		}
		if g.DepartmentID != 0 && !p.SeesDepartment(g.InstitutionID, g.DepartmentID) {
			return false
		}
	}
	return len(u.Grants) > 0
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	InstitutionID int64
	DepartmentID  int64
	Query         string // user name or display name contains
}

// ListUsers returns the accounts p may see, filtered.
func (s *Service) ListUsers(ctx context.Context, p *access.Principal, f UserFilter) ([]*User, error) {
	if !p.HasAny(access.SysAdmin, access.DeptHead, access.Quality, access.Leadership) {
		return nil, errs.New(errs.Forbidden, "forbidden", "you may not list staff accounts")
	}
	if f.DepartmentID != 0 {
		if err := p.RequireDepartment(f.InstitutionID, f.DepartmentID); err != nil {
			return nil, err
		}
	} else if f.InstitutionID != 0 && !p.TouchesInstitution(f.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	q := `SELECT ` + userCols + ` FROM users u WHERE 1=1`
	var args []any
	if f.InstitutionID != 0 {
		args = append(args, f.InstitutionID)
		q += fmt.Sprintf(` AND (home_institution_id = $%[1]d OR EXISTS (SELECT 1 FROM user_scopes s WHERE s.user_id = u.id AND s.institution_id = $%[1]d))`, len(args))
	}
	if f.DepartmentID != 0 {
		args = append(args, f.DepartmentID)
		q += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM user_scopes s WHERE s.user_id = u.id AND s.department_id = $%d)`, len(args))
	}
	if f.Query != "" {
		args = append(args, "%"+strings.ReplaceAll(strings.TrimSpace(f.Query), "%", "")+"%")
		q += fmt.Sprintf(` AND (username LIKE $%[1]d OR display_name LIKE $%[1]d)`, len(args))
	}
	q += ` ORDER BY username LIMIT 1000`
	rows, err := s.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	var list []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("auth: scan user: %w", err)
		}
		list = append(list, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	out := list[:0]
	for _, u := range list {
		if err := s.loadAccess(ctx, s.db.R(), u); err != nil {
			return nil, err
		}
		if canSeeUser(p, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// CountUsers reports how many accounts exist (the demo seed and `user add`
// use it to decide whether a first administrator is needed).
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("auth: count users: %w", err)
	}
	return n, nil
}

// PrincipalFor returns the principal of user id (for the CLI acting as a user).
func (s *Service) PrincipalFor(ctx context.Context, id int64) (*access.Principal, error) {
	u, err := s.user(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	return s.principal(ctx, u)
}
