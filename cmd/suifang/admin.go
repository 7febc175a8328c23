package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/chain"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
)

func openStore(ctx context.Context, dsn string, log *slog.Logger) (*store.DB, error) {
	return store.Open(ctx, dsn, store.Options{Logger: log})
}

// The CLI acts as the machine's operator: a global system principal, and
// every change it makes is audited under the actor "system".
func operator() *access.Principal {
	p := access.System()
	p.IP = "cli"
	return p
}

// splitVerb takes the verb of "suifang NOUN VERB ...". A bare NOUN or
// NOUN --help prints the usage text (the former is a usage error).
func splitVerb(c *cli, args []string, usage, missing string) (string, []string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(c.stdout, usage)
		if len(args) == 0 {
			return "", nil, usageErr("%s", missing)
		}
		return "", nil, flag.ErrHelp
	}
	return args[0], args[1:], nil
}

func cmdInstitution(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, "Usage:\n  suifang institution add [flags] CODE NAME\n  suifang institution list [flags]\n\nRun with --help after the verb for flags.", "missing verb: add or list")
	if err != nil {
		return err
	}
	var d dbFlags
	switch verb {
	case "add":
		var in org.InstitutionInput
		var parent string
		var jsonOut bool
		fs := newFlags(c, "institution add", "CODE NAME", "Create an institution (hospital, campus, clinic or group).")
		d.register(fs)
		fs.StringVar(&in.Kind, "kind", "hospital", "hospital, clinic or group")
		fs.StringVar(&parent, "parent", "", "code of the group it belongs to")
		fs.StringVar(&in.ServiceHours, "service-hours", "08:00-17:30", "service hours for hour deadlines")
		fs.StringVar(&in.Timezone, "timezone", "Asia/Shanghai", "IANA time zone")
		fs.BoolVar(&jsonOut, "json", false, "print the result as JSON")
		if err := parse(c, fs, args); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return usageErr("want CODE and NAME, got %d argument(s)", fs.NArg())
		}
		in.Code, in.Name = fs.Arg(0), fs.Arg(1)
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		if parent != "" {
			pi, err := a.Org.InstitutionByCode(ctx, parent)
			if err != nil {
				return err
			}
			in.ParentID = pi.ID
		}
		id, err := a.Org.CreateInstitution(ctx, operator(), in)
		if err != nil {
			return err
		}
		if jsonOut {
			return json.NewEncoder(c.stdout).Encode(map[string]any{"id": id, "code": in.Code, "name": in.Name, "kind": in.Kind})
		}
		fmt.Fprintf(c.stdout, "created institution %s (%s), id %d\n", in.Code, in.Name, id)
		return nil
	case "list":
		var jsonOut bool
		fs := newFlags(c, "institution list", "", "List institutions.")
		d.register(fs)
		fs.BoolVar(&jsonOut, "json", false, "print JSON")
		a, err := d.parseOpen(ctx, c, fs, args)
		if err != nil {
			return err
		}
		defer a.Close()
		list, err := a.Org.Institutions(ctx, operator())
		if err != nil {
			return err
		}
		if jsonOut {
			out := []map[string]any{}
			for _, i := range list {
				out = append(out, map[string]any{"id": i.ID, "code": i.Code, "name": i.Name, "kind": i.Kind, "parent_id": i.ParentID, "active": i.Active})
			}
			return json.NewEncoder(c.stdout).Encode(out)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCODE\tKIND\tNAME")
		for _, i := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i.ID, i.Code, i.Kind, i.Name)
		}
		return tw.Flush()
	}
	return usageErr("unknown verb %q: use add or list", verb)
}

// readPassword takes the password from --password, or the first line of
// stdin with --password-stdin (so it stays out of shell history).
func readPassword(c *cli, flagPW string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", usageErr("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if flagPW == "" {
		return "", usageErr("give --password or --password-stdin")
	}
	return flagPW, nil
}

func cmdUser(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, "Usage:\n  suifang user add [flags] USERNAME\n  suifang user list [flags]\n  suifang user passwd [flags] USERNAME\n  suifang user unlock [flags] USERNAME\n\nRun with --help after the verb for flags.", "missing verb: add, list, passwd or unlock")
	if err != nil {
		return err
	}
	var d dbFlags
	switch verb {
	case "add":
		var name, roles, instCode, pw string
		var pwStdin, mustChange bool
		fs := newFlags(c, "user add", "USERNAME", "Create a staff account, e.g. the first administrator:\n  suifang user add admin --name 管理员 --role sysadmin --password-stdin")
		d.register(fs)
		fs.StringVar(&name, "name", "", "display name (default: the user name)")
		fs.StringVar(&roles, "role", "sysadmin", "comma-separated roles: "+roleList())
		fs.StringVar(&instCode, "institution", "", "home institution code (default: the only institution, created if none exists)")
		fs.StringVar(&pw, "password", "", "initial password (prefer --password-stdin)")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
		fs.BoolVar(&mustChange, "must-change", true, "force a password change at first login")
		if err := parse(c, fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageErr("want exactly one USERNAME")
		}
		password, err := readPassword(c, pw, pwStdin)
		if err != nil {
			return err
		}
		in := auth.UserInput{Username: fs.Arg(0), DisplayName: name, Password: password, Active: true, MustChangePassword: mustChange}
		if in.DisplayName == "" {
			in.DisplayName = in.Username
		}
		for _, r := range strings.Split(roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				in.Roles = append(in.Roles, access.Role(r))
			}
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		inst, err := homeInstitution(ctx, a, instCode)
		if err != nil {
			return err
		}
		in.HomeInstitutionID = inst.ID
		id, err := a.Auth.CreateUser(ctx, operator(), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created user %s (id %d) in %s\n", in.Username, id, inst.Code)
		return nil
	case "list":
		fs := newFlags(c, "user list", "", "List staff accounts.")
		d.register(fs)
		a, err := d.parseOpen(ctx, c, fs, args)
		if err != nil {
			return err
		}
		defer a.Close()
		users, err := a.Auth.ListUsers(ctx, operator(), auth.UserFilter{})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tROLES\tACTIVE")
		for _, u := range users {
			rs := make([]string, len(u.Roles))
			for i, r := range u.Roles {
				rs[i] = string(r)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\n", u.ID, u.Username, u.DisplayName, strings.Join(rs, ","), u.Active)
		}
		return tw.Flush()
	case "passwd", "unlock":
		var pw string
		var pwStdin bool
		about := "Set a new password the user must change at next login (also lifts a lockout)."
		if verb == "unlock" {
			about = "Lift a lockout after too many failed logins."
		}
		fs := newFlags(c, "user "+verb, "USERNAME", about)
		d.register(fs)
		if verb == "passwd" {
			fs.StringVar(&pw, "password", "", "new password (prefer --password-stdin)")
			fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
		}
		if err := parse(c, fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageErr("want exactly one USERNAME")
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		u, err := findUser(ctx, a, fs.Arg(0))
		if err != nil {
			return err
		}
		if verb == "unlock" {
			if err := a.Auth.Unlock(ctx, operator(), u.ID); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "unlocked %s\n", u.Username)
			return nil
		}
		password, err := readPassword(c, pw, pwStdin)
		if err != nil {
			return err
		}
		if err := a.Auth.ResetPassword(ctx, operator(), u.ID, password); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "password of %s reset; it must be changed at next login\n", u.Username)
		return nil
	}
	return usageErr("unknown verb %q: use add, list, passwd or unlock", verb)
}

func roleList() string {
	var rs []string
	for _, r := range access.Roles() {
		rs = append(rs, string(r))
	}
	return strings.Join(rs, ", ")
}

func findUser(ctx context.Context, a *app.App, username string) (*auth.User, error) {
	users, err := a.Auth.ListUsers(ctx, operator(), auth.UserFilter{Query: username})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Username == username {
			return u, nil
		}
	}
	return nil, errs.New(errs.NotFound, "user_not_found", fmt.Sprintf("no user %q", username))
}

// homeInstitution resolves --institution; without it, the only institution,
// or a fresh "HOSPITAL" one on an empty database so the first administrator
// can be created in one command.
func homeInstitution(ctx context.Context, a *app.App, code string) (*org.Institution, error) {
	if code != "" {
		return a.Org.InstitutionByCode(ctx, code)
	}
	list, err := a.Org.Institutions(ctx, operator())
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		id, err := a.Org.CreateInstitution(ctx, operator(), org.InstitutionInput{Code: "HOSPITAL", Name: "医院", Kind: org.KindHospital})
		if err != nil {
			return nil, err
		}
		return a.Org.Lookup(ctx, id)
	case 1:
		return list[0], nil
	}
	return nil, usageErr("several institutions exist: choose one with --institution CODE")
}

func cmdCalendar(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, `Usage:
  suifang calendar add-workdays [flags] DATE N   the N-th working day after DATE
  suifang calendar is-workday [flags] DATE       "yes" or "no"
  suifang calendar import [flags] FILE...        load years in the holiday-cn JSON shape
  suifang calendar export [flags] YEAR           print a year in that JSON shape

Without --institution, add-workdays and is-workday use the built-in statutory
calendar and need no database.`, "missing verb")
	if err != nil {
		return err
	}
	var d dbFlags
	var instCode string
	fs := newFlags(c, "calendar "+verb, "", "Working-day calendar.")
	d.register(fs)
	fs.StringVar(&instCode, "institution", "", "institution code (import: default every institution)")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	// cal returns the institution's stored calendar, or the built-in one.
	cal := func() (*calendar.Calendar, func(), error) {
		if instCode == "" {
			return calendar.New(calendar.Seed()...), func() {}, nil
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return nil, nil, err
		}
		i, err := a.Org.InstitutionByCode(ctx, instCode)
		if err != nil {
			a.Close()
			return nil, nil, err
		}
		cl, err := a.Calendar.Calendar(ctx, i.ID)
		if err != nil {
			a.Close()
			return nil, nil, err
		}
		return cl, func() { a.Close() }, nil
	}
	switch verb {
	case "add-workdays":
		if len(rest) != 2 {
			return usageErr("want DATE and N, e.g. add-workdays 2026-09-30 3")
		}
		day, err := calendar.ParseDate(rest[0])
		if err != nil {
			return usageErr("%v", err)
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			return usageErr("N must be an integer, got %q", rest[1])
		}
		cl, done, err := cal()
		if err != nil {
			return err
		}
		defer done()
		warnMissing(c, cl, day.Year)
		fmt.Fprintln(c.stdout, cl.AddWorkingDays(day, n))
		return nil
	case "is-workday":
		if len(rest) != 1 {
			return usageErr("want one DATE")
		}
		day, err := calendar.ParseDate(rest[0])
		if err != nil {
			return usageErr("%v", err)
		}
		cl, done, err := cal()
		if err != nil {
			return err
		}
		defer done()
		warnMissing(c, cl, day.Year)
		if cl.IsWorkingDay(day) {
			fmt.Fprintln(c.stdout, "yes")
		} else {
			fmt.Fprintln(c.stdout, "no")
		}
		return nil
	case "import":
		if len(rest) == 0 {
			return usageErr("want at least one FILE")
		}
		var years []calendar.Year
		for _, f := range rest {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			y, err := calendar.ParseYearJSON(b)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			years = append(years, y)
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		var inst int64
		if instCode != "" {
			i, err := a.Org.InstitutionByCode(ctx, instCode)
			if err != nil {
				return err
			}
			inst = i.ID
		}
		for _, y := range years {
			n, err := a.Calendar.ImportYear(ctx, operator(), inst, y)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "imported %d: %d exception day(s) into %d institution(s)\n", y.Year, len(y.Days), n)
		}
		return nil
	case "export":
		if len(rest) != 1 {
			return usageErr("want one YEAR")
		}
		var year int
		if _, err := fmt.Sscanf(rest[0], "%d", &year); err != nil {
			return usageErr("YEAR must be a number")
		}
		cl, done, err := cal()
		if err != nil {
			return err
		}
		defer done()
		y := calendar.Year{Year: year}
		for d := (calendar.Date{Year: year, Month: 1, Day: 1}); d.Year == year; d = d.AddDays(1) {
			if e, ok := cl.Exception(d); ok {
				y.Days = append(y.Days, e)
			}
		}
		for _, sy := range calendar.Seed() {
			if sy.Year == year && instCode == "" {
				y.Papers = sy.Papers
			}
		}
		b, err := calendar.EncodeYearJSON(y)
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(append(b, '\n'))
		return err
	}
	return usageErr("unknown verb %q", verb)
}

func warnMissing(c *cli, cl *calendar.Calendar, year int) {
	if !cl.HasYear(year) {
		fmt.Fprintf(c.stderr, "warning: no holiday data for %d; counting Monday to Friday\n", year)
	}
}

func cmdVerify(ctx context.Context, c *cli, args []string) error {
	var d dbFlags
	var checkpoint bool
	var exportFile, againstFile string
	fs := newFlags(c, "verify", "", `Recompute the audit log's hash chain and every institution's follow-up record and notice,
complaint and abnormal-report event chains (HMAC-SHA-256 under the chain key; plain SHA-256
for rows from before the cut-over), compare complaint, notice and report rows with the state
their last event recorded, compare every chain with the latest checkpoint (and those of
--checkpoints FILE), and name the first broken entry or record. Exit status 1 when a chain
is broken.`)
	d.register(fs)
	fs.BoolVar(&checkpoint, "checkpoint", false, "after a clean verification, record every chain's head as a signed checkpoint")
	fs.StringVar(&exportFile, "export-checkpoints", "", "write every stored checkpoint to FILE (JSON lines) to keep a copy off-site")
	fs.StringVar(&againstFile, "checkpoints", "", "also compare the chains with the checkpoints in FILE (an earlier export)")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	var extra []*audit.Checkpoint
	if againstFile != "" {
		f, err := os.Open(againstFile)
		if err != nil {
			return err
		}
		extra, err = audit.ReadCheckpoints(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	a, _, err := d.open(ctx, c, app.DefaultConfig())
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	var broken []string
	if !res.OK {
		broken = append(broken, fmt.Sprintf("audit chain BROKEN at entry %d: %s (%d entries checked)", res.BrokenID, res.Reason, res.Checked))
	} else {
		fmt.Fprintf(c.stdout, "audit chain OK: %d entries verified\n", res.Checked)
	}
	code := func(id int64) string {
		if inst, err := a.Org.Lookup(ctx, id); err == nil {
			return inst.Code
		}
		return fmt.Sprint(id)
	}
	report := func(what, unit, at string, chains []chain.Result, err error) error {
		if err != nil {
			return err
		}
		for _, ch := range chains {
			if ch.OK {
				fmt.Fprintf(c.stdout, "%s of %s OK: %d %s verified\n", what, code(ch.InstitutionID), ch.Checked, unit)
				continue
			}
			ref := fmt.Sprint(ch.BrokenID)
			if at == "record" {
				ref = fmt.Sprintf("%s (row id %d)", ch.BrokenRef, ch.BrokenID)
			}
			broken = append(broken, fmt.Sprintf("%s of %s BROKEN at %s %s: %s", what, code(ch.InstitutionID), at, ref, ch.Reason))
		}
		return nil
	}
	chains, err := a.Followup.VerifyRecords(ctx)
	if err := report("follow-up records", "records", "record", chains, err); err != nil {
		return err
	}
	chains, err = a.Notices.VerifyEvents(ctx)
	if err := report("notice events", "events", "event", chains, err); err != nil {
		return err
	}
	chains, err = a.Complaints.VerifyEvents(ctx)
	if err := report("complaint events", "events", "event", chains, err); err != nil {
		return err
	}
	chains, err = a.Abnormal.VerifyEvents(ctx)
	if err := report("abnormal report events", "events", "event", chains, err); err != nil {
		return err
	}
	for _, sv := range []struct {
		what   string
		verify func(context.Context) (int, []pii.Problem, error)
	}{{"sealed patient identifiers", a.Patients.VerifySealed}, {"sealed complaint contacts", a.Complaints.VerifySealed},
		{"sealed import rejects", a.Importer.VerifySealed}} {
		n, bad, err := sv.verify(ctx)
		if err != nil {
			return err
		}
		for i, b := range bad {
			if i == 5 {
				broken = append(broken, fmt.Sprintf("%s: %d more", sv.what, len(bad)-i))
				break
			}
			broken = append(broken, fmt.Sprintf("%s BROKEN at %s %s: %s", sv.what, b.Ref, b.Column, b.Reason))
		}
		if len(bad) == 0 {
			fmt.Fprintf(c.stdout, "%s OK: %d values open on their own rows\n", sv.what, n)
		}
	}
	findings, ncp, err := a.Audit.VerifyCheckpoints(ctx, res.PrunedUpTo, extra)
	if err != nil {
		return err
	}
	for _, f := range findings {
		where := f.Chain
		if f.Institution != 0 {
			where += " of " + code(f.Institution)
		}
		broken = append(broken, fmt.Sprintf("checkpoint of %s BROKEN: %s: %s", f.CheckpointAt.UTC().Format(time.RFC3339), where, f.Reason))
	}
	if len(findings) == 0 && ncp > 0 {
		fmt.Fprintf(c.stdout, "checkpoints OK: %d compared with the live chains\n", ncp)
	}
	if len(broken) > 0 {
		return errors.New(strings.Join(broken, "\n"))
	}
	if checkpoint {
		cp, err := a.Audit.Checkpoint(ctx, operator(), false)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "checkpoint recorded: audit entry %d, %d chain heads\n", cp.AuditID, len(cp.Heads))
	}
	if exportFile != "" {
		cps, err := a.Audit.Checkpoints(ctx)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(exportFile, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if err := audit.ExportCheckpoints(f, cps); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%d checkpoints written to %s\n", len(cps), exportFile)
	}
	return nil
}

func cmdToken(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, "Usage:\n  suifang token add --institution CODE NAME\n\nPrints the new API token once; only its hash is stored.", "missing verb: add")
	if err != nil {
		return err
	}
	if verb != "add" {
		return usageErr("unknown verb %q: use add", verb)
	}
	var d dbFlags
	var instCode string
	fs := newFlags(c, "token add", "NAME", "Create an API token for an integration, scoped to one institution.")
	d.register(fs)
	fs.StringVar(&instCode, "institution", "", "institution code the token may see (required)")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || instCode == "" {
		return usageErr("want --institution CODE and one NAME")
	}
	a, _, err := d.open(ctx, c, app.DefaultConfig())
	if err != nil {
		return err
	}
	defer a.Close()
	inst, err := a.Org.InstitutionByCode(ctx, instCode)
	if err != nil {
		return err
	}
	plain, _, err := a.Auth.CreateToken(ctx, operator(), inst.ID, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, plain)
	return nil
}

func cmdKeys(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, `Usage:
  suifang keys generate [--id ID]
  suifang keys reseal [--db DB]

Prints a new data key (for --data-keys / SUIFANG_DATA_KEYS), a new blind-index
key (for --index-key / SUIFANG_INDEX_KEY) and a new chain key (for --chain-key /
SUIFANG_CHAIN_KEY). To rotate, put the new data key FIRST and keep the old ones
after it: "k2:NEW,k1:OLD". The index and chain keys never change.

reseal seals every sealed value again bound to its owning row (and with the
current data key): patients' identifiers, complaint contacts, the text of
rejected import rows, outbox recipients and bodies. It is idempotent and serve runs it at start.`, "missing verb: generate")
	if err != nil {
		return err
	}
	if verb == "reseal" {
		var d dbFlags
		fs := newFlags(c, "keys reseal", "", "Re-seal patient data bound to its rows, with the current data key.")
		d.register(fs)
		a, err := d.parseOpen(ctx, c, fs, args)
		if err != nil {
			return err
		}
		defer a.Close()
		r, err := a.Reseal(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "re-sealed: %d patients, %d complaint contacts, %d rejected import rows, %d outbox messages\n",
			r.Patients, r.Complaints, r.Rejects, r.Messages)
		return nil
	}
	if verb != "generate" {
		return usageErr("unknown verb %q: use generate or reseal", verb)
	}
	var id string
	fs := newFlags(c, "keys generate", "", "Generate patient-data encryption keys.")
	fs.StringVar(&id, "id", "k1", "key id (1-16 of a-z, 0-9, _ and -)")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	data, err := pii.GenerateKeySpec(id)
	if err != nil {
		return usageErr("%v", err)
	}
	index, err := app.NewIndexKey()
	if err != nil {
		return err
	}
	chainKey, err := app.NewIndexKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "SUIFANG_DATA_KEYS=%s\nSUIFANG_INDEX_KEY=%s\nSUIFANG_CHAIN_KEY=%s\n", data, index, chainKey)
	return nil
}
