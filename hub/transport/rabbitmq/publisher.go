package rabbitmq

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// maxIdleChannels is how many channels of the pool are kept open between uses.
const maxIdleChannels = 64

// returnsBuffer is how many returned messages a channel of the pool (declarations, delayed
// messages) buffers: the client library hands a return over from the connection's reader, which
// a full buffer would stop, confirmations and all. Each buffered return is some 270 bytes kept
// for the channel's life, scanned at every collection. A delayed message is published one at a
// time.
const returnsBuffer = 32

// pubChannel is a channel in confirm mode of the pool, used by one caller at a time: to declare
// a topic, or to delay a message. Publish uses the shared channel (sharedChannel).
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
// not (ErrUnconfirmed). The messages of one call are sent back to back on the channel that
// concurrent calls share, and their confirmations awaited together. A message that no route's
// queue takes lands in the topic's unrouted queue (see the package documentation); should even
// that be missing, the broker returns it and Publish fails, so that nothing is dropped silently.
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
	if t.packs(msgs) {
		return t.packerFor(topic).publish(ctx, msgs)
	}
	pubs := make([]amqp.Publishing, len(msgs))
	for i, m := range msgs {
		pub, err := plainPublishing(m)
		if err != nil {
			return err
		}
		pubs[i] = pub
	}
	return t.publishPubs(ctx, msgs[0].Context(), topic, pubs)
}

// plainPublishing is m as a broker message of its own: persistent, in watermill-amqp's format,
// with its id as the message id too.
func plainPublishing(m *message.Message) (amqp.Publishing, error) {
	pub, err := marshaler.Marshal(m)
	if err != nil {
		return pub, fmt.Errorf("message %s: %w", m.UUID, err)
	}
	pub.MessageId = m.UUID
	return pub, nil
}

// packs tells whether msgs go out in packs: where packing is on and none of them is large.
func (t *Transport) packs(msgs []*message.Message) bool {
	if t.cfg.Pack <= 1 {
		return false
	}
	for _, m := range msgs {
		if len(m.Payload) > packAlone {
			return false
		}
	}
	return true
}

// publishPubs publishes pubs to topic on the shared channel and waits for their confirmations.
// caller is the context ctx was made from, to tell the publish timeout from the caller's end.
func (t *Transport) publishPubs(ctx, caller context.Context, topic string, pubs []amqp.Publishing) error {
	sc, err := t.sharedChannel()
	if err != nil {
		return err
	}
	if err := t.ensureTopic(sc.conn, topic); err != nil {
		return err
	}
	if err := sc.publish(ctx, caller, t, t.exchange(topic), topic, pubs); err != nil {
		// Declare again next time, in case the failure was a deleted exchange.
		t.mu.Lock()
		delete(t.declared, topic)
		t.mu.Unlock()
		return err
	}
	return nil
}

// sharedChannel returns the publishing channel that publishes share, opening one where there is
// none or the last one closed.
func (t *Transport) sharedChannel() (*sharedChannel, error) {
	t.sharedMu.Lock()
	defer t.sharedMu.Unlock()
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if sc := t.shared; sc != nil && sc.usable() {
		return sc, nil
	}
	sc, err := t.openShared()
	if err != nil {
		return nil, err
	}
	t.shared = sc
	return sc, nil
}

// ensureTopic declares the topic's exchange once per connection, on a channel of its own: a
// declaration the broker refuses closes the channel it was made on, which is not to be the one
// that other publishes share.
func (t *Transport) ensureTopic(conn *amqp.Connection, topic string) error {
	t.mu.Lock()
	done := t.declared[topic] == conn
	t.mu.Unlock()
	if done {
		return nil
	}
	pc, err := t.takeChannel()
	if err != nil {
		return err
	}
	err = t.declareTopic(pc.ch, topic)
	t.putChannel(pc, err == nil)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.declared[topic] = pc.conn
	t.mu.Unlock()
	return nil
}

// takeChannel returns an idle channel of the pool on the current connection or opens one.
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

// confirmChannel opens a channel in confirm mode on the current publishing connection.
func (t *Transport) confirmChannel() (*amqp.Channel, *amqp.Connection, error) {
	ch, c, err := t.pub.channel()
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, nil, fmt.Errorf("confirm mode: %w", err)
	}
	return ch, c, nil
}

// openChannel opens a channel of the pool.
func (t *Transport) openChannel() (*pubChannel, error) {
	ch, c, err := t.confirmChannel()
	if err != nil {
		return nil, err
	}
	// Returns only come for messages no queue took; the buffer holds them until the caller
	// reads them after the confirmations.
	return &pubChannel{ch: ch, conn: c, returns: ch.NotifyReturn(make(chan amqp.Return, returnsBuffer))}, nil
}

// putChannel keeps a channel of the pool for the next caller, unless the last use failed on it:
// a channel left with unconfirmed messages or unread returns is not reused.
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
