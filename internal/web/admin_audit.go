package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"suifang/internal/audit"
	"suifang/internal/org"
)

// auditPageSize is how many entries one page of the log shows.
const auditPageSize = 100

type auditRow struct {
	audit.Entry
	Inst      string
	ShortHash string
}

type auditData struct {
	List      []auditRow
	Insts     []*org.Institution
	F         audit.Filter
	Filtered  bool
	OlderURL  string // next page (older entries), "" on the last page
	NewestURL string // first page with the same filters, when paging
	Verify    *audit.Result
	Reason    string // Verify's reason in the reader's language
}

func auditFilter(r *http.Request) audit.Filter {
	qv := r.URL.Query()
	return audit.Filter{
		Action: strings.TrimSpace(qv.Get("action")), Actor: strings.TrimSpace(qv.Get("actor")),
		InstitutionID: formID(r, "inst"), BeforeID: formID(r, "before"), Limit: auditPageSize,
	}
}

func (s *Server) auditData(r *http.Request, q *req, f audit.Filter) (*auditData, error) {
	ctx := r.Context()
	list, err := s.Audit.List(ctx, q.P, f)
	if err != nil {
		return nil, err
	}
	insts, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return nil, err
	}
	nm := s.names(ctx, q.P, insts)
	d := &auditData{Insts: insts, F: f, Filtered: f.Action != "" || f.Actor != "" || f.InstitutionID != 0}
	for _, e := range list {
		row := auditRow{Entry: e, ShortHash: e.Hash}
		if len(row.ShortHash) > 12 {
			row.ShortHash = row.ShortHash[:12]
		}
		if e.InstitutionID != 0 {
			row.Inst = nm.inst(e.InstitutionID)
		}
		d.List = append(d.List, row)
	}
	v := url.Values{}
	if f.Action != "" {
		v.Set("action", f.Action)
	}
	if f.Actor != "" {
		v.Set("actor", f.Actor)
	}
	if f.InstitutionID != 0 {
		v.Set("inst", strconv.FormatInt(f.InstitutionID, 10))
	}
	if f.BeforeID != 0 {
		d.NewestURL = "/admin/audit"
		if len(v) > 0 {
			d.NewestURL += "?" + v.Encode()
		}
	}
	if len(list) == f.Limit {
		v.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		d.OlderURL = "/admin/audit?" + v.Encode()
	}
	return d, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.auditData(r, q, auditFilter(r))
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "audit", "audit", d)
}

// auditVerify recomputes the whole hash chain and shows the result above the
// newest entries. The check reads every institution's entries, so only
// administrators may run it.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := q.P.RequireAdmin(); err != nil {
		return err
	}
	res, err := s.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	d, err := s.auditData(r, q, audit.Filter{Limit: auditPageSize})
	if err != nil {
		return err
	}
	d.Verify = &res
	switch {
	case res.OK:
	case strings.HasPrefix(res.Reason, "prev_hash"):
		d.Reason = s.cat.T(q.Lang, "audit.reason_link")
	case strings.HasPrefix(res.Reason, "hash"):
		d.Reason = s.cat.T(q.Lang, "audit.reason_hash")
	default:
		d.Reason = res.Reason
	}
	return s.render(w, r, q, http.StatusOK, "audit", "audit", d)
}
