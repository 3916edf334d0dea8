package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// maxIdleChannels is how many publishing channels are kept open between publishes.
const maxIdleChannels = 64

// returnsBuffer is how many returned messages a publishing channel buffers, and so how many
// messages Publish sends before it awaits their confirmations: the client library hands a
// return over from the connection's reader, which a full buffer would stop, confirmations and
// all. Each buffered return is some 270 bytes kept for the channel's life, scanned at every
// collection; at 1 024 the 16 channels of 16 concurrent publishers held 4.2 MB, a third of the
// live heap under load, for messages that are almost always published one at a time.
const returnsBuffer = 32

// pubChannel is a channel in confirm mode, used by one Publish call at a time.
type pubChannel struct {
	ch      *amqp.Channel
	conn    *amqp.Connection
	returns chan amqp.Return
}

// publisher publishes through the transport's publishing connection.
type publisher struct {
	t      *Transport
	closed atomic.Bool
}

var _ message.Publisher = (*publisher)(nil)

// Publish sends msgs to topic as persistent messages and returns once the broker has confirmed
// every one of them, that is stored it in every queue it routes to (for quorum queues: on a
// majority of the nodes). It fails at once while the broker is disconnected or silent, and after
// publish_timeout when the confirmations do not come; the messages may then have been stored or
// not (ErrUnconfirmed). The messages of one call are sent back to back, returnsBuffer at a
// time, and their confirmations awaited together. A message that no route's queue takes lands
// in the topic's unrouted queue (see the package documentation); should even that be missing,
// the broker returns it and Publish fails, so that nothing is dropped silently.
func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.t.publish(topic, msgs); err != nil {
		return fmt.Errorf("rabbitmq: publish to %s: %w", topic, err)
	}
	return nil
}

// Close stops the publisher; the channels belong to the transport.
func (p *publisher) Close() error {
	p.closed.Store(true)
	return nil
}

func (t *Transport) publish(topic string, msgs []*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := t.pub.ready(); err != nil {
		return err // not sent: a broker that said nothing for a while is not given more to lose
	}
	// One deadline for the call: its messages come from one caller and are confirmed together.
	ctx, cancel := context.WithTimeout(msgs[0].Context(), t.cfg.PublishTimeout.D())
	defer cancel()
	pc, err := t.takeChannel()
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			// Declare again next time, in case the failure was a deleted exchange.
			t.mu.Lock()
			delete(t.declared, topic)
			t.mu.Unlock()
		}
		t.putChannel(pc, ok)
	}()
	if err := t.ensureTopic(pc, topic); err != nil {
		return err
	}
	ex := t.exchange(topic)
	var returned []string
	for chunk := range slices.Chunk(msgs, returnsBuffer) {
		if err := t.publishChunk(ctx, msgs[0].Context(), pc, ex, topic, chunk, &returned); err != nil {
			return err
		}
	}
	if len(returned) > 0 {
		return fmt.Errorf("no queue took %d messages, not even the unrouted queue %s: %s",
			len(returned), t.unroutedQueue(topic), strings.Join(returned, ", "))
	}
	ok = true
	return nil
}

// publishChunk sends msgs, at most returnsBuffer of them, awaits their confirmations and adds
// the messages the broker returned to returned. caller is the context ctx was made from, to tell
// the publish timeout from the caller's own end.
func (t *Transport) publishChunk(ctx, caller context.Context, pc *pubChannel, ex, topic string, msgs []*message.Message, returned *[]string) error {
	confirms := make([]*amqp.DeferredConfirmation, len(msgs))
	for i, m := range msgs {
		pub, err := marshaler.Marshal(m)
		if err != nil {
			return fmt.Errorf("message %s: %w", m.UUID, err)
		}
		pub.MessageId = m.UUID
		confirms[i], err = pc.ch.PublishWithDeferredConfirmWithContext(ctx, ex, topic, true, false, pub)
		if err != nil {
			return fmt.Errorf("message %s: %w: %w", m.UUID, ErrUnconfirmed, err)
		}
	}
	for i, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		switch {
		case err != nil && errors.Is(err, context.DeadlineExceeded) && caller.Err() == nil:
			return fmt.Errorf("message %s: %w: no confirmation from the broker within %s", msgs[i].UUID, ErrUnconfirmed, t.cfg.PublishTimeout.D())
		case err != nil:
			return fmt.Errorf("message %s: %w: waiting for the broker's confirmation: %w", msgs[i].UUID, ErrUnconfirmed, err)
		case !acked && pc.ch.IsClosed():
			return fmt.Errorf("message %s: %w: connection lost before the broker confirmed it; publish again", msgs[i].UUID, ErrUnconfirmed)
		case !acked:
			return fmt.Errorf("message %s: the broker refused it (negative confirmation); publish again", msgs[i].UUID)
		}
	}
	// The broker sends a message's return before its confirmation, and the client library
	// hands both over in that order: every return of these messages is in the buffer now.
	for len(pc.returns) > 0 {
		r := <-pc.returns
		*returned = append(*returned, fmt.Sprintf("%s (%d %s)", r.MessageId, r.ReplyCode, r.ReplyText))
	}
	return nil
}

// ensureTopic declares the topic's exchange once per connection.
func (t *Transport) ensureTopic(pc *pubChannel, topic string) error {
	t.mu.Lock()
	done := t.declared[topic] == pc.conn
	t.mu.Unlock()
	if done {
		return nil
	}
	if err := t.declareTopic(pc.ch, topic); err != nil {
		return err
	}
	t.mu.Lock()
	t.declared[topic] = pc.conn
	t.mu.Unlock()
	return nil
}

// takeChannel returns an idle publishing channel of the current connection or opens one.
func (t *Transport) takeChannel() (*pubChannel, error) {
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, ErrClosed
		}
		var pc *pubChannel
		if n := len(t.free); n > 0 {
			pc, t.free = t.free[n-1], t.free[:n-1]
		}
		t.mu.Unlock()
		if pc == nil {
			break
		}
		if !pc.ch.IsClosed() {
			return pc, nil
		}
	}
	return t.openChannel()
}

// openChannel opens a publishing channel in confirm mode on the current connection.
func (t *Transport) openChannel() (*pubChannel, error) {
	ch, c, err := t.pub.channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	// Returns only come for messages no queue took; the buffer holds them until Publish reads
	// them after the confirmations.
	return &pubChannel{ch: ch, conn: c, returns: ch.NotifyReturn(make(chan amqp.Return, returnsBuffer))}, nil
}

// putChannel keeps a channel for the next publish, unless the last one failed on it: a channel
// left with unconfirmed messages or unread returns is not reused.
func (t *Transport) putChannel(pc *pubChannel, ok bool) {
	t.mu.Lock()
	if ok && !t.closed && len(t.free) < maxIdleChannels && !pc.ch.IsClosed() {
		t.free = append(t.free, pc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	go pc.ch.Close() // closing waits for the broker; the caller need not
}
