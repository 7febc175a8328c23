package web

// complaintRoutes are the complaint pages (投诉).
func (s *Server) complaintRoutes() {
	m := s.mux
	m.HandleFunc("GET /complaints", s.private(s.complaintList))
	m.HandleFunc("GET /complaints/new", s.private(s.complaintNew))
	m.HandleFunc("POST /complaints", s.private(s.complaintCreate))
	m.HandleFunc("GET /complaints/{id}", s.private(s.complaintPage))
	m.HandleFunc("POST /complaints/{id}/{action}", s.private(s.complaintAct))
}
