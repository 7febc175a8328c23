package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/calendar"
	"suifang/internal/intake"
	"suifang/internal/store/storetest"
)

// exportLines runs export tasks and parses every NDJSON line strictly.
func exportLines(t *testing.T, env map[string]string, args ...string) []exportJSON {
	t.Helper()
	r := must(t, env, "", append([]string{"export", "tasks", "--format", "ndjson"}, args...)...)
	var out []exportJSON
	for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if line == "" && r.stdout == "" {
			break
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var row exportJSON
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("line %d is not a task object: %v\n%s", i+1, err, line)
		}
		// Absent values are null, not missing: every line has every key.
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		if len(m) != 12 || len(m["assignee"].(map[string]any)) != 5 {
			t.Fatalf("line %d has keys %v", i+1, m)
		}
		out = append(out, row)
	}
	if want := "exported " + strconv.Itoa(len(out)) + " task(s)\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if strings.Contains(r.stdout, "李建国") || strings.Contains(r.stdout, "13800138000") {
		t.Error("the export carries patient names or phones")
	}
	return out
}

var plannedRE = regexp.MustCompile(`(\d+) tasks planned`)

func TestExportTasks(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
			env := map[string]string{"SUIFANG_DB": storetest.DSN(t, engine),
				"SUIFANG_DATA_KEYS": "k1:" + key(1), "SUIFANG_INDEX_KEY": key(2), "SUIFANG_LOG_LEVEL": "warn"}
			must(t, env, "", "institution", "add", "EX1", "导出一院")
			must(t, env, "", "institution", "add", "EX2", "导出二院")
			file := writeFile(t, "discharges.csv", string(intake.CSVTemplate()))
			planned := 0
			for _, code := range []string{"EX1", "EX2"} {
				r := must(t, env, "", "import", "--quiet", "--institution", code, file)
				m := plannedRE.FindStringSubmatch(r.stdout)
				if m == nil || !strings.Contains(r.stdout, "2 new") {
					t.Fatalf("import into %s: %q", code, r.stdout)
				}
				n, _ := strconv.Atoi(m[1])
				if planned != 0 && n != planned {
					t.Fatalf("the same file planned %d tasks in EX1, %d in EX2", planned, n)
				}
				planned = n
			}
			if planned < 2 {
				t.Fatalf("only %d tasks planned", planned)
			}

			ex1 := exportLines(t, env, "--institution", "EX1")
			if len(ex1) != planned {
				t.Fatalf("EX1 export has %d lines, the import planned %d", len(ex1), planned)
			}
			ids := map[int64]bool{}
			perVisit := map[string]int{}
			for _, row := range ex1 {
				ids[row.TaskID] = true
				perVisit[row.VisitNumber]++
				if _, err := calendar.ParseDate(row.DueDate); err != nil {
					t.Errorf("due date %q", row.DueDate)
				}
				mrnOK := row.PatientMRN == "2026000123" && row.VisitNumber == "ZY202610100001" ||
					row.PatientMRN == "2026000456" && row.VisitNumber == "ZY202610100002"
				if row.Institution != "EX1" || !mrnOK || row.Status != "open" || row.Attempts != 0 || row.CloseReason != nil ||
					row.Step == "" || row.Purpose == "" || row.Level < 1 || row.Assignee.Role == "" || row.Assignee.User != nil {
					t.Errorf("row %+v", row)
				}
			}
			if len(ids) != planned || len(perVisit) != 2 {
				t.Errorf("%d distinct tasks over %d visits", len(ids), len(perVisit))
			}
			for i := 1; i < len(ex1); i++ {
				if ex1[i].DueDate < ex1[i-1].DueDate {
					t.Errorf("not in due-date order at line %d", i+1)
				}
			}

			if all := exportLines(t, env); len(all) != 2*planned {
				t.Errorf("every institution: %d lines, want %d", len(all), 2*planned)
			}
			if open := exportLines(t, env, "--status", "open", "--institution", "EX2"); len(open) != planned || open[0].Institution != "EX2" {
				t.Errorf("EX2 open: %d lines", len(open))
			}
			if done := exportLines(t, env, "--status", "done"); len(done) != 0 {
				t.Errorf("done: %d lines", len(done))
			}
			// A due-date range: exactly the rows of the full export inside it.
			from, to := ex1[1].DueDate, ex1[len(ex1)-2].DueDate
			want := 0
			for _, row := range ex1 {
				if row.DueDate >= from && row.DueDate <= to {
					want++
				}
			}
			if got := exportLines(t, env, "--institution", "EX1", "--from", from, "--to", to); len(got) != want {
				t.Errorf("due %s..%s: %d lines, want %d", from, to, len(got), want)
			}

			// CSV for people: BOM, Chinese headers, the same rows.
			r := must(t, env, "", "export", "tasks", "--institution", "EX1", "--format", "csv")
			if !strings.HasPrefix(r.stdout, "\uFEFF任务ID,机构代码,住院流水号,病案号,") || !strings.Contains(r.stdout, "\r\n") {
				t.Fatalf("csv head %q", r.stdout[:min(len(r.stdout), 80)])
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.stdout, "\uFEFF"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != planned+1 || len(recs[0]) != len(exportCSVHeader) {
				t.Fatalf("csv has %d records of %d fields", len(recs), len(recs[0]))
			}
			for i, rec := range recs[1:] {
				if rec[0] != strconv.FormatInt(ex1[i].TaskID, 10) || rec[1] != "EX1" || rec[7] != ex1[i].DueDate || rec[8] != "open" {
					t.Errorf("csv row %d = %q", i+1, rec)
				}
			}
			if strings.Contains(r.stdout, "李建国") {
				t.Error("the CSV carries patient names")
			}

			// Usage errors exit 2 before touching the database; an unknown
			// institution is a failure (1).
			for _, args := range [][]string{
				{"export"},
				{"export", "patients"},
				{"export", "tasks", "--format", "xml"},
				{"export", "tasks", "--status", "maybe"},
				{"export", "tasks", "--from", "2026-13-01"},
				{"export", "tasks", "--from", "2026-10-10", "--to", "2026-10-01"},
				{"export", "tasks", "extra"},
			} {
				wantExit(t, suifang(t, env, "", args...), exitUsage, args...)
			}
			wantExit(t, suifang(t, env, "", "export", "tasks", "--institution", "NOPE"), exitFail)
			wantExit(t, suifang(t, env, "", "export", "tasks", "--help"), 0)
		})
	}
}

func TestExportCSVCell(t *testing.T) {
	for in, want := range map[string]string{"": "", "ZY1": "ZY1", "=1+1": "'=1+1", "+86": "'+86", "-x": "'-x", "@a": "'@a", "心内科": "心内科"} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
