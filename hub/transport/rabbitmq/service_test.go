package rabbitmq

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// brokerURL returns the broker the tests use, skipping the test when it cannot be reached (or
// failing it, with CI set: CI must never skip silently).
func brokerURL(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("AISKAO_AMQP_URL")
	if addr == "" {
		addr = "amqp://guest:guest@127.0.0.1:5672/"
	}
	c, err := amqp.DialConfig(addr, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		msg := fmt.Sprintf("RabbitMQ is not reachable at %s (set AISKAO_AMQP_URL): %v", redact(addr), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c.Close()
	return addr
}

var prefixes atomic.Int64

// testConfig returns a configuration with prefixes of its own, whose broker objects are deleted
// when the test ends.
func testConfig(t testing.TB) Config {
	t.Helper()
	addr := brokerURL(t)
	p := fmt.Sprintf("t%d-%d-%s", os.Getpid(), prefixes.Add(1), strings.NewReplacer("/", "-", " ", "").Replace(t.Name()))
	if len(p) > 120 {
		p = p[:120]
	}
	t.Cleanup(func() { deleteObjects(t, addr, p) })
	return Config{URL: addr, ExchangePrefix: p, QueuePrefix: p, ConnectionName: p,
		CloseTimeout: spec.Duration(2 * time.Second), ReconnectInitial: spec.Duration(50 * time.Millisecond),
		ReconnectMax: spec.Duration(500 * time.Millisecond)}
}

// created remembers the names of the queues and exchanges each test prefix made.
var created = struct {
	queues, exchanges map[string]map[string]bool
}{map[string]map[string]bool{}, map[string]map[string]bool{}}

// deleteObjects deletes the exchanges and queues that transports with prefix p declared.
func deleteObjects(t testing.TB, addr, p string) {
	c, err := amqp.Dial(addr)
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer c.Close()
	trackMu.Lock()
	qs, xs := created.queues[p], created.exchanges[p]
	delete(created.queues, p)
	delete(created.exchanges, p)
	trackMu.Unlock()
	for q := range qs {
		if ch, err := c.Channel(); err == nil {
			ch.QueueDelete(q, false, false, false)
			ch.Close()
		}
	}
	for x := range xs {
		if ch, err := c.Channel(); err == nil {
			ch.ExchangeDelete(x, false, false)
			ch.Close()
		}
	}
}

// open makes a transport, closed when the test ends, whose broker objects are deleted then.
func open(t testing.TB, cfg Config) *Transport {
	t.Helper()
	tr, err := New(cfg, transport.Env{})
	if err != nil {
		t.Fatal(err)
	}
	tr.onDeclare = record(cfg.QueuePrefix)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// record is the onDeclare hook of test transports.
func record(prefix string) func(queue bool, name string) {
	return func(queue bool, name string) {
		trackMu.Lock()
		defer trackMu.Unlock()
		m := created.exchanges
		if queue {
			m = created.queues
		}
		if m[prefix] == nil {
			m[prefix] = map[string]bool{}
		}
		m[prefix][name] = true
	}
}

var trackMu sync.Mutex

func transportEnv() transport.Env { return transport.Env{} }
