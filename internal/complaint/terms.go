package complaint

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Recurring words in what complainants wrote, kept simple enough to explain
// on the page: Chinese has no spaces, so every two neighbouring Chinese
// characters form a candidate word (a bigram: "等候时间" gives 等候, 候时,
// 时间); a bigram holding a function word (的, 了, 是 …) is dropped. Latin
// words of three or more letters count as words. Digits are never terms:
// they would be phone numbers, dates or record numbers. Each complaint
// counts a term once, so one long letter does not outweigh ten short ones,
// and a term must recur in at least two complaints to be listed.

// Term is a word or bigram and the number of complaints using it.
type Term struct {
	Text string
	N    int
}

// stopRunes are Chinese function words and pronouns that make a bigram
// meaningless.
const stopRunes = "的了是在我有和就不都也很到说要去你会着没这那他她它们又被把让给对从向与及而但还吧呢吗啊么个之为以其此并或即则却已将"

var stopWords = map[string]bool{"the": true, "and": true, "for": true, "was": true, "were": true, "with": true, "not": true,
	"but": true, "are": true, "this": true, "that": true, "have": true, "has": true, "had": true, "our": true, "his": true,
	"her": true, "they": true, "you": true, "she": true, "him": true, "from": true, "very": true, "all": true, "any": true}

// maxTermText bounds the text read from one complaint (the form allows
// 4000 characters).
const maxTermText = 4000

// Terms returns the distinct terms of one text, in order of first use.
func Terms(text string) []string {
	var out []string
	seen := map[string]bool{}
	addTerm := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	var prev rune // the previous Chinese character, 0 after anything else
	var word strings.Builder
	flush := func() {
		if w := word.String(); utf8.RuneCountInString(w) >= 3 && !stopWords[w] {
			addTerm(w)
		}
		word.Reset()
	}
	n := 0
	for _, r := range text {
		if n++; n > maxTermText {
			break
		}
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			if prev != 0 && !strings.ContainsRune(stopRunes, prev) && !strings.ContainsRune(stopRunes, r) {
				addTerm(string([]rune{prev, r}))
			}
			prev = r
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			prev = 0
			if word.Len() < 40 { // no term is longer; a pasted blob is not a word
				word.WriteRune(unicode.ToLower(r))
			}
		default:
			prev = 0
			flush()
		}
	}
	flush()
	return out
}

// TopTerms counts the terms of texts, each text once per term, and returns
// the n most used that recur in at least two texts.
func TopTerms(texts []string, n int) []Term {
	count := map[string]int{}
	for _, t := range texts {
		for _, w := range Terms(t) {
			count[w]++
		}
	}
	var out []Term
	for w, k := range count {
		if k >= 2 {
			out = append(out, Term{Text: w, N: k})
		}
	}
	slices.SortFunc(out, func(a, b Term) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Text, b.Text)) })
	return out[:min(len(out), n)]
}
