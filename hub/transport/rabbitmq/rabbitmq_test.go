package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
)

func subscribe(t testing.TB, tr *Transport, group, topic string) <-chan *message.Message {
	t.Helper()
	sub, err := tr.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func initialize(t testing.TB, tr *Transport, group, topic string) {
	t.Helper()
	sub, err := tr.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.(message.SubscribeInitializer).SubscribeInitialize(topic); err != nil {
		t.Fatal(err)
	}
}

func publish(t testing.TB, tr *Transport, topic string, msgs ...*message.Message) {
	t.Helper()
	if err := tr.Publisher().Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

func simple(prefix string, n int) []*message.Message {
	out := make([]*message.Message, n)
	for i := range out {
		out[i] = message.NewMessage(fmt.Sprintf("%s%03d", prefix, i), []byte(fmt.Sprint(i)))
		out[i].Metadata.Set("n", fmt.Sprint(i))
	}
	return out
}

// receive takes n messages from ch, failing after a generous timeout.
func receive(t testing.TB, ch <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	var out []*message.Message
	timeout := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(out), n)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("received %d of %d messages", len(out), n)
		}
	}
	return out
}

// quiet fails if ch yields a message within d: used only where nothing may arrive.
func quiet(t testing.TB, ch <-chan *message.Message, d time.Duration) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if ok {
			t.Fatalf("unexpected message %s", m.UUID)
		}
	case <-time.After(d):
	}
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ackAll(msgs []*message.Message) {
	for _, m := range msgs {
		m.Ack()
	}
}

func ids(msgs []*message.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.UUID
	}
	slices.Sort(out)
	return out
}

func backlog(t testing.TB, tr *Transport, topic, group string) int64 {
	t.Helper()
	n, err := tr.Backlog(context.Background(), topic, group)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPublishReturnsOnceStored(t *testing.T) {
	tr := open(t, testConfig(t))
	initialize(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 20)...)
	// No waiting: once Publish returned the broker has every message in the queue.
	if n := backlog(t, tr, "topic", "g"); n != 20 {
		t.Fatalf("backlog right after Publish is %d, want 20", n)
	}
	got := receive(t, subscribe(t, tr, "g", "topic"), 20)
	if want := ids(simple("m", 20)); !slices.Equal(ids(got), want) {
		t.Fatalf("received %v, want %v", ids(got), want)
	}
	for _, m := range got {
		if m.Metadata.Get("n") != string(m.Payload) {
			t.Fatalf("message %s: metadata n=%q, payload %q", m.UUID, m.Metadata.Get("n"), m.Payload)
		}
	}
	ackAll(got)
}

// brokerChannel is a channel on a connection of its own to the broker at url, for a test to look
// at or change what the transport declared; both close when the test ends.
func brokerChannel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestPublishFailsWhenEvenTheUnroutedQueueIsMissing(t *testing.T) {
	cfg := testConfig(t)
	tr := open(t, cfg)
	publish(t, tr, "topic", simple("first", 1)...) // declares the topic and its unrouted queue
	ch := brokerChannel(t, cfg.URL)
	if _, err := ch.QueueDelete(tr.unroutedQueue("topic"), false, false, false); err != nil {
		t.Fatal(err)
	}
	// Many returns at once: Publish must neither stall nor lose count.
	n := 3*returnsBuffer + 5
	start := time.Now()
	err := tr.Publisher().Publish("topic", simple("lost", n)...)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("no queue took %d messages", n)) {
		t.Fatalf("Publish of %d messages no queue takes: %v, want \"no queue took %d messages\"", n, err, n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Publish took %s", d)
	}
	// The failure declares the topic again: the next Publish is stored.
	publish(t, tr, "topic", simple("again", 2)...)
	if got := receive(t, subscribe(t, tr, "g", "topic"), 2); !slices.Equal(ids(got), ids(simple("again", 2))) {
		t.Fatalf("received %v after the unrouted queue was declared again", ids(got))
	} else {
		ackAll(got)
	}
}

// Concurrent publishes share one channel; each learns of its own messages' returns and of no
// other's. The first failure declares the topic again, so later publishes to it may be stored.
func TestSharedChannelReturnsGoToTheirOwnPublish(t *testing.T) {
	cfg := testConfig(t)
	tr := open(t, cfg)
	initialize(t, tr, "g", "kept")
	publish(t, tr, "lost", simple("first", 1)...) // declares the topic and its unrouted queue
	ch := brokerChannel(t, cfg.URL)
	if _, err := ch.QueueDelete(tr.unroutedQueue("lost"), false, false, false); err != nil {
		t.Fatal(err)
	}
	const publishers, calls = 8, 10
	var wg sync.WaitGroup
	var failed atomic.Int64
	errs := make(chan error, publishers*calls*4)
	returned := regexp.MustCompile(`(\S+) \(312 NO_ROUTE\)`)
	refused := regexp.MustCompile(`the broker refused (\d+) messages \(negative confirmation\); publish again: (.+)$`)
	for p := range publishers {
		wg.Go(func() {
			for c := range calls {
				kept := simple(fmt.Sprintf("kept-%d-%d-", p, c), 3)
				if err := tr.Publisher().Publish("kept", kept...); err != nil {
					errs <- fmt.Errorf("publish to kept: %w", err)
				}
				prefix := fmt.Sprintf("lost-%d-%d-", p, c)
				err := tr.Publisher().Publish("lost", simple(prefix, 3)...)
				if err == nil {
					continue
				}
				failed.Add(1)
				if m := refused.FindStringSubmatch(err.Error()); m != nil {
					// The first failure declares the unrouted queue again, and a quorum
					// queue refuses what is routed to it while it starts: a publish may be
					// refused, and is then told of its own messages only.
					for _, id := range strings.Split(m[2], ", ") {
						if !strings.HasPrefix(id, prefix) {
							errs <- fmt.Errorf("publish %s is told of another's refused message %s: %w", prefix, id, err)
						}
					}
					if n, _ := strconv.Atoi(m[1]); n != len(strings.Split(m[2], ", ")) {
						errs <- fmt.Errorf("publish %s: count and ids disagree: %w", prefix, err)
					}
					continue
				}
				named := returned.FindAllStringSubmatch(err.Error(), -1)
				if !strings.Contains(err.Error(), fmt.Sprintf("no queue took %d messages", len(named))) || len(named) == 0 {
					errs <- fmt.Errorf("publish %s: %w", prefix, err)
				}
				for _, m := range named {
					if !strings.HasPrefix(m[1], prefix) {
						errs <- fmt.Errorf("publish %s is told of another's message %s: %w", prefix, m[1], err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if failed.Load() == 0 {
		t.Error("no publish to the topic without an unrouted queue failed")
	}
	if n := backlog(t, tr, "kept", "g"); n != publishers*calls*3 {
		t.Errorf("kept holds %d messages, want %d", n, publishers*calls*3)
	}
}

func TestPublishedBeforeAnyGroupGoToTheFirst(t *testing.T) {
	tr := open(t, testConfig(t))
	publish(t, tr, "topic", simple("early", 5)...)
	first := subscribe(t, tr, "first", "topic")
	got := receive(t, first, 5)
	ackAll(got)
	if want := ids(simple("early", 5)); !slices.Equal(ids(got), want) {
		t.Fatalf("first group received %v, want %v", ids(got), want)
	}
	// A group added later starts with the messages published after it was declared.
	second := subscribe(t, tr, "second", "topic")
	publish(t, tr, "topic", simple("late", 3)...)
	ackAll(receive(t, first, 3))
	got = receive(t, second, 3)
	ackAll(got)
	if want := ids(simple("late", 3)); !slices.Equal(ids(got), want) {
		t.Fatalf("second group received %v, want %v", ids(got), want)
	}
}

func TestEveryGroupGetsEveryMessage(t *testing.T) {
	tr := open(t, testConfig(t))
	a, b := subscribe(t, tr, "a", "topic"), subscribe(t, tr, "b", "topic")
	publish(t, tr, "topic", simple("m", 10)...)
	for name, ch := range map[string]<-chan *message.Message{"a": a, "b": b} {
		got := receive(t, ch, 10)
		ackAll(got)
		if want := ids(simple("m", 10)); !slices.Equal(ids(got), want) {
			t.Errorf("group %s received %v, want %v", name, ids(got), want)
		}
	}
}

func TestConsumersOfAGroupCompete(t *testing.T) {
	cfg := testConfig(t)
	cfg.Prefetch = 1
	tr1, tr2 := open(t, cfg), open(t, cfg)
	ch1, ch2 := subscribe(t, tr1, "g", "topic"), subscribe(t, tr2, "g", "topic")
	const n = 200
	publish(t, tr1, "topic", simple("m", n)...)
	seen := map[string]int{}
	var from1, from2 int
	timeout := time.After(20 * time.Second)
	for len(seen) < n {
		select {
		case m := <-ch1:
			seen[m.UUID]++
			from1++
			m.Ack()
		case m := <-ch2:
			seen[m.UUID]++
			from2++
			m.Ack()
		case <-timeout:
			t.Fatalf("received %d of %d distinct messages", len(seen), n)
		}
	}
	quiet(t, ch1, 100*time.Millisecond)
	quiet(t, ch2, 0)
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %s delivered %d times", id, c)
		}
	}
	if from1 == 0 || from2 == 0 {
		t.Errorf("consumers took %d and %d messages: they do not share the queue", from1, from2)
	}
}

func TestUnacknowledgedDeliveredAgainAfterClose(t *testing.T) {
	cfg := testConfig(t)
	cfg.CloseTimeout = spec.Duration(50 * time.Millisecond)
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 3)...)
	got := receive(t, ch, 3)
	got[0].Ack()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range got[1:] {
		if m.Context().Err() == nil {
			t.Errorf("message %s still has a live context after close_timeout", m.UUID)
		}
	}
	again := receive(t, subscribe(t, open(t, cfg), "g", "topic"), 2)
	ackAll(again)
	if want := ids(got[1:]); !slices.Equal(ids(again), want) {
		t.Fatalf("delivered again %v, want %v", ids(again), want)
	}
}

func TestNackDeliversAgain(t *testing.T) {
	tr := open(t, testConfig(t))
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 1)...)
	m := receive(t, ch, 1)[0]
	m.Nack()
	again := receive(t, ch, 1)[0]
	again.Ack()
	if again.UUID != m.UUID {
		t.Fatalf("got %s after Nack, want %s again", again.UUID, m.UUID)
	}
	if got := again.Metadata.Get(envelope.Attempt); got != "2" {
		t.Errorf("attempt %q after one Nack, want 2 (quorum queues count deliveries)", got)
	}
}

func TestCloseDrainsMessagesInFlight(t *testing.T) {
	tr := open(t, testConfig(t))
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 1)...)
	m := receive(t, ch, 1)[0]
	closed := make(chan struct{})
	go func() {
		tr.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a message was in flight, before close_timeout")
	case <-time.After(100 * time.Millisecond):
	}
	if err := m.Context().Err(); err != nil {
		t.Fatalf("context of the message in flight ended during the drain: %v", err)
	}
	m.Ack()
	<-closed
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after Close")
	}
	// The acknowledgement made during the drain counted: nothing waits any more.
	tr2 := open(t, tr.cfg)
	if n := backlog(t, tr2, "topic", "g"); n != 0 {
		t.Fatalf("backlog %d after the drain acknowledged the message, want 0", n)
	}
}

func TestBacklog(t *testing.T) {
	tr := open(t, testConfig(t))
	if n := backlog(t, tr, "topic", "nobody"); n != 0 {
		t.Fatalf("backlog of an unknown group is %d, want 0", n)
	}
	initialize(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 5)...)
	if n := backlog(t, tr, "topic", "g"); n != 5 {
		t.Fatalf("backlog %d, want 5", n)
	}
	got := receive(t, subscribe(t, tr, "g", "topic"), 5)
	// Delivered but not acknowledged still counts.
	if n := backlog(t, tr, "topic", "g"); n != 5 {
		t.Fatalf("backlog %d with 5 messages unacknowledged, want 5", n)
	}
	ackAll(got[:2])
	eventually(t, "backlog 3", func() bool { return backlog(t, tr, "topic", "g") == 3 })
	ackAll(got[2:])
	eventually(t, "backlog 0", func() bool { return backlog(t, tr, "topic", "g") == 0 })
}

func TestPoisonGoesToDeadLetterQueue(t *testing.T) {
	cfg := testConfig(t)
	cfg.DeliveryLimit = 2
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("poison", 1)...)
	// Delivered 1 + delivery_limit times, then dead-lettered.
	for range 3 {
		receive(t, ch, 1)[0].Nack()
	}
	quiet(t, ch, 200*time.Millisecond)
	amqpCh := brokerChannel(t, cfg.URL)
	var d amqp.Delivery
	var err error
	eventually(t, "the message in the dead-letter queue", func() bool {
		var ok bool
		d, ok, err = amqpCh.Get(tr.queue("g", "topic")+".dead", true)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	if id := d.Headers[wamqpUUIDHeader]; id != "poison000" {
		t.Errorf("dead letter is %v, want poison000", id)
	}
	if reason := fmt.Sprint(d.Headers["x-first-death-reason"]); reason != "delivery_limit" {
		t.Errorf("x-first-death-reason %q, want delivery_limit", reason)
	}
}

func TestClassicQueues(t *testing.T) {
	cfg := testConfig(t)
	cfg.QueueType = "classic"
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 3)...)
	ackAll(receive(t, ch, 3))
}

func TestQueueTypeCannotChange(t *testing.T) {
	cfg := testConfig(t)
	initialize(t, open(t, cfg), "g", "topic")
	cfg.QueueType = "classic"
	sub, err := open(t, cfg).Subscriber("g")
	if err != nil {
		t.Fatal(err)
	}
	err = sub.(message.SubscribeInitializer).SubscribeInitialize("topic")
	if err == nil || !strings.Contains(err.Error(), "queue_type") {
		t.Fatalf("error %v, want one that names queue_type", err)
	}
}

func TestNotReachable(t *testing.T) {
	_, err := New(Config{URL: "amqp://guest:secret@127.0.0.1:1/"}, transportEnv())
	if err == nil {
		t.Fatal("New succeeded without a broker")
	}
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q: want the address without the password", err)
	}
}

// TestReconnect closes the transport's connections from the broker's side and checks that
// Ready says so, that the transport connects again by itself, and that nothing is lost.
func TestReconnect(t *testing.T) {
	cfg := testConfig(t)
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl is not on PATH: cannot close connections from the broker's side")
	}
	// The transport waits this long before connecting again: long enough that the test sees it
	// down even when rabbitmqctl, an Erlang program of its own, takes a second to exit on a
	// busy machine (with the default 250 ms the connection was back before Ready was asked).
	cfg.ReconnectInitial = spec.Duration(5 * time.Second)
	cfg.ReconnectMax = cfg.ReconnectInitial
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("before", 5)...)
	held := receive(t, ch, 5)
	held[0].Ack()
	if err := tr.Ready(context.Background()); err != nil {
		t.Fatalf("not ready before the connections were closed: %v", err)
	}

	closeConnections(t, ctl, cfg.ConnectionName)
	eventually(t, "Ready to report the lost connections", func() bool {
		err := tr.Ready(context.Background())
		if err != nil && !errors.Is(err, errNotConnected) {
			t.Fatalf("Ready: %v, want an error saying the transport is not connected", err)
		}
		return err != nil
	})
	eventually(t, "Ready after reconnecting", func() bool { return tr.Ready(context.Background()) == nil })

	// The four messages held on the lost connection come again, with the new ones.
	for _, m := range held[1:] {
		m.Ack() // too late: the broker has taken them back
	}
	var after []*message.Message
	eventually(t, "a publish to succeed again", func() bool {
		return tr.Publisher().Publish("topic", simple("after", 1)...) == nil
	})
	publish(t, tr, "topic", simple("more", 4)...)
	after = receive(t, ch, 9)
	ackAll(after)
	want := append(ids(held[1:]), "after000", "more000", "more001", "more002", "more003")
	slices.Sort(want)
	if got := ids(after); !slices.Equal(got, want) {
		t.Fatalf("after reconnecting received %v, want %v", got, want)
	}
}

// closeConnections closes, from the broker's side, the connections whose client-provided name
// starts with name.
func closeConnections(t *testing.T, ctl, name string) {
	t.Helper()
	out, err := exec.Command(ctl, "-q", "list_connections", "pid", "client_properties").CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl list_connections: %v: %s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		if !strings.Contains(line, `"connection_name","`+name+" ") {
			continue
		}
		pid, _, _ := strings.Cut(line, "\t")
		if out, err := exec.Command(ctl, "-q", "close_connection", pid, "closed by the reconnection test").CombinedOutput(); err != nil {
			t.Fatalf("rabbitmqctl close_connection %s: %v: %s", pid, err, out)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("closed %d connections named %s, want 2 (publish and consume):\n%s", n, name, out)
	}
}

// TestRedeliveryCountIsTheAttempt: the quorum queue's count of earlier deliveries reaches the
// engine as the envelope's attempt (1 for the first delivery), not as a header of its own.
func TestRedeliveryCountIsTheAttempt(t *testing.T) {
	tr := open(t, testConfig(t))
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("again", 1)...)
	for want := 1; want <= 3; want++ {
		m := receive(t, ch, 1)[0]
		if got := m.Metadata.Get(envelope.Attempt); got != strconv.Itoa(want) && !(want == 1 && got == "") {
			t.Errorf("delivery %d: attempt %q", want, got)
		}
		if _, ok := m.Metadata[deliveryCountHeader]; ok {
			t.Errorf("delivery %d: %s left in the metadata", want, deliveryCountHeader)
		}
		if want < 3 {
			m.Nack()
		} else {
			m.Ack()
		}
	}
}

// TestConsumersCountsEveryProcess: the consumers of a group's queue, whichever transport (process)
// they belong to, as the hub's consumers gauge shows them.
func TestConsumersCountsEveryProcess(t *testing.T) {
	cfg := testConfig(t)
	a, b := open(t, cfg), open(t, cfg)
	if n, err := a.Consumers(context.Background(), "topic", "g"); err != nil || n != 0 {
		t.Fatalf("before any subscriber: %d, %v", n, err)
	}
	subscribe(t, a, "g", "topic")
	subscribe(t, b, "g", "topic")
	eventually(t, "two consumers", func() bool {
		n, err := a.Consumers(context.Background(), "topic", "g")
		return err == nil && n == 2
	})
}
