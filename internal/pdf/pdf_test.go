package pdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var created = time.Date(2026, 11, 20, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// mixed is text the sheets really carry: CJK, Latin, digits, punctuation,
// an emoji outside the BMP and a rare CJK Extension B character.
const mixed = "患者家属张先生来电反映：3 月 5 日在 B 超室排队 2 小时😡，工作人员态度生硬。" +
	"He asked for an apology and a refund of 120.50 yuan. 𠀇字测试 (Ext-B)。"

func sampleDoc(n int) *Doc {
	d := New(Info{Title: "医疗投诉及纠纷处理表 TS-H01-20261120-0001", Author: "苏医生", Created: created, Header: "测试医院 · TS-H01"})
	d.Para("医疗投诉及纠纷处理表", Style{Size: 16, Bold: true, Align: Center})
	d.Rule()
	for i := 0; i < n; i++ {
		d.Para(fmt.Sprintf("%d. %s", i+1, mixed), Style{})
	}
	d.Table(Table{Widths: []float64{1, 2, 1}, Header: []Cell{{Text: "时间"}, {Text: "事件"}, {Text: "经办人"}},
		Rows: [][]Cell{{{Text: "2026-11-20 09:30"}, {Text: mixed, Color: Red}, {Text: "王五"}}, {{Text: "合并单元格 spans all", Span: 3}}}})
	return d
}

// body is the text of every page without its running header and footer.
func body(p *parsed) []string {
	var out []string
	for _, pg := range p.texts {
		out = append(out, pg[1:len(pg)-1]...)
	}
	return out
}

func TestStructureAndText(t *testing.T) {
	d := sampleDoc(60)
	data := d.Bytes()
	p := parsePDF(t, data)
	if len(p.pages) != d.Pages() || d.Pages() < 3 {
		t.Fatalf("%d pages parsed, %d laid out; want at least 3", len(p.pages), d.Pages())
	}
	// Each page ends with its number, "第 n / N 页".
	for i, pg := range p.texts {
		want := fmt.Sprintf("第 %d / %d 页", i+1, len(p.pages))
		if len(pg) == 0 || pg[len(pg)-1] != want {
			t.Fatalf("page %d footer: got %q, want %q", i+1, pg[len(pg)-1:], want)
		}
		if pg[0] != "测试医院 · TS-H01" {
			t.Fatalf("page %d running header: %q", i+1, pg[0])
		}
	}
	// The paragraphs read back, in order, exactly: the lines of one
	// paragraph joined give the paragraph (a break only drops spaces at
	// its line's end).
	all := strings.Join(body(p), "\x00")
	for i := 0; i < 60; i++ {
		want := fmt.Sprintf("%d. %s", i+1, mixed)
		lines := Wrap(want, 10, ContentWidth())
		if len(lines) < 2 {
			t.Fatalf("paragraph did not wrap: %q", lines)
		}
		var got []string
		for _, l := range lines {
			got = append(got, strings.TrimRight(l, " "))
		}
		if !strings.Contains(all, strings.Join(got, "\x00")) {
			t.Fatalf("paragraph %d not found as its lines in the page text", i+1)
		}
		if strings.Join(lines, "") != want {
			t.Fatalf("paragraph %d: lines %q do not join to the input", i+1, lines)
		}
	}
	joined := strings.Join(body(p), "")
	for _, s := range []string{"医疗投诉及纠纷处理表", "😡", "𠀇", "120.50", "合并单元格 spans all"} {
		if !strings.Contains(joined, s) {
			t.Errorf("%q missing from the extracted text", s)
		}
	}
	// The Ext-B ideograph travels as one surrogate pair in a string of its
	// own, mapped back by the ToUnicode CMap; the emoji, which no
	// Adobe-GB1 font has, is drawn as 〓 carrying itself as ActualText.
	content := string(streamData(t, p.objs[reContentsRef(t, p.objs[p.pages[0]])]))
	if !strings.Contains(content, "> <D840DC07> <") || !strings.Contains(content, "/Span << /ActualText <FEFFD83DDE21> >> BDC <3013> Tj EMC") {
		t.Fatalf("surrogate pairs not set as expected: %s", content[:600])
	}
	tu := string(streamData(t, p.objs[6]))
	if !strings.Contains(tu, "1 beginbfchar\n<D840DC07> <D840DC07>\nendbfchar") {
		t.Fatalf("ToUnicode lacks the surrogate pair used:\n%s", tu[len(tu)-200:])
	}
	// The font is the non-embedded Adobe-GB1 STSong-Light with the widths
	// the layout uses.
	if f := string(p.objs[3]); !strings.Contains(f, "/Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H") {
		t.Fatalf("font: %s", f)
	}
	if f := string(p.objs[4]); !strings.Contains(f, "/Ordering (GB1)") || !strings.Contains(f, "/DW 1000 /W [1 95 500]") {
		t.Fatalf("CID font: %s", f)
	}
	info := string(p.objs[p.info])
	if !strings.Contains(info, "/CreationDate (D:20261120093000+08'00')") || !strings.Contains(info, "/Title <FEFF533B7597") {
		t.Fatalf("info: %s", info)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := sampleDoc(30).Bytes(), sampleDoc(30).Bytes()
	if !bytes.Equal(a, b) {
		t.Fatal("the same content and clock gave different bytes")
	}
	d := sampleDoc(30)
	d.info.Created = created.Add(time.Second)
	if bytes.Equal(a, d.Bytes()) {
		t.Fatal("a different creation date gave the same bytes")
	}
	if !bytes.Equal(d.Bytes(), d.Bytes()) {
		t.Fatal("Bytes twice differ")
	}
}

func TestEmptyDocIsOnePage(t *testing.T) {
	p := parsePDF(t, New(Info{Created: created}).Bytes())
	if len(p.pages) != 1 || len(p.texts[0]) != 1 || p.texts[0][0] != "第 1 / 1 页" {
		t.Fatalf("pages %d, text %q", len(p.pages), p.texts)
	}
}

// A row taller than a page is split, and the header repeats on each page.
func TestTableSplitsTallRowAndRepeatsHeader(t *testing.T) {
	d := New(Info{Created: created, PageLabel: func(n, total int) string { return fmt.Sprintf("p%d/%d", n, total) }})
	var long []string
	for i := 0; i < 150; i++ {
		long = append(long, fmt.Sprintf("第%03d行", i))
	}
	d.Table(Table{Widths: []float64{1, 3}, Header: []Cell{{Text: "序号"}, {Text: "内容"}},
		Rows: [][]Cell{{{Text: "1"}, {Text: strings.Join(long, "\n")}}, {{Text: "2"}, {Text: "短"}}}})
	p := parsePDF(t, d.Bytes())
	if len(p.pages) < 3 {
		t.Fatalf("150 lines on %d pages", len(p.pages))
	}
	var seen []string
	for i, pg := range p.texts {
		if len(pg) < 3 || pg[0] != "序号" || pg[1] != "内容" {
			t.Fatalf("page %d does not start with the header: %q", i+1, pg[:min(3, len(pg))])
		}
		if pg[len(pg)-1] != fmt.Sprintf("p%d/%d", i+1, len(p.pages)) {
			t.Fatalf("page %d label %q", i+1, pg[len(pg)-1])
		}
		for _, s := range pg[2 : len(pg)-1] {
			if strings.HasPrefix(s, "第") {
				seen = append(seen, s)
			}
		}
	}
	if strings.Join(seen, "\n") != strings.Join(long, "\n") {
		t.Fatalf("split row lost or doubled lines: %d of %d", len(seen), len(long))
	}
	last := p.texts[len(p.texts)-1]
	if last[len(last)-2] != "短" {
		t.Fatalf("the row after the split is missing: %q", last)
	}
}

// pdfTools finds poppler's tools. Under CI they must be there (.ci/run
// installs poppler-utils); a developer's machine without them skips.
func pdfTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing under CI: install poppler-utils and poppler-data", name)
		}
		t.Skipf("%s not installed (Debian: poppler-utils, poppler-data)", name)
	}
	return path
}

// A real reader: poppler extracts the Chinese text through the predefined
// CMap and reads the page count and title.
func TestPdftotext(t *testing.T) {
	tool := pdfTool(t, "pdftotext")
	dir := t.TempDir()
	file := filepath.Join(dir, "doc.pdf")
	d := sampleDoc(40)
	if err := os.WriteFile(file, d.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, s := range []string{"医疗投诉及纠纷处理表", "工作人员态度生硬", "refund of 120.50 yuan", fmt.Sprintf("第 %d / %d 页", d.Pages(), d.Pages())} {
		if !strings.Contains(text, s) {
			t.Errorf("pdftotext lacks %q", s)
		}
	}
	if strings.Contains(text, "Syntax Error") {
		t.Errorf("poppler complained:\n%s", text)
	}
	if info, err := exec.LookPath("pdfinfo"); err == nil {
		out, err := exec.Command(info, file).CombinedOutput()
		if err != nil {
			t.Fatalf("pdfinfo: %v\n%s", err, out)
		}
		if !regexp.MustCompile(fmt.Sprintf(`Pages: +%d\n`, d.Pages())).Match(out) ||
			!strings.Contains(string(out), "医疗投诉及纠纷处理表") || strings.Contains(string(out), "Error") {
			t.Errorf("pdfinfo:\n%s", out)
		}
	}
}

func reContentsRef(t *testing.T, page []byte) int {
	m := reContents.FindSubmatch(page)
	if m == nil {
		t.Fatalf("page without contents: %s", page)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// A heading near the foot of a page moves to the next one with its table.
func TestHeadingKeepsWithNext(t *testing.T) {
	d := New(Info{Created: created})
	for d.y == 0 || d.y-marginFoot > keepWithHeading-20 {
		d.Para("填充", Style{})
	}
	before := d.Pages()
	d.Heading("处理时限", Style{Size: 12, Bold: true})
	d.Table(Table{Widths: []float64{1}, Rows: [][]Cell{{{Text: "受理"}}}})
	p := parsePDF(t, d.Bytes())
	if len(p.pages) != before+1 || p.texts[before][0] != "处理时限" || p.texts[before][1] != "受理" {
		t.Fatalf("heading left behind: pages %d→%d, page %d text %q", before, len(p.pages), before+1, p.texts[len(p.texts)-1])
	}
}
