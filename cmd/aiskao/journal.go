package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/aiskao/aiskao/hub/store"
)

// runJournal lists the journal of accountable acts through the operations API.
func runJournal(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("journal", "[-ops URL] [-kind K] [-route R] [-dossier D] [-limit N] [-json]", stderr)
	base := opsFlag(fs)
	access := opsAccess(fs)
	kind := fs.String("kind", "", "only entries of this kind, for example regix.call")
	route := fs.String("route", "", "only entries of this route")
	dossier := fs.String("dossier", "", "only entries for this dossier")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	c, err := access(*base)
	if err != nil {
		return err
	}
	es, err := c.Journal(context.Background(), store.JournalFilter{Kind: *kind, Route: *route, Dossier: *dossier, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, es)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tDOSSIER\tACTOR\tSUBJECT\tLEGAL BASIS\tRESULT")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), e.Kind, dash(e.Dossier),
			dash(e.Actor), dash(e.Subject), oneLine(dash(e.LegalBasis), 60), oneLine(e.Result, 80))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
