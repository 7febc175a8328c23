package app

import (
	"net"
	"testing"

	"suifang/internal/hl7"
)

func TestMLLPListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		":2575": "127.0.0.1:2575", "2575": "127.0.0.1:2575", "0.0.0.0:2575": "0.0.0.0:2575",
		"10.1.1.5:2575": "10.1.1.5:2575", "[::]:2575": "[::]:2575", " :2575 ": "127.0.0.1:2575",
	} {
		if got, err := MLLPListenAddr(in); err != nil || got != want {
			t.Errorf("MLLPListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"hospital", "10.1.1.5", ""} {
		if got, err := MLLPListenAddr(in); err == nil {
			t.Errorf("MLLPListenAddr(%q) = %q", in, got)
		}
	}
}

// Intake and import rejects name a field; the ACK carries the matching
// table-0357 code and location.
func TestRejectCode(t *testing.T) {
	m, err := hl7.ParseMessage([]byte("MSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^A13|C1|P|2.5\r" +
		"PID|1||0088123^^^H01^MR||刘^桂兰||1958-3-12|X\rPV1|1|Q|0302^15床^^H01||||||||||||||||ZY1\r"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field, trigger string
		code           int
		loc            string
	}{
		{"PID-7", "A03", hl7.ErrDataType, "PID-7"},
		{"PV1-45", "A03", hl7.ErrRequiredMissing, "PV1-45"},
		{"PV1-19", "A03", hl7.ErrDataType, "PV1-19"},
		{"PV1-2", "A03", hl7.ErrTableValue, "PV1-2"},
		{"PID", "A03", hl7.ErrSegmentSequence, "PID"},
		{"sex", "A03", hl7.ErrTableValue, "PID-8"},
		{"national_id", "A03", hl7.ErrDataType, "PID-3"},
		{"name", "A03", hl7.ErrDataType, "PID-5"},
		{"phone", "A03", hl7.ErrRequiredMissing, "PID-13"},
		{"facility", "A03", hl7.ErrTableValue, "MSH-4"},
		{"visit_number", "A13", 204, "PV1-19"},
		{"visit_number", "A03", hl7.ErrDataType, "PV1-19"},
		{"出院日期", "A03", hl7.ErrDataType, ""},
		{"", "A03", hl7.ErrDataType, ""},
	} {
		code, loc := rejectCode(m, c.field, c.trigger)
		if code != c.code || loc != c.loc {
			t.Errorf("rejectCode(%q, %s) = %d %q, want %d %q", c.field, c.trigger, code, loc, c.code, c.loc)
		}
	}
}

func FuzzMLLPListenAddr(f *testing.F) {
	for _, s := range []string{":2575", "2575", "0.0.0.0:2575", "[::1]:2575", "host:port", "", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := MLLPListenAddr(in)
		if err != nil {
			return
		}
		host, _, err := net.SplitHostPort(out)
		if err != nil || host == "" {
			t.Fatalf("MLLPListenAddr(%q) = %q: host %q, %v", in, out, host, err)
		}
		// Listening where it says is idempotent.
		if again, err := MLLPListenAddr(out); err != nil || again != out {
			t.Fatalf("MLLPListenAddr(%q) = %q, then %q, %v", in, out, again, err)
		}
	})
}
