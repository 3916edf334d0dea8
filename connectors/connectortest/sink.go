package connectortest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
)

// SinkFixture is one sink under test with the means to see what it delivered.
type SinkFixture struct {
	// Sink is a new sink.
	Sink connectors.Sink
	// Delivered returns what reached the far side so far, by message id.
	Delivered func(t *testing.T) map[string][]byte
}

// SinkCase describes how to build the sinks that RunSink checks.
type SinkCase struct {
	// New returns a fresh fixture; it is called once per check, and registers its own cleanup.
	New func(t *testing.T) SinkFixture
	// Payloads are the messages sent; nil means DefaultPayloads.
	Payloads [][]byte
	// Metadata is set on every message sent, for example a content type.
	Metadata map[string]string
}

// RunSink checks that the sinks built by c behave as the engine relies on; see the package
// documentation.
func RunSink(t *testing.T, c SinkCase) {
	t.Helper()
	if c.Payloads == nil {
		c.Payloads = DefaultPayloads()
	}
	t.Run("DeliversByteExact", func(t *testing.T) { sinkByteExact(t, c) })
	t.Run("ConcurrentSends", func(t *testing.T) { sinkConcurrent(t, c) })
	t.Run("CloseTwice", func(t *testing.T) { sinkCloseTwice(t, c) })
}

func (c SinkCase) message(p []byte) *message.Message {
	m := message.NewMessage(uuid.NewString(), p)
	for k, v := range c.Metadata {
		m.Metadata.Set(k, v)
	}
	return m
}

func sinkByteExact(t *testing.T, c SinkCase) {
	fx := c.New(t)
	t.Cleanup(func() { _ = fx.Sink.Close() })
	sent := map[string][]byte{}
	for _, p := range c.Payloads {
		m := c.message(p)
		if err := fx.Sink.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %s: %v", short(p), err)
		}
		sent[m.UUID] = p
	}
	compare(t, sent, fx.Delivered(t))
}

func sinkConcurrent(t *testing.T, c SinkCase) {
	fx := c.New(t)
	t.Cleanup(func() { _ = fx.Sink.Close() })
	const workers, each = 8, 8
	var mu sync.Mutex
	sent := map[string][]byte{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				p := fmt.Appendf(nil, "worker %d message %d: ", w, i)
				p = append(p, c.Payloads[(w+i)%len(c.Payloads)]...)
				m := c.message(p)
				if err := fx.Sink.Send(context.Background(), m); err != nil {
					t.Errorf("Send from worker %d: %v", w, err)
					return
				}
				mu.Lock()
				sent[m.UUID] = p
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	compare(t, sent, fx.Delivered(t))
}

func sinkCloseTwice(t *testing.T, c SinkCase) {
	fx := c.New(t)
	m := c.message(c.Payloads[0])
	if err := fx.Sink.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := fx.Sink.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := fx.Sink.Close(); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
}

func compare(t *testing.T, sent, got map[string][]byte) {
	t.Helper()
	for id, p := range sent {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("message %s (%s) not delivered", id, short(p))
		case !bytes.Equal(g, p):
			t.Errorf("message %s delivered as %s; sent %s", id, short(g), short(p))
		}
	}
	for id := range got {
		if _, ok := sent[id]; !ok {
			t.Errorf("delivered a message %s that was not sent", id)
		}
	}
}
