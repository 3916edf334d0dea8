package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aiskao/aiskao/admin/ops"
	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/routes"
)

// defaultConfig is the embedded demo, so that `go run ./cmd/aiskao serve` works from a clone.
const defaultConfig = "configs/demo.yaml"

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[-config FILE|DIR] [-data DIR]", stderr)
	config := fs.String("config", defaultConfig, "configuration file or folder")
	data := fs.String("data", "data", "data folder (embedded transport and store, file outputs)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "how long SIGTERM waits for messages in flight")
	newLogger := logFlags(fs, stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log, err := newLogger()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	cat := routes.DefaultCatalog()
	load := func() (*routes.Config, error) { return routes.Load(cat, *config) }
	cfg, err := load()
	if err != nil {
		return fmt.Errorf("configuration %s is invalid:\n%w", *config, err)
	}
	sup := hub.NewSupervisor(load, hub.Options{
		DataDir: *data,
		Logger:  log,
		Metrics: hub.NewMetrics(version),
		Catalog: cat,
	})
	ctx := context.Background()
	if err := sup.Start(ctx); err != nil {
		return err
	}

	var opsSrv *http.Server
	if cfg.Ops.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Ops.Listen)
		if err != nil {
			_ = sup.Stop(ctx)
			return fmt.Errorf("operations API: %w", err)
		}
		opsSrv = &http.Server{Handler: ops.Handler(opsBackend{sup}, sup.Metrics().Registry, log), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := opsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("operations API stopped", "error", err)
			}
		}()
		log.Info("operations API listening", "addr", ln.Addr().String())
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("SIGHUP: reloading configuration", "config", *config)
			if err := sup.Reload(ctx); err != nil {
				log.Error("configuration not reloaded", "error", err)
			}
			continue
		}
		log.Info("stopping: draining messages in flight", "signal", sig.String(), "timeout", drain.String())
		break
	}
	sctx, cancel := context.WithTimeout(ctx, *drain)
	defer cancel()
	err = sup.Stop(sctx)
	if opsSrv != nil {
		_ = opsSrv.Shutdown(sctx)
	}
	return err
}

// opsBackend adapts the supervisor to the operations API.
type opsBackend struct{ *hub.Supervisor }

// Replay replays a dead letter, telling the operations API when its route is gone.
func (b opsBackend) Replay(ctx context.Context, id string) (string, error) {
	mid, err := b.Supervisor.Replay(ctx, id)
	if errors.Is(err, hub.ErrUnknownRoute) {
		return "", fmt.Errorf("%w: %v", ops.ErrUnknownRoute, err)
	}
	return mid, err
}
