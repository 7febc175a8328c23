package complaint

import (
	"unicode"
)

// Similarity measures how alike two complaint texts are, from 0 (nothing
// shared) to 1 (the same words). Chinese has no spaces between words, so
// the text is cut into overlapping character pairs (bigrams) and compared
// with the Dice coefficient over those multisets: 2·|A∩B| / (|A|+|B|).
// Punctuation, spaces and letter case do not count, full-width letters
// and digits read as their ASCII forms, and a run of Latin letters or
// digits counts as one token (so "CT" or "3000元" are not split into
// meaningless pairs of letters).
func Similarity(a, b string) float64 {
	ta, tb := tokens(a), tokens(b)
	ga, gb := bigrams(ta), bigrams(tb)
	if len(ga) == 0 || len(gb) == 0 {
		// One token or none: only an identical text is similar.
		if len(ta) == 1 && len(tb) == 1 && ta[0] == tb[0] {
			return 1
		}
		return 0
	}
	count := make(map[[2]string]int, len(ga))
	for _, g := range ga {
		count[g]++
	}
	shared := 0
	for _, g := range gb {
		if count[g] > 0 {
			count[g]--
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(ga)+len(gb))
}

// maxSimilarityRunes bounds the work on a text: complaints are at most
// 4000 characters; anything beyond is ignored.
const maxSimilarityRunes = 4000

// tokens cuts s into Han characters (one token each) and runs of letters
// or digits, dropping everything else.
func tokens(s string) []string {
	var out []string
	var run []rune
	flush := func() {
		if len(run) > 0 {
			out = append(out, string(run))
			run = run[:0]
		}
	}
	n := 0
	for _, r := range s {
		if n++; n > maxSimilarityRunes {
			break
		}
		r = fold(r)
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			run = append(run, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// fold maps full-width ASCII (Ａ, ３) to ASCII and lower-cases letters.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	return unicode.ToLower(r)
}

func bigrams(ts []string) [][2]string {
	if len(ts) < 2 {
		return nil
	}
	out := make([][2]string, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		out = append(out, [2]string{ts[i-1], ts[i]})
	}
	return out
}

// DefaultSimilarity is the score from which two texts about the same
// patient or contact are shown as a possible duplicate. Retellings of one
// event score 0.4–0.7 on the test texts; different events about the same
// department stay under 0.2.
const DefaultSimilarity = 0.35
