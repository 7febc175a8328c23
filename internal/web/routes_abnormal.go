package web

// abnormalRoutes are the abnormal-report pages (异常上报).
func (s *Server) abnormalRoutes() {
	m := s.mux
	m.HandleFunc("GET /abnormal", s.private(s.abnormalList))
	m.HandleFunc("GET /abnormal/new", s.private(s.abnormalNew))
	m.HandleFunc("POST /abnormal", s.private(s.abnormalCreate))
	m.HandleFunc("GET /abnormal/{id}", s.private(s.abnormalPage))
	m.HandleFunc("POST /abnormal/{id}/{action}", s.private(s.abnormalAct))
}
