package notify

import (
	"fmt"
	"slices"
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

// variantWords are other spellings of the same conditions: the mainland
// 爱滋 and the traditional 憂鬱 (traditional forms of the words above are
// folded to simplified by squeeze, so they need no entry).
var variantWords = []string{"爱滋", "忧郁"}

// normWords maps the list once to its matching form.
var normWords = func() []string {
	all := append(slices.Clone(sensitiveWords), variantWords...)
	out := make([]string, len(all))
	for i, w := range all {
		out[i] = squeeze(w)
	}
	return out
}()

// allWords is sensitiveWords then variantWords, as normWords lists them.
var allWords = append(slices.Clone(sensitiveWords), variantWords...)

// traditional maps the traditional characters of the sensitive words to
// their simplified forms, so 腫瘤, 愛滋病, 婦產科 and 精神科診斷 match too.
// Only these characters are needed: every other one is the same in both
// scripts or appears in no word.
var traditional = map[rune]rune{
	'經': '经', '鬱': '郁', '慮': '虑', '雙': '双', '殺': '杀', '殘': '残', '銳': '锐', '濕': '湿', '皰': '疱',
	'婦': '妇', '產': '产', '計': '计', '劃': '划', '陽': '阳', '洩': '泄', '宮': '宫', '頸': '颈', '傳': '传',
	'結': '结', '發': '发', '熱': '热', '門': '门', '診': '诊', '腫': '肿', '療': '疗', '惡': '恶', '癮': '瘾',
	'斷': '断', '確': '确', '愛': '爱', '憂': '忧', '癥': '症',
}

// pinyinWords are the sensitive words spelled in pinyin (tones and
// spaces dropped, ü as v or u), for texts written without characters:
// "jingshenke", "Ai Zi Bing", "zhǒng liú". Each has at least four
// letters, and a match must begin where a word begins, so ordinary
// English and random link tokens do not trip it.
var pinyinWords = []string{
	"jingshen", "xinli", "shenjingzheng", "yiyu", "youyu", "jiaolv", "jiaolu", "zaokuang", "shuangxiang", "fenlie",
	"zisha", "zican", "shimian",
	"xingbing", "meidu", "linbing", "jianruishiyou", "paozhen", "shengzhi", "buyun", "buyu", "nanke", "fuchan", "fuke",
	"chanke", "jihuashengyu", "renliu", "liuchan", "yinchan", "biyun", "yangwei", "zaoxie", "qianliexian", "ruxian",
	"gongjing",
	"aizi", "chuanran", "ganran", "ganyan", "yigan", "binggan", "jiehe", "xinguan", "faremenzhen",
	"zhongliu", "aizheng", "hualiao", "fangliao", "baixuebing", "linbaliu", "exing",
	"jiedu", "jiejiu", "chengyin", "meishatong", "dupin",
	"zhenduan", "quezhen", "bingli",
}

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

// squeeze keeps only letters and digits, upper-cased and traditional
// characters simplified, so "肿 瘤", "腫瘤" and "h-i-v" match their words.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if x, ok := traditional[r]; ok {
				return x
			}
			return unicode.ToUpper(r)
		}
		return -1
	}, fold(s))
}

// toneless maps a pinyin vowel with a tone mark to its bare letter (ü and
// its tones to v, as pinyin keyboards type it).
var toneless = map[rune]rune{
	'ā': 'a', 'á': 'a', 'ǎ': 'a', 'à': 'a', 'ē': 'e', 'é': 'e', 'ě': 'e', 'è': 'e', 'ī': 'i', 'í': 'i', 'ǐ': 'i', 'ì': 'i',
	'ō': 'o', 'ó': 'o', 'ǒ': 'o', 'ò': 'o', 'ū': 'u', 'ú': 'u', 'ǔ': 'u', 'ù': 'u', 'ü': 'v', 'ǖ': 'v', 'ǘ': 'v', 'ǚ': 'v',
	'ǜ': 'v', 'ń': 'n', 'ň': 'n', 'ǹ': 'n', 'ḿ': 'm',
}

// pinyinForm lower-cases s to bare letters: tone marks dropped, a tone
// number (1–5) right after a letter dropped, and spaces, hyphens,
// apostrophes, dots and underscores between letters removed, so
// "Ài-zī bìng", "ai4 zi1 bing4" and "ai'zi'bing" all read "aizibing".
// start marks the positions where a word began in s.
func pinyinForm(s string) (string, []bool) {
	var b []byte
	var start []bool
	prevLetter, inWord := false, false
	for _, r := range fold(s) {
		if x, ok := toneless[unicode.ToLower(r)]; ok {
			r = x
		}
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r))
			start = append(start, !inWord)
			prevLetter, inWord = true, true
		case r >= '1' && r <= '5' && prevLetter:
			prevLetter = false // a tone number ends the syllable
		case r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.' || r == '_' || r == '\u00b7':
			prevLetter, inWord = false, false
		default:
			// Anything else (a character, a digit, punctuation) ends the
			// run: nothing joins across it.
			if len(b) > 0 && b[len(b)-1] != '|' {
				b = append(b, '|')
				start = append(start, false)
			}
			prevLetter, inWord = false, false
		}
	}
	return string(b), start
}

// pinyinHit returns the first pinyin word in s that begins a word.
func pinyinHit(s string) string {
	p, start := pinyinForm(s)
	for _, w := range pinyinWords {
		for i := 0; ; {
			j := strings.Index(p[i:], w)
			if j < 0 {
				break
			}
			if start[i+j] {
				return w
			}
			i += j + 1
		}
	}
	return ""
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
			return fmt.Errorf("content guard: %q names a sensitive specialty or diagnosis", allWords[i])
		}
	}
	if w := pinyinHit(s); w != "" {
		return fmt.Errorf("content guard: %q spells a sensitive specialty or diagnosis in pinyin", w)
	}
	return nil
}

// numeral reads one digit of a number as people write it: ASCII (the
// text is folded already), Chinese numerals read digit by digit (一一〇一
// …, with 〇/零/○, 两 and 幺 as on the phone), and the financial forms
// (壹贰叁…, 貳參陸 in traditional script).
func numeral(r rune) bool {
	if r >= '0' && r <= '9' {
		return true
	}
	return strings.ContainsRune("〇零○一二三四五六七八九两兩幺壹贰貳叁參肆伍陆陸柒捌玖", r)
}

// longestDigitRun counts digits (and an ID's trailing X) in a run that may
// be broken by spaces, hyphens or dots, as people write ID numbers
// "110101 19900307 123X", or in Chinese numerals "一一〇一〇五一九五八…",
// mixed with Arabic ones or not. Two phone numbers side by side count as one run,
// which the guard refuses too: a false alarm, never a leak.
func longestDigitRun(s string) int {
	best, cur := 0, 0
	prevSep := false
	for _, r := range s {
		switch {
		case numeral(r) || (r == 'X' || r == 'x') && cur >= 14:
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
