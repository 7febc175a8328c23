package intake

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

const (
	// tblXLSXMax bounds the .xlsx file: excelize holds the (compressed)
	// file in memory, so very large lists should come as CSV.
	tblXLSXMax = 100 << 20
	// tblXLSXUnzipMax bounds the unpacked size of all parts (zip bombs).
	tblXLSXUnzipMax = 2 << 30
	// tblXLSXSheet is the preferred sheet name.
	tblXLSXSheet = "出院患者"
)

// ParseXLSX reads a discharge list from an Excel .xlsx workbook: the sheet
// named 出院患者 if there is one, else the first sheet. Columns, header
// detection and per-row rejects are as for ParseCSV; line numbers are
// Excel's row numbers. Dates may be Excel date serials (1900 or 1904 date
// system) or text. Rows are read with excelize's streaming iterator;
// worksheets larger than 16 MiB unpacked are spooled to a temporary file
// rather than memory. Old binary .xls and encrypted workbooks are refused.
func ParseXLSX(r io.ReaderAt, size int64, name string, sink Sink) (Summary, error) {
	if size > tblXLSXMax {
		return Summary{}, fmt.Errorf("intake: %s: Excel 文件超过 %d MiB，请导出为 CSV / workbook larger than %d MiB: export as CSV", name, tblXLSXMax>>20, tblXLSXMax>>20)
	}
	var magic [8]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return Summary{}, fmt.Errorf("intake: %s: %w", name, err)
	}
	if bytes.Equal(magic[:], []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) {
		return Summary{}, fmt.Errorf("intake: %s: 这是旧版 .xls 或加密的工作簿，请另存为 .xlsx 或 CSV / old .xls or encrypted workbook: save as .xlsx or CSV", name)
	}
	if !bytes.HasPrefix(magic[:], []byte("PK")) {
		return Summary{}, fmt.Errorf("intake: %s: 不是 .xlsx 文件 / not an .xlsx file", name)
	}
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit:    tblXLSXUnzipMax,
		UnzipXMLSizeLimit: 16 << 20,
	})
	if err != nil {
		return Summary{}, fmt.Errorf("intake: %s: 无法打开 Excel 文件 / cannot open workbook: %w", name, err)
	}
	defer f.Close()

	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Summary{}, fmt.Errorf("intake: %s: 工作簿没有工作表 / workbook has no sheet", name)
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if strings.TrimSpace(s) == tblXLSXSheet {
			sheet = s
			break
		}
	}
	p := &tblParser{name: name, sheet: sheet, sink: sink}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		p.date1904 = *props.Date1904
	}

	merges, err := tblXLSXMerges(r, size, sheet)
	if err != nil {
		return Summary{}, fmt.Errorf("intake: %s: %w", name, err)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return Summary{}, fmt.Errorf("intake: %s: %w", name, err)
	}
	defer rows.Close()
	line, scanned := 0, 0
	var first []string
	for rows.Next() {
		line++ // Next advances one sheet row at a time, empty rows included
		rec, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return p.sum, fmt.Errorf("intake: %s: row %d: %w", name, line, err)
		}
		if tblBlank(rec) {
			continue // a blank row inside a merged range stays blank
		}
		rec = merges.fill(line, rec)
		p.lossy = p.lossy[:0]
		for i, c := range rec {
			if tblLossyNumber(c) {
				p.lossy = append(p.lossy, i)
			}
			rec[i] = tblXLSXNumber(c)
		}
		if p.layout == nil {
			if first == nil {
				first = rec
			}
			if p.tryHeader(rec) {
				if err := p.checkHeader(); err != nil {
					return p.sum, err
				}
				continue
			}
			if scanned++; scanned >= tblHeaderScan {
				break
			}
			continue
		}
		p.sum.Rows++
		if err := p.row(line, rec, true, func() string { return tblJoin(rec, ',') }); err != nil {
			return p.sum, err
		}
	}
	if err := rows.Error(); err != nil {
		return p.sum, fmt.Errorf("intake: %s: %w", name, err)
	}
	if p.layout == nil {
		return p.sum, p.headerError(first)
	}
	return p.sum, nil
}

// tblLossyNumber reports a raw cell value that a spreadsheet program
// stored as a number with more digits than a double keeps (an ID number
// typed into a General column: 1.10105195803121E+17): its last digits
// are gone.
func tblLossyNumber(s string) bool {
	if !tblSciNumber(s) {
		return false
	}
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v >= 1e15
}

// tblXLSXNumber turns a raw number in scientific notation
// ("1.3800138E+10", how Excel stores long numbers) into plain digits.
func tblXLSXNumber(s string) string {
	if !strings.ContainsAny(s, "Ee") || len(s) > 32 {
		return s
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return s
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v >= 1e21 {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// tblMerge is a merged range, 1-based and inclusive.
type tblMerge struct {
	r1, c1, r2, c2 int
	top            []string // the first row's values over c1..c2, once read
}

// tblMerges fills merged cells down: HIS exports merge the department
// cell over all of its patients' rows, and only the first row of a
// merged range holds the value. Ranges are sorted by first row and only
// the ones covering the current row are looked at, so a long sheet with
// many merged ranges stays linear.
type tblMerges struct {
	byRow  []*tblMerge // sorted by r1
	next   int         // first range not yet started
	active []*tblMerge
}

// fill returns rec (row number line, rows in ascending order) with the
// cells of every range spanning several rows set, below its first row, to
// the first row's value.
func (ms *tblMerges) fill(line int, rec []string) []string {
	if ms == nil {
		return rec
	}
	for ms.next < len(ms.byRow) && ms.byRow[ms.next].r1 <= line {
		if m := ms.byRow[ms.next]; m.r1 == line {
			m.top = make([]string, m.c2-m.c1+1)
			for c := m.c1; c <= m.c2 && c <= len(rec); c++ {
				m.top[c-m.c1] = rec[c-1]
			}
			ms.active = append(ms.active, m)
		}
		ms.next++
	}
	keep := ms.active[:0]
	for _, m := range ms.active {
		if line > m.r2 {
			continue
		}
		keep = append(keep, m)
		if line == m.r1 {
			continue
		}
		for len(rec) < m.c2 {
			rec = append(rec, "")
		}
		for c := m.c1; c <= m.c2; c++ {
			if strings.TrimSpace(rec[c-1]) == "" {
				rec[c-1] = m.top[c-m.c1]
			}
		}
	}
	ms.active = keep
	return rec
}

// tblXLSXMergeMax bounds the merged ranges honoured, and the bytes read
// after the <mergeCells> element starts.
const (
	tblXLSXMergeMax   = 100000
	tblXLSXMergeBytes = 16 << 20
)

var tblMergeRef = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref="([A-Za-z]{1,3}[0-9]{1,7}):([A-Za-z]{1,3}[0-9]{1,7})"`)

// tblXLSXMerges reads the merged ranges spanning several rows of sheet.
// The worksheet part is streamed: <mergeCells> follows the cell data, so
// the rows are skipped as bytes rather than parsed.
func tblXLSXMerges(r io.ReaderAt, size int64, sheet string) (*tblMerges, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	part, err := tblXLSXSheetPart(zr, sheet)
	if err != nil || part == nil {
		return nil, err
	}
	rc, err := part.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	marker := []byte("mergeCells")
	var tail []byte
	for {
		chunk, err := br.Peek(br.Size())
		if len(chunk) == 0 {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
				return nil, err
			}
			return nil, nil // no merged cells
		}
		win := append(tail, chunk...)
		if i := bytes.Index(win, marker); i >= 0 {
			var prefix []byte
			if i < len(tail) {
				prefix = tail[i:] // the marker began in the last chunk
			} else {
				br.Discard(i - len(tail))
			}
			rest, err := io.ReadAll(io.LimitReader(br, tblXLSXMergeBytes))
			if err != nil {
				return nil, err
			}
			return tblParseMerges(append(prefix, rest...)), nil
		}
		keep := min(len(win), len(marker)-1)
		tail = append(tail[:0], win[len(win)-keep:]...)
		if _, err := br.Discard(len(chunk)); err != nil {
			return nil, err
		}
	}
}

// tblParseMerges reads the <mergeCell ref="A2:A5"/> elements of a
// worksheet's tail, keeping the ranges that span several rows.
func tblParseMerges(b []byte) *tblMerges {
	var out []*tblMerge
	for _, m := range tblMergeRef.FindAllSubmatch(b, tblXLSXMergeMax) {
		c1, r1, err1 := excelize.CellNameToCoordinates(strings.ToUpper(string(m[1])))
		c2, r2, err2 := excelize.CellNameToCoordinates(strings.ToUpper(string(m[2])))
		if err1 != nil || err2 != nil {
			continue
		}
		r1, r2 = min(r1, r2), max(r1, r2)
		c1, c2 = min(c1, c2), max(c1, c2)
		if r2 > r1 && c2-c1 < 256 {
			out = append(out, &tblMerge{r1: r1, c1: c1, r2: r2, c2: c2})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].r1 < out[j].r1 })
	return &tblMerges{byRow: out}
}

// tblXLSXSheetPart finds the worksheet part of the sheet named name
// through xl/workbook.xml and its relationships.
func tblXLSXSheetPart(zr *zip.Reader, name string) (*zip.File, error) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[strings.TrimPrefix(f.Name, "/")] = f
	}
	read := func(p string, v any) error {
		f := files[p]
		if f == nil {
			return fmt.Errorf("xlsx: no %s", p)
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		return xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := read("xl/workbook.xml", &wb); err != nil {
		return nil, err
	}
	if err := read("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, err
	}
	for _, sh := range wb.Sheets {
		if sh.Name != name {
			continue
		}
		for _, rel := range rels.Rels {
			if rel.ID != sh.RID {
				continue
			}
			t := rel.Target
			if strings.HasPrefix(t, "/") {
				t = strings.TrimPrefix(t, "/")
			} else {
				t = path.Join("xl", t)
			}
			return files[t], nil
		}
	}
	return nil, nil
}
