package web

// complaintAdminRoutes are the complaint settings: SLA policies and
// categories (quality and administrators edit them).
func (s *Server) complaintAdminRoutes() {
	m := s.mux
	m.HandleFunc("GET /admin/complaint-policies", s.private(s.complaintPolicies))
	m.HandleFunc("POST /admin/complaint-policies/copy-defaults", s.private(s.complaintPoliciesCopy))
	m.HandleFunc("GET /admin/complaint-policies/new", s.private(s.complaintPolicyNew))
	m.HandleFunc("POST /admin/complaint-policies", s.private(s.complaintPolicySave))
	m.HandleFunc("GET /admin/complaint-policies/{id}", s.private(s.complaintPolicyEdit))
	m.HandleFunc("POST /admin/complaint-policies/{id}", s.private(s.complaintPolicySave))
	m.HandleFunc("POST /admin/complaint-policies/{id}/delete", s.private(s.complaintPolicyDelete))
	m.HandleFunc("GET /admin/complaint-categories", s.private(s.complaintCategories))
	m.HandleFunc("POST /admin/complaint-categories", s.private(s.complaintCategoryAdd))
	m.HandleFunc("POST /admin/complaint-categories/{code}", s.private(s.complaintCategoryUpdate))
	m.HandleFunc("POST /admin/complaint-categories/{code}/delete", s.private(s.complaintCategoryDelete))
}
