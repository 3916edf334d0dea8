package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/aiskao/aiskao/web/gallery"
)

// webGalleryAddr is where `aiskao web gallery` listens by default, clear of the demo's, the
// peer's and the simulators' ports.
const webGalleryAddr = "127.0.0.1:8095"

// webUsage lists the web subcommands.
const webUsage = "Usage: aiskao web gallery [-listen ADDR]"

func runWeb(args []string, stdout, stderr io.Writer) error {
	return runSub("web", webUsage, map[string]func([]string, io.Writer, io.Writer) error{
		"gallery": runWebGallery,
	}, args, stdout, stderr)
}

// runWebGallery serves the web shell's gallery of page patterns until SIGTERM or SIGINT.
func runWebGallery(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("web gallery", "[-listen ADDR]\n\n"+
		"Образци на страниците на уеб приложенията / the web shell's page patterns, one a page,\n"+
		"in Bulgarian (default) and English (?lang=en).", stderr)
	listen := fs.String("listen", webGalleryAddr, "address to listen on (port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which is shown
		}
		return errUsage
	}
	if *listen == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	h, err := gallery.New()
	if err != nil {
		return err
	}
	// Signals are caught before the address is announced: whoever reads it may stop us at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("web gallery: %w (another address: -listen ADDR)", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "web gallery listening on http://%s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("web gallery: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	fmt.Fprintln(stdout, "web gallery stopped")
	return nil
}
