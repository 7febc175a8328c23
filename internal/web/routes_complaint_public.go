package web

import "time"

// complaintPublicRoutes mounts the public complaint page and the tracking
// lookup (no login, rate-limited, the patient layout) and the staff's
// printable handling sheet.
func (s *Server) complaintPublicRoutes() {
	if s.Complaints == nil {
		return
	}
	m := s.mux
	pu, err := newPatientUI(s)
	if err != nil {
		panic(err) // embedded templates: a build mistake every test run catches
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	u := &complaintPublicUI{patientUI: pu, posts: newLimiter(now, cpPublicBurst, cpPublicEvery)}
	m.HandleFunc("GET /c/track", u.wrap(u.trackForm))
	m.HandleFunc("POST /c/track", u.wrap(u.track))
	m.HandleFunc("GET /c/{code}", u.wrap(u.form))
	m.HandleFunc("POST /c/{code}", u.wrap(u.file))
	m.HandleFunc("POST /c/{code}/verify", u.wrap(u.verify))
	m.HandleFunc("POST /c/{code}/resend", u.wrap(u.resend))
	m.HandleFunc("GET /complaints/{id}/sheet", s.private(s.complaintSheet))
}
