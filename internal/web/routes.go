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

	// Notices and rectification (抄告单), and their routing rules.
	m.HandleFunc("GET /notices", s.private(s.noticeList))
	m.HandleFunc("GET /notices/new", s.private(s.noticeNew))
	m.HandleFunc("POST /notices", s.private(s.noticeRaise))
	m.HandleFunc("GET /notices/{id}", s.private(s.noticePage))
	m.HandleFunc("POST /notices/{id}/{action}", s.private(s.noticeAct))
	m.HandleFunc("POST /notices/{id}/attachments", s.private(s.noticeAttach))
	m.HandleFunc("GET /notices/{id}/attachments/{aid}", s.private(s.noticeDownload))
	m.HandleFunc("GET /admin/notice-rules", s.private(s.noticeRules))
	m.HandleFunc("POST /admin/notice-rules", s.private(s.noticeRulesSave))
	m.HandleFunc("GET /followup/cases", s.private(s.casesMoved)) // the follow-up cases of old are notices now

	// Outbox, message templates and every user's inbox.
	m.HandleFunc("GET /admin/outbox", s.private(s.outboxPage))
	m.HandleFunc("GET /admin/outbox/{id}", s.private(s.outboxMessage))
	m.HandleFunc("POST /admin/outbox/{id}/resend", s.private(s.outboxResend))
	m.HandleFunc("GET /admin/templates", s.private(s.templatesPage))
	m.HandleFunc("GET /admin/templates/edit", s.private(s.templateEdit))
	m.HandleFunc("POST /admin/templates/edit", s.private(s.templateSave))
	m.HandleFunc("POST /admin/templates/reset", s.private(s.templateReset))
	m.HandleFunc("GET /inbox", s.private(s.inboxPage))
	m.HandleFunc("POST /inbox/read", s.private(s.inboxRead))

	// Patient archive and the record browser.
	m.HandleFunc("GET /patients", s.private(s.patientSearch))
	m.HandleFunc("GET /patients/{id}", s.private(s.patientPage))
	m.HandleFunc("POST /patients/{id}/reveal", s.private(s.patientReveal))
	m.HandleFunc("POST /patients/{id}/dnc", s.private(s.patientSetDNC))
	m.HandleFunc("POST /patients/{id}/dnc/clear", s.private(s.patientClearDNC))
	m.HandleFunc("POST /patients/{id}/deceased", s.private(s.patientDeceased))
	m.HandleFunc("GET /followup/records", s.private(s.recordsPage))
	m.HandleFunc("GET /followup/records/{id}", s.private(s.recordPage))
	m.HandleFunc("POST /followup/records/{id}/amend", s.private(s.recordAmend))

	// Surveys: the patient's page at the short /s/{token} (public,
	// rate-limited, own layout) and the staff pages.
	if s.Survey != nil {
		u, err := newPatientUI(s)
		if err != nil {
			panic(err) // embedded templates: a build mistake every test run catches
		}
		m.HandleFunc("GET /s/{token}", u.limited(u.sheet))
		m.HandleFunc("POST /s/{token}", u.limited(u.save))
		m.HandleFunc("POST /s/{token}/refuse", u.limited(u.refuse))
		m.HandleFunc("GET /s/{token}/thanks", u.limited(u.thanks))
		m.HandleFunc("GET /surveys", s.private(s.surveyList))
		m.HandleFunc("POST /surveys", s.private(s.surveyCreate))
		m.HandleFunc("POST /surveys/import", s.private(s.surveyImport))
		m.HandleFunc("GET /surveys/settings", s.private(s.surveySettingsPage))
		m.HandleFunc("POST /surveys/settings", s.private(s.surveySettingsSave))
		m.HandleFunc("GET /surveys/{id}", s.private(s.surveyDetail))
		m.HandleFunc("POST /surveys/{id}/versions", s.private(s.surveyNewVersion))
		m.HandleFunc("POST /surveys/{id}/share", s.private(s.surveyShare))
		m.HandleFunc("POST /surveys/{id}/copy", s.private(s.surveyCopy))
		m.HandleFunc("GET /surveys/{id}/results", s.private(s.surveyResults))
		m.HandleFunc("GET /surveys/{id}/results.xlsx", s.private(s.surveyResultsXLSX))
		m.HandleFunc("POST /surveys/{id}/remind", s.private(s.surveyRemind))
		m.HandleFunc("GET /surveys/versions/{vid}/edit", s.private(s.surveyEdit))
		m.HandleFunc("POST /surveys/versions/{vid}/edit", s.private(s.surveySave))
		m.HandleFunc("POST /surveys/versions/{vid}/publish", s.private(s.surveyPublish))
		m.HandleFunc("GET /surveys/versions/{vid}/preview", s.private(s.surveyPreview))
		m.HandleFunc("GET /surveys/versions/{vid}/fhir.json", s.private(s.surveyFHIR))
		m.HandleFunc("GET /surveys/responses/{rid}/fhir.json", s.private(s.surveyResponseFHIR))
	}

	// Complaints.
	if s.Complaints != nil {
		u := s.newComplaintPublicUI() // the public form and tracking lookup
		m.HandleFunc("GET /c/track", u.wrap(u.trackForm))
		m.HandleFunc("POST /c/track", u.wrap(u.track))
		m.HandleFunc("GET /c/{code}", u.wrap(u.form))
		m.HandleFunc("POST /c/{code}", u.wrap(u.file))
		m.HandleFunc("POST /c/{code}/verify", u.wrap(u.verify))
		m.HandleFunc("POST /c/{code}/resend", u.wrap(u.resend))

		// Complaints: list, intake form, the complaint page and its actions.
		m.HandleFunc("GET /complaints", s.private(s.complaintList))
		m.HandleFunc("GET /complaints/new", s.private(s.complaintNew))
		m.HandleFunc("POST /complaints", s.private(s.complaintCreate))
		m.HandleFunc("GET /complaints/{id}", s.private(s.complaintPage))
		m.HandleFunc("POST /complaints/{id}/{action}", s.private(s.complaintAct))

		// Suggestion-box batch entry and merging a duplicate.
		m.HandleFunc("GET /complaints/batch", s.private(s.complaintBatch))
		m.HandleFunc("POST /complaints/batch", s.private(s.complaintBatchSave))
		m.HandleFunc("POST /complaints/{id}/merge", s.private(s.complaintMerge))

		// The investigation: team, tasks, interviews, evidence.
		m.HandleFunc("POST /complaints/{id}/members", s.private(s.complaintMemberAdd))
		m.HandleFunc("POST /complaints/{id}/members/{mid}/remove", s.private(s.complaintMemberRemove))
		m.HandleFunc("POST /complaints/{id}/tasks", s.private(s.complaintTaskAdd))
		m.HandleFunc("POST /complaints/{id}/tasks/{tid}/done", s.private(s.complaintTaskDone))
		m.HandleFunc("POST /complaints/{id}/tasks/{tid}/cancel", s.private(s.complaintTaskCancel))
		m.HandleFunc("POST /complaints/{id}/interviews", s.private(s.complaintInterviewAdd))
		m.HandleFunc("POST /complaints/{id}/evidence", s.private(s.complaintEvidenceAdd))
		m.HandleFunc("GET /complaints/{id}/evidence/{eid}", s.private(s.complaintEvidenceGet))

		// The handling sheet, printable and as PDF.
		m.HandleFunc("GET /complaints/{id}/sheet", s.private(s.complaintSheet))
		m.HandleFunc("GET /complaints/{id}/sheet.pdf", s.private(s.complaintSheetPDF))

		// Complaint reports and their workbook.
		m.HandleFunc("GET /complaints/reports", s.private(s.complaintReports))
		m.HandleFunc("GET /complaints/reports.xlsx", s.private(s.complaintReportsXLSX))

		// Complaint SLA policies and categories.
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

	// Follow-up KPIs: the dashboard (随访指标看板), a department's monthly
	// ledger (台账, printable and as Excel), and the targets red marks follow.
	if s.KPI != nil {
		m.HandleFunc("GET /kpi", s.private(s.kpiDashboard))
		m.HandleFunc("GET /kpi/ledger", s.private(s.kpiLedger))
		m.HandleFunc("GET /kpi/ledger.xlsx", s.private(s.kpiLedgerXLSX))
		m.HandleFunc("GET /admin/kpi-targets", s.private(s.kpiTargetsPage))
		m.HandleFunc("POST /admin/kpi-targets", s.private(s.kpiTargetsSave))
	}

	// Abnormal reports (异常上报).
	m.HandleFunc("GET /abnormal", s.private(s.abnormalList))
	m.HandleFunc("GET /abnormal/new", s.private(s.abnormalNew))
	m.HandleFunc("POST /abnormal", s.private(s.abnormalCreate))
	m.HandleFunc("GET /abnormal/{id}", s.private(s.abnormalPage))
	m.HandleFunc("POST /abnormal/{id}/{action}", s.private(s.abnormalAct))

	// HL7 senders allowed over MLLP.
	m.HandleFunc("GET /admin/mllp-senders", s.private(s.mllpSenders))
	m.HandleFunc("POST /admin/mllp-senders", s.private(s.mllpSenderCreate))
	m.HandleFunc("POST /admin/mllp-senders/{id}/revoke", s.private(s.mllpSenderRevoke))

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
