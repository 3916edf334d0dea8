package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/xsd"
)

// regixKeyFields is how many leaf values of a response check shows.
const regixKeyFields = 8

func runRegix(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: aiskao regix check FILE")
		return errUsage
	}
	switch args[0] {
	case "check":
		return runRegixCheck(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "aiskao regix: unknown subcommand %q\nUsage: aiskao regix check FILE\n", args[0])
	return errUsage
}

// runRegixCheck validates a RegiX request or response document against the
// catalogue's schema and shows its operation and key fields.
func runRegixCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("regix check", "FILE", stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	file := fs.Arg(0)
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ops, err := regix.Catalog()
	if err != nil {
		return err
	}
	op, response, err := ops.Identify(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	kind, validate := "request", op.ValidateRequest
	if response {
		kind, validate = "response", op.ValidateResponse
	}
	fmt.Fprintf(stdout, "%s: %s %s (%s)\n  operation: %s\n  register: %s\n", file, op.Code, kind, op.DisplayName, op.Name, op.Register)
	if err := validate(bytes.NewReader(doc)); err != nil {
		var ve *xsd.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(stdout, "invalid: %d problem(s)\n", len(ve.Problems))
		for _, p := range ve.Problems {
			fmt.Fprintf(stdout, "  line %d: %s: %s [%s]\n", p.Line, p.Path, p.Message, p.Rule)
		}
		return exitError(1)
	}
	max := regixKeyFields
	if !response {
		max = 0 // a request's leaves are its parameters: show them all
	}
	fields, err := regix.Leaves(doc, max)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintln(stdout, "valid")
	labels := map[string]string{}
	for _, p := range op.Params {
		labels[p.Name] = p.Label
	}
	for _, f := range fields {
		if l := labels[f.Path]; l != "" && !response {
			fmt.Fprintf(stdout, "  %s (%s) = %s\n", f.Path, l, f.Value)
			continue
		}
		fmt.Fprintf(stdout, "  %s = %s\n", f.Path, f.Value)
	}
	return nil
}
