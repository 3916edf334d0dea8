package embedded

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

// TestPublishedHereIsNotReadBack: a message published in the process reaches its subscription
// as the publisher's payload, without a read of the file, with its metadata as published.
func TestPublishedHereIsNotReadBack(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	ch := subscribe(t, tr, "g", "topic")
	sent := make([]*message.Message, 50)
	for i := range sent {
		sent[i] = message.NewMessage(fmt.Sprintf("m%02d", i), bytes.Repeat([]byte{byte('a' + i%26)}, 1000))
		sent[i].Metadata.Set("n", fmt.Sprint(i))
	}
	publish(t, tr, "topic", sent...)
	for i, m := range receive(t, ch, len(sent)) {
		if m.UUID != sent[i].UUID || !bytes.Equal(m.Payload, sent[i].Payload) || m.Metadata.Get("n") != fmt.Sprint(i) {
			t.Fatalf("message %d: got %s %q… n=%s", i, m.UUID, m.Payload[:4], m.Metadata.Get("n"))
		}
		if &m.Payload[0] != &sent[i].Payload[0] {
			t.Errorf("message %d: payload copied, want the published slice", i)
		}
		m.Ack()
	}
	if n := tr.reads.Load(); n != 0 {
		t.Errorf("%d messages read back from the file, want 0", n)
	}
}

// TestHandoffBoundedByBytes: past handoff_bytes, what a subscription has not taken is read from
// the file in its turn; every message arrives once, in order.
func TestHandoffBoundedByBytes(t *testing.T) {
	tr := open(t, tempFile(t), Config{HandoffBytes: 4000, Prefetch: 1})
	ch := subscribe(t, tr, "g", "topic")
	var sent []*message.Message
	for i := range 20 {
		m := message.NewMessage(fmt.Sprintf("m%02d", i), bytes.Repeat([]byte{byte('a' + i)}, 1000))
		sent = append(sent, m)
		publish(t, tr, "topic", m) // one at a time: the subscription holds one, the rest wait
	}
	for i := range sent {
		m := receive(t, ch, 1)[0]
		if m.UUID != sent[i].UUID || !bytes.Equal(m.Payload, sent[i].Payload) {
			t.Fatalf("message %d: got %s, want %s", i, m.UUID, sent[i].UUID)
		}
		m.Ack()
	}
	if n := tr.reads.Load(); n == 0 || n >= 20 {
		t.Errorf("%d of 20 messages read back, want some (past 4000 bytes kept) and not all", n)
	}
}

// TestReadBoundedByBytes: a subscription reads a backlog from the file read_bytes at a time, a
// larger message alone.
func TestReadBoundedByBytes(t *testing.T) {
	tr := open(t, tempFile(t), Config{ReadBytes: 2500})
	if err := mustSub(t, tr, "g").SubscribeInitialize("topic"); err != nil {
		t.Fatal(err)
	}
	sizes := []int{1000, 1000, 1000, 5000, 10, 10}
	for i, n := range sizes {
		publish(t, tr, "topic", message.NewMessage(fmt.Sprint(i), make([]byte, n)))
	}
	sub, err := tr.register(t.Context(), "g", "topic")
	if err != nil {
		t.Fatal(err)
	}
	f := newFeed(tr, sub, "topic") // not running: the test drives its reads
	var got [][]string
	for more := true; more; {
		if more, err = f.load(); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for len(f.queue) > 0 {
			ids = append(ids, f.queue[0].uuid)
			f.queue = f.queue[1:]
		}
		if len(ids) > 0 {
			got = append(got, ids)
		}
	}
	want := fmt.Sprint([][]string{{"0", "1", "2"}, {"3"}, {"4", "5"}})
	if fmt.Sprint(got) != want {
		t.Errorf("reads %v, want %s", got, want)
	}
}

func TestHandoffKeepsInOrderAndDrops(t *testing.T) {
	msg := func(seq int64, n int) *stored { return &stored{seq: seq, payload: make([]byte, n)} }
	h := handoff{max: 100}
	h.offer([]*stored{msg(1, 40), msg(2, 40), msg(3, 40), msg(4, 10)}) // 3 does not fit; 4 does
	if h.bytes != 90 || len(h.q) != 3 {
		t.Fatalf("kept %d messages, %d bytes; want 3, 90", len(h.q), h.bytes)
	}
	if m := h.take(2); m == nil || m.seq != 2 { // 1 was not pending for the feed: dropped
		t.Fatalf("take(2) = %v", m)
	}
	if m := h.take(3); m != nil {
		t.Fatalf("take(3) = %v, want nil (not kept)", m)
	}
	h.advance(4) // read past 4 from the file
	if h.bytes != 0 || len(h.q)-h.head != 0 {
		t.Errorf("after advance: %d bytes, %d kept; want none", h.bytes, len(h.q)-h.head)
	}
	h.offer([]*stored{msg(4, 5), msg(5, 500)}) // 4 is below the floor; 5 is larger than max, alone
	if len(h.q)-h.head != 1 || h.q[h.head].seq != 5 {
		t.Errorf("kept %v, want only 5", h.q[h.head:])
	}
	h.offer([]*stored{msg(6, 1)}) // no room beside the larger one
	if m := h.take(6); m != nil || h.bytes != 0 {
		t.Errorf("take(6) = %v with %d bytes left, want nil and 0", m, h.bytes)
	}
}

// TestLargePayloadInParts: a payload larger than a part is kept in parts and read back whole
// after a restart; acknowledged, its parts go with it.
func TestLargePayloadInParts(t *testing.T) {
	file := tempFile(t)
	tr := open(t, file, Config{})
	if err := mustSub(t, tr, "g").SubscribeInitialize("topic"); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2*partSize+12345)
	for i := range big {
		big[i] = byte(i * 7 / 5)
	}
	exact := make([]byte, partSize) // one part exactly: no rows of parts
	publish(t, tr, "topic", message.NewMessage("big", big), message.NewMessage("exact", exact), message.NewMessage("empty", nil))
	if n := countRows(t, tr, "transport_parts"); n != 2 {
		t.Fatalf("%d rows of parts, want 2", n)
	}
	tr.Close()

	tr = open(t, file, Config{})
	ch := subscribe(t, tr, "g", "topic")
	for _, want := range []*message.Message{message.NewMessage("big", big), message.NewMessage("exact", exact), message.NewMessage("empty", []byte{})} {
		m := receive(t, ch, 1)[0]
		if m.UUID != want.UUID || !bytes.Equal(m.Payload, want.Payload) {
			t.Fatalf("got %s (%d bytes), want %s (%d bytes) as published", m.UUID, len(m.Payload), want.UUID, len(want.Payload))
		}
		m.Ack()
	}
	if n := tr.reads.Load(); n != 3 {
		t.Errorf("%d messages read from the file, want 3", n)
	}
	eventually(t, "messages and parts deleted", func() bool {
		return countRows(t, tr, "transport_messages") == 0 && countRows(t, tr, "transport_parts") == 0
	})
}
