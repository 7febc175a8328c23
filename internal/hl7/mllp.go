package hl7

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// mllpCR ends an MLLP frame after mllpEnd (framing bytes in batch.go).
const mllpCR = 0x0d

// Listener defaults. A real ADT message is a few KiB; a discharge with
// many DG1/PR1 segments stays far under 1 MiB.
const (
	DefaultMaxMessage  = 1 << 20
	DefaultIdleTimeout = 60 * time.Second
	DefaultMaxConns    = 32
)

// Request is one received message and where it came from.
type Request struct {
	Msg    *Message // parsed; never nil
	Raw    []byte   // the message as received (its own character set)
	Remote net.Addr
	// TLS is the connection's state when it arrived over TLS (its
	// PeerCertificates verified when client certificates are required).
	TLS *tls.ConnectionState
}

// Response is the acknowledgement a handler gives: MSA-1 (AA, AE, AR) and,
// unless AA, the ERR content.
type Response struct {
	Code string
	Err  *AckError
}

// Handler processes one received message.
type Handler func(ctx context.Context, req *Request) Response

// Listener is an MLLP server: the HIS interface engine connects, sends
// framed messages, and waits for each message's ACK before the next.
//
// It bounds what a connection can cost: at most MaxConns at once (more are
// closed at once), at most MaxMessage bytes held per frame (a bigger frame
// is answered AR 104 and the connection closed, without reading the rest),
// and IdleTimeout for a whole frame to arrive (a sender that trickles bytes
// or goes silent is cut off).
type Listener struct {
	Handler Handler
	Log     *slog.Logger
	Now     func() time.Time
	// IdleTimeout is how long a frame (or the TLS handshake) may take to
	// arrive, counted from the previous ACK; default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxMessage is the largest frame held; default DefaultMaxMessage.
	MaxMessage int
	// MaxConns is how many connections are served at once; default
	// DefaultMaxConns.
	MaxConns int
	// TLS, when set, makes every connection TLS. Require client
	// certificates through its ClientAuth and ClientCAs.
	TLS *tls.Config

	refused int64 // connections refused over the cap (under mu)
	mu      sync.Mutex
}

func (l *Listener) defaults() {
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = DefaultMaxMessage
	}
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
}

// Refused is how many connections were closed because MaxConns were open.
func (l *Listener) Refused() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused
}

// Serve accepts connections on ln until ctx ends, then closes ln and waits
// for the connections to finish their current message.
func (l *Listener) Serve(ctx context.Context, ln net.Listener) error {
	l.defaults()
	var wg sync.WaitGroup
	conns := map[net.Conn]struct{}{}
	slots := make(chan struct{}, l.MaxConns)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		l.mu.Lock()
		for c := range conns {
			c.SetReadDeadline(time.Now()) // wake idle readers
		}
		l.mu.Unlock()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case slots <- struct{}{}:
		default:
			// Over the cap: close before reading a byte, so a flood of
			// connections costs a socket each and nothing more.
			l.mu.Lock()
			l.refused++
			n := l.refused
			l.mu.Unlock()
			if n%100 == 1 { // the first of a burst, then every hundredth: a flood must not flood the log
				l.Log.Warn("mllp connection refused: too many connections", "remote", c.RemoteAddr().String(),
					"max", l.MaxConns, "refused_total", n)
			}
			c.Close()
			continue
		}
		if l.TLS != nil {
			c = tls.Server(c, l.TLS)
		}
		l.mu.Lock()
		conns[c] = struct{}{}
		l.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			l.serveConn(ctx, c)
			l.mu.Lock()
			delete(conns, c)
			l.mu.Unlock()
		}()
	}
}

func (l *Listener) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	remote := c.RemoteAddr()
	var state *tls.ConnectionState
	if tc, ok := c.(*tls.Conn); ok {
		c.SetDeadline(time.Now().Add(l.IdleTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			l.Log.Warn("mllp tls handshake failed", "remote", remote.String(), "err", err)
			return
		}
		st := tc.ConnectionState()
		state = &st
		c.SetDeadline(time.Time{})
	}
	r := bufio.NewReaderSize(c, 64<<10)
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(l.IdleTimeout))
		raw, tooBig, err := readFrame(r, l.MaxMessage)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				l.Log.Info("mllp connection ended", "remote", remote.String(), "err", err)
			}
			return
		}
		var msg *Message
		var resp Response
		if tooBig {
			// Answer from the header alone, then hang up: the rest of the
			// frame is never read.
			msg = headerOnly(raw)
			resp = Response{Code: AR, Err: &AckError{Code: ErrValueTooLong,
				Text: fmt.Sprintf("message larger than %d bytes", l.MaxMessage)}}
			l.Log.Warn("mllp frame over the size limit", "remote", remote.String(), "max", l.MaxMessage)
		} else if m, perr := ParseMessage(raw); perr != nil {
			resp = Response{Code: AR, Err: &AckError{Code: ErrSegmentSequence, Location: "MSH", Text: perr.Error()}}
		} else {
			msg = m
			resp = l.Handler(ctx, &Request{Msg: m, Raw: raw, Remote: remote, TLS: state})
		}
		ack := Acknowledge(msg, resp.Code, resp.Err, l.Now(), "")
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		frame := make([]byte, 0, len(ack)+3)
		frame = append(append(append(frame, mllpStart), ack...), mllpEnd, mllpCR)
		if _, err := c.Write(frame); err != nil {
			l.Log.Warn("mllp ack not sent", "remote", remote.String(), "err", err)
			return
		}
		if tooBig {
			return
		}
	}
}

// headerOnly parses the first segment of a truncated frame, so the ACK to
// an oversize message still names its sender and control id.
func headerOnly(raw []byte) *Message {
	if i := bytes.IndexAny(raw, "\r\n"); i >= 0 {
		raw = raw[:i]
	}
	m, err := ParseMessage(raw)
	if err != nil {
		return nil
	}
	return m
}

// readFrame reads one 0x0b … 0x1c 0x0d frame. Bytes before the start byte
// are skipped (some senders send a stray newline), at most max of them.
// The frame is held up to max bytes: a longer one returns its first max
// bytes with tooBig set and the rest unread, and the buffer never grows
// past max.
func readFrame(r *bufio.Reader, max int) (raw []byte, tooBig bool, err error) {
	for skipped := 0; ; skipped++ {
		b, err := r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if b == mllpStart {
			break
		}
		if skipped >= max {
			return nil, false, errors.New("hl7: mllp: no frame start")
		}
	}
	for {
		chunk, err := r.ReadSlice(mllpEnd)
		end := err == nil
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, false, err
		}
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		if len(raw)+len(chunk) > max {
			return appendCapped(raw, chunk[:max-len(raw)], max), true, nil
		}
		raw = appendCapped(raw, chunk, max)
		if end {
			if nb, err := r.Peek(1); err == nil && nb[0] == mllpCR {
				r.ReadByte()
			}
			if raw == nil {
				raw = []byte{}
			}
			return raw, false, nil
		}
	}
}

// appendCapped appends b to raw growing the buffer by doubling but never
// beyond max bytes of capacity (append's own growth would overshoot).
func appendCapped(raw, b []byte, max int) []byte {
	need := len(raw) + len(b)
	if need > cap(raw) {
		n := 2 * cap(raw)
		if n < 4096 {
			n = 4096
		}
		if n < need {
			n = need
		}
		if n > max {
			n = max
		}
		grown := make([]byte, len(raw), n)
		copy(grown, raw)
		raw = grown
	}
	return append(raw, b...)
}
