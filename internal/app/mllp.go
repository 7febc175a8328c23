package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"suifang/internal/hl7"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/mllpauth"
)

// MLLPConfig bounds and secures the HL7 v2 MLLP listener (Config.MLLPAddr).
type MLLPConfig struct {
	MaxConns    int           // connections served at once; more are closed
	MaxMessage  int           // largest frame held, in bytes
	IdleTimeout time.Duration // how long a frame may take to arrive
	// TLSCert and TLSKey (PEM files) make the listener TLS; TLSClientCA
	// (PEM bundle) then requires a client certificate signed by it.
	TLSCert, TLSKey, TLSClientCA string
	// Ignore are the trigger events acknowledged AA and not stored.
	Ignore hl7.EventSet
}

// DefaultMLLPConfig returns the documented listener defaults.
func DefaultMLLPConfig() MLLPConfig {
	ignore, err := hl7.ParseEventSet(hl7.DefaultIgnoredEvents)
	if err != nil {
		panic(err) // a constant; its test parses it
	}
	return MLLPConfig{MaxConns: hl7.DefaultMaxConns, MaxMessage: hl7.DefaultMaxMessage,
		IdleTimeout: hl7.DefaultIdleTimeout, Ignore: ignore}
}

// MLLPListenAddr is where an --mllp-addr value listens: an address without
// a host (":2575", "2575") means loopback, so exposing the port to the
// hospital network takes a deliberate 0.0.0.0:2575 or the server's own
// address.
func MLLPListenAddr(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr != "" && strings.Trim(addr, "0123456789") == "" {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("app: --mllp-addr %q: want host:port, e.g. 127.0.0.1:2575 or 0.0.0.0:2575", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// tlsConfig builds the listener's TLS from the configured files, nil
// without TLS.
func (c MLLPConfig) tlsConfig() (*tls.Config, error) {
	if c.TLSCert == "" && c.TLSKey == "" {
		if c.TLSClientCA != "" {
			return nil, errors.New("app: --mllp-tls-client-ca needs --mllp-tls-cert and --mllp-tls-key")
		}
		return nil, nil
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		return nil, errors.New("app: give both --mllp-tls-cert and --mllp-tls-key")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("app: mllp tls certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.TLSClientCA != "" {
		pem, err := os.ReadFile(c.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("app: mllp client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("app: mllp client CA %s: no PEM certificate in it", c.TLSClientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ListenMLLP opens the configured MLLP port (nothing when MLLPAddr is
// empty or it is open already), so serve can fail before it says it runs;
// Serve calls it too.
func (a *App) ListenMLLP(ctx context.Context) error {
	if a.Cfg.MLLPAddr == "" || a.mllpLn != nil {
		return nil
	}
	ln, tcfg, err := a.listenMLLP(ctx)
	if err != nil {
		return err
	}
	a.mllpLn, a.mllpTLS = ln, tcfg
	return nil
}

// listenMLLP opens the MLLP port, refusing to expose it with an empty
// allow-list: that would take ADT messages (a patient's phone, a
// cancelled follow-up) from anyone who reaches the port.
func (a *App) listenMLLP(ctx context.Context) (net.Listener, *tls.Config, error) {
	addr, err := MLLPListenAddr(a.Cfg.MLLPAddr)
	if err != nil {
		return nil, nil, err
	}
	tcfg, err := a.Cfg.MLLP.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("app: mllp listen %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		empty, err := a.Senders.Empty(ctx)
		if err != nil {
			ln.Close()
			return nil, nil, err
		}
		if empty {
			ln.Close()
			return nil, nil, fmt.Errorf("app: mllp on %s: no HL7 sender is allowed yet, so anyone who reaches the port could change patients; "+
				"allow the interface engine first (suifang mllp allow --institution CODE --cidr ADDRESS/BITS --app MSH-3 --facility MSH-4) "+
				"or listen on 127.0.0.1", ln.Addr())
		}
	}
	return ln, tcfg, nil
}

// serveMLLP runs the HL7 v2 listener on ln until ctx ends, flushing the
// counts of refused senders to the audit log every minute.
func (a *App) serveMLLP(ctx context.Context, ln net.Listener, tcfg *tls.Config) error {
	a.Log.Info("hl7 mllp listening", "addr", ln.Addr().String(), "tls", tcfg != nil,
		"client_certificates", tcfg != nil && tcfg.ClientAuth == tls.RequireAndVerifyClientCert)
	c := a.Cfg.MLLP
	l := &hl7.Listener{Handler: a.mllpHandler, Log: a.Log, Now: a.Cfg.Now, TLS: tcfg,
		MaxConns: c.MaxConns, MaxMessage: c.MaxMessage, IdleTimeout: c.IdleTimeout}
	a.every(ctx, time.Minute, func() {
		if err := a.Senders.FlushRefusals(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("mllp: audit refusal counts", "err", err)
		}
	})
	return l.Serve(ctx, ln)
}

// mllpHandler answers one HL7 message received over MLLP:
//
//   - a sender not on the allow-list: AR, 103 (table value not found) at
//     MSH-3 or MSH-4, ERR-5 SF_SENDER; audited (rate-limited);
//   - a version other than 2.x: AR 203; not ADT: AR 200;
//   - an event Suifang ignores on purpose: AA, nothing stored;
//   - an ADT event it does not read: AR 201;
//   - a message intake refuses: AE with 100/101/102/103 and the field;
//   - stored: AA. A failure of Suifang itself: AE 207.
//
// Storing goes through importer.ImportStream like every other source.
func (a *App) mllpHandler(ctx context.Context, req *hl7.Request) hl7.Response {
	m := req.Msg
	get := func(path string) string { return hl7Text(m.Get(path)) }
	typ, trig := strings.ToUpper(get("MSH-9.1")), strings.ToUpper(get("MSH-9.2"))
	if trig == "" {
		trig = strings.ToUpper(get("EVN-1"))
	}
	fac := get("MSH-4.1")
	if fac == "" {
		fac = get("PV1-3.4.1") // where intake routes a message without MSH-4
	}
	remote := remoteAddr(req.Remote)
	at := mllpauth.Attempt{Remote: remote, App: get("MSH-3.1"), Facility: fac, Event: typ + "^" + trig, Control: m.ControlID()}
	count := func(outcome string) { a.metrics.mllp.WithLabelValues(outcome).Inc() }
	internal := func(err error) hl7.Response {
		a.Log.Error("mllp: message not stored", "remote", remote.String(), "control", m.ControlID(), "err", err)
		count("error")
		return hl7.Response{Code: hl7.AE, Err: &hl7.AckError{Code: hl7.ErrInternal, Text: "internal error while storing the message; send it again later"}}
	}

	d, err := a.Senders.Authorize(ctx, at)
	if err != nil {
		return internal(err)
	}
	if !d.Allowed {
		if _, err := a.Senders.Refused(ctx, at, d.Refused); err != nil {
			a.Log.Error("mllp: audit refusal", "err", err)
		}
		a.Log.Warn("mllp: sender refused", "remote", remote.String(), "reason", d.Refused, "app", at.App, "facility", at.Facility)
		count("sender_refused")
		loc := "MSH-4"
		if d.Refused == mllpauth.RefusedApp {
			loc = "MSH-3"
		} else if d.Refused == mllpauth.RefusedAddress {
			loc = ""
		}
		return hl7.Response{Code: hl7.AR, Err: &hl7.AckError{Code: hl7.ErrTableValue, Location: loc, AppCode: "SF_SENDER",
			Text: "sender not allowed: ask the hospital's Suifang administrator to allow this address, MSH-3 and MSH-4 (" + d.Refused + ")"}}
	}

	reject := func(code int, loc, text string) hl7.Response {
		count("rejected")
		return hl7.Response{Code: hl7.AR, Err: &hl7.AckError{Code: code, Location: loc, Text: text}}
	}
	switch v := get("MSH-12.1"); {
	case v != "" && !strings.HasPrefix(v, "2."):
		return reject(hl7.ErrVersionID, "MSH-12", fmt.Sprintf("HL7 version %q is not supported (2.x only)", clipText(v, 20)))
	case typ == "":
		count("error")
		return hl7.Response{Code: hl7.AE, Err: &hl7.AckError{Code: hl7.ErrRequiredMissing, Location: "MSH-9", Text: "message type missing"}}
	case typ != "ADT":
		return reject(hl7.ErrMessageType, "MSH-9", fmt.Sprintf("message type %q is not supported (ADT only)", clipText(typ, 20)))
	case trig == "":
		count("error")
		return hl7.Response{Code: hl7.AE, Err: &hl7.AckError{Code: hl7.ErrRequiredMissing, Location: "MSH-9.2", Text: "trigger event missing (MSH-9.2 and EVN-1 empty)"}}
	case a.Cfg.MLLP.Ignore.Has(trig):
		a.Log.Debug("mllp: event not used", "event", trig, "control", m.ControlID())
		count("ignored")
		return hl7.Response{Code: hl7.AA}
	}

	opt := importer.Options{Filename: "mllp", Format: importer.HL7, KeepRejects: 1, Institution: d.InstitutionCode}
	rep, err := a.Importer.ImportStream(ctx, d.Principal(remote.String()), opt,
		func(sink intake.Sink) error { return intake.ParseHL7(bytes.NewReader(req.Raw), "mllp", sink) })
	if err != nil {
		return internal(err)
	}
	if rep.Rejected == 0 || len(rep.Rejects) == 0 {
		count("stored")
		return hl7.Response{Code: hl7.AA}
	}
	rj := rep.Rejects[0]
	if rj.Field == "MSH-9" {
		// Type and trigger are present and the type is ADT (checked above):
		// intake does not read this event.
		return reject(hl7.ErrEventCode, "MSH-9", fmt.Sprintf("trigger event %q is not supported", clipText(trig, 20)))
	}
	count("error")
	code, loc := rejectCode(m, rj.Field, trig)
	text := rj.Reason
	if rj.Field != "" {
		text = rj.Field + ": " + rj.Reason
	}
	return hl7.Response{Code: hl7.AE, Err: &hl7.AckError{Code: code, Location: loc, Text: text}}
}

// codedFields hold values from an HL7 or local table: a value there that
// intake cannot use is "table value not found", not a data type error.
var codedFields = map[string]bool{
	"PID-8": true, "PV1-2": true, "PV1-4": true, "PV1-10": true, "PV1-14": true, "PV1-36": true, "PID-30": true, "MSH-4": true,
}

// serviceFields are where the patient service's field names come from in
// an ADT message.
var serviceFields = map[string]string{
	"mrn": "PID-3", "national_id": "PID-3", "name": "PID-5", "birth_date": "PID-7", "sex": "PID-8", "phone": "PID-13",
	"visit_number": "PV1-19", "discharged_at": "PV1-45", "admitted_at": "PV1-44", "outcome": "PV1-36", "procedures": "PR1-3",
	"facility": "MSH-4", "institution": "MSH-4",
}

// rejectCode maps the field an intake or import reject names to a table
// 0357 code and an ERR location. Intake names HL7 fields ("PID-7") or
// segments ("PID"); the import and patient services name their own fields
// ("national_id"), mapped to where ADT carries them. A missing segment is
// 100; an empty field 101; an unusable value of a coded field 103 (the
// institution in MSH-4 included); any other value 102. A cancellation
// (A11/A13) of a visit Suifang never received is 204, unknown key.
func rejectCode(m *hl7.Message, field, trigger string) (int, string) {
	if loc, ok := serviceFields[field]; ok {
		if field == "visit_number" && (trigger == "A11" || trigger == "A13") && hl7Text(m.Get(loc)) != "" {
			return 204, loc
		}
		field = loc
	}
	seg, rest, hasField := strings.Cut(field, "-")
	if !validSegment(seg) {
		return hl7.ErrDataType, ""
	}
	if !hasField {
		return hl7.ErrSegmentSequence, seg
	}
	base, _, _ := strings.Cut(rest, ".")
	if codedFields[seg+"-"+base] && (seg != "MSH" || hl7Text(m.Get(field)) != "") {
		return hl7.ErrTableValue, field
	}
	if hl7Text(m.Get(field)) == "" {
		return hl7.ErrRequiredMissing, field
	}
	return hl7.ErrDataType, field
}

// validSegment reports whether s looks like a segment name (PID, PV1, ZPV).
func validSegment(s string) bool {
	if len(s) != 3 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 3; i++ {
		if !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// hl7Text trims a value and treats the HL7 explicit null `""` as empty,
// as intake does.
func hl7Text(s string) string {
	s = strings.TrimSpace(s)
	if s == `""` {
		return ""
	}
	return s
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// remoteAddr is the peer's IP; an unknown one is the unspecified address,
// which no allow-list entry covers.
func remoteAddr(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return ip.Unmap()
		}
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap()
		}
	}
	return netip.IPv4Unspecified()
}
