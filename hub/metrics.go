package hub

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcomes of a message on a route: the values of the outcome label.
const (
	OutcomeDelivered  = "delivered"   // went through the steps to its sinks
	OutcomeDropped    = "dropped"     // a filter let it go no further
	OutcomeRetried    = "retried"     // an attempt failed and will be tried again (an inline one: from the transport)
	OutcomeDeadLetter = "dead_letter" // failed its last attempt and was kept as a dead letter
	OutcomeDiscarded  = "discarded"   // failed its last attempt on a route without dead letters
	OutcomeDuplicate  = "duplicate"   // was already processed: a redelivery, skipped
)

// Metrics are the hub's Prometheus metrics. They outlive a reload: one Metrics serves every engine
// a process runs. Label values are bounded by the configuration (route, step path, connector,
// outcome), never by messages.
type Metrics struct {
	Registry *prometheus.Registry

	messages   *prometheus.CounterVec   // route, outcome
	duration   *prometheus.HistogramVec // route
	steps      *prometheus.HistogramVec // route, step
	received   *prometheus.CounterVec   // connector, outcome
	deadLetter *prometheus.GaugeVec     // route
	backlog    *prometheus.GaugeVec     // route
	consumers  *prometheus.GaugeVec     // route
	reloads    *prometheus.CounterVec   // outcome
	packs      packCounter

	mu     sync.Mutex
	gauges func(ctx context.Context) gaugeValues

	// The gauges' last reading, reused by scrapes within gaugeMaxAge of it: counting a large
	// backlog or asking the broker for every route's queue is not free, and a scraper polling
	// many times a second would otherwise take that from the routes. The vectors keep the values
	// between readings; scrape serialises them.
	scrape   sync.Mutex
	lastRead time.Time
	reading  chan struct{} // closed when the reading under way ends; nil when none is
	gen      int           // counts the engines read, so that a late reading of an old one is dropped
}

// gaugeMaxAge is how long one reading of the gauges serves scrapes; Prometheus scrapes every 15 s
// or so, and a second is well under that.
const gaugeMaxAge = time.Second

// gaugeWait is how long a scrape waits for a new reading of the gauges before it answers with
// the last one: a broker or database that does not answer must not hold up the metrics, which
// are most wanted just then. The reading goes on, bounded by gaugeReadTimeout, and serves the
// scrapes after it.
const (
	gaugeWait        = 100 * time.Millisecond
	gaugeReadTimeout = 10 * time.Second
)

// gaugeValues are the gauges read from the running engine when scraped, by route.
type gaugeValues struct {
	deadLetters, backlog, consumers map[string]float64
}

// NewMetrics registers the hub's metrics, the Go and process collectors and build information
// in a new registry.
func NewMetrics(version string) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aiskao_route_messages_total",
			Help: "Messages handled by a route, by outcome.",
		}, []string{"route", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aiskao_route_processing_duration_seconds",
			Help:    "Time from a route taking a message to its outcome, retries included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aiskao_step_duration_seconds",
			Help:    "Time one step or one delivery to a sink took for one message.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"route", "step"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aiskao_source_messages_total",
			Help: "Messages a source connector received, by outcome (accepted: durably stored, or delivered by an inline route; failed: not stored, the sender was told).",
		}, []string{"connector", "outcome"}),
		deadLetter: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aiskao_dead_letters",
			Help: "Dead letters waiting for inspection or replay, by route.",
		}, []string{"route"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aiskao_transport_backlog_messages",
			Help: "Messages stored in the transport and not yet acknowledged by their route.",
		}, []string{"route"}),
		consumers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aiskao_transport_consumers",
			Help: "Consumers taking a route's messages, across every hub process, as the transport reports them (RabbitMQ).",
		}, []string{"route"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aiskao_config_reloads_total",
			Help: "Configuration reloads, by outcome (applied, refused).",
		}, []string{"outcome"}),
	}
	m.packs = packCounter{
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aiskao_transport_broker_messages_sent_total",
			Help: "Messages sent to the broker by a transport that packs (RabbitMQ with pack above 1): packs, and messages sent alone.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aiskao_transport_packed_messages_total",
			Help: "Messages those broker messages carried; divided by aiskao_transport_broker_messages_sent_total, the mean size of a pack.",
		}),
		splits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aiskao_transport_pack_splits_total",
			Help: "Packs delivered again (a process stopped while handling them) and split into their messages.",
		}),
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aiskao_build_info",
		Help: "Build information of the running hub; the value is 1.",
	}, []string{"version", "goversion"})
	info.WithLabelValues(version, runtime.Version()).Set(1)
	m.Registry.MustRegister(m.messages, m.duration, m.steps, m.received, m.reloads, info,
		m.packs.sent, m.packs.messages, m.packs.splits,
		gaugeCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// gaugeCollector reads dead-letter counts and transport backlog when scraped, from the engine
// running at that moment.
type gaugeCollector struct{ m *Metrics }

func (g gaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	g.m.deadLetter.Describe(ch)
	g.m.backlog.Describe(ch)
	g.m.consumers.Describe(ch)
}

func (g gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	m := g.m
	m.mu.Lock()
	read := m.gauges
	m.mu.Unlock()
	m.scrape.Lock()
	var wait chan struct{}
	if read != nil && time.Since(m.lastRead) >= gaugeMaxAge {
		if m.reading == nil {
			m.reading = make(chan struct{})
			go m.readGauges(read, m.gen, m.reading)
		}
		wait = m.reading
	}
	m.scrape.Unlock()
	if wait != nil {
		t := time.NewTimer(gaugeWait)
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
	}
	m.scrape.Lock()
	defer m.scrape.Unlock()
	m.deadLetter.Collect(ch)
	m.backlog.Collect(ch)
	m.consumers.Collect(ch)
}

// readGauges reads the gauges of engine generation gen and sets them, unless another engine
// runs by then.
func (m *Metrics) readGauges(read func(context.Context) gaugeValues, gen int, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), gaugeReadTimeout)
	v := read(ctx)
	cancel()
	m.scrape.Lock()
	defer m.scrape.Unlock()
	if m.reading == done {
		m.reading = nil
	}
	if gen != m.gen {
		return
	}
	m.lastRead = time.Now()
	for _, x := range []struct {
		vec  *prometheus.GaugeVec
		vals map[string]float64
	}{{m.deadLetter, v.deadLetters}, {m.backlog, v.backlog}, {m.consumers, v.consumers}} {
		x.vec.Reset()
		for r, n := range x.vals {
			x.vec.WithLabelValues(r).Set(n)
		}
	}
}

func (m *Metrics) setGauges(f func(ctx context.Context) gaugeValues) {
	m.expireGauges() // a new engine is read afresh
	m.mu.Lock()
	m.gauges = f
	m.mu.Unlock()
}

// expireGauges makes the next scrape read the gauges.
func (m *Metrics) expireGauges() {
	m.scrape.Lock()
	m.lastRead = time.Time{}
	m.gen++
	m.reading = nil // a reading under way is of the engine before
	m.scrape.Unlock()
}

// routeMetrics are one route's children of the vectors, looked up once at build time so that
// the hot path does no label hashing.
type routeMetrics struct {
	route    string
	outcome  map[string]prometheus.Counter
	duration prometheus.Observer
	stepVec  *prometheus.HistogramVec
	mu       sync.RWMutex
	steps    map[string]prometheus.Observer
}

func (m *Metrics) forRoute(route string) *routeMetrics {
	rm := &routeMetrics{
		route:    route,
		outcome:  map[string]prometheus.Counter{},
		duration: m.duration.WithLabelValues(route),
		stepVec:  m.steps,
		steps:    map[string]prometheus.Observer{},
	}
	for _, o := range []string{OutcomeDelivered, OutcomeDropped, OutcomeRetried, OutcomeDeadLetter, OutcomeDiscarded, OutcomeDuplicate} {
		rm.outcome[o] = m.messages.WithLabelValues(route, o)
	}
	return rm
}

func (rm *routeMetrics) count(outcome string) { rm.outcome[outcome].Inc() }

func (rm *routeMetrics) observeStep(step string, d time.Duration) {
	rm.mu.RLock()
	o, ok := rm.steps[step]
	rm.mu.RUnlock()
	if !ok {
		rm.mu.Lock()
		o = rm.stepVec.WithLabelValues(rm.route, step)
		rm.steps[step] = o
		rm.mu.Unlock()
	}
	o.Observe(d.Seconds())
}

// sourceMetrics counts what one source connector received.
type sourceMetrics struct {
	accepted, failed prometheus.Counter
}

func (m *Metrics) forSource(connector string) sourceMetrics {
	return sourceMetrics{
		accepted: m.received.WithLabelValues(connector, "accepted"),
		failed:   m.received.WithLabelValues(connector, "failed"),
	}
}

// packCounter counts the packs of the transport, for every engine the process runs.
type packCounter struct {
	sent, messages, splits prometheus.Counter
}

func (c packCounter) Sent(n int) {
	c.sent.Inc()
	c.messages.Add(float64(n))
}

func (c packCounter) Split(int) { c.splits.Inc() }
