package web

// complaintIntakeRoutes are the intake pages beside the complaint room's
// own: the suggestion-box batch and merging a duplicate. The duplicate
// warning and the record's prefill live in the intake form's handlers.
func (s *Server) complaintIntakeRoutes() {
	if s.Complaints == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /complaints/batch", s.private(s.complaintBatch))
	m.HandleFunc("POST /complaints/batch", s.private(s.complaintBatchSave))
	m.HandleFunc("POST /complaints/{id}/merge", s.private(s.complaintMerge))
}
