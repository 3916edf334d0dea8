package hub

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
)

// configs is a load function for a supervisor whose result a test swaps.
type configs struct {
	mu   sync.Mutex
	cfg  *routes.Config
	err  error
	hits int
}

func (c *configs) set(cfg *routes.Config, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg, c.err = cfg, err
}

func (c *configs) load() (*routes.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits++
	return c.cfg, c.err
}

func startSupervisor(t *testing.T, load func() (*routes.Config, error), dir string) *Supervisor {
	t.Helper()
	s := NewSupervisor(load, Options{DataDir: dir, Logger: quietLogger(), Metrics: NewMetrics("test")})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("supervisor Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func TestReplayAfterFixedConfiguration(t *testing.T) {
	broken, fixed := newRecorder(t, 503), newRecorder(t, 200)
	addr := freeAddr(t)
	text := `
connectors:
  in:     { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  remote: { type: http, url: "@URL@" }
routes:
  - name: forward
    from: in
    to: remote
    on_error: { retry: { max: 0 } }
`
	var cf configs
	cat := routes.DefaultCatalog()
	cf.set(parse(t, cat, text, map[string]string{"ADDR": addr, "URL": broken.srv.URL}), nil)
	s := startSupervisor(t, cf.load, t.TempDir())
	ctx := context.Background()

	body := `<Doc n="1"/>`
	id := accept(t, addr, "/in", "application/xml", body)
	waitFor(t, "a dead letter", func() bool { return outcomes(t, s.Metrics(), "forward", OutcomeDeadLetter) == 1 })
	dl := deadLetters(t, s.Store())
	if len(dl) != 1 || dl[0].MessageID != id {
		t.Fatalf("dead letters = %+v, want one of message %s", dl, id)
	}

	cf.set(parse(t, cat, text, map[string]string{"ADDR": addr, "URL": fixed.srv.URL}), nil)
	if err := s.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	got, err := s.Replay(ctx, dl[0].ID)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if got != id {
		t.Errorf("Replay returned message id %q, want %q", got, id)
	}
	waitFor(t, "the replayed message delivered", func() bool { return len(fixed.requests()) == 1 })
	req := fixed.requests()[0]
	if req.header.Get("X-Message-Id") != id || req.body != body {
		t.Errorf("fixed system got message %q with %q, want %q with %q", req.header.Get("X-Message-Id"), req.body, id, body)
	}
	if a := req.header.Get("Ce-Attempt"); a != "1" {
		t.Errorf("replayed message attempt = %q, want 1 (the count starts again)", a)
	}
	if _, err := s.Store().GetDeadLetter(ctx, dl[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dead letter after replay: err = %v, want ErrNotFound", err)
	}
	waitFor(t, "the delivered count", func() bool { return outcomes(t, s.Metrics(), "forward", OutcomeDelivered) == 1 })

	if _, err := s.Replay(ctx, "no-such-dead-letter"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Replay of an unknown id: err = %v, want store.ErrNotFound", err)
	}

	// A dead letter of a route that was since removed from the configuration.
	gone, err := s.Store().AddDeadLetter(ctx, store.DeadLetter{MessageID: "m-old", Route: "retired", Step: "to[0].remote", Error: "x", Attempts: 1, Payload: []byte("<a/>")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Replay(ctx, gone)
	if !errors.Is(err, ErrUnknownRoute) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("Replay of a dead letter of a removed route: err = %v, want ErrUnknownRoute naming it", err)
	}
	if _, err := s.Store().GetDeadLetter(ctx, gone); err != nil {
		t.Errorf("the dead letter of the removed route is gone after a refused replay: %v", err)
	}
}

func TestDuplicateIsSkipped(t *testing.T) {
	r := newRig(t, passThrough, nil, nil)
	ctx := context.Background()
	key := map[string]string{"Idempotency-Key": "order-2024-0001"}

	status, first := post(t, r.addr, "/in", "application/xml", "<Doc/>", key)
	if status != http.StatusAccepted {
		t.Fatalf("first POST: %d %s", status, first)
	}
	waitFor(t, "the first delivery", func() bool { return outcomes(t, r.metrics, "pass", OutcomeDelivered) == 1 })
	status, second := post(t, r.addr, "/in", "application/xml", "<Doc/>", key)
	if status != http.StatusAccepted || second != first {
		t.Fatalf("second POST: %d %s, want 202 with the same id as %s", status, second, first)
	}
	waitFor(t, "the duplicate counted", func() bool { return outcomes(t, r.metrics, "pass", OutcomeDuplicate) == 1 })

	// A redelivery straight onto the route's topic, as after a lost acknowledgement.
	id := answerID(t, first)
	msg := message.NewMessage(id, []byte("<Doc/>"))
	msg.Metadata.Set(envelope.ContentType, "application/xml")
	if err := r.eng.tr.Publisher().Publish(Topic("pass"), msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivery counted as duplicate", func() bool { return outcomes(t, r.metrics, "pass", OutcomeDuplicate) == 2 })
	if n := outcomes(t, r.metrics, "pass", OutcomeDelivered); n != 1 {
		t.Errorf("delivered = %v, want 1", n)
	}
	if got := files(t, filepath.Join(r.dir, "out")); len(got) != 1 {
		t.Errorf("files = %v, want one", got)
	}
	seen, err := r.eng.Store().Seen(ctx, "route:pass", id)
	if err != nil || !seen {
		t.Errorf("Seen(route:pass, %s) = %v, %v; want true", id, seen, err)
	}
}
