package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"sort"
	"strings"
)

// A TrueType font to embed, read from a .ttf file with glyf outlines (not
// a collection, not CFF). Documents set in it carry a subset: the glyphs
// they use (and the components of composite glyphs) renumbered from 1,
// with their real advances, so the file renders and extracts the same
// everywhere and stays small. A Font is read-only and may be shared by
// concurrent documents.
type Font struct {
	name        string // PostScript-safe family name, for BaseFont
	data        []byte
	tables      map[string][]byte
	unitsPerEm  int
	bbox        [4]int
	ascent      int
	descent     int
	capHeight   int
	numGlyphs   int
	numHMetrics int
	longLoca    bool
	cmap        []byte // the chosen subtable
	cmapFormat  int
}

var errFont = errors.New("pdf: font: malformed TrueType data")

// LoadFont reads and parses a TrueType file.
func LoadFont(path string) (*Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pdf: font: %w", err)
	}
	return ParseFont(data, fontNameOf(path))
}

// fontNameOf is a BaseFont name from a file name: letters and digits and
// hyphens only.
func fontNameOf(path string) string {
	base := path
	for i := len(base) - 1; i >= 0; i-- {
		if base[i] == '/' || base[i] == '\\' {
			base = base[i+1:]
			break
		}
	}
	out := make([]byte, 0, len(base))
	for i := 0; i < len(base) && base[i] != '.'; i++ {
		c := base[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "Embedded"
	}
	return string(out)
}

func u16(b []byte, off int) (int, bool) {
	if off < 0 || off+2 > len(b) {
		return 0, false
	}
	return int(binary.BigEndian.Uint16(b[off:])), true
}

func i16(b []byte, off int) (int, bool) {
	v, ok := u16(b, off)
	return int(int16(uint16(v))), ok
}

func u32(b []byte, off int) (int, bool) {
	if off < 0 || off+4 > len(b) {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(b[off:])), true
}

// ParseFont parses TrueType data; name becomes the embedded font's name.
// Malformed data is an error, never a panic.
func ParseFont(data []byte, name string) (*Font, error) {
	f := &Font{name: name, data: data, tables: map[string][]byte{}}
	ver, ok := u32(data, 0)
	switch {
	case !ok:
		return nil, errFont
	case ver == 0x74746366: // 'ttcf'
		return nil, errors.New("pdf: font: a TrueType collection (.ttc): give a single .ttf")
	case ver == 0x4f54544f: // 'OTTO'
		return nil, errors.New("pdf: font: CFF outlines (OpenType .otf): give a TrueType font with glyf outlines")
	case ver != 0x00010000 && ver != 0x74727565: // 'true'
		return nil, errFont
	}
	n, _ := u16(data, 4)
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(data) {
			return nil, errFont
		}
		tag := string(data[rec : rec+4])
		off, _ := u32(data, rec+8)
		length, _ := u32(data, rec+12)
		if off < 0 || length < 0 || off > len(data) || length > len(data)-off {
			return nil, errFont
		}
		f.tables[tag] = data[off : off+length]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} {
		if f.tables[t] == nil {
			if t == "glyf" && f.tables["CFF "] != nil {
				return nil, errors.New("pdf: font: CFF outlines: give a TrueType font with glyf outlines")
			}
			return nil, fmt.Errorf("pdf: font: no %s table", t)
		}
	}
	head := f.tables["head"]
	if len(head) < 54 {
		return nil, errFont
	}
	f.unitsPerEm, _ = u16(head, 18)
	if f.unitsPerEm < 16 || f.unitsPerEm > 16384 {
		return nil, errFont
	}
	for i := range f.bbox {
		f.bbox[i], _ = i16(head, 36+2*i)
	}
	format, _ := i16(head, 50)
	f.longLoca = format == 1
	hhea := f.tables["hhea"]
	if len(hhea) < 36 {
		return nil, errFont
	}
	f.ascent, _ = i16(hhea, 4)
	f.descent, _ = i16(hhea, 6)
	f.numHMetrics, _ = u16(hhea, 34)
	f.numGlyphs, ok = u16(f.tables["maxp"], 4)
	if !ok || f.numGlyphs == 0 || f.numHMetrics == 0 || f.numHMetrics > f.numGlyphs {
		return nil, errFont
	}
	if len(f.tables["hmtx"]) < 4*f.numHMetrics+2*(f.numGlyphs-f.numHMetrics) {
		return nil, errFont
	}
	locaEntry := 2
	if f.longLoca {
		locaEntry = 4
	}
	if len(f.tables["loca"]) < locaEntry*(f.numGlyphs+1) {
		return nil, errFont
	}
	f.capHeight = f.ascent
	if os2 := f.tables["OS/2"]; len(os2) >= 90 {
		if v, _ := u16(os2, 0); v >= 2 {
			if c, _ := i16(os2, 88); c > 0 {
				f.capHeight = c
			}
		}
	}
	if err := f.pickCmap(); err != nil {
		return nil, err
	}
	return f, nil
}

// pickCmap chooses a Unicode subtable: full repertoire (format 12) first,
// else the BMP one (format 4).
func (f *Font) pickCmap() error {
	cm := f.tables["cmap"]
	n, ok := u16(cm, 2)
	if !ok {
		return errFont
	}
	best := -1
	for i := 0; i < n; i++ {
		rec := 4 + 8*i
		pid, ok1 := u16(cm, rec)
		eid, ok2 := u16(cm, rec+2)
		off, ok3 := u32(cm, rec+4)
		if !ok1 || !ok2 || !ok3 || off >= len(cm) {
			return errFont
		}
		unicode := pid == 0 || pid == 3 && (eid == 1 || eid == 10)
		if !unicode {
			continue
		}
		format, ok := u16(cm, off)
		if !ok {
			return errFont
		}
		rank := map[int]int{12: 2, 4: 1}[format]
		if rank > best {
			best, f.cmapFormat = rank, format
			f.cmap = cm[off:]
		}
	}
	if best <= 0 {
		return errors.New("pdf: font: no Unicode cmap (format 4 or 12)")
	}
	return nil
}

// glyph is r's glyph id, 0 when the font lacks it.
func (f *Font) glyph(r rune) int {
	c := int(r)
	switch f.cmapFormat {
	case 12:
		n, _ := u32(f.cmap, 12)
		if n < 0 || n > (len(f.cmap)-16)/12 {
			n = max(0, (len(f.cmap)-16)/12)
		}
		i := sort.Search(n, func(i int) bool { e, _ := u32(f.cmap, 16+12*i+4); return e >= c })
		if i < n {
			s, _ := u32(f.cmap, 16+12*i)
			g, _ := u32(f.cmap, 16+12*i+8)
			if c >= s {
				if g += c - s; g < f.numGlyphs {
					return g
				}
			}
		}
	case 4:
		if c > 0xffff {
			return 0
		}
		segX2, _ := u16(f.cmap, 6)
		seg := segX2 / 2
		ends, starts := 14, 16+segX2
		deltas, ranges := starts+segX2, starts+2*segX2
		i := sort.Search(seg, func(i int) bool { e, ok := u16(f.cmap, ends+2*i); return !ok || e >= c })
		if i >= seg {
			return 0
		}
		s, ok1 := u16(f.cmap, starts+2*i)
		d, ok2 := u16(f.cmap, deltas+2*i)
		ro, ok3 := u16(f.cmap, ranges+2*i)
		if !ok1 || !ok2 || !ok3 || c < s {
			return 0
		}
		g := 0
		if ro == 0 {
			g = (c + d) & 0xffff
		} else {
			at := ranges + 2*i + ro + 2*(c-s)
			v, ok := u16(f.cmap, at)
			if !ok || v == 0 {
				return 0
			}
			g = (v + d) & 0xffff
		}
		if g < f.numGlyphs {
			return g
		}
	}
	return 0
}

// advance is glyph g's advance width in font units.
func (f *Font) advance(g int) int {
	if g >= f.numHMetrics {
		g = f.numHMetrics - 1
	}
	a, _ := u16(f.tables["hmtx"], 4*g)
	return a
}

// width is r's advance in thousandths of the font size.
func (f *Font) width(r rune) int {
	return f.advance(f.glyph(r)) * 1000 / f.unitsPerEm
}

// glyphData is glyph g's outline bytes (empty for a blank glyph).
func (f *Font) glyphData(g int) []byte {
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var a, b int
	if f.longLoca {
		a, _ = u32(loca, 4*g)
		b, _ = u32(loca, 4*g+4)
	} else {
		a, _ = u16(loca, 2*g)
		b, _ = u16(loca, 2*g+2)
		a, b = 2*a, 2*b
	}
	if a < 0 || b < a || b > len(glyf) {
		return nil
	}
	return glyf[a:b]
}

// Composite glyph flags (TrueType glyf table).
const (
	argWords     = 0x0001
	haveScale    = 0x0008
	moreComps    = 0x0020
	haveXYScale  = 0x0040
	haveTwoByTwo = 0x0080
)

// components lists the offsets of the component glyph ids inside a
// composite glyph's data; nil for a simple glyph.
func components(data []byte) []int {
	nc, ok := i16(data, 0)
	if !ok || nc >= 0 {
		return nil
	}
	var out []int
	for off := 10; len(out) < 64; {
		flags, ok := u16(data, off)
		if !ok || off+4 > len(data) {
			return out
		}
		out = append(out, off+2)
		off += 4
		if flags&argWords != 0 {
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&haveScale != 0:
			off += 2
		case flags&haveXYScale != 0:
			off += 4
		case flags&haveTwoByTwo != 0:
			off += 8
		}
		if flags&moreComps == 0 {
			return out
		}
	}
	return out
}

// subset is a font file with only glyphs (old ids, [0] = .notdef), in
// that order: glyph i of the subset is glyphs[i]. Composite glyphs' parts
// must be listed (closure adds them).
func (f *Font) subset(glyphs []int, uni map[int]rune) []byte {
	newID := make(map[int]int, len(glyphs))
	for i, g := range glyphs {
		newID[g] = i
	}
	var glyf []byte
	loca := make([]byte, 4*(len(glyphs)+1))
	hmtx := make([]byte, 4*len(glyphs))
	for i, g := range glyphs {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		data := slices.Clone(f.glyphData(g))
		for _, at := range components(data) {
			old, _ := u16(data, at)
			binary.BigEndian.PutUint16(data[at:], uint16(newID[old]))
		}
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		binary.BigEndian.PutUint16(hmtx[4*i:], uint16(f.advance(g)))
		lsb := 0
		if g < f.numHMetrics {
			lsb, _ = i16(f.tables["hmtx"], 4*g+2)
		} else {
			lsb, _ = i16(f.tables["hmtx"], 4*f.numHMetrics+2*(g-f.numHMetrics))
		}
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(int16(lsb)))
	}
	binary.BigEndian.PutUint32(loca[4*len(glyphs):], uint32(len(glyf)))
	head := slices.Clone(f.tables["head"][:54])
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(f.tables["hhea"][:36])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(glyphs)))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(glyphs)))
	post := make([]byte, 32)
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names
	tables := map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf, "post": post,
		"cmap": subsetCmap(uni, newID)}
	// Hinting programs the glyphs' instructions may call.
	for _, t := range []string{"cvt ", "fpgm", "prep"} {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	return writeSFNT(tables)
}

// subsetCmap is a Unicode cmap (3,10, format 12) for the subset: PDF
// readers use the CIDToGIDMap, but a font file without a cmap is
// incomplete to font tools and some rasterisers.
func subsetCmap(uni map[int]rune, newID map[int]int) []byte {
	type pair struct{ r, g int }
	var ps []pair
	for old, r := range uni {
		if g, ok := newID[old]; ok && g > 0 {
			ps = append(ps, pair{int(r), g})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].r < ps[j].r })
	b := make([]byte, 12+16+12*len(ps))
	binary.BigEndian.PutUint16(b[2:], 1)  // one subtable
	binary.BigEndian.PutUint16(b[4:], 3)  // Windows
	binary.BigEndian.PutUint16(b[6:], 10) // full Unicode
	binary.BigEndian.PutUint32(b[8:], 12)
	t := b[12:]
	binary.BigEndian.PutUint16(t, 12)
	binary.BigEndian.PutUint32(t[4:], uint32(len(t)))
	binary.BigEndian.PutUint32(t[12:], uint32(len(ps)))
	for i, p := range ps {
		binary.BigEndian.PutUint32(t[16+12*i:], uint32(p.r))
		binary.BigEndian.PutUint32(t[20+12*i:], uint32(p.r))
		binary.BigEndian.PutUint32(t[24+12*i:], uint32(p.g))
	}
	return b
}

// closure returns .notdef, the glyphs of used, and every component of
// the composite ones, sorted by old id.
func (f *Font) closure(used map[int]bool) []int {
	seen := map[int]bool{0: true}
	var todo []int
	for g := range used {
		if g > 0 && g < f.numGlyphs && !seen[g] {
			seen[g] = true
			todo = append(todo, g)
		}
	}
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		data := f.glyphData(g)
		for _, at := range components(data) {
			c, _ := u16(data, at)
			if c < f.numGlyphs && !seen[c] {
				seen[c] = true
				todo = append(todo, c)
			}
		}
	}
	out := make([]int, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Ints(out)
	return out
}

// writeSFNT assembles tables into a TrueType file with correct
// checksums and the head table's checksum adjustment.
func writeSFNT(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	entry := 1
	for entry*2 <= n {
		entry *= 2
	}
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(entry*16))
	sel := 0
	for 1<<(sel+1) <= entry {
		sel++
	}
	binary.BigEndian.PutUint16(out[8:], uint16(sel))
	binary.BigEndian.PutUint16(out[10:], uint16(n*16-entry*16))
	headAt := 0
	for i, t := range tags {
		b := tables[t]
		rec := 12 + 16*i
		copy(out[rec:], t)
		binary.BigEndian.PutUint32(out[rec+4:], checksum(b))
		binary.BigEndian.PutUint32(out[rec+8:], uint32(len(out)))
		binary.BigEndian.PutUint32(out[rec+12:], uint32(len(b)))
		if t == "head" {
			headAt = len(out)
		}
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// embedFont writes the embedded font's objects: a Type0 font over a
// CIDFontType2 whose CIDs are the original glyph ids (so the content
// streams, written before the subset is known, stay valid), a
// CIDToGIDMap from those to the subset's compact ids, the advances in W,
// the subset as FontFile2 and a ToUnicode map for extraction.
func (d *Doc) embedFont(set func(int, string), objs [][]byte, z *zlib.Writer, fontObj, cidObj, descObj, toUniObj, fileObj, mapObj int) {
	f := d.font
	used := map[int]bool{}
	for g := range d.uni {
		used[g] = true
	}
	glyphs := f.closure(used)
	sub := f.subset(glyphs, d.uni)
	// The subset tag: six capitals from the glyph set, the same for the
	// same text (§9.9.2).
	h := fnv.New64a()
	for _, g := range glyphs {
		fmt.Fprintf(h, "%d,", g)
	}
	sum := h.Sum64()
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = byte('A' + sum%26)
		sum /= 26
	}
	name := string(tag) + "+" + f.name
	scale := func(v int) int { return v * 1000 / f.unitsPerEm }

	maxCID := glyphs[len(glyphs)-1]
	cmap := make([]byte, 2*(maxCID+1))
	var w strings.Builder
	for i, g := range glyphs {
		binary.BigEndian.PutUint16(cmap[2*g:], uint16(i))
		if g > 0 {
			fmt.Fprintf(&w, "%d [%d] ", g, scale(f.advance(g)))
		}
	}
	set(fontObj, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "+
		"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", name, cidObj, toUniObj))
	set(cidObj, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "+
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R "+
		"/DW %d /W [%s] /CIDToGIDMap %d 0 R >>", name, descObj, scale(f.advance(0)), strings.TrimSpace(w.String()), mapObj))
	set(descObj, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%d %d %d %d] "+
		"/ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>", name,
		scale(f.bbox[0]), scale(f.bbox[1]), scale(f.bbox[2]), scale(f.bbox[3]),
		scale(f.ascent), scale(f.descent), scale(f.capHeight), fileObj))
	objs[fileObj-1] = streamWith(sub, z, fmt.Sprintf(" /Length1 %d", len(sub)))
	objs[mapObj-1] = stream(cmap, z)
	objs[toUniObj-1] = stream(d.glyphToUnicode(), z)
}

// glyphToUnicode is the ToUnicode CMap of the embedded font: each glyph
// id used back to its character.
func (d *Doc) glyphToUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Suifang-GID-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	gs := make([]int, 0, len(d.uni))
	for g := range d.uni {
		gs = append(gs, g)
	}
	sort.Ints(gs)
	for len(gs) > 0 {
		n := min(len(gs), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, g := range gs[:n] {
			fmt.Fprintf(&b, "<%04X> <%s>\n", g, utf16Hex(d.uni[g]))
		}
		b.WriteString("endbfchar\n")
		gs = gs[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// fontPaths are where Debian packages put CJK TrueType fonts with glyf
// outlines: LXGW WenKai (fonts-lxgw-wenkai, OFL 1.1) first, then Droid
// Sans Fallback (fonts-droid-fallback, Apache 2.0).
var fontPaths = []string{
	"/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
}

// FindFont is the font file to embed: flag when set (whether or not it
// exists: the caller reports the error), else the first known Debian path
// that exists, else "".
func FindFont(flag string) string {
	if flag != "" {
		return flag
	}
	for _, p := range fontPaths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
