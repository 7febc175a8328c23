package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMLLPAllowListCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	env := map[string]string{"SUIFANG_DB": db}
	must(t, env, "", "institution", "add", "H01", "城东医院")

	if r := must(t, env, "", "mllp", "list"); !strings.Contains(r.stdout, "loopback only") {
		t.Errorf("empty list: %q", r.stdout)
	}
	r := must(t, env, "", "mllp", "allow", "--institution", "H01", "--cidr", "10.1.2.0/24", "--app", "HIS", "--facility", "H01",
		"--note", "东院集成平台", "--json")
	var got struct {
		ID                                     int64
		Institution, CIDR, App, Facility, Note string
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.ID == 0 || got.CIDR != "10.1.2.0/24" || got.Institution != "H01" ||
		got.App != "HIS" || got.Note != "东院集成平台" {
		t.Fatalf("allow --json: %q %v", r.stdout, err)
	}
	r = must(t, env, "", "mllp", "allow", "--institution", "H01", "--cidr", "10.1.3.9")
	if !strings.Contains(r.stdout, "10.1.3.9/32 may send for H01 (MSH-3 *, MSH-4 *)") {
		t.Errorf("allow: %q", r.stdout)
	}
	// Mistakes are refused with the reason, not widened.
	for _, args := range [][]string{
		{"--institution", "H01", "--cidr", "10.1.2.5/24"},
		{"--institution", "H01", "--cidr", "0.0.0.0/0"},
		{"--institution", "H99", "--cidr", "10.1.2.0/24"},
	} {
		r := suifang(t, env, "", append([]string{"mllp", "allow"}, args...)...)
		wantExit(t, r, exitFail, args...)
	}
	wantExit(t, suifang(t, env, "", "mllp", "allow", "--cidr", "10.1.2.0/24"), exitUsage)
	r = must(t, env, "", "mllp", "list")
	if !strings.Contains(r.stdout, "10.1.2.0/24") || !strings.Contains(r.stdout, "10.1.3.9/32") {
		t.Errorf("list: %q", r.stdout)
	}
	must(t, env, "", "mllp", "revoke", strconv.FormatInt(got.ID, 10))
	wantExit(t, suifang(t, env, "", "mllp", "revoke", strconv.FormatInt(got.ID, 10)), exitFail)
	r = must(t, env, "", "mllp", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0]["cidr"] != "10.1.3.9/32" {
		t.Errorf("after revoke: %q %v", r.stdout, err)
	}
}

func TestServeMLLPFlagsChecked(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{nil, []string{"serve", "--hl7-ignore-events", "A07-A04"}},
		{map[string]string{"SUIFANG_HL7_IGNORE_EVENTS": "ADT"}, []string{"serve"}},
		{nil, []string{"serve", "--mllp-max-message", "10"}},
		{nil, []string{"serve", "--mllp-addr", "hospital"}},
		{nil, []string{"serve", "--mllp-idle-timeout", "0s"}},
	} {
		env := map[string]string{"SUIFANG_DB": filepath.Join(t.TempDir(), "x.db")}
		for k, v := range c.env {
			env[k] = v
		}
		wantExit(t, suifang(t, env, "", c.args...), exitUsage, c.args...)
	}
}

// serve refuses, before saying it runs, to expose MLLP with nobody allowed.
func TestServeRefusesExposedEmptyAllowList(t *testing.T) {
	env := map[string]string{"SUIFANG_DB": filepath.Join(t.TempDir(), "s.db")}
	r := suifang(t, env, "", "serve", "--addr", "127.0.0.1:0", "--mllp-addr", "0.0.0.0:0")
	wantExit(t, r, exitFail)
	if !strings.Contains(r.stderr, "suifang mllp allow") || strings.Contains(r.stdout, "is running") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
}
