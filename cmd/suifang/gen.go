package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"suifang/internal/gen"
)

func cmdGen(ctx context.Context, c *cli, args []string) error {
	var count int
	var seed uint64
	var from, to, insts, format, out string
	fs := newFlags(c, "gen", "", `Generate realistic synthetic discharges — names, valid ID numbers, phones,
addresses, departments with matching ICD-10 diagnoses, operations, outcomes —
as a CSV discharge list in the import format, for demos and load tests:

  suifang gen --count 100000 --seed 7 --from 2026-01-01 --to 2026-03-31 \
      --institution H01:3,H02:1 -o discharges.csv
  suifang import discharges.csv

The same flags always give the same file, byte for byte (with --from and --to
given: their defaults follow today). Departments are those of the demo group
(suifang serve --demo): H01 has 0301 心血管内科, 0402 普通外科, 0405 骨科,
0501 妇产科, 0601 儿科; H02 has 0300 内科, 0400 外科, 1200 口腔科; any other
institution code gets H01's departments.`)
	fs.IntVar(&count, "count", 1000, "number of discharges")
	fs.Uint64Var(&seed, "seed", 1, "random seed")
	fs.StringVar(&from, "from", "", "first discharge date YYYY-MM-DD, China time (default: 89 days before --to)")
	fs.StringVar(&to, "to", "", "last discharge date YYYY-MM-DD, inclusive (default: today)")
	fs.StringVar(&insts, "institution", "", "institution codes written in 机构代码, comma-separated, each optionally CODE:WEIGHT (default: none, for a single-hospital database)")
	fs.StringVar(&format, "format", "csv", "output format: csv")
	fs.StringVar(&out, "o", "", "write to this file (default: standard output)")
	if err := parse(c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if format != "csv" {
		return usageErr("--format %q: only csv is supported", format)
	}
	if count < 0 {
		return usageErr("--count must not be negative")
	}
	cst := time.FixedZone("CST", 8*3600)
	day := func(flag, s string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", s, cst)
		if err != nil {
			return t, usageErr("--%s %q: want a date YYYY-MM-DD", flag, s)
		}
		return t, nil
	}
	cfg := gen.Config{Seed: seed, Count: count}
	var end time.Time
	if to == "" {
		n := time.Now().In(cst)
		end = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, cst)
	} else {
		var err error
		if end, err = day("to", to); err != nil {
			return err
		}
	}
	cfg.End = end.AddDate(0, 0, 1)
	if from == "" {
		cfg.Start = end.AddDate(0, 0, -89)
	} else {
		var err error
		if cfg.Start, err = day("from", from); err != nil {
			return err
		}
		if cfg.Start.After(end) {
			return usageErr("--from %s is after --to %s", from, end.Format("2006-01-02"))
		}
	}
	if insts != "" {
		weighted := false
		for _, part := range strings.Split(insts, ",") {
			code, w, hasW := strings.Cut(strings.TrimSpace(part), ":")
			if code == "" {
				return usageErr("--institution %q: empty code", insts)
			}
			weight := 1
			if hasW {
				n, err := strconv.Atoi(w)
				if err != nil || n < 1 {
					return usageErr("--institution %q: weight %q must be a positive whole number", insts, w)
				}
				weight, weighted = n, true
			}
			cfg.Institutions = append(cfg.Institutions, code)
			cfg.Weights = append(cfg.Weights, weight)
		}
		if !weighted {
			cfg.Weights = nil
		}
	}
	if out == "" {
		w := bufio.NewWriter(c.stdout)
		if err := gen.WriteCSV(w, cfg); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := gen.WriteCSV(f, cfg); err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote %d discharges (%s to %s) to %s\n", count,
		cfg.Start.Format("2006-01-02"), end.Format("2006-01-02"), out)
	return nil
}
