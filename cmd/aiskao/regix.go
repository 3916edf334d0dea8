package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aiskao/aiskao/connectors/regix/regixsim"
	"github.com/aiskao/aiskao/internal/xsd"
	"github.com/aiskao/aiskao/regix"
)

// regixKeyFields is how many leaf values of a response check shows.
const regixKeyFields = 8

// regixSimAddr is where `aiskao regix sim` listens by default: where the demo's regix
// connector looks for it, clear of the demo's and the peer's ports (8080, 8081, 8443, 8444,
// 9090, 9091).
const regixSimAddr = "127.0.0.1:8089"

// regixUsage lists the regix subcommands.
const regixUsage = "Usage: aiskao regix check FILE\n       aiskao regix sim [-listen ADDR] [-data DIR] [-mode MODE] [-delay D]"

func runRegix(args []string, stdout, stderr io.Writer) error {
	return runSub("regix", regixUsage, map[string]func([]string, io.Writer, io.Writer) error{
		"check": runRegixCheck, "sim": runRegixSim,
	}, args, stdout, stderr)
}

// runRegixSim runs the RegiX simulator until SIGTERM or SIGINT.
func runRegixSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("regix sim", "[-listen ADDR] [-data DIR] [-mode normal|slow|has_error|invalid|fault] [-delay D]\n\n"+
		"Симулатор на входната точка на RegiX (V1 и V2) / RegiX entry point simulator (V1 and V2):\n"+
		"a SOAP 1.2 request (application/soap+xml) is answered as the V1 entry point (RegiXEntryPoint.svc,\n"+
		"WS-Addressing, http://tempuri.org/), any other as V2 (RegiXEntryPointV2.svc), at any path.", stderr)
	listen := fs.String("listen", regixSimAddr, "address to listen on (port 0 picks a free one)")
	data := fs.String("data", "", "folder of response documents (default: the bundled samples of the catalogue)")
	mode := fs.String("mode", string(regixsim.ModeNormal), "how to answer: normal, slow, has_error, invalid or fault; POST "+regixsim.SimControlPath+"?mode=… changes it while running")
	delay := fs.Duration("delay", 5*time.Second, "how long slow mode waits before answering (Execute: before CheckResult gives the result)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which is shown
		}
		return errUsage
	}
	if *listen == "" || fs.NArg() != 0 || *delay <= 0 {
		fs.Usage()
		return errUsage
	}
	m, err := regixsim.ParseMode(*mode)
	if err != nil {
		return err
	}
	var sim *regixsim.Simulator
	if *data == "" {
		sim = regixsim.NewSimulator(nil)
	} else {
		if st, err := os.Stat(*data); err != nil || !st.IsDir() {
			return fmt.Errorf("regix sim: -data %s is not a readable folder", *data)
		}
		sim = regixsim.NewSimulator(os.DirFS(*data))
	}
	if err := sim.Err(); err != nil {
		return err
	}
	sim.SetMode(m, *delay)
	// Signals are caught before the address is announced: whoever reads it may stop us at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("regix sim: %w (another address: -listen ADDR)", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "RegiX simulator listening on http://%s (mode %s; operations: %v)\n", ln.Addr(), m, sim.Operations())
	fmt.Fprintf(stdout, "  V2: http://%s/RegiX/RegiXEntryPointV2.svc (SOAP 1.1)\n  V1: http://%s/RegiX/RegiXEntryPoint.svc (SOAP 1.2, WS-Addressing)\n", ln.Addr(), ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("regix sim: %w", err)
	case <-ctx.Done():
	}
	// Slow answers in flight are cut short after a moment rather than awaited.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	fmt.Fprintln(stdout, "RegiX simulator stopped")
	return nil
}

// runRegixCheck validates a RegiX request or response document against the
// catalogue's schema and shows its operation and key fields.
func runRegixCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("regix check", "FILE", stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which is shown
		}
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
