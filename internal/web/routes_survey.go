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
}
