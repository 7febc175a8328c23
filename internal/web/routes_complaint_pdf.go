package web

// complaintPDFRoutes mounts the handling sheet as a PDF file.
func (s *Server) complaintPDFRoutes() {
	if s.Complaints == nil {
		return
	}
	s.mux.HandleFunc("GET /complaints/{id}/sheet.pdf", s.private(s.complaintSheetPDF))
}
