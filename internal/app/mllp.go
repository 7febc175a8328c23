package app

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"suifang/internal/access"
	"suifang/internal/hl7"
	"suifang/internal/importer"
	"suifang/internal/intake"
)

// mllpHandler stores one HL7 message received over MLLP through the same
// import path as files, and answers AA when it was stored, AE with the
// reason when it was refused (the interface engine shows it and may resend).
func (a *App) mllpHandler(ctx context.Context, raw []byte) (string, string) {
	p := access.System()
	p.Username, p.IP = "mllp", "mllp"
	rep, err := a.Importer.ImportStream(ctx, p, importer.Options{Filename: "mllp", Format: importer.HL7, KeepRejects: 1},
		func(sink intake.Sink) error { return intake.ParseHL7(bytes.NewReader(raw), "mllp", sink) })
	switch {
	case err != nil:
		a.Log.Error("mllp import failed", "err", err)
		return "AE", "internal error while storing the message"
	case rep.Rejected > 0 && len(rep.Rejects) > 0:
		return "AE", rep.Rejects[0].Field + ": " + rep.Rejects[0].Reason
	}
	return "AA", ""
}

// serveMLLP runs the HL7 v2 listener until ctx ends.
func (a *App) serveMLLP(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Cfg.MLLPAddr)
	if err != nil {
		return fmt.Errorf("app: mllp listen %s: %w", a.Cfg.MLLPAddr, err)
	}
	a.Log.Info("hl7 mllp listening", "addr", ln.Addr().String())
	l := &hl7.Listener{Handler: a.mllpHandler, Log: a.Log, Now: a.Cfg.Now}
	return l.Serve(ctx, ln)
}
