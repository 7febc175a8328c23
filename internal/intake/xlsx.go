package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
			continue
		}
		for i, c := range rec {
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
