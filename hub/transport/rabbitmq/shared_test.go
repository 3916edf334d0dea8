package rabbitmq

import (
	"slices"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// dispatcher runs a shared channel's dispatcher on channels the test feeds, as the connection's
// reader would: returns unbuffered, each before its message's confirmation.
func dispatcher(t *testing.T) (s *sharedChannel, confirms chan amqp.Confirmation, returns chan amqp.Return) {
	s = &sharedChannel{waiting: map[uint64]tagWait{}, done: make(chan struct{})}
	confirms, returns = make(chan amqp.Confirmation, confirmsBuffer), make(chan amqp.Return)
	go s.dispatch(confirms, returns)
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			close(confirms)
			close(returns)
			<-s.done
		}
	})
	return s, confirms, returns
}

// wait registers a call for ids under tags from first on, as publish does.
func wait(s *sharedChannel, first uint64, ids ...string) (*pubCall, []uint64) {
	call := &pubCall{left: len(ids), done: make(chan struct{})}
	var tags []uint64
	s.mu.Lock()
	for i, id := range ids {
		s.waiting[first+uint64(i)] = tagWait{call: call, id: id}
		tags = append(tags, first+uint64(i))
	}
	s.mu.Unlock()
	return call, tags
}

func settled(t *testing.T, c *pubCall) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call was not settled")
	}
}

func TestDispatchSettlesEachCallWithItsOwnOutcome(t *testing.T) {
	s, confirms, returns := dispatcher(t)
	a, _ := wait(s, 1, "a1", "a2")
	b, _ := wait(s, 3, "b1", "b2", "b3")
	// b2 is returned (before its confirmation), a2 refused, the rest confirmed, out of order.
	confirms <- amqp.Confirmation{DeliveryTag: 3, Ack: true}
	returns <- amqp.Return{MessageId: "b2", ReplyCode: 312, ReplyText: "NO_ROUTE"}
	confirms <- amqp.Confirmation{DeliveryTag: 4, Ack: true}
	confirms <- amqp.Confirmation{DeliveryTag: 1, Ack: true}
	confirms <- amqp.Confirmation{DeliveryTag: 2, Ack: false}
	select {
	case <-b.done:
		t.Fatal("b settled before its last confirmation")
	case <-time.After(20 * time.Millisecond):
	}
	confirms <- amqp.Confirmation{DeliveryTag: 5, Ack: true}
	settled(t, a)
	settled(t, b)
	if a.lost || len(a.returned) != 0 || !slices.Equal(a.nacked, []string{"a2"}) {
		t.Errorf("a: lost %v, returned %v, nacked %v; want a2 refused only", a.lost, a.returned, a.nacked)
	}
	if b.lost || len(b.nacked) != 0 || !slices.Equal(b.returned, []string{"b2 (312 NO_ROUTE)"}) {
		t.Errorf("b: lost %v, returned %v, nacked %v; want b2 returned only", b.lost, b.returned, b.nacked)
	}
}

// A publish that gave up waiting leaves its tags to be taken by their confirmations, returns and
// all, so that a later message with the same id is not taken for returned.
func TestDispatchForgottenTagsTakeTheirReturns(t *testing.T) {
	s, confirms, returns := dispatcher(t)
	_, tags := wait(s, 1, "x")
	s.forget(tags)
	returns <- amqp.Return{MessageId: "x", ReplyCode: 312, ReplyText: "NO_ROUTE"}
	confirms <- amqp.Confirmation{DeliveryTag: 1, Ack: true}
	again, _ := wait(s, 2, "x")
	confirms <- amqp.Confirmation{DeliveryTag: 2, Ack: true}
	settled(t, again)
	if len(again.returned) != 0 || len(again.nacked) != 0 || again.lost {
		t.Errorf("the same id published again: returned %v, nacked %v, lost %v; want confirmed", again.returned, again.nacked, again.lost)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiting) != 0 {
		t.Errorf("%d tags still waited for", len(s.waiting))
	}
}

// The channel closing settles every call still waiting as lost, once, and later publishes on it
// are refused.
func TestDispatchChannelClosedLosesTheRest(t *testing.T) {
	s, confirms, returns := dispatcher(t)
	a, _ := wait(s, 1, "a1", "a2")
	b, _ := wait(s, 3, "b1")
	confirms <- amqp.Confirmation{DeliveryTag: 1, Ack: true}
	close(returns)
	close(confirms)
	settled(t, a)
	settled(t, b)
	if !a.lost || !b.lost {
		t.Errorf("lost: a %v, b %v; want both", a.lost, b.lost)
	}
	<-s.done
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if !closed {
		t.Error("the channel is not marked closed")
	}
	s.forget([]uint64{7}) // after the close: nothing to forget, no panic
}
