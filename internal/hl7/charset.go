package hl7

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Encoding names reported in Message.Encoding.
const (
	UTF8    = "UTF-8"
	GB18030 = "GB18030"
	Big5    = "Big5"
	Latin1  = "ISO-8859-1"
)

// Decode converts a raw message to UTF-8 and reports the encoding it was
// read as. The choice, in order:
//   - MSH-18 names GB 18030, GBK, GB 2312 or "CHINESE": GB18030 (a superset
//     of the other two), unless the bytes are valid UTF-8 whose every
//     non-ASCII character is Chinese text — senders often label UTF-8 as GB;
//   - MSH-18 names BIG-5: Big5, under the same proviso;
//   - the bytes are valid UTF-8: UTF-8 (covers ASCII and "UNICODE UTF-8");
//   - MSH-18 names ISO 8859-1 (8859/1, ISO IR100): Latin-1;
//   - otherwise GB18030, the usual encoding of unlabelled Chinese HIS data.
//
// Invalid byte sequences become U+FFFD; the result is always valid UTF-8.
// HL7 delimiters are ASCII, so decoding before splitting is what keeps a
// GB18030 trail byte equal to '|' or '\' (both occur) from breaking fields.
func Decode(b []byte) ([]byte, string) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	cs := normCharset(rawCharset(b))
	valid := utf8.Valid(b)
	switch {
	case isGB(cs):
		if valid && chineseUTF8(b) {
			return b, UTF8
		}
		return decodeWith(b, GB18030), GB18030
	case cs == "BIG5":
		if valid && chineseUTF8(b) {
			return b, UTF8
		}
		return decodeWith(b, Big5), Big5
	case valid:
		return b, UTF8
	case isLatin1(cs):
		return decodeWith(b, Latin1), Latin1
	}
	return decodeWith(b, GB18030), GB18030
}

// rawCharset finds MSH-18 (first repetition, first component) in the raw,
// undecoded bytes. MSH-3..MSH-17 are nearly always ASCII.
func rawCharset(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n\x0b")
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) < 4 || !bytes.HasPrefix(b, []byte("MSH")) {
		return ""
	}
	sep := b[3]
	parts := bytes.Split(b, []byte{sep})
	// parts[0] = "MSH", parts[1] = MSH-2, parts[k] = MSH-(k+1).
	if len(parts) < 18 || len(parts[1]) == 0 {
		return ""
	}
	v := parts[17]
	for _, c := range parts[1] {
		if i := bytes.IndexByte(v, c); i >= 0 && c != '\\' {
			v = v[:i]
		}
	}
	return string(v)
}

// normCharset upper-cases a charset name and keeps letters and digits only:
// "GB 18030-2000" → "GB180302000", "8859/1" → "88591".
func normCharset(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isGB(cs string) bool {
	for _, p := range []string{"GB18030", "GBK", "GB2312", "CHINESE", "ISOIR58", "CP936", "WINDOWS936", "EUCCN"} {
		if strings.HasPrefix(cs, p) {
			return true
		}
	}
	return false
}

func isLatin1(cs string) bool {
	switch cs {
	case "88591", "ISO88591", "ISOIR100", "LATIN1", "WINDOWS1252", "CP1252":
		return true
	}
	return false
}

// chineseUTF8 reports whether b (valid UTF-8) has non-ASCII text and all of
// it is Han characters, CJK or full-width punctuation, or the middle dot
// used in transliterated names — what UTF-8 Chinese looks like, and what
// GB-encoded bytes that happen to be valid UTF-8 practically never do.
func chineseUTF8(b []byte) bool {
	seen := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r < utf8.RuneSelf {
			continue
		}
		seen = true
		switch {
		case unicode.Is(unicode.Han, r),
			0x3000 <= r && r <= 0x303F, // CJK symbols and punctuation
			0xFF00 <= r && r <= 0xFFEF, // full-width forms
			0x2010 <= r && r <= 0x2027, // dashes, quotes, ellipsis
			r == 0x00B7:
		default:
			return false
		}
	}
	return seen
}

// decodeWith converts b from enc to UTF-8.
func decodeWith(b []byte, enc string) []byte {
	switch enc {
	case Latin1:
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return out
	case GB18030, Big5:
		dec := simplifiedchinese.GB18030.NewDecoder()
		if enc == Big5 {
			dec = traditionalchinese.Big5.NewDecoder()
		}
		out, err := dec.Bytes(b)
		if err == nil && utf8.Valid(out) {
			return out
		}
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

// decodeBytes reads bytes from a \X..\ escape that are not UTF-8.
func decodeBytes(raw []byte, enc string) string {
	switch enc {
	case GB18030, Big5:
		return string(decodeWith(raw, enc))
	}
	return string(decodeWith(raw, Latin1))
}

// encodeWith converts UTF-8 text to enc for output (ACKs); characters the
// encoding lacks become '?'.
func encodeWith(s string, enc string) []byte {
	switch enc {
	case GB18030, Big5:
		e := simplifiedchinese.GB18030.NewEncoder()
		if enc == Big5 {
			e = traditionalchinese.Big5.NewEncoder()
		}
		if out, err := e.Bytes([]byte(s)); err == nil {
			return out
		}
		var out []byte
		for _, r := range s {
			b, err := e.Bytes([]byte(string(r)))
			if err != nil {
				b = []byte("?")
			}
			out = append(out, b...)
		}
		return out
	case Latin1:
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r < 256 {
				out = append(out, byte(r))
			} else {
				out = append(out, '?')
			}
		}
		return out
	}
	return []byte(s)
}
