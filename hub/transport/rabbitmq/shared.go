package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// sharedChannel is a publishing channel in confirm mode that concurrent publishes share. A
// channel for each concurrent publish, as the transport had, made the broker confirm every
// message on its own channel, one confirmation frame each; on one channel the broker confirms
// the messages that arrive together with one frame, and keeps one channel process busy instead
// of sixteen. On the ЕСОЕД route with 16 clients (six interleaved pairs of `aiskao bench
// -transport rabbitmq`): the broker's CPU a message 238–315 µs against 329–450, the hub's the
// same within the machine's noise.
//
// One goroutine takes the channel's confirmations and returns, in the order the connection's
// reader hands them over, and settles the publishes waiting for them. The broker sends a
// message's return before its confirmation, and the returns are taken without a buffer, so a
// return is recorded before the confirmation that follows it is even handed over: a publish
// learns of its returned messages together with their confirmations, whichever publish they
// share the channel with.
type sharedChannel struct {
	ch   *amqp.Channel
	conn *amqp.Connection

	// pub orders publishes, so that the delivery tag read before a publish is the one the
	// library gives it.
	pub sync.Mutex

	mu      sync.Mutex
	waiting map[uint64]tagWait // delivery tag → the publish waiting for its confirmation
	closed  bool               // the channel closed: nothing more is confirmed
	done    chan struct{}      // closed once the dispatcher has settled everything
}

// tagWait is one message of a publish waiting for its confirmation.
type tagWait struct {
	call *pubCall // nil once the publish gave up waiting
	id   string
}

// pubCall is one publish's messages waiting for their confirmations. The dispatcher writes its
// fields; the publish reads them once done is closed.
type pubCall struct {
	left     int
	nacked   []string // ids the broker refused
	returned []string // ids no queue took, with the broker's reason
	lost     bool     // the channel closed before every message was confirmed
	done     chan struct{}
}

// confirmsBuffer lets the connection's reader hand over this many confirmations before it waits
// for the dispatcher; returns are handed over one by one (see sharedChannel).
const confirmsBuffer = 256

// openShared opens a shared publishing channel on the current publishing connection.
func (t *Transport) openShared() (*sharedChannel, error) {
	ch, c, err := t.confirmChannel()
	if err != nil {
		return nil, err
	}
	s := &sharedChannel{ch: ch, conn: c, waiting: map[uint64]tagWait{}, done: make(chan struct{})}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, confirmsBuffer))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	go s.dispatch(confirms, returns)
	return s, nil
}

// usable tells whether publishes may still go through s.
func (s *sharedChannel) usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && !s.ch.IsClosed()
}

// dispatch settles the waiting publishes until the channel closes, and then fails those left.
// It never waits on anything but the two channels: the connection's reader waits for it.
func (s *sharedChannel) dispatch(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return) {
	defer close(s.done)
	// Returned messages by id, until their confirmation comes: a message is returned at most
	// once, but the same id may be published twice at once.
	held := map[string][]string{}
	for confirms != nil {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			held[r.MessageId] = append(held[r.MessageId], fmt.Sprintf("%s (%d %s)", r.MessageId, r.ReplyCode, r.ReplyText))
		case c, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			s.mu.Lock()
			w, found := s.waiting[c.DeliveryTag]
			delete(s.waiting, c.DeliveryTag)
			s.mu.Unlock()
			if !found {
				continue
			}
			var ret string
			if rs := held[w.id]; len(rs) > 0 {
				ret = rs[0]
				if len(rs) == 1 {
					delete(held, w.id)
				} else {
					held[w.id] = rs[1:]
				}
			}
			if w.call == nil {
				continue // its publish gave up waiting
			}
			switch {
			case !c.Ack:
				w.call.nacked = append(w.call.nacked, w.id)
			case ret != "":
				w.call.returned = append(w.call.returned, ret)
			}
			if w.call.left--; w.call.left == 0 {
				close(w.call.done)
			}
		}
	}
	// The channel closed: what was not confirmed will not be.
	s.mu.Lock()
	s.closed = true
	waiting := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	for _, w := range waiting {
		if w.call != nil && !w.call.lost {
			w.call.lost = true
			close(w.call.done)
		}
	}
}

// publish sends msgs (marshalled, with their ids) to exchange ex with routing key topic and
// waits for their confirmations. caller is the context ctx was made from, to tell the publish
// timeout from the caller's own end.
func (s *sharedChannel) publish(ctx, caller context.Context, t *Transport, ex, topic string, pubs []amqp.Publishing) error {
	call := &pubCall{left: len(pubs), done: make(chan struct{})}
	tags := make([]uint64, 0, len(pubs))
	s.pub.Lock()
	for _, p := range pubs {
		tag := s.ch.GetNextPublishSeqNo()
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			s.pub.Unlock()
			s.forget(tags)
			return fmt.Errorf("message %s: %w: the channel closed; publish again", p.MessageId, ErrUnconfirmed)
		}
		s.waiting[tag] = tagWait{call: call, id: p.MessageId}
		s.mu.Unlock()
		tags = append(tags, tag)
		dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, ex, topic, true, false, p)
		if err == nil && (dc == nil || dc.DeliveryTag != tag) {
			// Not what the library does; fail closed rather than wait for another's confirmation.
			err = errors.New("the channel's delivery tags are out of step")
			s.ch.Close()
		}
		if err != nil {
			s.pub.Unlock()
			s.forget(tags)
			return fmt.Errorf("message %s: %w: %w", p.MessageId, ErrUnconfirmed, err)
		}
	}
	s.pub.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		s.forget(tags)
		select {
		case <-call.done: // settled meanwhile: take the outcome
		default:
			id := pubs[len(pubs)-1].MessageId
			if caller.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("message %s: %w: no confirmation from the broker within %s", id, ErrUnconfirmed, t.cfg.PublishTimeout.D())
			}
			return fmt.Errorf("message %s: %w: waiting for the broker's confirmation: %w", id, ErrUnconfirmed, ctx.Err())
		}
	}
	switch {
	case call.lost:
		return fmt.Errorf("%w: connection lost before the broker confirmed every message; publish again", ErrUnconfirmed)
	case len(call.nacked) > 0:
		return fmt.Errorf("the broker refused %d messages (negative confirmation); publish again: %s", len(call.nacked), strings.Join(call.nacked, ", "))
	case len(call.returned) > 0:
		return fmt.Errorf("no queue took %d messages, not even the unrouted queue %s: %s",
			len(call.returned), t.unroutedQueue(topic), strings.Join(call.returned, ", "))
	}
	return nil
}

// forget stops waiting for tags: a confirmation that comes later settles no publish, but still
// takes its message's return, if any, with it. A call the dispatcher already settled is left as
// it is.
func (s *sharedChannel) forget(tags []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tag := range tags {
		if w, ok := s.waiting[tag]; ok {
			s.waiting[tag] = tagWait{id: w.id}
		}
	}
}
