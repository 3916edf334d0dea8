package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aiskao/aiskao/admin/ops"
	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/bytesize"
	"github.com/aiskao/aiskao/internal/memlimit"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
)

// defaultConfig is the embedded demo, so that `go run ./cmd/aiskao serve` works from a clone.
const defaultConfig = "configs/demo.yaml"

// defaultGCPercent is the collector's target for serve. The hub allocates about 120 kB per
// message over a live heap of a few megabytes, so Go's default of 100 collects dozens of times a
// second; each collection also shrinks the idle workers' stacks, which the next deep schema
// validation grows again. At 400 the demo drains 40 % faster for some 30 MB more memory.
const defaultGCPercent = 400

// defaultGCHeadroom is the least headroom serve's collector keeps over the live heap
// (memlimit.Headroom). At 400 the live heap of small messages under load (some 10 MB) would grow
// five-fold between collections; within this it grows by 12 MiB, and a live heap of large
// messages in flight is collected when it has grown by 12 MiB or by half. 12 MiB against 16 MiB,
// `aiskao bench -transport rabbitmq -clients 16`, hub alone, three interleaved pairs: 418, 427,
// 388 against 431, 387, 384 µs a message, peak RSS 52.9–56.0 against 54.5–58.6 MB; beside the
// peer 1.36× and 1.40× its peak against 1.53×; over HTTP at 3.7 KB 194–213 against 170–191 µs, at
// 300 KB the same (8 MiB had cost a third more CPU: docs/plan.md). Before that, once the xpath step
// walked plain paths instead of cloning the XPath library's queries (a third fewer objects a
// message), 16 MiB against 32 MiB in interleaved runs of `aiskao bench`: at 3.7 KB over HTTP on a
// tmpfs 244, 254, 221 against 237, 240, 253 µs a message and a peak RSS of 58–59 MB instead of
// 70–73 MB; over RabbitMQ 654, 570, 694 against 799, 695, 661 µs and 57–61 MB instead of 72–73 MB;
// at 300 KB 2 421, 2 386 against 2 248, 2 306 µs (+5 %) and 98–100 MB instead of 103–109 MB.
// Earlier, 32 MiB against 64 MiB and 128 MiB: docs/plan.md, issue 20.
const defaultGCHeadroom = 12 << 20

// gcTarget returns the collector target serve runs with and where it comes from: GOGC from the
// environment wins, since the runtime has already applied it; otherwise the -gc-percent flag.
func gcTarget(flag int, env string) (int, string) {
	if env != "" {
		if env == "off" {
			return -1, "GOGC"
		}
		if n, err := strconv.Atoi(env); err == nil {
			return n, "GOGC"
		}
		// The runtime ignores a GOGC it cannot read and keeps its default; so does serve.
		return 100, "GOGC"
	}
	return flag, "-gc-percent"
}

// defaultProcsPerCPU is how many processors for Go code (GOMAXPROCS) serve runs per CPU it may
// use. A goroutine blocked in a file sync holds its processor until the runtime notices and
// hands the processor on; a hub that syncs files and its database thousands of times a second
// at one processor per CPU left a quarter of the CPU idle under the bench. With two per CPU the
// system keeps the CPUs busy with the other threads meanwhile: 90 % busy instead of 75 %, and
// about 10 % more messages a second (the median of five interleaved pairs).
const defaultProcsPerCPU = 2

// procsTarget returns the GOMAXPROCS serve runs with and where it comes from: GOMAXPROCS from
// the environment wins, as the runtime has applied it (its value is current); otherwise
// -procs, where 0 means defaultProcsPerCPU for each CPU the runtime found usable (current).
func procsTarget(flag int, env string, current int) (int, string) {
	switch {
	case env != "":
		return current, "GOMAXPROCS"
	case flag > 0:
		return flag, "-procs"
	}
	return defaultProcsPerCPU * current, "-procs"
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[-config FILE|DIR] [-data DIR]", stderr)
	config := fs.String("config", defaultConfig, "configuration file or folder")
	data := fs.String("data", "data", "data folder (embedded transport and store, file outputs)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "how long SIGTERM waits for messages in flight")
	gcPercent := fs.Int("gc-percent", defaultGCPercent, "garbage collector target, as GOGC, used when the environment sets no GOGC (GOMEMLIMIT caps memory as usual)")
	headroom := fs.String("gc-headroom", bytesize.Format(defaultGCHeadroom), "the collector lets the heap grow past the live heap by at most this or half the live heap, whichever is larger (a soft memory limit set after each collection), when the environment sets no GOMEMLIMIT; 0: off")
	procs := fs.Int("procs", 0, "processors running Go code, as GOMAXPROCS, used when the environment sets no GOMAXPROCS; 0: two per usable CPU")
	newLogger := logFlags(fs, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger()
	if err != nil {
		return err
	}
	cat := routes.DefaultCatalog()
	load := func() (*routes.Config, error) { return routes.Load(cat, *config) }
	cfg, err := load()
	if err != nil {
		return fmt.Errorf("configuration %s is invalid:\n%w", *config, err)
	}
	logServing(log, *config, *data, cfg)
	n, from := procsTarget(*procs, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0))
	if from == "-procs" {
		runtime.GOMAXPROCS(n)
	}
	log.Info("processors", "gomaxprocs", n, "cpus", runtime.NumCPU(), "from", from)
	gc, source := gcTarget(*gcPercent, os.Getenv("GOGC"))
	if source == "-gc-percent" {
		debug.SetGCPercent(gc)
	}
	headroomBytes, err := spec.ParseByteSize(*headroom)
	if err != nil {
		return fmt.Errorf("serve: -gc-headroom: %w", err)
	}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		log.Info("garbage collector", "gc_percent", gc, "from", source, "memory_limit", os.Getenv("GOMEMLIMIT"))
	case headroomBytes > 0:
		defer memlimit.Headroom(headroomBytes)()
		log.Info("garbage collector", "gc_percent", gc, "from", source, "headroom", *headroom, "memory", bytesize.Format(memlimit.Available()))
	default:
		log.Info("garbage collector", "gc_percent", gc, "from", source)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	sup := hub.NewSupervisor(load, hub.Options{
		DataDir: *data,
		Logger:  log,
		Metrics: hub.NewMetrics(version),
		Catalog: cat,
	})
	ctx := context.Background()
	if err := sup.Start(ctx); err != nil {
		var errs spec.Errors
		if errors.As(err, &errs) {
			return fmt.Errorf("configuration %s cannot run:\n%w", *config, err)
		}
		return err
	}

	// Signals are caught from here on: a SIGTERM or SIGHUP sent once the operations API says the
	// hub is ready must not meet the default action (the end of the process) while the web sites
	// are still being built.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	// The web sites are built before the operations API listens: when /readyz first answers, the
	// whole process is up (a site that cannot open its store then stops serve at once).
	stopWeb, err := startWeb(ctx, cfg, webDeps{config: *config, data: *data, baseDir: cfg.Web.BaseDir, log: log})
	if err != nil {
		_ = sup.Stop(ctx)
		return err
	}

	var opsSrv *http.Server
	if cfg.Ops.Listen != "" {
		ln, handler, err := opsListener(cfg.Ops, opsBackend{sup}, sup.Metrics().Registry, log)
		if err != nil {
			stopWeb(ctx)
			_ = sup.Stop(ctx)
			return err
		}
		opsSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := opsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("operations API stopped", "error", err)
			}
		}()
		log.Info("operations API listening", "addr", ln.Addr().String())
	}

	// What loading the configuration, schemas, catalogues and templates left behind is given back
	// to the system now, instead of waiting for the heap to grow to the next collection: an idle
	// hub otherwise kept twice its live heap (≈ 50 MB) resident.
	debug.FreeOSMemory()

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
	stopWeb(sctx)
	err = sup.Stop(sctx)
	if opsSrv != nil {
		_ = opsSrv.Shutdown(sctx)
	}
	return err
}

// opsListener opens the operations API's listener, with TLS when ops.tls has a certificate, and
// its handler with the API's authentication. aiskao_auth_refused_total joins the hub's metrics.
func opsListener(o routes.Ops, b ops.Backend, reg *prometheus.Registry, log *slog.Logger) (net.Listener, http.Handler, error) {
	sec := ops.Security{CertFile: resolvePath(o.BaseDir, o.TLS.Cert), KeyFile: resolvePath(o.BaseDir, o.TLS.Key),
		ClientCAFile: resolvePath(o.BaseDir, o.TLS.ClientCA), Clients: map[string]identity.Role{}}
	for subject, role := range o.TLS.Clients {
		sec.Clients[subject] = identity.Role(role)
	}
	if err := sec.CheckListen(o.Listen); err != nil {
		return nil, nil, err
	}
	tc, err := sec.TLSConfig()
	if err != nil {
		return nil, nil, err
	}
	auth, err := sec.Authenticator(b)
	if err != nil {
		return nil, nil, err
	}
	if err := reg.Register(httpauth.Collector()); err != nil {
		return nil, nil, fmt.Errorf("operations API: metrics: %w", err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("operations API: %w", err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, ops.Handler(b, reg, auth, log), nil
}

// resolvePath makes a relative file name relative to the configuration's folder.
func resolvePath(base, name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(base, name)
}

// logServing says first what the hub serves: the configuration and its files, the data folder,
// the transport and the store, and the endpoints it listens on (sources with an address, the
// operations API). Connection strings are not logged: they may hold passwords.
func logServing(log *slog.Logger, config, data string, cfg *routes.Config) {
	abs, err := filepath.Abs(data)
	if err != nil {
		abs = data
	}
	log.Info("serving configuration", "config", config, "files", strings.Join(cfg.Files, ","), "data", abs,
		"transport", cfg.Transport.Type, "store", cfg.Store.Type, "connectors", len(cfg.Connectors), "routes", len(cfg.Routes))
	routesOf := map[string][]string{}
	for _, r := range cfg.Routes {
		routesOf[r.From] = append(routesOf[r.From], r.Name)
	}
	names := make([]string, 0, len(routesOf))
	for name := range routesOf {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cfg.Connectors[name]
		addr, path := option(c.Config, "Listen"), option(c.Config, "Path")
		if addr == "" {
			continue // a source that listens on nothing (a folder, a queue)
		}
		attrs := []any{"connector", name, "type", c.Type, "addr", addr}
		if path != "" {
			attrs = append(attrs, "path", path)
		}
		log.Info("endpoint", append(attrs, "routes", strings.Join(routesOf[name], ","))...)
	}
	// Connectors that serve an API of their own beside their routes (the dossiers' JSON API).
	all := make([]string, 0, len(cfg.Connectors))
	for name := range cfg.Connectors {
		all = append(all, name)
	}
	sort.Strings(all)
	for _, name := range all {
		c := cfg.Connectors[name]
		if addr := option(section(c.Config, "API"), "Listen"); addr != "" {
			log.Info("endpoint", "connector", name, "type", c.Type+" API", "addr", addr, "path", "/api/v1/")
		}
	}
	if cfg.Ops.Listen != "" {
		log.Info("endpoint", "connector", "ops", "type", "operations API", "addr", cfg.Ops.Listen, "path", "/api/v1/, /metrics, /healthz, /readyz")
	} else {
		log.Info("operations API off: ops.listen is not set")
	}
}

// option returns the string option of a connector's decoded options by its Go field name, or ""
// when its type has no such option: the listening sources name their address Listen and their
// path Path.
func option(cfg any, field string) string {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// section is the struct (or pointer to one) a configuration holds in field, or nil.
func section(cfg any, field string) any {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName(field)
	if !f.IsValid() || (f.Kind() == reflect.Pointer && f.IsNil()) || (f.Kind() != reflect.Pointer && f.Kind() != reflect.Struct) {
		return nil
	}
	return f.Interface()
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
