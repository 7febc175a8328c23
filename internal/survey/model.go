// Package survey owns questionnaires (designed per institution, versioned,
// shared through the group library), the invitations that bring patients
// to them, the patients' responses and their scores, and the results.
//
// A questionnaire's content is one JSON document per version (sections and
// items). A published version never changes; responses point at the
// version they answered, so a later edit never rewrites history.
package survey

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"suifang/internal/errs"
)

// Item types.
const (
	Choice       = "choice"       // single choice from Options
	Multi        = "multi"        // several of Options
	Rating       = "rating"       // 1–5
	Satisfaction = "satisfaction" // 满意/基本满意/不满意
	NPS          = "nps"          // 0–10
	YesNo        = "yesno"
	Text         = "text"
	Date         = "date" // YYYY-MM-DD
)

// Types lists the item types in display order.
func Types() []string { return []string{Choice, Multi, Rating, Satisfaction, NPS, YesNo, Text, Date} }

// Satisfaction grades; the codes are the follow-up record's.
const (
	Satisfied    = "satisfied"    // 满意
	Basically    = "basically"    // 基本满意
	Dissatisfied = "dissatisfied" // 不满意
)

// Topics name what an item is about, so a negative answer reaches the
// right place (requirements §4).
var topics = []string{"doctors", "nurses", "medtech", "environment", "meals", "fees", "process", "ethics", "other"}

// Topics lists the topics in display order.
func Topics() []string { return slices.Clone(topics) }

// Record elements: which part of the follow-up record an item fills when a
// response completes a follow-up task (the four elements of seed 000 第九条,
// plus NPS and opinions).
var elements = []string{"treatment_effect", "satisfaction", "medication_guidance", "revisit_advice", "nps", "opinions"}

// Elements lists the record elements in display order.
func Elements() []string { return slices.Clone(elements) }

// Purposes of a questionnaire, used to pick one for an invitation.
var purposes = []string{"inpatient", "outpatient", "phone_l2", "phone_l3", "recovery", "other"}

// Purposes lists the questionnaire purposes.
func Purposes() []string { return slices.Clone(purposes) }

// Option is one answer of a choice or multi item.
type Option struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	// Score is the points the option earns before the item's weight.
	Score int `json:"score"`
	// Negative options raise a notice (e.g. "不满意", "没有").
	Negative bool `json:"negative,omitempty"`
}

// Condition shows an item only when an earlier item has a given answer.
type Condition struct {
	LinkID string `json:"link_id"`
	Equals string `json:"equals"`
}

// Item is one question.
type Item struct {
	LinkID   string     `json:"link_id"`
	Text     string     `json:"text"`
	Type     string     `json:"type"`
	Required bool       `json:"required,omitempty"`
	Options  []Option   `json:"options,omitempty"`
	Weight   int        `json:"weight"` // 0: not scored
	Topic    string     `json:"topic,omitempty"`
	Element  string     `json:"element,omitempty"`
	Flag     bool       `json:"flag,omitempty"` // any answer to this item is raised (e.g. "anything to complain about?")
	When     *Condition `json:"when,omitempty"`
}

// Section is one page of the patient's questionnaire.
type Section struct {
	Title string `json:"title"`
	Items []Item `json:"items"`
}

// Body is the content of one questionnaire version.
type Body struct {
	Intro    string    `json:"intro,omitempty"`
	Sections []Section `json:"sections"`
}

// Items returns every item in order.
func (b *Body) Items() []*Item {
	var out []*Item
	for i := range b.Sections {
		for j := range b.Sections[i].Items {
			out = append(out, &b.Sections[i].Items[j])
		}
	}
	return out
}

// Item finds an item by link id.
func (b *Body) Item(link string) *Item {
	for _, it := range b.Items() {
		if it.LinkID == link {
			return it
		}
	}
	return nil
}

// Choices returns the options an item offers, including the implicit ones
// of the fixed types, so pages and scoring treat every closed item alike.
func (it *Item) Choices() []Option {
	switch it.Type {
	case Choice, Multi:
		return it.Options
	case Satisfaction:
		return []Option{{Code: Satisfied, Label: "满意", Score: 2}, {Code: Basically, Label: "基本满意", Score: 1},
			{Code: Dissatisfied, Label: "不满意", Score: 0, Negative: true}}
	case YesNo:
		return []Option{{Code: "yes", Label: "是", Score: 1}, {Code: "no", Label: "否", Score: 0}}
	case Rating:
		out := make([]Option, 0, 5)
		for v := 5; v >= 1; v-- {
			out = append(out, Option{Code: strconv.Itoa(v), Label: strconv.Itoa(v), Score: v, Negative: v <= 2})
		}
		return out
	case NPS:
		out := make([]Option, 0, 11)
		for v := 0; v <= 10; v++ {
			out = append(out, Option{Code: strconv.Itoa(v), Label: strconv.Itoa(v), Score: v})
		}
		return out
	}
	return nil
}

// MaxPoints is the most an item can earn before its weight.
func (it *Item) MaxPoints() int {
	best := 0
	if it.Type == Multi {
		for _, o := range it.Options {
			best += max(o.Score, 0)
		}
		return best
	}
	for _, o := range it.Choices() {
		best = max(best, o.Score)
	}
	return best
}

// Closed reports whether the item is answered by choosing.
func (it *Item) Closed() bool { return it.Type != Text && it.Type != Date }

var linkRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,39}$`)
var codeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

// Validate checks a body and returns an Invalid error naming the first
// problem; the designer shows it next to the form.
func (b *Body) Validate() error {
	if len(b.Sections) == 0 {
		return errs.Field("body", "no_sections", "a questionnaire needs at least one section")
	}
	if utf8.RuneCountInString(b.Intro) > 2000 {
		return errs.Field("intro", "intro_too_long", "the introduction may have at most 2000 characters")
	}
	seen := map[string]*Item{}
	n := 0
	for si := range b.Sections {
		sec := &b.Sections[si]
		sec.Title = strings.TrimSpace(sec.Title)
		if utf8.RuneCountInString(sec.Title) > 200 {
			return errs.Field("body", "bad_section", fmt.Sprintf("section %d: the title may have at most 200 characters", si+1))
		}
		for ii := range sec.Items {
			it := &sec.Items[ii]
			n++
			// The field names the item, so the designer marks its card.
			bad := func(code, msg string) error {
				return errs.Field("item:"+it.LinkID, code, fmt.Sprintf("item %q: %s", it.LinkID, msg))
			}
			it.Text = strings.TrimSpace(it.Text)
			if !linkRE.MatchString(it.LinkID) {
				return bad("bad_link_id", fmt.Sprintf("item %d: the id is a letter then letters, digits, dot, dash or underscore (at most 40)", n))
			}
			if seen[it.LinkID] != nil {
				return bad("duplicate_link_id", "the id is used twice")
			}
			if it.Text == "" || utf8.RuneCountInString(it.Text) > 500 {
				return bad("bad_item_text", "the question text is required (at most 500 characters)")
			}
			if !slices.Contains(Types(), it.Type) {
				return bad("bad_item_type", "unknown item type")
			}
			if it.Weight < 0 || it.Weight > 100 {
				return bad("bad_weight", "the weight is 0 to 100")
			}
			if it.Topic != "" && !slices.Contains(topics, it.Topic) {
				return bad("bad_topic", "unknown topic")
			}
			if it.Element != "" && !slices.Contains(elements, it.Element) {
				return bad("bad_element", "unknown record element")
			}
			if it.Type == Choice || it.Type == Multi {
				if len(it.Options) < 2 || len(it.Options) > 30 {
					return bad("bad_options", "a choice item needs 2 to 30 options")
				}
				codes := map[string]bool{}
				for oi := range it.Options {
					o := &it.Options[oi]
					o.Label = strings.TrimSpace(o.Label)
					if !codeRE.MatchString(o.Code) || codes[o.Code] {
						return bad("bad_option_code", fmt.Sprintf("option %d needs a unique code of letters, digits, dot, dash or underscore", oi+1))
					}
					codes[o.Code] = true
					if o.Label == "" || utf8.RuneCountInString(o.Label) > 200 {
						return bad("bad_option_label", fmt.Sprintf("option %d needs a label (at most 200 characters)", oi+1))
					}
					if o.Score < 0 || o.Score > 100 {
						return bad("bad_option_score", "option scores are 0 to 100")
					}
				}
			} else if len(it.Options) > 0 {
				return bad("bad_options", "only choice items have their own options")
			}
			if w := it.When; w != nil {
				src := seen[w.LinkID]
				if src == nil {
					return bad("bad_condition", "a condition must refer to an earlier item")
				}
				if !src.Closed() || !slices.ContainsFunc(src.Choices(), func(o Option) bool { return o.Code == w.Equals }) {
					return bad("bad_condition", "the condition's value must be one of the earlier item's answers")
				}
			}
			seen[it.LinkID] = it
		}
	}
	if n == 0 {
		return errs.Field("body", "no_items", "a questionnaire needs at least one item")
	}
	if n > 200 {
		return errs.Field("body", "too_many_items", "a questionnaire may have at most 200 items")
	}
	return nil
}

// Answers maps link ids to answers: one code for closed single items, the
// chosen codes for multi items, the text or date otherwise.
type Answers map[string][]string

// Visible reports whether an item is shown given the answers so far; a
// condition on a hidden item is false, so chains hide together.
func (b *Body) Visible(it *Item, a Answers) bool {
	for depth := 0; it != nil && it.When != nil && depth < 200; depth++ {
		if !slices.Contains(a[it.When.LinkID], it.When.Equals) {
			return false
		}
		it = b.Item(it.When.LinkID)
	}
	return true
}

// Check validates the answers to one section (or all when sec < 0): values
// must fit their items, required visible items must be answered. It returns
// the problems by link id (for marking the form) and the cleaned answers of
// the checked items (hidden items dropped).
func (b *Body) Check(sec int, a Answers) (Answers, map[string]string) {
	clean := Answers{}
	problems := map[string]string{}
	for si := range b.Sections {
		if sec >= 0 && si != sec {
			continue
		}
		for ii := range b.Sections[si].Items {
			it := &b.Sections[si].Items[ii]
			if !b.Visible(it, mergeAnswers(a, clean)) {
				continue
			}
			var vals []string
			for _, v := range a[it.LinkID] {
				if v = strings.TrimSpace(v); v != "" {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				if it.Required {
					problems[it.LinkID] = "required"
				}
				continue
			}
			switch {
			case it.Closed():
				if it.Type != Multi && len(vals) > 1 {
					problems[it.LinkID] = "one_answer"
					continue
				}
				ok := true
				for _, v := range vals {
					ok = ok && slices.ContainsFunc(it.Choices(), func(o Option) bool { return o.Code == v })
				}
				if !ok {
					problems[it.LinkID] = "bad_answer"
					continue
				}
				slices.Sort(vals)
				vals = slices.Compact(vals)
			case it.Type == Date:
				if len(vals) != 1 || !dateRE.MatchString(vals[0]) {
					problems[it.LinkID] = "bad_date"
					continue
				}
			default:
				v := strings.Join(vals, "\n")
				if utf8.RuneCountInString(v) > 2000 {
					problems[it.LinkID] = "too_long"
					continue
				}
				vals = []string{v}
			}
			clean[it.LinkID] = vals
		}
	}
	return clean, problems
}

var dateRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`)

func mergeAnswers(a, b Answers) Answers {
	out := Answers{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Points is what one answered item earns: the chosen options' points times
// the weight, and the most it could have earned.
func (it *Item) Points(vals []string) (got, best int) {
	if it.Weight == 0 || !it.Closed() {
		return 0, 0
	}
	for _, o := range it.Choices() {
		if slices.Contains(vals, o.Code) {
			got += o.Score
		}
	}
	return got * it.Weight, it.MaxPoints() * it.Weight
}

// Negative reports whether an answer must be raised with the department:
// 不满意, a rating of 2 or less, a negative option, or any answer to a
// flagged item.
func (it *Item) Negative(vals []string) bool {
	if len(vals) == 0 {
		return false
	}
	if it.Flag {
		return true
	}
	for _, o := range it.Choices() {
		if o.Negative && slices.Contains(vals, o.Code) {
			return true
		}
	}
	return false
}

// Label is the display text of an answer.
func (it *Item) Label(vals []string) string {
	if !it.Closed() {
		return strings.Join(vals, "")
	}
	var out []string
	for _, o := range it.Choices() {
		if slices.Contains(vals, o.Code) {
			out = append(out, o.Label)
		}
	}
	return strings.Join(out, "、")
}

// Score is a response's total.
type Score struct {
	Points, Max int
}

// Percent is the score out of 100 (-1 when nothing is scored).
func (s Score) Percent() int {
	if s.Max == 0 {
		return -1
	}
	return (s.Points*100 + s.Max/2) / s.Max
}

// Total scores the visible answered items of a response. Unanswered
// optional items do not count against the patient.
func (b *Body) Total(a Answers) Score {
	var s Score
	for _, it := range b.Items() {
		vals := a[it.LinkID]
		if len(vals) == 0 || !b.Visible(it, a) {
			continue
		}
		got, best := it.Points(vals)
		s.Points += got
		s.Max += best
	}
	return s
}
