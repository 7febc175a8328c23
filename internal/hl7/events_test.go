package hl7

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIgnoredEvents(t *testing.T) {
	set, err := ParseEventSet(DefaultIgnoredEvents)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"A02", "A04", "A05", "A06", "A07", "A09", "A10", "A14", "A17", "A21", "A28", "A29", "A31", "A40", "A47", "A60", "a28"} {
		if !set.Has(ev) {
			t.Errorf("%s should be ignored", ev)
		}
	}
	for _, ev := range []string{"A01", "A03", "A08", "A11", "A12", "A13", "A18", "A30", "A48", "A61", "Z99", "A3", "A003", "", "A2 8"} {
		if set.Has(ev) {
			t.Errorf("%s should not be ignored", ev)
		}
	}
	if set.String() != DefaultIgnoredEvents {
		t.Errorf("String = %q", set.String())
	}
}

func TestParseEventSetErrors(t *testing.T) {
	for _, in := range []string{"A07-A04", "A04-B07", "A4-A07", "ADT", "A02,,X", "A0Z", "ABCD1", "A12345", strings.Repeat("A01,", 101)} {
		if _, err := ParseEventSet(in); err == nil {
			t.Errorf("ParseEventSet(%q) accepted", in)
		}
	}
	for _, in := range []string{"", " none ", "-"} {
		if s, err := ParseEventSet(in); err != nil || !s.Empty() {
			t.Errorf("ParseEventSet(%q) = %v, %v", in, s, err)
		}
	}
	s, err := ParseEventSet("a02; A04 - A07 z01")
	if err == nil {
		t.Errorf("spaces inside a range should not parse: %v", s)
	}
	s, err = ParseEventSet("a02; A04-A07 z01")
	if err != nil || !s.Has("A05") || !s.Has("Z01") || s.Has("A08") {
		t.Errorf("mixed separators: %v %v", s, err)
	}
}

func FuzzParseEventSet(f *testing.F) {
	for _, s := range []string{DefaultIgnoredEvents, "", "none", "A01-A99", "Z00-Z9999", "A07-A04", "a02;b3 c004-c010"} {
		f.Add(s, "A05")
	}
	f.Fuzz(func(t *testing.T, list, ev string) {
		set, err := ParseEventSet(list)
		if err != nil {
			return
		}
		// What it prints it reads back as the same set.
		again, err := ParseEventSet(set.String())
		if err != nil {
			t.Fatalf("String %q does not parse: %v", set.String(), err)
		}
		if again.Has(ev) != set.Has(ev) {
			t.Fatalf("%q and its String %q disagree on %q", list, set.String(), ev)
		}
	})
}

func TestAcknowledgeErrorCodes(t *testing.T) {
	now := time.Date(2026, 10, 10, 8, 0, 0, 0, time.UTC)
	m25 := mustParse(t, []byte("MSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^A03|C1|P|2.5\rPID|1||123^^^^MR||张^三||19580312\r"))
	a := mustParse(t, Acknowledge(m25, AE, &AckError{Code: ErrDataType, Location: "PID-7", Text: "出生日期不是日期"}, now, "K1"))
	for path, want := range map[string]string{
		"MSA-1": "AE", "MSA-2": "C1", "ERR-2": "PID", "ERR-2.2": "1", "ERR-2.3": "7", "ERR-3": "102",
		"ERR-3.2": "Data type error", "ERR-3.3": "HL70357", "ERR-4": "E", "ERR-8": "出生日期不是日期", "MSA-3": "",
	} {
		if got := a.Get(path); got != want {
			t.Errorf("2.5 %s = %q, want %q", path, got, want)
		}
	}
	a = mustParse(t, Acknowledge(m25, AR, &AckError{Code: ErrTableValue, Location: "MSH-4", Text: "sender not allowed", AppCode: "SF_SENDER"}, now, "K2"))
	if a.Get("ERR-3") != "103" || a.Get("ERR-2") != "MSH" || a.Get("ERR-2.3") != "4" || a.Get("ERR-5") != "SF_SENDER" {
		t.Errorf("sender reject: %q", a.String())
	}
	a = mustParse(t, Acknowledge(m25, AE, &AckError{Code: ErrRequiredMissing, Location: "PV1-3.4"}, now, "K3"))
	if a.Get("ERR-2.3") != "3" || a.Get("ERR-2.5") != "4" {
		t.Errorf("component location: %q", a.String())
	}
	// A column name or garbage is no location.
	a = mustParse(t, Acknowledge(m25, AE, &AckError{Code: ErrDataType, Location: "出院日期"}, now, "K4"))
	if a.Get("ERR-2") != "" || a.Get("ERR-3") != "102" {
		t.Errorf("non-HL7 location: %q", a.String())
	}
	m24 := mustParse(t, []byte("MSH|^~\\&|HIS|H01|SF|SF|20261010||ADT^Z99|C2|P|2.4\r"))
	a = mustParse(t, Acknowledge(m24, AR, &AckError{Code: ErrEventCode, Location: "MSH-9", Text: "unsupported event Z99"}, now, "K5"))
	for path, want := range map[string]string{
		"MSA-1": "AR", "MSA-3": "unsupported event Z99", "ERR-1": "MSH", "ERR-1.2": "1", "ERR-1.3": "9",
		"ERR-1.4": "201", "ERR-1.4.2": "unsupported event Z99", "ERR-1.4.3": "HL70357",
	} {
		if got := a.Get(path); got != want {
			t.Errorf("2.4 %s = %q, want %q", path, got, want)
		}
	}
	if a := mustParse(t, Acknowledge(m25, AA, nil, now, "K6")); a.Segment("ERR") != nil || a.Get("MSA-1") != "AA" {
		t.Errorf("AA: %q", a.String())
	}
}
