package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"suifang/internal/app"
	"suifang/internal/calendar"
	"suifang/internal/followup"
)

const exportUsage = `Usage:
  suifang export tasks [flags]

Run with --help after the verb for flags.`

func cmdExport(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, exportUsage, "missing what to export: tasks")
	if err != nil {
		return err
	}
	if verb != "tasks" {
		return usageErr("unknown export %q: want tasks", verb)
	}
	var d dbFlags
	var code, status, from, to, format string
	fs := newFlags(c, "export tasks", "", `Write follow-up tasks to standard output, streaming from the database: one
JSON object per line (--format ndjson, for data warehouses) or a CSV file
with a UTF-8 byte-order mark and Chinese headers (--format csv, opens in
Excel). Each task carries its institution, visit number, patient MRN (no
other patient data), level, step, purpose, due date, status, assignee,
attempts and close reason. The export is audited.`)
	d.register(fs)
	fs.StringVar(&code, "institution", "", "only this institution code (default: every institution)")
	fs.StringVar(&status, "status", "all", "open, done, unreachable, cancelled or all")
	fs.StringVar(&from, "from", "", "first due date, YYYY-MM-DD (default: no lower bound)")
	fs.StringVar(&to, "to", "", "last due date, YYYY-MM-DD (default: no upper bound)")
	fs.StringVar(&format, "format", "ndjson", "ndjson or csv")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr("export tasks takes no arguments, got %q", fs.Args())
	}
	var f followup.ExportFilter
	switch status {
	case "all", "":
	case followup.Open, followup.Done, followup.Unreachable, followup.Cancelled:
		f.Status = status
	default:
		return usageErr("--status %q: use open, done, unreachable, cancelled or all", status)
	}
	for _, x := range []struct {
		name, v string
		dst     *calendar.Date
	}{{"from", from, &f.From}, {"to", to, &f.To}} {
		if x.v == "" {
			continue
		}
		dt, err := calendar.ParseDate(x.v)
		if err != nil {
			return usageErr("--%s %q: want a date written YYYY-MM-DD", x.name, x.v)
		}
		*x.dst = dt
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return usageErr("--to %s is before --from %s", to, from)
	}
	var write func(followup.ExportRow) error
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	var cw *csv.Writer
	switch format {
	case "ndjson":
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		write = func(r followup.ExportRow) error { return enc.Encode(exportJSONOf(r)) }
	case "csv":
		cw = csv.NewWriter(out)
		cw.UseCRLF = true // what Excel writes and expects
		write = func(r followup.ExportRow) error { return cw.Write(exportCSVOf(r)) }
	default:
		return usageErr("--format %q: use ndjson or csv", format)
	}

	a, _, err := d.open(ctx, c, app.DefaultConfig())
	if err != nil {
		return err
	}
	defer a.Close()
	if code != "" {
		inst, err := a.Org.InstitutionByCode(ctx, code)
		if err != nil {
			return err
		}
		f.InstitutionID = inst.ID
	}
	if cw != nil {
		out.WriteString("\uFEFF")
		if err := cw.Write(exportCSVHeader); err != nil {
			return err
		}
	}
	n, err := a.Followup.ExportTasks(ctx, operator(), f, write)
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "exported %d task(s)\n", n)
	return nil
}

// exportJSON is one NDJSON line. Absent values are null, so every line has
// the same keys.
type exportJSON struct {
	TaskID      int64          `json:"task_id"`
	Institution string         `json:"institution"`
	VisitNumber string         `json:"visit_number"`
	PatientMRN  string         `json:"patient_mrn"`
	Level       int            `json:"level"`
	Step        string         `json:"step"`
	Purpose     string         `json:"purpose"`
	DueDate     string         `json:"due_date"`
	Status      string         `json:"status"`
	Assignee    exportAssignee `json:"assignee"`
	Attempts    int            `json:"attempts"`
	CloseReason *string        `json:"close_reason"`
}

// exportAssignee is who works the task: a role in a department, or a person.
type exportAssignee struct {
	Role           string  `json:"role"`
	DepartmentCode *string `json:"department_code"`
	DepartmentName *string `json:"department_name"`
	User           *string `json:"user"`
	UserName       *string `json:"user_name"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func exportJSONOf(r followup.ExportRow) exportJSON {
	return exportJSON{TaskID: r.TaskID, Institution: r.Institution, VisitNumber: r.VisitNumber, PatientMRN: r.MRN,
		Level: r.Level, Step: r.Step, Purpose: r.Purpose, DueDate: r.Due.String(), Status: r.Status,
		Assignee: exportAssignee{Role: string(r.Role), DepartmentCode: nullable(r.DeptCode), DepartmentName: nullable(r.DeptName),
			User: nullable(r.AssigneeUser), UserName: nullable(r.AssigneeName)},
		Attempts: r.Attempts, CloseReason: nullable(r.CloseReason)}
}

var exportCSVHeader = []string{"任务ID", "机构代码", "住院流水号", "病案号", "随访级别", "步骤", "随访目的", "截止日期", "状态",
	"执行角色", "科室代码", "科室名称", "指派人员", "尝试次数", "关闭原因"}

func exportCSVOf(r followup.ExportRow) []string {
	user := r.AssigneeUser
	if r.AssigneeName != "" {
		user = r.AssigneeName + " (" + r.AssigneeUser + ")"
	}
	return []string{strconv.FormatInt(r.TaskID, 10), cell(r.Institution), cell(r.VisitNumber), cell(r.MRN),
		strconv.Itoa(r.Level), cell(r.Step), cell(r.Purpose), r.Due.String(), r.Status, string(r.Role),
		cell(r.DeptCode), cell(r.DeptName), cell(user), strconv.Itoa(r.Attempts), cell(r.CloseReason)}
}

// cell keeps a spreadsheet from running a value as a formula (CSV
// injection): text starting with = + - @ or a control character gets a
// leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
