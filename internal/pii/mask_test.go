package pii

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestMaskName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"张", "*"},
		{"张三", "张*"},
		{"张小明", "张*明"},
		{"欧阳小明", "欧**明"},
		{"司马相如", "司**如"},
		{"欧阳娜", "欧*娜"},
		{" 张三 ", "张*"},
		{"张 三", "张*"},
		{"阿依古丽·买买提", "阿******提"},
		{"Adam Everyman", "A*** E*******"},
		{"Adam  Everyman\t", "A*** E*******"},
		{"adam", "a***"},
		{"A B", "* *"},
		{"J. Smith", "J* S****"},
		{"Zoë", "Z**"},
		{"😀", "*"},
		{"😀😀", "😀*"},
		{"张😀三", "张*三"},
		{"李🙂", "李*"},
		{"\xff\xfe", "\uFFFD*"},
	} {
		if got := MaskName(c.in); got != c.want {
			t.Errorf("MaskName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"13812345678", "138****5678"},
		{"138 1234 5678", "138 **** 5678"},
		{"138-1234-5678", "138-****-5678"},
		{"010-12345678", "010-****5678"},
		{"(010) 1234-5678", "(010) ****-5678"},
		{"0755-12345678", "075*-****5678"},
		{"+8613812345678", "+86138****5678"},
		{"+86 138 1234 5678", "+86 138 **** 5678"},
		{"0086 13812345678", "0086 138****5678"},
		{"8613812345678", "86138****5678"},
		{"+86 10 12345678", "+86 10 ****5678"},
		{"１３８１２３４５６７８", "１３８****５６７８"},
		{"12345678", "****5678"},
		{"1234567", "***4567"},
		{"123456789", "1****6789"},
		{"123456", "****56"},
		{"12345", "***45"},
		{"123", "*23"},
		{"12", "*2"},
		{"1", "*"},
		{"010-12345678转123", "010-*******8*123"},
		{"abc", "***"},
		{"+86", "+*6"},
		{"--", "--"},
		{"😀13812345678", "*138****5678"},
	} {
		if got := MaskPhone(c.in); got != c.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskNationalID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"11010519491231002X", "110***********002X"},
		{"110105194912311234", "110***********1234"},
		{" 11010519491231002x ", "110***********002x"},
		{"110105491231002", "110*********002"},
		{"1", "*"},
		{"12", "**"},
		{"123", "1*3"},
		{"E12345678", "E*******8"},
		{"身份证号码", "身***码"},
		{"😀😀😀", "😀*😀"},
	} {
		if got := MaskNationalID(c.in); got != c.want {
			t.Errorf("MaskNationalID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"北京市朝阳区建国路88号", "北京市朝阳区****"},
		{"广东省深圳市南山区科技园南区1栋101", "广东省深圳市****"},
		{"上海市浦东新区世纪大道1号", "上海市浦东新****"},
		{"北京市朝阳区1", "北京市朝阳区****"},
		{"北京市朝阳区", "北京市****"},
		{"88号", "8****"},
		{"号", "****"},
		{"1600 Pennsylvania Avenue", "1600 P****"},
		{"😀😀😀😀😀😀😀😀", "😀😀😀😀😀😀****"},
	} {
		if got := MaskAddress(c.in); got != c.want {
			t.Errorf("MaskAddress(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// checkMasked verifies that out is a safe mask of in: valid UTF-8, every
// shown rune (other than '*' and the spaces MaskName joins words with)
// taken from the input, and at least one rune masked when the input has
// any letter or digit.
func checkMasked(t *testing.T, name, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q) = %q: invalid UTF-8", name, in, out)
	}
	have := map[rune]int{}
	for _, r := range in { // invalid bytes count as U+FFFD, as in the masks
		have[r]++
	}
	shown := 0
	for _, r := range out {
		if r == maskRune || r == ' ' {
			continue
		}
		if have[r] == 0 {
			t.Fatalf("%s(%q) = %q shows %q more often than the input has it", name, in, out, r)
		}
		have[r]--
		shown++
	}
	if shown > utf8.RuneCountInString(in) {
		t.Fatalf("%s(%q) = %q shows more runes than the input has", name, in, out)
	}
	if strings.ContainsFunc(in, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) &&
		!strings.ContainsRune(out, maskRune) {
		t.Fatalf("%s(%q) = %q masks nothing", name, in, out)
	}
	if strings.TrimSpace(in) != "" && out == "" {
		t.Fatalf("%s(%q) is empty", name, in)
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "张三", "欧阳小明", "Adam Everyman", "13812345678", "+86 138 1234 5678",
		"010-12345678", "11010519491231002X", "110105491231002", "北京市朝阳区建国路88号", "😀", "👨‍👩‍👧",
		"\xff\xfe\xfd", "a\u0301", " \t\n", "１３８", "\u3000张\u3000三\u3000", "*****", "8613812345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMasked(t, "MaskName", s, MaskName(s))
		checkMasked(t, "MaskPhone", s, MaskPhone(s))
		checkMasked(t, "MaskNationalID", s, MaskNationalID(s))
		checkMasked(t, "MaskAddress", s, MaskAddress(s))
	})
}

// A rejected CSV row as Excel saves it and an HL7 PID segment: ID numbers
// and phones are masked, the rest stays readable.
func TestMaskText(t *testing.T) {
	cases := []struct{ in, want string }{
		{`ZY20260012,张建国,男,1956-03-14,11010519560314201X,13812345678,"北京市朝阳区建国路88号"`,
			`ZY2******2,张建国,男,1956-03-14,110***********201X,138****5678,"北京市朝阳区建国路88号"`},
		{`PID|1||000123456^^^HIS^MR||王秀兰^^^^^^L||19490512|F|||||(010)87654321|||||||44010619490512042x`,
			`PID|1||0*******6^^^HIS^MR||王秀兰^^^^^^L||1******2|F|||||(010)8******1|||||||440***********042x`},
		{"visit=V001 mrn=12345", "visit=V001 mrn=12345"},
		{"电话：１３９１２３４５６７８", "电话：１３９****５６７８"},
		{"", ""},
	}
	for _, c := range cases {
		if got := MaskText(c.in); got != c.want {
			t.Errorf("MaskText(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

func FuzzMaskText(f *testing.F) {
	for _, s := range []string{"11010519560314201X", "a13812345678b", "１３９１２３４５６７８", "123456", "\xff99999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskText(s)
		if utf8.RuneCountInString(out) != len([]rune(s)) {
			t.Fatalf("MaskText(%q) = %q changes the length", s, out)
		}
		// No run of six or more digits survives unmasked.
		run := 0
		for _, r := range out {
			if unicode.IsDigit(r) {
				if run++; run >= 6 {
					t.Fatalf("MaskText(%q) = %q keeps a long number", s, out)
				}
			} else {
				run = 0
			}
		}
	})
}
