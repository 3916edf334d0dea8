package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/routes"
)

func runTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test", "[DIR|FILE]", stderr)
	verbose := fs.Bool("v", false, "list passing cases too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "configs/tests"
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	results, err := hub.RunRouteTests(context.Background(), dir, hub.Options{Catalog: routes.DefaultCatalog()})
	if err != nil {
		return err
	}
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed() {
			passed++
			if *verbose {
				fmt.Fprintf(stdout, "PASS %s: %s\n", r.File, r.Case)
			}
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL %s: %s\n", r.File, r.Case)
		for _, f := range r.Failures {
			fmt.Fprintf(stdout, "    %s\n", strings.ReplaceAll(f, "\n", "\n    "))
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitError(1)
	}
	return nil
}
