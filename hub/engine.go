// Package hub is the engine: it builds the configured routes onto a Watermill router, carries
// messages from source connectors through the durable transport to the routes' steps and sinks,
// and applies the middleware every route has (correlation, idempotency, dead letters, retries,
// panic recovery, step timeouts, metrics). It starts, drains on stop, and reloads.
package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transport"
)

// ErrUnknownRoute is returned by Replay when the dead letter's route is not configured any more.
var ErrUnknownRoute = errors.New("route is not configured")

// Options are what an engine needs besides its configuration.
type Options struct {
	DataDir string
	Logger  *slog.Logger
	Metrics *Metrics       // shared across reloads; NewMetrics when nil
	Catalog routes.Catalog // where steps and connectors are found; routes.DefaultCatalog() when empty
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics("dev")
	}
	if o.Catalog.Steps == nil {
		o.Catalog = routes.DefaultCatalog()
	}
	if o.DataDir == "" {
		o.DataDir = "data"
	}
}

// Engine runs one configuration.
type Engine struct {
	cfg  *routes.Config
	opts Options
	log  *slog.Logger

	tr     transport.Transport
	st     store.Store
	router *message.Router

	sources   map[string]connectors.Source
	sinks     map[string]connectors.Sink
	callers   map[string]connectors.Caller // connectors that steps call, by name
	pipes     map[string]*pipeline
	topicsOf  map[string][]string // source connector → topics of the routes reading from it
	servers   map[string]*http.ServeMux
	serverTLS map[string][2]string // certificate and key files of the servers, by address; "" for plain HTTP
	listeners []*http.Server

	work   *workers                // runs the routes' steps and deliveries
	inline map[string]*inlineRoute // inline routes by topic

	check bool // only built to be checked (Check): connectors create nothing

	stopSources context.CancelFunc
	sourcesDone sync.WaitGroup
	// sourceErrs holds why a source stopped before the engine did, by connector name: the hub
	// then reports not ready, since messages that source should take are refused.
	sourceErrs sync.Map
	routerDone chan struct{}
	outage     *storeOutage // the store's unavailability, logged once for every route
}

// Topic is the transport topic a route reads from.
func Topic(route string) string { return "route." + route }

// newEngine returns an engine of cfg with nothing built yet.
func newEngine(cfg *routes.Config, opts Options) *Engine {
	return &Engine{
		cfg: cfg, opts: opts, log: opts.Logger, outage: newStoreOutage(opts.Logger),
		sources:   map[string]connectors.Source{},
		sinks:     map[string]connectors.Sink{},
		callers:   map[string]connectors.Caller{},
		pipes:     map[string]*pipeline{},
		topicsOf:  map[string][]string{},
		servers:   map[string]*http.ServeMux{},
		serverTLS: map[string][2]string{},
	}
}

// Build makes an engine from a loaded configuration: it opens the transport and the store and
// builds every connector and step, so that a configuration that cannot run fails here, before
// anything starts. Nothing listens or flows until Start.
func Build(cfg *routes.Config, opts Options) (_ *Engine, err error) {
	opts.defaults()
	e := newEngine(cfg, opts)
	defer func() {
		if err != nil {
			e.closeResources()
		}
	}()
	if err := e.openTransportAndStore(); err != nil {
		return nil, err
	}
	if errs := e.buildRoutes(); len(errs) > 0 {
		return nil, errs
	}
	if err := e.buildRouter(); err != nil {
		return nil, err
	}
	e.work = newWorkers(routeWorkers)
	return e, nil
}

func (e *Engine) openTransportAndStore() error {
	tf, ok := e.opts.Catalog.Transports.Lookup(e.cfg.Transport.Type)
	if !ok {
		return fmt.Errorf("hub: transport type %q is not available", e.cfg.Transport.Type)
	}
	tr, err := tf.New(e.cfg.Transport.Config, transport.Env{DataDir: e.opts.DataDir, Logger: e.log.With("component", "transport"),
		Packs: e.opts.Metrics.packs})
	if err != nil {
		return fmt.Errorf("hub: transport %s: %w", e.cfg.Transport.Type, err)
	}
	e.tr = tr
	sf, ok := e.opts.Catalog.Stores.Lookup(e.cfg.Store.Type)
	if !ok {
		return fmt.Errorf("hub: store type %q is not available", e.cfg.Store.Type)
	}
	st, err := sf.New(e.cfg.Store.Config, store.Env{DataDir: e.opts.DataDir, Logger: e.log.With("component", "store")})
	if err != nil {
		return fmt.Errorf("hub: store %s: %w", e.cfg.Store.Type, err)
	}
	e.st = st
	return nil
}

func (e *Engine) connectorEnv(c routes.Connector) connectors.Env {
	return connectors.Env{
		Name:        c.Name,
		BaseDir:     c.BaseDir,
		DataDir:     e.opts.DataDir,
		Logger:      e.log, // connectors name themselves in their log lines
		Mux:         e.mux,
		ListenerTLS: e.listenerTLS,
		State:       e.state(),
		Journal:     e.journal(),
		Tokens:      e.tokens(),
		Check:       e.check,
	}
}

// state, journal and tokens give connectors the parts of the store they use, or nil (never a
// nil store inside an interface) when there is no store.
func (e *Engine) state() store.State {
	if e.st == nil {
		return nil
	}
	return e.st
}

func (e *Engine) journal() store.Journal {
	if e.st == nil {
		return nil
	}
	return e.st
}

func (e *Engine) tokens() apitoken.Lookup {
	if ts, ok := e.st.(apitoken.Lookup); ok {
		return ts
	}
	return nil
}

// mux returns the shared multiplexer of the HTTP server on addr, made on first use.
func (e *Engine) mux(addr string) (*http.ServeMux, error) {
	if m, ok := e.servers[addr]; ok {
		return m, nil
	}
	m := http.NewServeMux()
	e.servers[addr] = m
	return m, nil
}

// listenerTLS records the certificate of the server on addr, refusing a second connector that
// asks for another.
func (e *Engine) listenerTLS(addr, certFile, keyFile string) error {
	want := [2]string{certFile, keyFile}
	if got, ok := e.serverTLS[addr]; ok && got != want {
		describe := func(f [2]string) string {
			if f[0] == "" {
				return "plain HTTP"
			}
			return "HTTPS with " + f[0]
		}
		return fmt.Errorf("the server on %s serves %s for another connector, not %s: give every connector on one address the same tls", addr, describe(got), describe(want))
	}
	e.serverTLS[addr] = want
	return nil
}

func (e *Engine) buildSource(name string) error {
	if _, ok := e.sources[name]; ok {
		return nil
	}
	c, ok := e.cfg.Connectors[name]
	if !ok {
		return fmt.Errorf("hub: connector %q is not configured", name)
	}
	f, ok := e.opts.Catalog.Connectors.Lookup(c.Type)
	if !ok || f.NewSource == nil {
		return fmt.Errorf("hub: connector %q (type %s) cannot be a source", name, c.Type)
	}
	src, err := f.NewSource(c.Config, e.connectorEnv(c))
	if err != nil {
		return fmt.Errorf("hub: connector %q: %w", name, err)
	}
	e.sources[name] = src
	return nil
}

// sink returns the sink of a connector, built on first use and shared by every route.
func (e *Engine) sink(name string) (connectors.Sink, error) {
	if s, ok := e.sinks[name]; ok {
		return s, nil
	}
	c, ok := e.cfg.Connectors[name]
	if !ok {
		return nil, fmt.Errorf("hub: connector %q is not configured", name)
	}
	f, ok := e.opts.Catalog.Connectors.Lookup(c.Type)
	if !ok || f.NewSink == nil {
		return nil, fmt.Errorf("hub: connector %q (type %s) cannot be a sink", name, c.Type)
	}
	s, err := f.NewSink(c.Config, e.connectorEnv(c))
	if err != nil {
		return nil, fmt.Errorf("hub: connector %q: %w", name, err)
	}
	e.sinks[name] = s
	return s, nil
}

// caller gives the caller of a connector name for steps that call one, built once and shared.
func (e *Engine) caller(name string) (connectors.Caller, error) {
	if c, ok := e.callers[name]; ok {
		return c, nil
	}
	c, ok := e.cfg.Connectors[name]
	if !ok {
		return nil, fmt.Errorf("connector %q is not configured", name)
	}
	f, ok := e.opts.Catalog.Connectors.Lookup(c.Type)
	if !ok || f.NewCaller == nil {
		return nil, fmt.Errorf("connector %q (type %s) cannot be called from a step", name, c.Type)
	}
	cl, err := f.NewCaller(c.Config, e.connectorEnv(c))
	if err != nil {
		return nil, fmt.Errorf("connector %q: %w", name, err)
	}
	e.callers[name] = cl
	return cl, nil
}

func (e *Engine) buildRouter() error {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second},
		newRouterLogger(e.log.With("component", "router")))
	if err != nil {
		return fmt.Errorf("hub: router: %w", err)
	}
	for _, r := range e.cfg.Routes {
		sub, err := e.tr.Subscriber(r.Name, transport.WithPrefetch(r.Prefetch), transport.WithSettledCalls())
		if err != nil {
			return fmt.Errorf("hub: route %q: subscribe: %w", r.Name, err)
		}
		// Declare the route's queue (or group) now, before any source can publish, so that the
		// topology comes from the configuration and no message waits for the router to start.
		if si, ok := sub.(message.SubscribeInitializer); ok {
			if err := si.SubscribeInitialize(Topic(r.Name)); err != nil {
				return fmt.Errorf("hub: route %q: declare: %w", r.Name, err)
			}
		}
		p := e.pipes[r.Name]
		b := newBudget(r.MaxInFlightBytes)
		h := router.AddConsumerHandler(r.Name, Topic(r.Name), sub, e.handler(p, b))
		log := e.log.With("route", r.Name)
		if r.Inline {
			if e.inline == nil {
				e.inline = map[string]*inlineRoute{}
			}
			e.inline[Topic(r.Name)] = e.newInlineRoute(r.Name, p, b, log)
		}
		keep := r.OnError.DeadLetter == nil || *r.OnError.DeadLetter
		h.AddMiddleware(
			settle,
			measure(p.metrics),
			correlation(r.Name),
			idempotency(r.Name, e.st, log, e.outage, false),
			deadLetter(r.Name, e.st, keep, log, e.outage),
			poison(r.OnError.MaxDeliveries),
			retry(retryPolicy{
				max:          r.OnError.Retry.Max,
				backoff:      r.OnError.Retry.Backoff.D(),
				maxBackoff:   r.OnError.Retry.MaxBackoff.D(),
				multiplier:   r.OnError.Retry.Multiplier,
				jitter:       r.OnError.Retry.JitterShare(),
				handBackFrom: handBackFrom,
			}, p.metrics, log),
			recoverer(log),
		)
	}
	e.router = router
	return nil
}

// routeWorkers is how many goroutines with grown stacks an engine keeps for its routes' work
// (see workers); work beyond them runs on the router's goroutines.
const routeWorkers = 64

// handler takes one message through a route's steps to its sinks, once the route's budget of
// bytes in flight has room for it.
func (e *Engine) handler(p *pipeline, b *budget) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		w, err := b.take(msg.Context(), len(msg.Payload))
		if err != nil {
			return err
		}
		defer b.give(w)
		return e.work.do(func() error { return e.process(p, msg) })
	}
}

// emit stores messages received by a source for every route reading from it.
func (e *Engine) emit(name string, topics []string) connectors.Emit {
	pub := e.tr.Publisher()
	sm := e.opts.Metrics.forSource(name)
	var in *inlineRoute // an inline route's source feeds it alone
	if len(topics) == 1 {
		in = e.inline[topics[0]]
	}
	return func(ctx context.Context, msgs ...*message.Message) error {
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for _, m := range msgs {
			if m.Metadata == nil {
				m.Metadata = message.Metadata{}
			}
			if m.Metadata.Get(envelope.Source) == "" {
				m.Metadata.Set(envelope.Source, name)
			}
			if m.Metadata.Get(envelope.Time) == "" {
				m.Metadata.Set(envelope.Time, now)
			}
			if m.Metadata.Get(envelope.CorrelationID) == "" {
				m.Metadata.Set(envelope.CorrelationID, m.UUID)
			}
			// A transport that waits (for confirms, for a blocked broker) gives up when the
			// sender does, instead of holding the request and the engine's stop.
			m.SetContext(ctx)
		}
		if in != nil {
			// An inline route delivers what it can now; only the rest is stored.
			rest := msgs[:0:0]
			for _, m := range msgs {
				if !in.deliver(m) {
					rest = append(rest, m)
				}
			}
			sm.accepted.Add(float64(len(msgs) - len(rest)))
			if len(rest) == 0 {
				return nil
			}
			msgs = rest
		}
		if err := publishAll(pub, topics, msgs); err != nil {
			sm.failed.Add(float64(len(msgs)))
			return fmt.Errorf("store message: %w", err)
		}
		sm.accepted.Add(float64(len(msgs)))
		if in != nil {
			in.stored(len(msgs))
		}
		return nil
	}
}

// publishAll publishes msgs to every topic, to several at once: each publish waits for its
// commit (or the broker's confirms), and waiting for them one after another would add up in the
// answer to the sender of a source that feeds several routes. Publishers only read the messages.
func publishAll(pub message.Publisher, topics []string, msgs []*message.Message) error {
	if len(topics) == 1 {
		return pub.Publish(topics[0], msgs...)
	}
	errs := make([]error, len(topics))
	var wg sync.WaitGroup
	for i, t := range topics {
		wg.Go(func() { errs[i] = pub.Publish(t, msgs...) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Start runs the routes, then the sources, then the HTTP servers of the sources. It returns once
// everything listens, or with the first failure (after stopping what had started).
func (e *Engine) Start(ctx context.Context) error {
	e.routerDone = make(chan struct{})
	go func() {
		defer close(e.routerDone)
		if err := e.router.Run(context.WithoutCancel(ctx)); err != nil {
			e.log.Error("router stopped", "error", err)
		}
	}()
	select {
	case <-e.router.Running():
	case <-e.routerDone:
		return errors.New("hub: router did not start")
	}
	e.opts.Metrics.setGauges(e.gauges)

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stopSources = cancel
	for name, src := range e.sources {
		e.sourcesDone.Add(1)
		go func() {
			defer e.sourcesDone.Done()
			if err := src.Run(sctx, e.emit(name, e.topicsOf[name])); err != nil {
				e.sourceErrs.Store(name, err)
				e.log.Error("source stopped", "connector", name, "error", err)
			}
		}()
	}
	for addr, mux := range e.servers {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			_ = e.Stop(ctx)
			return fmt.Errorf("hub: listen on %s: %w", addr, err)
		}
		if f := e.serverTLS[addr]; f[0] != "" {
			cert, err := tls.LoadX509KeyPair(f[0], f[1])
			if err != nil {
				_ = ln.Close()
				_ = e.Stop(ctx)
				return fmt.Errorf("hub: HTTPS on %s: %w", addr, err)
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
				ClientAuth: tls.RequestClientCert})
		}
		// A client that sends slowly or holds a connection open must not hold it for ever: a
		// whole request (body within its size limit) is read within ReadTimeout.
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		e.listeners = append(e.listeners, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.log.Error("HTTP server stopped", "addr", addr, "error", err)
			}
		}()
		e.log.Info("listening", "addr", ln.Addr().String())
	}
	e.log.Info("hub started", "routes", len(e.cfg.Routes), "connectors", len(e.cfg.Connectors))
	return nil
}

// Stop drains the engine: sources stop taking messages (HTTP requests in progress finish and
// are answered), the routes finish the messages they hold within the transport's close timeout,
// then everything is closed. Messages stored but not yet processed, and any cut off by the
// timeout, stay in the transport for the next start.
func (e *Engine) Stop(ctx context.Context) error {
	e.opts.Metrics.setGauges(nil)
	for _, srv := range e.listeners {
		if err := srv.Shutdown(ctx); err != nil {
			e.log.Warn("HTTP server did not stop in time", "error", err)
		}
	}
	e.listeners = nil
	if e.stopSources != nil {
		e.stopSources()
		e.sourcesDone.Wait()
	}
	if e.router != nil {
		if err := e.router.Close(); err != nil {
			e.log.Warn("routes did not drain in time", "error", err)
		}
		if e.routerDone != nil {
			<-e.routerDone
		}
	}
	e.closeResources()
	e.log.Info("hub stopped")
	return nil
}

func (e *Engine) closeResources() {
	if e.work != nil {
		e.work.stop()
		e.work = nil
	}
	for name, s := range e.sinks {
		if err := s.Close(); err != nil {
			e.log.Warn("closing sink", "connector", name, "error", err)
		}
	}
	for name, c := range e.callers {
		if err := c.Close(); err != nil {
			e.log.Warn("closing caller", "connector", name, "error", err)
		}
	}
	if e.tr != nil {
		if err := e.tr.Close(); err != nil {
			e.log.Warn("closing transport", "error", err)
		}
	}
	if e.st != nil {
		if err := e.st.Close(); err != nil {
			e.log.Warn("closing store", "error", err)
		}
	}
}

// Store returns the engine's store (dead letters, idempotency keys, route state).
func (e *Engine) Store() store.Store { return e.st }

// Ready reports whether the engine can take and process messages.
func (e *Engine) Ready(ctx context.Context) error {
	if err := e.tr.Ready(ctx); err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	if err := e.st.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var failed error
	e.sourceErrs.Range(func(name, err any) bool {
		failed = fmt.Errorf("source %s stopped: %w", name, err.(error))
		return false
	})
	return failed
}

// Replay puts a dead letter's message back on its route, with the same id and metadata (less the
// attempt count), and removes the dead letter. It returns the message id.
func (e *Engine) Replay(ctx context.Context, id string) (string, error) {
	d, err := e.st.GetDeadLetter(ctx, id)
	if err != nil {
		return "", err
	}
	if _, ok := e.pipes[d.Route]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownRoute, d.Route)
	}
	msg := message.NewMessage(d.MessageID, d.Payload)
	msg.Metadata = message.Metadata(maps.Clone(d.Metadata))
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	delete(msg.Metadata, envelope.Attempt)
	if err := e.tr.Publisher().Publish(Topic(d.Route), msg); err != nil {
		return "", fmt.Errorf("hub: replay %s: %w", id, err)
	}
	if err := e.st.DeleteDeadLetter(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("hub: replay %s: remove dead letter: %w", id, err)
	}
	e.log.Info("dead letter replayed", "dead_letter_id", id, "message_id", d.MessageID, "route", d.Route)
	return d.MessageID, nil
}

// gauges reads the dead-letter counts, transport backlog and consumers for the metrics.
func (e *Engine) gauges(ctx context.Context) gaugeValues {
	v := gaugeValues{deadLetters: map[string]float64{}, backlog: map[string]float64{}, consumers: map[string]float64{}}
	if counts, err := e.st.CountDeadLetters(ctx); err == nil {
		for r, n := range counts {
			v.deadLetters[r] = float64(n)
		}
	}
	cc, counts := e.tr.(transport.ConsumerCounter)
	for _, r := range e.cfg.Routes {
		if n, err := e.tr.Backlog(ctx, Topic(r.Name), r.Name); err == nil {
			v.backlog[r.Name] = float64(n)
		}
		if counts {
			if n, err := cc.Consumers(ctx, Topic(r.Name), r.Name); err == nil {
				v.consumers[r.Name] = float64(n)
			}
		}
	}
	return v
}

// routerLogger is the router's logger, less the errors of messages handed back to the transport
// for a later retry: the retry middleware has logged those already, and they are no failure.
// Its info lines are logged at debug level.
type routerLogger struct {
	watermill.LoggerAdapter
	log *slog.Logger // what the adapter writes to, asked whether a level is on
}

// newRouterLogger returns the router's logger writing to log.
func newRouterLogger(log *slog.Logger) routerLogger {
	return routerLogger{watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}), log}
}

// on reports whether lines at level are logged. The router logs two trace lines for every
// message; the adapter would turn their fields into attributes before the handler turned them
// down.
func (l routerLogger) on(level slog.Level) bool { return l.log.Enabled(context.Background(), level) }

func (l routerLogger) Error(msg string, err error, fields watermill.LogFields) {
	if isHandedBack(err) {
		l.Debug(msg+": "+err.Error(), fields)
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l routerLogger) Info(msg string, fields watermill.LogFields) {
	if l.on(slog.LevelDebug) {
		l.LoggerAdapter.Info(msg, fields)
	}
}

func (l routerLogger) Debug(msg string, fields watermill.LogFields) {
	if l.on(slog.LevelDebug) {
		l.LoggerAdapter.Debug(msg, fields)
	}
}

func (l routerLogger) Trace(msg string, fields watermill.LogFields) {
	if l.on(watermill.LevelTrace) {
		l.LoggerAdapter.Trace(msg, fields)
	}
}

func (l routerLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return routerLogger{l.LoggerAdapter.With(fields), l.log} // attributes do not change what is on
}
