package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"suifang/internal/errs"
)

// FHIR R4 Questionnaire and QuestionnaireResponse mapping.
//
//   - sections are items of type "group"; closed items are "choice" with
//     answerOption valueCoding (yes/no is "boolean", free text "text",
//     dates "date"); multi-choice sets repeats;
//   - option scores use the standard ordinalValue extension; the item
//     weight, topic, record element, flag and Suifang's own type (rating,
//     satisfaction, nps) use extensions under extBase, so an export imports
//     back unchanged while other tools still read a plain Questionnaire;
//   - a condition is one enableWhen with operator "=".

const (
	extBase    = "https://suifang.cn/fhir/StructureDefinition/"
	extType    = extBase + "item-type"
	extWeight  = extBase + "score-weight"
	extTopic   = extBase + "topic"
	extElement = extBase + "record-element"
	extFlag    = extBase + "flag"
	extNeg     = extBase + "negative"
	extOrdinal = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
	// CanonicalBase prefixes a questionnaire's key in its canonical url.
	CanonicalBase = "urn:suifang:questionnaire:"
)

type fExt struct {
	URL          string   `json:"url"`
	ValueCode    string   `json:"valueCode,omitempty"`
	ValueInteger *int     `json:"valueInteger,omitempty"`
	ValueDecimal *float64 `json:"valueDecimal,omitempty"`
	ValueBoolean *bool    `json:"valueBoolean,omitempty"`
}

type fCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type fOption struct {
	Extension    []fExt   `json:"extension,omitempty"`
	ValueCoding  *fCoding `json:"valueCoding,omitempty"`
	ValueString  *string  `json:"valueString,omitempty"`
	ValueInteger *int     `json:"valueInteger,omitempty"`
}

type fEnableWhen struct {
	Question      string   `json:"question"`
	Operator      string   `json:"operator"`
	AnswerCoding  *fCoding `json:"answerCoding,omitempty"`
	AnswerBoolean *bool    `json:"answerBoolean,omitempty"`
	AnswerString  *string  `json:"answerString,omitempty"`
	AnswerInteger *int     `json:"answerInteger,omitempty"`
}

type fItem struct {
	Extension    []fExt        `json:"extension,omitempty"`
	LinkID       string        `json:"linkId"`
	Text         string        `json:"text,omitempty"`
	Type         string        `json:"type"`
	EnableWhen   []fEnableWhen `json:"enableWhen,omitempty"`
	Required     bool          `json:"required,omitempty"`
	Repeats      bool          `json:"repeats,omitempty"`
	AnswerOption []fOption     `json:"answerOption,omitempty"`
	Item         []fItem       `json:"item,omitempty"`
}

type fQuestionnaire struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	URL          string  `json:"url,omitempty"`
	Version      string  `json:"version,omitempty"`
	Name         string  `json:"name,omitempty"`
	Title        string  `json:"title,omitempty"`
	Status       string  `json:"status"`
	Date         string  `json:"date,omitempty"`
	Description  string  `json:"description,omitempty"`
	Purpose      string  `json:"purpose,omitempty"`
	Item         []fItem `json:"item"`
}

func intp(v int) *int       { return &v }
func boolp(v bool) *bool    { return &v }
func strp(v string) *string { return &v }

// ExportFHIR renders a version as a FHIR R4 Questionnaire.
func ExportFHIR(v *Version) ([]byte, error) {
	status := map[string]string{Draft: "draft", Published: "active", Retired: "retired"}[v.Status]
	q := fQuestionnaire{ResourceType: "Questionnaire", ID: fmt.Sprintf("%s-%d", strings.ReplaceAll(v.Key, "_", "-"), v.Number),
		URL: CanonicalBase + v.Key, Version: strconv.Itoa(v.Number), Name: v.Key, Title: v.Title, Status: status,
		Description: v.Body.Intro, Purpose: v.Purpose}
	if !v.PublishedAt.IsZero() {
		q.Date = v.PublishedAt.UTC().Format(time.RFC3339)
	}
	for si, sec := range v.Body.Sections {
		g := fItem{LinkID: fmt.Sprintf("section-%d", si+1), Text: sec.Title, Type: "group"}
		for _, it := range sec.Items {
			g.Item = append(g.Item, exportItem(&v.Body, it))
		}
		q.Item = append(q.Item, g)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(q); err != nil {
		return nil, fmt.Errorf("survey: encode questionnaire: %w", err)
	}
	return buf.Bytes(), nil
}

func exportItem(b *Body, it Item) fItem {
	f := fItem{LinkID: it.LinkID, Text: it.Text, Required: it.Required}
	switch it.Type {
	case Text:
		f.Type = "text"
	case Date:
		f.Type = "date"
	case YesNo:
		f.Type = "boolean"
	default:
		f.Type = "choice"
		f.Repeats = it.Type == Multi
		for _, o := range it.Choices() {
			opt := fOption{ValueCoding: &fCoding{Code: o.Code, Display: o.Label}}
			sc := float64(o.Score)
			opt.Extension = append(opt.Extension, fExt{URL: extOrdinal, ValueDecimal: &sc})
			if o.Negative {
				opt.Extension = append(opt.Extension, fExt{URL: extNeg, ValueBoolean: boolp(true)})
			}
			f.AnswerOption = append(f.AnswerOption, opt)
		}
	}
	if it.Type == Rating || it.Type == Satisfaction || it.Type == NPS {
		f.Extension = append(f.Extension, fExt{URL: extType, ValueCode: it.Type})
	}
	if it.Weight != 0 {
		f.Extension = append(f.Extension, fExt{URL: extWeight, ValueInteger: intp(it.Weight)})
	}
	if it.Topic != "" {
		f.Extension = append(f.Extension, fExt{URL: extTopic, ValueCode: it.Topic})
	}
	if it.Element != "" {
		f.Extension = append(f.Extension, fExt{URL: extElement, ValueCode: it.Element})
	}
	if it.Flag {
		f.Extension = append(f.Extension, fExt{URL: extFlag, ValueBoolean: boolp(true)})
	}
	if it.When != nil {
		ew := fEnableWhen{Question: it.When.LinkID, Operator: "="}
		if src := b.Item(it.When.LinkID); src != nil && src.Type == YesNo {
			ew.AnswerBoolean = boolp(it.When.Equals == "yes")
		} else {
			ew.AnswerCoding = &fCoding{Code: it.When.Equals}
		}
		f.EnableWhen = []fEnableWhen{ew}
	}
	return f
}

// MaxFHIRSize bounds an imported Questionnaire document.
const MaxFHIRSize = 1 << 20

// ImportFHIR reads a FHIR R4 Questionnaire into a questionnaire draft. It
// never panics; anything it cannot map is an Invalid error naming the item.
func ImportFHIR(data []byte) (NewInput, error) {
	var in NewInput
	if len(data) > MaxFHIRSize {
		return in, errs.Field("file", "fhir_too_large", "the file is larger than 1 MB")
	}
	var q fQuestionnaire
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&q); err != nil {
		return in, errs.Field("file", "fhir_bad_json", "the file is not FHIR JSON: "+err.Error())
	}
	if q.ResourceType != "Questionnaire" {
		return in, errs.Field("file", "fhir_not_questionnaire", "the file is not a FHIR Questionnaire")
	}
	in.Title = strings.TrimSpace(q.Title)
	if in.Title == "" {
		in.Title = strings.TrimSpace(q.Name)
	}
	in.Key = importKey(q)
	in.Purpose = q.Purpose
	if !contains(purposes, in.Purpose) {
		in.Purpose = "other"
	}
	in.Body.Intro = q.Description
	var loose []Item
	for i, f := range q.Item {
		if f.Type == "group" {
			sec := Section{Title: f.Text}
			for j, sub := range f.Item {
				it, err := importItem(sub)
				if err != nil {
					return in, errs.Field("file", "fhir_bad_item", fmt.Sprintf("group %d item %d: %v", i+1, j+1, err))
				}
				sec.Items = append(sec.Items, it)
			}
			in.Body.Sections = append(in.Body.Sections, sec)
			continue
		}
		it, err := importItem(f)
		if err != nil {
			return in, errs.Field("file", "fhir_bad_item", fmt.Sprintf("item %d: %v", i+1, err))
		}
		loose = append(loose, it)
	}
	if len(loose) > 0 {
		// Items outside any group form one section, ahead of the groups.
		in.Body.Sections = append([]Section{{Items: loose}}, in.Body.Sections...)
	}
	return in, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// importKey derives the questionnaire key from the canonical url or name.
func importKey(q fQuestionnaire) string {
	k := strings.TrimPrefix(q.URL, CanonicalBase)
	if k == q.URL {
		k = q.Name
	}
	k = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(k), "-", "_"))
	if keyRE.MatchString(k) {
		return k
	}
	return ""
}

func extOf(exts []fExt, url string) *fExt {
	for i := range exts {
		if exts[i].URL == url {
			return &exts[i]
		}
	}
	return nil
}

func importItem(f fItem) (Item, error) {
	it := Item{LinkID: f.LinkID, Text: f.Text, Required: f.Required}
	if len(f.Item) > 0 {
		return it, fmt.Errorf("%q: nested groups are not supported", f.LinkID)
	}
	if e := extOf(f.Extension, extWeight); e != nil && e.ValueInteger != nil {
		it.Weight = *e.ValueInteger
	}
	if e := extOf(f.Extension, extTopic); e != nil {
		it.Topic = e.ValueCode
	}
	if e := extOf(f.Extension, extElement); e != nil {
		it.Element = e.ValueCode
	}
	if e := extOf(f.Extension, extFlag); e != nil && e.ValueBoolean != nil {
		it.Flag = *e.ValueBoolean
	}
	own := ""
	if e := extOf(f.Extension, extType); e != nil {
		own = e.ValueCode
	}
	switch f.Type {
	case "text", "string":
		it.Type = Text
	case "date":
		it.Type = Date
	case "boolean":
		it.Type = YesNo
	case "choice", "open-choice":
		switch own {
		case Rating, Satisfaction, NPS:
			it.Type = own // the options are implied by the type
		default:
			it.Type = Choice
			if f.Repeats {
				it.Type = Multi
			}
			for k, o := range f.AnswerOption {
				opt := Option{}
				switch {
				case o.ValueCoding != nil:
					opt.Code, opt.Label = o.ValueCoding.Code, o.ValueCoding.Display
				case o.ValueString != nil:
					opt.Code, opt.Label = fmt.Sprintf("o%d", k+1), *o.ValueString
				case o.ValueInteger != nil:
					opt.Code, opt.Label = strconv.Itoa(*o.ValueInteger), strconv.Itoa(*o.ValueInteger)
				default:
					return it, fmt.Errorf("%q: option %d has no coding, string or integer", f.LinkID, k+1)
				}
				if opt.Label == "" {
					opt.Label = opt.Code
				}
				if e := extOf(o.Extension, extOrdinal); e != nil && e.ValueDecimal != nil {
					sc := *e.ValueDecimal
					if sc < 0 || sc > 100 || sc != float64(int(sc)) {
						return it, fmt.Errorf("%q: option %d: scores are whole numbers 0 to 100", f.LinkID, k+1)
					}
					opt.Score = int(sc)
				}
				if e := extOf(o.Extension, extNeg); e != nil && e.ValueBoolean != nil {
					opt.Negative = *e.ValueBoolean
				}
				it.Options = append(it.Options, opt)
			}
		}
	default:
		return it, fmt.Errorf("%q: type %q is not supported", f.LinkID, f.Type)
	}
	switch len(f.EnableWhen) {
	case 0:
	case 1:
		ew := f.EnableWhen[0]
		if ew.Operator != "=" {
			return it, fmt.Errorf("%q: only enableWhen with operator = is supported", f.LinkID)
		}
		c := &Condition{LinkID: ew.Question}
		switch {
		case ew.AnswerCoding != nil:
			c.Equals = ew.AnswerCoding.Code
		case ew.AnswerBoolean != nil:
			c.Equals = map[bool]string{true: "yes", false: "no"}[*ew.AnswerBoolean]
		case ew.AnswerInteger != nil:
			c.Equals = strconv.Itoa(*ew.AnswerInteger)
		case ew.AnswerString != nil:
			c.Equals = *ew.AnswerString
		default:
			return it, fmt.Errorf("%q: enableWhen needs an answer", f.LinkID)
		}
		it.When = c
	default:
		return it, fmt.Errorf("%q: only one enableWhen condition is supported", f.LinkID)
	}
	return it, nil
}

// ResponseItem is one answered item for a QuestionnaireResponse.
type ResponseItem struct {
	LinkID string
	Values []string
}

// ExportResponseFHIR renders a response to version v as a FHIR R4
// QuestionnaireResponse. The subject is a bare reference; no patient data
// travels with it.
func ExportResponseFHIR(v *Version, id, patientID int64, complete bool, authored time.Time, a Answers) ([]byte, error) {
	type fAnswer struct {
		ValueCoding  *fCoding `json:"valueCoding,omitempty"`
		ValueString  *string  `json:"valueString,omitempty"`
		ValueDate    *string  `json:"valueDate,omitempty"`
		ValueBoolean *bool    `json:"valueBoolean,omitempty"`
	}
	type fRItem struct {
		LinkID string    `json:"linkId"`
		Text   string    `json:"text,omitempty"`
		Answer []fAnswer `json:"answer,omitempty"`
		Item   []fRItem  `json:"item,omitempty"`
	}
	type ref struct {
		Reference string `json:"reference"`
	}
	r := struct {
		ResourceType  string   `json:"resourceType"`
		ID            string   `json:"id"`
		Questionnaire string   `json:"questionnaire"`
		Status        string   `json:"status"`
		Subject       ref      `json:"subject"`
		Authored      string   `json:"authored,omitempty"`
		Item          []fRItem `json:"item"`
	}{ResourceType: "QuestionnaireResponse", ID: strconv.FormatInt(id, 10),
		Questionnaire: CanonicalBase + v.Key + "|" + strconv.Itoa(v.Number), Status: "in-progress",
		Subject: ref{Reference: "Patient/" + strconv.FormatInt(patientID, 10)}}
	if complete {
		r.Status = "completed"
	}
	if !authored.IsZero() {
		r.Authored = authored.UTC().Format(time.RFC3339)
	}
	for si, sec := range v.Body.Sections {
		g := fRItem{LinkID: fmt.Sprintf("section-%d", si+1), Text: sec.Title}
		for _, it := range sec.Items {
			vals := a[it.LinkID]
			if len(vals) == 0 {
				continue
			}
			ri := fRItem{LinkID: it.LinkID, Text: it.Text}
			switch it.Type {
			case Text:
				ri.Answer = []fAnswer{{ValueString: strp(strings.Join(vals, "\n"))}}
			case Date:
				ri.Answer = []fAnswer{{ValueDate: strp(vals[0])}}
			case YesNo:
				ri.Answer = []fAnswer{{ValueBoolean: boolp(vals[0] == "yes")}}
			default:
				for _, o := range it.Choices() {
					if contains(vals, o.Code) {
						ri.Answer = append(ri.Answer, fAnswer{ValueCoding: &fCoding{Code: o.Code, Display: o.Label}})
					}
				}
			}
			g.Item = append(g.Item, ri)
		}
		if len(g.Item) > 0 {
			r.Item = append(r.Item, g)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("survey: encode response: %w", err)
	}
	return buf.Bytes(), nil
}
