package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testFont finds a CJK TrueType font the way the server does (the Debian
// packages .ci/run installs); without one the embedding tests skip,
// except under CI.
func testFont(t *testing.T) *Font {
	t.Helper()
	path := FindFont("")
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no CJK TrueType font under CI: install fonts-lxgw-wenkai")
		}
		t.Skip("no CJK TrueType font installed (Debian: fonts-lxgw-wenkai)")
	}
	f, err := LoadFont(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing under CI", name)
		}
		t.Skipf("%s not installed (poppler-utils)", name)
	}
	return p
}

// A sheet set in the embedded font renders with no font installed at all
// (poppler under a fontconfig with no font directories), extracts back to
// its text, and keeps dates and case numbers whole.
func TestEmbeddedFontRendersWithoutFonts(t *testing.T) {
	f := testFont(t)
	d := New(Info{Title: "医疗投诉及纠纷处理表", Created: time.Date(2026, 12, 8, 9, 30, 0, 0, time.FixedZone("CST", 8*3600)), Font: f,
		Header: "第一医院 · 医疗投诉及纠纷处理表 · TS-H1-20261208-0001"})
	d.Para("医疗投诉及纠纷处理表", Style{Size: 18, Bold: true, Align: Center})
	d.Para("编号 TS-H1-20261208-0001    打印时间 2026-12-08 15:30", Style{Size: 9, Align: Center})
	d.Table(Table{Widths: []float64{1, 3}, Rows: [][]Cell{
		{{Text: "接收时间", Fill: true}, {Text: "2026-12-08 10:00"}},
		{{Text: "投诉经过", Fill: true}, {Text: "夜间呼叫护士二十分钟无人应答。家属称：“按了三次铃”。😥"}},
		{{Text: "处理方案", Fill: true}, {Text: "向家属解释并致歉；夜班增加一名巡视护士（ICU、CCU 除外）。"}},
	}})
	data := d.Bytes()
	dir := t.TempDir()
	file := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if len(data) > 300<<10 {
		t.Errorf("the sheet is %d KB", len(data)>>10)
	}
	if !bytes.Contains(data, []byte("/FontFile2")) || !bytes.Contains(data, []byte("/CIDFontType2")) || bytes.Contains(data, []byte("STSong")) {
		t.Fatal("the font is not embedded")
	}

	// No fonts at all: an empty fontconfig.
	conf := filepath.Join(dir, "fonts.conf")
	os.WriteFile(conf, []byte(`<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><cachedir>`+dir+`/cache</cachedir></fontconfig>`), 0o600)
	env := append(os.Environ(), "FONTCONFIG_FILE="+conf)
	cmd := exec.Command(tool(t, "pdftotext"), "-enc", "UTF-8", file, "-")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	flat := strings.Join(strings.Fields(text), "")
	for _, s := range []string{"医疗投诉及纠纷处理表", "TS-H1-20261208-0001", "2026-12-08", "夜间呼叫护士二十分钟无人应答", "😥", "ICU、CCU"} {
		if !strings.Contains(text, s) && !strings.Contains(flat, s) {
			t.Errorf("extracted text lacks %q:\n%s", s, text)
		}
	}
	if regexp.MustCompile(`2026- |- 12|TS- `).MatchString(text) {
		t.Errorf("odd spaces inside dates or numbers:\n%s", text)
	}

	png := filepath.Join(dir, "page")
	cmd = exec.Command(tool(t, "pdftoppm"), "-r", "60", "-gray", "-f", "1", "-l", "1", "-singlefile", file, png)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	img, err := os.ReadFile(png + ".pgm")
	if err != nil {
		t.Fatal(err)
	}
	// The title's band (18 pt, centred, near the top) must hold ink.
	w, h, px := pgm(t, img)
	dark := 0
	for y := h * 6 / 100; y < h*14/100; y++ {
		for x := w / 4; x < w*3/4; x++ {
			if px[y*w+x] < 100 {
				dark++
			}
		}
	}
	if dark < 200 {
		t.Errorf("the title renders %d dark pixels: the glyphs are missing", dark)
	}
	if art := os.Getenv("SUIFANG_ARTIFACTS"); art != "" {
		os.MkdirAll(art, 0o755)
		os.WriteFile(filepath.Join(art, "embedded-font-sheet.pdf"), data, 0o644)
	}
}

// pgm reads a binary greyscale PGM (P5, 8-bit).
func pgm(t *testing.T, b []byte) (w, h int, px []byte) {
	t.Helper()
	var maxv int
	var n int
	fields := 0
	i := 2
	vals := [3]int{}
	for fields < 3 && i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		n = 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			n = n*10 + int(b[i]-'0')
			i++
		}
		vals[fields] = n
		fields++
	}
	w, h, maxv = vals[0], vals[1], vals[2]
	i++
	if string(b[:2]) != "P5" || maxv != 255 || len(b)-i < w*h {
		t.Fatalf("not an 8-bit P5 image: %q %d×%d max %d", b[:2], w, h, maxv)
	}
	return w, h, b[i : i+w*h]
}

// FuzzParseFont: malformed font bytes never panic, and whatever parses
// can be measured and subset.
func FuzzParseFont(f *testing.F) {
	if path := FindFont(""); path != "" {
		// A small valid font to mutate: the subset of a few characters.
		if font, err := LoadFont(path); err == nil {
			used, uni := map[int]bool{}, map[int]rune{}
			for _, r := range "医疗投诉A1-：" {
				used[font.glyph(r)], uni[font.glyph(r)] = true, r
			}
			sub := font.subset(font.closure(used), uni)
			sf, err := ParseFont(sub, "S")
			if err != nil || sf.glyph('医') == 0 || sf.width('医') != font.width('医') {
				f.Fatalf("the subset does not read back: %v", err)
			}
			f.Add(sub)
		}
	}
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00head\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x36"))
	f.Add([]byte("OTTO"))
	f.Add([]byte("ttcf"))
	f.Fuzz(func(t *testing.T, data []byte) {
		font, err := ParseFont(data, "F")
		if err != nil {
			return
		}
		used := map[int]bool{}
		for _, r := range "医疗A1-" {
			used[font.glyph(r)] = true
			_ = font.width(r)
		}
		_ = font.subset(font.closure(used), map[int]rune{font.glyph('医'): '医'})
	})
}

// The same text in the same font at the same instant is the same file.
func TestEmbeddedDeterministic(t *testing.T) {
	f := testFont(t)
	mk := func() []byte {
		d := New(Info{Title: "处理表", Created: time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC), Font: f})
		d.Para("投诉编号 TS-H1-20261208-0001：夜间呼叫无人应答。ABC abc 123 😥", Style{})
		d.Table(Table{Widths: []float64{1, 2}, Rows: [][]Cell{{{Text: "负责人"}, {Text: "质控王"}}}})
		return d.Bytes()
	}
	if a, b := mk(), mk(); !bytes.Equal(a, b) {
		t.Fatal("two identical documents differ")
	}
}
