package pii

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refCheckChar computes the ISO 7064 MOD 11-2 check character without the
// package's weight table: the weight of the digit n places from the right
// (check char at n=1) is 2^(n-1) mod 11, and the check value is
// (12 - sum mod 11) mod 11, 10 written X.
func refCheckChar(d17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for range 17 - i { // 2^(18-(i+1)) mod 11
			w = w * 2 % 11
		}
		sum += int(d17[i]-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return 'X'
	}
	return byte('0' + v)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestRefCheckChar(t *testing.T) {
	// The published GB 11643-1999 example.
	if got := refCheckChar("11010519491231002"); got != 'X' {
		t.Fatalf("reference checksum of the public example = %c, want X", got)
	}
}

func TestValidateNationalID(t *testing.T) {
	type known struct {
		id   string
		info IDInfo
	}
	ok := []known{
		{"11010519491231002X", IDInfo{"110105", date(1949, 12, 31), false}},
		{"11010519491231002x", IDInfo{"110105", date(1949, 12, 31), false}},
		{"110105491231002", IDInfo{"110105", date(1949, 12, 31), false}}, // legacy 15 digits
		{"320311770706001", IDInfo{"320311", date(1977, 7, 6), true}},
	}
	// More known answers, check chars from the independent reference.
	for _, c := range []known{
		{"44030420000229128", IDInfo{"440304", date(2000, 2, 29), false}},
		{"31011519000101001", IDInfo{"310115", date(1900, 1, 1), true}},
		{"51010721001231997", IDInfo{"510107", date(2100, 12, 31), true}},
		{"65010219850615303", IDInfo{"650102", date(1985, 6, 15), true}},
	} {
		ok = append(ok, known{c.id + string(refCheckChar(c.id)), c.info})
	}
	for _, c := range ok {
		got, err := ValidateNationalID(c.id)
		if err != nil {
			t.Errorf("ValidateNationalID(%s): %v", c.id, err)
			continue
		}
		if got != c.info {
			t.Errorf("ValidateNationalID(%s) = %+v, want %+v", c.id, got, c.info)
		}
		if got.Birth.Location() != time.UTC || got.Birth.Hour() != 0 {
			t.Errorf("ValidateNationalID(%s) birth %v is not UTC midnight", c.id, got.Birth)
		}
	}

	bad := []struct{ id, want string }{
		{"", "wrong length"},
		{"11010519491231002", "wrong length"},
		{"11010519491231002XX", "wrong length"},
		{"1101051949123100", "wrong length"},
		{"11010519491231003X", "checksum mismatch: expected 8"},
		{"21010519491231002X", "checksum mismatch: expected 3"}, // first digit flipped
		{"110105194912310020", "checksum mismatch: expected X"},
		{"1101051949123100X2", "invalid character at position 17"},
		{"A1010519491231002X", "invalid character at position 1"},
		{"11010519491231002Y", "invalid character at position 18"},
		{"110105 9491231002X", "invalid character at position 7"},
		{"11010519490230002X", "invalid birth date"}, // 1949-02-30
		{"11010519491331002X", "invalid birth date"},
		{"11010519490000002X", "invalid birth date"},
		{"11010518991231002X", "invalid birth date"},
		{"11010521010101002X", "invalid birth date"},
		{"11010519010229002X", "invalid birth date"}, // 1901 not a leap year
		{"110105490230002", "invalid birth date"},
		{"11010549123100A", "invalid character at position 15"},
		{"１１０１０５19491231002X", "wrong length"},
		{"11010519491231002\u00d7", "wrong length"},
	}
	for _, c := range bad {
		_, err := ValidateNationalID(c.id)
		if err == nil {
			t.Errorf("ValidateNationalID(%q) accepted", c.id)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateNationalID(%q) = %q, want it to contain %q", c.id, err, c.want)
		}
		if !errors.Is(err, ErrInvalidNationalID) {
			t.Errorf("ValidateNationalID(%q) error does not match ErrInvalidNationalID", c.id)
		}
		if len(c.id) >= 6 && strings.Contains(err.Error(), c.id) {
			t.Errorf("error %q repeats the ID number", err)
		}
	}
}

// Every single-digit change of a valid ID is caught by the checksum (or
// makes the birth date invalid).
func TestValidateNationalIDSingleDigitErrors(t *testing.T) {
	const id = "11010519491231002X"
	for i := 0; i < 17; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == id[i] {
				continue
			}
			m := id[:i] + string(d) + id[i+1:]
			if _, err := ValidateNationalID(m); err == nil {
				t.Errorf("%s (position %d changed) accepted", m, i+1)
			}
		}
	}
}

func TestGenerateNationalIDAlwaysValidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start, end := date(1900, 1, 1), date(2100, 12, 31)
	days := int(end.Sub(start).Hours()/24) + 1
	for i := 0; i < 20000; i++ {
		region := ""
		for range 6 {
			region += strconv.Itoa(rng.IntN(10))
		}
		birth := start.AddDate(0, 0, rng.IntN(days))
		seq, male := rng.IntN(100), rng.IntN(2) == 1
		id := GenerateNationalID(region, birth, seq, male)
		info, err := ValidateNationalID(id)
		if err != nil {
			t.Fatalf("GenerateNationalID(%s, %v, %d, %v) = %s: %v", region, birth, seq, male, id, err)
		}
		if info != (IDInfo{region, birth, male}) {
			t.Fatalf("GenerateNationalID(%s, %v, %d, %v) = %s decodes to %+v", region, birth, seq, male, id, info)
		}
		if want := refCheckChar(id[:17]); id[17] != want {
			t.Fatalf("%s: check char %c, reference says %c", id, id[17], want)
		}
		if id[14:16] != strconv.Itoa(100 + seq)[1:] {
			t.Fatalf("%s: sequence does not start with seq %02d", id, seq)
		}
	}
}

func TestGenerateNationalIDUsesCalendarDateOfBirthLocation(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	birth := time.Date(1990, 5, 1, 0, 30, 0, 0, shanghai) // 1990-04-30 in UTC
	id := GenerateNationalID("110105", birth, 7, true)
	if id[6:14] != "19900501" {
		t.Fatalf("GenerateNationalID birth digits = %s, want 19900501", id[6:14])
	}
}

func TestGenerateNationalIDPanicsOnBadArguments(t *testing.T) {
	for name, f := range map[string]func(){
		"region":   func() { GenerateNationalID("11010", date(1990, 1, 1), 1, true) },
		"region x": func() { GenerateNationalID("11010x", date(1990, 1, 1), 1, true) },
		"year":     func() { GenerateNationalID("110105", date(1899, 12, 31), 1, true) },
		"seq":      func() { GenerateNationalID("110105", date(1990, 1, 1), 100, true) },
		"neg seq":  func() { GenerateNationalID("110105", date(1990, 1, 1), -1, true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func FuzzValidateNationalID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "110105491231002",
		"11010519490230002X", "", "x", "１１０１０５19491231002X", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ValidateNationalID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidNationalID) {
				t.Fatalf("error %v does not match ErrInvalidNationalID", err)
			}
			if len(s) >= 6 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q repeats the input", err)
			}
			return
		}
		if len(s) != 18 && len(s) != 15 {
			t.Fatalf("accepted length %d", len(s))
		}
		if info.Region != s[:6] || info.Birth.Year() < 1900 || info.Birth.Year() > 2100 {
			t.Fatalf("bad info %+v for %q", info, s)
		}
		if len(s) == 18 {
			if refCheckChar(s[:17]) != upperX(s[17]) {
				t.Fatalf("accepted %q with a wrong check char", s)
			}
			// Regenerating from the decoded info gives the same date and sex.
			g := GenerateNationalID(info.Region, info.Birth, 0, info.Male)
			if g[6:14] != s[6:14] {
				t.Fatalf("birth round trip: %s vs %s", g, s)
			}
		}
	})
}
