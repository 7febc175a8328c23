package intake

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

const (
	// tblPeek is how much of the file decides its encoding and delimiter.
	tblPeek = 64 << 10
	// tblMaxLine bounds one physical line, so a file without line breaks
	// cannot exhaust memory.
	tblMaxLine = 1 << 20
	// tblHeaderScan is how many leading rows may precede the header (a
	// title such as "出院患者名单 2026年10月").
	tblHeaderScan = 10
	// tblRawMax truncates Reject.Raw.
	tblRawMax = 4096
)

// ParseCSV reads a discharge list exported from the HIS as CSV and calls
// sink for every data row in order: one Message per usable row, one Reject
// (with the row number, the column at fault and the row itself) per
// unusable one. It streams: memory does not grow with the file.
//
// Encoding: a UTF-8 BOM or valid UTF-8 in the first 64 KiB means UTF-8; a
// UTF-16 BOM (Excel "Unicode text") means UTF-16; anything else is decoded
// as GB18030 (which covers GBK and GB2312). Delimiter: comma, or tab or
// semicolon when the header has them and no comma.
//
// The header is the first row (among the first 10) naming at least two
// known columns; rows above it are skipped. Line numbers are physical
// lines of the file, so with the header on line 1 they equal the row
// numbers Excel shows. A header lacking required columns refuses the
// whole file with a *MissingColumnsError. Other errors are I/O errors or
// errors returned by sink; Summary then counts what was done so far.
func ParseCSV(r io.Reader, name string, sink Sink) (Summary, error) {
	text, utf8Mode, err := tblDecode(r)
	if err != nil {
		return Summary{}, fmt.Errorf("intake: %s: %w", name, err)
	}
	br := bufio.NewReaderSize(&tblLineLimit{r: text}, tblPeek)
	head, err := br.Peek(tblPeek)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return Summary{}, fmt.Errorf("intake: %s: %w", name, err)
	}
	comma := tblSniffDelimiter(head)

	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	p := &tblParser{name: name, sink: sink}
	rawOf := func(rec []string) func() string {
		return func() string { return tblJoin(rec, comma) }
	}
	scanned := 0
	var first []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(pe.Err, tblErrLineTooLong) {
			if p.layout == nil {
				return p.sum, fmt.Errorf("intake: %s: header: %w", name, err)
			}
			p.sum.Rows++
			if err := p.reject(Reject{Line: pe.StartLine, Reason: "CSV 格式错误 / malformed CSV: " + pe.Err.Error()}); err != nil {
				return p.sum, err
			}
			continue
		}
		if err != nil {
			return p.sum, fmt.Errorf("intake: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if p.layout == nil {
			if tblBlank(rec) {
				continue
			}
			if first == nil {
				first = append([]string(nil), rec...)
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
		if tblBlank(rec) {
			continue
		}
		var badEnc bool
		for _, f := range rec {
			if (utf8Mode && !utf8.ValidString(f)) || strings.ContainsRune(f, utf8.RuneError) {
				badEnc = true
				break
			}
		}
		p.sum.Rows++
		if badEnc {
			err = p.reject(Reject{Line: line, Reason: "含无法解码的字符，文件编码可能混杂 / undecodable characters: the file mixes encodings", Raw: tblTruncate(strings.ToValidUTF8(tblJoin(rec, comma), "\uFFFD"), tblRawMax)})
		} else {
			err = p.row(line, rec, false, rawOf(rec))
		}
		if err != nil {
			return p.sum, err
		}
	}
	if p.layout == nil {
		return p.sum, p.headerError(first)
	}
	return p.sum, nil
}

// tblDecode picks the encoding from the first 64 KiB and returns a UTF-8
// stream without BOM. utf8Mode is true when the bytes are passed through.
func tblDecode(r io.Reader) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r, tblPeek)
	head, err := br.Peek(tblPeek)
	full := errors.Is(err, bufio.ErrBufferFull) || err == nil
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, false, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, true, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(br, dec), false, nil
	}
	check := head
	if full {
		// The peek may end inside a character.
		for i := len(check) - 1; i >= 0 && i >= len(check)-utf8.UTFMax; i-- {
			if utf8.RuneStart(check[i]) {
				if !utf8.FullRune(check[i:]) {
					check = check[:i]
				}
				break
			}
		}
	}
	if utf8.Valid(check) {
		return br, true, nil
	}
	return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), false, nil
}

// tblSniffDelimiter looks at the first lines that have any delimiter: a
// comma wins, then tab, then semicolon.
func tblSniffDelimiter(head []byte) rune {
	for n := 0; n < tblHeaderScan && len(head) > 0; n++ {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		switch {
		case bytes.IndexByte(line, ',') >= 0:
			return ','
		case bytes.IndexByte(line, '\t') >= 0:
			return '\t'
		case bytes.IndexByte(line, ';') >= 0:
			return ';'
		}
	}
	return ','
}

var tblErrLineTooLong = fmt.Errorf("一行超过 %d 字节 / a line is longer than %d bytes", tblMaxLine, tblMaxLine)

// tblLineLimit fails when a physical line exceeds tblMaxLine.
type tblLineLimit struct {
	r   io.Reader
	cur int
}

func (l *tblLineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	chunk := p[:n]
	if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
		if l.cur+bytes.IndexByte(chunk, '\n') > tblMaxLine {
			return 0, tblErrLineTooLong
		}
		l.cur = len(chunk) - i - 1
	} else {
		l.cur += n
	}
	if l.cur > tblMaxLine {
		return 0, tblErrLineTooLong
	}
	return n, err
}

func tblBlank(rec []string) bool {
	for _, f := range rec {
		if tblCleanCell(f) != "" {
			return false
		}
	}
	return true
}

// tblJoin re-encodes a row as one CSV line.
func tblJoin(rec []string, comma rune) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	_ = w.Write(rec)
	w.Flush()
	return tblTruncate(strings.TrimRight(b.String(), "\r\n"), tblRawMax)
}

// tblParser maps rows of a CSV or Excel sheet to messages.
type tblParser struct {
	name     string // file name for Source
	sheet    string // Excel sheet, "" for CSV
	lossy    []int  // Excel: the current row's cells stored as numbers too long to keep
	sink     Sink
	sum      Summary
	layout   *tblLayout
	date1904 bool
}

// tryHeader takes rec as the header when it names at least two known
// columns.
func (p *tblParser) tryHeader(rec []string) bool {
	l := tblNewLayout(rec)
	if l.known < 2 {
		return false
	}
	p.layout = l
	p.sum.IgnoredColumns = l.ignored
	return true
}

// checkHeader refuses a header that lacks required columns.
func (p *tblParser) checkHeader() error {
	if miss := p.layout.missing(); len(miss) > 0 {
		return &MissingColumnsError{File: p.name, Missing: miss, Header: p.layout.headers}
	}
	return nil
}

func (p *tblParser) headerError(first []string) error {
	if first == nil {
		return fmt.Errorf("intake: %s: 文件为空或没有表头 / empty file or no header row", p.name)
	}
	l := tblNewLayout(first)
	return &MissingColumnsError{File: p.name, Missing: l.missing(), Header: l.headers}
}

func (p *tblParser) source(line int) string {
	var b strings.Builder
	b.WriteString(p.name)
	if p.sheet != "" {
		fmt.Fprintf(&b, " [%s]", p.sheet)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "row %d", line)
	return b.String()
}

func (p *tblParser) reject(r Reject) error {
	p.sum.Rejects++
	if r.Source == "" {
		r.Source = p.source(r.Line)
	}
	if p.sink.Reject == nil {
		return nil
	}
	if err := p.sink.Reject(r); err != nil {
		return fmt.Errorf("intake: %s: %w", p.name, err)
	}
	return nil
}

func (p *tblParser) message(m Message) error {
	p.sum.Messages++
	if p.sink.Message == nil {
		return nil
	}
	if err := p.sink.Message(m); err != nil {
		return fmt.Errorf("intake: %s: %w", p.name, err)
	}
	return nil
}

// tblRowError is a bad value in one column.
type tblRowError struct {
	col    int // -1: the row as a whole, or a column the file lacks
	reason string
	field  string // canonical header when col is -1
}

// row turns one data row into a message or a reject. With excel the cells
// come from a sheet: missing trailing cells are empty, extra cells beyond
// the header are ignored, and numbers may be Excel date serials.
func (p *tblParser) row(line int, rec []string, excel bool, raw func() string) error {
	l := p.layout
	n := len(l.headers)
	if !excel && len(rec) != n {
		extraEmpty := len(rec) > n && tblBlank(rec[n:])
		if !extraEmpty {
			return p.reject(Reject{Line: line,
				Reason: fmt.Sprintf("列数不符：本行 %d 列，表头 %d 列 / %d fields, header has %d", len(rec), n, len(rec), n),
				Raw:    raw()})
		}
	}
	m, rerr := p.build(line, rec, excel)
	if rerr != nil {
		field := ""
		if rerr.col >= 0 && rerr.col < n {
			field = l.headers[rerr.col]
		} else {
			field = rerr.field
		}
		return p.reject(Reject{Line: line, Field: field, Reason: rerr.reason, Raw: raw()})
	}
	return p.message(m)
}

func (p *tblParser) build(line int, rec []string, excel bool) (Message, *tblRowError) {
	l := p.layout
	cell := func(i int) string {
		if i < len(rec) {
			return rec[i]
		}
		return ""
	}
	// get returns the first non-empty value of a field and its column.
	get := func(f tblField) (string, int) {
		for _, c := range l.cols[f] {
			if v := tblValue(cell(c)); v != "" {
				return v, c
			}
		}
		if len(l.cols[f]) > 0 {
			return "", l.cols[f][0]
		}
		return "", -1
	}
	ident := func(f tblField) (string, int) {
		v, c := get(f)
		return tblIdent(v), c
	}
	text := func(f tblField) (string, *tblRowError) {
		v, c := get(f)
		if utf8.RuneCountInString(v) > 500 {
			return "", &tblRowError{col: c, reason: "内容过长（超过 500 字）/ value longer than 500 characters"}
		}
		return v, nil
	}
	bad := func(c int, err error) *tblRowError { return &tblRowError{col: c, reason: err.Error()} }
	// spoiled: an identifier a spreadsheet program turned into a number
	// (1.10105195803121E+17): the reject says how to fix the file.
	spoiled := func(f tblField, what string) *tblRowError {
		for _, c := range l.cols[f] {
			if v := tblValue(cell(c)); tblSciNumber(v) || slices.Contains(p.lossy, c) {
				return &tblRowError{col: c, reason: what + tblSpreadsheetHint}
			}
		}
		return nil
	}
	for _, f := range []struct {
		f    tblField
		what string
	}{{tfMRN, "病案号"}, {tfVisit, "住院流水号"}, {tfNationalID, "身份证号"}, {tfPhone, "联系电话"}} {
		if e := spoiled(f.f, f.what); e != nil {
			return Message{Source: p.source(line), Line: line}, e
		}
	}

	m := Message{Source: p.source(line), Line: line}
	var c int
	var v string
	var err error

	v, c = get(tfEvent)
	if m.Event, err = tblParseEvent(v); err != nil {
		return m, bad(c, err)
	}
	m.Facility, _ = ident(tfFacility)

	pt := &m.Patient
	if pt.MRN, c = ident(tfMRN); pt.MRN == "" {
		return m, &tblRowError{col: c, reason: "病案号为空 / MRN is empty"}
	} else if len(pt.MRN) > 64 {
		return m, &tblRowError{col: c, reason: "病案号过长 / MRN longer than 64 characters"}
	}
	enc := &m.Encounter
	if enc.VisitNumber, c = ident(tfVisit); enc.VisitNumber == "" {
		return m, &tblRowError{col: c, reason: "住院流水号为空 / visit number is empty"}
	} else if len(enc.VisitNumber) > 64 {
		return m, &tblRowError{col: c, reason: "住院流水号过长 / visit number longer than 64 characters"}
	}
	pt.Name, c = get(tfName)
	if pt.Name = tblCleanName(pt.Name); pt.Name == "" {
		return m, &tblRowError{col: c, reason: "姓名为空 / name is empty"}
	} else if utf8.RuneCountInString(pt.Name) > 100 {
		return m, &tblRowError{col: c, reason: "姓名过长 / name longer than 100 characters"}
	}

	v, c = get(tfSex)
	if pt.Sex, err = tblParseSex(v); err != nil {
		return m, bad(c, err)
	}
	if v, c = get(tfBirth); v != "" {
		t, _, err := tblParseTime(v, excel, p.date1904)
		if err != nil {
			return m, bad(c, fmt.Errorf("出生日期：%w", err))
		}
		pt.BirthDate = tblDateOf(t)
	}
	idType, _ := get(tfIDType)
	if v, c = ident(tfNationalID); v != "" && tblIsResidentID(idType) {
		id, birth, sex, err := gb11643Parse(v)
		if err != nil {
			if excel {
				err = fmt.Errorf("%w（若该列在 Excel 中是数字格式，末几位已丢失，请设为文本后重填 / if the column is numeric in Excel its last digits are lost: format it as text）", err)
			}
			return m, bad(c, err)
		}
		pt.NationalID = id
		if pt.BirthDate.IsZero() {
			pt.BirthDate = birth
		}
		if pt.Sex == "" {
			pt.Sex = sex
		}
	}
	if pt.Sex == "" {
		pt.Sex = Unknown
	}
	for _, c := range l.cols[tfPhone] {
		// An unusable number costs the number, not the stay.
		phones, badPhones := ParsePhones(tblValue(cell(c)))
		for _, b := range badPhones {
			m.warnPhone(l.headers[c], b.Err, b.Raw)
		}
		for _, ph := range phones {
			pt.Phones = tblAppendUnique(pt.Phones, ph)
		}
	}
	var rerr *tblRowError
	if pt.Address, rerr = text(tfAddress); rerr != nil {
		return m, rerr
	}
	if pt.Employer, rerr = text(tfEmployer); rerr != nil {
		return m, rerr
	}
	enc.DepartmentCode, _ = ident(tfDeptCode)
	for _, f := range []struct {
		f   tblField
		dst *string
	}{{tfDeptName, &enc.DepartmentName}, {tfWardName, &enc.WardName}, {tfDoctor, &enc.AttendingDoctor}, {tfNurse, &enc.ResponsibleNurse}} {
		if *f.dst, rerr = text(f.f); rerr != nil {
			return m, rerr
		}
	}
	enc.WardCode, _ = ident(tfWardCode)

	if enc.AdmittedAt, rerr = p.moment(rec, tfAdmitted, excel); rerr != nil {
		return m, rerr
	}
	if enc.DischargedAt, rerr = p.moment(rec, tfDischarged, excel); rerr != nil {
		return m, rerr
	}
	if m.Event == Discharge && enc.DischargedAt.IsZero() {
		_, c = get(tfDischarged)
		return m, &tblRowError{col: c, reason: "出院日期为空 / discharge date is empty", field: "出院日期"}
	}
	if !enc.AdmittedAt.IsZero() && !enc.DischargedAt.IsZero() && enc.DischargedAt.Before(enc.AdmittedAt) {
		_, c = get(tfDischarged)
		return m, &tblRowError{col: c, reason: "出院时间早于入院时间 / discharged before admitted"}
	}
	if !pt.BirthDate.IsZero() && !enc.AdmittedAt.IsZero() && tblDateOf(enc.AdmittedAt).Before(pt.BirthDate) {
		_, c = get(tfBirth)
		return m, &tblRowError{col: c, reason: "出生日期晚于入院日期 / born after admission"}
	}

	for n := 1; n <= tblDiagMax; n++ {
		cc, nc := l.diag[n][0], l.diag[n][1]
		if cc < 0 && nc < 0 {
			continue
		}
		code, name := "", ""
		if cc >= 0 {
			code = tblValue(cell(cc))
		}
		if nc >= 0 {
			name = tblValue(cell(nc))
		}
		if code == "" && name == "" {
			continue
		}
		ds, err := tblParseDiagnoses(code, name)
		if err != nil {
			col := cc
			if col < 0 {
				col = nc
			}
			return m, bad(col, err)
		}
		for _, d := range ds {
			if utf8.RuneCountInString(d.Name) > 200 {
				return m, &tblRowError{col: nc, reason: "诊断名称过长 / diagnosis name longer than 200 characters"}
			}
		}
		enc.Diagnoses = append(enc.Diagnoses, ds...)
	}

	for _, c := range l.cols[tfSurgeryFlag] {
		yes, err := tblParseBool(tblValue(cell(c)))
		if err != nil {
			return m, bad(c, err)
		}
		enc.Surgery = enc.Surgery || yes
	}
	if v, c = get(tfSurgeryName); v != "" {
		enc.Surgery = true
		if enc.Procedures, err = SplitProcedures(v); err != nil {
			return m, bad(c, err)
		}
	}
	v, c = get(tfOutcome)
	if enc.Outcome, err = tblParseOutcome(v); err != nil {
		return m, bad(c, err)
	}
	return m, nil
}

// tblSpreadsheetHint follows the name of a column whose value a
// spreadsheet program damaged.
const tblSpreadsheetHint = "被 Excel/WPS 等电子表格程序改成了科学计数法的数字，末几位已丢失。请从 HIS 重新导出，" +
	"在电子表格中先把病案号、身份证号、电话、科室代码等列设为“文本”格式再打开或粘贴，或改用 .xlsx 导入模板 / " +
	"a spreadsheet program turned this identifier into a number in scientific notation and its last digits are lost: " +
	"export again from the HIS and format the identifier columns as text before opening the file, or use the .xlsx import template"

var tblSciRe = regexp.MustCompile(`^[0-9](\.[0-9]+)?[eE]\+?[0-9]{1,3}$`)

// tblSciNumber reports a number in scientific notation, how spreadsheet
// programs show and save long numbers (1.10105195803121E+017).
func tblSciNumber(s string) bool { return len(s) <= 32 && tblSciRe.MatchString(s) }

// tblIsResidentID reports whether a 证件类型 value means the resident ID
// card (empty: assume it is).
func tblIsResidentID(t string) bool {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "", "身份证", "居民身份证", "二代身份证", "中华人民共和国居民身份证", "1", "01", "id", "idcard", "身份证号":
		return true
	}
	return false
}

// moment reads a date-time field that may be split over a date column and
// a time column (出院日期 + 出院时间). A full date-time wins; a date and a
// separate time are combined; a date alone is 00:00 China time.
func (p *tblParser) moment(rec []string, f tblField, excel bool) (time.Time, *tblRowError) {
	var date, full time.Time
	dateCol := -1
	var clock time.Duration
	hasClock := false
	for _, c := range p.layout.cols[f] {
		if c >= len(rec) {
			continue
		}
		v := tblValue(rec[c])
		if v == "" {
			continue
		}
		t, hasTime, err := tblParseTime(v, excel, p.date1904)
		if err != nil {
			d, cerr := tblParseClock(v, excel)
			if cerr != nil {
				return time.Time{}, &tblRowError{col: c, reason: err.Error()}
			}
			if !hasClock {
				clock, hasClock = d, true
			}
			continue
		}
		if hasTime {
			if full.IsZero() {
				full = t
			}
			if dateCol < 0 {
				date, dateCol = t, c
			}
			continue
		}
		if dateCol < 0 {
			date, dateCol = t, c
		}
	}
	switch {
	case !full.IsZero():
		if !date.IsZero() && tblDateOf(date) != tblDateOf(full) {
			return time.Time{}, &tblRowError{col: dateCol, reason: "日期列与时间列的日期不一致 / the date and date-time columns disagree"}
		}
		return full, nil
	case !date.IsZero() && hasClock:
		return date.Add(clock), nil
	case !date.IsZero():
		return date, nil
	case hasClock:
		return time.Time{}, &tblRowError{col: p.layout.cols[f][0], reason: "只有时间没有日期 / a time without a date"}
	}
	return time.Time{}, nil
}
