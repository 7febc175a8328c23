package intake

// This file holds the column vocabulary of Chinese HIS discharge exports
// (CSV and Excel) and the value parsers shared by ParseCSV, ParseXLSX and
// ParseFHIR: dates and times, sex, outcome, phones, GB 11643 ID numbers,
// ICD-10 diagnoses.
//
// Time handling. A time without a zone is China Standard Time (UTC+8,
// Asia/Shanghai has had no DST since 1991). A value with only a date (no
// time of day) becomes 00:00:00 CST of that date: the date the hospital
// wrote is what every later rule (follow-up due dates, working days)
// starts from, and calendar.DateOf(t.In(tblZone)) gives it back exactly.
// Noon would survive a careless conversion to UTC better, but it invents a
// time, and a discharge "at 12:00" would look recorded. Consumers that need
// to know whether the time of day was given cannot tell a real midnight
// discharge from a date-only one (Encounter has no flag for that).

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"suifang/internal/calendar"
	"suifang/internal/pii"
)

// tblZone is the zone of times written without one: China Standard Time.
var tblZone = time.FixedZone("CST", 8*3600)

// Summary counts what a parse did.
type Summary struct {
	// Rows is the number of data rows read (CSV/Excel: non-blank rows after
	// the header; every row ends as exactly one message or one reject) or,
	// for FHIR, the number of Bundle entries.
	Rows     int
	Messages int
	Rejects  int
	// IgnoredColumns lists header cells that map to no field, as written in
	// the file (CSV/Excel), or resource types that were skipped (FHIR).
	IgnoredColumns []string
}

// MissingColumnsError refuses a whole file whose header lacks required
// columns. Missing holds the canonical Chinese headers.
type MissingColumnsError struct {
	File    string
	Missing []string
	// Header is the header row the parser settled on (as written).
	Header []string
}

func (e *MissingColumnsError) Error() string {
	var zh, en []string
	for _, m := range e.Missing {
		zh = append(zh, m)
		if s := tblSpecByHeader(m); s != nil {
			en = append(en, s.en)
		} else {
			en = append(en, m)
		}
	}
	return fmt.Sprintf("%s: 缺少必需列：%s / missing required columns: %s",
		e.File, strings.Join(zh, "、"), strings.Join(en, ", "))
}

// ColumnDoc documents one column of the import file.
type ColumnDoc struct {
	Header   string   // canonical Chinese header, as in the template
	Synonyms []string // other accepted headers (matching ignores spaces, width and Latin case)
	Required bool
	// RequiredNote qualifies Required, e.g. only for discharge events.
	RequiredNote string
	DescZH       string
	DescEN       string
	Example      string
}

type tblField int

const (
	tfMRN tblField = iota
	tfVisit
	tfNationalID
	tfIDType
	tfName
	tfSex
	tfBirth
	tfPhone
	tfAddress
	tfEmployer
	tfDeptCode
	tfDeptName
	tfWardCode
	tfWardName
	tfDoctor
	tfNurse
	tfAdmitted
	tfDischarged
	tfDiagCode
	tfDiagName
	tfSurgeryFlag
	tfSurgeryName
	tfOutcome
	tfFacility
	tfEvent
	tfCount
)

type tblSpec struct {
	field      tblField
	header     string // canonical
	synonyms   []string
	required   bool
	reqNote    string
	inTemplate bool
	en         string // short English name
	zh, enDesc string
	example    string
}

// tblDiagMax is the highest numbered diagnosis column (出院诊断编码5).
const tblDiagMax = 5

var tblSpecs = []tblSpec{
	{field: tfMRN, header: "病案号", synonyms: []string{"住院号", "病历号", "病案号码", "MRN", "medical_record_number"},
		required: true, inTemplate: true, en: "MRN",
		zh: "病案号（住院号），院内唯一标识患者", enDesc: "Medical record number, unique per institution", example: "2026000123"},
	{field: tfVisit, header: "住院流水号", synonyms: []string{"就诊号", "住院次数流水号", "入院登记号", "就诊流水号", "住院登记号", "流水号", "visit_number", "visit_no"},
		required: true, inTemplate: true, en: "visit number",
		zh:     "本次住院的流水号；重复导入同一流水号不会产生重复随访。HL7 取 PV1-19（空则 PID-18）；FHIR 取 type 为 VN 的 Encounter.identifier，否则第一个 identifier，没有 identifier 时取 Encounter.id，再无则取 fullUrl 最后一段（urn:uuid），重复发送时保持不变",
		enDesc: "Visit (encounter) number; re-importing the same one never duplicates anything. HL7: PV1-19 (else PID-18); FHIR: the Encounter.identifier typed VN, else the first identifier, else Encounter.id, else the fullUrl's last segment (urn:uuid), stable across re-sends", example: "ZY202610100001"},
	{field: tfNationalID, header: "身份证号", synonyms: []string{"身份证号码", "证件号码", "证件号", "身份证", "居民身份证号", "national_id", "id_number"},
		inTemplate: true, en: "national ID",
		zh: "居民身份证号（GB 11643，18 位，末位可为 X；15 位旧号亦可）；缺出生日期/性别时由此推出", enDesc: "Resident ID number (GB 11643); fills in birth date and sex when those are empty", example: "110105195803121232"},
	{field: tfIDType, header: "证件类型", synonyms: []string{"id_type"}, en: "ID type",
		zh: "证件类型；非居民身份证（护照等）时不校验、不作为身份证号保存", enDesc: "ID document type; numbers of other documents (passport…) are not validated nor kept as the national ID", example: "居民身份证"},
	{field: tfName, header: "姓名", synonyms: []string{"患者姓名", "病人姓名", "name", "patient_name"},
		required: true, inTemplate: true, en: "name",
		zh: "患者姓名", enDesc: "Patient name", example: "李建国"},
	{field: tfSex, header: "性别", synonyms: []string{"sex", "gender"}, inTemplate: true, en: "sex",
		zh: "男/女/未知，或 M/F/U，或 GB/T 2261.1 代码 1=男 2=女 0/9=未知", enDesc: "Sex: 男/女/未知, M/F/U, or 1=male 2=female 0/9=unknown", example: "男"},
	{field: tfBirth, header: "出生日期", synonyms: []string{"出生年月日", "生日", "birth_date", "dob"}, inTemplate: true, en: "birth date",
		zh: "出生日期（年龄列不使用：年龄推不出日期）", enDesc: "Birth date (an age column is ignored: it gives no date)", example: "1958-03-12"},
	{field: tfPhone, header: "联系电话", synonyms: []string{"手机号", "手机号码", "手机", "电话", "电话号码", "联系人电话", "患者电话", "本人电话", "家庭电话", "phone", "mobile", "tel"},
		inTemplate: true, en: "phone",
		zh:     "电话；可有多列，或一格内用 , ; / 、 分隔多个号码。手机 11 位（去掉 +86/0086/86 与分隔符），固话带区号；无法使用的号码（如 7777）被舍弃并记入导入报告的“警告”，该行仍导入",
		enDesc: "Phone(s); several columns or several numbers in a cell separated by , ; / 、. Mobiles have 11 digits (+86/0086/86 and separators dropped), landlines their area code; an unusable number (e.g. 7777) is dropped with a warning on the import report, the row is still imported", example: "13800138000"},
	{field: tfAddress, header: "现住址", synonyms: []string{"家庭住址", "地址", "住址", "联系地址", "现住地址", "户籍地址", "address"}, inTemplate: true, en: "address",
		zh: "现住址", enDesc: "Current address", example: "北京市朝阳区示例路1号"},
	{field: tfEmployer, header: "工作单位", synonyms: []string{"单位", "单位名称", "employer"}, inTemplate: true, en: "employer",
		zh: "工作单位", enDesc: "Employer", example: "示例机械厂"},
	{field: tfDeptCode, header: "科室代码", synonyms: []string{"出院科室代码", "科室编码", "出院科室编码", "department_code", "dept_code"}, inTemplate: true, en: "department code",
		zh: "出院科室代码", enDesc: "Discharging department code", example: "0301"},
	{field: tfDeptName, header: "科室", synonyms: []string{"出院科室", "科室名称", "出院科室名称", "department", "dept"}, inTemplate: true, en: "department",
		zh: "出院科室名称", enDesc: "Discharging department name", example: "心血管内科"},
	{field: tfWardCode, header: "病区代码", synonyms: []string{"病区编码", "出院病区代码", "ward_code"}, inTemplate: true, en: "ward code",
		zh: "出院病区代码", enDesc: "Ward code", example: "W05"},
	{field: tfWardName, header: "病区", synonyms: []string{"出院病区", "病区名称", "ward"}, inTemplate: true, en: "ward",
		zh: "出院病区名称", enDesc: "Ward name", example: "心内一病区"},
	{field: tfDoctor, header: "主治医师", synonyms: []string{"主管医生", "主治医生", "主管医师", "attending_doctor", "doctor"}, inTemplate: true, en: "attending doctor",
		zh: "主治（主管）医师，负责二级随访", enDesc: "Attending doctor (level-2 follow-up)", example: "陈医生"},
	{field: tfNurse, header: "责任护士", synonyms: []string{"主管护士", "responsible_nurse", "nurse"}, inTemplate: true, en: "responsible nurse",
		zh: "责任护士，负责一级随访", enDesc: "Responsible nurse (level-1 follow-up)", example: "刘护士"},
	{field: tfAdmitted, header: "入院日期", synonyms: []string{"入院时间", "admitted_at", "admission_date"}, inTemplate: true, en: "admission date",
		zh: "入院日期或日期时间；日期与时间也可分两列（入院日期 + 入院时间）", enDesc: "Admission date or date-time; date and time may be two columns", example: "2026-10-01 09:30"},
	{field: tfDischarged, header: "出院日期", synonyms: []string{"出院时间", "discharged_at", "discharge_date"},
		required: true, reqNote: "出院事件必填 / required for discharge events", inTemplate: true, en: "discharge date",
		zh: "出院日期或日期时间；只有日期时按当日 00:00（北京时间）", enDesc: "Discharge date or date-time; a date alone means 00:00 China time that day", example: "2026-10-10 14:05"},
	{field: tfDiagCode, header: "出院诊断编码", synonyms: []string{"出院诊断代码", "出院诊断ICD编码", "出院诊断ICD-10", "主要诊断编码", "诊断编码", "ICD-10编码", "ICD编码", "ICD10", "diagnosis_code"},
		inTemplate: true, en: "diagnosis code",
		zh: "ICD-10 编码；可有 出院诊断编码2…5，或一格多个用 ; 分隔", enDesc: "ICD-10 code; more in 出院诊断编码2…5 or several in one cell separated by ;", example: "I21.0;I10"},
	{field: tfDiagName, header: "出院诊断", synonyms: []string{"出院诊断名称", "主要诊断", "诊断名称", "诊断", "diagnosis"}, inTemplate: true, en: "diagnosis",
		zh: "诊断名称；可有 出院诊断2…5，或写成 \"I21.0 急性心肌梗死;I10 高血压\"", enDesc: "Diagnosis name(s); also \"I21.0 name;I10 name\" in one cell", example: "急性前壁心肌梗死;高血压"},
	{field: tfSurgeryFlag, header: "是否手术", synonyms: []string{"有无手术", "手术", "surgery"}, inTemplate: true, en: "surgery",
		zh: "是/否、Y/N、1/0；手术名称非空也视为手术", enDesc: "Yes/no; a non-empty surgery name also counts", example: "是"},
	{field: tfSurgeryName, header: "手术名称", synonyms: []string{"手术及操作名称", "手术操作名称", "手术编码", "手术及操作编码", "procedure"}, inTemplate: true, en: "surgery name",
		zh: "手术名称；非空即视为手术患者", enDesc: "Surgery name; non-empty marks a surgical patient", example: "经皮冠状动脉介入治疗"},
	{field: tfOutcome, header: "治疗结果", synonyms: []string{"转归", "出院情况", "治疗转归", "outcome"}, inTemplate: true, en: "outcome",
		zh: "治愈/好转/未愈/死亡/其他（或 1–5）；死亡患者不做满意度回访", enDesc: "Cured/improved/not cured/died/other (or 1–5); no satisfaction calls for the deceased", example: "好转"},
	{field: tfFacility, header: "机构代码", synonyms: []string{"院区代码", "医疗机构代码", "组织机构代码", "院区", "facility"}, inTemplate: true, en: "facility",
		zh: "机构/院区代码（集团多院区时填写）", enDesc: "Institution or campus code (groups)", example: "H0001"},
	{field: tfEvent, header: "事件", synonyms: []string{"状态", "事件类型", "event"}, inTemplate: true, en: "event",
		zh: "出院（默认）/取消出院/入院/取消入院/更新", enDesc: "Discharge (default) / cancel discharge / admit / cancel admit / update", example: "出院"},
}

// Columns documents the accepted columns in template order.
func Columns() []ColumnDoc {
	out := make([]ColumnDoc, 0, len(tblSpecs))
	for _, s := range tblSpecs {
		out = append(out, ColumnDoc{
			Header:       s.header,
			Synonyms:     append([]string(nil), s.synonyms...),
			Required:     s.required,
			RequiredNote: s.reqNote,
			DescZH:       s.zh,
			DescEN:       s.enDesc,
			Example:      s.example,
		})
	}
	return out
}

func tblSpecByHeader(h string) *tblSpec {
	for i := range tblSpecs {
		if tblSpecs[i].header == h {
			return &tblSpecs[i]
		}
	}
	return nil
}

// tblSpecOf returns the spec of a field.
func tblSpecOf(f tblField) *tblSpec {
	for i := range tblSpecs {
		if tblSpecs[i].field == f {
			return &tblSpecs[i]
		}
	}
	return nil
}

type tblMatch struct {
	field tblField
	rank  int // position among the field's names: 0 = canonical
	diag  int // diagnosis number 1..tblDiagMax for tfDiagCode/tfDiagName
}

// tblHeaderIndex maps a normalised header to its field.
var tblHeaderIndex = func() map[string]tblMatch {
	m := make(map[string]tblMatch)
	for _, s := range tblSpecs {
		names := append([]string{s.header}, s.synonyms...)
		for rank, n := range names {
			k := tblNormHeader(n)
			if _, dup := m[k]; dup {
				panic("intake: duplicate column synonym " + n)
			}
			m[k] = tblMatch{field: s.field, rank: rank, diag: 1}
		}
	}
	return m
}()

// tblNormHeader folds a header for matching: full-width to half-width,
// no spaces, underscores, hyphens or required-markers, Latin lower case,
// and no "(必填)"/"(选填)" notes.
func tblNormHeader(s string) string {
	s = tblNarrow(s)
	s = strings.NewReplacer("(必填)", "", "(选填)", "", "(可选)", "").Replace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r == '\uFEFF', r == '\u200B', r == '_', r == '-', r == '*':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// tblMatchHeader maps one header cell to a field. Numbered diagnosis
// columns (出院诊断编码2, 出院诊断3 …) carry their number.
func tblMatchHeader(h string) (tblMatch, bool) {
	k := tblNormHeader(h)
	if k == "" {
		return tblMatch{}, false
	}
	if m, ok := tblHeaderIndex[k]; ok {
		return m, true
	}
	// Numbered diagnosis columns: base name + 1..5, maybe as "(2)".
	base, num := k, 0
	if strings.HasSuffix(base, ")") && len(base) >= 3 && base[len(base)-3] == '(' {
		base = base[:len(base)-3] + base[len(base)-2:len(base)-1]
	}
	if n := len(base); n > 1 && base[n-1] >= '1' && base[n-1] <= '0'+tblDiagMax {
		num = int(base[n-1] - '0')
		base = base[:n-1]
	}
	if num == 0 || (len(base) > 0 && base[len(base)-1] >= '0' && base[len(base)-1] <= '9') {
		return tblMatch{}, false
	}
	if m, ok := tblHeaderIndex[base]; ok && (m.field == tfDiagCode || m.field == tfDiagName) {
		m.diag = num
		return m, true
	}
	return tblMatch{}, false
}

// tblLayout is a header row mapped to fields.
type tblLayout struct {
	headers []string               // as written (trimmed)
	cols    [tfCount][]int         // column indexes per field, best name first
	diag    [tblDiagMax + 1][2]int // [n][0]=code column, [n][1]=name column, -1 none
	ignored []string
	known   int // number of columns mapped to a field
}

func tblNewLayout(header []string) *tblLayout {
	l := &tblLayout{headers: make([]string, len(header))}
	for n := range l.diag {
		l.diag[n] = [2]int{-1, -1}
	}
	type colRank struct{ col, rank int }
	var ranked [tfCount][]colRank
	for i, raw := range header {
		h := tblCleanCell(raw)
		l.headers[i] = h
		m, ok := tblMatchHeader(h)
		if !ok {
			if h != "" {
				l.ignored = append(l.ignored, h)
			}
			continue
		}
		l.known++
		if m.field == tfDiagCode || m.field == tfDiagName {
			slot := 0
			if m.field == tfDiagName {
				slot = 1
			}
			if l.diag[m.diag][slot] < 0 {
				l.diag[m.diag][slot] = i
			} else {
				l.ignored = append(l.ignored, h) // a second 出院诊断编码
			}
			continue
		}
		ranked[m.field] = append(ranked[m.field], colRank{i, m.rank})
	}
	for f := range ranked {
		rs := ranked[f]
		// Stable insertion sort by rank: the canonical name wins, then
		// synonyms in listed order, then file order.
		for i := 1; i < len(rs); i++ {
			for j := i; j > 0 && rs[j].rank < rs[j-1].rank; j-- {
				rs[j], rs[j-1] = rs[j-1], rs[j]
			}
		}
		for _, r := range rs {
			l.cols[f] = append(l.cols[f], r.col)
		}
	}
	return l
}

func (l *tblLayout) has(f tblField) bool {
	if f == tfDiagCode || f == tfDiagName {
		for n := 1; n <= tblDiagMax; n++ {
			if l.diag[n][0] >= 0 || l.diag[n][1] >= 0 {
				return true
			}
		}
		return false
	}
	return len(l.cols[f]) > 0
}

// missing lists required columns the header lacks. The discharge date is
// required only when every row is a discharge, i.e. there is no 事件 column.
func (l *tblLayout) missing() []string {
	var out []string
	for _, s := range tblSpecs {
		if !s.required || l.has(s.field) {
			continue
		}
		if s.field == tfDischarged && l.has(tfEvent) {
			continue
		}
		out = append(out, s.header)
	}
	return out
}

// tblEmptyWords are cell values that mean "nothing here".
var tblEmptyWords = map[string]bool{
	"-": true, "--": true, "—": true, "——": true, "/": true, "\\": true,
	"无": true, "不详": true, "null": true, "NULL": true, "Null": true,
	"n/a": true, "N/A": true, "NA": true, "none": true, "None": true,
}

// tblCleanCell trims spaces (incl. full-width and NBSP), a BOM, and
// unwraps Excel's ="000123" text trick.
func tblCleanCell(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B' })
	if len(s) >= 3 && strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) {
		s = strings.TrimSpace(s[2 : len(s)-1])
	}
	return s
}

// tblValue cleans a cell and maps placeholder words to "".
func tblValue(s string) string {
	s = tblCleanCell(s)
	if tblEmptyWords[s] {
		return ""
	}
	return s
}

// tblIdent cleans an identifier: also drops a leading apostrophe (Excel's
// text marker) and folds full-width letters and digits.
func tblIdent(s string) string {
	s = tblNarrow(tblValue(s))
	s = strings.TrimPrefix(s, "'")
	return strings.TrimSpace(s)
}

// ---- dates and times ----

// tblTimeResult is a parsed date or date-time.
type tblTimeResult struct {
	t       time.Time // in tblZone
	hasTime bool
}

// tblParseTime parses the date and date-time spellings of HIS exports:
//
//	2026-10-10  2026/10/10  2026.10.10  2026-1-5  20261010  2026年10月10日
//
// each optionally followed by a time 14:05, 14:05:30, 14:05:30.123 or
// 14时05分[30秒] (separated by spaces or "T"), and optionally a zone (Z,
// +08:00, +0800) — a time without zone is China time. 202610101405 and
// 20261010140530 are accepted too. With excel, a plain number is an Excel
// serial date (1900 system, or 1904 with date1904). The result is in
// tblZone; hasTime reports whether a time of day was written.
func tblParseTime(s string, excel, date1904 bool) (time.Time, bool, error) {
	r, err := tblParseTimeResult(s, excel, date1904)
	return r.t, r.hasTime, err
}

var errTblDate = errors.New("日期格式无法识别 / unrecognised date: use 2026-10-10 or 2026-10-10 14:05")

func tblParseTimeResult(s string, excel, date1904 bool) (tblTimeResult, error) {
	s = strings.TrimSpace(tblNarrow(s))
	if s == "" {
		return tblTimeResult{}, errors.New("空值 / empty")
	}
	if len(s) > 64 {
		return tblTimeResult{}, errTblDate
	}
	if excel && tblLooksSerial(s) {
		return tblExcelSerial(s, date1904)
	}
	p := tblScan{s: s}
	var y, mo, d int
	var hasTime bool
	var hh, mi, ss, ns int
	loc := tblZone
	run := p.run()
	switch len(run) {
	case 8, 12, 14:
		// Compact: YYYYMMDD[HHMM[SS]].
		y, _ = strconv.Atoi(run[0:4])
		mo, _ = strconv.Atoi(run[4:6])
		d, _ = strconv.Atoi(run[6:8])
		if len(run) >= 12 {
			hh, _ = strconv.Atoi(run[8:10])
			mi, _ = strconv.Atoi(run[10:12])
			hasTime = true
		}
		if len(run) == 14 {
			ss, _ = strconv.Atoi(run[12:14])
		}
	case 4:
		y, _ = strconv.Atoi(run)
		sep := p.sepRune()
		switch sep {
		case '-', '/', '.', '年':
		default:
			return tblTimeResult{}, errTblDate
		}
		var ok bool
		if mo, ok = p.digits(1, 2); !ok {
			return tblTimeResult{}, errTblDate
		}
		want := sep
		if sep == '年' {
			want = '月'
		}
		if p.sepRune() != want {
			return tblTimeResult{}, errTblDate
		}
		if d, ok = p.digits(1, 2); !ok {
			return tblTimeResult{}, errTblDate
		}
		if sep == '年' && strings.HasPrefix(p.rest(), "日") {
			p.i += len("日")
		}
	default:
		return tblTimeResult{}, errTblDate
	}
	// Optional time.
	if !hasTime && p.i < len(s) {
		seen := false
		for p.i < len(s) && (s[p.i] == ' ' || s[p.i] == 'T' || s[p.i] == 't') {
			p.i++
			seen = true
		}
		if !seen && !strings.HasSuffix(s[:p.i], "日") {
			return tblTimeResult{}, errTblDate
		}
		if p.i < len(s) {
			// 上午/下午 before the time: how Excel and WPS in Chinese
			// write a 12-hour clock ("2026/1/5 下午 3:20").
			half := p.halfDay()
			var err error
			if hh, mi, ss, ns, err = p.clock(); err != nil {
				return tblTimeResult{}, err
			}
			if half == 0 {
				half = p.halfDaySuffix() // "3:20 PM"
			}
			if hh, err = tblHalfDay(hh, half); err != nil {
				return tblTimeResult{}, err
			}
			hasTime = true
		}
	}
	// Optional zone after a time.
	if hasTime && p.i < len(s) {
		z, err := p.zone()
		if err != nil {
			return tblTimeResult{}, err
		}
		loc = z
	}
	if p.i != len(s) {
		return tblTimeResult{}, errTblDate
	}
	if err := tblCheckDate(y, mo, d); err != nil {
		return tblTimeResult{}, err
	}
	if hh > 23 || mi > 59 || ss > 59 {
		return tblTimeResult{}, fmt.Errorf("时间超出范围 / time out of range: %02d:%02d:%02d", hh, mi, ss)
	}
	t := time.Date(y, time.Month(mo), d, hh, mi, ss, ns, loc).In(tblZone)
	return tblTimeResult{t: t, hasTime: hasTime}, nil
}

// tblNarrow folds full-width forms to half-width; ASCII passes as is.
func tblNarrow(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return width.Narrow.String(s)
		}
	}
	return s
}

// tblDateOf is the China-time date of t.
func tblDateOf(t time.Time) calendar.Date { return calendar.DateOf(t.In(tblZone)) }

// tblCheckDate accepts years 1850–2200: anything else in a discharge list
// is a typo or a mis-read number.
func tblCheckDate(y, m, d int) error {
	if y < 1850 || y > 2200 {
		return fmt.Errorf("年份超出范围 / year %d out of range 1850–2200", y)
	}
	if !(calendar.Date{Year: y, Month: time.Month(m), Day: d}).Valid() {
		return fmt.Errorf("日期不存在 / no such date: %04d-%02d-%02d", y, m, d)
	}
	return nil
}

// tblParseClock parses a time of day alone ("14:05", "14:05:30", "14时05分",
// or an Excel fraction of a day with excel), for separate time columns.
func tblParseClock(s string, excel bool) (time.Duration, error) {
	s = strings.TrimSpace(tblNarrow(s))
	if excel && tblLooksSerial(s) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v >= 1 {
			return 0, errTblDate
		}
		return time.Duration(math.Round(v*86400)) * time.Second, nil
	}
	p := tblScan{s: s}
	hh, mi, ss, ns, err := p.clock()
	if err != nil || p.i != len(s) || hh > 23 || mi > 59 || ss > 59 {
		return 0, errTblDate
	}
	return time.Duration(hh)*time.Hour + time.Duration(mi)*time.Minute +
		time.Duration(ss)*time.Second + time.Duration(ns), nil
}

// tblLooksSerial reports whether s is a plain decimal number that is not
// a compact YYYYMMDD[HHMM[SS]] date.
func tblLooksSerial(s string) bool {
	dot := false
	intDigits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if !dot {
				intDigits++
			}
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	if intDigits == 0 || s[len(s)-1] == '.' {
		return false
	}
	return !(intDigits >= 8 && !dot)
}

// tblExcelSerial converts an Excel serial date: days since 1899-12-30 in
// the 1900 system (which pretends 1900-02-29 existed, serial 60), since
// 1904-01-01 in the 1904 system; the fraction is the time of day.
func tblExcelSerial(s string, date1904 bool) (tblTimeResult, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v >= 2958466 || math.IsNaN(v) {
		return tblTimeResult{}, fmt.Errorf("Excel 日期序号超出范围 / Excel date serial %q out of range", s)
	}
	secs := int64(math.Round(v * 86400))
	days, rem := secs/86400, secs%86400
	var base time.Time
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, tblZone)
	case days == 60:
		return tblTimeResult{}, errors.New("Excel 序号 60 是不存在的 1900-02-29 / serial 60 is Excel's phantom 1900-02-29")
	case days < 60:
		base = time.Date(1899, 12, 31, 0, 0, 0, 0, tblZone)
	default:
		base = time.Date(1899, 12, 30, 0, 0, 0, 0, tblZone)
	}
	t := base.AddDate(0, 0, int(days)).Add(time.Duration(rem) * time.Second)
	if err := tblCheckDate(t.Year(), int(t.Month()), t.Day()); err != nil {
		return tblTimeResult{}, err
	}
	return tblTimeResult{t: t, hasTime: rem != 0}, nil
}

type tblScan struct {
	s string
	i int
}

func (p *tblScan) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *tblScan) rest() string { return p.s[p.i:] }

// run consumes a run of ASCII digits.
func (p *tblScan) run() string {
	j := p.i
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	r := p.s[p.i:j]
	p.i = j
	return r
}

func (p *tblScan) digits(min, max int) (int, bool) {
	j := p.i
	for j < len(p.s) && j-p.i < max && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	if j-p.i < min {
		return 0, false
	}
	if j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		return 0, false // too many digits
	}
	n, _ := strconv.Atoi(p.s[p.i:j])
	p.i = j
	return n, true
}

func (p *tblScan) sepRune() rune {
	if p.i >= len(p.s) {
		return 0
	}
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	p.i += n
	return r
}

// clock parses H[H]:MM[:SS[.fff]] or H[H]时M[M]分[S[S]秒].
func (p *tblScan) clock() (hh, mi, ss, ns int, err error) {
	var ok bool
	if hh, ok = p.digits(1, 2); !ok {
		return 0, 0, 0, 0, errTblDate
	}
	if strings.HasPrefix(p.rest(), "时") || strings.HasPrefix(p.rest(), "点") {
		p.i += len("时")
		if mi, ok = p.digits(1, 2); !ok || !strings.HasPrefix(p.rest(), "分") {
			return 0, 0, 0, 0, errTblDate
		}
		p.i += len("分")
		if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			if ss, ok = p.digits(1, 2); !ok || !strings.HasPrefix(p.rest(), "秒") {
				return 0, 0, 0, 0, errTblDate
			}
			p.i += len("秒")
		}
		return hh, mi, ss, 0, nil
	}
	if p.peek() != ':' {
		return 0, 0, 0, 0, errTblDate
	}
	p.i++
	if mi, ok = p.digits(2, 2); !ok {
		return 0, 0, 0, 0, errTblDate
	}
	if p.peek() == ':' {
		p.i++
		if ss, ok = p.digits(2, 2); !ok {
			return 0, 0, 0, 0, errTblDate
		}
		if p.peek() == '.' || p.peek() == ',' {
			p.i++
			frac := p.run()
			if frac == "" || len(frac) > 9 {
				return 0, 0, 0, 0, errTblDate
			}
			ns, _ = strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		}
	}
	return hh, mi, ss, ns, nil
}

// halfDay consumes a 上午/下午 (or 凌晨/早上/中午/晚上) marker and the
// spaces after it: 'a' for the morning, 'p' for the afternoon, 0 for none.
func (p *tblScan) halfDay() byte {
	for _, m := range []struct {
		word string
		half byte
	}{{"上午", 'a'}, {"凌晨", 'a'}, {"早上", 'a'}, {"下午", 'p'}, {"晚上", 'p'}, {"中午", 'n'}} {
		if strings.HasPrefix(p.rest(), m.word) {
			p.i += len(m.word)
			for p.peek() == ' ' {
				p.i++
			}
			return m.half
		}
	}
	return 0
}

// halfDaySuffix consumes " AM"/" PM" (or 上午/下午) after a time.
func (p *tblScan) halfDaySuffix() byte {
	j := p.i
	for j < len(p.s) && p.s[j] == ' ' {
		j++
	}
	rest := strings.ToUpper(p.s[j:])
	switch {
	case strings.HasPrefix(rest, "AM"), strings.HasPrefix(rest, "A.M."):
		p.i = j + len("AM")
		if strings.HasPrefix(rest, "A.M.") {
			p.i = j + len("A.M.")
		}
		return 'a'
	case strings.HasPrefix(rest, "PM"), strings.HasPrefix(rest, "P.M."):
		p.i = j + len("PM")
		if strings.HasPrefix(rest, "P.M.") {
			p.i = j + len("P.M.")
		}
		return 'p'
	}
	q := tblScan{s: p.s, i: j}
	if h := q.halfDay(); h != 0 {
		p.i = q.i
		return h
	}
	return 0
}

// tblHalfDay turns a 12-hour clock hour into 0–23: 下午 3 is 15, 上午 12
// is midnight, 中午 12 and 中午 1 are noon and 13.
func tblHalfDay(hh int, half byte) (int, error) {
	switch half {
	case 0:
		return hh, nil
	case 'a':
		if hh > 12 {
			return 0, fmt.Errorf("上午不能是 %d 点 / %d o'clock is not a morning hour", hh, hh)
		}
		return hh % 12, nil
	case 'p':
		if hh > 12 {
			return hh, nil // "下午 15:20": the hour already says it
		}
		return hh%12 + 12, nil
	default: // 中午: 11, 12, 1, 2
		if hh > 12 {
			return hh, nil
		}
		if hh < 6 {
			return hh + 12, nil
		}
		return hh, nil
	}
}

// zone parses Z, ±HH:MM, ±HHMM or ±HH, optionally after one space.
func (p *tblScan) zone() (*time.Location, error) {
	if p.peek() == ' ' {
		p.i++
	}
	switch c := p.peek(); c {
	case 'Z', 'z':
		p.i++
		return time.UTC, nil
	case '+', '-':
		p.i++
		h, ok := p.digits(2, 2)
		if !ok {
			return nil, errTblDate
		}
		m := 0
		if p.peek() == ':' {
			p.i++
		}
		if p.i < len(p.s) {
			if m, ok = p.digits(2, 2); !ok {
				return nil, errTblDate
			}
		}
		if h > 14 || m > 59 {
			return nil, errTblDate
		}
		off := h*3600 + m*60
		if c == '-' {
			off = -off
		}
		return time.FixedZone("", off), nil
	}
	return nil, errTblDate
}

// ---- other values ----

// tblParseSex maps 性别 values; "" means not given.
func tblParseSex(s string) (Sex, error) {
	v := strings.ToLower(strings.TrimSpace(tblNarrow(s)))
	switch v {
	case "":
		return "", nil
	case "男", "男性", "m", "male", "1":
		return Male, nil
	case "女", "女性", "f", "female", "2":
		return Female, nil
	case "未知", "未说明", "未说明的性别", "未知的性别", "不详", "其他", "u", "unknown", "other", "o", "0", "9":
		return Unknown, nil
	}
	return "", fmt.Errorf("性别无法识别 / unknown sex %q: use 男/女/未知", s)
}

// tblParseOutcome maps 治疗结果 values, strictly.
func tblParseOutcome(s string) (Outcome, error) {
	v := strings.ToLower(strings.TrimSpace(tblNarrow(s)))
	v = strings.TrimSuffix(v, "出院")
	switch v {
	case "":
		return "", nil
	case "治愈", "痊愈", "1", "cured":
		return Cured, nil
	case "好转", "2", "improved":
		return Improved, nil
	case "未愈", "无效", "恶化", "3", "not_cured", "not cured", "notcured":
		return NotCured, nil
	case "死亡", "4", "died", "dead", "death", "expired":
		return Died, nil
	case "其他", "其它", "5", "9", "other":
		return Other, nil
	}
	if strings.Contains(v, "死亡") {
		return Died, nil
	}
	return "", fmt.Errorf("治疗结果无法识别 / unknown outcome %q: use 治愈/好转/未愈/死亡/其他", s)
}

// tblParseEvent maps 事件/状态 values; "" is a discharge.
func tblParseEvent(s string) (Event, error) {
	v := strings.ToLower(strings.TrimSpace(tblNarrow(s)))
	switch v {
	case "", "出院", "已出院", "discharge", "discharged", "a03":
		return Discharge, nil
	case "取消出院", "撤销出院", "出院召回", "召回", "cancel_discharge", "cancel discharge", "a13":
		return CancelDischarge, nil
	case "入院", "已入院", "在院", "admit", "admitted", "a01":
		return Admit, nil
	case "取消入院", "撤销入院", "cancel_admit", "cancel admit", "a11":
		return CancelAdmit, nil
	case "更新", "修改", "变更", "update", "a08":
		return Update, nil
	}
	return "", fmt.Errorf("事件无法识别 / unknown event %q: use 出院/取消出院/入院/取消入院/更新", s)
}

// tblParseBool reads 是否 values.
func tblParseBool(s string) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(tblNarrow(s)))
	switch v {
	case "", "否", "无", "n", "no", "0", "false", "×", "f":
		return false, nil
	case "是", "有", "y", "yes", "1", "true", "√", "t":
		return true, nil
	}
	return false, fmt.Errorf("无法识别为是/否 / not a yes/no value: %q", s)
}

// tblSplitList splits a multi-value cell on ; ； | and line breaks.
func tblSplitList(s string) []string { return tblSplit(s, true) }

// tblSplit splits on ; ； | and, with lines, on line breaks; without, a
// line break inside a value becomes a space (none between two Chinese
// characters): a wrapped diagnosis name in a quoted cell is one name.
func tblSplit(s string, lines bool) []string {
	if !lines {
		s = tblJoinLines(s)
	}
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == '；' || r == '|' || lines && (r == '\n' || r == '\r')
	})
	out := f[:0]
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// tblCleanName removes the odd whitespace spreadsheets and HIS forms put
// inside names: a Chinese name has none (陈　静 with an ideographic space
// is 陈静); a Latin one keeps single ASCII spaces (John Smith).
func tblCleanName(s string) string {
	odd := func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200B' || r == '\u200C' || r == '\u200D' || r == '\u2060' || r == '\uFEFF'
	}
	han := false
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			han = true
			break
		}
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if odd(r) {
			space = !han
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// tblJoinLines joins the lines of a cell: a space between them, none
// where both sides are Chinese.
func tblJoinLines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	for i, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			prev, _ := utf8.DecodeLastRuneInString(b.String())
			next, _ := utf8.DecodeRuneInString(l)
			if !(tblWide(prev) && tblWide(next)) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// tblWide reports a Chinese character or full-width punctuation.
func tblWide(r rune) bool {
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef
}

// tblParsePhones splits and normalises a phone cell (see ParsePhones);
// the first unusable number is the error.
func tblParsePhones(s string) ([]string, error) {
	ok, bad := ParsePhones(s)
	if len(bad) > 0 {
		return nil, bad[0].Err
	}
	return ok, nil
}

func tblAppendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// gb11643Parse validates a resident ID number (18 characters with check
// digit, or the old 15 digits) with the one validator every path shares
// (pii.ValidateNationalID, so intake never accepts what the archive later
// refuses) and returns it normalised (upper-case X) with the birth date and
// sex it encodes. The messages are bilingual for the import report.
func gb11643Parse(id string) (string, calendar.Date, Sex, error) {
	id = strings.ToUpper(strings.TrimSpace(tblNarrow(id)))
	info, err := pii.ValidateNationalID(id)
	if err != nil {
		var ne *pii.NationalIDError
		kind := pii.IDWrongLength
		if errors.As(err, &ne) {
			kind = ne.Kind
		}
		switch kind {
		case pii.IDBadChecksum:
			return "", calendar.Date{}, "", errors.New("身份证号校验位错误 / GB 11643 check digit mismatch")
		case pii.IDBadBirthDate:
			return "", calendar.Date{}, "", errors.New("身份证号中的出生日期不存在 / ID number encodes no valid birth date")
		case pii.IDBadCharacter:
			return "", calendar.Date{}, "", errors.New("身份证号只能由数字和末位 X 组成 / ID number must be digits, with X allowed last")
		default:
			return "", calendar.Date{}, "", fmt.Errorf("身份证号应为 18 位（或 15 位旧号）/ ID number must have 18 characters (or 15 digits), got %d", utf8.RuneCountInString(id))
		}
	}
	sex := Female
	if info.Male {
		sex = Male
	}
	return id, calendar.DateOf(info.Birth), sex, nil
}

// tblIsICD10 reports whether s looks like an ICD-10 code, including the
// Chinese clinical extensions (I21.000x001) and the dagger/asterisk
// system: an aetiology code marked † (or +) and a manifestation code
// marked * (A17.0†, G01*), the marks kept as written.
func tblIsICD10(s string) bool {
	if t, ok := strings.CutSuffix(s, "†"); ok {
		s = t
		if strings.HasSuffix(s, "*") || strings.HasSuffix(s, "+") {
			return false
		}
	}
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	c := s[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return false
	}
	if !(s[1] >= '0' && s[1] <= '9') || !(s[2] >= '0' && s[2] <= '9' || s[2] >= 'A' && s[2] <= 'Z') {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '*' || c == '-') {
			return false
		}
	}
	return len(s) == 3 || s[3] == '.' || s[3] == '+' || s[3] == '*'
}

// tblSplitCodeName splits "I21.0 急性心肌梗死" (or "I21.0急性心肌梗死") into
// code and name; without a leading code the whole text is the name.
func tblSplitCodeName(s string) Diagnosis {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && s[end] < utf8.RuneSelf && s[end] != ' ' && s[end] != '\t' && s[end] != ':' {
		end++
	}
	if strings.HasPrefix(s[end:], "†") {
		end += len("†")
	}
	if end > 0 && tblIsICD10(s[:end]) {
		code := strings.ToUpper(s[:end])
		name := strings.TrimLeft(s[end:], " \t:")
		return Diagnosis{Code: code, Name: strings.TrimSpace(name)}
	}
	return Diagnosis{Name: s}
}

// tblParseDiagnoses reads one code cell and one name cell, each maybe
// holding several entries, into diagnoses.
func tblParseDiagnoses(codeCell, nameCell string) ([]Diagnosis, error) {
	codes := tblSplitList(tblNarrow(codeCell))
	names := tblSplit(nameCell, false)
	if byLine := tblSplitList(nameCell); len(codes) > 1 && len(names) != len(codes) && len(byLine) == len(codes) {
		names = byLine // one name a line, matching one code a line
	}
	if len(codes) <= 1 && len(names) == 1 {
		// A single name may still be "I21.0 name, I10 name" with commas.
		names = tblSplitCommaCodes(names[0])
	}
	for i, c := range codes {
		codes[i] = strings.ToUpper(strings.TrimSpace(c))
		if !tblIsICD10(codes[i]) {
			return nil, fmt.Errorf("不是 ICD-10 编码 / not an ICD-10 code: %q", c)
		}
	}
	var out []Diagnosis
	switch {
	case len(codes) == 0:
		for _, n := range names {
			out = append(out, tblSplitCodeName(n))
		}
	case len(names) == 0:
		for _, c := range codes {
			out = append(out, Diagnosis{Code: c})
		}
	case len(codes) == len(names):
		for i := range codes {
			d := tblSplitCodeName(names[i])
			if d.Code != "" && d.Code != codes[i] {
				return nil, fmt.Errorf("诊断编码与名称中的编码不一致 / code %s differs from %s in the name", codes[i], d.Code)
			}
			out = append(out, Diagnosis{Code: codes[i], Name: d.Name})
		}
	default:
		return nil, fmt.Errorf("诊断编码 %d 个、诊断名称 %d 个，无法对应 / %d codes but %d names", len(codes), len(names), len(codes), len(names))
	}
	return out, nil
}

// tblSplitCommaCodes splits on commas or 、 only when every piece starts
// with an ICD-10 code (names themselves may contain commas).
func tblSplitCommaCodes(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '､' })
	if len(parts) < 2 {
		return []string{s}
	}
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if tblSplitCodeName(parts[i]).Code == "" {
			return []string{s}
		}
	}
	return parts
}

// tblTruncate cuts s to at most n bytes on a rune boundary.
func tblTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
