package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
)

// runJournal lists the journal of accountable acts through the operations API, or verifies its
// hash chain in the store (journal verify).
func runJournal(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return runJournalVerify(args[1:], stdout, stderr)
	}
	fs := newFlags("journal", "[-ops URL] [-kind K] [-route R] [-dossier D] [-limit N] [-json]\n       aiskao journal verify [-config FILE|DIR] [-data DIR] [-json]", stderr)
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

// runJournalVerify reads the journal's hash chain directly from the store that the configuration
// names, without the hub and without changing anything, and checks every entry. It exits 1
// naming the first broken entry, or prints how many entries it checked and the head's hash.
func runJournalVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("journal verify", "[-config FILE|DIR] [-data DIR] [-expect SEQ:HASH]... [-json]", stderr)
	config := fs.String("config", defaultConfig, "configuration file or folder that names the store (and its retention)")
	data := fs.String("data", "data", "data folder, where the SQLite store's file is")
	asJSON := fs.Bool("json", false, "print JSON")
	var expect []store.Chain
	fs.Func("expect", "an entry recorded earlier, as SEQ:HASH (a head this command printed), that must still be in the chain unchanged; repeatable. Without one, entries cut from the end of the chain, or a chain rewritten as a whole, go unnoticed", func(v string) error {
		seq, hash, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || n < 1 {
			return fmt.Errorf("want SEQ:HASH, such as 42:%s", strings.Repeat("0", 2*store.HashSize))
		}
		h, err := store.ParseHash(hash)
		if err != nil {
			return err
		}
		expect = append(expect, store.Chain{Seq: n, Hash: h})
		return nil
	})
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return err
		case err == nil:
			fs.Usage()
		}
		return errUsage
	}
	cat := routes.DefaultCatalog()
	cfg, err := routes.Load(cat, *config)
	if err != nil {
		return fmt.Errorf("configuration %s is invalid:\n%w", *config, err)
	}
	f, ok := cat.Stores.Lookup(cfg.Store.Type)
	if !ok || f.OpenChain == nil {
		return fmt.Errorf("store type %q cannot be verified", cfg.Store.Type)
	}
	// The retention the configuration sets: an entry redacted before it ended is reported.
	var policy *store.JournalRetention
	if r, ok := cfg.Store.Config.(store.Retaining); ok {
		p, err := r.RetentionOptions().Policy()
		if err != nil {
			return fmt.Errorf("store retention: %w", err)
		}
		policy = &p.Journal
	}
	src, err := f.OpenChain(cfg.Store.Config, store.Env{DataDir: *data})
	if err != nil {
		return err
	}
	defer src.Close()
	v, err := store.VerifyWith(context.Background(), src, store.VerifyOptions{Retention: policy, Expect: expect})
	var brk *store.Break
	switch {
	case errors.As(err, &brk):
		if *asJSON {
			_ = writeJSON(stdout, map[string]any{"ok": false, "store": src.Where(), "seq": brk.Seq, "id": brk.ID,
				"problem": brk.Problem, "detail": brk.Detail, "entries_verified": v.Entries})
		}
		fmt.Fprintf(stderr, "aiskao journal verify: %s: BROKEN after %d good entries: %v\n", src.Where(), v.Entries, brk)
		return exitError(1)
	case err != nil:
		return err
	}
	if *asJSON {
		return writeJSON(stdout, map[string]any{"ok": true, "store": src.Where(), "entries_verified": v.Entries,
			"redacted": v.Redacted, "anchor_seq": v.Anchor.Seq, "head_seq": v.Head.Seq, "head_hash": v.Head.Hash.String()})
	}
	fmt.Fprintf(stdout, "%s: journal ok: %d entries verified (%d redacted by retention)", src.Where(), v.Entries, v.Redacted)
	if v.Anchor.Seq > 0 {
		fmt.Fprintf(stdout, ", from anchor %d (%s)", v.Anchor.Seq, v.Anchor.Hash)
	}
	fmt.Fprintf(stdout, "\nhead: entry %d, hash %s\n", v.Head.Seq, v.Head.Hash)
	if v.Head.Seq > 0 {
		fmt.Fprintf(stdout, "keep the head elsewhere and check it next time: -expect %d:%s\n", v.Head.Seq, v.Head.Hash)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
