// Command suifang is the whole Suifang platform in one binary: `suifang serve`
// runs it; the other subcommands are the administration a hospital scripts.
// main only turns flags and SUIFANG_* environment variables into an
// app.Config and calls into internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	_ "time/tzdata" // institutions name IANA zones; carry the database in the binary

	"suifang/internal/errs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: 0 success, 1 the command failed (or found a problem, as
// `verify` does), 2 wrong usage.
const (
	exitFail  = 1
	exitUsage = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cli, args []string) error
}

// cli carries what every subcommand needs: output streams and the
// environment lookup (injected so tests can run commands in-process).
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{"serve", "run the web UI, API and background workers", cmdServe},
		{"migrate", "apply pending database migrations", cmdMigrate},
		{"user", "manage staff accounts (add, list, passwd, unlock)", cmdUser},
		{"institution", "manage institutions (add, list)", cmdInstitution},
		{"import", "import discharges (CSV, Excel, HL7 v2, FHIR R4)", cmdImport},
		{"export", "export follow-up tasks (NDJSON for machines, CSV for people)", cmdExport},
		{"gen", "generate synthetic discharges (CSV) for demos and load tests", cmdGen},
		{"keys", "generate patient-data encryption keys", cmdKeys},
		{"token", "API tokens for integrations (add)", cmdToken},
		{"mllp", "HL7 senders allowed over MLLP (allow, list, revoke)", cmdMLLP},
		{"calendar", "working-day calendar (add-workdays, is-workday, import, export)", cmdCalendar},
		{"verify", "verify the audit log's hash chain", cmdVerify},
		{"version", "print the version", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(ctx, c, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(c.stderr, "suifang %s: %v\n", cmd.name, err)
			return exitUsage
		default:
			fmt.Fprintf(c.stderr, "suifang %s: %s\n", cmd.name, describe(err))
			return exitFail
		}
	}
	fmt.Fprintf(c.stderr, "suifang: unknown command %q\n\n", args[0])
	usage(c.stderr)
	return exitUsage
}

// describe shows a classified error's user message and code.
func describe(err error) string {
	if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
		fields := slices.Sorted(maps.Keys(e.Fields))
		if len(fields) > 0 {
			return strings.Join(fields, ", ") + ": " + e.Msg + " (" + e.Code + ")"
		}
		return e.Msg + " (" + e.Code + ")"
	}
	return err.Error()
}

var errUsage = errors.New("usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Suifang 随访 — patient follow-up and experience platform")
	fmt.Fprintln(w, "\nUsage: suifang <command> [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'suifang <command> --help' for a command's flags. Every flag can also be")
	fmt.Fprintln(w, "set as an environment variable SUIFANG_<FLAG> (e.g. SUIFANG_DB); the flag wins.")
}

// newFlags makes a FlagSet whose --help prints the command's usage line.
func newFlags(c *cli, name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("suifang "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: suifang %s [flags] %s\n\n%s\n\nFlags (each also settable as SUIFANG_<FLAG>):\n", name, argsUsage, about)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr)
	}
	return fs
}

// parse parses args, then fills every flag not given on the command line
// from SUIFANG_<NAME> (dashes become underscores): the flag wins.
// Flags may also follow the arguments (suifang user add admin --role
// sysadmin); "--" ends the flags, and a negative number is an argument.
func parse(c *cli, fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		for len(args) > 0 && isNegativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageErr("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	fs.Parse(append([]string{"--"}, pos...)) // so fs.Args() returns every argument
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || bad != nil {
			return
		}
		key := "SUIFANG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := c.getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				bad = usageErr("%s=%q: %v", key, v, err)
			}
		}
	})
	return bad
}

// isNegativeNumber reports whether s is an argument such as "-3", not a flag.
func isNegativeNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && strings.HasPrefix(s, "-")
}

// logger builds the process logger once; everything else receives it.
func logger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErr("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErr("--log-format %q: use text or json", format)
}

func cmdVersion(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "version", "", "Print the version.")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "suifang", version)
	return nil
}
