package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// A4 in points, and the margins every page keeps.
const (
	PageWidth  = 595.28
	PageHeight = 841.89
	margin     = 50.0
	marginTop  = 60.0
	marginFoot = 60.0
	ascent     = 0.86 // baseline below the top of a line, in font sizes
	leading    = 1.5  // line height, in font sizes
	cellPad    = 4.0
)

// Align places a line within its width.
type Align int

// Alignments.
const (
	Left Align = iota
	Center
	Right
)

// Color is an RGB colour, each part 0..1.
type Color struct{ R, G, B float64 }

// Colours the sheets use.
var (
	Black = Color{}
	Grey  = Color{0.4, 0.4, 0.4}
	Green = Color{0.09, 0.48, 0.24}
	Amber = Color{0.72, 0.45, 0}
	Red   = Color{0.75, 0.1, 0.1}
)

// Style is how a paragraph is set. A zero Size means 10 points.
type Style struct {
	Size  float64
	Bold  bool // drawn filled and stroked: the one font has no bold face
	Align Align
	Color Color
}

func (st Style) size() float64 {
	if st.Size <= 0 {
		return 10
	}
	return st.Size
}

// Info is the document information dictionary plus what every page shows.
type Info struct {
	Title, Subject, Author, Creator string
	Created                         time.Time // the creation date, from the caller's clock
	Header                          string    // a small running header on every page, if set
	// PageLabel is the footer of page n of total; nil gives "第 n / N 页".
	PageLabel func(n, total int) string
	// Font, when set, is embedded (a subset of the glyphs used) so the
	// document renders without any font installed; nil sets the text in
	// the non-embedded STSong-Light, which needs a CJK font at the reader.
	Font *Font
}

// Doc is a document being laid out top to bottom. It is not safe for
// concurrent use.
type Doc struct {
	info  Info
	pages []*bytes.Buffer
	y     float64 // the top of the free space on the current page
	used  bool    // something besides a repeated table header is on the page
	extra map[rune]bool
	out   []byte         // the finished file, once Bytes has run
	rw    func(rune) int // rune advances, thousandths of the size
	// With an embedded font: the glyphs used and the text each stands for.
	font *Font
	uni  map[int]rune
}

// New starts an empty document; the first content opens page 1.
func New(info Info) *Doc {
	d := &Doc{info: info, extra: map[rune]bool{}, rw: runeWidth}
	if f := info.Font; f != nil {
		d.font, d.uni = f, map[int]rune{}
		d.rw = func(r rune) int {
			if g := f.glyph(r); g != 0 && !glyphless(r) {
				return f.advance(g) * 1000 / f.unitsPerEm
			}
			return f.advance(d.standInGlyph()) * 1000 / f.unitsPerEm
		}
	}
	return d
}

// wrap is Wrap under the document's font.
func (d *Doc) wrap(s string, size, width float64) []string { return wrapWith(d.rw, s, size, width) }

// standInGlyph is the embedded font's glyph for 〓 (.notdef without it).
func (d *Doc) standInGlyph() int { return d.font.glyph(standIn) }

// ContentWidth is the width between the margins.
func ContentWidth() float64 { return PageWidth - 2*margin }

// Pages is the number of pages so far.
func (d *Doc) Pages() int { return len(d.pages) }

func (d *Doc) page() *bytes.Buffer { return d.pages[len(d.pages)-1] }

func (d *Doc) newPage() {
	d.pages = append(d.pages, &bytes.Buffer{})
	d.y = PageHeight - marginTop
	d.used = false
	if d.info.Header != "" {
		// One line, cut to fit: a running header never wraps.
		lines := d.wrap(strings.ReplaceAll(d.info.Header, "\n", " "), 8, ContentWidth())
		if len(lines) > 0 {
			d.text(margin, PageHeight-marginTop+14, lines[0], Style{Size: 8, Color: Grey})
		}
		d.line(margin, PageHeight-marginTop+8, PageWidth-margin, PageHeight-marginTop+8, 0.3, Grey)
	}
}

// room makes sure h points are free below the cursor, opening a page when
// they are not (or when there is no page yet).
func (d *Doc) room(h float64) {
	if len(d.pages) == 0 || d.used && d.y-h < marginFoot {
		d.newPage()
	}
}

// Para sets s as a paragraph, wrapped to the content width, breaking
// pages as needed.
func (d *Doc) Para(s string, st Style) {
	size := st.size()
	lh := size * leading
	for _, l := range d.wrap(s, size, ContentWidth()) {
		d.room(lh)
		x := margin
		switch w := widthWith(d.rw, strings.TrimRight(l, " "), size); st.Align {
		case Center:
			x += (ContentWidth() - w) / 2
		case Right:
			x += ContentWidth() - w
		}
		d.text(x, d.y-size*(leading-1)/2-size*ascent, l, st)
		d.y -= lh
		d.used = true
	}
}

// Need moves to a new page unless pt points are left on this one: for a
// block that must stay together, such as the signature lines.
func (d *Doc) Need(pt float64) { d.room(pt) }

// Heading sets s like Para, but moves to a new page first unless there
// is room for what follows it (about three table rows): a heading never
// ends a page.
func (d *Doc) Heading(s string, st Style) {
	d.room(st.size()*leading*float64(len(d.wrap(s, st.size(), ContentWidth()))) + keepWithHeading)
	d.Para(s, st)
}

// keepWithHeading is the space a heading wants below it, in points.
const keepWithHeading = 60.0

// Gap leaves pt points of space (none at the top of a page).
func (d *Doc) Gap(pt float64) {
	if len(d.pages) == 0 || !d.used {
		return
	}
	d.y -= pt
}

// Rule draws a thin line across the content width.
func (d *Doc) Rule() {
	d.room(8)
	d.line(margin, d.y-4, PageWidth-margin, d.y-4, 0.6, Black)
	d.y -= 8
	d.used = true
}

// Cell is one table cell. Span > 1 joins that many columns.
type Cell struct {
	Text  string
	Bold  bool
	Color Color
	Fill  bool // a light grey background, for labels and headers
	Span  int
}

// Table is a grid of bordered cells. Widths are relative; rows taller than
// the space left move to the next page, and a row taller than a whole
// page is split. Header (if any) repeats at the top of every page.
type Table struct {
	Widths []float64
	Size   float64 // text size; 0 means 9
	Header []Cell
	Rows   [][]Cell
}

// Table sets t across the content width.
func (d *Doc) Table(t Table) {
	if len(t.Widths) == 0 {
		return
	}
	size := t.Size
	if size <= 0 {
		size = 9
	}
	sum := 0.0
	for _, w := range t.Widths {
		sum += math.Max(w, 0)
	}
	if sum == 0 {
		return
	}
	cols := make([]float64, len(t.Widths))
	for i, w := range t.Widths {
		cols[i] = ContentWidth() * math.Max(w, 0) / sum
	}
	tl := &tableLayout{d: d, cols: cols, size: size}
	if len(t.Header) > 0 {
		tl.header = tl.prepare(t.Header, true)
	}
	if tl.header != nil {
		tl.row(tl.header)
	}
	for _, r := range t.Rows {
		tl.row(tl.prepare(r, false))
	}
}

type placedCell struct {
	x, w  float64
	lines []string
	cell  Cell
}

type tableLayout struct {
	d      *Doc
	cols   []float64
	size   float64
	header []placedCell
}

// prepare places a row's cells on the columns and wraps their text.
func (tl *tableLayout) prepare(cells []Cell, header bool) []placedCell {
	var out []placedCell
	x, col := margin, 0
	for _, c := range cells {
		if col >= len(tl.cols) {
			break // more cells than columns: the extra ones have no place
		}
		span := max(c.Span, 1)
		w := 0.0
		for i := col; i < col+span && i < len(tl.cols); i++ {
			w += tl.cols[i]
		}
		if header {
			c.Bold, c.Fill = true, true
		}
		out = append(out, placedCell{x: x, w: w, cell: c, lines: tl.d.wrap(c.Text, tl.size, w-2*cellPad)})
		x += w
		col += span
	}
	return out
}

func (tl *tableLayout) lineH() float64 { return tl.size * leading }

// fits is how many text lines of a row fit in the space left.
func (tl *tableLayout) fits() int {
	return int(math.Floor((tl.d.y - marginFoot - 2*cellPad + 1e-6) / tl.lineH()))
}

// pageLines is how many text lines fit on an empty page under a header.
func (tl *tableLayout) pageLines() int {
	h := PageHeight - marginTop - marginFoot - 2*cellPad
	if tl.header != nil {
		h -= tl.height(tl.header, 0, rowLines(tl.header))
	}
	return int(math.Floor(h / tl.lineH()))
}

func rowLines(cells []placedCell) int {
	n := 1
	for _, c := range cells {
		n = max(n, len(c.lines))
	}
	return n
}

func (tl *tableLayout) height(cells []placedCell, from, to int) float64 {
	return 2*cellPad + float64(to-from)*tl.lineH()
}

// turn opens a new page and repeats the header there.
func (tl *tableLayout) turn() {
	tl.d.newPage()
	if tl.header != nil {
		tl.draw(tl.header, 0, rowLines(tl.header))
	}
	tl.d.used = false
}

func (tl *tableLayout) row(cells []placedCell) {
	d := tl.d
	if len(d.pages) == 0 {
		d.newPage()
	}
	total := rowLines(cells)
	for start := 0; start < total; {
		n := total - start
		avail := tl.fits()
		if n > avail && d.used && (start == 0 && n <= tl.pageLines() || avail < 1) {
			tl.turn()
			continue
		}
		if n > avail {
			n = max(avail, 1) // a fresh page and still too tall: split the row
		}
		tl.draw(cells, start, start+n)
		d.used = true
		start += n
		if start < total {
			tl.turn()
		}
	}
}

// draw sets lines [from, to) of a row at the cursor.
func (tl *tableLayout) draw(cells []placedCell, from, to int) {
	d := tl.d
	h := tl.height(cells, from, to)
	top := d.y
	for _, c := range cells {
		if c.cell.Fill {
			fmt.Fprintf(d.page(), "q 0.93 g %s %s %s %s re f Q\n", num(c.x), num(top-h), num(c.w), num(h))
		}
	}
	for _, c := range cells {
		fmt.Fprintf(d.page(), "q 0.5 w %s %s %s %s re S Q\n", num(c.x), num(top-h), num(c.w), num(h))
		st := Style{Size: tl.size, Bold: c.cell.Bold, Color: c.cell.Color}
		for i := from; i < to && i < len(c.lines); i++ {
			if c.lines[i] == "" {
				continue
			}
			d.text(c.x+cellPad, top-cellPad-float64(i-from)*tl.lineH()-tl.size*ascent-tl.size*(leading-1)/2, c.lines[i], st)
		}
	}
	d.y = top - h
}

// text sets one line with its baseline at (x, y) on the current page.
func (d *Doc) text(x, y float64, s string, st Style) { d.textOn(d.page(), x, y, s, st) }

func (d *Doc) textOn(b *bytes.Buffer, x, y float64, s string, st Style) {
	s = strings.TrimRight(s, " ")
	if s == "" {
		return
	}
	b.WriteString("q ")
	if st.Color != Black {
		c := st.Color
		fmt.Fprintf(b, "%s %s %s rg %s %s %s RG ", num(c.R), num(c.G), num(c.B), num(c.R), num(c.G), num(c.B))
	}
	if st.Bold {
		fmt.Fprintf(b, "%s w ", num(st.size()*0.04))
	}
	fmt.Fprintf(b, "BT /F1 %s Tf ", num(st.size()))
	if st.Bold {
		b.WriteString("2 Tr ") // fill, then stroke the outline: a faux bold
	}
	fmt.Fprintf(b, "%s %s Td %s ET Q\n", num(x), num(y), d.show(s))
}

// stand-in is drawn for a character no Adobe-GB1 font has: 〓, the CJK
// typesetters' mark for a missing character, in GB 2312 and so in every
// STSong-Light.
const standIn = 0x3013

// glyphless reports whether r lies outside the BMP and outside the CJK
// ideograph planes 2 and 3 that GB 18030 (and so Adobe-GB1) covers:
// emoji and the like. Readers differ on unmapped four-byte codes (poppler
// reads them as several codes and draws several boxes), so these are
// drawn as the stand-in with the real character as ActualText (§14.9.4):
// what is copied or extracted is still exactly the input.
func glyphless(r rune) bool { return r > 0xffff && (r < 0x20000 || r > 0x3ffff) }

// show is the text-showing operators for one line.
func (d *Doc) show(s string) string {
	if d.font != nil {
		return d.showEmbedded(s)
	}
	var b strings.Builder
	start := 0
	flush := func(end int) {
		if end > start {
			fmt.Fprintf(&b, "[%s] TJ ", d.hexRuns(s[start:end]))
		}
	}
	for i, r := range s {
		if glyphless(r) {
			flush(i)
			fmt.Fprintf(&b, "/Span << /ActualText <FEFF%s> >> BDC <%04X> Tj EMC ", utf16Hex(r), standIn)
			start = i + utf8.RuneLen(r)
		}
	}
	flush(len(s))
	return strings.TrimSuffix(b.String(), " ")
}

// showEmbedded sets s in the embedded font: each character is its glyph
// id (Identity-H, two bytes). A character the font lacks is drawn as 〓
// with the real character as ActualText, as for STSong-Light.
func (d *Doc) showEmbedded(s string) string {
	var b, run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			fmt.Fprintf(&b, "<%s> Tj ", run.String())
			run.Reset()
		}
	}
	for _, r := range s {
		g := d.font.glyph(r)
		if g == 0 || glyphless(r) {
			flush()
			sg := d.standInGlyph()
			d.uni[sg] = standIn
			fmt.Fprintf(&b, "/Span << /ActualText <FEFF%s> >> BDC <%04X> Tj EMC ", utf16Hex(r), sg)
			continue
		}
		if _, ok := d.uni[g]; !ok {
			d.uni[g] = r
		}
		fmt.Fprintf(&run, "%04X", g)
	}
	flush()
	return strings.TrimSuffix(b.String(), " ")
}

func (d *Doc) line(x1, y1, x2, y2, w float64, c Color) {
	fmt.Fprintf(d.page(), "q %s w %s %s %s RG %s %s m %s %s l S Q\n", num(w), num(c.R), num(c.G), num(c.B),
		num(x1), num(y1), num(x2), num(y2))
}

// hexRuns is s as UTF-16BE hex strings for TJ: a character outside the
// BMP (a four-byte code) gets a string of its own, so a reader that
// mis-steps on the surrogate pair cannot take the next character along.
func (d *Doc) hexRuns(s string) string {
	var b strings.Builder
	start := 0
	b.WriteByte('<')
	for i, r := range s {
		if r > 0xffff {
			if i > start {
				b.WriteString(d.hex(s[start:i]))
				b.WriteString("> <")
			}
			b.WriteString(d.hex(string(r)))
			b.WriteString("> <")
			start = i + utf8.RuneLen(r)
		}
	}
	b.WriteString(d.hex(s[start:]))
	b.WriteByte('>')
	return strings.ReplaceAll(b.String(), " <>", "")
}

// hex is s as UTF-16BE in hex digits, the codes UniGB-UTF16-H reads.
func (d *Doc) hex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0xffff && !glyphless(r) {
			d.extra[r] = true
		}
		b.WriteString(utf16Hex(r))
	}
	return b.String()
}

func utf16Hex(r rune) string {
	if r1, r2 := utf16.EncodeRune(r); r1 != 0xfffd || r2 != 0xfffd {
		return fmt.Sprintf("%04X%04X", r1, r2)
	}
	return fmt.Sprintf("%04X", r)
}

// num writes a coordinate with at most two decimals, the same way every
// time.
func num(f float64) string {
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// textString is a string for the information dictionary: UTF-16BE with a
// byte-order mark, in hex (ISO 32000-1 §7.9.2.2).
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range Clean(s) {
		if r == '\n' {
			r = ' '
		}
		b.WriteString(utf16Hex(r))
	}
	b.WriteString(">")
	return b.String()
}

// pdfDate is t as a PDF date, D:YYYYMMDDHHmmSS+HH'mm' (§7.9.4).
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("(D:%s%c%02d'%02d')", t.Format("20060102150405"), sign, off/3600, off/60%60)
}

// Bytes finishes the document: footers with page numbers, then every
// object, the cross-reference table and the trailer. An empty document
// gets one blank page. Nothing may be added after it; later calls return
// the same bytes.
func (d *Doc) Bytes() []byte {
	if d.out != nil {
		return d.out
	}
	if len(d.pages) == 0 {
		d.newPage()
	}
	total := len(d.pages)
	label := d.info.PageLabel
	if label == nil {
		label = func(n, total int) string { return fmt.Sprintf("第 %d / %d 页", n, total) }
	}
	for i, p := range d.pages {
		s := label(i+1, total)
		d.textOn(p, (PageWidth-widthWith(d.rw, s, 8))/2, marginFoot/2, s, Style{Size: 8, Color: Grey})
	}

	const (
		catalog = 1 + iota
		pagesObj
		fontObj
		cidObj
		descObj
		toUniObj
		infoObj
		fontFileObj // embedded font only: the subset
		cidMapObj   // embedded font only: CIDToGIDMap
	)
	firstPage := infoObj + 1
	if d.font != nil {
		firstPage = cidMapObj + 1
	}
	objs := make([][]byte, firstPage-1+2*total)
	set := func(n int, body string) { objs[n-1] = []byte(body) }
	kids := make([]string, total)
	for i := range d.pages {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	set(catalog, "<< /Type /Catalog /Pages 2 0 R >>")
	set(pagesObj, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), total))
	z, _ := zlib.NewWriterLevel(nil, zlib.BestCompression) // a valid level: no error
	if d.font != nil {
		d.embedFont(set, objs, z, fontObj, cidObj, descObj, toUniObj, fontFileObj, cidMapObj)
	} else {
		set(fontObj, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "+
			"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cidObj, toUniObj))
		set(cidObj, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "+
			"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R "+
			"/DW %d /W [1 95 %d] >>", descObj, fullWidth, halfWidth))
		set(descObj, "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "+
			"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
		objs[toUniObj-1] = stream(d.toUnicode(), nil)
	}
	date := pdfDate(d.info.Created)
	info := "<< /Producer (Suifang)"
	for _, kv := range [][2]string{{"Title", d.info.Title}, {"Subject", d.info.Subject}, {"Author", d.info.Author}, {"Creator", d.info.Creator}} {
		if kv[1] != "" {
			info += " /" + kv[0] + " " + textString(kv[1])
		}
	}
	set(infoObj, info+" /CreationDate "+date+" /ModDate "+date+" >>")
	for i, p := range d.pages {
		set(firstPage+2*i, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "+
			"/Resources << /Font << /F1 %d 0 R >> /ProcSet [/PDF /Text] >> /Contents %d 0 R >>",
			num(PageWidth), num(PageHeight), fontObj, firstPage+2*i+1))
		objs[firstPage+2*i] = stream(p.Bytes(), z)
	}

	var out bytes.Buffer
	// 1.5 for ActualText; the binary comment tells transfer tools this is
	// not text.
	out.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, body := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n", i+1)
		out.Write(body)
		out.WriteString("\nendobj\n")
	}
	sum := sha256.Sum256(out.Bytes())
	id := fmt.Sprintf("%X", sum[:16])
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o) // exactly 20 bytes each (§7.5.4)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(objs)+1, catalog, infoObj, id, id, xref)
	d.out = out.Bytes()
	return d.out
}

// stream is a stream object body, deflated when z is given. One
// compressor serves every page: each costs about a megabyte to set up.
func stream(data []byte, z *zlib.Writer) []byte { return streamWith(data, z, "") }

// streamWith is stream with extra dictionary entries.
func streamWith(data []byte, z *zlib.Writer, extra string) []byte {
	var b bytes.Buffer
	filter := ""
	if z != nil {
		var out bytes.Buffer
		z.Reset(&out)
		z.Write(data) // writes to a bytes.Buffer cannot fail
		z.Close()
		data, filter = out.Bytes(), " /Filter /FlateDecode"
	}
	fmt.Fprintf(&b, "<< /Length %d%s%s >>\nstream\n", len(data), filter, extra)
	b.Write(data)
	b.WriteString("\nendstream")
	return b.Bytes()
}

// toUnicode maps the codes back to text: the identity on the BMP (the
// codes are UTF-16 already) and one entry per surrogate pair used.
func (d *Doc) toUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Suifang-UTF16-UCS def\n/CMapType 2 def\n" +
		"3 begincodespacerange\n<0000> <D7FF>\n<D800DC00> <DBFFDFFF>\n<E000> <FFFF>\nendcodespacerange\n")
	// bfrange may only vary the last byte, and a block holds at most 100
	// entries: one range per high byte, surrogates left out.
	var ranges []string
	for hi := 0; hi < 256; hi++ {
		if hi >= 0xd8 && hi <= 0xdf {
			continue
		}
		ranges = append(ranges, fmt.Sprintf("<%02X00> <%02XFF> <%02X00>", hi, hi, hi))
	}
	for len(ranges) > 0 {
		n := min(len(ranges), 100)
		fmt.Fprintf(&b, "%d beginbfrange\n%s\nendbfrange\n", n, strings.Join(ranges[:n], "\n"))
		ranges = ranges[n:]
	}
	var extra []rune
	for r := range d.extra {
		extra = append(extra, r)
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	for len(extra) > 0 {
		n := min(len(extra), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, r := range extra[:n] {
			h := utf16Hex(r)
			fmt.Fprintf(&b, "<%s> <%s>\n", h, h)
		}
		b.WriteString("endbfchar\n")
		extra = extra[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
