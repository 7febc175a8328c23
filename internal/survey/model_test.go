package survey

import (
	"testing"

	"suifang/internal/errs"
)

func TestModelConditionsAndScores(t *testing.T) {
	b := Body{Sections: []Section{
		{Title: "A", Items: []Item{
			{LinkID: "overall", Text: "总体", Type: Satisfaction, Required: true, Weight: 10},
			{LinkID: "why", Text: "为什么", Type: Text, Required: true, When: &Condition{LinkID: "overall", Equals: Dissatisfied}},
			{LinkID: "why_more", Text: "还有呢", Type: YesNo, When: &Condition{LinkID: "why_pick", Equals: "x"}},
		}},
		{Title: "B", Items: []Item{
			{LinkID: "stars", Text: "评分", Type: Rating, Weight: 2},
			{LinkID: "tags", Text: "哪些方面", Type: Multi, Weight: 1, Options: []Option{{Code: "a", Label: "甲", Score: 2}, {Code: "b", Label: "乙", Score: 3}}},
			{LinkID: "when", Text: "复诊日期", Type: Date},
		}},
	}}
	// why_more refers to an item that does not exist (or comes later).
	if err := b.Validate(); errs.CodeOf(err) != "bad_condition" {
		t.Fatalf("validate: %v", err)
	}
	b.Sections[0].Items = b.Sections[0].Items[:2]
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	// The reason is required only when 不满意 was chosen.
	if _, p := b.Check(0, Answers{"overall": {Satisfied}}); len(p) != 0 {
		t.Fatalf("satisfied: %v", p)
	}
	if _, p := b.Check(0, Answers{"overall": {Dissatisfied}}); p["why"] != "required" {
		t.Fatalf("dissatisfied without reason: %v", p)
	}
	// A hidden item's answer is dropped.
	clean, _ := b.Check(0, Answers{"overall": {Satisfied}, "why": {"stale"}})
	if _, ok := clean["why"]; ok {
		t.Fatal("hidden answer kept")
	}
	cases := []struct {
		a    Answers
		prob string
	}{
		{Answers{"stars": {"6"}}, "bad_answer"},
		{Answers{"stars": {"1", "2"}}, "one_answer"},
		{Answers{"when": {"2026-02-30x"}}, "bad_date"},
		{Answers{"tags": {"a", "z"}}, "bad_answer"},
	}
	for _, c := range cases {
		if _, p := b.Check(1, c.a); p[firstKey(c.a)] != c.prob {
			t.Errorf("%v: %v, want %s", c.a, p, c.prob)
		}
	}
	a := Answers{"overall": {Basically}, "stars": {"4"}, "tags": {"a", "b"}}
	got := b.Total(a)
	// overall 1×10 of 20, stars 4×2 of 10, tags 5×1 of 5.
	if got.Points != 23 || got.Max != 35 || got.Percent() != 66 {
		t.Fatalf("total %+v %d", got, got.Percent())
	}
	// Unanswered optional items do not count against the patient.
	if s := b.Total(Answers{"overall": {Satisfied}}); s.Points != 20 || s.Max != 20 {
		t.Fatalf("partial total %+v", s)
	}
	stars := b.Item("stars")
	if !stars.Negative([]string{"2"}) || stars.Negative([]string{"3"}) {
		t.Fatal("rating ≤ 2 is negative")
	}
	if !b.Item("overall").Negative([]string{Dissatisfied}) || b.Item("overall").Negative([]string{Basically}) {
		t.Fatal("不满意 is negative")
	}
	if l := b.Item("tags").Label([]string{"b", "a"}); l != "甲、乙" {
		t.Fatalf("label %q", l)
	}
}

func firstKey(a Answers) string {
	for k := range a {
		return k
	}
	return ""
}
