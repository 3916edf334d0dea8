package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/routes"
)

// metaFlag collects repeated -meta key=value flags.
type metaFlag map[string]string

func (m metaFlag) String() string { return "" }
func (m metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	m[k] = val
	return nil
}

func runTry(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("try", "-config FILE|DIR -route NAME [-meta k=v]... INPUT", stderr)
	config := fs.String("config", defaultConfig, "configuration file or folder")
	route := fs.String("route", "", "route to push the message through")
	asJSON := fs.Bool("json", false, "print the trace as JSON")
	full := fs.Bool("full", false, "print whole payloads (otherwise cut at 4 KiB)")
	meta := metaFlag{}
	fs.Var(meta, "meta", "metadata key=value given to the message (repeatable); id=... sets its id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *route == "" || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	input, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	cat := routes.DefaultCatalog()
	cfg, err := routes.Load(cat, *config)
	if err != nil {
		return fmt.Errorf("configuration %s is invalid:\n%w", *config, err)
	}
	tr, err := hub.Try(context.Background(), cfg, *route, input, meta, hub.Options{Catalog: cat})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(tr); err != nil {
			return err
		}
	} else {
		printTrace(stdout, tr, *full)
	}
	if tr.Error != "" {
		return exitError(1)
	}
	return nil
}

func printTrace(w io.Writer, tr *hub.Trace, full bool) {
	fmt.Fprintf(w, "route %s\n", tr.Route)
	for _, s := range tr.Steps {
		fmt.Fprintf(w, "\n── %s\n", s.Step)
		if s.Error != "" {
			fmt.Fprintf(w, "   error: %s\n", s.Error)
		}
		for _, m := range s.Messages {
			printSnapshot(w, m, full)
		}
	}
	fmt.Fprintln(w)
	if tr.Error != "" {
		retry := "it would be retried first"
		if tr.Permanent {
			retry = "permanent: no retry"
		}
		fmt.Fprintf(w, "✗ would become a dead letter at %s (%s):\n  %s\n", tr.FailedStep, retry, tr.Error)
		return
	}
	if len(tr.Deliveries) == 0 {
		fmt.Fprintln(w, "∅ dropped: no message goes on")
		return
	}
	for _, d := range tr.Deliveries {
		fmt.Fprintf(w, "→ message %s would go to %s\n", d.Message.ID, strings.Join(d.To, ", "))
	}
}

func printSnapshot(w io.Writer, m hub.Snapshot, full bool) {
	fmt.Fprintf(w, "   message %s\n", m.ID)
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "   %s: %s\n", k, m.Metadata[k])
	}
	p := m.Payload
	if !utf8.Valid(p) {
		fmt.Fprintf(w, "   payload: %d bytes, not UTF-8 text\n", len(p))
		return
	}
	cut := ""
	if !full && len(p) > 4096 {
		p, cut = p[:4096], fmt.Sprintf("\n   … %d more bytes (-full shows all)", len(m.Payload)-4096)
	}
	fmt.Fprintf(w, "   payload:\n%s%s\n", indent(string(p)), cut)
}

func indent(s string) string {
	return "     " + strings.ReplaceAll(s, "\n", "\n     ")
}
