package pii

import (
	"fmt"
	"time"
)

// ErrInvalidNationalID is matched (errors.Is) by every ValidateNationalID
// error.
const ErrInvalidNationalID Error = "invalid national ID number"

// NationalIDError is a ValidateNationalID error. Its message describes the
// problem ("wrong length ...", "invalid character at position N",
// "invalid birth date", "checksum mismatch: expected X") and never
// contains the ID number itself, so it can be shown to users and logged.
type NationalIDError struct {
	Kind   IDProblem // what is wrong, for callers that word it themselves
	Reason string
}

// IDProblem names what is wrong with a national ID number.
type IDProblem int

// The problems ValidateNationalID reports.
const (
	IDWrongLength IDProblem = iota + 1
	IDBadCharacter
	IDBadBirthDate
	IDBadChecksum
)

func (e *NationalIDError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrInvalidNationalID) true.
func (e *NationalIDError) Is(target error) bool { return target == ErrInvalidNationalID }

func idErr(kind IDProblem, format string, args ...any) error {
	return &NationalIDError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// IDInfo is what a citizen ID number says about its holder.
type IDInfo struct {
	Region string    // 6-digit administrative division code
	Birth  time.Time // date only, UTC midnight
	Male   bool
}

// Birth dates accepted in an 18-digit ID.
const (
	minBirthYear = 1900
	maxBirthYear = 2100
)

// idWeights are the GB 11643-1999 (ISO 7064 MOD 11-2) weights of the first
// 17 digits; idCheckChars maps the weighted sum mod 11 to the check char.
const (
	idWeights    = "\x07\x09\x0a\x05\x08\x04\x02\x01\x06\x03\x07\x09\x0a\x05\x08\x04\x02"
	idCheckChars = "10X98765432"
)

// ValidateNationalID validates a resident identity card number
// (GB 11643-1999) and returns what it encodes. s must already be trimmed
// (see Normalize); a lower-case check character x is accepted.
//
// 18 characters: 6-digit region, YYYYMMDD birth date (a real date from
// 1900-01-01 to 2100-12-31), 3-digit sequence whose last digit is odd for
// men, and the check character. 15 digits (legacy, before 1999): 6-digit
// region, YYMMDD birth date in the 1900s and a 3-digit sequence (odd last
// digit for men), no check character.
//
// Errors are *NationalIDError and match ErrInvalidNationalID.
func ValidateNationalID(s string) (IDInfo, error) {
	switch len(s) {
	case 18:
		for i := range 17 {
			if !isASCIIDigit(s[i]) {
				return IDInfo{}, idErr(IDBadCharacter, "invalid character at position %d", i+1)
			}
		}
		if c := s[17]; !isASCIIDigit(c) && c != 'X' && c != 'x' {
			return IDInfo{}, idErr(IDBadCharacter, "invalid character at position 18")
		}
		birth, ok := parseBirth(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14]))
		if !ok {
			return IDInfo{}, idErr(IDBadBirthDate, "invalid birth date")
		}
		want := idCheckChar(s[:17])
		if got := upperX(s[17]); got != want {
			return IDInfo{}, idErr(IDBadChecksum, "checksum mismatch: expected %c", want)
		}
		return IDInfo{Region: s[:6], Birth: birth, Male: (s[16]-'0')%2 == 1}, nil
	case 15:
		for i := range 15 {
			if !isASCIIDigit(s[i]) {
				return IDInfo{}, idErr(IDBadCharacter, "invalid character at position %d", i+1)
			}
		}
		birth, ok := parseBirth(1900+atoi(s[6:8]), atoi(s[8:10]), atoi(s[10:12]))
		if !ok {
			return IDInfo{}, idErr(IDBadBirthDate, "invalid birth date")
		}
		return IDInfo{Region: s[:6], Birth: birth, Male: (s[14]-'0')%2 == 1}, nil
	default:
		return IDInfo{}, idErr(IDWrongLength, "wrong length: %d characters, want 18 (or 15 for a pre-1999 number)", len(s))
	}
}

// GenerateNationalID returns a valid 18-digit ID number (for synthetic
// data and tests). region must be 6 ASCII digits, birth's calendar date
// (in its own location) within 1900–2100, and seq 0–99; the 3-digit
// sequence is seq's two digits followed by a sex digit (odd for male).
// It panics on arguments outside those ranges: they are programming errors.
func GenerateNationalID(region string, birth time.Time, seq int, male bool) string {
	if len(region) != 6 {
		panic("pii.GenerateNationalID: region must be 6 digits")
	}
	for i := range 6 {
		if !isASCIIDigit(region[i]) {
			panic("pii.GenerateNationalID: region must be 6 digits")
		}
	}
	y, m, d := birth.Date()
	if y < minBirthYear || y > maxBirthYear {
		panic("pii.GenerateNationalID: birth year outside 1900-2100")
	}
	if seq < 0 || seq > 99 {
		panic("pii.GenerateNationalID: seq outside 0-99")
	}
	sex := (seq % 5) * 2 // vary the digit: 0,2,4,6,8 for women, +1 for men
	if male {
		sex++
	}
	b := make([]byte, 0, 18)
	b = append(b, region...)
	b = fmt.Appendf(b, "%04d%02d%02d%02d%d", y, int(m), d, seq, sex)
	return string(append(b, idCheckChar(string(b))))
}

// idCheckChar computes the check character of the 17 digits d.
func idCheckChar(d string) byte {
	sum := 0
	for i := range 17 {
		sum += int(d[i]-'0') * int(idWeights[i])
	}
	return idCheckChars[sum%11]
}

// parseBirth returns the date y-m-d if it is real and within range.
func parseBirth(y, m, d int) (time.Time, bool) {
	if y < minBirthYear || y > maxBirthYear || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m { // normalised, e.g. Feb 30
		return time.Time{}, false
	}
	return t, true
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi converts a string of ASCII digits (already checked).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func upperX(c byte) byte {
	if c == 'x' {
		return 'X'
	}
	return c
}
