package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

func runDeadLetters(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dead-letters", "list [-route R] [-limit N] | show ID | replay ID | delete ID  [-ops URL] [-json]\n"+
		"  ID is a dead letter's id, or the id of the message it holds (the id a POST was answered with)", stderr)
	base := opsFlag(fs)
	access := opsAccess(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	route := fs.String("route", "", "list: only this route")
	limit := fs.Int("limit", 100, "list: at most this many, newest first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	c, err := access(*base)
	if err != nil {
		return err
	}
	ctx := context.Background()
	rest := fs.Args()[1:]
	switch fs.Arg(0) {
	case "list":
		if len(rest) != 0 {
			fs.Usage()
			return errUsage
		}
		dls, err := c.List(ctx, *route, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, dls)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tROUTE\tSTEP\tATTEMPTS\tERROR")
		for _, d := range dls {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.Time.Local().Format(time.DateTime), d.Route, d.Step, d.Attempts, oneLine(d.Error, 120))
		}
		return tw.Flush()
	case "show", "replay", "delete":
		if len(rest) != 1 {
			fs.Usage()
			return errUsage
		}
		id := rest[0]
		switch fs.Arg(0) {
		case "show":
			d, err := c.Get(ctx, id)
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(stdout, d)
			}
			fmt.Fprintf(stdout, "id:         %s\nmessage id: %s\nroute:      %s\nstep:       %s\nattempts:   %d\ntime:       %s\nerror:      %s\nmetadata:\n",
				d.ID, d.MessageID, d.Route, d.Step, d.Attempts, d.Time.Local().Format(time.RFC3339), d.Error)
			for k, v := range d.Metadata {
				fmt.Fprintf(stdout, "  %s: %s\n", k, v)
			}
			if utf8.Valid(d.Payload) {
				fmt.Fprintf(stdout, "payload:\n%s\n", d.Payload)
			} else {
				fmt.Fprintf(stdout, "payload: %d bytes, not UTF-8 text (use -json)\n", len(d.Payload))
			}
			return nil
		case "replay":
			mid, err := c.Replay(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "replayed dead letter %s: message %s is back on its route\n", id, mid)
			return nil
		default:
			if err := c.Delete(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "deleted dead letter %s\n", id)
			return nil
		}
	}
	fs.Usage()
	return errUsage
}

// opsFlag adds -ops, the address of the hub's operations API: AISKAO_OPS_ADDR when set, as the
// hub reads it, else the demo's.
func opsFlag(fs flagSet) *string {
	def := "http://127.0.0.1:9090"
	if a := os.Getenv("AISKAO_OPS_ADDR"); a != "" {
		def = "http://" + a
	}
	return fs.String("ops", def, "address of the hub's operations API")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		return string(r[:n-1]) + "…"
	}
	return s
}
