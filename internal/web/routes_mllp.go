package web

// mllpRoutes are the administrator's page of HL7 senders allowed over MLLP.
func (s *Server) mllpRoutes() {
	m := s.mux
	m.HandleFunc("GET /admin/mllp-senders", s.private(s.mllpSenders))
	m.HandleFunc("POST /admin/mllp-senders", s.private(s.mllpSenderCreate))
	m.HandleFunc("POST /admin/mllp-senders/{id}/revoke", s.private(s.mllpSenderRevoke))
}
