package hl7

import (
	"strconv"
	"strings"
	"time"
)

// Acknowledgment codes for MSA-1.
const (
	AA = "AA" // accepted
	AE = "AE" // error: the sender may fix and resend
	AR = "AR" // rejected
)

// AckError is what the ERR segment of a negative ACK says.
type AckError struct {
	// Code is from HL7 table 0357: 100-series for what is wrong in the
	// message's content (the sender fixes the data), 200-series for what
	// the receiver cannot process at all (type, event, processing id,
	// version) and 207 for a failure of the receiver itself.
	Code int
	// Location is the field at fault as a path ("PID-7", "PV1-3.4") or a
	// segment ("PID"); empty when no field is to blame.
	Location string
	// Text is the message for people (ERR-8; MSA-3 before 2.5).
	Text string
	// AppCode is an application error code (ERR-5, user-defined table
	// 0533) that names the reason more narrowly than Code, e.g. "SF_SENDER".
	AppCode string
}

// Table-0357 codes Suifang answers with.
const (
	ErrSegmentSequence = 100
	ErrRequiredMissing = 101
	ErrDataType        = 102
	ErrTableValue      = 103
	ErrValueTooLong    = 104 // added in 2.7; older senders still show the text
	ErrMessageType     = 200
	ErrEventCode       = 201
	ErrProcessingID    = 202
	ErrVersionID       = 203
	ErrInternal        = 207
)

// errorNames are table 0357's descriptions.
var errorNames = map[int]string{
	0: "Message accepted", 100: "Segment sequence error", 101: "Required field missing",
	102: "Data type error", 103: "Table value not found", 104: "Value too long",
	200: "Unsupported message type", 201: "Unsupported event code", 202: "Unsupported processing id",
	203: "Unsupported version id", 204: "Unknown key identifier", 205: "Duplicate key identifier",
	206: "Application record locked", 207: "Application internal error",
}

// ACK builds the acknowledgment of msg with an application internal error
// (207) carrying text when code is not AA; see Acknowledge.
func ACK(msg *Message, code string, text string, now time.Time, controlID string) []byte {
	var e *AckError
	if code != AA && code != "CA" {
		e = &AckError{Code: ErrInternal, Text: text}
	}
	return Acknowledge(msg, code, e, now, controlID)
}

// Acknowledge builds the acknowledgment of msg: MSH with sending and
// receiving application/facility swapped, the original's encoding
// characters, processing id (MSH-11) and version (MSH-12); MSA-1 code, MSA-2
// the original MSH-10; and, unless code is AA, an ERR segment from e
// (severity E): from 2.5 on ERR-2 location, ERR-3 the 0357 code, ERR-5 the
// application code and ERR-8 the text; before 2.5 ERR-1 (ELD)
// segment^sequence^field^code&text&HL70357 and the text in MSA-3.
// Segments end with \r.
//
// controlID is the ACK's own MSH-10; empty means one derived from now.
// The bytes are in the character set the original arrived in (GB18030 for
// a GB message, with its MSH-18 repeated). msg may be nil when the
// original could not be parsed at all: the ACK then has no addresses.
func Acknowledge(msg *Message, code string, e *AckError, now time.Time, controlID string) []byte {
	d := DefaultDelimiters
	enc := UTF8
	if msg != nil && msg.Delims.Field != 0 {
		d = msg.Delims
		if msg.Encoding != "" {
			enc = msg.Encoding
		}
	}
	if d.Component == 0 || d.Repetition == 0 || d.Escape == 0 || d.Subcomponent == 0 {
		d = DefaultDelimiters
	}
	switch code {
	case AA, AE, AR, "CA", "CE", "CR":
	default:
		code = AE
	}
	if controlID == "" {
		controlID = "A" + strings.Replace(now.UTC().Format("20060102150405.000"), ".", "", 1)
	}
	mshIn := msg.Segment("MSH")
	raw := func(n int) string { return mshIn.Field(n).Raw } // as sent, escapes intact
	version := raw(12)
	if version == "" {
		version = "2.5"
	}
	processing := raw(11)
	if processing == "" {
		processing = "P"
	}
	trigger := ""
	if msg != nil {
		trigger = msg.Get("MSH-9.2")
		if trigger == "" {
			trigger = msg.Get("EVN-1")
		}
	}
	typ := "ACK"
	if trigger != "" {
		typ += string(d.Component) + d.EscapeText(trigger)
		if versionAtLeast(msg.Version(), 2, 3, 1) || msg.Version() == "" {
			typ += string(d.Component) + "ACK"
		}
	}
	origID := ""
	if msg != nil {
		origID = msg.ControlID()
	}
	positive := code == AA || code == "CA"
	if e == nil && !positive {
		e = &AckError{Code: ErrInternal}
	}

	var b strings.Builder
	fs := string(d.Field)
	msh := []string{"MSH", d.EncodingChars(), raw(5), raw(6), raw(3), raw(4),
		FormatTime(now), "", typ, d.EscapeText(controlID), processing, version}
	if cs := raw(18); cs != "" {
		msh = append(msh, "", "", "", "", "", cs)
	}
	b.WriteString(strings.Join(msh, fs))
	b.WriteByte('\r')
	msa := []string{"MSA", code, d.EscapeText(origID)}
	old := !versionAtLeast(msg.Version(), 2, 5, 0) && msg.Version() != ""
	if !positive && e.Text != "" && old {
		msa = append(msa, d.EscapeText(e.Text)) // MSA-3, withdrawn in 2.5+
	}
	b.WriteString(strings.Join(msa, fs))
	b.WriteByte('\r')
	if !positive {
		sc, rc := string(d.Component), string(d.Subcomponent)
		seg, field, comp := splitLocation(e.Location)
		num := strconv.Itoa(e.Code)
		name := errorNames[e.Code]
		if old {
			// ERR-1 (ELD): segment^sequence^field^code&text&table
			text := e.Text
			if text == "" {
				text = name
			}
			loc := ""
			if seg != "" {
				loc = seg + sc + "1" + sc + itoaOrEmpty(field)
			} else {
				loc = sc + sc
			}
			b.WriteString("ERR" + fs + loc + sc + num + rc + d.EscapeText(text) + rc + "HL70357")
		} else {
			// ERR-2 (ERL): segment^sequence^field^repetition^component.
			erl := ""
			if seg != "" {
				erl = seg + sc + "1"
				if field > 0 {
					erl += sc + strconv.Itoa(field)
					if comp > 0 {
						erl += sc + "1" + sc + strconv.Itoa(comp)
					}
				}
			}
			app := ""
			if e.AppCode != "" {
				app = d.EscapeText(e.AppCode)
			}
			b.WriteString(strings.Join([]string{"ERR", "", erl,
				num + sc + d.EscapeText(name) + sc + "HL70357", "E", app, "", "", d.EscapeText(e.Text)}, fs))
		}
		b.WriteByte('\r')
	}
	return encodeWith(b.String(), enc)
}

func itoaOrEmpty(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// splitLocation reads "PID", "PID-7" or "PV1-3.4" into segment, field and
// component; anything else (a column name, garbage) gives no location.
func splitLocation(loc string) (seg string, field, comp int) {
	name, rest, hasField := strings.Cut(loc, "-")
	if !validSegmentName(name) {
		return "", 0, 0
	}
	if !hasField {
		return name, 0, 0
	}
	f, c, hasComp := strings.Cut(rest, ".")
	field, ok := smallPositive(f)
	if !ok {
		return "", 0, 0
	}
	if hasComp {
		if comp, ok = smallPositive(c); !ok {
			return "", 0, 0
		}
	}
	return name, field, comp
}

// smallPositive parses 1–999 written in plain digits.
func smallPositive(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}

// versionAtLeast compares a "2.x[.y]" version string (component 1 of
// MSH-12) with maj.min.patch; unparseable versions count as recent.
func versionAtLeast(v string, maj, min, patch int) bool {
	if v == "" {
		return true
	}
	parts := strings.Split(v, ".")
	want := []int{maj, min, patch}
	for i := 0; i < 3; i++ {
		n := 0
		if i < len(parts) {
			var err error
			if n, err = strconv.Atoi(strings.TrimSpace(parts[i])); err != nil {
				return true
			}
		}
		if n != want[i] {
			return n > want[i]
		}
	}
	return true
}

// String renders the message back to HL7 text with \r segment endings,
// from the fields as sent (character set already decoded to UTF-8).
func (m *Message) String() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	fs := string(m.Delims.Field)
	for _, s := range m.Segments {
		b.WriteString(s.Name)
		for i, f := range s.Fields {
			if i == 0 && headerSegment(s.Name) {
				continue // the separator itself
			}
			b.WriteString(fs)
			b.WriteString(f.Raw)
		}
		b.WriteByte('\r')
	}
	return b.String()
}
