package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenThenImport(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SUIFANG_DB": filepath.Join(dir, "gen.db")}
	must(t, env, "", "institution", "add", "--kind", "group", "G1", "测试集团")
	must(t, env, "", "institution", "add", "--parent", "G1", "H01", "一院")
	must(t, env, "", "institution", "add", "--parent", "G1", "H02", "二院")

	args := []string{"gen", "--count", "100", "--seed", "7", "--from", "2026-09-01", "--to", "2026-09-30", "--institution", "H01:3,H02"}
	r := must(t, env, "", args...)
	lines := strings.Split(strings.TrimRight(r.stdout, "\r\n"), "\r\n")
	if len(lines) != 101 || !strings.HasPrefix(lines[0], "\uFEFF机构代码,病案号,住院流水号,姓名") {
		t.Fatalf("gen printed %d lines, header %q", len(lines), lines[0])
	}
	if again := must(t, env, "", args...); again.stdout != r.stdout {
		t.Fatal("the same flags gave a different file")
	}
	h01 := 0
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "H01,") {
			h01++
		}
		if !strings.Contains(l, ",2026-09-") {
			t.Fatalf("row outside September: %s", l)
		}
	}
	if h01 != 75 {
		t.Errorf("%d rows for H01, want 75 (weight 3:1)", h01)
	}

	file := filepath.Join(dir, "d.csv")
	r = must(t, env, "", append(args, "-o", file)...)
	if !strings.Contains(r.stderr, "wrote 100 discharges") {
		t.Errorf("stderr %q", r.stderr)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != must(t, env, "", args...).stdout {
		t.Fatalf("-o wrote something else than stdout (%v)", err)
	}
	r = must(t, env, "", "import", "--quiet", "--strict", file)
	if !strings.Contains(r.stdout, "100 messages, 100 new,") || !strings.Contains(r.stdout, " 0 rejected") {
		t.Fatalf("import: %s", r.stdout)
	}
	// Importing the same file again changes nothing.
	r = must(t, env, "", "import", "--quiet", file)
	if !strings.Contains(r.stdout, "0 new, 0 updated, 100 unchanged") {
		t.Fatalf("re-import: %s", r.stdout)
	}
}

func TestGenUsage(t *testing.T) {
	r := must(t, nil, "", "gen", "--help")
	for _, f := range []string{"-count", "-seed", "-from", "-to", "-institution", "-format", "-o"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("gen --help lacks %s", f)
		}
	}
	for _, args := range [][]string{
		{"gen", "--format", "xlsx"},
		{"gen", "--from", "2026-13-01"},
		{"gen", "--from", "2026-10-02", "--to", "2026-10-01"},
		{"gen", "--institution", "H01:0"},
		{"gen", "--institution", ",H01"},
		{"gen", "--count", "-5"},
		{"gen", "extra"},
	} {
		wantExit(t, suifang(t, nil, "", args...), exitUsage, args...)
	}
	r = must(t, nil, "", "gen", "--count", "3")
	if n := strings.Count(r.stdout, "\r\n"); n != 4 {
		t.Errorf("default range: %d lines", n)
	}
}
