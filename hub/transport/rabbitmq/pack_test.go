package rabbitmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
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
	"github.com/aiskao/aiskao/transport"
)

func packMessages() []*message.Message {
	a := message.NewMessage("a-1", []byte("<x>1</x>"))
	a.Metadata.Set("k", "v")
	a.Metadata.Set("име", "стойност")
	b := message.NewMessage("b", nil)
	c := message.NewMessage("c", bytes.Repeat([]byte{0, 0xff, '\n'}, 300))
	c.Metadata.Set("", "empty key")
	c.Metadata.Set("empty value", "")
	return []*message.Message{a, b, c}
}

func TestPackRoundTrip(t *testing.T) {
	for n := 1; n <= 3; n++ {
		msgs := packMessages()[:n]
		got, err := decodePack(encodePack(msgs))
		if err != nil {
			t.Fatalf("%d messages: %v", n, err)
		}
		if len(got) != n {
			t.Fatalf("%d messages: decoded %d", n, len(got))
		}
		for i, m := range msgs {
			if got[i].id != m.UUID || !bytes.Equal(got[i].payload, m.Payload) || !maps.Equal(got[i].metadata, m.Metadata) {
				t.Errorf("message %d: got %q %q %v, want %q %q %v", i, got[i].id, got[i].payload, got[i].metadata, m.UUID, m.Payload, m.Metadata)
			}
		}
	}
	if a, b := encodePack(packMessages()), encodePack(packMessages()); !bytes.Equal(a, b) {
		t.Error("equal messages made different packs")
	}
}

func TestDecodePackRefuses(t *testing.T) {
	good := encodePack(packMessages())
	for _, tc := range []struct {
		name, want string
		body       []byte
	}{
		{"empty", "does not start with", nil},
		{"other magic", "does not start with", append([]byte("AKP\x02"), good[4:]...)},
		{"no count", "length of the messages at byte 4 is cut off", []byte(packMagic)},
		{"no message", "holds no message", []byte(packMagic + "\x00")},
		{"more messages than fit", "cannot fit", []byte(packMagic + "\x05\x01a\x00\x00")},
		{"count beyond the bound", "more than 4096", append([]byte(packMagic), 0x81, 0x20)},
		{"empty id", "empty id", []byte(packMagic + "\x01\x00\x00\x00\x00")},
		{"cut in a payload", "payload at byte", good[:len(good)-1]},
		{"length past the end", "says 127 bytes", []byte(packMagic + "\x01\x7fabc\x00\x00")},
		{"metadata beyond the bound", "1025 metadata entries at byte 7, more than 1024", []byte(packMagic + "\x01\x01a\x81\x08\x00\x00\x00\x00")},
		{"overlong varint", "cut off or too long", append([]byte(packMagic+"\x01\x01a"), bytes.Repeat([]byte{0x80}, 11)...)},
		{"bytes after the last", "1 bytes after the last message", append(bytes.Clone(good), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodePack(tc.body)
			if err == nil || !errors.Is(err, errPack) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodePack: any bytes are read without a panic, and what is read is written back to the
// same messages.
func FuzzDecodePack(f *testing.F) {
	f.Add(encodePack(packMessages()))
	f.Add(encodePack(packMessages()[:1]))
	f.Add([]byte(packMagic + "\x02\x01a\x00\x00\x01b\x01\x01k\x01v\x01x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodePack(body)
		if err != nil {
			return
		}
		msgs := make([]*message.Message, len(got))
		for i, p := range got {
			msgs[i] = message.NewMessage(p.id, p.payload)
			msgs[i].Metadata = p.metadata
		}
		again, err := decodePack(encodePack(msgs))
		if err != nil || len(again) != len(got) {
			t.Fatalf("written back: %d messages, %v", len(again), err)
		}
		for i := range got {
			if again[i].id != got[i].id || !bytes.Equal(again[i].payload, got[i].payload) || !maps.Equal(again[i].metadata, got[i].metadata) {
				t.Fatalf("message %d changed when written back", i)
			}
		}
	})
}

func packConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Pack = 32
	return cfg
}

// packCounts is a transport.PackCounter for tests.
type packCounts struct {
	sent, messages, largest, splits, split atomic.Int64
}

func (c *packCounts) Sent(n int) {
	c.sent.Add(1)
	c.messages.Add(int64(n))
	for l := c.largest.Load(); int64(n) > l && !c.largest.CompareAndSwap(l, int64(n)); l = c.largest.Load() {
	}
}

func (c *packCounts) Split(n int) {
	c.splits.Add(1)
	c.split.Add(int64(n))
}

// openCounted is open with c counting the transport's packs.
func openCounted(t *testing.T, cfg Config, c *packCounts) *Transport {
	t.Helper()
	tr, err := New(cfg, transport.Env{Packs: c})
	if err != nil {
		t.Fatal(err)
	}
	tr.onDeclare = record(cfg.QueuePrefix)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// TestPackedMessagesCountAgainstThePrefetch: a consumer holds no more than prefetch messages
// unsettled, however many packs they came in.
func TestPackedMessagesCountAgainstThePrefetch(t *testing.T) {
	cfg := packConfig(t)
	cfg.Prefetch = 4
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 10)...)
	got := receive(t, ch, 4)
	quiet(t, ch, 300*time.Millisecond)
	got[0].Ack()
	got = append(got[1:], receive(t, ch, 1)...)
	quiet(t, ch, 100*time.Millisecond)
	ackAll(got)
	got = receive(t, ch, 4)
	quiet(t, ch, 100*time.Millisecond)
	ackAll(got)
	receive(t, ch, 1)[0].Ack()
}

// TestPackIsOneBrokerMessage: the messages of one call go to the broker as one pack.
func TestPackIsOneBrokerMessage(t *testing.T) {
	cfg := packConfig(t)
	tr := open(t, cfg)
	initialize(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 10)...)
	ch := brokerChannel(t, cfg.URL)
	d, ok, err := ch.Get(tr.queue("g", "topic"), false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if n := d.Headers[packHeader]; n != "10" {
		t.Fatalf("%s header %v, want 10", packHeader, n)
	}
	if _, ok, _ := ch.Get(tr.queue("g", "topic"), false); ok {
		t.Fatal("a second broker message for one call")
	}
}

// TestPackedMessagesHandedOutOneByOne: each message of a pack reaches the consumer with its id,
// payload and metadata, and the pack is acknowledged once all are.
func TestPackedMessagesHandedOutOneByOne(t *testing.T) {
	tr := open(t, packConfig(t))
	ch := subscribe(t, tr, "g", "topic")
	sent := simple("m", 10)
	publish(t, tr, "topic", sent...)
	got := receive(t, ch, 10)
	for i, m := range got {
		if m.UUID != sent[i].UUID || string(m.Payload) != string(sent[i].Payload) || m.Metadata.Get("n") != fmt.Sprint(i) {
			t.Errorf("message %d: %s %q %v", i, m.UUID, m.Payload, m.Metadata)
		}
		if a := m.Metadata.Get(envelope.Attempt); a != "" {
			t.Errorf("message %d: attempt %q on a first delivery", i, a)
		}
	}
	ackAll(got[:9])
	time.Sleep(100 * time.Millisecond)
	if n := backlog(t, tr, "topic", "g"); n != 1 {
		t.Fatalf("backlog %d with one message of the pack unsettled, want the pack (1) still held", n)
	}
	got[9].Ack()
	eventually(t, "backlog 0", func() bool { return backlog(t, tr, "topic", "g") == 0 })
	quiet(t, ch, 200*time.Millisecond)
}

// TestPackedNackComesBackAlone: a message of a pack handed back, at once or after a delay, comes
// back alone with its next attempt; the others are not delivered again.
func TestPackedNackComesBackAlone(t *testing.T) {
	for _, delay := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(fmt.Sprint(delay), func(t *testing.T) {
			tr := open(t, packConfig(t))
			ch := subscribe(t, tr, "g", "topic")
			publish(t, tr, "topic", simple("m", 3)...)
			got := receive(t, ch, 3)
			got[0].Ack()
			got[2].Ack()
			if delay > 0 && !transport.RedeliverAfter(got[1], delay) {
				t.Fatal("the transport cannot delay")
			}
			nacked := time.Now()
			got[1].Nack()
			again := receive(t, ch, 1)[0]
			waited := time.Since(nacked)
			again.Ack()
			if again.UUID != got[1].UUID || string(again.Payload) != "1" || again.Metadata.Get("n") != "1" {
				t.Fatalf("got %s %q %v back, want m001 as sent", again.UUID, again.Payload, again.Metadata)
			}
			if a := again.Metadata.Get(envelope.Attempt); a != "2" {
				t.Errorf("attempt %q, want 2", a)
			}
			// Handed back at once, its deliveries go on; after a delay they start again.
			d := transport.DeliveryOf(again.Context())
			wantDeliveries, wantAttempts := 2, 0
			if delay > 0 {
				wantDeliveries, wantAttempts = 1, 1
			}
			if d.Deliveries != wantDeliveries || d.Attempts != wantAttempts {
				t.Errorf("delivery %d after %d attempts, want %d after %d", d.Deliveries, d.Attempts, wantDeliveries, wantAttempts)
			}
			if waited < delay {
				t.Errorf("back after %s, want %s at least", waited, delay)
			}
			quiet(t, ch, 300*time.Millisecond)
			eventually(t, "backlog 0", func() bool { return backlog(t, tr, "topic", "g") == 0 })
		})
	}
}

// TestPackDeliveredAgainIsSplit: a pack whose consumer stopped before settling all its messages
// goes back whole, and its next delivery hands out each message alone, counting the lost delivery.
func TestPackDeliveredAgainIsSplit(t *testing.T) {
	// Classic queues count no deliveries: the broker's redelivered flag tells instead.
	for _, queueType := range []string{"quorum", "classic"} {
		t.Run(queueType, func(t *testing.T) { packDeliveredAgainIsSplit(t, queueType) })
	}
}

func packDeliveredAgainIsSplit(t *testing.T, queueType string) {
	cfg := packConfig(t)
	cfg.QueueType = queueType
	cfg.CloseTimeout = spec.Duration(50 * time.Millisecond)
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 3)...)
	got := receive(t, ch, 3)
	got[0].Ack()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	c := &packCounts{}
	tr2 := openCounted(t, cfg, c)
	again := receive(t, subscribe(t, tr2, "g", "topic"), 3)
	ackAll(again)
	seen := map[string]bool{}
	for _, m := range again {
		seen[m.UUID] = true
		// The pack was given back at the close, and may have been delivered to the closing
		// consumer once more before its channel closed: its messages count one delivery that
		// did not settle them at least, so that a poison message is not given more lives.
		d := transport.DeliveryOf(m.Context())
		if d == nil || d.Deliveries < 2 || d.Attempts != 0 {
			t.Fatalf("%s: delivery %+v, want 2 deliveries or more and no delay", m.UUID, d)
		}
		if a := m.Metadata.Get(envelope.Attempt); a != strconv.Itoa(d.Deliveries) {
			t.Errorf("%s: attempt %q, want %d", m.UUID, a, d.Deliveries)
		}
		if _, ok := m.Metadata[unsettledHeader]; ok {
			t.Errorf("%s: %s left in the metadata", m.UUID, unsettledHeader)
		}
	}
	if len(seen) != 3 {
		t.Errorf("delivered again %v, want the pack's three messages", seen)
	}
	if c.splits.Load() != 1 || c.split.Load() != 3 {
		t.Errorf("counted %d splits of %d messages, want 1 of 3", c.splits.Load(), c.split.Load())
	}
	eventually(t, "backlog 0", func() bool { return backlog(t, tr2, "topic", "g") == 0 })
}

// TestUnreadablePackGoesToTheDeadLetterQueue: a broker message that says it is a pack and is not
// one is not handed out, nor delivered again.
func TestUnreadablePackGoesToTheDeadLetterQueue(t *testing.T) {
	cfg := packConfig(t)
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	raw := brokerChannel(t, cfg.URL)
	if err := raw.Publish(tr.exchange("topic"), "topic", false, false, amqp.Publishing{
		Headers: amqp.Table{packHeader: "2"}, MessageId: "bad", DeliveryMode: amqp.Persistent, Body: []byte("AKP\x01\x02\x01a"),
	}); err != nil {
		t.Fatal(err)
	}
	quiet(t, ch, 300*time.Millisecond)
	eventually(t, "the pack in the dead-letter queue", func() bool {
		d, ok, err := raw.Get(tr.queue("g", "topic")+".dead", true)
		if err != nil {
			t.Fatal(err)
		}
		return ok && d.MessageId == "bad"
	})
}

// TestPackerGathersConcurrentPublishes: publishes made while a pack is with the broker go out
// together, each message is delivered once, and no publish waits for company.
func TestPackerGathersConcurrentPublishes(t *testing.T) {
	c := &packCounts{}
	tr := openCounted(t, packConfig(t), c)
	ch := subscribe(t, tr, "g", "topic")
	start := time.Now()
	publish(t, tr, "topic", simple("alone", 1)...)
	if c.sent.Load() != 1 || c.largest.Load() != 1 {
		t.Fatalf("a lone publish went out in %d packs of up to %d", c.sent.Load(), c.largest.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a lone publish took %s", d)
	}
	const n = 200
	var wg sync.WaitGroup
	gate := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-gate
			errs <- tr.Publisher().Publish("topic", message.NewMessage(fmt.Sprintf("c%03d", i), []byte("x")))
		})
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.messages.Load() != n+1 || c.largest.Load() < 2 || c.largest.Load() > 32 {
		t.Errorf("%d messages sent in %d packs of up to %d; want %d, some packs of more than one, none above 32", c.messages.Load(), c.sent.Load(), c.largest.Load(), n+1)
	}
	// Acknowledged as they come: no more than prefetch (64) messages are held at once, packed
	// or not.
	seen := map[string]int{}
	for range n + 1 {
		m := receive(t, ch, 1)[0]
		m.Ack()
		seen[m.UUID]++
	}
	if len(seen) != n+1 {
		t.Errorf("%d distinct messages of %d", len(seen), n+1)
	}
	quiet(t, ch, 200*time.Millisecond)
	t.Logf("%d messages in %d packs, the largest %d", c.messages.Load(), c.sent.Load(), c.largest.Load())
}

// A message above packAlone goes alone, whatever else is published.
func TestLargeMessagesGoAlone(t *testing.T) {
	cfg := packConfig(t)
	tr := open(t, cfg)
	initialize(t, tr, "g", "topic")
	big := message.NewMessage("big", bytes.Repeat([]byte("x"), packAlone+1))
	publish(t, tr, "topic", big, message.NewMessage("small", []byte("y")))
	ch := brokerChannel(t, cfg.URL)
	for _, want := range []string{"big", "small"} {
		d, ok, err := ch.Get(tr.queue("g", "topic"), false)
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		if _, packed := d.Headers[packHeader]; packed || d.MessageId != want {
			t.Fatalf("got %s (pack: %v), want %s alone", d.MessageId, packed, want)
		}
	}
}

// fakeSender records the packs a packer sends; each send waits for a value on release (or
// answers at once where release is nil) and returns err.
type fakeSender struct {
	mu      sync.Mutex
	packs   [][]string
	entered chan struct{} // receives a value as each send starts
	release chan struct{}
	err     error
}

func (f *fakeSender) send(items []packItem) error {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.msg.UUID
	}
	f.mu.Lock()
	f.packs = append(f.packs, ids)
	f.mu.Unlock()
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.release != nil {
		<-f.release
	}
	return f.err
}

func (f *fakeSender) sent() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.packs)
}

// TestPackerWithoutBroker: what waits behind a pack with the broker goes out as the next pack,
// within the count and byte bounds; a lone message goes alone at once; a caller that stops
// waiting before its messages are sent has them dropped; a failed pack fails its callers.
func TestPackerWithoutBroker(t *testing.T) {
	ctx := context.Background()
	msg := func(id string, size int) *message.Message { return message.NewMessage(id, make([]byte, size)) }

	t.Run("alone at once", func(t *testing.T) {
		f := &fakeSender{}
		p := &packer{max: 4, send: f.send}
		if err := p.publish(ctx, []*message.Message{msg("a", 1)}); err != nil {
			t.Fatal(err)
		}
		if got := f.sent(); len(got) != 1 || !slices.Equal(got[0], []string{"a"}) {
			t.Fatalf("sent %v", got)
		}
	})

	t.Run("gathered behind a pack, within the bounds", func(t *testing.T) {
		f := &fakeSender{entered: make(chan struct{}, 16), release: make(chan struct{})}
		p := &packer{max: 3, send: f.send}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		wg.Go(func() { errs <- p.publish(ctx, []*message.Message{msg("first", 1)}) })
		<-f.entered // the first pack is with the "broker"
		for _, m := range []*message.Message{msg("b1", 1), msg("b2", 1), msg("b3", 1), msg("b4", 1), msg("big1", packMaxBytes/2), msg("big2", packMaxBytes/2+1)} {
			wg.Go(func() { errs <- p.publish(ctx, []*message.Message{m}) })
			for {
				p.mu.Lock()
				n := len(p.pending)
				queued := n > 0 && p.pending[n-1].msg == m
				p.mu.Unlock()
				if queued {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		go func() {
			for range f.entered {
			}
		}()
		close(f.release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		want := [][]string{{"first"}, {"b1", "b2", "b3"}, {"b4", "big1"}, {"big2"}}
		if got := f.sent(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("packs %v, want %v", got, want)
		}
	})

	t.Run("a caller that stops waiting", func(t *testing.T) {
		f := &fakeSender{entered: make(chan struct{}, 16), release: make(chan struct{})}
		p := &packer{max: 8, send: f.send}
		first := make(chan error, 1)
		go func() { first <- p.publish(ctx, []*message.Message{msg("first", 1)}) }()
		<-f.entered
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if err := p.publish(short, []*message.Message{msg("given-up", 1)}); !errors.Is(err, ErrUnconfirmed) {
			t.Fatalf("publish whose caller stopped waiting: %v, want ErrUnconfirmed", err)
		}
		kept := make(chan error, 1)
		go func() { kept <- p.publish(ctx, []*message.Message{msg("kept", 1)}) }()
		for {
			p.mu.Lock()
			n := len(p.pending)
			p.mu.Unlock()
			if n == 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		go func() {
			for range f.entered {
			}
		}()
		close(f.release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if err := <-kept; err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"first"}, {"kept"}}
		if got := f.sent(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("packs %v, want %v: the message of the caller that stopped waiting is not sent", got, want)
		}
	})

	t.Run("a failed pack fails its callers", func(t *testing.T) {
		f := &fakeSender{err: errors.New("broker said no")}
		p := &packer{max: 8, send: f.send}
		if err := p.publish(ctx, []*message.Message{msg("a", 1), msg("b", 1)}); err == nil || !strings.Contains(err.Error(), "broker said no") {
			t.Fatalf("publish: %v, want the pack's error", err)
		}
	})
}
