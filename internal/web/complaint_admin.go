package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// The complaint settings pages: SLA policies (which targets apply to
// which complaints, and the matrix of what wins) and the institution's
// categories. Quality of the institution and administrators edit; anyone
// else who touches the institution may look.

// cpAdminURL is path with the institution when the user has several.
func cpAdminURL(path string, inst *org.Institution, insts []*org.Institution) string {
	if len(insts) > 1 {
		return withQuery(path, url.Values{"inst": {strconv.FormatInt(inst.ID, 10)}})
	}
	return path
}

type cpPolicyRow struct {
	*complaint.SLAPolicy
	URL     string
	Targets string
}

type cpPoliciesData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	V          *complaint.PolicyAdmin
	Rows       []cpPolicyRow
	Severities []string
	Cxs        []string
	URL        string
	CopyURL    string
	NewURL     string
	CatsURL    string
}

func (s *Server) complaintPolicies(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	v, err := s.Complaints.Policies(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	d := &cpPoliciesData{Inst: inst, Insts: insts, V: v, Severities: complaint.Severities(), Cxs: []string{complaint.Simple, complaint.Complex},
		CopyURL: cpAdminURL("/admin/complaint-policies/copy-defaults", inst, insts), NewURL: cpAdminURL("/admin/complaint-policies/new", inst, insts),
		CatsURL: cpAdminURL("/admin/complaint-categories", inst, insts), URL: cpAdminURL("/admin/complaint-policies", inst, insts)}
	for _, p := range v.Policies {
		row := cpPolicyRow{SLAPolicy: p, Targets: complaint.FormatTargets(p.Targets)}
		if v.Own {
			row.URL = cpAdminURL("/admin/complaint-policies/"+strconv.FormatInt(p.ID, 10), inst, insts)
		}
		d.Rows = append(d.Rows, row)
	}
	return s.render(w, r, q, http.StatusOK, "complaint_policies", "complaint_admin", d)
}

func (s *Server) complaintPoliciesCopy(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	if err := s.Complaints.CopyDefaultPolicies(r.Context(), q.P, inst.ID); err != nil {
		return err
	}
	return s.redirectFlash(w, r, cpAdminURL("/admin/complaint-policies", inst, insts), s.cat.T(q.Lang, "cpa.flash.copied"))
}

type cpPolicyFormData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	ID         int64
	F          complaint.PolicyInput
	Cats       complaint.CategorySet
	Severities []string
	Cxs        []string
	Milestones []string
	Action     string
	BackURL    string
	DeleteURL  string
	// TargetsProblem names the part of the targets text a save refused.
	TargetsProblem string
}

func (s *Server) cpPolicyFormData(r *http.Request, q *req, id int64) (*cpPolicyFormData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	cats, err := s.Complaints.Categories(r.Context(), inst.ID)
	if err != nil {
		return nil, err
	}
	d := &cpPolicyFormData{Inst: inst, Insts: insts, ID: id, Cats: cats, Severities: complaint.Severities(),
		Cxs: []string{complaint.Simple, complaint.Complex}, Milestones: complaint.Milestones(),
		Action: cpAdminURL("/admin/complaint-policies", inst, insts), BackURL: cpAdminURL("/admin/complaint-policies", inst, insts)}
	if id != 0 {
		p, err := s.Complaints.Policy(r.Context(), q.P, inst.ID, id)
		if err != nil {
			return nil, err
		}
		d.F = complaint.PolicyInput{Name: p.Name, Category: p.Category, Severity: p.Severity, Complexity: p.Complexity,
			Targets: complaint.FormatTargets(p.Targets)}
		path := "/admin/complaint-policies/" + strconv.FormatInt(id, 10)
		d.Action, d.DeleteURL = cpAdminURL(path, inst, insts), cpAdminURL(path+"/delete", inst, insts)
	} else {
		d.F.Targets = complaint.FormatTargets(complaint.DefaultPolicies()[0].Targets)
	}
	return d, nil
}

func (s *Server) complaintPolicyNew(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.cpPolicyFormData(r, q, 0)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "complaint_policy_form", "complaint_admin", d)
}

func (s *Server) complaintPolicyEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.cpPolicyFormData(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "complaint_policy_form", "complaint_admin", d)
}

// policyForm reads the policy form; "any" (or nothing) matches any.
func policyForm(f url.Values) complaint.PolicyInput {
	anyOf := func(k string) string {
		v := strings.TrimSpace(f.Get(k))
		if v == "any" {
			return ""
		}
		return v
	}
	return complaint.PolicyInput{Name: f.Get("name"), Category: anyOf("category"), Severity: anyOf("severity"),
		Complexity: anyOf("complexity"), Targets: f.Get("targets")}
}

// complaintPolicySave creates (no id) or updates a policy.
func (s *Server) complaintPolicySave(w http.ResponseWriter, r *http.Request, q *req) error {
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = pathID(r, "id"); err != nil {
			return err
		}
	}
	d, err := s.cpPolicyFormData(r, q, id)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	d.F = policyForm(r.PostForm)
	if id == 0 {
		_, err = s.Complaints.CreatePolicy(r.Context(), q.P, d.Inst.ID, d.F)
	} else {
		err = s.Complaints.UpdatePolicy(r.Context(), q.P, d.Inst.ID, id, d.F)
	}
	if err != nil {
		if te, ok := complaint.BadTargets(err); ok {
			d.TargetsProblem = s.cat.T(q.Lang, "cpa.terr."+te.Reason, te.Part)
		}
		return s.renderForm(w, r, q, "complaint_policy_form", "complaint_admin", d, err)
	}
	return s.redirectFlash(w, r, d.BackURL, s.cat.T(q.Lang, "cpa.flash.saved", strings.TrimSpace(d.F.Name)))
}

func (s *Server) complaintPolicyDelete(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return err
	}
	if err := s.Complaints.DeletePolicy(r.Context(), q.P, inst.ID, id); err != nil {
		return err
	}
	return s.redirectFlash(w, r, cpAdminURL("/admin/complaint-policies", inst, insts), s.cat.T(q.Lang, "cpa.flash.deleted"))
}

type cpCategoryRow struct {
	complaint.Category
	Action    string
	DeleteURL string
	// Field prefixes this row's inputs, so a refused save marks its row.
	Field string
}

type cpCategoriesData struct {
	Inst        *org.Institution
	Insts       []*org.Institution
	V           *complaint.CategoryAdmin
	Rows        []cpCategoryRow
	AddAction   string
	PoliciesURL string
	New         complaint.CategoryInput
	// Bad is the code of the row a refused save was about ("new" for the
	// add form).
	Bad string
}

func (s *Server) cpCategoriesData(r *http.Request, q *req) (*cpCategoriesData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	v, err := s.Complaints.CategoriesAdmin(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	d := &cpCategoriesData{Inst: inst, Insts: insts, V: v, AddAction: cpAdminURL("/admin/complaint-categories", inst, insts),
		PoliciesURL: cpAdminURL("/admin/complaint-policies", inst, insts)}
	for _, c := range v.Categories {
		path := "/admin/complaint-categories/" + url.PathEscape(c.Code)
		d.Rows = append(d.Rows, cpCategoryRow{Category: c, Action: cpAdminURL(path, inst, insts), DeleteURL: cpAdminURL(path+"/delete", inst, insts)})
	}
	return d, nil
}

func (s *Server) complaintCategories(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.cpCategoriesData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "complaint_categories", "complaint_admin", d)
}

// categoryForm reads one category's fields.
func categoryForm(f url.Values) complaint.CategoryInput {
	sort, err := strconv.Atoi(strings.TrimSpace(f.Get("sort")))
	if err != nil {
		sort = -1 // refused by the service as a field error
		if strings.TrimSpace(f.Get("sort")) == "" {
			sort = 0
		}
	}
	return complaint.CategoryInput{Code: f.Get("code"), NameZh: f.Get("name_zh"), NameEn: f.Get("name_en"), Sort: sort,
		Active: f.Get("active") == "1"}
}

func (s *Server) complaintCategoryAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.cpCategoriesData(r, q)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	d.New = categoryForm(r.PostForm)
	code, err := s.Complaints.AddCategory(r.Context(), q.P, d.Inst.ID, d.New)
	if err != nil {
		d.Bad = "new"
		return s.renderForm(w, r, q, "complaint_categories", "complaint_admin", d, err)
	}
	return s.redirectFlash(w, r, d.AddAction, s.cat.T(q.Lang, "cpa.flash.cat_added", strings.TrimSpace(d.New.NameZh), code))
}

func (s *Server) complaintCategoryUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.cpCategoriesData(r, q)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	code := r.PathValue("code")
	in := categoryForm(r.PostForm)
	if err := s.Complaints.UpdateCategory(r.Context(), q.P, d.Inst.ID, code, in); err != nil {
		// Show the row as the user left it.
		for i := range d.Rows {
			if d.Rows[i].Code == code {
				d.Rows[i].NameZh, d.Rows[i].NameEn, d.Rows[i].Sort, d.Rows[i].Active = in.NameZh, in.NameEn, in.Sort, in.Active
			}
		}
		d.Bad = code
		return s.renderForm(w, r, q, "complaint_categories", "complaint_admin", d, err)
	}
	return s.redirectFlash(w, r, d.AddAction, s.cat.T(q.Lang, "cpa.flash.cat_saved", strings.TrimSpace(in.NameZh)))
}

func (s *Server) complaintCategoryDelete(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.cpCategoriesData(r, q)
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	if err := s.Complaints.DeleteCategory(r.Context(), q.P, d.Inst.ID, code); err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Conflict {
			d.Bad = code
			return s.renderForm(w, r, q, "complaint_categories", "complaint_admin", d, err)
		}
		return err
	}
	return s.redirectFlash(w, r, d.AddAction, s.cat.T(q.Lang, "cpa.flash.cat_deleted", code))
}
