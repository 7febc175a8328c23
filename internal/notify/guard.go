package notify

import (
	"fmt"
	"strings"
	"unicode"
)

// The content guard is the last check before a message can leave the
// server. A text message or an e-mail is read by whoever holds the phone or
// the mailbox (family, employer, a shared WeChat account) and may be kept
// by the SMS cloud, so it must never reveal why the person was in hospital.
// The guard refuses, rather than redacts: a refused message goes to the
// dead list with the reason and a person decides what to send instead.
//
// It is deliberately conservative: a false alarm costs one message a staff
// member re-words; a miss discloses a diagnosis.

// sensitiveWords are department and specialty names whose mere mention
// discloses a stigmatised condition (mental health, sexual and
// reproductive health, infectious disease, cancer, addiction), and
// diagnosis words of the same kind. Matching ignores spaces, punctuation
// and zero-width characters between the characters.
var sensitiveWords = []string{
	// Mental health.
	"精神", "心理", "神经症", "抑郁", "焦虑", "躁狂", "双相", "分裂", "自杀", "自残", "失眠",
	// Sexual and reproductive health.
	"性病", "皮肤性病", "梅毒", "淋病", "尖锐湿疣", "疱疹", "生殖", "不孕", "不育", "男科", "妇产", "妇科", "产科",
	"计划生育", "人流", "流产", "引产", "避孕", "阳痿", "早泄", "前列腺", "乳腺", "宫颈",
	// Infectious disease.
	"艾滋", "HIV", "AIDS", "传染", "感染", "肝炎", "乙肝", "丙肝", "结核", "肺结核", "新冠", "发热门诊",
	// Cancer.
	"肿瘤", "癌", "化疗", "放疗", "白血病", "淋巴瘤", "恶性",
	// Addiction.
	"戒毒", "戒酒", "成瘾", "美沙酮", "毒品",
	// Words that name a diagnosis outright.
	"诊断", "确诊", "病理", "ICD",
}

// normWords maps the list once to its matching form.
var normWords = func() []string {
	out := make([]string, len(sensitiveWords))
	for i, w := range sensitiveWords {
		out[i] = squeeze(w)
	}
	return out
}()

// fold maps full-width ASCII (Ａ, ３) to ASCII and drops invisible
// characters, so look-alikes cannot slip past the checks.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || r == 0x00AD:
			return -1
		}
		return r
	}, s)
}

// squeeze keeps only letters and digits, upper-cased, so "肿 瘤" and
// "h-i-v" match their words.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		return -1
	}, fold(s))
}

// Guard reports why s must not be sent, or nil. Percent-encoded text (a
// link's query) is checked decoded as well.
func Guard(s string) error {
	if err := guard(s); err != nil {
		return err
	}
	if strings.Contains(s, "%") {
		return guard(unpercent(s))
	}
	return nil
}

// unpercent decodes every valid %XX and leaves anything else as it is, so a
// stray % cannot switch the decoding off.
func unpercent(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func guard(s string) error {
	f := fold(s)
	if n := longestDigitRun(f); n >= 15 {
		return fmt.Errorf("content guard: %d digits in a row look like a national ID number", n)
	}
	if code := icdLike(f); code != "" {
		return fmt.Errorf("content guard: %q looks like an ICD-10 diagnosis code", code)
	}
	sq := squeeze(s)
	for i, w := range normWords {
		if strings.Contains(sq, w) {
			return fmt.Errorf("content guard: %q names a sensitive specialty or diagnosis", sensitiveWords[i])
		}
	}
	return nil
}

// longestDigitRun counts digits (and an ID's trailing X) in a run that may
// be broken by spaces, hyphens or dots, as people write ID numbers
// "110101 19900307 123X". Two phone numbers side by side count as one run,
// which the guard refuses too: a false alarm, never a leak.
func longestDigitRun(s string) int {
	best, cur := 0, 0
	prevSep := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9' || (r == 'X' || r == 'x') && cur >= 14:
			cur++
			prevSep = false
		case (r == ' ' || r == '-' || r == '.' || r == '\u00a0') && cur > 0 && !prevSep:
			prevSep = true
		default:
			cur, prevSep = 0, false
		}
		best = max(best, cur)
	}
	return best
}

// icdLike finds a token shaped like an ICD-10 code: a letter and two
// digits, then optionally up to two more digits (C349, as some HIS write it)
// or a dot and up to four characters (I21, C34.9, F32.1, O80, Z51.101). It
// reads the text upper-cased so "c34.9" counts too. A letter followed by
// five or more digits is an order or room number, not a code.
func icdLike(s string) string {
	rs := []rune(strings.ToUpper(s))
	isD := func(i int) bool { return i >= 0 && i < len(rs) && rs[i] >= '0' && rs[i] <= '9' }
	isWord := func(i int) bool {
		return i >= 0 && i < len(rs) && (rs[i] >= 'A' && rs[i] <= 'Z' || rs[i] >= '0' && rs[i] <= '9')
	}
	for i := 0; i+2 < len(rs); i++ {
		if rs[i] < 'A' || rs[i] > 'Z' || isWord(i-1) || !isD(i+1) || !isD(i+2) {
			continue
		}
		j := i + 3
		switch {
		case j < len(rs) && rs[j] == '.' && isWord(j+1):
			j++
			for k := 0; k < 4 && isWord(j); k++ {
				j++
			}
		default:
			for k := 0; k < 2 && isD(j); k++ {
				j++
			}
		}
		if isWord(j) {
			continue
		}
		return string(rs[i:j])
	}
	return ""
}
