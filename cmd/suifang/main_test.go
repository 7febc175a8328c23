package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the tamper test opens the file directly
)

type result struct {
	code           int
	stdout, stderr string
}

// suifang runs the CLI in-process with env as its whole environment.
func suifang(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin),
		getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), c, args)
	return result{code, out.String(), errb.String()}
}

// must runs the CLI and fails the test unless it exits 0.
func must(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	r := suifang(t, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("suifang %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func wantExit(t *testing.T, r result, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("suifang %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, code, r.stdout, r.stderr)
	}
}

func TestCalendarAddWorkdaysBuiltIn(t *testing.T) {
	// Expectations worked out by hand from seed/holidays.txt and a wall calendar.
	cases := []struct {
		from, n, want string
	}{
		{"2026-09-30", "3", "2026-10-10"}, // 10-01..07 off, 10-08 Thu, 10-09 Fri, 10-10 adjusted Saturday
		// 2025 元旦 (01-01 Wed off)
		{"2025-01-01", "1", "2025-01-02"},
		{"2025-01-01", "0", "2025-01-02"}, // n=0: next working day
		// 2025 春节: work 01-26 (Sun), off 01-28..02-04, work 02-08 (Sat)
		{"2025-01-24", "1", "2025-01-26"},
		{"2025-01-27", "1", "2025-02-05"},
		{"2025-02-07", "1", "2025-02-08"},
		{"2025-02-08", "1", "2025-02-10"},
		{"2025-02-05", "-1", "2025-01-27"},
		// 2025 清明: off 04-04 (Fri)..04-06
		{"2025-04-03", "1", "2025-04-07"},
		// 2025 劳动节: work 04-27 (Sun), off 05-01..05-05
		{"2025-04-25", "1", "2025-04-27"},
		{"2025-04-30", "+2", "2025-05-07"},
		// 2025 端午: off 05-31 (Sat)..06-02 (Mon)
		{"2025-05-30", "1", "2025-06-03"},
		// 2025 国庆、中秋: work 09-28 (Sun), off 10-01..10-08, work 10-11 (Sat)
		{"2025-09-26", "1", "2025-09-28"},
		{"2025-09-30", "1", "2025-10-09"},
		{"2025-10-10", "1", "2025-10-11"},
		{"2025-10-11", "1", "2025-10-13"},
		{"2025-09-30", "3", "2025-10-11"},
		// 2026 元旦: off 01-01..01-03, work 01-04 (Sun); crosses the year
		{"2025-12-31", "1", "2026-01-04"},
		{"2026-01-04", "1", "2026-01-05"},
		// 2026 春节: work 02-14 (Sat), off 02-15..02-23, work 02-28 (Sat)
		{"2026-02-13", "1", "2026-02-14"},
		{"2026-02-14", "1", "2026-02-24"},
		{"2026-02-13", "2", "2026-02-24"},
		{"2026-02-27", "1", "2026-02-28"},
		{"2026-02-24", "-1", "2026-02-14"},
		// 2026 清明: off 04-04 (Sat)..04-06 (Mon)
		{"2026-04-03", "1", "2026-04-07"},
		// 2026 劳动节: off 05-01..05-05, work 05-09 (Sat)
		{"2026-04-30", "1", "2026-05-06"},
		{"2026-04-30", "4", "2026-05-09"},
		{"2026-05-08", "1", "2026-05-09"},
		// 2026 端午: off 06-19 (Fri)..06-21
		{"2026-06-18", "1", "2026-06-22"},
		// 2026 中秋 + 国庆: work 09-20 (Sun), off 09-25..09-27, off 10-01..10-07, work 10-10 (Sat)
		{"2026-09-18", "1", "2026-09-20"},
		{"2026-09-24", "1", "2026-09-28"},
		{"2026-09-30", "1", "2026-10-08"},
		{"2026-10-01", "0", "2026-10-08"},
		{"2026-10-10", "1", "2026-10-12"},
		{"2026-10-08", "-1", "2026-09-30"},
		{"2026-10-12", "-2", "2026-10-09"},
	}
	for _, tc := range cases {
		args := []string{"calendar", "add-workdays", tc.from, tc.n}
		r := suifang(t, nil, "", args...)
		if r.code != 0 || r.stdout != tc.want+"\n" || r.stderr != "" {
			t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want %q", tc.from, tc.n, r.code, r.stdout, r.stderr, tc.want+"\n")
		}
	}
}

func TestCalendarArgumentForms(t *testing.T) {
	for _, args := range [][]string{
		{"calendar", "add-workdays", "2026-10-08", "-1"},
		{"calendar", "add-workdays", "--", "2026-10-08", "-1"},
		{"calendar", "add-workdays", "--log-level", "warn", "2026-10-08", "-1"},
		{"calendar", "add-workdays", "2026-10-08", "-1", "--log-level", "warn"},
		{"calendar", "add-workdays", "2026-09-29", "+1"},
	} {
		if r := suifang(t, nil, "", args...); r.code != 0 || r.stdout != "2026-09-30\n" {
			t.Errorf("%q: exit %d, %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// After "--" everything is an argument, so this is three arguments.
	wantExit(t, suifang(t, nil, "", "calendar", "add-workdays", "--", "2026-10-08", "-1", "--db"), exitUsage)
}

func TestCalendarIsWorkdayBuiltIn(t *testing.T) {
	for day, want := range map[string]string{
		"2026-02-14": "yes", // adjusted working Saturday
		"2026-02-16": "no",  // Monday in 春节
		"2026-10-01": "no",
		"2026-10-10": "yes",
		"2025-10-11": "yes",
		"2025-10-08": "no", // Wednesday, last day of the 2025 break
		"2026-03-02": "yes",
		"2026-03-07": "no", // plain Saturday
	} {
		r := suifang(t, nil, "", "calendar", "is-workday", day)
		if r.code != 0 || r.stdout != want+"\n" {
			t.Errorf("is-workday %s: exit %d, %q; want %q", day, r.code, r.stdout, want)
		}
	}
}

func TestCalendarUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"calendar", "add-workdays", "2026-02-30", "1"},
		{"calendar", "add-workdays", "2026/09/30", "1"},
		{"calendar", "add-workdays", "2026-09-30", "x"},
		{"calendar", "add-workdays", "2026-09-30", "3x"},
		{"calendar", "add-workdays", "2026-09-30"},
		{"calendar", "is-workday", "nope"},
		{"calendar", "is-workday"},
		{"calendar", "frobnicate"},
		{"calendar"},
	} {
		r := suifang(t, nil, "", args...)
		wantExit(t, r, exitUsage, args...)
		if r.stdout != "" && len(args) > 1 {
			t.Errorf("%q printed %q on stdout", args, r.stdout)
		}
	}
}

func TestCalendarMissingYearWarns(t *testing.T) {
	r := suifang(t, nil, "", "calendar", "add-workdays", "2027-01-01", "1")
	wantExit(t, r, 0)
	if r.stdout != "2027-01-04\n" { // 2027-01-01 is a Friday; Mon–Fri fallback
		t.Errorf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "no holiday data for 2027") {
		t.Errorf("stderr %q lacks the missing-data warning", r.stderr)
	}
	r = suifang(t, nil, "", "calendar", "is-workday", "2027-10-01")
	if r.code != 0 || r.stdout != "yes\n" || !strings.Contains(r.stderr, "2027") {
		t.Errorf("is-workday 2027: %+v", r)
	}
}

func TestUsage(t *testing.T) {
	r := suifang(t, nil, "")
	wantExit(t, r, exitUsage)
	if !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("no usage on stdout: %q", r.stdout)
	}
	r = suifang(t, nil, "", "frobnicate")
	wantExit(t, r, exitUsage, "frobnicate")
	if !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("stderr %q", r.stderr)
	}
	wantExit(t, suifang(t, nil, "", "--bogus"), exitUsage, "--bogus")
	wantExit(t, suifang(t, nil, "", "help"), 0, "help")

	r = suifang(t, nil, "", "serve", "--help")
	wantExit(t, r, 0, "serve", "--help")
	for _, f := range []string{"-addr", "-db", "-demo", "-shutdown-timeout", "-password-min-length", "-login-hash-concurrency", "-password-history"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("serve --help lacks %s:\n%s", f, r.stdout)
		}
	}
	r = suifang(t, nil, "", "serve", "--bogus")
	wantExit(t, r, exitUsage, "serve", "--bogus")
	if !strings.Contains(r.stderr, "bogus") {
		t.Errorf("stderr %q", r.stderr)
	}
	wantExit(t, suifang(t, nil, "", "serve", "extra-arg"), exitUsage)
	wantExit(t, suifang(t, nil, "", "serve", "--password-min-classes", "5"), exitUsage)
	// The account-wide ceiling cannot be below the per-address lock, and the
	// hashing budget must hold something.
	wantExit(t, suifang(t, nil, "", "serve", "--lockout-account-attempts", "3"), exitUsage)
	wantExit(t, suifang(t, nil, "", "serve", "--login-hash-memory", "0"), exitUsage)
	wantExit(t, suifang(t, nil, "", "serve", "--login-addr-burst", "0"), exitUsage)
	wantExit(t, suifang(t, nil, "", "serve", "--password-history", "-1"), exitUsage)
	wantExit(t, suifang(t, nil, "", "user"), exitUsage)
	wantExit(t, suifang(t, nil, "", "user", "frob"), exitUsage)
	wantExit(t, suifang(t, nil, "", "institution", "add", "--db", filepath.Join(t.TempDir(), "x.db"), "ONLYCODE"), exitUsage)
	// A bad value from the environment is a usage error too.
	wantExit(t, suifang(t, map[string]string{"SUIFANG_LOG_LEVEL": "loud"}, "", "migrate", "--db", filepath.Join(t.TempDir(), "x.db")), exitUsage)

	r = must(t, nil, "", "version")
	if r.stdout != "suifang "+version+"\n" {
		t.Errorf("version printed %q", r.stdout)
	}
}

type inst struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func listInstitutions(t *testing.T, env map[string]string, args ...string) []inst {
	t.Helper()
	r := must(t, env, "", append([]string{"institution", "list", "--json"}, args...)...)
	var out []inst
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("institution list --json: %v\n%s", err, r.stdout)
	}
	return out
}

func codes(is []inst) string {
	var cs []string
	for _, i := range is {
		cs = append(cs, i.Code)
	}
	return strings.Join(cs, ",")
}

func TestEnvFallback(t *testing.T) {
	t.Chdir(t.TempDir()) // a mistaken default ./suifang.db lands here, not in the source tree
	dir := t.TempDir()
	envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	env := map[string]string{"SUIFANG_DB": envDB}

	must(t, env, "", "institution", "add", "E1", "环境医院")
	if _, err := os.Stat(envDB); err != nil {
		t.Fatalf("SUIFANG_DB not used: %v", err)
	}
	if _, err := os.Stat(flagDB); err == nil {
		t.Fatal("flag database exists before any --db")
	}
	must(t, env, "", "institution", "add", "--db", flagDB, "F1", "参数医院")
	if _, err := os.Stat(flagDB); err != nil {
		t.Fatalf("--db not used: %v", err)
	}
	if got := codes(listInstitutions(t, env)); got != "E1" {
		t.Errorf("env database holds %q, want E1", got)
	}
	if got := codes(listInstitutions(t, env, "--db", flagDB)); got != "F1" {
		t.Errorf("flag database holds %q, want F1", got)
	}
	if got := codes(listInstitutions(t, nil, "--db", envDB)); got != "E1" {
		t.Errorf("env database via --db holds %q, want E1", got)
	}
	if _, err := os.Stat("suifang.db"); err == nil {
		t.Error("the default ./suifang.db was created")
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScriptedSetup(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	env := map[string]string{"SUIFANG_DB": db}

	r := must(t, env, "", "institution", "add", "H9", "测试医院")
	if !strings.Contains(r.stdout, "created institution H9 (测试医院)") {
		t.Errorf("stdout %q", r.stdout)
	}
	is := listInstitutions(t, env)
	if len(is) != 1 || is[0].Code != "H9" || is[0].Name != "测试医院" || is[0].Kind != "hospital" || is[0].ID == 0 {
		t.Fatalf("institutions %+v", is)
	}
	r = suifang(t, env, "", "institution", "add", "H9", "另一家")
	wantExit(t, r, exitFail, "institution add H9 (duplicate)")
	if !strings.Contains(r.stderr, "code_taken") {
		t.Errorf("duplicate code: stderr %q lacks code_taken", r.stderr)
	}
	r = must(t, env, "", "institution", "add", "--json", "--kind", "clinic", "C1", "门诊部")
	var created inst
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.Code != "C1" || created.Kind != "clinic" || created.ID == 0 {
		t.Errorf("add --json: %v %q", err, r.stdout)
	}

	// Users.
	r = must(t, env, "Str0ng#Passw0rd\n", "user", "add", "admin2", "--role", "sysadmin", "--institution", "H9", "--password-stdin")
	if !strings.Contains(r.stdout, "created user admin2") || !strings.Contains(r.stdout, "H9") {
		t.Errorf("user add: %q", r.stdout)
	}
	r = suifang(t, env, "abc\n", "user", "add", "weak", "--institution", "H9", "--password-stdin")
	wantExit(t, r, exitFail, "user add weak")
	if !strings.Contains(r.stderr, "password") {
		t.Errorf("weak password: stderr %q", r.stderr)
	}
	// Long and mixed, but the first thing an attacker tries.
	r = suifang(t, env, "Admin@123\n", "user", "add", "common", "--institution", "H9", "--password-stdin")
	wantExit(t, r, exitFail, "user add common")
	if !strings.Contains(r.stderr, "attacker") {
		t.Errorf("common password: stderr %q", r.stderr)
	}
	r = suifang(t, env, "", "user", "add", "nopw", "--institution", "H9", "--password-stdin")
	wantExit(t, r, exitUsage, "user add nopw (empty stdin)")
	// Two institutions exist now: without --institution the CLI must ask.
	wantExit(t, suifang(t, env, "Str0ng#Passw0rd\n", "user", "add", "who", "--password-stdin"), exitUsage)
	wantExit(t, suifang(t, env, "Str0ng#Passw0rd\n", "user", "add", "who", "--institution", "NOPE", "--password-stdin"), exitFail)

	r = must(t, env, "", "user", "list")
	if !regexp.MustCompile(`(?m)^\d+\s+admin2\s+admin2\s+sysadmin\s+true\s*$`).MatchString(r.stdout) {
		t.Errorf("user list:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "weak") {
		t.Errorf("the rejected user was created:\n%s", r.stdout)
	}
	r = must(t, env, "N3w#Passw0rd!\n", "user", "passwd", "admin2", "--password-stdin")
	if !strings.Contains(r.stdout, "password of admin2 reset") {
		t.Errorf("passwd: %q", r.stdout)
	}
	wantExit(t, suifang(t, env, "short\n", "user", "passwd", "admin2", "--password-stdin"), exitFail)
	r = must(t, env, "", "user", "unlock", "admin2")
	if r.stdout != "unlocked admin2\n" {
		t.Errorf("unlock: %q", r.stdout)
	}
	r = suifang(t, env, "", "user", "unlock", "ghost")
	wantExit(t, r, exitFail, "user unlock ghost")
	if !strings.Contains(r.stderr, "user_not_found") {
		t.Errorf("unlock ghost: %q", r.stderr)
	}

	// Calendar import for 2027, into H9 only.
	r = must(t, env, "", "calendar", "is-workday", "--institution", "H9", "2027-01-01")
	if r.stdout != "yes\n" || !strings.Contains(r.stderr, "no holiday data for 2027") {
		t.Errorf("before import: %+v", r)
	}
	good := writeFile(t, "2027.json", `{"year":2027,"papers":["https://example.org/2027"],"days":[
		{"name":"元旦","date":"2027-01-01","isOffDay":true},
		{"name":"测试调休","date":"2027-01-02","isOffDay":false}]}`)
	r = must(t, env, "", "calendar", "import", "--institution", "H9", good)
	if !strings.Contains(r.stdout, "imported 2027: 2 exception day(s) into 1 institution(s)") {
		t.Errorf("import: %q", r.stdout)
	}
	for day, want := range map[string]string{"2027-01-01": "no", "2027-01-02": "yes", "2027-01-04": "yes", "2026-10-01": "no"} {
		r = must(t, env, "", "calendar", "is-workday", "--institution", "H9", day)
		if r.stdout != want+"\n" || strings.Contains(r.stderr, "warning") {
			t.Errorf("H9 is-workday %s after import: %+v, want %s", day, r, want)
		}
	}
	// Flags may follow the arguments, as `user add` above did.
	if r = must(t, env, "", "calendar", "is-workday", "2027-01-01", "--institution", "H9"); r.stdout != "no\n" {
		t.Errorf("is-workday with a trailing --institution: %q", r.stdout)
	}
	r = must(t, env, "", "calendar", "add-workdays", "--institution", "H9", "2026-12-31", "1")
	if r.stdout != "2027-01-02\n" {
		t.Errorf("H9 add-workdays 2026-12-31 1 = %q, want 2027-01-02", r.stdout)
	}
	// C1 did not get it; the built-in calendar neither.
	if r = must(t, env, "", "calendar", "is-workday", "--institution", "C1", "2027-01-01"); r.stdout != "yes\n" {
		t.Errorf("C1 2027-01-01: %q", r.stdout)
	}
	if r = must(t, env, "", "calendar", "is-workday", "2027-01-01"); r.stdout != "yes\n" {
		t.Errorf("built-in 2027-01-01: %q", r.stdout)
	}
	r = must(t, env, "", "calendar", "export", "--institution", "H9", "2027")
	if !strings.Contains(r.stdout, `"2027-01-01"`) || !strings.Contains(r.stdout, `"2027-01-02"`) {
		t.Errorf("export 2027:\n%s", r.stdout)
	}
	wantExit(t, suifang(t, env, "", "calendar", "is-workday", "--institution", "NOPE", "2026-01-01"), exitFail)

	// Malformed files: nothing imported, the message names the problem.
	bad := writeFile(t, "bad.json", `{"year":2027,"days":[{"name":"元旦","date":"2027-01-01"}]}`)
	r = suifang(t, env, "", "calendar", "import", bad)
	wantExit(t, r, exitFail, "calendar import bad.json")
	if !strings.Contains(r.stderr, "bad.json") || !strings.Contains(r.stderr, "isOffDay") {
		t.Errorf("bad.json: stderr %q", r.stderr)
	}
	broken := writeFile(t, "broken.json", `{"year": 2027, "days": [`)
	r = suifang(t, env, "", "calendar", "import", broken)
	wantExit(t, r, exitFail, "calendar import broken.json")
	if !strings.Contains(r.stderr, "broken.json") || !strings.Contains(r.stderr, "JSON") {
		t.Errorf("broken.json: stderr %q", r.stderr)
	}
	wantExit(t, suifang(t, env, "", "calendar", "import", filepath.Join(t.TempDir(), "missing.json")), exitFail)
	wantExit(t, suifang(t, env, "", "calendar", "import"), exitUsage)
	if r = must(t, env, "", "calendar", "is-workday", "--institution", "H9", "2027-01-01"); r.stdout != "no\n" {
		t.Errorf("a failed import changed H9: %q", r.stdout)
	}

	r = must(t, env, "", "verify")
	if !strings.HasPrefix(r.stdout, "audit chain OK") {
		t.Errorf("verify: %q", r.stdout)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	db := filepath.Join(t.TempDir(), "v.db")
	env := map[string]string{"SUIFANG_DB": db}
	must(t, env, "", "institution", "add", "V1", "一院")
	must(t, env, "", "institution", "add", "V2", "二院")
	must(t, env, "", "calendar", "import", "--institution", "V1",
		writeFile(t, "y.json", `{"year":2027,"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}`))
	r := must(t, env, "", "verify")
	if !strings.HasPrefix(r.stdout, "audit chain OK: 3 entries verified") {
		t.Fatalf("verify on a clean log: %q", r.stdout)
	}

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := raw.QueryRow(`SELECT id FROM audit_log WHERE action = 'institution.create' ORDER BY id DESC LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_log SET detail = 'x' WHERE id = ?`, id); err == nil {
		t.Error("the append-only trigger let an UPDATE through")
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_log SET detail = 'code=V2 name=假 kind=hospital' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	r = suifang(t, env, "", "verify")
	wantExit(t, r, exitFail, "verify (tampered)")
	if want := fmt.Sprintf("BROKEN at entry %d:", id); !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not name entry %d", r.stderr, id)
	}
}

func TestMigrateAndStatus(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	r := must(t, nil, "", "migrate", "--status", "--db", db)
	if !regexp.MustCompile(`^[1-9]\d* migration\(s\) pending on sqlite\n$`).MatchString(r.stdout) {
		t.Errorf("status on an empty database: %q", r.stdout)
	}
	r = must(t, nil, "", "migrate", "--db", db)
	if !regexp.MustCompile(`^applied [1-9]\d* migration\(s\) on sqlite\n$`).MatchString(r.stdout) {
		t.Errorf("migrate: %q", r.stdout)
	}
	if r = must(t, nil, "", "migrate", "--status", "--db", db); r.stdout != "0 migration(s) pending on sqlite\n" {
		t.Errorf("status after migrate: %q", r.stdout)
	}
	if r = must(t, nil, "", "migrate", "--db", db); r.stdout != "applied 0 migration(s) on sqlite\n" {
		t.Errorf("second migrate: %q", r.stdout)
	}
}

// syncBuffer is a bytes.Buffer safe for the serving goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	var out, errb syncBuffer
	c := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, c, []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--demo", "--demo-history-days", "3"})
	}()

	urlRE := regexp.MustCompile(`running at (http://127\.0\.0\.1:\d+/)`)
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before listening\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start\nstdout: %s\nstderr: %s", out.String(), errb.String())
		}
	}
	if !strings.Contains(out.String(), "Demo logins") {
		t.Errorf("--demo printed no logins:\n%s", out.String())
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"healthz", "readyz"} {
		var status int
		// readyz answers 503 until Serve has marked the app ready, which
		// happens just after the URL is printed.
		for i := 0; i < 100; i++ {
			resp, err := client.Get(base + path)
			if err != nil {
				t.Fatalf("GET /%s: %v", path, err)
			}
			resp.Body.Close()
			if status = resp.StatusCode; status == http.StatusOK {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if status != http.StatusOK {
			t.Errorf("GET /%s: %d", path, status)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after cancel\nstderr: %s", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not shut down within 5 s of cancel")
	}
	if _, err := client.Get(base + "healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestTokenAddWorksWithTheAPI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tok.db")
	if r := suifang(t, nil, "", "institution", "add", "--db", db, "HT", "令牌医院"); r.code != 0 {
		t.Fatalf("institution add: %d %s", r.code, r.stderr)
	}
	r := suifang(t, nil, "", "token", "add", "--db", db, "--institution", "HT", "HIS 接口")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sft_") {
		t.Fatalf("token add = %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := suifang(t, nil, "", "token", "add", "--db", db, "HIS"); r.code != 2 {
		t.Fatalf("token add without --institution = %d, want 2", r.code)
	}
}
