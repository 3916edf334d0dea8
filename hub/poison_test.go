package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/hub/transport/rabbitmq"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// amqpURL returns the broker's address, or skips the test when no broker answers (fails with CI
// set, where the broker must be there).
func amqpURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("AISKAO_AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	c, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		msg := fmt.Sprintf("RabbitMQ is not reachable (set AISKAO_AMQP_URL): %v", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c.Close()
	return url
}

// TestPoisonThroughTheBroker: a message the broker has delivered more than max_deliveries times
// (here: taken and given back by a consumer that stands for processes that died on it) becomes a
// dead letter with the reason as soon as the engine gets it, without being processed.
func TestPoisonThroughTheBroker(t *testing.T) {
	url := amqpURL(t)
	prefix := fmt.Sprintf("hubpoison%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteAMQPObjects(t, url, prefix, "poison") })
	text := `
transport: { type: rabbitmq, url: "@URL@", exchange_prefix: "@P@", queue_prefix: "@P@", close_timeout: 2s }
connectors:
  in:  { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  out: { type: file, dir: out, fsync: false }
routes:
  - name: poison
    from: in
    to: out
    on_error: { max_deliveries: 3 }
`
	cat := routes.DefaultCatalog()
	cfg := parse(t, cat, text, map[string]string{"URL": url, "P": prefix, "ADDR": freeAddr(t)})

	// Three deliveries given back, as by three processes that stopped while holding it.
	tr, err := rabbitmq.New(rabbitmq.Config{URL: url, ExchangePrefix: prefix, QueuePrefix: prefix}, transport.Env{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tr.Subscriber("poison")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, Topic("poison"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Publisher().Publish(Topic("poison"), message.NewMessage("poison-1", []byte("<Doc/>"))); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case m := <-ch:
			m.Nack()
		case <-time.After(10 * time.Second):
			t.Fatal("message not delivered")
		}
	}
	cancel()
	_ = sub.Close()
	_ = tr.Close()

	dir := t.TempDir()
	m := NewMetrics("test")
	e := startEngine(t, cfg, cat, dir, m)
	waitFor(t, "the poison message as a dead letter", func() bool { return len(deadLetters(t, e.Store())) == 1 })
	d := deadLetters(t, e.Store())[0]
	// Given back three times at least (closing the consumer may return one more delivery).
	if d.MessageID != "poison-1" || d.Step != "delivery" || d.Attempts < 4 {
		t.Errorf("dead letter %+v", d)
	}
	if want := fmt.Sprintf("delivered %d times without being settled, more than max_deliveries 3", d.Attempts); !strings.Contains(d.Error, want) {
		t.Errorf("error %q lacks %q", d.Error, want)
	}
	if got := files(t, filepath.Join(dir, "out")); len(got) != 0 {
		t.Errorf("the poison message was processed: %v", got)
	}
	// The outcome is counted once the dead letter is stored, a moment after.
	waitFor(t, "the dead_letter outcome counted", func() bool { return outcomes(t, m, "poison", OutcomeDeadLetter) >= 1 })
	if got := outcomes(t, m, "poison", OutcomeDeadLetter); got != 1 {
		t.Errorf("dead_letter outcome counted %v times, want 1", got)
	}
}

// deleteAMQPObjects deletes the queues and exchanges whose names start with prefix, as far as
// the test knows them: the routes' queues, their dead-letter queues, the delay queues, and the
// exchanges.
func deleteAMQPObjects(t *testing.T, url, prefix string, routeNames ...string) {
	c, err := amqp.Dial(url)
	if err != nil {
		return
	}
	defer c.Close()
	var queues, exchanges []string
	for _, r := range routeNames {
		q := prefix + "." + r + "." + Topic(r)
		queues = append(queues, q, q+".dead", prefix+".unrouted."+Topic(r))
		exchanges = append(exchanges, prefix+"."+Topic(r))
	}
	for _, tier := range []string{"1s", "5s", "15s", "1m", "5m", "15m", "1h", "4h", "24h"} {
		queues = append(queues, prefix+".delay."+tier)
	}
	exchanges = append(exchanges, prefix+".dead", prefix+".unrouted", prefix+".delay", prefix+".redeliver")
	for _, q := range queues {
		if ch, err := c.Channel(); err == nil {
			_, _ = ch.QueueDelete(q, false, false, false)
			ch.Close()
		}
	}
	for _, x := range exchanges {
		if ch, err := c.Channel(); err == nil {
			_ = ch.ExchangeDelete(x, false, false)
			ch.Close()
		}
	}
}

// TestPoisonThroughTheEmbeddedTransport: a message that processes stopped on (here: taken and
// left unsettled by transports closed in turn) becomes a dead letter when the engine gets it.
func TestPoisonThroughTheEmbeddedTransport(t *testing.T) {
	text := `
transport: { type: embedded, close_timeout: 1ms }
connectors:
  in:  { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  out: { type: file, dir: out, fsync: false }
routes:
  - name: poison
    from: in
    to: out
    on_error: { max_deliveries: 2 }
`
	cat := routes.DefaultCatalog()
	cfg := parse(t, cat, text, map[string]string{"ADDR": freeAddr(t)})
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		tr, err := embedded.New(embedded.Config{CloseTimeout: spec.Duration(time.Millisecond)}, transport.Env{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tr.Subscriber("poison")
		if err != nil {
			t.Fatal(err)
		}
		ch, err := sub.Subscribe(context.Background(), Topic("poison"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := tr.Publisher().Publish(Topic("poison"), message.NewMessage("poison-1", []byte("<Doc/>"))); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-ch: // taken, never settled: the process "stops" on it
		case <-time.After(10 * time.Second):
			t.Fatal("message not delivered")
		}
		_ = tr.Close()
	}
	m := NewMetrics("test")
	e := startEngine(t, cfg, cat, dir, m)
	waitFor(t, "the poison message as a dead letter", func() bool { return len(deadLetters(t, e.Store())) == 1 })
	d := deadLetters(t, e.Store())[0]
	if d.MessageID != "poison-1" || d.Step != "delivery" || d.Attempts != 4 || !strings.Contains(d.Error, "delivered 4 times") {
		t.Errorf("dead letter %+v", d)
	}
	if got := files(t, filepath.Join(dir, "out")); len(got) != 0 {
		t.Errorf("the poison message was processed: %v", got)
	}
}
