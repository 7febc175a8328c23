package web

// complaintReportRoutes are the complaint reports (投诉统计): the page and
// its workbook. Both patterns are more specific than /complaints/{id}.
func (s *Server) complaintReportRoutes() {
	m := s.mux
	m.HandleFunc("GET /complaints/reports", s.private(s.complaintReports))
	m.HandleFunc("GET /complaints/reports.xlsx", s.private(s.complaintReportsXLSX))
}
