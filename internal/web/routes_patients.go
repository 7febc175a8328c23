package web

// patientRoutes are the patient archive pages and the record browser.
func (s *Server) patientRoutes() {
	m := s.mux
	m.HandleFunc("GET /patients", s.private(s.patientSearch))
	m.HandleFunc("GET /patients/{id}", s.private(s.patientPage))
	m.HandleFunc("POST /patients/{id}/reveal", s.private(s.patientReveal))
	m.HandleFunc("POST /patients/{id}/dnc", s.private(s.patientSetDNC))
	m.HandleFunc("POST /patients/{id}/dnc/clear", s.private(s.patientClearDNC))
	m.HandleFunc("POST /patients/{id}/deceased", s.private(s.patientDeceased))
	m.HandleFunc("GET /followup/records", s.private(s.recordsPage))
	m.HandleFunc("GET /followup/records/{id}", s.private(s.recordPage))
	m.HandleFunc("POST /followup/records/{id}/amend", s.private(s.recordAmend))
}
