package rabbitmq

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
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
	cfg := packConfig(t)
	cfg.CloseTimeout = spec.Duration(50 * time.Millisecond)
	tr := open(t, cfg)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("m", 3)...)
	got := receive(t, ch, 3)
	got[0].Ack()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr2 := open(t, cfg)
	again := receive(t, subscribe(t, tr2, "g", "topic"), 3)
	ackAll(again)
	seen := map[string]bool{}
	for _, m := range again {
		seen[m.UUID] = true
		// The pack was given back at the close, and may have been delivered to the closing
		// consumer once more before its channel closed: one lost delivery at least.
		d := transport.DeliveryOf(m.Context())
		if d == nil || d.Deliveries != 1 || d.Attempts < 1 {
			t.Fatalf("%s: delivery %+v, want 1 delivery after 1 attempt or more", m.UUID, d)
		}
		if a := m.Metadata.Get(envelope.Attempt); a != strconv.Itoa(d.Attempts+1) {
			t.Errorf("%s: attempt %q, want %d", m.UUID, a, d.Attempts+1)
		}
	}
	if len(seen) != 3 {
		t.Errorf("delivered again %v, want the pack's three messages", seen)
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
	tr := open(t, packConfig(t))
	var sent, packs, largest atomic.Int64
	tr.onPack = func(n int) {
		sent.Add(int64(n))
		packs.Add(1)
		for l := largest.Load(); int64(n) > l && !largest.CompareAndSwap(l, int64(n)); l = largest.Load() {
		}
	}
	ch := subscribe(t, tr, "g", "topic")
	start := time.Now()
	publish(t, tr, "topic", simple("alone", 1)...)
	if packs.Load() != 1 || largest.Load() != 1 {
		t.Fatalf("a lone publish went out in %d packs of up to %d", packs.Load(), largest.Load())
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
	if sent.Load() != n+1 || largest.Load() < 2 || largest.Load() > 32 {
		t.Errorf("%d messages sent in %d packs of up to %d; want %d, some packs of more than one, none above 32", sent.Load(), packs.Load(), largest.Load(), n+1)
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
	t.Logf("%d messages in %d packs, the largest %d", sent.Load(), packs.Load(), largest.Load())
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
