package web

// complaintTeamRoutes are the investigation's forms on a complaint page:
// team members, tasks, interview notes and evidence files.
func (s *Server) complaintTeamRoutes() {
	m := s.mux
	m.HandleFunc("POST /complaints/{id}/members", s.private(s.complaintMemberAdd))
	m.HandleFunc("POST /complaints/{id}/members/{mid}/remove", s.private(s.complaintMemberRemove))
	m.HandleFunc("POST /complaints/{id}/tasks", s.private(s.complaintTaskAdd))
	m.HandleFunc("POST /complaints/{id}/tasks/{tid}/done", s.private(s.complaintTaskDone))
	m.HandleFunc("POST /complaints/{id}/tasks/{tid}/cancel", s.private(s.complaintTaskCancel))
	m.HandleFunc("POST /complaints/{id}/interviews", s.private(s.complaintInterviewAdd))
	m.HandleFunc("POST /complaints/{id}/evidence", s.private(s.complaintEvidenceAdd))
	m.HandleFunc("GET /complaints/{id}/evidence/{eid}", s.private(s.complaintEvidenceGet))
}
