package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"suifang/internal/app"
	"suifang/internal/mllpauth"
)

const mllpUsage = `Usage:
  suifang mllp allow --institution CODE --cidr ADDRESS[/BITS] [--app MSH-3] [--facility MSH-4] [--note TEXT]
  suifang mllp list [--json]
  suifang mllp revoke ID

Which HL7 senders may send ADT messages over MLLP, and for which institution.
A message is accepted only from an allowed address range whose entry's
sending application (MSH-3) and facility (MSH-4), when given, match; it may
then only touch that institution. With no entries at all, serve accepts
loopback senders only and refuses to listen on any other address.`

func cmdMLLP(ctx context.Context, c *cli, args []string) error {
	verb, args, err := splitVerb(c, args, mllpUsage, "missing verb: allow, list or revoke")
	if err != nil {
		return err
	}
	var d dbFlags
	switch verb {
	case "allow":
		var in mllpauth.AllowInput
		var jsonOut bool
		fs := newFlags(c, "mllp allow", "", "Allow an HL7 sender (the HIS interface engine) to send for one institution.")
		d.register(fs)
		fs.StringVar(&in.Institution, "institution", "", "institution code the sender's messages belong to (required)")
		fs.StringVar(&in.Source, "cidr", "", "the sender's address or range, e.g. 10.1.2.7 or 10.1.2.0/24 (required)")
		fs.StringVar(&in.App, "app", "", "sending application the messages must name in MSH-3 (empty: any)")
		fs.StringVar(&in.Facility, "facility", "", "sending facility the messages must name in MSH-4 (empty: any)")
		fs.StringVar(&in.Note, "note", "", "who this is, e.g. 东院集成平台")
		fs.BoolVar(&jsonOut, "json", false, "print the entry as JSON")
		if err := parse(c, fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageErr("unexpected argument %q", fs.Arg(0))
		}
		if in.Institution == "" || in.Source == "" {
			return usageErr("want --institution CODE and --cidr ADDRESS[/BITS]")
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		snd, err := a.Senders.Allow(ctx, operator(), in)
		if err != nil {
			return err
		}
		if jsonOut {
			return json.NewEncoder(c.stdout).Encode(senderJSON(*snd))
		}
		fmt.Fprintf(c.stdout, "allowed sender %d: %s may send for %s (MSH-3 %s, MSH-4 %s)\n",
			snd.ID, snd.Prefix, snd.InstitutionCode, anyText(snd.App), anyText(snd.Facility))
		return nil
	case "list":
		var jsonOut bool
		fs := newFlags(c, "mllp list", "", "List the allowed HL7 senders.")
		d.register(fs)
		fs.BoolVar(&jsonOut, "json", false, "print JSON")
		a, err := d.parseOpen(ctx, c, fs, args)
		if err != nil {
			return err
		}
		defer a.Close()
		list, err := a.Senders.List(ctx, operator())
		if err != nil {
			return err
		}
		if jsonOut {
			out := make([]map[string]any, 0, len(list))
			for _, s := range list {
				out = append(out, senderJSON(s))
			}
			return json.NewEncoder(c.stdout).Encode(out)
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "no HL7 sender is allowed: serve takes MLLP messages from loopback only")
			return nil
		}
		w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tINSTITUTION\tSOURCE\tMSH-3\tMSH-4\tADDED\tNOTE")
		for _, s := range list {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.InstitutionCode, s.Prefix, anyText(s.App), anyText(s.Facility),
				s.CreatedAt.In(time.Local).Format("2006-01-02 15:04"), s.Note)
		}
		return w.Flush()
	case "revoke":
		fs := newFlags(c, "mllp revoke", "ID", "Revoke an allowed HL7 sender (its id from 'suifang mllp list').")
		d.register(fs)
		if err := parse(c, fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageErr("want one sender ID")
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || id <= 0 {
			return usageErr("sender ID %q is not a number", fs.Arg(0))
		}
		a, _, err := d.open(ctx, c, app.DefaultConfig())
		if err != nil {
			return err
		}
		defer a.Close()
		if err := a.Senders.Revoke(ctx, operator(), id); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "revoked sender %d\n", id)
		return nil
	}
	return usageErr("unknown verb %q: use allow, list or revoke", verb)
}

func anyText(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func senderJSON(s mllpauth.Sender) map[string]any {
	return map[string]any{"id": s.ID, "institution": s.InstitutionCode, "cidr": s.Prefix.String(), "app": s.App,
		"facility": s.Facility, "note": s.Note, "created_at": s.CreatedAt.UTC().Format(time.RFC3339), "created_by": s.CreatedBy}
}
