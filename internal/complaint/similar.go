package complaint

import (
	"slices"
	"unicode"
)

// Similarity measures how alike two complaint texts are, from 0 (nothing
// shared) to 1 (the same words). Chinese has no spaces between words, so
// the text is cut into overlapping pairs of characters (bigrams) and
// compared with the Dice coefficient over those multisets:
// 2·|A∩B| / (|A|+|B|). Punctuation, spaces and letter case do not count,
// full-width letters and digits read as their ASCII forms, and a run of
// Latin letters or digits counts as one token (so "CT" or "380" are not
// split into meaningless pairs of letters).
func Similarity(a, b string) float64 {
	return profileOf(a).dice(profileOf(b))
}

// DefaultSimilarity is the score from which two texts about the same
// patient or contact are shown as a possible duplicate. Retellings of one
// event score about 0.4–0.45 on the test texts; different events about
// the same department stay under 0.05.
const DefaultSimilarity = 0.3

// maxSimilarityRunes bounds the work on a text: complaints are at most
// 4000 characters; anything beyond is ignored.
const maxSimilarityRunes = 4000

// profile is a text's bigrams, sorted, each two token ids in one word; a
// text with a single token keeps that token as its only "bigram" with
// single set, so "差" still equals "差".
type profile struct {
	grams  []uint64
	single bool
}

// profileOf tokenises s: a Han character is its own token (its code
// point); a run of letters or digits is one token (a 31-bit hash with the
// top bit set, so it never equals a code point).
func profileOf(s string) profile {
	var toks []uint32
	var run []rune
	flush := func() {
		if len(run) > 0 {
			h := uint32(2166136261) // FNV-1a over the runes
			for _, r := range run {
				h = (h ^ uint32(r)) * 16777619
			}
			toks = append(toks, h|1<<31)
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
		case r >= 0x4E00 && r <= 0x9FFF || r > 0x2E7F && unicode.Is(unicode.Han, r): // the common block first
			flush()
			toks = append(toks, uint32(r))
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') || r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			run = append(run, r)
		default:
			flush()
		}
	}
	flush()
	if len(toks) == 1 {
		return profile{grams: []uint64{uint64(toks[0])}, single: true}
	}
	p := profile{}
	if len(toks) > 1 {
		p.grams = make([]uint64, 0, len(toks)-1)
		for i := 1; i < len(toks); i++ {
			p.grams = append(p.grams, uint64(toks[i-1])<<32|uint64(toks[i]))
		}
		slices.Sort(p.grams)
	}
	return p
}

// dice is the Dice coefficient of two profiles: the multiset intersection
// of two sorted lists, walked once.
func (p profile) dice(q profile) float64 {
	if len(p.grams) == 0 || len(q.grams) == 0 || p.single != q.single {
		return 0
	}
	shared, i, j := 0, 0, 0
	for i < len(p.grams) && j < len(q.grams) {
		switch {
		case p.grams[i] == q.grams[j]:
			shared++
			i++
			j++
		case p.grams[i] < q.grams[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(shared) / float64(len(p.grams)+len(q.grams))
}

// fold maps full-width ASCII (Ａ, ３) to ASCII and lower-cases letters.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	return unicode.ToLower(r)
}
