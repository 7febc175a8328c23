package intake

import (
	"errors"
	"fmt"
	"strings"

	"suifang/internal/pii"
)

// Phone numbers reach Suifang from CSV and Excel cells, HL7 XTN fields and
// FHIR ContactPoints, and leave it for the SMS gateway and the dialler.
// NormalizePhone is the one rule for all of them.

// Phone problems, for warnings and tests.
var (
	ErrPhoneChars  = errors.New("电话号码含非法字符 / phone number has invalid characters")
	ErrPhoneLength = errors.New("电话号码位数不对 / phone number has the wrong number of digits")
	ErrPhoneMobile = errors.New("手机号应为 11 位 / a mobile number has 11 digits")
)

// phoneErr wraps a problem with the number as sent (clipped), for rejects
// and warnings the user reads; warnings mask it.
type phoneErr struct {
	kind error
	raw  string
	n    int
}

func (e *phoneErr) Error() string {
	if e.n > 0 {
		return fmt.Sprintf("%s: %q (%d)", e.kind.Error(), e.raw, e.n)
	}
	return fmt.Sprintf("%s: %q", e.kind.Error(), e.raw)
}
func (e *phoneErr) Unwrap() error { return e.kind }

// phoneReason is an error's text without the number itself.
func phoneReason(err error) string {
	var pe *phoneErr
	if errors.As(err, &pe) {
		if pe.n > 0 {
			return fmt.Sprintf("%s (%d)", pe.kind.Error(), pe.n)
		}
		return pe.kind.Error()
	}
	return err.Error()
}

// MaskRaw masks a phone number as sent, for warnings kept with a report.
func MaskRaw(s string) string {
	return pii.MaskPhone(hl7Clip(strings.ToValidUTF8(s, "\uFFFD"), 40))
}

var phoneExt = strings.NewReplacer("转", "-", "ext.", "-", "ext", "-", "EXT", "-", "Ext", "-", "x", "-", "X", "-", "#", "-", "分机", "-")

// NormalizePhone turns a phone number as people and systems write it into
// the form Suifang stores and dials:
//   - separators (spaces, dots, dashes, parentheses) go from mobile numbers;
//     a country code +86, 0086 or 86 before an 11-digit mobile is dropped;
//     anything starting with 1 must be such an 11-digit mobile number;
//   - a landline with its area code (0 + 9–11 digits) is written
//     "area-number" (010, 02x three digits, other codes four); a 7–8 digit
//     local number or a 400/800 service number is digits only; +86 before
//     a landline becomes its trunk 0; an extension (转, ext, #) follows a "-";
//   - another country's number (+ or 00 and a code other than 86) is kept
//     with its +, 8–15 digits.
//
// Anything else — "7777", a name, a 10-digit mobile — is an error.
func NormalizePhone(s string) (string, error) {
	raw := hl7Clip(strings.TrimSpace(s), 40)
	fail := func(kind error, n int) (string, error) { return "", &phoneErr{kind: kind, raw: raw, n: n} }
	p := phoneExt.Replace(tblNarrow(strings.TrimSpace(s)))
	var main, ext strings.Builder // main keeps digits and single dashes
	plus := false
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			main.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == '-':
			if strings.HasSuffix(main.String(), "-") || main.Len() == 0 {
				continue
			}
			main.WriteRune(r)
		case r == ' ', r == '.', r == '(', r == ')', r == '\t', r == '\u00a0':
		default:
			return fail(ErrPhoneChars, 0)
		}
		if main.Len() > 64 {
			return fail(ErrPhoneLength, 0)
		}
	}
	// An extension is a short group after the last dash of a landline
	// written with its separators: "010-6400 0000-123".
	m := strings.Trim(main.String(), "-")
	only := strings.ReplaceAll(m, "-", "")
	if ext.Len() == 0 && !plus && only != "" && only[0] != '1' && !strings.HasPrefix(only, "00") {
		if i := strings.LastIndexByte(m, '-'); i > 0 {
			head := strings.ReplaceAll(m[:i], "-", "")
			landline := len(head) >= 10 && len(head) <= 12 && head[0] == '0' || len(head) >= 7 && len(head) <= 8 && head[0] != '0'
			if tail := m[i+1:]; len(tail) <= 5 && landline {
				ext.WriteString(tail)
				only = head
			}
		}
	}
	digits := len(only)
	intl := plus || strings.HasPrefix(only, "00")
	if intl {
		rest := strings.TrimPrefix(only, "00")
		if cn, ok := strings.CutPrefix(rest, "86"); ok {
			switch {
			case len(cn) == 11 && cn[0] == '1':
				return cn, nil
			case len(cn) >= 10 && len(cn) <= 12 && cn[0] == '0': // "+86 (0)10 …"
				return NormalizePhone(cn + phoneWithExt("", ext.String()))
			case len(cn) >= 9 && len(cn) <= 11 && cn[0] != '0':
				return NormalizePhone("0" + cn + phoneWithExt("", ext.String()))
			}
			return fail(ErrPhoneLength, len(cn))
		}
		if len(rest) < 8 || len(rest) > 15 || rest[0] == '0' { // no country code starts with 0
			return fail(ErrPhoneLength, len(rest))
		}
		return "+" + rest, nil
	}
	if cn, ok := strings.CutPrefix(only, "86"); ok && len(cn) == 11 && cn[0] == '1' {
		return cn, nil
	}
	switch {
	case digits == 0:
		return fail(ErrPhoneLength, 0)
	case only[0] == '1':
		if digits != 11 {
			return fail(ErrPhoneMobile, digits)
		}
		return only, nil
	case only[0] == '0':
		if digits < 10 || digits > 12 {
			return fail(ErrPhoneLength, digits)
		}
		// One written form, so the blind index finds the number however it
		// was typed: area code (010, 02x: three digits; others four), dash.
		area := 4
		if only[1] == '1' || only[1] == '2' {
			area = 3
		}
		return phoneWithExt(only[:area]+"-"+only[area:], ext.String()), nil
	case strings.HasPrefix(only, "400") || strings.HasPrefix(only, "800"):
		if digits != 10 && (digits < 7 || digits > 8) {
			return fail(ErrPhoneLength, digits)
		}
	default:
		if digits < 7 || digits > 8 {
			return fail(ErrPhoneLength, digits)
		}
	}
	return phoneWithExt(only, ext.String()), nil
}

func phoneWithExt(n, ext string) string {
	if ext == "" {
		return n
	}
	return n + "-" + ext
}

// BadPhone is one number ParsePhones could not use.
type BadPhone struct {
	Raw string
	Err error
}

// ParsePhones splits a field that may hold several numbers (separators
// , ; / 、 | line breaks and their full-width forms) and normalises each;
// duplicates are dropped. Unusable numbers come back apart, so the caller
// can keep the others and warn.
func ParsePhones(s string) (ok []string, bad []BadPhone) {
	parts := strings.FieldsFunc(tblNarrow(s), func(r rune) bool {
		switch r {
		case ',', ';', '/', '、', '､', '|', '\n', '\r', '，', '；':
			return true
		}
		return false
	})
	for _, p := range parts {
		p = tblValue(p)
		if p == "" {
			continue
		}
		n, err := NormalizePhone(p)
		if err != nil {
			bad = append(bad, BadPhone{Raw: p, Err: err})
			continue
		}
		ok = tblAppendUnique(ok, n)
	}
	return ok, bad
}
