package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/access"
	"suifang/internal/complaint"
	"suifang/internal/pdf"
)

// The handling sheet as a PDF file (GET /complaints/{id}/sheet.pdf): the
// same data and scope as the HTML sheet, laid out by internal/pdf, and
// audited, because a file leaves the system where a page does not.

// sheetAttachment is one line of the sheet's attachments list.
type sheetAttachment struct {
	Name, Kind, Size, By string
	At                   time.Time
}

// sheetAttachments lists the evidence files the page data already holds
// (name, type, size, who added them and when) for the PDF sheet.
func sheetAttachments(d *complaintPageData) []sheetAttachment {
	if d.Team == nil {
		return nil
	}
	out := make([]sheetAttachment, 0, len(d.Team.Files))
	for _, f := range d.Team.Files {
		out = append(out, sheetAttachment{Name: f.Filename, Kind: f.ContentType, Size: f.Size, By: f.Actor, At: f.At})
	}
	return out
}

// sheetPDFName is the file name. The number is letters, digits and
// hyphens, but its middle is the institution's code: anything else is
// replaced, so the header needs no quoting rules.
func sheetPDFName(number string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			return r
		}
		return '_'
	}, number) + ".pdf"
}

func (s *Server) complaintSheetPDF(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.complaintData(r, q, id)
	if err != nil {
		return err
	}
	atts := sheetAttachments(d)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	doc := s.sheetPDF(r.Context(), q, d, atts, now())
	data := doc.Bytes()
	// Audited before a byte is sent: no record, no file.
	if err := s.Complaints.RecordExport(r.Context(), q.P, id, "sheet.pdf"); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s"`, sheetPDFName(d.C.Number)))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, err = w.Write(data)
	return err
}

// label is a catalog text, or the raw value when the catalog has none (an
// institution's own category, say).
func (s *Server) label(lang, prefix, value string) string {
	if value == "" {
		return "—"
	}
	if t := s.cat.T(lang, prefix+value); !strings.HasPrefix(t, "[") {
		return t
	}
	return value
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func clockColour(c string) pdf.Color {
	switch c {
	case complaint.Green, complaint.Met:
		return pdf.Green
	case complaint.Amber:
		return pdf.Amber
	case complaint.Red, complaint.MetLate:
		return pdf.Red
	}
	return pdf.Grey
}

// stateColour greys a milestone that was never needed.
func stateColour(k clockRow) pdf.Color {
	if k.State == "cpr.skipped" {
		return pdf.Grey
	}
	return clockColour(k.Colour)
}

// sheetPDF lays out the 医疗投诉及纠纷处理表.
func (s *Server) sheetPDF(ctx context.Context, q *req, d *complaintPageData, atts []sheetAttachment, printed time.Time) *pdf.Doc {
	lang, c := q.Lang, d.C
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	dt := func(x time.Time) string { return fmtTime(x, "2006-01-02 15:04") }

	hospital := ""
	if inst, err := s.Org.Institution(ctx, q.P, c.InstitutionID); err == nil {
		hospital = inst.Name
	}
	title := t("cps.title")
	author := ""
	if q.User != nil {
		author = q.User.DisplayName
	}
	doc := pdf.New(pdf.Info{Title: title + " " + c.Number, Subject: hospital, Author: author, Creator: "Suifang",
		Created: printed, Header: strings.TrimLeft(hospital+" · "+title+" · "+c.Number, " ·"),
		PageLabel: func(n, total int) string { return t("cpp.page", n, total) }, Font: s.PDFFont})

	if hospital != "" {
		doc.Para(hospital, pdf.Style{Size: 13, Bold: true, Align: pdf.Center})
	}
	doc.Para(title, pdf.Style{Size: 18, Bold: true, Align: pdf.Center})
	doc.Para(fmt.Sprintf("%s %s    %s %s    %s %s", t("cps.number"), c.Number, t("cp.tracking"), c.TrackingCode, t("cps.printed"), dt(printed)),
		pdf.Style{Size: 9, Align: pdf.Center})
	doc.Rule()

	detail := func(e complaintEventRow) string { return e.Text }

	// The events, by step, for the sections that quote them.
	byAction := map[string][]complaintEventRow{}
	for _, e := range d.Events {
		byAction[e.Action] = append(byAction[e.Action], e)
	}
	quote := func(actions ...string) string {
		var lines []string
		for _, a := range actions {
			for _, e := range byAction[a] {
				text := detail(e)
				if text == "" {
					continue
				}
				lines = append(lines, fmt.Sprintf("%s %s（%s）：%s", dt(e.At), e.Label, e.Who, text))
			}
		}
		return orDash(strings.Join(lines, "\n"))
	}

	lab := func(k string) pdf.Cell { return pdf.Cell{Text: t(k), Fill: true} }
	val := func(v string) pdf.Cell { return pdf.Cell{Text: orDash(v)} }
	wide := func(v string) pdf.Cell { return pdf.Cell{Text: orDash(v), Span: 3} }
	depts := strings.Join(d.Depts, "、")
	class := d.Cats.Name(lang, c.Category) + " · " + s.label(lang, "cp.sev.", c.Severity) + " · " + s.label(lang, "cp.cx.", c.Complexity)
	policy := ""
	if c.Policy != nil {
		policy = c.Policy.Name
	}
	plan := c.Plan
	if c.Compensation != "" {
		plan = orDash(plan) + "\n" + t("cp.compensation") + "：" + c.Compensation
	}
	feedback := ""
	if c.Feedback != "" || !c.FeedbackAt.IsZero() {
		feedback = s.label(lang, "cp.way.", c.FeedbackHow) + " · " + dt(c.FeedbackAt) + "\n" + c.Feedback
	}
	rect := ""
	if c.NoticeID != 0 {
		rect = t("cpp.notice_no") + " " + s.noticeNumber(ctx, q.P, c.NoticeID)
		if note := quote(complaint.ActRectify); note != "—" {
			rect += "\n" + note
		}
	}
	archive := ""
	if !c.ArchivedAt.IsZero() {
		archive = dt(c.ArchivedAt)
		if note := quote(complaint.ActArchive); note != "—" {
			archive += "\n" + note
		}
	}
	satisfaction := ""
	if c.Satisfaction != "" {
		satisfaction = s.label(lang, "cp.grade.", c.Satisfaction)
	}
	doc.Table(pdf.Table{Widths: []float64{1.1, 2, 1.1, 2}, Size: 9.5, Rows: [][]pdf.Cell{
		{lab("cp.received"), val(dt(c.ReceivedAt)), lab("cps.channel"), val(s.label(lang, "cp.ch.", c.Channel))},
		{lab("cp.complainant"), val(d.Patient + " · " + s.label(lang, "cp.role.", c.ComplainantRole)), lab("cps.contact"), val(c.ContactMasked)},
		{lab("fu.visit"), val(d.Visit), lab("cps.status"), val(d.Pill)},
		{lab("cp.dept"), val(depts), lab("cp.owner"), val(c.OwnerName)},
		{lab("cps.class"), val(class), lab("cpp.policy"), val(policy)},
		{lab("cp.occurred_on"), val(c.OccurredOn), lab("cp.location"), val(c.Location)},
		{lab("cp.people"), wide(c.People)},
		{lab("cp.content"), wide(c.Content)},
		{lab("cp.asks"), wide(c.Asks)},
		{lab("cpp.investigation"), wide(quote(complaint.ActInvestigate, complaint.ActNote))},
		{lab("cp.plan"), wide(plan)},
		{lab("cp.feedback"), wide(feedback)},
		{lab("cp.satisfaction"), wide(satisfaction)},
		{lab("cpp.rectification"), wide(rect)},
		{lab("cpp.revisit"), wide(quote(complaint.ActRevisit))},
		{lab("cpp.archive"), wide(archive)},
	}})

	heading := func(key string) {
		doc.Gap(8)
		doc.Heading(t(key), pdf.Style{Size: 12, Bold: true})
	}
	heading("cps.milestones")
	var clocks [][]pdf.Cell
	for _, k := range d.Clocks {
		clocks = append(clocks, []pdf.Cell{{Text: k.Label}, {Text: orDash(k.Deadline)}, {Text: orDash(k.MetAt)},
			{Text: t(k.State), Color: stateColour(k)}})
	}
	doc.Table(pdf.Table{Widths: []float64{2, 2, 2, 1.2},
		Header: []pdf.Cell{{Text: t("cp.milestone")}, {Text: t("cp.deadline")}, {Text: t("cp.met_at")}, {Text: t("cp.clock")}}, Rows: clocks})

	heading("cps.approvals")
	var approvals [][]pdf.Cell
	for _, e := range d.Events {
		if e.Action == complaint.ActApprove || e.Action == complaint.ActReturn {
			approvals = append(approvals, []pdf.Cell{{Text: e.Label}, {Text: e.Who}, {Text: dt(e.At)}, {Text: orDash(detail(e))}})
		}
	}
	if len(approvals) == 0 {
		approvals = [][]pdf.Cell{{{Text: t("cps.no_approvals"), Span: 4}}}
	}
	doc.Table(pdf.Table{Widths: []float64{1.2, 1.2, 1.6, 4},
		Header: []pdf.Cell{{Text: t("cps.decision")}, {Text: t("cps.who")}, {Text: t("cps.when")}, {Text: t("cps.note")}}, Rows: approvals})

	if tm := d.Team; tm != nil && (len(tm.Members)+len(tm.Former)+len(tm.Tasks)+len(tm.Interviews) > 0) {
		heading("ct.sheet_team")
		var rows [][]pdf.Cell
		for _, m := range append(slices.Clone(tm.Members), tm.Former...) {
			who := m.Name + " · " + t("ct.disc."+m.Discipline)
			if !m.Active() {
				who += " · " + t("ct.former")
			}
			rows = append(rows, []pdf.Cell{{Text: t("ct.members"), Fill: true}, {Text: who, Span: 3}})
		}
		for _, k := range tm.Tasks {
			what := k.What
			if k.Result != "" {
				what += "\n" + t("ct.result") + "：" + k.Result
			}
			rows = append(rows, []pdf.Cell{{Text: t("ct.tasks"), Fill: true}, {Text: k.Assignee}, {Text: what},
				{Text: t("ct.due") + " " + k.Due + "\n" + t("ct.ts."+k.Status)}})
		}
		for _, iv := range tm.Interviews {
			rows = append(rows, []pdf.Cell{{Text: t("ct.interviews"), Fill: true}, {Text: iv.Interviewee + "\n" + iv.IntervieweeRole},
				{Text: iv.Summary}, {Text: dt(iv.HeldAt) + "\n" + iv.Place}})
		}
		doc.Table(pdf.Table{Widths: []float64{1.1, 1.5, 3.8, 1.6}, Size: 9, Rows: rows})
	}

	heading("cps.history")
	var hist [][]pdf.Cell
	for _, e := range d.Events {
		step := e.Label
		if e.From != "" && e.From != e.To {
			step += "\n" + s.label(lang, "cp.st.", e.From) + " → " + s.label(lang, "cp.st.", e.To)
		}
		hash := e.Hash
		if len(hash) > 12 {
			hash = hash[:12]
		}
		hist = append(hist, []pdf.Cell{{Text: dt(e.At)}, {Text: step}, {Text: e.Who}, {Text: orDash(detail(e))}, {Text: hash, Color: pdf.Grey}})
	}
	doc.Table(pdf.Table{Widths: []float64{1.5, 1.6, 1.1, 3.3, 1.3}, Size: 8.5,
		Header: []pdf.Cell{{Text: t("cps.when")}, {Text: t("cps.step")}, {Text: t("cps.who")}, {Text: t("cps.note")}, {Text: t("cpp.hash")}},
		Rows:   hist})

	heading("cpp.attachments")
	var files [][]pdf.Cell
	for _, a := range atts {
		files = append(files, []pdf.Cell{{Text: a.Name}, {Text: a.Kind}, {Text: a.Size}, {Text: a.By + " " + dt(a.At)}})
	}
	if len(files) == 0 {
		files = [][]pdf.Cell{{{Text: t("cpp.no_attachments"), Span: 4}}}
	}
	doc.Table(pdf.Table{Widths: []float64{3, 1.2, 1, 2.4},
		Header: []pdf.Cell{{Text: t("cpp.file")}, {Text: t("cpp.file_kind")}, {Text: t("cpp.file_size")}, {Text: t("cpp.file_by")}}, Rows: files})

	// The signatures stay on one page: a heading and four two-line rows.
	doc.Need(12*1.5 + 8 + 4*(2*10*1.5+8) + 8)
	heading("cpp.signatures")
	var signs [][]pdf.Cell
	for _, k := range []string{"cps.sign_owner", "cps.sign_head", "cps.sign_quality", "cpp.sign_leader"} {
		signs = append(signs, []pdf.Cell{{Text: t(k) + "\n ", Fill: true}, {Text: ""}, {Text: t("cpp.date"), Fill: true}, {Text: ""}})
	}
	doc.Table(pdf.Table{Widths: []float64{1.6, 2.6, 0.8, 1.6}, Size: 10, Rows: signs})
	return doc
}

// noticeNumber is the rectification notice's number, or its id when the
// reader may not see the notice itself.
func (s *Server) noticeNumber(ctx context.Context, p *access.Principal, id int64) string {
	if s.Notices != nil {
		if n, err := s.Notices.Get(ctx, p, id); err == nil {
			return n.Number
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}
