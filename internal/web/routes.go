package web

import (
	"io/fs"
	"net/http"
)

// routes is the whole URL map of the staff UI, in one place.
func (s *Server) routes() {
	m := s.mux
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	m.HandleFunc("GET /login", s.public(s.loginPage))
	m.HandleFunc("POST /login", s.public(s.loginSubmit))
	m.HandleFunc("POST /logout", s.private(s.logout))
	m.HandleFunc("POST /lang", s.public(s.setLang))
	m.HandleFunc("GET /password", s.private(s.passwordPage))
	m.HandleFunc("POST /password", s.private(s.passwordSubmit))
	m.HandleFunc("GET /{$}", s.private(s.home))

	m.HandleFunc("GET /departments/{id}", s.private(s.departmentDetail))

	m.HandleFunc("GET /admin/institutions", s.private(s.institutionList))
	m.HandleFunc("GET /admin/institutions/new", s.private(s.institutionNew))
	m.HandleFunc("POST /admin/institutions", s.private(s.institutionCreate))
	m.HandleFunc("GET /admin/institutions/{id}", s.private(s.institutionEdit))
	m.HandleFunc("POST /admin/institutions/{id}", s.private(s.institutionUpdate))

	m.HandleFunc("GET /admin/departments", s.private(s.departmentList))
	m.HandleFunc("GET /admin/departments/new", s.private(s.departmentNew))
	m.HandleFunc("POST /admin/departments", s.private(s.departmentCreate))
	m.HandleFunc("POST /admin/departments/his-codes", s.private(s.departmentMapHIS))
	m.HandleFunc("POST /admin/departments/his-codes/delete", s.private(s.departmentUnmapHIS))
	m.HandleFunc("GET /admin/departments/{id}", s.private(s.departmentEdit))
	m.HandleFunc("POST /admin/departments/{id}", s.private(s.departmentUpdate))

	m.HandleFunc("GET /admin/users", s.private(s.userList))
	m.HandleFunc("GET /admin/users/new", s.private(s.userNew))
	m.HandleFunc("POST /admin/users", s.private(s.userCreate))
	m.HandleFunc("GET /admin/users/{id}", s.private(s.userEdit))
	m.HandleFunc("POST /admin/users/{id}", s.private(s.userUpdate))
	m.HandleFunc("POST /admin/users/{id}/reset", s.private(s.userReset))
	m.HandleFunc("POST /admin/users/{id}/unlock", s.private(s.userUnlock))

	m.HandleFunc("GET /admin/calendar", s.private(s.calendarPage))
	m.HandleFunc("POST /admin/calendar/days", s.private(s.calendarSetDay))
	m.HandleFunc("POST /admin/calendar/days/delete", s.private(s.calendarDeleteDay))
	m.HandleFunc("POST /admin/calendar/import", s.private(s.calendarImport))

	m.HandleFunc("GET /admin/audit", s.private(s.auditPage))
	m.HandleFunc("POST /admin/audit/verify", s.private(s.auditVerify))

	m.HandleFunc("GET /admin/tokens", s.private(s.tokenList))
	m.HandleFunc("POST /admin/tokens", s.private(s.tokenCreate))
	m.HandleFunc("POST /admin/tokens/{id}/revoke", s.private(s.tokenRevoke))

	// Follow-up: worklist, task page and its actions, cases, imports, rules.
	m.HandleFunc("GET /followup", s.private(s.worklist))
	m.HandleFunc("GET /followup/next", s.private(s.taskNext))
	m.HandleFunc("GET /followup/tasks/{id}", s.private(s.taskPage))
	m.HandleFunc("POST /followup/tasks/{id}/claim", s.private(s.taskClaim))
	m.HandleFunc("POST /followup/tasks/{id}/release", s.private(s.taskRelease))
	m.HandleFunc("POST /followup/tasks/{id}/reveal", s.private(s.taskReveal))
	m.HandleFunc("POST /followup/tasks/{id}/dial", s.private(s.taskDial))
	m.HandleFunc("POST /followup/tasks/{id}/attempts", s.private(s.taskAttempt))
	m.HandleFunc("POST /followup/tasks/{id}/record", s.private(s.taskRecord))
	m.HandleFunc("GET /imports", s.private(s.importsPage))
	m.HandleFunc("POST /imports", s.private(s.importRun))
	m.HandleFunc("GET /imports/template.csv", s.private(s.importTemplate))
	m.HandleFunc("GET /imports/template.xlsx", s.private(s.importTemplateXLSX))
	m.HandleFunc("GET /imports/{id}", s.private(s.importReport))
	m.HandleFunc("GET /imports/{id}/rejects.csv", s.private(s.importRejects))
	m.HandleFunc("GET /admin/rules", s.private(s.rulesPage))
	m.HandleFunc("GET /admin/rules/new", s.private(s.ruleNew))
	m.HandleFunc("POST /admin/rules", s.private(s.ruleCreate))
	m.HandleFunc("GET /admin/rules/{id}", s.private(s.ruleEdit))
	m.HandleFunc("POST /admin/rules/{id}", s.private(s.ruleUpdate))
	m.HandleFunc("POST /admin/rules/{id}/reapply", s.private(s.ruleReapply))
	s.noticeRoutes()

	s.notifyRoutes()

	s.patientRoutes()

	s.surveyRoutes()
	s.complaintRoutes()
	s.complaintPublicRoutes()
	s.complaintPDFRoutes()
	s.complaintTeamRoutes()
	s.abnormalRoutes()
	s.mllpRoutes()
	s.complaintReportRoutes()
	s.complaintAdminRoutes()
	s.complaintIntakeRoutes()

	m.HandleFunc("/", s.public(s.notFound))
}

// cacheStatic lets browsers keep assets for a day; they change only with a
// new binary.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// Route names the pattern that serves r, for metrics labels.
func (s *Server) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}
