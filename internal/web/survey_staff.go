package web

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/survey"
)

// Staff pages of the survey room: the questionnaire list and library, the
// designer (no script: items are rows with an order number and a section
// number), publishing and versions, FHIR import/export, settings, results
// with SVG charts and the Excel export, and bulk reminders.

func (s *Server) surveyList(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	list, err := s.Survey.List(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	var own, lib []*survey.Questionnaire
	for _, x := range list {
		if x.Library {
			lib = append(lib, x)
		} else {
			own = append(own, x)
		}
	}
	return s.render(w, r, q, http.StatusOK, "surveys", "surveys", surveysView{Inst: inst, Insts: insts, Own: own, Library: lib,
		Purposes: survey.Purposes(), Designer: canDesign(q.P, inst.ID), New: map[string]string{}})
}

func canDesign(p *access.Principal, inst int64) bool {
	return p.SeesInstitution(inst) && p.HasAny(access.SysAdmin, access.Quality)
}

func (s *Server) surveyCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	in := survey.NewInput{Key: r.PostFormValue("key"), Title: r.PostFormValue("title"), Purpose: r.PostFormValue("purpose"),
		Body: survey.Body{Sections: []survey.Section{{Title: "", Items: []survey.Item{
			{LinkID: "overall", Text: "总的来说，您满意吗？", Type: survey.Satisfaction, Required: true, Weight: 10, Element: "satisfaction", Topic: "other"}}}}}}
	_, vid, err := s.Survey.Create(r.Context(), q.P, inst.ID, in)
	if err != nil {
		list, _ := s.Survey.List(r.Context(), q.P, inst.ID)
		var own, lib []*survey.Questionnaire
		for _, x := range list {
			if x.Library {
				lib = append(lib, x)
			} else {
				own = append(own, x)
			}
		}
		return s.renderForm(w, r, q, "surveys", "surveys", surveysView{Inst: inst, Insts: insts, Own: own, Library: lib,
			Purposes: survey.Purposes(), Designer: canDesign(q.P, inst.ID),
			New: map[string]string{"Key": in.Key, "Title": in.Title, "Purpose": in.Purpose}}, err)
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/versions/%d/edit", vid), "survey_created")
}

// maxFHIRUpload bounds an uploaded Questionnaire file.
const maxFHIRUpload = survey.MaxFHIRSize + 64<<10

func (s *Server) surveyImport(w http.ResponseWriter, r *http.Request, q *req) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFHIRUpload)
	if err := r.ParseMultipartForm(maxFHIRUpload); err != nil {
		return errs.Field("file", "fhir_too_large", "the file is larger than 1 MB")
	}
	inst, _, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return errs.Field("file", "fhir_no_file", "choose a FHIR Questionnaire JSON file")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, survey.MaxFHIRSize+1))
	if err != nil {
		return fmt.Errorf("web: read upload: %w", err)
	}
	in, err := survey.ImportFHIR(data)
	if err != nil {
		return err
	}
	if k := strings.TrimSpace(r.PostFormValue("key")); k != "" {
		in.Key = k
	}
	if in.Key == "" {
		in.Key = "imported_" + strconv.FormatInt(s.Now().Unix(), 36)
	}
	_, vid, err := s.Survey.Create(r.Context(), q.P, inst.ID, in)
	if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/versions/%d/edit", vid), "survey_imported")
}

func (s *Server) surveyDetail(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	qn, err := s.Survey.Questionnaire(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	versions, err := s.Survey.Versions(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	show := qn.Published.ID
	if v := formID(r, "v"); v != 0 {
		show = v
	} else if show == 0 {
		show = qn.Latest.ID
	}
	v, err := s.Survey.Version(r.Context(), q.P, show)
	if err != nil {
		return err
	}
	if v.QuestionnaireID != id {
		return errs.New(errs.NotFound, "page_not_found", "page not found")
	}
	insts, _ := s.Org.Institutions(r.Context(), q.P)
	var group *org.Institution
	var copyTo []*org.Institution
	for _, i := range insts {
		if i.ID == qn.InstitutionID && i.Kind == org.KindGroup {
			group = i
		}
		if i.ID != qn.InstitutionID && canDesign(q.P, i.ID) {
			copyTo = append(copyTo, i)
		}
	}
	return s.render(w, r, q, http.StatusOK, "survey", "surveys", surveyView{Q: qn, V: v, Versions: versions,
		Designer: canDesign(q.P, qn.InstitutionID), Group: group, CopyTo: copyTo})
}

func (s *Server) surveyNewVersion(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	vid, err := s.Survey.NewVersion(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/versions/%d/edit", vid), "")
}

func (s *Server) surveyShare(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Survey.SetShared(r.Context(), q.P, id, r.PostFormValue("shared") == "1"); err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/%d", id), "survey_shared")
}

func (s *Server) surveyCopy(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inst := formID(r, "inst")
	_, vid, err := s.Survey.CopyFromLibrary(r.Context(), q.P, inst, id, strings.TrimSpace(r.PostFormValue("key")))
	if err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/versions/%d/edit", vid), "survey_copied")
}

func (s *Server) surveyPublish(w http.ResponseWriter, r *http.Request, q *req) error {
	vid, err := pathID(r, "vid")
	if err != nil {
		return err
	}
	v, err := s.Survey.Version(r.Context(), q.P, vid)
	if err != nil {
		return err
	}
	if err := s.Survey.Publish(r.Context(), q.P, vid); err != nil {
		return err
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/%d", v.QuestionnaireID), "survey_published")
}

func (s *Server) surveyFHIR(w http.ResponseWriter, r *http.Request, q *req) error {
	vid, err := pathID(r, "vid")
	if err != nil {
		return err
	}
	v, err := s.Survey.Version(r.Context(), q.P, vid)
	if err != nil {
		return err
	}
	data, err := survey.ExportFHIR(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="Questionnaire-%s-v%d.json"`, v.Key, v.Number))
	_, err = w.Write(data)
	return err
}

func (s *Server) surveyResponseFHIR(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "rid")
	if err != nil {
		return err
	}
	data, err := s.Survey.ResponseFHIR(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="QuestionnaireResponse-%d.json"`, id))
	_, err = w.Write(data)
	return err
}

// itemRow is one item of the designer form, as text so bad input is kept.
type itemRow struct {
	Idx                                       int
	Pos, Sec, Link, Text, Type, Weight, Topic string
	Element, Options, WhenLink, WhenValue     string
	Req, Flag, Del                            bool
}

// blankRows is how many empty rows the designer offers for new items.
const blankRows = 3

func rowsOf(b survey.Body) []itemRow {
	var out []itemRow
	n := 0
	for si, sec := range b.Sections {
		for _, it := range sec.Items {
			row := itemRow{Idx: n, Pos: strconv.Itoa((n + 1) * 10), Sec: strconv.Itoa(si + 1), Link: it.LinkID, Text: it.Text, Type: it.Type,
				Weight: strconv.Itoa(it.Weight), Topic: it.Topic, Element: it.Element, Req: it.Required, Flag: it.Flag}
			var opts []string
			for _, o := range it.Options {
				line := o.Code + " | " + o.Label + " | " + strconv.Itoa(o.Score)
				if o.Negative {
					line = "!" + line
				}
				opts = append(opts, line)
			}
			row.Options = strings.Join(opts, "\n")
			if it.When != nil {
				row.WhenLink, row.WhenValue = it.When.LinkID, it.When.Equals
			}
			out = append(out, row)
			n++
		}
	}
	return out
}

func withBlanks(rows []itemRow, sections int) []itemRow {
	last := 0
	for _, r := range rows {
		if p, err := strconv.Atoi(r.Pos); err == nil {
			last = max(last, p)
		}
	}
	for i := 0; i < blankRows; i++ {
		rows = append(rows, itemRow{Idx: len(rows), Pos: strconv.Itoa(last + (i+1)*10), Sec: strconv.Itoa(max(sections, 1)), Type: survey.Satisfaction, Weight: "0"})
	}
	return rows
}

// readRows reads the designer form back into rows (kept for re-display)
// and into a body. A row without id and text is an unused blank row.
func readRows(r *http.Request) (title, intro, sections string, rows []itemRow, body survey.Body, err error) {
	title, intro, sections = r.PostFormValue("title"), r.PostFormValue("intro"), r.PostFormValue("sections")
	n, _ := strconv.Atoi(r.PostFormValue("rows"))
	n = min(max(n, 0), 260)
	for i := 0; i < n; i++ {
		f := func(k string) string { return r.PostFormValue(fmt.Sprintf("i%d.%s", i, k)) }
		row := itemRow{Idx: i, Pos: f("pos"), Sec: f("sec"), Link: strings.TrimSpace(f("link")), Text: f("text"), Type: f("type"),
			Weight: f("weight"), Topic: f("topic"), Element: f("element"), Options: f("options"), WhenLink: strings.TrimSpace(f("when_link")),
			WhenValue: strings.TrimSpace(f("when_value")), Req: f("req") == "1", Flag: f("flag") == "1", Del: f("del") == "1"}
		rows = append(rows, row)
	}
	var titles []string
	for _, l := range strings.Split(strings.ReplaceAll(sections, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			titles = append(titles, l)
		}
	}
	if len(titles) == 0 {
		titles = []string{""}
	}
	body.Intro = strings.TrimSpace(intro)
	body.Sections = make([]survey.Section, len(titles))
	for i, t := range titles {
		body.Sections[i].Title = t
	}
	type placed struct {
		pos, idx int
		sec      int
		it       survey.Item
	}
	var list []placed
	for _, row := range rows {
		if row.Del || row.Link == "" && strings.TrimSpace(row.Text) == "" {
			continue
		}
		bad := func(code, msg string) error {
			return errs.Field(fmt.Sprintf("i%d", row.Idx), code, fmt.Sprintf("item %q: %s", row.Link, msg))
		}
		pos, perr := strconv.Atoi(strings.TrimSpace(row.Pos))
		sec, serr := strconv.Atoi(strings.TrimSpace(row.Sec))
		w, werr := strconv.Atoi(strings.TrimSpace(row.Weight))
		if strings.TrimSpace(row.Weight) == "" {
			w, werr = 0, nil
		}
		switch {
		case perr != nil:
			return title, intro, sections, rows, body, bad("bad_position", "the order is a whole number")
		case serr != nil || sec < 1 || sec > len(titles):
			return title, intro, sections, rows, body, bad("bad_section_number", fmt.Sprintf("the section is a number from 1 to %d", len(titles)))
		case werr != nil:
			return title, intro, sections, rows, body, bad("bad_weight", "the weight is 0 to 100")
		}
		it := survey.Item{LinkID: row.Link, Text: row.Text, Type: row.Type, Required: row.Req, Weight: w, Topic: row.Topic,
			Element: row.Element, Flag: row.Flag}
		if row.WhenLink != "" {
			it.When = &survey.Condition{LinkID: row.WhenLink, Equals: row.WhenValue}
		}
		for _, l := range strings.Split(strings.ReplaceAll(row.Options, "\r\n", "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			o := survey.Option{}
			l = strings.TrimSpace(l)
			if rest, ok := strings.CutPrefix(l, "!"); ok {
				o.Negative, l = true, rest
			}
			parts := strings.Split(l, "|")
			if len(parts) < 2 || len(parts) > 3 {
				return title, intro, sections, rows, body, bad("bad_option_line", "each option is a line: code | label | score (a leading ! marks a negative answer)")
			}
			o.Code, o.Label = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
			if len(parts) == 3 && strings.TrimSpace(parts[2]) != "" {
				sc, err := strconv.Atoi(strings.TrimSpace(parts[2]))
				if err != nil {
					return title, intro, sections, rows, body, bad("bad_option_score", "option scores are 0 to 100")
				}
				o.Score = sc
			}
			it.Options = append(it.Options, o)
		}
		list = append(list, placed{pos: pos, idx: row.Idx, sec: sec - 1, it: it})
	}
	slices.SortStableFunc(list, func(a, b placed) int {
		if a.sec != b.sec {
			return a.sec - b.sec
		}
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		return a.idx - b.idx
	})
	for _, p := range list {
		body.Sections[p.sec].Items = append(body.Sections[p.sec].Items, p.it)
	}
	// An empty section would be a blank page for the patient.
	kept := body.Sections[:0]
	for _, sec := range body.Sections {
		if len(sec.Items) > 0 {
			kept = append(kept, sec)
		}
	}
	body.Sections = kept
	return title, intro, sections, rows, body, nil
}

func (s *Server) surveyEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	vid, err := pathID(r, "vid")
	if err != nil {
		return err
	}
	v, err := s.Survey.Version(r.Context(), q.P, vid)
	if err != nil {
		return err
	}
	if v.Status != survey.Draft {
		return errs.New(errs.Conflict, "version_published", "a published version cannot change; make a new version")
	}
	if !canDesign(q.P, v.InstitutionID) {
		return errs.New(errs.Forbidden, "survey_designer_only", "only administrators and the quality office design questionnaires")
	}
	var titles []string
	for _, sec := range v.Body.Sections {
		titles = append(titles, sec.Title)
	}
	return s.render(w, r, q, http.StatusOK, "survey_edit", "surveys", s.editData(v, v.Title, v.Body.Intro, strings.Join(titles, "\n"),
		withBlanks(rowsOf(v.Body), len(v.Body.Sections))))
}

func (s *Server) editData(v *survey.Version, title, intro, sections string, rows []itemRow) surveyEditView {
	return surveyEditView{V: v, Title: title, Intro: intro, Sections: sections, Rows: rows, Types: survey.Types(),
		Topics: survey.Topics(), Elements: survey.Elements()}
}

func (s *Server) surveySave(w http.ResponseWriter, r *http.Request, q *req) error {
	vid, err := pathID(r, "vid")
	if err != nil {
		return err
	}
	v, err := s.Survey.Version(r.Context(), q.P, vid)
	if err != nil {
		return err
	}
	title, intro, sections, rows, body, err := readRows(r)
	if err == nil {
		err = s.Survey.SaveDraft(r.Context(), q.P, vid, title, body)
	}
	if err != nil {
		markRows(err, rows)
		// Keep every row the user typed, plus the blank ones again.
		keep := rows
		if len(keep) == 0 {
			keep = withBlanks(nil, 1)
		}
		return s.renderForm(w, r, q, "survey_edit", "surveys", s.editData(v, title, intro, sections, keep), err)
	}
	if r.PostFormValue("then") == "publish" {
		if err := s.Survey.Publish(r.Context(), q.P, vid); err != nil {
			return s.renderForm(w, r, q, "survey_edit", "surveys", s.editData(v, title, intro, sections, rows), err)
		}
		return s.redirect(w, r, fmt.Sprintf("/surveys/%d", v.QuestionnaireID), "survey_published")
	}
	return s.redirect(w, r, fmt.Sprintf("/surveys/versions/%d/edit", vid), "survey_saved")
}

// markRows moves the service's "item:<id>" field marks onto the designer
// rows holding that item, so the right card is marked.
func markRows(err error, rows []itemRow) {
	e, ok := errs.As(err)
	if !ok || e.Fields == nil {
		return
	}
	for f, code := range e.Fields {
		link, ok := strings.CutPrefix(f, "item:")
		if !ok {
			continue
		}
		for _, r := range rows {
			if r.Link == link && !r.Del {
				e.Fields[fmt.Sprintf("i%d", r.Idx)] = code
			}
		}
	}
}

// surveyPreview shows a version the way the patient sees it, page by page,
// with every conditional item visible and its condition named.
func (s *Server) surveyPreview(w http.ResponseWriter, r *http.Request, q *req) error {
	vid, err := pathID(r, "vid")
	if err != nil {
		return err
	}
	v, err := s.Survey.Version(r.Context(), q.P, vid)
	if err != nil {
		return err
	}
	st, err := s.Survey.Settings(r.Context(), q.P, v.InstitutionID)
	if err != nil {
		return err
	}
	inst, err := s.Org.Institution(r.Context(), q.P, v.InstitutionID)
	if err != nil {
		return err
	}
	u, err := newPatientUI(s)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("p"))
	page = min(max(page, 0), len(v.Body.Sections)-1)
	sh := &survey.Sheet{Greeting: "张先生", Hospital: inst.Name, ServicePhone: st.ServicePhone, Version: v, Answers: survey.Answers{}}
	var items []*survey.Item
	for i := range v.Body.Sections[page].Items {
		items = append(items, &v.Body.Sections[page].Items[i])
	}
	base := fmt.Sprintf("/surveys/versions/%d/preview", vid)
	view := &sheetView{Lang: q.Lang, Sheet: sh, Show: page, Total: len(v.Body.Sections), Title: v.Body.Sections[page].Title, Items: items,
		Last: page == len(v.Body.Sections)-1, Action: base, Preview: true}
	if !view.Last {
		view.NextURL = template.URL(base + "?p=" + strconv.Itoa(page+1))
	}
	view.BackURL = template.URL(fmt.Sprintf("/surveys/%d?v=%d", v.QuestionnaireID, v.ID))
	return u.render(w, http.StatusOK, "sheet", view)
}

func (s *Server) surveySettingsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	st, err := s.Survey.Settings(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	list, err := s.Survey.List(r.Context(), q.P, inst.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, q, http.StatusOK, "survey_settings", "surveys", surveySettingsView{Inst: inst, Insts: insts, S: settingsForm(st),
		List: list, Designer: canDesign(q.P, inst.ID)})
}

func settingsForm(st *survey.Settings) map[string]string {
	return map[string]string{"ServicePhone": st.ServicePhone, "LinkDays": strconv.Itoa(st.LinkDays),
		"RemindAfterDays": strconv.Itoa(st.RemindAfterDays), "MaxReminders": strconv.Itoa(st.MaxReminders), "InviteKey": st.InviteKey}
}

func (s *Server) surveySettingsSave(w http.ResponseWriter, r *http.Request, q *req) error {
	inst, insts, err := s.pickInstitution(r, q)
	if err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range []string{"ServicePhone", "LinkDays", "RemindAfterDays", "MaxReminders", "InviteKey"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	// A number that does not parse is sent on as -1, which the service
	// refuses with the field's own message.
	num := func(k string) int {
		n, err := strconv.Atoi(form[k])
		if err != nil {
			return -1
		}
		return n
	}
	st := survey.Settings{InstitutionID: inst.ID, ServicePhone: form["ServicePhone"], InviteKey: form["InviteKey"],
		LinkDays: num("LinkDays"), RemindAfterDays: num("RemindAfterDays"), MaxReminders: num("MaxReminders")}
	err = s.Survey.SaveSettings(r.Context(), q.P, st)
	if err != nil {
		list, _ := s.Survey.List(r.Context(), q.P, inst.ID)
		return s.renderForm(w, r, q, "survey_settings", "surveys", surveySettingsView{Inst: inst, Insts: insts, S: form, List: list,
			Designer: canDesign(q.P, inst.ID)}, err)
	}
	return s.redirect(w, r, "/surveys/settings?inst="+strconv.FormatInt(inst.ID, 10), "survey_settings_saved")
}

// resultsFilter reads the results filter from the query string.
func resultsFilter(r *http.Request, qid int64) survey.ResultFilter {
	v := r.URL.Query()
	id := func(k string) int64 {
		n, _ := strconv.ParseInt(v.Get(k), 10, 64)
		return n
	}
	return survey.ResultFilter{QuestionnaireID: qid, DepartmentID: id("dept"), WardID: id("ward"), Doctor: strings.TrimSpace(v.Get("doctor")),
		Month: strings.TrimSpace(v.Get("month"))}
}

func (s *Server) surveyResults(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := resultsFilter(r, id)
	qn, err := s.Survey.Questionnaire(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	depts, err := s.Org.Departments(r.Context(), q.P, qn.InstitutionID)
	if err != nil {
		return err
	}
	// A department-scoped head starts on their own department.
	if f.DepartmentID == 0 && f.WardID == 0 && !q.P.SeesInstitution(qn.InstitutionID) {
		for _, d := range depts {
			if q.P.SeesDepartment(qn.InstitutionID, d.ID) {
				if d.Kind == org.DeptWard {
					f.WardID = d.ID
				} else {
					f.DepartmentID = d.ID
				}
				break
			}
		}
	}
	res, err := s.Survey.Results(r.Context(), q.P, f)
	if err != nil {
		return err
	}
	var clinical, wards []*org.Department
	for _, d := range depts {
		if !q.P.SeesDepartment(qn.InstitutionID, d.ID) {
			continue
		}
		switch d.Kind {
		case org.DeptWard:
			wards = append(wards, d)
		case org.DeptClinical:
			clinical = append(clinical, d)
		}
	}
	qs := r.URL.Query()
	return s.render(w, r, q, http.StatusOK, "survey_results", "surveys", surveyResultsView{R: res, Q: qn, F: f, Depts: clinical,
		Wards: wards, Charts: resultCharts(s, q.Lang, res), Query: template.URL(qs.Encode()),
		CanRemind: q.P.HasAny(access.SysAdmin, access.Quality, access.Agent, access.DeptHead)})
}

func (s *Server) surveyResultsXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := resultsFilter(r, id)
	res, err := s.Survey.Results(r.Context(), q.P, f)
	if err != nil {
		return err
	}
	dept := ""
	if f.DepartmentID != 0 || f.WardID != 0 {
		d, err := s.Org.Department(r.Context(), q.P, max(f.DepartmentID, f.WardID))
		if err == nil {
			dept = d.Name
		}
	}
	data, err := survey.ResultsXLSX(res, dept, func(c string) string { return s.cat.T(q.Lang, "fu.ch."+c) })
	if err != nil {
		return err
	}
	name := "survey-results-" + res.Questionnaire.Key + ".xlsx"
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name,
		url.PathEscape(res.Questionnaire.Title+"-结果.xlsx")))
	_, err = w.Write(data)
	return err
}

func (s *Server) surveyRemind(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	qn, err := s.Survey.Questionnaire(r.Context(), q.P, id)
	if err != nil {
		return err
	}
	dept, month := formID(r, "dept"), strings.TrimSpace(r.PostFormValue("month"))
	n, err := s.Survey.SendReminders(r.Context(), q.P, qn.InstitutionID, dept, month)
	if err != nil {
		return err
	}
	back := url.Values{}
	if dept != 0 {
		back.Set("dept", strconv.FormatInt(dept, 10))
	}
	back.Set("month", month)
	return s.redirectFlash(w, r, fmt.Sprintf("/surveys/%d/results?%s", id, back.Encode()), s.cat.T(q.Lang, "svr.reminded", n))
}

// surveysView lists the questionnaires an institution owns and those its
// group shares, with the form for a new one (New keeps what was typed).
type surveysView struct {
	Inst         *org.Institution
	Insts        []*org.Institution
	Own, Library []*survey.Questionnaire
	Purposes     []string
	Designer     bool
	New          map[string]string
}

// surveyView is one questionnaire and the version shown.
type surveyView struct {
	Q        *survey.Questionnaire
	V        *survey.Version
	Versions []survey.VersionInfo
	Designer bool
	Group    *org.Institution   // the group library it may be shared to
	CopyTo   []*org.Institution // hospitals it may be copied to
}

// surveyEditView is the designer: a draft version as text rows, kept as
// typed when the save is refused.
type surveyEditView struct {
	V                       *survey.Version
	Title, Intro, Sections  string
	Rows                    []itemRow
	Types, Topics, Elements []string
}

// surveySettingsView is an institution's invitation settings.
type surveySettingsView struct {
	Inst     *org.Institution
	Insts    []*org.Institution
	S        map[string]string
	List     []*survey.Questionnaire
	Designer bool
}

// surveyResultsView is a questionnaire's results with their filter.
type surveyResultsView struct {
	R            *survey.Results
	Q            *survey.Questionnaire
	F            survey.ResultFilter
	Depts, Wards []*org.Department
	Charts       map[string]template.HTML
	Query        template.URL
	CanRemind    bool
}
