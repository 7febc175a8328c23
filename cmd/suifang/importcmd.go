package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"suifang/internal/app"
	"suifang/internal/importer"
)

func cmdImport(ctx context.Context, c *cli, args []string) error {
	var d dbFlags
	var opt importer.Options
	var strict, quiet bool
	var classes classFlags
	fs := newFlags(c, "import", "FILE...", `Import discharges from the hospital information system: CSV (UTF-8 or GB18030),
Excel (.xlsx), HL7 v2 ADT files and FHIR R4 JSON bundles. Re-importing is safe:
the same visit number is the same encounter. Each rejected row is listed
with its reason; all good rows are kept.`)
	d.register(fs)
	classes.register(fs)
	fs.StringVar(&opt.Institution, "institution", "", "route every row to this institution code (default: the code in each message, or the only institution)")
	fs.StringVar(&opt.Format, "format", "", "csv, xlsx, hl7 or fhir (default: detected)")
	fs.IntVar(&opt.SkipOlderThanDays, "skip-older-than", 0, "store discharges older than this many days without planning follow-ups (0: plan all)")
	fs.BoolVar(&strict, "strict", false, "exit 1 if any row is rejected")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("want at least one FILE")
	}
	cfg := app.DefaultConfig()
	classes.apply(&cfg)
	a, _, err := d.open(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	// An earlier import killed part-way is reported as interrupted, not running.
	if _, err := a.Importer.MarkInterrupted(ctx); err != nil {
		return err
	}
	rejected := 0
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		o := opt
		o.Filename = filepath.Base(path)
		last := time.Now()
		if !quiet {
			o.Progress = func(n int) {
				if time.Since(last) > time.Second {
					fmt.Fprintf(c.stderr, "\r%s: %d rows…", o.Filename, n)
					last = time.Now()
				}
			}
		}
		rep, err := a.Importer.Import(ctx, operator(), f, o)
		f.Close()
		if !quiet {
			fmt.Fprint(c.stderr, "\r")
		}
		if rep != nil {
			printReport(c, rep)
			rejected += rep.Rejected
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if strict && rejected > 0 {
		return fmt.Errorf("%d row(s) rejected (--strict)", rejected)
	}
	return nil
}

func printReport(c *cli, r *importer.Report) {
	fmt.Fprintf(c.stdout, "%s (%s): %d messages, %d new, %d updated, %d unchanged, %d cancelled, %d visits (no plan), %d tasks planned, %d tasks cancelled, %d tasks re-dated, %d without plan, %d rejected, %d warnings in %s\n",
		r.Filename, r.Format, r.Messages, r.New, r.Updated, r.Unchanged, r.Cancelled, r.Visits, r.TasksCreated, r.TasksCancelled, r.TasksReplanned, r.Skipped, r.Rejected,
		r.Warned, r.Duration.Round(time.Millisecond))
	for i, rj := range r.Rejects {
		if i == 50 {
			fmt.Fprintf(c.stdout, "  … %d more rejects (see the import page)\n", r.Rejected-50)
			break
		}
		fmt.Fprintf(c.stdout, "  rejected %s\n", rj.Error())
	}
	// Warnings: the row was stored, a value in it was dropped.
	for i, w := range r.Warnings {
		if i == 50 {
			fmt.Fprintf(c.stdout, "  … %d more warnings (see the import page)\n", r.Warned-50)
			break
		}
		fmt.Fprintf(c.stdout, "  warning %s: %s: %s (%s)\n", w.Source, w.Field, w.Reason, w.Value)
	}
}
