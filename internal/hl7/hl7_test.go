package hl7

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func sampleDir() string { return filepath.Join("..", "..", "..", "shared", "data", "hl7") }

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir(), name))
	if err != nil {
		t.Skipf("sample data not available: %v", err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *Message {
	t.Helper()
	m, err := ParseMessage(b)
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	return m
}

func gb(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSampleFieldNumbering(t *testing.T) {
	m := mustParse(t, readSample(t, "ADT-A01-01.hl7"))
	tests := map[string]string{
		"MSH-1":        "|",
		"MSH-2":        `^~\&`,
		"MSH-3":        "ADTApp",
		"MSH-4":        "GHHSFacility",
		"MSH-4.2":      "2.16.840.1.122848.1.30",
		"MSH-7":        "198908181126+0215",
		"MSH-9":        "ADT",
		"MSH-9.2":      "A01",
		"MSH-9.3":      "ADT_A01",
		"MSH-10":       "MSG00001",
		"MSH-11":       "P",
		"MSH-12":       "2.8",
		"MSH-17":       "USA",
		"MSH-19":       "en-US",
		"EVN-1":        "A01",
		"PID-3":        "PATID1234",
		"PID-3.5":      "MR",
		"PID-3.4.2":    "2.16.1",
		"PID-3[2].1":   "123456789",
		"PID-3[2].5":   "SS",
		"PID-3[3].1":   "",
		"PID-5":        "EVERYMAN",
		"PID-5.1.5":    "Aniston",
		"PID-5.2":      "ADAM",
		"PID-5[2].7":   "L",
		"PID-7":        "198808181126+0215",
		"PID-11.1.2":   "Hospital Lane",
		"PID-11.3":     "Ann Arbor ",
		"PID-13[2]":    "12121212",
		"PID-13.12":    "2222",
		"PID-30":       "Y",
		"PV1-3.4":      "HOMERTON UNIVER",
		"PV1-3.1.2":    "9.8",
		"PV1-7.3":      "Mohammed",
		"PV1-14":       "NHS Provider-General (inc.A&E-this Hosp)",
		"PV1-19":       "40007716",
		"PV1-44":       "20150208113419+0110",
		"PV1-45":       "",
		"DG1-3.2":      "Ischemic stroke(disorder)",
		"ROL[2]-4.2":   "Smith",
		"ROL[3]-4.2":   "Phoeb",
		"ROL[4]-4.2":   "",
		"ZZZ-1":        "",
		"PID-999":      "",
		"PID-5[999].1": "",
	}
	for path, want := range tests {
		if got := m.Get(path); got != want {
			t.Errorf("Get(%q) = %q, want %q", path, got, want)
		}
	}
	pid := m.Segment("PID")
	if n := pid.Field(5).NumReps(); n != 2 {
		t.Errorf("PID-5 repetitions = %d, want 2", n)
	}
	if n := pid.Field(3).Rep(1).Component(4); !reflect.DeepEqual(n, Component{"test1", "2.16.1", "HCD"}) {
		t.Errorf("PID-3.4 = %q", n)
	}
	if got := len(m.SegmentsNamed("ROL")); got != 3 {
		t.Errorf("ROL segments = %d, want 3", got)
	}
	if m.Encoding != UTF8 {
		t.Errorf("Encoding = %q", m.Encoding)
	}
	if code, trig := m.Type(); code != "ADT" || trig != "A01" {
		t.Errorf("Type() = %q, %q", code, trig)
	}
	// String reproduces the segments as sent.
	// (The sample files end segments with \n, not \r as their README says.)
	orig := strings.TrimRight(strings.ReplaceAll(string(readSample(t, "ADT-A01-01.hl7")), "\n", "\r"), "\r")
	if got := strings.TrimRight(m.String(), "\r"); got != orig {
		t.Errorf("String() does not round-trip")
	}
}

func TestAllSamplesParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sampleDir(), "*.hl7"))
	if len(files) == 0 {
		t.Skip("no samples")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		m := mustParse(t, b)
		if m.Segment("PID") == nil || m.Segment("PV1") == nil {
			t.Errorf("%s: PID or PV1 missing", f)
		}
	}
}

func TestEscapes(t *testing.T) {
	d := DefaultDelimiters
	d.Truncation = '#'
	tests := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\F\b`, "a|b"},
		{`a\S\b\T\c\R\d\E\e`, `a^b&c~d\e`},
		{`trunc\P\`, "trunc#"},
		{`line1\.br\line2`, "line1\nline2"},
		{`\X41424344\`, "ABCD"},
		{`\XE4B8AD\`, "中"},
		{`\XE9\`, "é"}, // not UTF-8: read as Latin-1
		{`\X4\`, `\X4\`},
		{`\XZZ\`, `\XZZ\`},
		{`\H\bold\N\`, `\H\bold\N\`},
		{`\Zfoo\`, `\Zfoo\`},
		{`unterminated \F`, `unterminated \F`},
		{`\`, `\`},
		{`\\`, `\\`},
	}
	for _, tt := range tests {
		if got := d.UnescapeText(tt.in); got != tt.want {
			t.Errorf("UnescapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{`a|b^c&d~e\f#g`, "x\ny", "中文|测试"} {
		if got := d.UnescapeText(d.EscapeText(s)); got != s {
			t.Errorf("round trip %q -> %q -> %q", s, d.EscapeText(s), got)
		}
	}
	if got := d.EscapeText("a\r\nb"); got != `a\.br\b` {
		t.Errorf("EscapeText CRLF = %q", got)
	}
	// Escapes inside a parsed message, with non-default delimiters.
	m := mustParse(t, []byte("MSH!*@$%!A!B\rPID!1!!x$F$y*z$S$w@r%s!"))
	if m.Delims != (Delimiters{'!', '*', '@', '$', '%', 0}) {
		t.Fatalf("Delims = %+v", m.Delims)
	}
	if got := m.Get("PID-3"); got != "x!y" {
		t.Errorf("PID-3 = %q", got)
	}
	if got := m.Get("PID-3.2"); got != "z*w" {
		t.Errorf("PID-3.2 = %q", got)
	}
	if got := m.Get("PID-3[2].1.2"); got != "s" {
		t.Errorf("PID-3[2].1.2 = %q", got)
	}
	if got := m.Get("MSH-3"); got != "A" {
		t.Errorf("MSH-3 = %q", got)
	}
}

func TestRepetitionsComponents(t *testing.T) {
	m := mustParse(t, []byte("MSH|^~\\&|S|F|R|RF|20250101||ADT^A01|1|P|2.5\rPID|1||A1^^^H^MR~B2^^^H^NNCHN~||Zhang&Z^San||||||Street 1&Lane^Apt 2^City^Prov^100000\r"))
	pid := m.Segment("PID")
	if n := pid.Field(3).NumReps(); n != 3 {
		t.Errorf("PID-3 reps = %d, want 3 (trailing empty)", n)
	}
	if got := m.Get("PID-3[2].5"); got != "NNCHN" {
		t.Errorf("PID-3[2].5 = %q", got)
	}
	if got := m.Get("PID-3[3].1"); got != "" {
		t.Errorf("PID-3[3].1 = %q", got)
	}
	if got := m.Get("PID-5.1.2"); got != "Z" {
		t.Errorf("PID-5.1.2 = %q", got)
	}
	if got := m.Get("PID-11.1.2"); got != "Lane" {
		t.Errorf("PID-11.1.2 = %q", got)
	}
	if got := pid.Field(11).Rep(1).Component(1).String(); got != "Street 1&Lane" {
		t.Errorf("component String = %q", got)
	}
	if pid.NumFields() != 11 {
		t.Errorf("NumFields = %d", pid.NumFields())
	}
	if !pid.Field(2).IsEmpty() || pid.Field(2).NumReps() != 0 {
		t.Errorf("PID-2 should be empty")
	}
	for _, p := range []string{"", "PID", "PID-", "PID-0", "PID-x", "PID-3[0]", "PID-3[", "PID-3[]", "PID-3.", "PID-3..1", "PID-3.1.1.1",
		"PID[0]-3", "PID[2]-3", "-3", "PID-3.0", "PID-3.-1", "PID-99999999"} {
		if got := m.Get(p); got != "" {
			t.Errorf("Get(%q) = %q, want empty", p, got)
		}
	}
}

func TestLineEndings(t *testing.T) {
	segs := []string{"MSH|^~\\&|S|F|R|RF|20250101||ADT^A03|9|P|2.4", "PID|1||M1^^^^MR", "PV1|1|I|W1"}
	want := mustParse(t, []byte(strings.Join(segs, "\r")))
	for name, text := range map[string]string{
		"LF":          strings.Join(segs, "\n"),
		"CRLF":        strings.Join(segs, "\r\n") + "\r\n",
		"mixed+blank": "\n\n" + segs[0] + "\r\n\r\n" + segs[1] + "\n  \n" + segs[2] + "\r",
		"MLLP":        "\x0b" + strings.Join(segs, "\r") + "\r\x1c\r",
		"BOM":         "\xef\xbb\xbf" + strings.Join(segs, "\n"),
	} {
		got, err := ParseMessage([]byte(text))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parsed differently", name)
		}
	}
	if len(want.Segments) != 3 || want.Get("PV1-3") != "W1" {
		t.Errorf("unexpected parse: %+v", want.Segments)
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"no MSH":       "PID|1\r",
		"short MSH":    "MSH",
		"alnum sep":    "MSHA^~\\&A",
		"no enc chars": "MSH||S",
		"dup enc":      "MSH|^^\\&|S",
		"long enc":     "MSH|^~\\&#!|S",
		"bad segment":  "MSH|^~\\&|S\rpid|1",
		"long name":    "MSH|^~\\&|S\rPIDX|1",
	} {
		_, err := ParseMessage([]byte(in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want *ParseError", name, err)
		}
	}
	_, err := ParseMessage([]byte("MSH|^~\\&|S\rPID|1\rxx|2"))
	if err == nil || !strings.Contains(err.Error(), "segment 3") {
		t.Errorf("error should name segment 3: %v", err)
	}
}

func TestTruncationCharacter(t *testing.T) {
	m := mustParse(t, []byte("MSH|^~\\&#|S|F|||||ADT^A01|1|P|2.7\rNTE|1||long text#\rPID|1||A\\P\\B"))
	if m.Delims.Truncation != '#' || m.Get("MSH-2") != "^~\\&#" {
		t.Errorf("truncation: %+v %q", m.Delims, m.Get("MSH-2"))
	}
	if got := m.Get("NTE-3"); got != "long text#" {
		t.Errorf("NTE-3 = %q", got)
	}
	if got := m.Get("PID-3"); got != "A#B" {
		t.Errorf("PID-3 = %q", got)
	}
	if got := m.Delims.EncodingChars(); got != "^~\\&#" {
		t.Errorf("EncodingChars = %q", got)
	}
}

// hanWithTrail finds a Han character whose GB18030 encoding ends with c.
func hanWithTrail(t *testing.T, c byte) string {
	for r := rune(0x4E00); r <= 0x9FA5; r++ {
		b := gb(t, string(r))
		if len(b) == 2 && b[1] == c {
			return string(r)
		}
	}
	t.Fatalf("no Han character with trail byte %q", c)
	return ""
}

func TestGB18030(t *testing.T) {
	pipe, back := hanWithTrail(t, '|'), hanWithTrail(t, '\\')
	name := "张" + pipe + back
	text := "MSH|^~\\&|HIS|浙江省人民医院|SF|SF|20250301101500||ADT^A03^ADT_A03|CN1|P|2.4|||||CHN|GB 18030-2000\n" +
		"PID|1||00123^^^^MR||" + name + "^三丰||19800101|M|||解放路88号^^杭州市^浙江省\n" +
		"DG1|1||I21.0^急性心肌梗死^ICD10\n"
	for _, cs := range []string{"GB 18030-2000", "GBK", "GB2312", "CHINESE", "gb18030", ""} {
		raw := gb(t, strings.Replace(text, "GB 18030-2000", cs, 1))
		if utf8.Valid(raw) {
			t.Fatal("test message should not be valid UTF-8")
		}
		m := mustParse(t, raw)
		if m.Encoding != GB18030 {
			t.Errorf("%q: Encoding = %q", cs, m.Encoding)
		}
		for path, want := range map[string]string{
			"MSH-4":    "浙江省人民医院",
			"MSH-18":   cs,
			"PID-5":    name, // a trail byte equal to '|' or '\' must not split or escape
			"PID-5.2":  "三丰",
			"PID-11":   "解放路88号",
			"PID-11.4": "浙江省",
			"DG1-3.2":  "急性心肌梗死",
		} {
			if got := m.Get(path); got != want {
				t.Errorf("%q: Get(%q) = %q, want %q", cs, path, got, want)
			}
		}
	}
	// UTF-8 mislabelled as GB 18030 stays UTF-8.
	m := mustParse(t, []byte(text))
	if m.Encoding != UTF8 || m.Get("PID-5.2") != "三丰" {
		t.Errorf("UTF-8 labelled GB: encoding %q, PID-5.2 %q", m.Encoding, m.Get("PID-5.2"))
	}
	// Hex escapes in a GB message carry GB bytes.
	hex := "MSH|^~\\&|A|B|||||ADT^A01|1|P|2.4|||||CHN|GB18030\rNTE|1||\\XD6D0CEC4\\\r"
	if got := mustParse(t, []byte(hex)).Get("NTE-3"); got != "中文" {
		t.Errorf("GB hex escape = %q", got)
	}
}

func TestLatin1AndUTF8(t *testing.T) {
	m := mustParse(t, []byte("MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5|||||DEU|8859/1\rPID|1||1||M\xfcller^J\xf6rg"))
	if m.Encoding != Latin1 || m.Get("PID-5") != "Müller" || m.Get("PID-5.2") != "Jörg" {
		t.Errorf("Latin-1: %q %q %q", m.Encoding, m.Get("PID-5"), m.Get("PID-5.2"))
	}
	m = mustParse(t, []byte("MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5|||||CHN|UNICODE UTF-8\rPID|1||1||李^四"))
	if m.Encoding != UTF8 || m.Get("PID-5") != "李" {
		t.Errorf("UTF-8: %q %q", m.Encoding, m.Get("PID-5"))
	}
}

func TestParseTime(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2025", time.Date(2025, 1, 1, 0, 0, 0, 0, cst)},
		{"202503", time.Date(2025, 3, 1, 0, 0, 0, 0, cst)},
		{"20250301", time.Date(2025, 3, 1, 0, 0, 0, 0, cst)},
		{"2025030110", time.Date(2025, 3, 1, 10, 0, 0, 0, cst)},
		{"202503011015", time.Date(2025, 3, 1, 10, 15, 0, 0, cst)},
		{"20250301101530", time.Date(2025, 3, 1, 10, 15, 30, 0, cst)},
		{"20250301101530.25", time.Date(2025, 3, 1, 10, 15, 30, 250e6, cst)},
		{"20150209113419+0110", time.Date(2015, 2, 9, 11, 34, 19, 0, time.FixedZone("", 70*60))},
		{"20250301101530-0500", time.Date(2025, 3, 1, 10, 15, 30, 0, time.FixedZone("", -5*3600))},
		{"2025-03-01 10:15:30", time.Date(2025, 3, 1, 10, 15, 30, 0, cst)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, cst)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "20", "2025030", "20250230", "20251301", "20250301246000", "2025030110153", "20250301+08", "2025x301", "20250301.5", "20250301101530.", "0000"} {
		if _, err := ParseTime(in, cst); err == nil {
			t.Errorf("ParseTime(%q) succeeded", in)
		}
	}
	if got := FormatTime(time.Date(2025, 3, 1, 10, 15, 0, 0, cst)); got != "20250301101500+0800" {
		t.Errorf("FormatTime = %q", got)
	}
}

func TestACKRoundTrip(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 15, 0, 0, time.FixedZone("CST", 8*3600))
	orig := mustParse(t, readSample(t, "ADT-A03-01.hl7"))

	ack := ACK(orig, AA, "", now, "ACK001")
	if bytes.Contains(ack, []byte("\n")) || !bytes.HasSuffix(ack, []byte("\r")) {
		t.Errorf("ACK must use \\r only: %q", ack)
	}
	a := mustParse(t, ack)
	for path, want := range map[string]string{
		"MSH-3": "EHRApp", "MSH-4": "GHHRFacility", "MSH-4.2": "2.16.840.1.1122848.1.32",
		"MSH-5": "ADTApp", "MSH-6": "GHHSFacility",
		"MSH-7": "20250301101500+0800", "MSH-9": "ACK", "MSH-9.2": "A03", "MSH-9.3": "ACK",
		"MSH-10": "ACK001", "MSH-11": "P", "MSH-12": "2.8",
		"MSA-1": "AA", "MSA-2": "MSG00001",
	} {
		if got := a.Get(path); got != want {
			t.Errorf("AA ACK %s = %q, want %q", path, got, want)
		}
	}
	if a.Segment("ERR") != nil {
		t.Error("AA ACK should have no ERR")
	}

	text := "PID-7: invalid date | bad ^ value & more ~ \\ 出生日期错误"
	a = mustParse(t, ACK(orig, AE, text, now, "ACK002"))
	if a.Get("MSA-1") != "AE" || a.Get("ERR-3") != "207" || a.Get("ERR-4") != "E" || a.Get("ERR-8") != text {
		t.Errorf("AE ACK: MSA-1 %q ERR-3 %q ERR-4 %q ERR-8 %q", a.Get("MSA-1"), a.Get("ERR-3"), a.Get("ERR-4"), a.Get("ERR-8"))
	}

	// A 2.4 GB18030 message is answered in GB18030 with the 2.4 ERR layout.
	in := gb(t, "MSH|^~\\&|HIS|医院|SF|随访|20250301||ADT^A01|X9|P|2.4|||||CHN|GB18030\rPID|1||1\r")
	g := mustParse(t, in)
	out := ACK(g, AR, "不支持", now, "")
	if utf8.Valid(out) {
		t.Error("ACK to a GB18030 message should be GB18030")
	}
	a = mustParse(t, out)
	if a.Encoding != GB18030 || a.Get("MSH-5") != "HIS" || a.Get("MSH-6") != "医院" || a.Get("MSH-4") != "随访" ||
		a.Get("MSH-18") != "GB18030" || a.Get("MSA-1") != "AR" || a.Get("MSA-2") != "X9" ||
		a.Get("MSA-3") != "不支持" || a.Get("ERR-1.4") != "207" || a.Get("ERR-1.4.2") != "不支持" || a.Get("MSH-10") == "" {
		t.Errorf("GB ACK parsed as %q", a.String())
	}

	// Nothing parsed: still a well-formed ACK.
	a = mustParse(t, ACK(nil, AR, "garbage", now, "N1"))
	if a.Get("MSA-1") != "AR" || a.Get("MSA-2") != "" || a.Get("ERR-8") != "garbage" || a.Get("MSH-12") != "2.5" {
		t.Errorf("nil ACK parsed as %q", a.String())
	}
}

func collect(t *testing.T, in string) []string {
	t.Helper()
	var out []string
	err := SplitBatch(strings.NewReader(in), func(raw []byte, i int) error {
		if i != len(out)+1 {
			t.Errorf("index %d, want %d", i, len(out)+1)
		}
		out = append(out, string(raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSplitBatch(t *testing.T) {
	m1 := "MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5\rPID|1||M1"
	m2 := "MSH|^~\\&|A|B|||||ADT^A03|2|P|2.5\rPID|1||M2\rPV1|1"
	m3 := "MSH|^~\\&|A|B|||||ADT^A08|3|P|2.5"
	want := []string{m1, m2, m3}
	for name, in := range map[string]string{
		"CR":        m1 + "\r" + m2 + "\r" + m3 + "\r",
		"LF":        strings.ReplaceAll(m1+"\r"+m2+"\r"+m3, "\r", "\n") + "\n",
		"CRLF":      strings.ReplaceAll(m1+"\r"+m2+"\r"+m3, "\r", "\r\n"),
		"blank":     "\n\n" + m1 + "\r\n\r\n" + m2 + "\n\n\n" + m3,
		"batch":     "FHS|^~\\&|A\rBHS|^~\\&|A\r" + m1 + "\r" + m2 + "\r" + m3 + "\rBTS|3\rFTS|1\r",
		"MLLP":      "\x0b" + m1 + "\r\x1c\r\x0b" + m2 + "\r\x1c\r\x0b" + m3 + "\r\x1c\r",
		"MLLP bare": "\x0b" + m1 + "\x1c\x0b" + m2 + "\x1c\x0b" + m3 + "\x1c",
		"BOM":       "\xef\xbb\xbf" + m1 + "\n" + m2 + "\n" + m3,
	} {
		if got := collect(t, in); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q", name, got)
		}
	}
	// Junk before the first MSH is passed on, not dropped; "MSHX" is not MSH.
	got := collect(t, "junk line\r"+m1+"\rMSHX|1\r"+m3)
	if len(got) != 3 || got[0] != "junk line" || got[1] != m1+"\rMSHX|1" {
		t.Errorf("junk: %q", got)
	}
	if got := collect(t, ""); len(got) != 0 {
		t.Errorf("empty input gave %q", got)
	}
	// fn's error stops the split.
	stop := errors.New("stop")
	n := 0
	err := SplitBatch(strings.NewReader(m1+"\r"+m2+"\r"+m3), func([]byte, int) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d calls", err, n)
	}
	// Read errors are returned.
	rerr := errors.New("disk")
	if err := SplitBatch(&failReader{data: m1 + "\r", err: rerr}, func([]byte, int) error { return nil }); !errors.Is(err, rerr) {
		t.Errorf("read error: %v", err)
	}
	// Sample files split into one message each.
	for _, f := range []string{"ADT-A01-01.hl7", "ADT-A03-02.hl7"} {
		b := readSample(t, f)
		want := strings.TrimRight(strings.ReplaceAll(string(b), "\n", "\r"), "\r")
		if got := collect(t, string(b)); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %d messages", f, len(got))
		}
	}
}

type failReader struct {
	data string
	err  error
}

func (r *failReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func FuzzParseMessage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sampleDir(), "*.hl7"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b, "PID-3[2].1")
		}
	}
	f.Add([]byte("MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5\rPID|1||\\X41\\^\\F\\~x&y\\.br\\"), "PID-3.1.2")
	f.Add([]byte("MSH|^~\\&#|A\nPID|1|\\XD6D0\\|\\P\\"), "PID-2")
	f.Add([]byte("MSH|^~\\&|A|B|||||ADT^A01|1|P|2.4|||||CHN|GB18030\r\xd5\xc5|"), "MSH-18")
	f.Add([]byte("MSH!*@$%"), "DG1[2]-3.1")
	f.Add([]byte("MSH\r"), "0") // found by fuzzing: MSH-18 lookup past a short first line
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		m, err := ParseMessage(data)
		if err != nil {
			if m != nil {
				t.Fatal("message with error")
			}
			return
		}
		for _, p := range []string{path, "MSH-9.2", "MSH-1", "MSH-2", "PID-3[2].1", "PID-11.1.2", "PV1-45", "ZZZ[3]-1000.9.9"} {
			if v := m.Get(p); !utf8.ValidString(v) {
				t.Fatalf("Get(%q) = %q: invalid UTF-8", p, v)
			}
		}
		for _, s := range m.Segments {
			if !validSegmentName(s.Name) {
				t.Fatalf("segment name %q", s.Name)
			}
			s.Get(path)
			s.Field(len(s.Fields) + 1).Rep(2).Component(3).Sub(4)
		}
		_ = m.String()
		ack := Acknowledge(m, AE, &AckError{Code: ErrDataType, Location: path, Text: path}, time.Unix(0, 0), path)
		a, err := ParseMessage(ack)
		if err != nil {
			t.Fatalf("ACK does not parse: %v\n%q", err, ack)
		}
		if a.Get("MSA-1") != AE {
			t.Fatalf("ACK MSA-1 = %q", a.Get("MSA-1"))
		}
	})
}

func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\r"))
	f.Add([]byte("FHS|^~\\&\nBHS|^~\\&\nMSH|^~\\&|A\nBTS|1\nFTS|1\n"))
	f.Add([]byte("\x0bMSH|^~\\&|A\r\x1c\r\x0bMSH|^~\\&|B\x1c"))
	f.Add([]byte("junk\r\n\r\nMSH"))
	f.Add([]byte("MSH\r0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var total int
		last := 0
		err := SplitBatch(bytes.NewReader(data), func(raw []byte, i int) error {
			if i != last+1 {
				t.Fatalf("index %d after %d", i, last)
			}
			last = i
			if len(bytes.TrimSpace(raw)) == 0 {
				t.Fatalf("empty message %d", i)
			}
			if bytes.ContainsAny(raw, "\n\x0b\x1c") {
				t.Fatalf("message %d keeps line feeds or MLLP bytes: %q", i, raw)
			}
			total += len(raw)
			_, _ = ParseMessage(raw)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total > len(data)+len(data)/2+8 {
			t.Fatalf("output %d bytes from %d", total, len(data))
		}
	})
}
