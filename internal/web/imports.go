package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
)

// maxUpload bounds one discharge file: a year of a large hospital's
// discharges as CSV fits with room to spare.
const maxUpload = 200 << 20

// reportRejects is how many rejects the report page lists; the download
// has them all.
const reportRejects = 100

type batchRow struct {
	importer.Batch
	Inst string
	User string
}

type importData struct {
	Insts    []*org.Institution
	Inst     int64
	SkipDays string
	Columns  []intake.ColumnDoc
	Batches  []batchRow
	MaxMB    int
}

func mayImport(p *access.Principal) error {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Agent) {
		return errs.New(errs.Forbidden, "import_forbidden", "you may not import discharges")
	}
	return nil
}

func (s *Server) importData(r *http.Request, q *req, inst int64, skip string) (*importData, error) {
	ctx := r.Context()
	list, err := s.Org.Institutions(ctx, q.P)
	if err != nil {
		return nil, err
	}
	d := &importData{Inst: inst, SkipDays: skip, Columns: intake.Columns(), MaxMB: maxUpload >> 20}
	for _, i := range list {
		if i.Kind != org.KindGroup && q.P.SeesInstitution(i.ID) {
			d.Insts = append(d.Insts, i)
		}
	}
	batches, err := s.Importer.Batches(ctx, q.P, 20)
	if err != nil {
		return nil, err
	}
	nm := s.names(ctx, q.P, list)
	names := s.staff(ctx, q.P)
	for _, b := range batches {
		row := batchRow{Batch: b, User: names.name(b.UserID), Inst: "—"}
		if b.InstitutionID != 0 {
			row.Inst = nm.inst(b.InstitutionID)
		}
		d.Batches = append(d.Batches, row)
	}
	return d, nil
}

func (s *Server) importsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := mayImport(q.P); err != nil {
		return err
	}
	d, err := s.importData(r, q, 0, "")
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "imports", "imports", d)
}

func (s *Server) importTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="discharges-template.csv"; filename*=UTF-8''%E5%87%BA%E9%99%A2%E6%82%A3%E8%80%85%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.csv`)
	_, err := w.Write(intake.CSVTemplate())
	return err
}

// importTemplateXLSX is the template as a workbook whose identifier
// columns are text, so a spreadsheet program keeps their digits.
func (s *Server) importTemplateXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	data, err := intake.XLSXTemplate()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="discharges-template.xlsx"; filename*=UTF-8''%E5%87%BA%E9%99%A2%E6%82%A3%E8%80%85%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
	_, err = w.Write(data)
	return err
}

// importRun streams the upload into the importer: the form's fields come
// before the file (the form puts the file last), so a large file is read
// once, straight from the request, and never spooled whole.
func (s *Server) importRun(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := mayImport(q.P); err != nil {
		return err
	}
	var instID int64
	skip := ""
	formErr := func(err error) error {
		d, derr := s.importData(r, q, instID, skip)
		if derr != nil {
			return err
		}
		return s.renderForm(w, r, q, "imports", "imports", d, err)
	}
	if r.ContentLength > maxUpload {
		return formErr(errs.Field("file", "upload_too_large", "the file is larger than 200 MB"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return formErr(errs.Field("file", "no_import_file", "choose the discharge file to import"))
	}
	var rep *importer.Report
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return formErr(uploadErr(err))
		}
		switch part.FormName() {
		case "institution":
			instID, _ = strconv.ParseInt(strings.TrimSpace(readSmall(part)), 10, 64)
		case "skip_days":
			skip = strings.TrimSpace(readSmall(part))
		case "file":
			if part.FileName() == "" {
				continue
			}
			opt, oerr := s.importOptions(r, q, instID, skip, part)
			if oerr != nil {
				return formErr(oerr)
			}
			rep, err = s.Importer.Import(r.Context(), q.P, part, opt)
			if err != nil && rep == nil {
				return formErr(err)
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) || strings.Contains(err.Error(), "request body too large") {
					err = errs.Field("file", "upload_too_large", "the file is larger than 200 MB")
				}
				if e, ok := errs.As(err); ok && e.Kind == errs.Invalid && e.Fields == nil {
					e = &errs.Error{Kind: e.Kind, Code: e.Code, Msg: e.Msg, Fields: map[string]string{"file": e.Code}}
					err = e
				}
				return formErr(err)
			}
		}
		part.Close()
		if rep != nil {
			break
		}
	}
	if rep == nil {
		return formErr(errs.Field("file", "no_import_file", "choose the discharge file to import"))
	}
	to := "/imports/" + strconv.FormatInt(rep.BatchID, 10)
	if r.Header.Get("X-Suifang-Upload") == "1" {
		// The progress script sends the file itself; it navigates to the
		// report, so the one-time notice is kept for that page load.
		s.setFlash(w, "import_done")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(w, to)
		return err
	}
	return s.redirect(w, r, to, "import_done")
}

// importOptions checks the form's choices before any row is read.
func (s *Server) importOptions(r *http.Request, q *req, instID int64, skip string, part *multipart.Part) (importer.Options, error) {
	opt := importer.Options{Filename: part.FileName()}
	if instID != 0 {
		inst, err := s.Org.Institution(r.Context(), q.P, instID)
		if err != nil || !q.P.SeesInstitution(inst.ID) {
			return opt, errs.Field("institution", "out_of_scope", "this institution is outside your data scope")
		}
		opt.Institution = inst.Code
	}
	if skip != "" {
		n, err := strconv.Atoi(skip)
		if err != nil || n < 0 || n > 3650 {
			return opt, errs.Field("skip_days", "bad_skip_days", "days must be a whole number from 0 to 3650")
		}
		opt.SkipOlderThanDays = n
	}
	return opt, nil
}

func readSmall(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 256))
	return string(b)
}

func uploadErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.Field("file", "upload_too_large", "the file is larger than 200 MB")
	}
	return errs.Field("file", "no_import_file", "the upload could not be read; choose the file again")
}

type reportData struct {
	B        *importer.Batch
	Inst     string
	User     string
	Duration string
	Rejects  []intake.Reject
	More     int
	// Warnings: values dropped from stored rows (masked), apart from rejects.
	Warnings []intake.Warning
	MoreWarn int
}

func (s *Server) importReport(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.Importer.Batch(ctx, q.P, id)
	if err != nil {
		return err
	}
	rejects, err := s.Importer.Rejects(ctx, q.P, id)
	if err != nil {
		return err
	}
	d := reportData{B: b, Inst: "—", User: s.staff(ctx, q.P).name(b.UserID)}
	if b.InstitutionID != 0 {
		if i, err := s.Org.Lookup(ctx, b.InstitutionID); err == nil {
			d.Inst = i.Name
		}
	}
	if !b.FinishedAt.IsZero() {
		d.Duration = b.FinishedAt.Sub(b.StartedAt).Round(100 * time.Millisecond).String()
	}
	if len(rejects) > reportRejects {
		d.More = len(rejects) - reportRejects
		rejects = rejects[:reportRejects]
	}
	d.Rejects = rejects
	warnings, err := s.Importer.Warnings(ctx, q.P, id)
	if err != nil {
		return err
	}
	if len(warnings) > reportRejects {
		d.MoreWarn = len(warnings) - reportRejects
		warnings = warnings[:reportRejects]
	}
	d.Warnings = warnings
	return s.render(w, r, q, http.StatusOK, "import_report", "imports", d)
}

// importRejects downloads every reject of an import as a UTF-8 CSV with a
// BOM, so Excel opens it, corrected rows can be re-imported from it.
func (s *Server) importRejects(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// The full rows carry identifiers and phone numbers: the service audits
	// the download.
	list, err := s.Importer.RevealRejects(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	_ = cw.Write([]string{"行号", "来源", "字段", "原因", "原始内容"})
	for _, rj := range list {
		_ = cw.Write([]string{strconv.Itoa(rj.Line), cell(rj.Source), cell(rj.Field), cell(rj.Reason), cell(rj.Raw)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-rejects.csv"`)
	_, err = w.Write(buf.Bytes())
	return err
}

// cell keeps a spreadsheet from running a cell as a formula (CSV
// injection): text starting with = + - @, a tab or CR (or the full-width
// ＝＋－＠ a Chinese input method types, which WPS may read as ASCII) gets
// a leading apostrophe.
func cell(v string) string {
	if r, _ := utf8.DecodeRuneInString(v); v != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return "'" + v
	}
	return v
}
