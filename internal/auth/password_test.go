package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"suifang/internal/auth"
	"suifang/internal/errs"
)

func TestPasswordRules(t *testing.T) {
	rules := auth.DefaultPasswordRules()
	cases := []struct {
		name, pw, user, code string
	}{
		{"ok three classes", "Abcdefg1", "zhang", ""},
		{"ok four classes", "Ab1!efgh", "zhang", ""},
		{"ok symbols and digits and upper", "ABC-1234", "zhang", ""},
		{"ok chinese counts as other class", "密码abc123", "zhang", ""},
		{"empty", "", "zhang", "password_too_short"},
		{"seven characters", "Abcde1!", "zhang", "password_too_short"},
		{"seven runes but many bytes", "密码密码Ab1", "zhang", "password_too_short"},
		{"too long", strings.Repeat("Ab1", 100), "zhang", "password_too_long"},
		{"one class", "abcdefghij", "zhang", "password_too_simple"},
		{"two classes", "abcdefgh12", "zhang", "password_too_simple"},
		{"upper and lower only", "ABCDefgh", "zhang", "password_too_simple"},
		{"contains username", "zhangAB12", "zhang", "password_contains_username"},
		{"contains username other case", "ZHANG-ab12", "zhang", "password_contains_username"},
		{"short username is not checked", "ab-Cdef12", "ab", ""},
		{"no username", "Abcdefg1", "", ""},
	}
	for _, tc := range cases {
		err := rules.Check(tc.pw, tc.user)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || e.Code != tc.code || e.Fields["password"] != tc.code {
			t.Errorf("%s: err = %#v; want invalid %s on field password", tc.name, err, tc.code)
		}
	}
	// Rules are configurable.
	strict := auth.PasswordRules{MinLength: 12, MinClasses: 4}
	if err := strict.Check("Abcdefg1", ""); errs.CodeOf(err) != "password_too_short" {
		t.Errorf("strict length: %v", err)
	}
	if err := strict.Check("Abcdefghijk1", ""); errs.CodeOf(err) != "password_too_simple" {
		t.Errorf("strict classes: %v", err)
	}
}

func TestHashAndCheckPassword(t *testing.T) {
	h, err := auth.HashPassword(goodPW, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, goodPW) {
		t.Fatalf("hash %q", h)
	}
	if !auth.CheckPassword(h, goodPW) {
		t.Fatal("right password does not match")
	}
	for _, wrong := range []string{"", "sui-fang2026", goodPW + " ", goodPW[:len(goodPW)-1]} {
		if auth.CheckPassword(h, wrong) {
			t.Errorf("wrong password %q matches", wrong)
		}
	}
	h2, _ := auth.HashPassword(goodPW, cheap)
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	// A hash carries its parameters, so changing the cost still verifies it.
	h3, _ := auth.HashPassword(goodPW, auth.HashParams{Memory: 2048, Time: 2, Threads: 2})
	if !auth.CheckPassword(h3, goodPW) || auth.CheckPassword(h3, "nope") {
		t.Error("hash with other parameters")
	}
}

func TestCheckPasswordMalformedNeverMatches(t *testing.T) {
	good, _ := auth.HashPassword("pw", cheap)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flipped := []byte(key)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	bad := map[string]string{
		"empty":            "",
		"plain text":       "pw",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz12345",
		"argon2i":          with(1, "argon2i"),
		"wrong version":    with(2, "v=16"),
		"no version":       with(2, "x"),
		"memory zero":      with(3, "m=0,t=1,p=1"),
		"time zero":        with(3, "m=1024,t=0,p=1"),
		"threads zero":     with(3, "m=1024,t=1,p=0"),
		"threads overflow": with(3, "m=1024,t=1,p=300"),
		"time too high":    with(3, "m=1024,t=21,p=1"),
		"memory too high":  with(3, "m=99999999,t=1,p=1"),
		"params garbage":   with(3, "m=a,t=b,p=c"),
		"salt not base64":  with(4, "!!!"),
		"key not base64":   with(5, "***"),
		"empty key":        with(5, ""),
		"flipped key":      with(5, string(flipped)),
		"truncated key":    with(5, key[:len(key)-4]),
		"other salt":       with(4, strings.Repeat("A", len(salt))),
		"missing part":     strings.Join(parts[:5], "$"),
		"extra part":       good + "$x",
	}
	if !auth.CheckPassword(good, "pw") {
		t.Fatal("control hash does not match")
	}
	for name, h := range bad {
		if auth.CheckPassword(h, "pw") {
			t.Errorf("%s: malformed hash %q matches", name, h)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	good, _ := auth.HashPassword("pw", cheap)
	for _, s := range []string{good, "", "$", "$$$$$", "$argon2id$v=19$m=8,t=1,p=1$$",
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=-1,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=8,t=1,p=255$c2FsdA$a2V5", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$"} {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, hash, pw string) {
		p := strings.Split(hash, "$")
		// Keep the work per input small: skip hashes asking argon2 for much
		// memory or many passes (CheckPassword bounds them far higher).
		if len(p) == 6 {
			var m, tm, th int64
			if _, err := fmt.Sscanf(p[3], "m=%d,t=%d,p=%d", &m, &tm, &th); err == nil && (m > 1<<14 || tm > 3) {
				t.Skip()
			}
		}
		if auth.CheckPassword(hash, pw) && (len(p) != 6 || p[1] != "argon2id") { // must not panic either
			t.Fatalf("malformed hash %q matched", hash)
		}
	})
}
