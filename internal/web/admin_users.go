package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// orgNames resolves institution and department ids to names for display,
// loading each institution's departments once per request.
type orgNames struct {
	ctx   context.Context
	s     *Server
	p     *access.Principal
	insts map[int64]string
	depts map[int64]string
	done  map[int64]bool
}

func (s *Server) names(ctx context.Context, p *access.Principal, insts []*org.Institution) *orgNames {
	n := &orgNames{ctx: ctx, s: s, p: p, insts: map[int64]string{}, depts: map[int64]string{}, done: map[int64]bool{}}
	for _, i := range insts {
		n.insts[i.ID] = i.Name
	}
	return n
}

// inst is the institution's name; an institution outside the list (a
// member of a group p oversees, say) is looked up once.
func (n *orgNames) inst(id int64) string {
	if id == 0 {
		return "—"
	}
	if name, ok := n.insts[id]; ok {
		return name
	}
	name := "#" + strconv.FormatInt(id, 10)
	if i, err := n.s.Org.Lookup(n.ctx, id); err == nil {
		name = i.Name
	}
	n.insts[id] = name
	return name
}

// dept is the department's name as far as p may see it, else its id.
func (n *orgNames) dept(inst, id int64) string {
	if !n.done[inst] {
		n.done[inst] = true
		if list, err := n.s.Org.Departments(n.ctx, n.p, inst); err == nil {
			for _, d := range list {
				n.depts[d.ID] = d.Name
			}
		}
	}
	if name, ok := n.depts[id]; ok {
		return name
	}
	return "#" + strconv.FormatInt(id, 10)
}

// grant is "Institution" or "Institution · Department".
func (n *orgNames) grant(g access.Grant) string {
	if g.DepartmentID == 0 {
		return n.inst(g.InstitutionID)
	}
	return n.inst(g.InstitutionID) + " · " + n.dept(g.InstitutionID, g.DepartmentID)
}

// userRow is one line of the account list.
type userRow struct {
	*auth.User
	Institution string
	AllInsts    bool     // a system administrator sees everything
	Scope       []string // the first few grants, named
	ScopeMore   int      // how many more grants are not shown
	Locked      bool
}

// scopeShown is how many grants the list names before "and N more".
const scopeShown = 3

func (s *Server) userList(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	f := auth.UserFilter{InstitutionID: formID(r, "inst"), Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	list, err := s.Auth.ListUsers(ctx, q.P, f)
	if err != nil {
		return err
	}
	insts, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return err
	}
	nm := s.names(ctx, q.P, insts)
	now := s.Now()
	rows := make([]userRow, 0, len(list))
	for _, u := range list {
		row := userRow{User: u, Institution: nm.inst(u.HomeInstitutionID), Locked: u.Locked(now),
			AllInsts: slices.Contains(u.Roles, access.SysAdmin)}
		if !row.AllInsts {
			for i, g := range u.Grants {
				if i == scopeShown {
					row.ScopeMore = len(u.Grants) - scopeShown
					break
				}
				row.Scope = append(row.Scope, nm.grant(g))
			}
		}
		rows = append(rows, row)
	}
	return s.render(w, r, q, http.StatusOK, "users", "users", usersView{
		List: rows, Insts: insts, Inst: f.InstitutionID, Query: f.Query,
		Filtered: f.InstitutionID != 0 || f.Query != "",
	})
}

// usersView is the staff list with its filter.
type usersView struct {
	List     []userRow
	Insts    []*org.Institution
	Inst     int64
	Query    string
	Filtered bool
}

type roleOpt struct {
	Role    access.Role
	Checked bool
}

type scopeOpt struct {
	Value   string // "<instID>:<deptID>", dept 0 = whole institution
	ID      string // element id
	Label   string
	Checked bool
}

type scopeGroup struct {
	Inst  *org.Institution
	Whole scopeOpt
	Depts []scopeOpt
}

// userForm is the data of the new/edit account page.
type userForm struct {
	ID     int64
	User   *auth.User // the stored account, on edit
	In     auth.UserInput
	Insts  []*org.Institution
	Roles  []roleOpt
	Scopes []scopeGroup
	Rules  string
	Locked bool
}

func (s *Server) userFormData(r *http.Request, q *req, u *auth.User, in auth.UserInput) (userForm, error) {
	ctx := r.Context()
	insts, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return userForm{}, err
	}
	f := userForm{In: in, Insts: insts, User: u}
	if u != nil {
		f.ID = u.ID
		f.In.Username = u.Username
		f.Locked = u.Locked(s.Now())
	}
	pol := s.Auth.Policy().Password
	f.Rules = s.cat.T(q.Lang, "password.rules", pol.MinLength, pol.MinClasses)
	for _, role := range access.Roles() {
		f.Roles = append(f.Roles, roleOpt{Role: role, Checked: slices.Contains(in.Roles, role)})
	}
	for _, i := range insts {
		deps, err := s.Org.Departments(ctx, q.P, i.ID)
		if err != nil {
			return userForm{}, err
		}
		g := scopeGroup{Inst: i, Whole: scopeOpt{Value: fmt.Sprintf("%d:0", i.ID), ID: fmt.Sprintf("scope-%d-0", i.ID),
			Checked: slices.Contains(in.Grants, access.Grant{InstitutionID: i.ID})}}
		for _, d := range deps {
			g.Depts = append(g.Depts, scopeOpt{Value: fmt.Sprintf("%d:%d", i.ID, d.ID), ID: fmt.Sprintf("scope-%d-%d", i.ID, d.ID),
				Label: d.Name, Checked: slices.Contains(in.Grants, access.Grant{InstitutionID: i.ID, DepartmentID: d.ID})})
		}
		f.Scopes = append(f.Scopes, g)
	}
	return f, nil
}

// userInput reads the account form. Scope checkboxes carry
// "<institution id>:<department id>"; a malformed one means a tampered form.
func userInput(r *http.Request) (auth.UserInput, error) {
	if err := r.ParseForm(); err != nil {
		return auth.UserInput{}, errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	in := auth.UserInput{
		Username: strings.TrimSpace(r.PostFormValue("username")), DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		Password: r.PostFormValue("password"), HomeInstitutionID: formID(r, "home_institution_id"),
		Phone:  strings.TrimSpace(r.PostFormValue("phone")),
		Active: r.PostFormValue("active") == "1", MustChangePassword: r.PostFormValue("must_change") == "1",
	}
	for _, v := range r.PostForm["roles"] {
		in.Roles = append(in.Roles, access.Role(v))
	}
	var bad error
	for _, v := range r.PostForm["scope"] {
		a, b, ok := strings.Cut(v, ":")
		inst, err1 := strconv.ParseInt(a, 10, 64)
		dept, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || inst <= 0 || dept < 0 {
			bad = errs.Field("grants", "bad_department", "a chosen scope entry is not valid")
			continue
		}
		in.Grants = append(in.Grants, access.Grant{InstitutionID: inst, DepartmentID: dept})
	}
	return in, bad
}

func (s *Server) userNew(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	in := auth.UserInput{HomeInstitutionID: formID(r, "inst"), Active: true, MustChangePassword: true}
	if in.HomeInstitutionID == 0 {
		in.HomeInstitutionID = q.P.InstitutionID
	}
	f, err := s.userFormData(r, q, nil, in)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "user_form", "users", f)
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in, err := userInput(r)
	in.Active = true
	if err == nil {
		_, err = s.Auth.CreateUser(r.Context(), q.P, in)
	}
	if err != nil {
		in.Password = "" // never echo a password back into the page
		f, ferr := s.userFormData(r, q, nil, in)
		if ferr != nil {
			return err
		}
		return s.renderForm(w, r, q, "user_form", "users", f, err)
	}
	return s.redirect(w, r, "/admin/users", "user_created")
}

func (s *Server) userEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	u, err := s.userByPath(r, q)
	if err != nil {
		return err
	}
	f, err := s.userFormData(r, q, u, storedInput(u))
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "user_form", "users", f)
}

func (s *Server) userByPath(r *http.Request, q *req) (*auth.User, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Auth.GetUser(r.Context(), q.P, id)
}

func storedInput(u *auth.User) auth.UserInput {
	return auth.UserInput{Username: u.Username, DisplayName: u.DisplayName, HomeInstitutionID: u.HomeInstitutionID,
		Phone: u.Phone, Roles: u.Roles, Grants: u.Grants, Active: u.Active, MustChangePassword: u.MustChangePassword}
}

func (s *Server) userUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	u, err := s.userByPath(r, q)
	if err != nil {
		return err
	}
	in, err := userInput(r)
	if err == nil {
		err = s.Auth.UpdateUser(r.Context(), q.P, u.ID, in)
	}
	if err != nil {
		in.Password = ""
		f, ferr := s.userFormData(r, q, u, in)
		if ferr != nil {
			return err
		}
		return s.renderForm(w, r, q, "user_form", "users", f, err)
	}
	return s.redirect(w, r, "/admin/users", "saved")
}

// userReset sets a temporary password; the form error (a password that
// breaks the rules) is shown on the edit page with the stored account.
func (s *Server) userReset(w http.ResponseWriter, r *http.Request, q *req) error {
	u, err := s.userByPath(r, q)
	if err != nil {
		return err
	}
	if err := s.Auth.ResetPassword(r.Context(), q.P, u.ID, r.PostFormValue("password")); err != nil {
		f, ferr := s.userFormData(r, q, u, storedInput(u))
		if ferr != nil {
			return err
		}
		return s.renderForm(w, r, q, "user_form", "users", f, err)
	}
	return s.redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10), "password_reset")
}

func (s *Server) userUnlock(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Auth.Unlock(r.Context(), q.P, id); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10), "unlocked")
}
