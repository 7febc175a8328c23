package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"suifang/internal/complaint"
	"suifang/internal/errs"
)

// The investigation card of a complaint page (team, tasks, interview
// notes, evidence), its forms, the evidence download and the "my
// complaint tasks" section of the list.

// teamForm is what the investigation forms sent, kept when one is refused.
type teamForm struct {
	Open                          string // which form to show open again: member, task, interview, evidence, done
	MemberUser                    int64
	Discipline                    string
	TaskMember                    int64
	TaskWhat, TaskDue             string
	IvName, IvRole, IvAt, IvPlace string
	IvSummary                     string
	EvidenceNote                  string
	DoneTask                      int64
	Result                        string
}

type staffGroup struct {
	Name   string
	People []complaint.StaffChoice
}

type teamTaskRow struct {
	*complaint.Task
	Mine    bool
	Overdue bool
}

type evidenceRow struct {
	*complaint.Evidence
	Size string
}

type complaintTeamData struct {
	Members     []*complaint.Member // on the team now
	Former      []*complaint.Member // removed
	Tasks       []teamTaskRow
	Interviews  []*complaint.Interview
	Files       []evidenceRow
	OpenTasks   int
	Manage      bool // the owner or quality: members and tasks
	Work        bool // also members: interview notes and evidence
	Groups      []staffGroup
	Disciplines []string
	DefaultDue  string
	Today       string
	F           teamForm
}

// sizeText shows a file size as people read it.
func sizeText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// complaintTeam builds the investigation card for complaint v as q sees it.
func (s *Server) complaintTeam(ctx context.Context, q *req, v *complaint.View) (*complaintTeamData, error) {
	team, err := s.Complaints.Team(ctx, q.P, v.ID)
	if err != nil {
		return nil, err
	}
	pol, today, err := s.instToday(ctx, v.InstitutionID)
	if err != nil {
		return nil, err
	}
	d := &complaintTeamData{OpenTasks: team.OpenTasks, Interviews: team.Interviews, Disciplines: complaint.Disciplines(),
		Today: today.String(), DefaultDue: pol.Cal.AddWorkingDays(today, complaint.DefaultTaskDays).String()}
	d.Manage, d.Work = complaint.TeamRights(q.P, v.Complaint)
	for _, m := range team.Members {
		if m.Active() {
			d.Members = append(d.Members, m)
		} else {
			d.Former = append(d.Former, m)
		}
	}
	for _, t := range team.Tasks {
		d.Tasks = append(d.Tasks, teamTaskRow{Task: t, Mine: t.AssigneeID == q.P.UserID && t.Status == complaint.TaskOpen,
			Overdue: t.Status == complaint.TaskOpen && t.Due < today.String()})
	}
	for _, f := range team.Evidence {
		d.Files = append(d.Files, evidenceRow{Evidence: f, Size: sizeText(f.Size)})
	}
	if d.Manage {
		people, err := s.Complaints.StaffChoices(ctx, q.P, v.ID)
		if err != nil {
			return nil, err
		}
		for _, x := range people {
			name := x.DeptName
			if x.DeptID == 0 {
				name = s.cat.T(q.Lang, "ct.whole_institution")
			}
			if n := len(d.Groups); n == 0 || d.Groups[n-1].Name != name {
				d.Groups = append(d.Groups, staffGroup{Name: name})
			}
			g := &d.Groups[len(d.Groups)-1]
			g.People = append(g.People, x)
		}
	}
	return d, nil
}

// teamFormError re-renders the complaint page with the refused form's
// input kept and the field marked.
func (s *Server) teamFormError(w http.ResponseWriter, r *http.Request, q *req, id int64, f teamForm, ferr error) error {
	if _, ok := errs.As(ferr); !ok {
		return ferr
	}
	d, err := s.complaintData(r, q, id)
	if err != nil {
		return ferr
	}
	d.Team.F = f
	return s.renderForm(w, r, q, "complaint", "complaints", d, ferr)
}

func (s *Server) teamDone(w http.ResponseWriter, r *http.Request, q *req, id int64, key string, args ...any) error {
	return s.redirectFlash(w, r, "/complaints/"+strconv.FormatInt(id, 10)+"#investigation", s.cat.T(q.Lang, key, args...))
}

func (s *Server) complaintMemberAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := teamForm{Open: "member", MemberUser: formID(r, "member_user"), Discipline: r.PostFormValue("discipline")}
	m, err := s.Complaints.AddMember(r.Context(), q.P, id, f.MemberUser, f.Discipline)
	if err != nil {
		return s.teamFormError(w, r, q, id, f, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.member_add", m.Name)
}

func (s *Server) complaintMemberRemove(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	mid, err := pathID(r, "mid")
	if err != nil {
		return err
	}
	if err := s.Complaints.RemoveMember(r.Context(), q.P, id, mid); err != nil {
		return s.teamFormError(w, r, q, id, teamForm{}, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.member_remove")
}

func (s *Server) complaintTaskAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := teamForm{Open: "task", TaskMember: formID(r, "task_member"), TaskWhat: r.PostFormValue("task_what"), TaskDue: r.PostFormValue("task_due")}
	t, err := s.Complaints.AddTask(r.Context(), q.P, id, complaint.TaskInput{MemberID: f.TaskMember, What: f.TaskWhat, Due: f.TaskDue})
	if err != nil {
		return s.teamFormError(w, r, q, id, f, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.task_add", t.Assignee, t.Due)
}

func (s *Server) complaintTaskDone(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tid, err := pathID(r, "tid")
	if err != nil {
		return err
	}
	f := teamForm{Open: "done", DoneTask: tid, Result: r.PostFormValue("result")}
	if err := s.Complaints.DoneTask(r.Context(), q.P, id, tid, f.Result); err != nil {
		return s.teamFormError(w, r, q, id, f, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.task_done")
}

func (s *Server) complaintTaskCancel(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tid, err := pathID(r, "tid")
	if err != nil {
		return err
	}
	if err := s.Complaints.CancelTask(r.Context(), q.P, id, tid, r.PostFormValue("reason")); err != nil {
		return s.teamFormError(w, r, q, id, teamForm{}, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.task_cancel")
}

func (s *Server) complaintInterviewAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := teamForm{Open: "interview", IvName: r.PostFormValue("iv_name"), IvRole: r.PostFormValue("iv_role"), IvAt: r.PostFormValue("iv_at"),
		IvPlace: r.PostFormValue("iv_place"), IvSummary: r.PostFormValue("iv_summary")}
	if _, err := s.Complaints.AddInterview(r.Context(), q.P, id, complaint.InterviewInput{Interviewee: f.IvName, Role: f.IvRole,
		HeldAt: f.IvAt, Place: f.IvPlace, Summary: f.IvSummary}); err != nil {
		return s.teamFormError(w, r, q, id, f, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.interview")
}

// upload is an evidence form as read: the file and the short fields.
type upload struct {
	Filename string
	Data     []byte
	Fields   map[string]string
}

// maxUploadField bounds each text field of an upload form.
const maxUploadField = 8 << 10

// readUpload reads a multipart form with one file part "file" of at most
// max bytes and small text fields, streaming, so an oversized body is
// refused without being held in memory. Only the first value of each
// name counts.
func readUpload(body io.Reader, contentType string, max int64) (*upload, error) {
	tooBig := errs.Field("file", "attachment_too_large", "a file may have at most 10 MB")
	noFile := errs.Field("file", "empty_file", "choose a file to upload")
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, noFile
	}
	mr := multipart.NewReader(body, params["boundary"])
	up := &upload{Fields: map[string]string{}}
	seenFile := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooBig
			}
			return nil, errs.Field("file", "empty_file", "the upload broke off; try again")
		}
		name := part.FormName()
		switch {
		case name == "file" && !seenFile && part.FileName() != "":
			seenFile = true
			up.Filename = part.FileName()
			up.Data, err = io.ReadAll(io.LimitReader(part, max+1))
			if err == nil && int64(len(up.Data)) > max {
				err = tooBig
			}
		case name != "" && name != "file" && part.FileName() == "":
			var b []byte
			b, err = io.ReadAll(io.LimitReader(part, maxUploadField+1))
			if err == nil && len(b) > maxUploadField {
				err = errs.Field(name, "upload_field_too_long", "this field is too long")
			}
			if _, dup := up.Fields[name]; err == nil && !dup {
				up.Fields[name] = string(b)
			}
		}
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooBig
			}
			if _, ok := errs.As(err); ok {
				return nil, err
			}
			return nil, errs.Field("file", "empty_file", "the upload broke off; try again")
		}
	}
	if len(up.Data) == 0 {
		return nil, noFile
	}
	return up, nil
}

func (s *Server) complaintEvidenceAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit := int64(complaint.MaxEvidence) + 64<<10 // the file and the form around it
	if r.ContentLength > limit {
		return s.teamFormError(w, r, q, id, teamForm{Open: "evidence"}, errs.Field("file", "attachment_too_large", "a file may have at most 10 MB"))
	}
	up, err := readUpload(http.MaxBytesReader(w, r.Body, limit), r.Header.Get("Content-Type"), complaint.MaxEvidence)
	if err != nil {
		return s.teamFormError(w, r, q, id, teamForm{Open: "evidence"}, err)
	}
	f := teamForm{Open: "evidence", EvidenceNote: up.Fields["evidence_note"]}
	ev, err := s.Complaints.Attach(r.Context(), q.P, id, up.Filename, f.EvidenceNote, up.Data)
	if err != nil {
		return s.teamFormError(w, r, q, id, f, err)
	}
	return s.teamDone(w, r, q, id, "ct.flash.evidence", ev.Filename)
}

func (s *Server) complaintEvidenceGet(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathID(r, "eid")
	if err != nil {
		return err
	}
	ev, data, err := s.Complaints.Download(r.Context(), q.P, id, eid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ev.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	// Always a download, never rendered in the app's origin.
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ev.Filename}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	_, err = w.Write(data)
	return err
}

// myTaskRow is one open investigation task of mine on the list page.
type myTaskRow struct {
	*complaint.TaskItem
	URL     string
	Overdue bool
}

// myComplaintTasks lists q's open investigation tasks in inst.
func (s *Server) myComplaintTasks(ctx context.Context, q *req, inst int64) ([]myTaskRow, error) {
	items, err := s.Complaints.MyTasks(ctx, q.P, inst)
	if err != nil {
		return nil, err
	}
	_, today, err := s.instToday(ctx, inst)
	if err != nil {
		return nil, err
	}
	var out []myTaskRow
	for _, it := range items {
		out = append(out, myTaskRow{TaskItem: it, URL: "/complaints/" + strconv.FormatInt(it.ComplaintID, 10) + "#task-" + strconv.FormatInt(it.ID, 10),
			Overdue: strings.Compare(it.Due, today.String()) < 0})
	}
	return out, nil
}
