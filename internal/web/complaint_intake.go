package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// Complaint intake pages: the duplicate warning on the intake form, the
// complaint page's duplicates and merge, the suggestion-box batch and the
// complaint raised from a follow-up record.

// complaintIntakeForm is the intake form's part of this room: possible
// duplicates found before saving and the follow-up record it comes from.
type complaintIntakeForm struct {
	Duplicates []dupRow
	RecordID   int64
	Record     string // the record's number
}

// dupRow is a possible duplicate as the pages show it.
type dupRow struct {
	complaint.Duplicate
	Percent int    // similarity
	Excerpt string // the start of its text
}

func dupRows(ds []complaint.Duplicate) []dupRow {
	out := make([]dupRow, 0, len(ds))
	for _, d := range ds {
		out = append(out, dupRow{Duplicate: d, Percent: int(d.Score*100 + 0.5), Excerpt: textStart(d.Content, 120)})
	}
	return out
}

// textStart cuts s to n characters with an ellipsis.
func textStart(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// canComplain: the roles the intake form is offered to (the service
// checks again).
func canComplain(p *access.Principal) bool {
	return p.HasAny(access.SysAdmin, access.Quality, access.Agent, access.ThirdParty, access.DeptHead, access.Nurse, access.Doctor,
		access.Leadership)
}

// prefillFromRecord fills the intake form from follow-up record id: a
// complaint heard on a follow-up call is the patient's, about the stay's
// department, in the words the record kept.
func (s *Server) prefillFromRecord(r *http.Request, q *req, d *complaintNewData, id int64) error {
	ctx := r.Context()
	v, err := s.Followup.Record(ctx, q.P, id)
	if err != nil {
		return err
	}
	if v.InstitutionID != d.Inst.ID {
		return errs.New(errs.NotFound, "record_not_found", "no such follow-up record")
	}
	d.F.Channel, d.F.ComplainantName, d.F.ComplainantRole = "followup_call", v.PatientName, "patient"
	d.F.Content, d.F.DepartmentID, d.F.SourceRecordID = v.Opinions, v.DepartmentID, v.ID
	if enc, _, err := s.Patients.Stay(ctx, q.P, v.EncounterID); err == nil {
		d.F.VisitNumber = enc.VisitNumber
	}
	d.Intake = &complaintIntakeForm{RecordID: v.ID, Record: v.Number}
	return nil
}

// checkDuplicatesFirst re-displays the intake form with the complaints in
// may repeat, unless the user has seen them and ticked "register anyway".
// It reports whether it answered.
func (s *Server) checkDuplicatesFirst(w http.ResponseWriter, r *http.Request, q *req, d *complaintNewData, in complaint.Input) (bool, error) {
	if in.SourceRecordID != 0 {
		if d.Intake == nil {
			d.Intake = &complaintIntakeForm{}
		}
		d.Intake.RecordID = in.SourceRecordID
		if v, err := s.Followup.Record(r.Context(), q.P, in.SourceRecordID); err == nil {
			d.Intake.Record = v.Number
		}
	}
	if r.PostForm.Get("confirm_duplicate") != "" {
		return false, nil
	}
	dups, err := s.Complaints.CheckDuplicates(r.Context(), q.P, in)
	if err != nil || len(dups) == 0 {
		// Mistakes in the form are Register's to report, as before.
		return false, nil
	}
	if d.Intake == nil {
		d.Intake = &complaintIntakeForm{}
	}
	d.Intake.Duplicates = dupRows(dups)
	return true, s.render(w, r, q, http.StatusOK, "complaint_form", "complaints", d)
}

// complaintIntakePage is the complaint page's part of this room.
type complaintIntakePage struct {
	MergedInto     *complaint.Complaint // this one is a duplicate of it
	MergedFrom     []*complaint.Complaint
	Duplicates     []dupRow
	CanMerge       bool           // this complaint may be merged into another
	CanMergeInto   map[int64]bool // that candidate may be merged into this one
	RecordID       int64
	Record         string
	MergeNote      string
	MergeCandidate int64
}

func (s *Server) complaintIntakeData(r *http.Request, q *req, v *complaint.View) (*complaintIntakePage, error) {
	ctx := r.Context()
	d := &complaintIntakePage{CanMergeInto: map[int64]bool{}, RecordID: v.SourceRecordID}
	var err error
	if v.MergedInto != 0 {
		if d.MergedInto, err = s.Complaints.Get(ctx, q.P, v.MergedInto); err != nil && !errs.Is(err, errs.Forbidden) {
			return nil, err
		}
	}
	if d.MergedFrom, err = s.Complaints.MergedFrom(ctx, q.P, v.ID); err != nil {
		return nil, err
	}
	dups, err := s.Complaints.PossibleDuplicates(ctx, q.P, v.ID)
	if err != nil {
		return nil, err
	}
	d.Duplicates = dupRows(dups)
	d.CanMerge = complaint.CanMerge(q.P, v.Complaint)
	for _, x := range d.Duplicates {
		if c, err := s.Complaints.Get(ctx, q.P, x.ID); err == nil && complaint.CanMerge(q.P, c) {
			d.CanMergeInto[x.ID] = true
		}
	}
	if v.SourceRecordID != 0 {
		if rec, err := s.Followup.Record(ctx, q.P, v.SourceRecordID); err == nil {
			d.Record = rec.Number
		}
	}
	return d, nil
}

// complaintMerge merges complaint {id} into primary_id.
func (s *Server) complaintMerge(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	primary, note := formID(r, "primary_id"), r.PostForm.Get("note")
	c, err := s.Complaints.Merge(r.Context(), q.P, id, primary, note)
	if err != nil {
		if _, ok := errs.As(err); !ok {
			return err
		}
		// Back to the page the form was on, the problem shown.
		back := id
		if r.PostForm.Get("from") == strconv.FormatInt(primary, 10) {
			back = primary
		}
		d, derr := s.complaintData(r, q, back)
		if derr != nil {
			return err
		}
		if d.Intake != nil {
			d.Intake.MergeNote, d.Intake.MergeCandidate = note, primary
		}
		return s.renderForm(w, r, q, "complaint", "complaints", d, err)
	}
	to := primary
	if r.PostForm.Get("from") == strconv.FormatInt(id, 10) {
		to = id
	}
	return s.redirectFlash(w, r, "/complaints/"+strconv.FormatInt(to, 10), s.cat.T(q.Lang, "cpi.flash.merged", c.Number))
}

// slipRows is how many blank rows the batch form starts with; "more rows"
// adds as many.
const slipRows = 5

type complaintBatchData struct {
	Inst       *org.Institution
	Insts      []*org.Institution
	Depts      []*org.Department
	Rows       []complaint.Slip
	Paste      string
	PasteError string // the pasted lines could not be read
	BadRow     int    // 1-based; 0 none
	Field      string
	Today      string
}

func (s *Server) complaintBatchData(r *http.Request, q *req) (*complaintBatchData, error) {
	inst, insts, err := s.hospitalInScope(r, q)
	if err != nil {
		return nil, err
	}
	depts, err := s.Org.Departments(r.Context(), q.P, inst.ID)
	if err != nil {
		return nil, err
	}
	_, today, err := s.instToday(r.Context(), inst.ID)
	if err != nil {
		return nil, err
	}
	return &complaintBatchData{Inst: inst, Insts: insts, Depts: depts, Today: today.String()}, nil
}

func (s *Server) complaintBatch(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := s.complaintBatchData(r, q)
	if err != nil {
		return err
	}
	d.Rows = make([]complaint.Slip, slipRows)
	for i := range d.Rows {
		d.Rows[i].FoundOn = d.Today
	}
	return s.render(w, r, q, http.StatusOK, "complaint_batch", "complaints", d)
}

// maxBatchForm bounds a posted batch: 100 slips of at most 4000 characters.
const maxBatchForm = 2 << 20

// complaintBatchSave registers the typed rows and the pasted lines in one
// go; any problem brings every row back, the pasted ones as rows, with the
// faulty one marked and nothing saved.
func (s *Server) complaintBatchSave(w http.ResponseWriter, r *http.Request, q *req) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBatchForm)
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	d, err := s.complaintBatchData(r, q)
	if err != nil {
		return err
	}
	f := r.PostForm
	n := min(len(f["text"]), complaint.MaxSlips+slipRows)
	cell := func(name string, i int) string {
		if vs := f[name]; i < len(vs) {
			return vs[i]
		}
		return ""
	}
	for i := range n {
		d.Rows = append(d.Rows, complaint.Slip{FoundOn: cell("found_on", i), Box: cell("box", i), Text: cell("text", i),
			Name: cell("name", i), Contact: cell("contact", i), Dept: cell("dept", i)})
	}
	// Keep typed rows, drop the untouched blank ones (a date alone is the
	// form's default, not input).
	kept := d.Rows[:0]
	for _, sl := range d.Rows {
		if strings.TrimSpace(sl.Box+sl.Text+sl.Name+sl.Contact+sl.Dept) != "" {
			kept = append(kept, sl)
		}
	}
	d.Rows = kept
	if paste := f.Get("paste"); strings.TrimSpace(paste) != "" {
		pasted, err := complaint.ParseSlipLines(paste)
		if err != nil {
			d.Paste = paste
			d.pad()
			var le *complaint.SlipLineError
			if !errors.As(err, &le) {
				return err
			}
			d.PasteError = s.cat.T(q.Lang, "cpi.paste_err."+le.Reason, le.Line, complaint.MaxSlips)
			return s.render(w, r, q, http.StatusUnprocessableEntity, "complaint_batch", "complaints", d)
		}
		d.Rows = append(d.Rows, pasted...)
	}
	if f.Get("more") != "" {
		for range slipRows {
			d.Rows = append(d.Rows, complaint.Slip{FoundOn: d.Today})
		}
		return s.render(w, r, q, http.StatusOK, "complaint_batch", "complaints", d)
	}
	cs, err := s.Complaints.RegisterSlips(r.Context(), q.P, d.Inst.ID, d.Rows)
	if err != nil {
		var se *complaint.SlipError
		if !errors.As(err, &se) {
			return err
		}
		d.BadRow = se.Row + 1
		if e, ok := errs.As(err); ok {
			for k := range e.Fields {
				d.Field = k
			}
		}
		d.pad()
		return s.renderForm(w, r, q, "complaint_batch", "complaints", d, err)
	}
	return s.redirectFlash(w, r, "/complaints?tab=mine", s.cat.T(q.Lang, "cpi.flash.batch", len(cs)))
}

// pad leaves at least one blank row to type into, dated today.
func (d *complaintBatchData) pad() {
	if len(d.Rows) == 0 || !d.Rows[len(d.Rows)-1].Blank() {
		d.Rows = append(d.Rows, complaint.Slip{FoundOn: d.Today})
	}
}
