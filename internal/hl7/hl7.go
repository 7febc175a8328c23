// Package hl7 parses HL7 version 2 messages (any 2.x): segments, fields,
// repetitions, components and sub-components, escape sequences and the
// character set named in MSH-18. It knows nothing about message semantics;
// package intake maps ADT messages onto its own types.
//
// Field numbers follow the standard, including for MSH, where MSH-1 is the
// field separator itself and MSH-2 the encoding characters, so MSH-9 is the
// message type and MSH-10 the control id.
//
// Nothing in this package panics on malformed input.
package hl7

import (
	"bytes"
	"fmt"
	"strings"
)

// Delimiters are the separators a message declares in MSH-1 and MSH-2.
// A zero byte means the message did not declare that character.
type Delimiters struct {
	Field        byte // '|'
	Component    byte // '^'
	Repetition   byte // '~'
	Escape       byte // '\\'
	Subcomponent byte // '&'
	Truncation   byte // '#', HL7 2.7 and later, optional
}

// DefaultDelimiters are the encoding characters almost every sender uses.
var DefaultDelimiters = Delimiters{'|', '^', '~', '\\', '&', 0}

// EncodingChars returns the MSH-2 text for d.
func (d Delimiters) EncodingChars() string {
	var b []byte
	for _, c := range []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// Message is a parsed HL7 v2 message.
type Message struct {
	Segments []Segment
	Delims   Delimiters
	// Encoding is the character encoding the bytes were decoded from:
	// "UTF-8", "GB18030", "Big5" or "ISO-8859-1". Values are always UTF-8.
	Encoding string
}

// Segment is one segment. Fields[0] is field 1 (for MSH: the field
// separator), so Field(n) is Fields[n-1].
type Segment struct {
	Name   string
	Fields []Field
}

// Field is one field with its repetitions.
type Field struct {
	// Raw is the field as sent (after character-set decoding), with its
	// delimiters and escape sequences intact.
	Raw  string
	Reps []Rep
}

// Rep is one repetition of a field: its components.
type Rep []Component

// Component is one component: its sub-components, unescaped.
type Component []string

// Value returns the first sub-component (its only one when the component
// is not subdivided).
func (c Component) Value() string { return c.Sub(1) }

// Sub returns sub-component i (1-based), or "".
func (c Component) Sub(i int) string {
	if i < 1 || i > len(c) {
		return ""
	}
	return c[i-1]
}

// String joins the sub-components with '&' for display. It does not
// escape; use Delimiters.EscapeText to build HL7 text.
func (c Component) String() string { return strings.Join(c, "&") }

// Component returns component i (1-based), or nil.
func (r Rep) Component(i int) Component {
	if i < 1 || i > len(r) {
		return nil
	}
	return r[i-1]
}

// Value returns the first primitive of the repetition (component 1,
// sub-component 1).
func (r Rep) Value() string { return r.Component(1).Value() }

// NumReps returns the number of repetitions (0 for an empty field).
func (f Field) NumReps() int { return len(f.Reps) }

// Rep returns repetition i (1-based), or nil.
func (f Field) Rep(i int) Rep {
	if i < 1 || i > len(f.Reps) {
		return nil
	}
	return f.Reps[i-1]
}

// Value returns the first primitive of the field: repetition 1,
// component 1, sub-component 1.
func (f Field) Value() string { return f.Rep(1).Value() }

// IsEmpty reports whether the field carries no value at all.
func (f Field) IsEmpty() bool { return f.Raw == "" }

// Field returns field n (1-based); the zero Field when absent.
func (s *Segment) Field(n int) Field {
	if s == nil || n < 1 || n > len(s.Fields) {
		return Field{}
	}
	return s.Fields[n-1]
}

// NumFields returns the number of fields present, i.e. the highest field
// number that was sent.
func (s *Segment) NumFields() int {
	if s == nil {
		return 0
	}
	return len(s.Fields)
}

// Segment returns the first segment with the given name, or nil.
func (m *Message) Segment(name string) *Segment {
	if m == nil {
		return nil
	}
	for i := range m.Segments {
		if m.Segments[i].Name == name {
			return &m.Segments[i]
		}
	}
	return nil
}

// SegmentsNamed returns every segment with the given name, in order. (It
// cannot be called Segments: that is the field holding all segments.)
func (m *Message) SegmentsNamed(name string) []*Segment {
	if m == nil {
		return nil
	}
	var out []*Segment
	for i := range m.Segments {
		if m.Segments[i].Name == name {
			out = append(out, &m.Segments[i])
		}
	}
	return out
}

// Type returns MSH-9.1 (message code) and MSH-9.2 (trigger event).
func (m *Message) Type() (code, trigger string) {
	return m.Get("MSH-9.1"), m.Get("MSH-9.2")
}

// ControlID returns MSH-10.
func (m *Message) ControlID() string { return m.Get("MSH-10") }

// Version returns MSH-12.1, e.g. "2.4".
func (m *Message) Version() string { return m.Get("MSH-12") }

// Charset returns MSH-18 (first repetition) as sent, e.g. "GB 18030-2000".
func (m *Message) Charset() string { return m.Get("MSH-18") }

// ParseError describes why a message could not be parsed.
type ParseError struct {
	Segment int // 1-based segment number, 0 when not about one segment
	Reason  string
}

func (e *ParseError) Error() string {
	if e.Segment > 0 {
		return fmt.Sprintf("hl7: segment %d: %s", e.Segment, e.Reason)
	}
	return "hl7: " + e.Reason
}

// ParseMessage parses one message. Segments may end with \r, \n or \r\n;
// blank lines and MLLP framing bytes are ignored. The bytes are decoded to
// UTF-8 first according to MSH-18 (see Decode).
func ParseMessage(b []byte) (*Message, error) {
	text, enc := Decode(b)
	return parseDecoded(text, enc)
}

func parseDecoded(text []byte, enc string) (*Message, error) {
	text = trimFraming(text)
	if !bytes.HasPrefix(text, []byte("MSH")) {
		return nil, &ParseError{Reason: "message does not start with an MSH segment"}
	}
	d, err := delimitersOf(text)
	if err != nil {
		return nil, err
	}
	m := &Message{Delims: d, Encoding: enc}
	n := 0
	for len(text) > 0 {
		i := bytes.IndexAny(text, "\r\n")
		var line []byte
		if i < 0 {
			line, text = text, nil
		} else {
			line, text = text[:i], text[i+1:]
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		seg, err := parseSegment(string(line), d, enc)
		if err != nil {
			return nil, &ParseError{Segment: n, Reason: err.Error()}
		}
		m.Segments = append(m.Segments, seg)
	}
	return m, nil
}

// trimFraming drops a byte-order mark, MLLP start/end bytes and surrounding
// white space.
func trimFraming(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.Trim(b, " \t\r\n\x0b\x1c")
}

// delimitersOf reads MSH-1 and MSH-2 from the start of a message.
func delimitersOf(text []byte) (Delimiters, error) {
	if len(text) < 4 {
		return Delimiters{}, &ParseError{Segment: 1, Reason: "MSH segment too short"}
	}
	d := Delimiters{Field: text[3]}
	if !validDelimiter(d.Field) {
		return Delimiters{}, &ParseError{Segment: 1, Reason: fmt.Sprintf("invalid field separator %q", d.Field)}
	}
	enc := text[4:]
	if i := bytes.IndexAny(enc, "\r\n"); i >= 0 {
		enc = enc[:i]
	}
	if i := bytes.IndexByte(enc, d.Field); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) == 0 {
		return Delimiters{}, &ParseError{Segment: 1, Reason: "MSH-2 encoding characters missing"}
	}
	if len(enc) > 5 {
		return Delimiters{}, &ParseError{Segment: 1, Reason: fmt.Sprintf("MSH-2 encoding characters %q too long", enc)}
	}
	slots := []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation}
	seen := map[byte]bool{d.Field: true}
	for i, c := range enc {
		if !validDelimiter(c) {
			return Delimiters{}, &ParseError{Segment: 1, Reason: fmt.Sprintf("invalid encoding character %q in MSH-2", c)}
		}
		if seen[c] {
			return Delimiters{}, &ParseError{Segment: 1, Reason: fmt.Sprintf("encoding character %q repeated in MSH-1/MSH-2", c)}
		}
		seen[c] = true
		*slots[i] = c
	}
	return d, nil
}

// validDelimiter accepts printable ASCII punctuation only.
func validDelimiter(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z')
}

func validSegmentName(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return 'A' <= s[0] && s[0] <= 'Z'
}

// headerSegment reports whether a segment carries its own MSH-1/MSH-2 style
// separator fields.
func headerSegment(name string) bool {
	return name == "MSH" || name == "BHS" || name == "FHS"
}

func parseSegment(line string, d Delimiters, enc string) (Segment, error) {
	parts := strings.Split(line, string(d.Field))
	name := parts[0]
	if !validSegmentName(name) {
		return Segment{}, fmt.Errorf("invalid segment name %q", truncate(name, 20))
	}
	seg := Segment{Name: name}
	if headerSegment(name) {
		// MSH-1 is the separator, MSH-2 the encoding characters, both
		// taken literally.
		if len(parts) < 2 {
			return Segment{}, fmt.Errorf("%s segment without encoding characters", name)
		}
		seg.Fields = make([]Field, 0, len(parts))
		seg.Fields = append(seg.Fields, literalField(string(d.Field)), literalField(parts[1]))
		for _, p := range parts[2:] {
			seg.Fields = append(seg.Fields, parseField(p, d, enc))
		}
		return seg, nil
	}
	seg.Fields = make([]Field, 0, len(parts)-1)
	for _, p := range parts[1:] {
		seg.Fields = append(seg.Fields, parseField(p, d, enc))
	}
	return seg, nil
}

func literalField(s string) Field {
	return Field{Raw: s, Reps: []Rep{{Component{s}}}}
}

func parseField(raw string, d Delimiters, enc string) Field {
	f := Field{Raw: raw}
	if raw == "" {
		return f
	}
	for _, r := range split(raw, d.Repetition) {
		var rep Rep
		for _, c := range split(r, d.Component) {
			subs := split(c, d.Subcomponent)
			comp := make(Component, len(subs))
			for i, s := range subs {
				comp[i] = d.unescape(s, enc)
			}
			rep = append(rep, comp)
		}
		f.Reps = append(f.Reps, rep)
	}
	return f
}

// split is strings.Split that treats a zero separator as "not declared".
func split(s string, sep byte) []string {
	if sep == 0 || strings.IndexByte(s, sep) < 0 {
		return []string{s}
	}
	return strings.Split(s, string(sep))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
