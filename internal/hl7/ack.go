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

// ACK builds the acknowledgment of msg: MSH with sending and receiving
// application/facility swapped, the original's encoding characters,
// processing id (MSH-11) and version (MSH-12); MSA-1 code, MSA-2 the
// original MSH-10; and, unless code is AA, an ERR segment carrying text
// (application internal error 207, severity E). Segments end with \r.
//
// controlID is the ACK's own MSH-10; empty means one derived from now.
// The bytes are in the character set the original arrived in (GB18030 for
// a GB message, with its MSH-18 repeated). msg may be nil when the
// original could not be parsed at all: the ACK then has no addresses.
func ACK(msg *Message, code string, text string, now time.Time, controlID string) []byte {
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
	if code != AA && code != "CA" && text != "" && old {
		msa = append(msa, d.EscapeText(text)) // MSA-3, withdrawn in 2.5+
	}
	b.WriteString(strings.Join(msa, fs))
	b.WriteByte('\r')
	if code != AA && code != "CA" {
		sc, rc := string(d.Component), string(d.Subcomponent)
		if old {
			// ERR-1 (ELD): segment^sequence^field^code&text&table
			b.WriteString("ERR" + fs + sc + sc + sc + "207" + rc + d.EscapeText(text) + rc + "HL70357")
		} else {
			// ERR-3 HL7 error code, ERR-4 severity, ERR-8 user message.
			b.WriteString(strings.Join([]string{"ERR", "", "",
				"207" + sc + "Application internal error" + sc + "HL70357", "E", "", "", "", d.EscapeText(text)}, fs))
		}
		b.WriteByte('\r')
	}
	return encodeWith(b.String(), enc)
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
