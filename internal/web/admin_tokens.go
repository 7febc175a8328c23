package web

import (
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/auth"
	"suifang/internal/org"
)

type tokenRow struct {
	auth.Token
	Inst    string
	Creator string
}

type tokenData struct {
	List  []tokenRow
	Insts []*org.Institution
	// The create form's input, kept across an error.
	Name   string
	InstID int64
	// Plain is the new token, shown once right after it is made.
	Plain   string
	Created *auth.Token
	Curl    string
}

func (s *Server) tokenData(r *http.Request, q *req) (*tokenData, error) {
	ctx := r.Context()
	list, err := s.Auth.ListTokens(ctx, q.P)
	if err != nil {
		return nil, err
	}
	insts, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return nil, err
	}
	nm := s.names(ctx, q.P, insts)
	d := &tokenData{Insts: insts, InstID: q.P.InstitutionID}
	creators := map[int64]string{0: s.cat.T(q.Lang, "tokens.by_system")}
	for _, t := range list {
		name, ok := creators[t.CreatedBy]
		if !ok {
			name = "#" + strconv.FormatInt(t.CreatedBy, 10)
			if u, err := s.Auth.GetUser(ctx, q.P, t.CreatedBy); err == nil {
				name = u.DisplayName
			}
			creators[t.CreatedBy] = name
		}
		d.List = append(d.List, tokenRow{Token: t, Inst: nm.inst(t.InstitutionID), Creator: name})
	}
	return d, nil
}

func (s *Server) tokenList(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.tokenData(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "tokens", "tokens", d)
}

// tokenCreate makes a token and shows it on this response only: there is no
// redirect, because the plain value is never stored and cannot be shown again.
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	inst := formID(r, "institution_id")
	plain, tok, err := s.Auth.CreateToken(r.Context(), q.P, inst, name)
	if err != nil {
		err = recode(err, "bad_name", "bad_token_name")
		d, derr := s.tokenData(r, q)
		if derr != nil {
			return err
		}
		d.Name, d.InstID = name, inst
		return s.renderForm(w, r, q, "tokens", "tokens", d, err)
	}
	d, err := s.tokenData(r, q)
	if err != nil {
		return err
	}
	scheme := "http"
	if r.TLS != nil || s.SecureCookies {
		scheme = "https"
	}
	d.Plain, d.Created = plain, tok
	d.Curl = `curl -H "Authorization: Bearer ` + plain + `" ` + scheme + "://" + r.Host + "/api/v1/me"
	return s.render(w, r, q, http.StatusOK, "tokens", "tokens", d)
}

func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeToken(r.Context(), q.P, id); err != nil {
		return err
	}
	return s.redirect(w, r, "/admin/tokens", "token_revoked")
}
