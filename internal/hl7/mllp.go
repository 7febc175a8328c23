package hl7

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// mllpCR ends an MLLP frame after mllpEnd (framing bytes in batch.go).
const mllpCR = 0x0d

// Handler processes one received message and answers with an
// acknowledgement code (AA accept, AE error, AR reject) and a text for AE/AR.
type Handler func(ctx context.Context, raw []byte) (code, text string)

// Listener is an MLLP server: the HIS interface engine connects, sends
// framed messages, and waits for each message's ACK before the next.
type Listener struct {
	Handler Handler
	Log     *slog.Logger
	Now     func() time.Time
	// IdleTimeout closes a connection that sends nothing for this long.
	IdleTimeout time.Duration
	// MaxMessage refuses bigger messages (the sender gets an AR).
	MaxMessage int
}

// Serve accepts connections on ln until ctx ends, then closes ln and waits
// for the connections to finish their current message.
func (l *Listener) Serve(ctx context.Context, ln net.Listener) error {
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 5 * time.Minute
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = 8 << 20
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.SetReadDeadline(time.Now()) // wake idle readers
		}
		mu.Unlock()
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
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.serveConn(ctx, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

func (l *Listener) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(l.IdleTimeout))
		raw, tooBig, err := readFrame(r, l.MaxMessage)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				l.Log.Debug("mllp connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		msg, perr := ParseMessage(raw)
		code, text := "AR", ""
		switch {
		case tooBig:
			text = "message too large"
		case perr != nil:
			text = perr.Error()
		default:
			code, text = l.Handler(ctx, raw)
		}
		if perr != nil {
			msg = nil
		}
		ack := ACK(msg, code, text, l.Now(), "")
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		frame := make([]byte, 0, len(ack)+3)
		frame = append(append(append(frame, mllpStart), ack...), mllpEnd, mllpCR)
		if _, err := c.Write(frame); err != nil {
			l.Log.Warn("mllp ack not sent", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
	}
}

// readFrame reads one 0x0b … 0x1c 0x0d frame. Bytes before the start byte
// are skipped (some senders send a stray newline). A frame over max is read
// to its end and reported too big, so the stream stays in step.
func readFrame(r *bufio.Reader, max int) (raw []byte, tooBig bool, err error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if b == mllpStart {
			break
		}
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if b == mllpEnd {
			nb, err := r.Peek(1)
			if err == nil && nb[0] == mllpCR {
				r.ReadByte()
			}
			return raw, tooBig, nil
		}
		if len(raw) >= max {
			tooBig, raw = true, raw[:0]
			continue
		}
		raw = append(raw, b)
	}
}
