package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"suifang/internal/errs"
	"suifang/internal/kpi"
)

// The ledger's columns, in the paper register's order.
var ledgerColumns = []string{"discharge", "name", "sex", "age", "diagnosis", "phone", "state", "opinion", "agent", "at", "supervisor", "remarks"}

type ledgerData struct {
	L        *kpi.Ledger
	Headers  []string
	Rows     [][]string
	Title    string
	Month    string
	ExcelURL string
}

// ledgerInput reads inst (default: the user's institution), dept and
// month (default: last month in the institution's zone).
func (s *Server) ledgerInput(r *http.Request, q *req) (int64, int64, kpi.Month, error) {
	v := r.URL.Query()
	inst := q.P.InstitutionID
	if x := v.Get("inst"); x != "" {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, kpi.Month{}, errs.Field("inst", "kpi_bad_institution", "the institution is a number")
		}
		inst = n
	}
	dept, err := strconv.ParseInt(v.Get("dept"), 10, 64)
	if err != nil || dept <= 0 {
		return 0, 0, kpi.Month{}, errs.Field("dept", "kpi_bad_department", "choose a department")
	}
	var m kpi.Month
	if x := v.Get("month"); x != "" {
		if m, err = kpi.ParseMonth(x); err != nil {
			return 0, 0, kpi.Month{}, err
		}
	} else {
		_, today, err := s.instToday(r.Context(), inst)
		if err != nil {
			return 0, 0, kpi.Month{}, err
		}
		cur := kpi.MonthOf(today)
		m = kpi.Month{Year: cur.Year, Month: cur.Month - 1}
		if cur.Month == 1 {
			m = kpi.Month{Year: cur.Year - 1, Month: 12}
		}
	}
	return inst, dept, m, nil
}

// ledgerLabels are the ledger's words in the reader's language.
func (s *Server) ledgerLabels(lang string, l *kpi.Ledger) kpi.LedgerLabels {
	out := kpi.LedgerLabels{
		Title: s.cat.T(lang, "kl.title_row", l.Institution, l.Department, s.cat.T(lang, "kl.month", l.Month.Year, int(l.Month.Month))),
		Label: func(kind, code string) string {
			if code == "" {
				return ""
			}
			if k := "kl." + kind + "." + code; s.cat.Has(lang, k) {
				return s.cat.T(lang, k)
			}
			return code
		},
	}
	for _, c := range ledgerColumns {
		out.Headers = append(out.Headers, s.cat.T(lang, "kl.col."+c))
	}
	return out
}

func ledgerQuery(inst, dept int64, m kpi.Month) string {
	return url.Values{"inst": {strconv.FormatInt(inst, 10)}, "dept": {strconv.FormatInt(dept, 10)}, "month": {m.String()}}.Encode()
}

// kpiLedger is the print view of a department's month (A4 landscape).
func (s *Server) kpiLedger(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, dept, m, err := s.ledgerInput(r, q)
	if err != nil {
		return err
	}
	l, err := s.KPI.Ledger(r.Context(), q.P, inst, dept, m)
	if err != nil {
		return err
	}
	lab := s.ledgerLabels(q.Lang, l)
	d := &ledgerData{L: l, Headers: lab.Headers, Title: lab.Title, Month: m.String(),
		ExcelURL: "/kpi/ledger.xlsx?" + ledgerQuery(inst, dept, m)}
	for i := range l.Rows {
		d.Rows = append(d.Rows, l.Rows[i].Cells(lab, l.Loc))
	}
	return s.render(w, r, q, http.StatusOK, "kpi_ledger", "kpi", d)
}

// kpiLedgerXLSX downloads the ledger; the service audits the export.
func (s *Server) kpiLedgerXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, dept, m, err := s.ledgerInput(r, q)
	if err != nil {
		return err
	}
	// Written to a buffer first: a refusal or failure must still render
	// as an error page, not as half a file.
	var buf bytes.Buffer
	l, err := s.KPI.ExportLedger(r.Context(), q.P, inst, dept, m, func(l *kpi.Ledger) kpi.LedgerLabels { return s.ledgerLabels(q.Lang, l) }, &buf)
	if err != nil {
		return err
	}
	ascii := fmt.Sprintf("ledger-%d-%s.xlsx", l.DepartmentID, l.Month)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii,
		url.PathEscape(l.Department+"-"+l.Month.String()+"-"+s.cat.T(q.Lang, "kl.file")+".xlsx")))
	_, err = w.Write(buf.Bytes())
	return err
}
