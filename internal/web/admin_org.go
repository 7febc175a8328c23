package web

import (
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/org"
)

type institutionForm struct {
	ID     int64
	In     org.InstitutionInput
	Groups []*org.Institution
}

func (s *Server) institutionList(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	list, err := s.Org.Institutions(r.Context(), q.P)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, i := range list {
		names[i.ID] = i.Name
	}
	return s.render(w, r, q, http.StatusOK, "institutions", "institutions", institutionsView{List: list, Names: names})
}

// institutionsView lists institutions, each with its parent's name.
type institutionsView struct {
	List  []*org.Institution
	Names map[int64]string
}

func (s *Server) groups(r *http.Request, q *req, self int64) ([]*org.Institution, error) {
	list, err := s.Org.Institutions(r.Context(), q.P)
	if err != nil {
		return nil, err
	}
	var out []*org.Institution
	for _, i := range list {
		if i.Kind == org.KindGroup && i.ID != self {
			out = append(out, i)
		}
	}
	return out, nil
}

func (s *Server) institutionNew(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	gs, err := s.groups(r, q, 0)
	if err != nil {
		return err
	}
	f := institutionForm{In: org.InstitutionInput{Kind: org.KindHospital, Timezone: "Asia/Shanghai", ServiceHours: "08:00-17:30", Active: true}, Groups: gs}
	return s.render(w, r, q, http.StatusOK, "institution_form", "institutions", f)
}

func institutionInput(r *http.Request) org.InstitutionInput {
	return org.InstitutionInput{
		Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"),
		Timezone: strings.TrimSpace(r.PostFormValue("timezone")), ServiceHours: strings.TrimSpace(r.PostFormValue("service_hours")),
		ParentID: formID(r, "parent_id"), Active: r.PostFormValue("active") == "1",
	}
}

func (s *Server) institutionCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := institutionInput(r)
	id, err := s.Org.CreateInstitution(r.Context(), q.P, in)
	if err != nil {
		gs, gerr := s.groups(r, q, 0)
		if gerr != nil {
			return gerr
		}
		return s.renderForm(w, r, q, "institution_form", "institutions", institutionForm{In: in, Groups: gs}, err)
	}
	return s.redirect(w, r, "/admin/institutions/"+strconv.FormatInt(id, 10), "saved")
}

func (s *Server) institutionEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	i, err := s.Org.Institution(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	gs, err := s.groups(r, q, id)
	if err != nil {
		return err
	}
	f := institutionForm{ID: id, Groups: gs, In: org.InstitutionInput{Code: i.Code, Name: i.Name, Kind: i.Kind,
		Timezone: i.Timezone, ServiceHours: i.ServiceHours, ParentID: i.ParentID, Active: i.Active}}
	return s.render(w, r, q, http.StatusOK, "institution_form", "institutions", f)
}

func (s *Server) institutionUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := institutionInput(r)
	if err := s.Org.UpdateInstitution(r.Context(), q.P, id, in); err != nil {
		gs, gerr := s.groups(r, q, id)
		if gerr != nil {
			return gerr
		}
		return s.renderForm(w, r, q, "institution_form", "institutions", institutionForm{ID: id, In: in, Groups: gs}, err)
	}
	return s.redirect(w, r, "/admin/institutions", "saved")
}

// pickInstitution resolves the ?inst= choice of a page to an institution p
// touches, defaulting to the home institution. Asking for one outside the
// scope is refused, not silently replaced.
func (s *Server) pickInstitution(r *http.Request, q *req) (*org.Institution, []*org.Institution, error) {
	list, err := s.Org.Institutions(r.Context(), q.P)
	if err != nil {
		return nil, nil, err
	}
	asked := formID(r, "inst")
	want := asked
	if want == 0 {
		want = q.P.InstitutionID
	}
	for _, i := range list {
		if i.ID == want {
			return i, list, nil
		}
	}
	if asked != 0 || len(list) == 0 {
		return nil, nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	return list[0], list, nil
}

// departmentsPage is the departments page's data: the list (departments
// an import made from a HIS code marked for review) and, for
// administrators, the HIS-code mappings with the form to add one.
type departmentsPage struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	List     []*org.Department
	Names    map[int64]string
	Mappings []org.HISMapping
	Targets  []*org.Department // active departments a HIS code may map to
	HISCode  string            // the form's input, kept on error
	TargetID int64
}

func (s *Server) departmentsData(r *http.Request, q *req) (*departmentsPage, error) {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return nil, err
	}
	deps, err := s.Org.Departments(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	d := &departmentsPage{Inst: inst, Insts: insts, List: deps, Names: map[int64]string{}}
	for _, x := range deps {
		d.Names[x.ID] = x.Name
		if x.Active {
			d.Targets = append(d.Targets, x)
		}
	}
	if q.P.IsAdmin() {
		if d.Mappings, err = s.Org.HISMappings(r.Context(), q.P, inst.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) departmentList(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.departmentsData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "departments", "departments", d)
}

// departmentMapHIS files a HIS code under a department (POST, admin).
func (s *Server) departmentMapHIS(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.departmentsData(r, q)
	if err != nil {
		return err
	}
	d.HISCode, d.TargetID = strings.TrimSpace(r.PostFormValue("his_code")), formID(r, "department_id")
	folded, err := s.Org.MapHISCode(r.Context(), q.P, d.Inst.ID, d.HISCode, d.TargetID)
	if err != nil {
		return s.renderForm(w, r, q, "departments", "departments", d, err)
	}
	flash := "his_mapped"
	if folded {
		flash = "his_folded"
	}
	return s.redirect(w, r, "/admin/departments?inst="+strconv.FormatInt(d.Inst.ID, 10), flash)
}

// departmentUnmapHIS removes a HIS-code mapping (POST, admin).
func (s *Server) departmentUnmapHIS(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, _, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	if err := s.Org.UnmapHISCode(r.Context(), q.P, inst.ID, r.PostFormValue("his_code")); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/departments?inst="+strconv.FormatInt(inst.ID, 10), "his_unmapped")
}

type departmentForm struct {
	ID      int64
	Inst    *org.Institution
	In      org.DepartmentInput
	Parents []*org.Department
}

func (s *Server) departmentFormData(r *http.Request, q *req, inst int64, self int64, in org.DepartmentInput) (departmentForm, error) {
	i, err := s.Org.Institution(r.Context(), q.P, inst)
	if err != nil {
		return departmentForm{}, err
	}
	deps, err := s.Org.Departments(r.Context(), q.P, inst)
	if err != nil {
		return departmentForm{}, err
	}
	var parents []*org.Department
	for _, d := range deps {
		if d.ID != self && d.Kind != org.DeptWard {
			parents = append(parents, d)
		}
	}
	return departmentForm{ID: self, Inst: i, In: in, Parents: parents}, nil
}

func (s *Server) departmentNew(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	inst, _, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	f, err := s.departmentFormData(r, q, inst.ID, 0, org.DepartmentInput{InstitutionID: inst.ID, Kind: org.DeptClinical, Active: true})
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "department_form", "departments", f)
}

func departmentInput(r *http.Request) org.DepartmentInput {
	return org.DepartmentInput{InstitutionID: formID(r, "institution_id"), Code: r.PostFormValue("code"),
		Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), ParentID: formID(r, "parent_id"),
		Active: r.PostFormValue("active") == "1"}
}

func (s *Server) departmentCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := departmentInput(r)
	if _, err := s.Org.CreateDepartment(r.Context(), q.P, in); err != nil {
		f, ferr := s.departmentFormData(r, q, in.InstitutionID, 0, in)
		if ferr != nil {
			return err
		}
		return s.renderForm(w, r, q, "department_form", "departments", f, err)
	}
	return s.redirect(w, r, "/admin/departments?inst="+strconv.FormatInt(in.InstitutionID, 10), "saved")
}

func (s *Server) departmentEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.Org.Department(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	f, err := s.departmentFormData(r, q, d.InstitutionID, id, org.DepartmentInput{InstitutionID: d.InstitutionID,
		Code: d.Code, Name: d.Name, Kind: d.Kind, ParentID: d.ParentID, Active: d.Active})
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "department_form", "departments", f)
}

func (s *Server) departmentUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := departmentInput(r)
	if err := s.Org.UpdateDepartment(r.Context(), q.P, id, in); err != nil {
		d, derr := s.Org.Department(r.Context(), q.P, id)
		if derr != nil {
			return err
		}
		in.InstitutionID = d.InstitutionID
		f, ferr := s.departmentFormData(r, q, d.InstitutionID, id, in)
		if ferr != nil {
			return err
		}
		return s.renderForm(w, r, q, "department_form", "departments", f, err)
	}
	d, err := s.Org.Department(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/departments?inst="+strconv.FormatInt(d.InstitutionID, 10), "saved")
}

// departmentDetail shows a department and its staff. The service refuses a
// department outside the caller's scope, so a ward nurse of department A
// asking for department B gets the 403 page.
func (s *Server) departmentDetail(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.Org.Department(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	inst, err := s.Org.Institution(r.Context(), q.P, d.InstitutionID)
	if err != nil {
		return err
	}
	var staff []*auth.User
	if q.P.HasAny(access.SysAdmin, access.DeptHead, access.Quality, access.Leadership) {
		staff, err = s.Auth.ListUsers(r.Context(), q.P, auth.UserFilter{InstitutionID: d.InstitutionID, DepartmentID: d.ID})
		if err != nil {
			return err
		}
	}
	return s.render(w, r, q, http.StatusOK, "department", "departments", departmentView{Dept: d, Inst: inst, Staff: staff})
}

// departmentView is one department and, for those who may see it, its staff.
type departmentView struct {
	Dept  *org.Department
	Inst  *org.Institution
	Staff []*auth.User
}
