package hub

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/routes"
)

func TestSupervisorReload(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	cat := routes.DefaultCatalog()
	vars := map[string]string{"ADDR": addr}
	first := parse(t, cat, `
connectors:
  in: { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  a:  { type: file, dir: out/a, fsync: false }
routes:
  - name: first
    from: in
    to: a
`, vars)
	second := parse(t, cat, `
connectors:
  in: { type: http, auth: { type: none }, listen: "@ADDR@", path: /v2, content_types: [application/xml] }
  b:  { type: file, dir: out/b, fsync: false }
routes:
  - name: second
    from: in
    to: b
`, vars)
	unbuildable := parse(t, cat, `
connectors:
  in: { type: http, auth: { type: none }, listen: "@ADDR@", path: /v3, content_types: [application/json] }
  b:  { type: file, dir: out/b, fsync: false }
routes:
  - name: third
    from: in
    steps:
      - json_schema: { schema: no/such/schema.json }
    to: b
`, vars)

	var cf configs
	cf.set(first, nil)
	s := startSupervisor(t, cf.load, dir)
	m := s.Metrics()
	ctx := context.Background()
	reloads := func(outcome string) float64 {
		return metricValue(t, m, "aiskao_config_reloads_total", map[string]string{"outcome": outcome})
	}
	accept(t, addr, "/in", "application/xml", "<one/>")
	waitFor(t, "the first delivery", func() bool { return len(files(t, filepath.Join(dir, "out", "a"))) == 1 })

	refusals := []struct {
		name string
		cfg  *routes.Config
		err  error
		has  string
	}{
		{"configuration does not load", nil, errors.New("hub.yaml:3:5: routes[0].to: connector \"x\" is not configured"), "hub.yaml:3:5"},
		{"configuration does not build", unbuildable, nil, "steps[0].json_schema"},
	}
	for i, tt := range refusals {
		cf.set(tt.cfg, tt.err)
		err := s.Reload(ctx)
		if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), tt.has) {
			t.Errorf("%s: Reload err = %v, want a refusal naming %q", tt.name, err, tt.has)
		}
		if got := reloads("refused"); got != float64(i+1) {
			t.Errorf("%s: refused reloads = %v, want %d", tt.name, got, i+1)
		}
		// The running configuration still takes and delivers messages.
		accept(t, addr, "/in", "application/xml", "<still/>")
		waitFor(t, "delivery by the old configuration", func() bool { return len(files(t, filepath.Join(dir, "out", "a"))) == i+2 })
		if err := s.Ready(ctx); err != nil {
			t.Errorf("%s: Ready after a refused reload: %v", tt.name, err)
		}
	}
	if got := reloads("applied"); got != 0 {
		t.Errorf("applied reloads = %v, want 0", got)
	}

	cf.set(second, nil)
	if err := s.Reload(ctx); err != nil {
		t.Fatalf("Reload of a valid configuration: %v", err)
	}
	forgetConnections()
	if got := reloads("applied"); got != 1 {
		t.Errorf("applied reloads = %v, want 1", got)
	}
	id := accept(t, addr, "/v2", "application/xml", "<two/>")
	waitFor(t, "delivery by the new route", func() bool { return len(files(t, filepath.Join(dir, "out", "b"))) == 1 })
	if got := files(t, filepath.Join(dir, "out", "b")); got[0] != id+".xml" {
		t.Errorf("out/b = %v, want %s.xml", got, id)
	}
	if status, _ := post(t, addr, "/in", "application/xml", "<old/>", nil); status != http.StatusNotFound {
		t.Errorf("POST to the removed path: %d, want 404", status)
	}
	waitFor(t, "the new route's count", func() bool { return outcomes(t, m, "second", OutcomeDelivered) == 1 })
	if got := outcomes(t, m, "first", OutcomeDelivered); got != 3 {
		t.Errorf("first route delivered = %v, want 3 (metrics outlive the reload)", got)
	}
}

// A stop while a message is in flight to a slow system: the message is cut off, not failed. Every
// accepted message is delivered, before the stop or by the next engine on the same data folder,
// and none becomes a dead letter.
// TestStopFinishesMessagesInFlight: Stop lets the message being delivered finish (drain) and
// takes no new one; the rest are delivered after the next start.
func TestStopFinishesMessagesInFlight(t *testing.T) {
	const n = 5
	slow := newRecorder(t, 200)
	slow.delays = []time.Duration{0, 700 * time.Millisecond, 0}
	text := `
transport: { type: embedded, prefetch: 1 }
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  slow:  { type: http, url: "@URL@" }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: drain
    from: in
    to: [slow, files]
`
	dir, cat := t.TempDir(), routes.DefaultCatalog()
	out := filepath.Join(dir, "out")
	m1, addr := NewMetrics("test"), freeAddr(t)
	e1 := startEngine(t, parse(t, cat, text, map[string]string{"ADDR": addr, "URL": slow.srv.URL}), cat, dir, m1)
	for range n {
		accept(t, addr, "/in", "application/xml", "<Doc/>")
	}
	waitFor(t, "the second message in flight", func() bool { return len(slow.requests()) == 2 })
	if err := e1.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := files(t, out); len(got) != 2 {
		t.Fatalf("files after stop = %v, want the first two: the one in flight is finished", got)
	}
	if got := len(slow.requests()); got != 2 {
		t.Errorf("%d requests before the restart, want 2: no new message is taken while stopping", got)
	}
	e2 := startEngine(t, parse(t, cat, text, map[string]string{"ADDR": freeAddr(t), "URL": slow.srv.URL}), cat, dir, NewMetrics("test"))
	waitFor(t, "every message delivered after the restart", func() bool { return len(files(t, out)) == n })
	if dl := deadLetters(t, e2.Store()); len(dl) != 0 {
		t.Errorf("dead letters: %+v", dl)
	}
}

// TestStopCutsOffAfterCloseTimeoutAndRestartDelivers: a delivery that does not finish within the
// transport's close_timeout is cut off; the message is delivered again after the restart, not
// dead-lettered.
func TestStopCutsOffAfterCloseTimeoutAndRestartDelivers(t *testing.T) {
	const n = 10
	slow := newRecorder(t, 200)
	// The second request hangs until the hub gives it up; the redelivery after the restart and
	// all later ones are answered at once.
	slow.delays = []time.Duration{0, time.Minute, 0}
	text := `
transport: { type: embedded, prefetch: 1, close_timeout: 500ms }
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  slow:  { type: http, url: "@URL@" }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: drain
    from: in
    to: [slow, files]
`
	dir, cat := t.TempDir(), routes.DefaultCatalog()
	out := filepath.Join(dir, "out")
	m1, addr := NewMetrics("test"), freeAddr(t)
	e1 := startEngine(t, parse(t, cat, text, map[string]string{"ADDR": addr, "URL": slow.srv.URL}), cat, dir, m1)
	ids := map[string]bool{}
	for range n {
		ids[accept(t, addr, "/in", "application/xml", "<Doc/>")+".xml"] = true
	}
	waitFor(t, "the second message in flight", func() bool { return len(slow.requests()) == 2 })
	start := time.Now()
	if err := e1.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v", d)
	}
	if got := files(t, out); len(got) != 1 {
		t.Fatalf("files after stop = %v, want the first message's only", got)
	}
	if got := outcomes(t, m1, "drain", OutcomeDelivered); got != 1 {
		t.Errorf("delivered before stop = %v, want 1", got)
	}
	if got := outcomes(t, m1, "drain", OutcomeDeadLetter); got != 0 {
		t.Errorf("dead letters counted before stop = %v, want 0", got)
	}

	m2 := NewMetrics("test")
	e2 := startEngine(t, parse(t, cat, text, map[string]string{"ADDR": freeAddr(t), "URL": slow.srv.URL}), cat, dir, m2)
	waitFor(t, "every message delivered after the restart", func() bool { return len(files(t, out)) == n })
	for _, f := range files(t, out) {
		if !ids[f] {
			t.Errorf("unexpected file %s", f)
		}
	}
	if dl := deadLetters(t, e2.Store()); len(dl) != 0 {
		t.Errorf("dead letters after stop and restart: %+v", dl)
	}
	waitFor(t, "the second engine's count", func() bool { return outcomes(t, m2, "drain", OutcomeDelivered) == n-1 })
}
