package web

import (
	"net/http"
	"strings"

	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/mllpauth"
	"suifang/internal/org"
)

// mllpData is the HL7 senders page: the allow-list, the form to add an
// entry (its input kept across an error) and the latest refusals.
type mllpData struct {
	List     []mllpauth.Sender
	Insts    []*org.Institution // hospitals and clinics: a sender feeds one of them
	Refusals []audit.Entry
	Form     mllpauth.AllowInput
}

func (s *Server) mllpData(r *http.Request, q *req) (*mllpData, error) {
	if s.Senders == nil {
		return nil, errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	ctx := r.Context()
	list, err := s.Senders.List(ctx, q.P)
	if err != nil {
		return nil, err
	}
	insts, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return nil, err
	}
	d := &mllpData{List: list}
	for _, i := range insts {
		if i.Kind != org.KindGroup && i.Active {
			d.Insts = append(d.Insts, i)
		}
	}
	if d.Refusals, err = s.Audit.List(ctx, q.P, audit.Filter{Action: "mllp.refused", Limit: 20}); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) mllpSenders(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.mllpData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "mllp_senders", "mllp_senders", d)
}

func (s *Server) mllpSenderCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.Senders == nil {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	in := mllpauth.AllowInput{Institution: strings.TrimSpace(r.PostFormValue("institution")), Source: r.PostFormValue("cidr"),
		App: r.PostFormValue("app"), Facility: r.PostFormValue("facility"), Note: r.PostFormValue("note")}
	if _, err := s.Senders.Allow(r.Context(), q.P, in); err != nil {
		if errs.Is(err, errs.NotFound) {
			err = errs.Field("institution", "institution_not_found", err.Error())
		}
		d, derr := s.mllpData(r, q)
		if derr != nil {
			return err
		}
		d.Form = in
		return s.renderForm(w, r, q, "mllp_senders", "mllp_senders", d, err)
	}
	return s.redirect(w, r, "/admin/mllp-senders", "mllp_sender_added")
}

func (s *Server) mllpSenderRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.Senders == nil {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Senders.Revoke(r.Context(), q.P, id); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/mllp-senders", "mllp_sender_revoked")
}
