package hub

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/transforms"
)

func TestPanicBecomesDeadLetterAndHubGoesOn(t *testing.T) {
	cat := testCatalog(panicStep)
	r := newRig(t, `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: fragile
    from: in
    steps:
      - panic_on_boom: {}
    to: files
    on_error: { retry: { max: 3, backoff: 5ms } }
`, nil, &cat)
	bad := accept(t, r.addr, "/in", "application/xml", "<boom/>")
	waitFor(t, "a dead letter", func() bool { return outcomes(t, r.metrics, "fragile", OutcomeDeadLetter) == 1 })
	good := accept(t, r.addr, "/in", "application/xml", "<fine/>")
	waitFor(t, "the next message delivered", func() bool { return outcomes(t, r.metrics, "fragile", OutcomeDelivered) == 1 })

	if got := files(t, filepath.Join(r.dir, "out")); !slices.Equal(got, []string{good + ".xml"}) {
		t.Errorf("files = %v, want only %s.xml", got, good)
	}
	dl := deadLetters(t, r.eng.Store())
	if len(dl) != 1 {
		t.Fatalf("dead letters = %d, want 1", len(dl))
	}
	d := dl[0]
	if d.MessageID != bad || d.Attempts != 1 || !strings.Contains(d.Error, "panic") || !strings.Contains(d.Error, "step exploded") {
		t.Errorf("dead letter = {message %s, attempts %d, error %q}, want message %s after 1 attempt (a panic is not retried) with the panic", d.MessageID, d.Attempts, d.Error, bad)
	}
	if n := outcomes(t, r.metrics, "fragile", OutcomeRetried); n != 0 {
		t.Errorf("retried = %v, want 0", n)
	}
}

const blockConfig = `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: slow
    from: in
    timeout: 50ms
    steps:
      - block: {}
    to: files
    on_error: { retry: { max: 1, backoff: 5ms } }
`

func TestStepTimeoutIsRetried(t *testing.T) {
	cat := testCatalog(blockStep)
	r := newRig(t, blockConfig, nil, &cat)
	id := accept(t, r.addr, "/in", "application/xml", "<Doc/>")
	waitFor(t, "a dead letter", func() bool { return outcomes(t, r.metrics, "slow", OutcomeDeadLetter) == 1 })
	dl := deadLetters(t, r.eng.Store())
	if len(dl) != 1 {
		t.Fatalf("dead letters = %d, want 1", len(dl))
	}
	d := dl[0]
	if d.MessageID != id || d.Step != "steps[0].block" || d.Attempts != 2 || !strings.Contains(d.Error, "step timed out") {
		t.Errorf("dead letter = {message %s, step %s, attempts %d, error %q}, want %s at steps[0].block after 2 attempts, timed out",
			d.MessageID, d.Step, d.Attempts, d.Error, id)
	}
	if n := outcomes(t, r.metrics, "slow", OutcomeRetried); n != 1 {
		t.Errorf("retried = %v, want 1", n)
	}
}

func TestTryReportsTimeoutAsNotPermanent(t *testing.T) {
	cat := testCatalog(blockStep)
	cfg := parse(t, cat, blockConfig, map[string]string{"ADDR": freeAddr(t)})
	tr, err := Try(context.Background(), cfg, "slow", []byte("<Doc/>"), nil, Options{Logger: quietLogger(), Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if tr.FailedStep != "steps[0].block" || tr.Permanent || !strings.Contains(tr.Error, "step timed out") {
		t.Errorf("trace = {failed %q, permanent %v, error %q}, want steps[0].block, false, timed out", tr.FailedStep, tr.Permanent, tr.Error)
	}
}

func TestDeadLetterLeavesCutOffMessageForRedelivery(t *testing.T) {
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	failing := func(*message.Message) ([]*message.Message, error) {
		return nil, errors.New("http sink remote: context canceled")
	}
	tests := []struct {
		name      string
		stopped   bool
		wantErr   bool
		wantStore int
	}{
		{"failed message is kept", false, false, 1},
		{"message cut off by a stop is left unacknowledged", true, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			msg := message.NewMessage("m-"+strings.ReplaceAll(tt.name, " ", "-"), []byte("<a/>"))
			msg.SetContext(ctx)
			if tt.stopped {
				cancel()
			}
			route := "r" + strings.ReplaceAll(tt.name, " ", "-")
			_, err := deadLetter(route, st, true, quietLogger(), newStoreOutage(quietLogger()))(failing)(msg)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			list, lerr := st.ListDeadLetters(context.Background(), store.Filter{Route: route})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(list) != tt.wantStore {
				t.Errorf("dead letters = %d, want %d", len(list), tt.wantStore)
			}
		})
	}
}

// A route whose steps wait on a slow system must not hold up the others: with more of its
// messages in flight than the engine has workers, another route still delivers.
func TestSlowRouteDoesNotStarveOthers(t *testing.T) {
	var held atomic.Int32
	release := make(chan struct{})
	hold := transforms.Factory{
		Name: "hold", Doc: "Waits until the test releases it.", Config: &noOptions{},
		New: func(any, transforms.Env) (transforms.Step, error) {
			return stepFunc(func(ctx context.Context, _ *transforms.Message) error {
				held.Add(1)
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}), nil
		},
	}
	cat := testCatalog(hold)
	r := newRig(t, `
transport: { type: embedded, prefetch: 200 }
connectors:
  slow-in: { type: http, auth: { type: none }, listen: "@ADDR@", path: /slow }
  fast-in: { type: http, auth: { type: none }, listen: "@ADDR@", path: /fast }
  files:   { type: file, dir: out, fsync: false }
routes:
  - name: slow
    from: slow-in
    timeout: 5m
    steps:
      - hold: {}
    to: files
  - name: fast
    from: fast-in
    to: files
`, nil, &cat)
	defer close(release)
	n := routeWorkers + 8
	for i := range n {
		accept(t, r.addr, "/slow", "application/xml", fmt.Sprintf("<Doc n=\"%d\"/>", i))
	}
	waitFor(t, "the slow route to hold every worker", func() bool { return int(held.Load()) >= routeWorkers })
	accept(t, r.addr, "/fast", "application/xml", "<Doc>urgent</Doc>")
	waitFor(t, "the fast route's delivery", func() bool { return outcomes(t, r.metrics, "fast", OutcomeDelivered) == 1 })
}
