package web

// surveyRoutes mounts the survey room: the patient's page at the short
// /s/{token} (public, rate-limited, own layout) and the staff pages for
// questionnaires, invitations and results.
func (s *Server) surveyRoutes() {
	if s.Survey == nil {
		return
	}
	m := s.mux
	u, err := newPatientUI(s)
	if err != nil {
		// The templates are embedded: a parse error is a build mistake
		// that every test run catches.
		panic(err)
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
