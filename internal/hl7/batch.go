package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxMessageSize bounds one message (and one segment) in SplitBatch.
const MaxMessageSize = 64 << 20

const (
	mllpStart = 0x0b
	mllpEnd   = 0x1c
)

// SplitBatch reads a stream holding any number of messages and calls fn
// with each one's bytes (segments joined by \r) and its 1-based index.
//
// A message starts at an "MSH" segment. FHS/BHS/BTS/FTS batch envelope
// segments are dropped (and end the message before them); MLLP start and
// end bytes (0x0b, 0x1c) end a message too. Segments may end with \r, \n
// or \r\n; blank lines are skipped. Lines before the first MSH that are
// not envelope segments are passed on as a message of their own, so the
// caller can report them rather than lose them silently.
//
// The stream is read through a buffer, one segment at a time. raw is a
// fresh slice the callback may keep. SplitBatch stops at the first error
// from fn and returns it; it also returns read errors and an error for a
// message over MaxMessageSize.
func SplitBatch(r io.Reader, fn func(raw []byte, index int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4<<10), MaxMessageSize)
	sc.Split(scanSegments)
	var (
		msg   bytes.Buffer
		index int
		first = true
	)
	flush := func() error {
		if msg.Len() == 0 {
			return nil
		}
		index++
		raw := bytes.Clone(msg.Bytes())
		msg.Reset()
		return fn(raw, index)
	}
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			first = false
		}
		if len(line) == 1 && (line[0] == mllpStart || line[0] == mllpEnd) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		switch {
		case hasSegment(line, "FHS"), hasSegment(line, "BHS"),
			hasSegment(line, "BTS"), hasSegment(line, "FTS"):
			if err := flush(); err != nil {
				return err
			}
			continue
		case hasSegment(line, "MSH"):
			if err := flush(); err != nil {
				return err
			}
		}
		if msg.Len()+len(line)+1 > MaxMessageSize {
			return fmt.Errorf("hl7: message %d exceeds %d bytes", index+1, MaxMessageSize)
		}
		if msg.Len() > 0 {
			msg.WriteByte('\r')
		}
		msg.Write(line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("hl7: message %d: segment exceeds %d bytes", index+1, MaxMessageSize)
		}
		return err
	}
	return flush()
}

// hasSegment reports whether line is a segment named name: the name
// followed by a non-alphanumeric separator, or alone.
func hasSegment(line []byte, name string) bool {
	if !bytes.HasPrefix(line, []byte(name)) {
		return false
	}
	return len(line) == len(name) || validDelimiter(line[len(name)])
}

// scanSegments is a bufio.SplitFunc yielding segment lines without their
// terminator; an MLLP start or end byte comes out as a one-byte token.
func scanSegments(data []byte, atEOF bool) (int, []byte, error) {
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\r', '\n':
			// An empty line is an empty, non-nil token: a nil token
			// after EOF would end the scan.
			return i + 1, data[:i], nil
		case mllpStart, mllpEnd:
			if i == 0 {
				return 1, data[:1], nil
			}
			return i, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
