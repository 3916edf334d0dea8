package hub

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/envelope"
	_ "github.com/aiskao/aiskao/hub/transport/rabbitmq"
)

// call is one request to the remote system.
type call struct {
	id      string
	attempt string
	at      time.Time
}

// remote stands for a system the hub delivers to: it answers 503 to a body holding "fail" and
// 204 to the others, recording each request.
type remote struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []call
}

func newRemote(t *testing.T) *remote {
	r := &remote{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, call{id: req.Header.Get("X-Message-Id"), attempt: req.Header.Get("Ce-Attempt"), at: time.Now()})
		r.mu.Unlock()
		if strings.Contains(string(body), "fail") {
			http.Error(w, "the register does not answer", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *remote) seen() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// TestRetryThroughTheTransport: a failing message waits for its retries in the transport, not in
// a consumer. With prefetch 1 on the route, a message posted after the first failure goes
// through before the retries; after its last retry the failing message is a dead letter with
// every attempt counted, on both transports.
func TestRetryThroughTheTransport(t *testing.T) {
	for _, tc := range []struct{ name, transport string }{
		{"embedded", "{ type: embedded, close_timeout: 1s }"},
		{"rabbitmq", `{ type: rabbitmq, url: "@AMQP@", exchange_prefix: "@P@", queue_prefix: "@P@", close_timeout: 2s }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			if tc.name == "rabbitmq" {
				url := amqpURL(t)
				prefix := fmt.Sprintf("hubretry%d", time.Now().UnixNano())
				t.Cleanup(func() { deleteAMQPObjects(t, url, prefix, "retried") })
				vars["AMQP"], vars["P"] = url, prefix
			}
			text := `
transport: ` + tc.transport + `
connectors:
  in:  { type: http, auth: { type: none }, listen: "@ADDR@", path: /in }
  out: { type: http, url: "@URL@" }
routes:
  - name: retried
    from: in
    prefetch: 1
    to: out
    on_error:
      retry: { max: 2, backoff: 1s, max_backoff: 1s, multiplier: 1 }
`
			step := newRemote(t)
			vars["URL"] = step.srv.URL
			r := newRig(t, text, vars, nil)

			failing := accept(t, r.addr, "/in", "application/json", `{"state": "fail"}`)
			waitLong(t, "the first attempt", func() bool { return len(step.seen()) == 1 })
			passing := accept(t, r.addr, "/in", "application/json", `{"state": "ok"}`)
			waitLong(t, "the failing message as a dead letter", func() bool { return len(deadLetters(t, r.eng.Store())) == 1 })

			var order []string
			var fails []call
			for _, c := range step.seen() {
				name := "ok"
				if c.id == failing {
					name = "fail#" + c.attempt
					fails = append(fails, c)
				}
				order = append(order, name)
			}
			// With prefetch 1, a consumer holding the failing message through its waits would
			// take the other one only after the dead letter.
			if got := strings.Join(order, " "); got != "fail#1 ok fail#2 fail#3" {
				t.Errorf("step calls %s, want fail#1 ok fail#2 fail#3", got)
			}
			for i := 1; i < len(fails); i++ {
				if gap := fails[i].at.Sub(fails[i-1].at); gap < 900*time.Millisecond {
					t.Errorf("attempt %s came %s after attempt %s, before the backoff of 1s (less 10%% jitter)", fails[i].attempt, gap, fails[i-1].attempt)
				}
			}
			d := deadLetters(t, r.eng.Store())[0]
			if d.MessageID != failing || d.Attempts != 3 || !strings.Contains(d.Error, "the register does not answer") {
				t.Errorf("dead letter %+v, want message %s after 3 attempts", d, failing)
			}
			if d.Metadata[envelope.Attempt] != "3" {
				t.Errorf("dead letter metadata attempt = %q, want 3", d.Metadata[envelope.Attempt])
			}
			for _, k := range []string{"x-aiskao-attempts", "aiskao-delay", "x-first-death-reason", "x-delivery-count"} {
				if v, ok := d.Metadata[k]; ok {
					t.Errorf("dead letter metadata has the transport's %s = %q", k, v)
				}
			}
			waitLong(t, "the passing message delivered", func() bool { return outcomes(t, r.metrics, "retried", OutcomeDelivered) == 1 })
			if n := outcomes(t, r.metrics, "retried", OutcomeRetried); n != 2 {
				t.Errorf("retried outcomes %v, want 2", n)
			}
			if n := outcomes(t, r.metrics, "retried", OutcomeDeadLetter); n != 1 {
				t.Errorf("dead_letter outcomes %v, want 1", n)
			}
			if c := step.seen(); len(c) != 4 || c[1].id != passing {
				t.Errorf("the remote system got %d requests %+v, the second for %s", len(c), c, passing)
			}
		})
	}
}

// TestRoutePrefetch: a route's prefetch bounds how many of its messages one process handles at
// once, in place of the transport's (64 by default), on both transports.
func TestRoutePrefetch(t *testing.T) {
	for _, tc := range []struct{ name, transport string }{
		{"embedded", "{ type: embedded }"},
		{"rabbitmq", `{ type: rabbitmq, url: "@AMQP@", exchange_prefix: "@P@", queue_prefix: "@P@" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			if tc.name == "rabbitmq" {
				url := amqpURL(t)
				prefix := fmt.Sprintf("hubprefetch%d", time.Now().UnixNano())
				t.Cleanup(func() { deleteAMQPObjects(t, url, prefix, "slow") })
				vars["AMQP"], vars["P"] = url, prefix
			}
			var mu sync.Mutex
			var now, most, done int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				mu.Lock()
				now++
				most = max(most, now)
				mu.Unlock()
				time.Sleep(150 * time.Millisecond)
				mu.Lock()
				now--
				done++
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			vars["URL"] = srv.URL
			r := newRig(t, `
transport: `+tc.transport+`
connectors:
  in:  { type: http, auth: { type: none }, listen: "@ADDR@", path: /in }
  out: { type: http, url: "@URL@" }
routes:
  - name: slow
    from: in
    prefetch: 2
    to: out
`, vars, nil)
			const n = 8
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { accept(t, r.addr, "/in", "application/json", fmt.Sprintf(`{"n": %d}`, i)) })
			}
			wg.Wait()
			waitLong(t, "every message delivered", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return done == n
			})
			if most != 2 {
				t.Errorf("at most %d messages handled at once, want 2 (the route's prefetch)", most)
			}
		})
	}
}
