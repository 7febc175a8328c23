package web

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"suifang/internal/survey"
)

// formRequest posts v the way the designer form does.
func formRequest(v url.Values) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// designerValues is the form a body renders to, as the browser posts it.
func designerValues(title string, b survey.Body) url.Values {
	rows := rowsOf(b)
	var titles []string
	for _, s := range b.Sections {
		titles = append(titles, s.Title)
	}
	v := url.Values{"title": {title}, "intro": {b.Intro}, "sections": {strings.Join(titles, "\n")}, "rows": {fmt.Sprint(len(rows))}}
	for _, r := range rows {
		p := fmt.Sprintf("i%d.", r.Idx)
		v.Set(p+"pos", r.Pos)
		v.Set(p+"sec", r.Sec)
		v.Set(p+"link", r.Link)
		v.Set(p+"text", r.Text)
		v.Set(p+"type", r.Type)
		v.Set(p+"weight", r.Weight)
		v.Set(p+"topic", r.Topic)
		v.Set(p+"element", r.Element)
		v.Set(p+"options", r.Options)
		v.Set(p+"when_link", r.WhenLink)
		v.Set(p+"when_value", r.WhenValue)
		if r.Req {
			v.Set(p+"req", "1")
		}
		if r.Flag {
			v.Set(p+"flag", "1")
		}
	}
	return v
}

// TestDesignerRoundTrip: every default questionnaire survives the designer
// form unchanged.
func TestDesignerRoundTrip(t *testing.T) {
	for _, d := range survey.Defaults() {
		_, _, _, _, body, err := readRows(formRequest(designerValues(d.Title, d.Body)))
		if err != nil {
			t.Fatalf("%s: %v", d.Key, err)
		}
		if err := body.Validate(); err != nil {
			t.Fatalf("%s: %v", d.Key, err)
		}
		want := d.Body
		want.Validate()
		if !reflect.DeepEqual(body, want) {
			t.Fatalf("%s: the designer changed the questionnaire\n got %+v\nwant %+v", d.Key, body, want)
		}
	}
}

// FuzzDesignerForm feeds arbitrary text into one designer row: reading it
// never panics, and whatever validates renders back to the same body.
func FuzzDesignerForm(f *testing.F) {
	f.Add("10", "1", "pain", "疼痛程度", "rating", "2", "", "", "")
	f.Add("5", "1", "q", "选一个", "choice", "1", "a | 甲 | 1\n!b | 乙 | 0", "", "")
	f.Add("x", "9", "", "", "multi", "-1", "|||", "q", "a")
	f.Add("20", "1", "why", "为什么", "text", "", "", "overall", "dissatisfied")
	f.Fuzz(func(t *testing.T, pos, sec, link, text, typ, weight, options, whenLink, whenValue string) {
		v := designerValues("T", survey.Body{Sections: []survey.Section{{Title: "S", Items: []survey.Item{
			{LinkID: "overall", Text: "总体", Type: survey.Satisfaction, Weight: 1}}}}})
		v.Set("rows", "2")
		for k, val := range map[string]string{"pos": pos, "sec": sec, "link": link, "text": text, "type": typ, "weight": weight,
			"options": options, "when_link": whenLink, "when_value": whenValue} {
			v.Set("i1."+k, val)
		}
		_, _, _, _, body, err := readRows(formRequest(v))
		if err != nil || body.Validate() != nil {
			return
		}
		_, _, _, _, again, err := readRows(formRequest(designerValues("T", body)))
		if err != nil {
			t.Fatalf("own rendering refused: %v", err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("own rendering invalid: %v", err)
		}
		if !reflect.DeepEqual(body, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", body, again)
		}
	})
}
