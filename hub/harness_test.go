package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/aiskao/aiskao/connectors"
	_ "github.com/aiskao/aiskao/connectors/all"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/internal/freeport"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
	_ "github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/transforms"
	_ "github.com/aiskao/aiskao/transforms/all"
	"github.com/aiskao/aiskao/transport"
)

// The engine tests run real configurations on the real embedded transport and SQLite store in a
// temporary data folder, with real connectors: messages come in by HTTP POST and leave as files
// or as HTTP requests to a test server.

// freeAddr returns a loopback address that was free a moment ago. The engine's HTTP servers are
// shared by address between sources, so a configuration cannot ask for port 0.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// parse loads a configuration written in a test. Each @NAME@ in text is replaced by vars[NAME]
// first (addresses and URLs known only at run time).
func parse(t *testing.T, cat routes.Catalog, text string, vars map[string]string) *routes.Config {
	t.Helper()
	cfg, err := parseErr(t, cat, text, vars)
	if err != nil {
		t.Fatalf("configuration does not load:\n%v\n%s", err, text)
	}
	return cfg
}

func parseErr(t *testing.T, cat routes.Catalog, text string, vars map[string]string) (*routes.Config, error) {
	t.Helper()
	for k, v := range vars {
		text = strings.ReplaceAll(text, "@"+k+"@", v)
	}
	return routes.Parse(cat, filepath.Join(t.TempDir(), "hub.yaml"), []byte(text))
}

// rig is one engine running in a test, with its data folder and metrics.
type rig struct {
	t       *testing.T
	dir     string
	addr    string
	metrics *Metrics
	eng     *Engine
}

// startEngine builds and starts cfg on the data folder dir; the engine is stopped when the test
// ends unless the test stops it first.
func startEngine(t *testing.T, cfg *routes.Config, cat routes.Catalog, dir string, m *Metrics) *Engine {
	t.Helper()
	if m == nil {
		m = NewMetrics("test")
	}
	e, err := Build(cfg, Options{DataDir: dir, Logger: quietLogger(), Metrics: m, Catalog: cat})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var once sync.Once
	stop := func() { _ = e.Stop(context.Background()) }
	t.Cleanup(func() { once.Do(stop) })
	return e
}

// newRig parses text with ADDR (a free address) and DATA (the data folder) and the given vars,
// then builds and starts it with the default catalog unless cat is set.
func newRig(t *testing.T, text string, vars map[string]string, cat *routes.Catalog) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), addr: freeAddr(t), metrics: NewMetrics("test")}
	all := map[string]string{"ADDR": r.addr}
	for k, v := range vars {
		all[k] = v
	}
	c := routes.DefaultCatalog()
	if cat != nil {
		c = *cat
	}
	r.eng = startEngine(t, parse(t, c, text, all), c, r.dir, r.metrics)
	return r
}

// post sends body to path on addr and returns the status and the answer. Like a client that
// honours Retry-After, it tries again while the source answers that it is not accepting yet: a
// source starts taking messages a moment after the engine's Start returns.
func post(t *testing.T, addr, path, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		status, answer := postOnce(t, addr, path, contentType, body, header)
		if status != http.StatusServiceUnavailable || !strings.Contains(answer, "not accepting messages yet") || time.Now().After(deadline) {
			return status, answer
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func postOnce(t *testing.T, addr, path, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// forgetConnections drops the client's idle connections after a reload. The replaced engine's
// server has closed them; a client learns so only when it sends on one, and Go's client sends a
// POST again on a fresh connection only when it carries an Idempotency-Key.
func forgetConnections() { http.DefaultClient.CloseIdleConnections() }

// accept posts body and fails the test unless the hub answers 202; it returns the message id.
func accept(t *testing.T, addr, path, contentType, body string) string {
	t.Helper()
	status, answer := post(t, addr, path, contentType, body, nil)
	if status != http.StatusAccepted {
		t.Fatalf("POST %s: status %d (%s), want 202", path, status, strings.TrimSpace(answer))
	}
	return answerID(t, answer)
}

// answerID returns the message id in the answer of the http source.
func answerID(t *testing.T, answer string) string {
	t.Helper()
	var id string
	if _, err := fmt.Sscanf(strings.TrimSpace(answer), `{"id":%q}`, &id); err != nil {
		t.Fatalf("answer %q holds no id: %v", answer, err)
	}
	return id
}

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUpTo(t, 5*time.Second, what, cond)
}

// waitLong is waitFor with room for retries that wait seconds.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUpTo(t, 20*time.Second, what, cond)
}

// waitUpTo polls cond until it holds, failing the test after timeout.
func waitUpTo(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// files lists the names of the finished files in dir (a file sink's temporary files excluded).
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// metricValue gathers reg and returns the value of the counter or gauge name whose labels
// include labels; 0 when there is none.
func metricValue(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	m.expireGauges()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			if hasLabels(mt, labels) {
				switch {
				case mt.Counter != nil:
					return mt.Counter.GetValue()
				case mt.Gauge != nil:
					return mt.Gauge.GetValue()
				}
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// outcomes returns the count of aiskao_route_messages_total for route and outcome.
func outcomes(t *testing.T, m *Metrics, route, outcome string) float64 {
	t.Helper()
	return metricValue(t, m, "aiskao_route_messages_total", map[string]string{"route": route, "outcome": outcome})
}

// deadLetters lists the dead letters of the engine's store, with their payloads.
func deadLetters(t *testing.T, st store.Store) []store.DeadLetter {
	t.Helper()
	ctx := context.Background()
	list, err := st.ListDeadLetters(ctx, store.Filter{})
	if err != nil {
		t.Fatalf("ListDeadLetters: %v", err)
	}
	for i, d := range list {
		full, err := st.GetDeadLetter(ctx, d.ID)
		if err != nil {
			t.Fatalf("GetDeadLetter %s: %v", d.ID, err)
		}
		list[i] = full
	}
	return list
}

// request is what a test HTTP server received.
type request struct {
	header http.Header
	body   string
}

// recorder is an HTTP server standing for a system the hub delivers to. It answers each request
// with the next status of its script, and the last one from then on; likewise it first waits the
// next of its delays (or until the request is given up).
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []int
	delays []time.Duration
	got    []request
}

func newRecorder(t *testing.T, script ...int) *recorder {
	t.Helper()
	r := &recorder{script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{header: req.Header.Clone(), body: string(body)})
		status := r.script[0]
		if len(r.script) > 1 {
			r.script = r.script[1:]
		}
		var delay time.Duration
		if len(r.delays) > 0 {
			delay = r.delays[0]
			if len(r.delays) > 1 {
				r.delays = r.delays[1:]
			}
		}
		r.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d from the test system", status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// testCatalog is the default catalog with extra steps that misbehave on purpose.
func testCatalog(extra ...transforms.Factory) routes.Catalog {
	steps := registry.New[transforms.Factory]("step")
	for _, name := range transforms.Default.Names() {
		f, _ := transforms.Default.Lookup(name)
		steps.Register(name, f)
	}
	for _, f := range extra {
		steps.Register(f.Name, f)
	}
	return routes.Catalog{
		Connectors: connectors.Default,
		Steps:      steps,
		Transports: transport.Default,
		Stores:     store.Default,
	}
}

// stepFunc is a step made of a function.
type stepFunc func(ctx context.Context, m *transforms.Message) error

func (f stepFunc) Apply(ctx context.Context, m *transforms.Message) error { return f(ctx, m) }

// noOptions is the options of the test steps, which have none.
type noOptions struct{}

// panicStep panics on a payload containing "boom" and lets every other message through.
var panicStep = transforms.Factory{
	Name: "panic_on_boom", Doc: "Panics on a payload containing boom.", Config: &noOptions{},
	New: func(any, transforms.Env) (transforms.Step, error) {
		return stepFunc(func(_ context.Context, m *transforms.Message) error {
			p, err := m.Payload()
			if err != nil {
				return err
			}
			if strings.Contains(string(p), "boom") {
				panic("step exploded on " + m.ID)
			}
			return nil
		}), nil
	},
}

// blockStep waits until its context ends, as a step stuck on a slow remote system would.
var blockStep = transforms.Factory{
	Name: "block", Doc: "Waits until its context ends.", Config: &noOptions{},
	New: func(any, transforms.Env) (transforms.Step, error) {
		return stepFunc(func(ctx context.Context, _ *transforms.Message) error {
			<-ctx.Done()
			return fmt.Errorf("block: %w", ctx.Err())
		}), nil
	},
}
