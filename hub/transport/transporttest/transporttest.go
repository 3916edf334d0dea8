// Package transporttest is the conformance suite that every transport.Transport implementation
// must pass. It checks, through the interface alone, what the hub relies on: durable publishes,
// consumer groups, competing consumers, redelivery, byte-exact messages, backlog, readiness and a
// draining Close. An implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, transporttest.Factory{
//			New:          func(t *testing.T) transport.Transport { ... fresh storage ... },
//			Reopen:       func(t *testing.T, old transport.Transport) transport.Transport { ... same storage as old ... },
//			CloseTimeout: 300 * time.Millisecond,
//		})
//	}
//
// Every test uses its own topic and group names (unique per run), so transports on a shared
// broker do not see each other's messages; an implementation that keeps queues on a shared broker
// should delete what it made in a t.Cleanup of its New.
//
// Every transport the hub runs on delivers a message again after a delay without holding a
// consumer meanwhile (transport.RedeliverAfter), keeping the attempt count across the delay and
// a restart, honours a per-subscriber prefetch (transport.WithPrefetch), and settles messages
// when the consumer says so (transport.WithSettledCalls, transport.Settled).
//
// Transports that the suite gets are closed by the suite when the test ends; Close may therefore
// be called on a transport that a test has already closed, and that second result is ignored.
//
// What a transport must do beyond the interface's words: a first delivery has exactly the UUID,
// payload and metadata published (non-UTF-8 bytes, Cyrillic and empty values included); a
// redelivery keeps them and may add entries of its own (the hub's attempt count); Backlog counts
// a message until it is acknowledged, also while it is delivered and being handled, and may lag
// behind (the suite polls); after Close, Ready and Publish return errors.
//
// Competition between consumers is checked inside one Transport value. Competition across
// processes depends on the storage (the embedded transport does not coordinate two processes on
// one file), so a broker transport tests it itself.
package transporttest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transport"
)

// Factory makes the transports under test.
type Factory struct {
	// New returns a transport over fresh storage, isolated from the storage of other calls.
	New func(t *testing.T) transport.Transport
	// Reopen returns a new transport over the storage of old, as a restarted process would open
	// it. The suite has closed old before; Reopen must not close it again. When nil, the tests
	// that need a restart are skipped.
	Reopen func(t *testing.T, old transport.Transport) transport.Transport
	// CloseTimeout is the close timeout the transports are configured with: how long Close waits
	// for messages being handled to be acknowledged. The suite waits this long when a test leaves
	// messages unacknowledged, so keep it short (a few hundred milliseconds); it must be at least
	// 100ms, so that a test can acknowledge a message while Close is waiting.
	CloseTimeout time.Duration
}

// wait bounds every wait for something the transport should do soon; it is generous because
// brokers under a loaded CI answer slowly, and it only matters when a test fails.
const wait = 15 * time.Second

// Run runs every conformance test against transports made by f.
func Run(t *testing.T, f Factory) {
	t.Helper()
	if f.New == nil {
		t.Fatal("transporttest: Factory.New is nil")
	}
	if f.CloseTimeout < 100*time.Millisecond {
		t.Fatalf("transporttest: Factory.CloseTimeout is %s, want at least 100ms", f.CloseTimeout)
	}
	s := &suite{f: f}
	tests := []struct {
		name    string
		restart bool
		fn      func(t *testing.T)
	}{
		{"ReadyWhenHealthy", false, s.testReady},
		{"MessagesKeptExactly", false, s.testKeptExactly},
		{"EveryGroupGetsEveryMessage", false, s.testEveryGroup},
		{"GroupMembersCompete", false, s.testCompete},
		{"NackRedelivers", false, s.testNack},
		{"BacklogCountsUntilAcknowledged", false, s.testBacklog},
		{"ConcurrentPublishers", false, s.testConcurrentPublishers},
		{"SubscribeContextEndClosesChannel", false, s.testContextEnd},
		{"PublishAfterCloseFails", false, s.testPublishAfterClose},
		{"PrefetchPerSubscriber", false, s.testPrefetch},
		{"SettledCallsSettle", false, s.testSettledCalls},
		{"DelayedRedeliveryFreesTheConsumer", false, s.testDelayFreesConsumer},
		{"DelayedRedeliverySurvivesRestart", true, s.testDelaySurvivesRestart},
		{"PublishIsDurable", true, s.testPublishDurable},
		{"UnacknowledgedRedeliveredAfterReopen", true, s.testRedeliveredAfterReopen},
		{"CloseDrainsMessagesInFlight", true, s.testCloseDrains},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.restart && f.Reopen == nil {
				t.Skip("transporttest: Factory.Reopen is nil, so tests across a restart cannot run")
			}
			tc.fn(t)
		})
	}
}

type suite struct{ f Factory }

// open returns a new transport, closed when the test ends.
func (s *suite) open(t *testing.T) transport.Transport {
	t.Helper()
	tr := s.f.New(t)
	if tr == nil {
		t.Fatal("transporttest: Factory.New returned nil")
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// reopen closes tr and returns a transport over the same storage, closed when the test ends.
func (s *suite) reopen(t *testing.T, tr transport.Transport) transport.Transport {
	t.Helper()
	closeWithin(t, tr, s.f.CloseTimeout+wait)
	return s.reopenClosed(t, tr)
}

// reopenClosed returns a transport over the storage of tr, which the test has closed.
func (s *suite) reopenClosed(t *testing.T, tr transport.Transport) transport.Transport {
	t.Helper()
	next := s.f.Reopen(t, tr)
	if next == nil {
		t.Fatal("transporttest: Factory.Reopen returned nil")
	}
	t.Cleanup(func() { _ = next.Close() })
	return next
}

// closeWithin closes tr and fails the test when Close fails or does not return within d.
func closeWithin(t *testing.T, tr transport.Transport, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- tr.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("Close did not return within %s", d)
	}
}

// names returns a topic and n group names that no other test, run or process uses.
func names(t *testing.T, n int) (topic string, groups []string) {
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, t.Name()[strings.LastIndexByte(t.Name(), '/')+1:])
	id := fmt.Sprintf("%s-%016x", base, rand.Uint64())
	topic = "conformance." + id
	for i := range n {
		groups = append(groups, fmt.Sprintf("conformance-%s-g%d", id, i))
	}
	return topic, groups
}

// register makes group known on topic before anything is published, as the hub does by
// subscribing every route before its sources start: with SubscribeInitialize when the
// subscriber has it, else by subscribing and closing at once.
func register(t *testing.T, tr transport.Transport, topic string, groups ...string) {
	t.Helper()
	for _, g := range groups {
		sub, err := tr.Subscriber(g)
		if err != nil {
			t.Fatalf("Subscriber(%q): %v", g, err)
		}
		if si, ok := sub.(message.SubscribeInitializer); ok {
			if err := si.SubscribeInitialize(topic); err != nil {
				t.Fatalf("SubscribeInitialize(%q) for group %q: %v", topic, g, err)
			}
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			if _, err := sub.Subscribe(ctx, topic); err != nil {
				t.Fatalf("Subscribe(%q) for group %q: %v", topic, g, err)
			}
			cancel()
		}
		if err := sub.Close(); err != nil {
			t.Fatalf("closing the subscriber of group %q: %v", g, err)
		}
	}
}

// consumer is one Subscribe call of a group.
type consumer struct {
	ch     <-chan *message.Message
	cancel context.CancelFunc
}

// consume subscribes a new consumer of group to topic. The consumer ends when the test does.
func consume(t *testing.T, tr transport.Transport, group, topic string, opts ...transport.SubscriberOption) *consumer {
	t.Helper()
	sub, err := tr.Subscriber(group, opts...)
	if err != nil {
		t.Fatalf("Subscriber(%q): %v", group, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		cancel()
		t.Fatalf("Subscribe(%q) for group %q: %v", topic, group, err)
	}
	// Runs before the transport's Close, which was registered earlier.
	t.Cleanup(func() {
		cancel()
		_ = sub.Close()
	})
	return &consumer{ch: ch, cancel: cancel}
}

// next returns the consumer's next message, failing the test after wait.
func (c *consumer) next(t *testing.T, what string) *message.Message {
	t.Helper()
	select {
	case m, ok := <-c.ch:
		if !ok {
			t.Fatalf("waiting for %s: the subscription channel closed", what)
		}
		return m
	case <-time.After(wait):
		t.Fatalf("waiting for %s: nothing received within %s", what, wait)
	}
	return nil
}

// receive takes n messages from c, acknowledging each when ack is set.
func (c *consumer) receive(t *testing.T, n int, ack bool) []*message.Message {
	t.Helper()
	out := make([]*message.Message, 0, n)
	for len(out) < n {
		m := c.next(t, fmt.Sprintf("message %d of %d", len(out)+1, n))
		if ack {
			m.Ack()
		}
		out = append(out, m)
	}
	return out
}

// drain ends the consumer and returns, acknowledged, what it still delivers until its channel
// closes: with everything expected already received, those are duplicates.
func (c *consumer) drain(t *testing.T) []*message.Message {
	t.Helper()
	c.cancel()
	var extra []*message.Message
	timeout := time.After(wait)
	for {
		select {
		case m, ok := <-c.ch:
			if !ok {
				return extra
			}
			m.Ack()
			extra = append(extra, m)
		case <-timeout:
			t.Fatalf("the subscription channel was not closed within %s of its context ending", wait)
		}
	}
}

// none fails the test when the consumer delivers a message within d.
func (c *consumer) none(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case m, ok := <-c.ch:
		if ok {
			t.Fatalf("received %s: %s", m.UUID, why)
		}
		t.Fatalf("the subscription channel closed: %s", why)
	case <-time.After(d):
	}
}

// until receives and acknowledges messages up to and including the one with uuid marker, and
// returns those before it.
func (c *consumer) until(t *testing.T, marker string) []*message.Message {
	t.Helper()
	var before []*message.Message
	for {
		m := c.next(t, "the marker message "+marker)
		m.Ack()
		if m.UUID == marker {
			return before
		}
		before = append(before, m)
	}
}

func publish(t *testing.T, tr transport.Transport, topic string, msgs ...*message.Message) {
	t.Helper()
	if err := tr.Publisher().Publish(topic, msgs...); err != nil {
		t.Fatalf("Publish to %s: %v", topic, err)
	}
}

// numbered returns n messages with distinct UUIDs and payloads, prefixed by prefix.
func numbered(prefix string, n int) []*message.Message {
	out := make([]*message.Message, n)
	for i := range out {
		out[i] = message.NewMessage(fmt.Sprintf("%s-%04d", prefix, i), []byte(fmt.Sprintf("%s payload %d", prefix, i)))
		out[i].Metadata.Set("n", fmt.Sprint(i))
	}
	return out
}

// marker returns a message that tests publish last to see that nothing else is still on the way.
func marker() *message.Message {
	return message.NewMessage(fmt.Sprintf("marker-%016x", rand.Uint64()), []byte("marker"))
}

func uuids(msgs []*message.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.UUID
	}
	slices.Sort(out)
	return out
}

// sameMessages fails unless got holds the messages of want once each, in any order, with their
// payloads and metadata unchanged.
func sameMessages(t *testing.T, what string, got, want []*message.Message) {
	t.Helper()
	compareMessages(t, what, got, want, maps.Equal[message.Metadata, message.Metadata])
}

// sameRedelivered is sameMessages for deliveries after a Nack or a restart: a transport may add
// what it knows of a redelivery (the hub's attempt count), but keeps every published entry.
func sameRedelivered(t *testing.T, what string, got, want []*message.Message) {
	t.Helper()
	compareMessages(t, what, got, want, keeps)
}

// keeps reports whether got has every entry of want.
func keeps(got, want message.Metadata) bool {
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return false
		}
	}
	return true
}

func compareMessages(t *testing.T, what string, got, want []*message.Message, sameMetadata func(got, want message.Metadata) bool) {
	t.Helper()
	if g, w := uuids(got), uuids(want); !slices.Equal(g, w) {
		t.Fatalf("%s: received %d messages %v, want %d messages %v", what, len(g), g, len(w), w)
	}
	byID := map[string]*message.Message{}
	for _, m := range want {
		byID[m.UUID] = m
	}
	var diffs []string
	for _, m := range got {
		w := byID[m.UUID]
		if !bytes.Equal(m.Payload, w.Payload) {
			diffs = append(diffs, fmt.Sprintf("message %s: payload (%d bytes) %q, want (%d bytes) %q", m.UUID, len(m.Payload), clip(m.Payload), len(w.Payload), clip(w.Payload)))
		}
		if !sameMetadata(m.Metadata, w.Metadata) {
			diffs = append(diffs, fmt.Sprintf("message %s: metadata %q, want %q", m.UUID, m.Metadata, w.Metadata))
		}
	}
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("and %d more differences", len(diffs)-3))
	}
	if len(diffs) > 0 {
		t.Fatalf("%s: messages changed in transit:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// clip shortens a payload for a failure message.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// eventually polls cond until it returns nil, failing with its last error after wait.
func eventually(t *testing.T, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still after %s: %v", wait, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// backlogIs polls until the backlog of group on topic is n: transports may count asynchronously.
func backlogIs(t *testing.T, tr transport.Transport, topic, group string, n int64) {
	t.Helper()
	eventually(t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		got, err := tr.Backlog(ctx, topic, group)
		if err != nil {
			return fmt.Errorf("Backlog(%s, %s): %w", topic, group, err)
		}
		if got != n {
			return fmt.Errorf("Backlog(%s, %s) = %d, want %d", topic, group, got, n)
		}
		return nil
	})
}

func (s *suite) testReady(t *testing.T) {
	tr := s.open(t)
	// A broker transport may still be connecting right after New.
	eventually(t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		return tr.Ready(ctx)
	})
	closeWithin(t, tr, s.f.CloseTimeout+wait)
	if err := tr.Ready(context.Background()); err == nil {
		t.Fatal("Ready after Close returned nil, want an error: a closed transport carries nothing")
	}
}

func (s *suite) testKeptExactly(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)

	big := make([]byte, 512<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	in := []*message.Message{
		message.NewMessage("0b4f2c1e-6a0d-4c43-9d38-3f6f7a0d2b11", []byte{0, 1, 2, 0xfe, 0xff, 0, '\n', 0xc3, 0x28, '\r'}),
		message.NewMessage("empty-payload", nil),
		message.NewMessage("utf8-xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><Заявление номер="94-00-12/2025">Издаване на удостоверение за наследници – „София“</Заявление>`)),
		// "Преписка" in windows-1251: Cyrillic that is not valid UTF-8.
		message.NewMessage("cp1251", []byte{0xcf, 0xf0, 0xe5, 0xef, 0xe8, 0xf1, 0xea, 0xe0}),
		message.NewMessage("half-megabyte", big),
	}
	in[0].Metadata.Set("subject", "Преписка № 94-00-12/2025")
	in[0].Metadata.Set("тип", "входящ документ")
	in[0].Metadata.Set("empty", "")
	in[0].Metadata.Set("json", `{"адресат":"Община Русе","n":1}`)
	in[0].Metadata.Set("spaces", "  leading and trailing  ")
	in[0].Metadata.Set("lines", "first\nsecond\r\nthird\ttab")
	in[2].Metadata.Set("content_type", "application/xml; charset=utf-8")
	publish(t, tr, topic, in[:2]...)
	publish(t, tr, topic, in[2:]...)

	c := consume(t, tr, groups[0], topic)
	sameMessages(t, "first delivery", c.receive(t, len(in), true), in)
}

func (s *suite) testEveryGroup(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 3)
	register(t, tr, topic, groups...)
	in := numbered("m", 20)
	publish(t, tr, topic, in...)

	for _, g := range groups {
		c := consume(t, tr, g, topic)
		got := c.receive(t, len(in), true)
		got = append(got, c.drain(t)...)
		sameMessages(t, "group "+g, got, in)
	}
	for _, g := range groups {
		backlogIs(t, tr, topic, g, 0)
	}
}

func (s *suite) testCompete(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	const consumers, n = 3, 90
	in := numbered("m", n)
	publish(t, tr, topic, in...)

	var (
		mu  sync.Mutex
		got []*message.Message
		all = make(chan struct{})
		cs  []*consumer
		wg  sync.WaitGroup
	)
	for range consumers {
		cs = append(cs, consume(t, tr, groups[0], topic))
	}
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m, ok := <-c.ch:
					if !ok {
						return
					}
					m.Ack()
					mu.Lock()
					got = append(got, m)
					if len(got) == n {
						close(all)
					}
					mu.Unlock()
				case <-all:
					return
				}
			}
		}()
	}
	select {
	case <-all:
	case <-time.After(wait):
		mu.Lock()
		k := len(got)
		mu.Unlock()
		t.Fatalf("%d consumers of one group received %d of %d messages within %s", consumers, k, n, wait)
	}
	wg.Wait()
	for _, c := range cs {
		got = append(got, c.drain(t)...)
	}
	sameMessages(t, "consumers of one group together", got, in)
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testNack(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := message.NewMessage("nacked", []byte("попълнено заявление"))
	in.Metadata.Set("subject", "Преписка № 7")
	publish(t, tr, topic, in)

	c := consume(t, tr, groups[0], topic)
	first := c.next(t, "the first delivery")
	first.Nack()
	sameMessages(t, "first delivery", []*message.Message{first}, []*message.Message{in})
	again := c.next(t, "the delivery after Nack")
	again.Ack()
	sameRedelivered(t, "after Nack", []*message.Message{again}, []*message.Message{in})
	if extra := c.drain(t); len(extra) > 0 {
		t.Fatalf("after Nack and Ack %d more deliveries: %v", len(extra), uuids(extra))
	}
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testBacklog(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 2)
	register(t, tr, topic, groups...)
	backlogIs(t, tr, topic, groups[0], 0)
	const n = 5
	publish(t, tr, topic, numbered("m", n)...)
	backlogIs(t, tr, topic, groups[0], n)
	backlogIs(t, tr, topic, groups[1], n)

	// Delivered is not done: messages count until they are acknowledged.
	c := consume(t, tr, groups[0], topic)
	held := c.receive(t, n, false)
	backlogIs(t, tr, topic, groups[0], n)
	for _, m := range held[:2] {
		m.Ack()
	}
	backlogIs(t, tr, topic, groups[0], n-2)
	for _, m := range held[2:] {
		m.Ack()
	}
	backlogIs(t, tr, topic, groups[0], 0)
	// The other group has acknowledged nothing.
	backlogIs(t, tr, topic, groups[1], n)
}

func (s *suite) testConcurrentPublishers(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	const publishers, each = 32, 8
	var (
		wg   sync.WaitGroup
		errs = make(chan error, publishers*each)
		in   []*message.Message
	)
	for p := range publishers {
		msgs := numbered(fmt.Sprintf("p%02d", p), each)
		in = append(in, msgs...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub := tr.Publisher() // one handle each, as the hub's sources take them
			for _, m := range msgs {
				if err := pub.Publish(topic, m); err != nil {
					errs <- fmt.Errorf("publish %s: %w", m.UUID, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	c := consume(t, tr, groups[0], topic)
	got := c.receive(t, len(in), true)
	got = append(got, c.drain(t)...)
	sameMessages(t, "messages of concurrent publishers", got, in)
}

func (s *suite) testContextEnd(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	c := consume(t, tr, groups[0], topic)
	if extra := c.drain(t); len(extra) > 0 {
		t.Fatalf("received %d messages on a topic nobody published to", len(extra))
	}
}

func (s *suite) testPublishAfterClose(t *testing.T) {
	tr := s.open(t)
	topic, _ := names(t, 0)
	pub := tr.Publisher()
	closeWithin(t, tr, s.f.CloseTimeout+wait)
	if err := pub.Publish(topic, marker()); err == nil {
		t.Fatal("Publish after Close returned nil: a source would take an unstored message as stored")
	}
}

func (s *suite) testPublishDurable(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := numbered("m", 10)
	in[3].Metadata.Set("subject", "Преписка № 94-00-12/2025")
	in[4].Payload = []byte{0, 0xff, 0xcf, 0xf0}
	publish(t, tr, topic, in[:5]...)
	for _, m := range in[5:] {
		publish(t, tr, topic, m)
	}

	tr = s.reopen(t, tr)
	backlogIs(t, tr, topic, groups[0], int64(len(in)))
	c := consume(t, tr, groups[0], topic)
	got := c.receive(t, len(in), true)
	got = append(got, c.drain(t)...)
	sameMessages(t, "after reopening", got, in)
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testRedeliveredAfterReopen(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := numbered("m", 3)
	publish(t, tr, topic, in...)
	c := consume(t, tr, groups[0], topic)
	first := c.receive(t, len(in), false)
	first[0].Ack() // the other two are still being handled when the process ends

	// Close waits the close timeout for the two, then gives them back.
	tr = s.reopen(t, tr)
	c = consume(t, tr, groups[0], topic)
	end := marker()
	publish(t, tr, topic, end)
	got := c.until(t, end.UUID)
	want := slices.DeleteFunc(slices.Clone(in), func(m *message.Message) bool { return m.UUID == first[0].UUID })
	sameRedelivered(t, "delivered again after reopening", got, want)
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testCloseDrains(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := message.NewMessage("in-flight", []byte("being handled"))
	publish(t, tr, topic, in)
	c := consume(t, tr, groups[0], topic)
	m := c.next(t, "the message to handle")

	closed := make(chan error, 1)
	go func() { closed <- tr.Close() }()
	// Nothing visible tells that Close has begun, so give it a quarter of the close timeout;
	// Close must not return before the message is settled or the close timeout has passed.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (error %v) while a message was being handled, before the close timeout of %s", err, s.f.CloseTimeout)
	case <-time.After(s.f.CloseTimeout / 4):
	}
	if err := m.Context().Err(); err != nil {
		t.Fatalf("the context of the message being handled ended when Close began: %v", err)
	}
	m.Ack()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(s.f.CloseTimeout + wait):
		t.Fatalf("Close did not return within %s", s.f.CloseTimeout+wait)
	}

	tr = s.reopenClosed(t, tr)
	c = consume(t, tr, groups[0], topic)
	end := marker()
	publish(t, tr, topic, end)
	if got := c.until(t, end.UUID); len(got) > 0 {
		t.Fatalf("after reopening, a message acknowledged while Close drained was delivered again: %v", uuids(got))
	}
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testPrefetch(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := numbered("m", 5)
	publish(t, tr, topic, in...)

	// The transport's own prefetch is larger; the subscriber's option holds it to two.
	c := consume(t, tr, groups[0], topic, transport.WithPrefetch(2))
	held := c.receive(t, 2, false)
	c.none(t, 500*time.Millisecond, "a third message while two are unacknowledged with prefetch 2")
	held[0].Ack()
	third := c.next(t, "a third message once one of two is acknowledged")
	c.none(t, 300*time.Millisecond, "a fourth message while two are unacknowledged with prefetch 2")
	held[1].Ack()
	third.Ack()
	got := append(held, third)
	got = append(got, c.receive(t, 2, true)...)
	got = append(got, c.drain(t)...)
	sameMessages(t, "with prefetch 2", got, in)
}

// With WithSettledCalls a message is settled when the consumer calls transport.Settled, on the
// consumer's goroutine, and not before: an Ack alone keeps its prefetch slot, which shows that no
// goroutine of the transport waits for it. A Nack so settled delivers the message again.
func (s *suite) testSettledCalls(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := numbered("m", 4)
	publish(t, tr, topic, in...)

	c := consume(t, tr, groups[0], topic, transport.WithPrefetch(2), transport.WithSettledCalls())
	held := c.receive(t, 2, false)
	transport.Settled(held[0]) // neither Acked nor Nacked yet: nothing to settle
	held[0].Ack()
	c.none(t, 500*time.Millisecond, "a third message with prefetch 2 while one message is Acked but not settled and the other unsettled")
	transport.Settled(held[0])
	transport.Settled(held[0]) // settled once only
	third := c.next(t, "a third message once one of two is settled")
	c.none(t, 300*time.Millisecond, "a fourth message while two are unsettled with prefetch 2")
	held[1].Nack()
	transport.Settled(held[1])
	third.Ack()
	transport.Settled(third)
	got := []*message.Message{held[0], third}
	for range 2 { // the Nacked message again and the fourth, in either order
		m := c.next(t, "the Nacked message again, or the fourth")
		m.Ack()
		transport.Settled(m)
		got = append(got, m)
	}
	got = append(got, c.drain(t)...)
	sameRedelivered(t, "with settled calls", got, in)
}

// delay is how long the delayed-redelivery tests ask to wait: long enough to tell "after the
// delay" from "at once", and for other messages to pass meanwhile, on a slow machine running
// other tests beside these (1.5 s once proved too short there); short enough for a test.
const delay = 3 * time.Second

func (s *suite) testDelayFreesConsumer(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := message.NewMessage("delayed", []byte("заявление, чийто регистър не отговаря"))
	in.Metadata.Set("subject", "Преписка № 94-00-12/2025")
	publish(t, tr, topic, in)

	// With prefetch 1 a consumer that held the delayed message would receive nothing else.
	c := consume(t, tr, groups[0], topic, transport.WithPrefetch(1))
	first := c.next(t, "the message to delay")
	sameMessages(t, "first delivery", []*message.Message{first}, []*message.Message{in})
	first.Metadata.Set(envelope.Attempt, "2") // the handler tried twice, as the hub's retries count
	if !transport.RedeliverAfter(first, delay) {
		t.Fatal("RedeliverAfter returned false: the subscriber cannot deliver a message again after a delay")
	}
	nacked := time.Now()
	first.Nack()

	others := numbered("other", 3)
	publish(t, tr, topic, others...)
	got := c.receive(t, len(others), true)
	if since := time.Since(nacked); since >= delay {
		t.Fatalf("the other messages took %s, not less than the delay of %s: was the consumer held?", since, delay)
	}
	sameMessages(t, "messages published during the delay", got, others)

	again := c.next(t, "the delayed message")
	at := time.Since(nacked)
	if at < delay {
		t.Fatalf("the delayed message came back after %s, before its delay of %s", at, delay)
	}
	again.Ack()
	sameRedelivered(t, "after the delay", []*message.Message{again}, []*message.Message{withoutAttempt(first)})
	if a := again.Metadata.Get(envelope.Attempt); a != "3" {
		t.Errorf("attempt after the delay = %q, want 3: the count goes on from the 2 attempts made", a)
	}
	if extra := c.drain(t); len(extra) > 0 {
		t.Fatalf("after the delayed message was acknowledged, %d more deliveries: %v", len(extra), uuids(extra))
	}
	backlogIs(t, tr, topic, groups[0], 0)
}

func (s *suite) testDelaySurvivesRestart(t *testing.T) {
	tr := s.open(t)
	topic, groups := names(t, 1)
	register(t, tr, topic, groups...)
	in := message.NewMessage("delayed", []byte("payload"))
	in.Metadata.Set("n", "1")
	publish(t, tr, topic, in)

	c := consume(t, tr, groups[0], topic)
	first := c.next(t, "the message to delay")
	first.Metadata.Set(envelope.Attempt, "1")
	if !transport.RedeliverAfter(first, delay) {
		t.Fatal("RedeliverAfter returned false: the subscriber cannot deliver a message again after a delay")
	}
	nacked := time.Now()
	first.Nack()
	c.cancel()

	tr = s.reopen(t, tr)
	c = consume(t, tr, groups[0], topic)
	again := c.next(t, "the delayed message after the restart")
	if at := time.Since(nacked); at < delay {
		t.Fatalf("after the restart the delayed message came back after %s, before its delay of %s", at, delay)
	}
	again.Ack()
	sameRedelivered(t, "delayed across a restart", []*message.Message{again}, []*message.Message{in})
	if a := again.Metadata.Get(envelope.Attempt); a != "2" {
		t.Errorf("attempt after the delay and restart = %q, want 2", a)
	}
	end := marker()
	publish(t, tr, topic, end)
	if got := c.until(t, end.UUID); len(got) > 0 {
		t.Fatalf("the delayed message was delivered more than once: %v", uuids(got))
	}
	backlogIs(t, tr, topic, groups[0], 0)
}

// withoutAttempt returns the metadata a handler's message had before the handler counted it.
func withoutAttempt(m *message.Message) *message.Message {
	c := message.NewMessage(m.UUID, m.Payload)
	c.Metadata = maps.Clone(m.Metadata)
	delete(c.Metadata, envelope.Attempt)
	return c
}
