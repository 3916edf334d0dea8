package main

import (
	"fmt"
	"io"

	"github.com/aiskao/aiskao/routes"
)

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "FILE|DIR...", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	cat := routes.DefaultCatalog()
	bad := 0
	for _, path := range fs.Args() {
		cfg, err := routes.Load(cat, path)
		if err != nil {
			bad++
			fmt.Fprintln(stdout, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%d connectors, %d routes)\n", path, len(cfg.Connectors), len(cfg.Routes))
	}
	if bad > 0 {
		return exitError(1)
	}
	return nil
}

func runSchema(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("schema", "", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := routes.Schema(routes.DefaultCatalog())
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}
