package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// packer gathers the messages published to one topic into packs (see packHeader). One pack of
// a topic is with the broker at a time: what is published meanwhile waits, and goes out as the
// next pack once the broker confirmed the one before. Nothing waits for company: a message
// published while no pack is out goes at once, alone, so packs grow only as the broker's
// confirmations lag behind the publishes.
type packer struct {
	max  int                    // most messages in a pack
	send func([]packItem) error // sends a pack and waits for the broker's confirmation

	mu      sync.Mutex
	pending []packItem
	busy    bool // a pack is being sent and confirmed
}

// packItem is one message waiting to go out in a pack.
type packItem struct {
	msg  *message.Message
	size int
	call *packCall
}

// packCall is one Publish call's messages waiting in packs.
type packCall struct {
	mu     sync.Mutex
	left   int
	err    error
	done   chan struct{}
	gaveUp bool // the caller stopped waiting: what is still pending is not sent
}

// sending reports whether the call's pending messages are still to be sent.
func (c *packCall) sending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.gaveUp
}

// settle records the outcome of one of the call's messages.
func (c *packCall) settle(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && c.err == nil {
		c.err = err
	}
	if c.left--; c.left == 0 {
		close(c.done)
	}
}

// errGaveUp settles the messages of a call whose caller stopped waiting before they were sent.
var errGaveUp = errors.New("not sent: the publisher stopped waiting")

// packerFor returns the packer of topic.
func (t *Transport) packerFor(topic string) *packer {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.packers[topic]
	if p == nil {
		p = &packer{max: t.cfg.Pack, send: func(items []packItem) error { return t.sendPack(topic, items) }}
		t.packers[topic] = p
	}
	return p
}

// publish sends msgs in packs and returns once the broker confirmed them, or ctx ended first
// (the messages may then be stored or not: ErrUnconfirmed).
func (p *packer) publish(ctx context.Context, msgs []*message.Message) error {
	call := &packCall{left: len(msgs), done: make(chan struct{})}
	p.mu.Lock()
	for _, m := range msgs {
		p.pending = append(p.pending, packItem{msg: m, size: packSize(m), call: call})
	}
	lead := !p.busy
	p.busy = true
	p.mu.Unlock()
	if lead {
		// This call sends the first pack itself (holding its own messages, unless others
		// came first), and hands what gathers meanwhile to a goroutine of its own.
		p.sendNext()
		if p.more() {
			go p.drain()
		}
	}
	select {
	case <-call.done:
		call.mu.Lock()
		defer call.mu.Unlock()
		return call.err
	case <-ctx.Done():
		// Messages not yet sent are dropped, so that a sender told to send again does not
		// make a second copy; those already sent may be stored or not.
		call.mu.Lock()
		call.gaveUp = true
		call.mu.Unlock()
		return fmt.Errorf("message %s: %w: waiting for the broker's confirmation: %w", msgs[len(msgs)-1].UUID, ErrUnconfirmed, ctx.Err())
	}
}

// drain sends packs until none is pending.
func (p *packer) drain() {
	for {
		p.sendNext()
		if !p.more() {
			return
		}
	}
}

// more tells the sender of a pack whether messages are pending, to be sent next; where none is,
// the packer is no longer busy, and the next publish sends at once.
func (p *packer) more() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy = len(p.pending) > 0
	return p.busy
}

// sendNext sends the pending messages, up to max messages and packMaxBytes, as one pack (or one
// message, when it is alone) and settles them with the broker's answer.
func (p *packer) sendNext() {
	p.mu.Lock()
	n, size := 0, 0
	for n < len(p.pending) && n < p.max && (n == 0 || size+p.pending[n].size <= packMaxBytes) {
		size += p.pending[n].size
		n++
	}
	// The pending messages' appends never reach into items (its capacity ends at n).
	items := p.pending[:n:n]
	p.pending = p.pending[n:]
	p.mu.Unlock()

	// Messages whose callers stopped waiting are left out.
	kept := items[:0]
	for _, it := range items {
		if it.call.sending() {
			kept = append(kept, it)
		} else {
			it.call.settle(errGaveUp)
		}
	}
	var err error
	if len(kept) > 0 {
		err = p.send(kept)
	}
	for i := range kept {
		kept[i].call.settle(err)
	}
	clear(items) // the messages are not held by the array pending may still share
}

// sendPack publishes items to topic as one pack, or as one message when there is one, and waits
// for the broker's confirmation within publish_timeout.
func (t *Transport) sendPack(topic string, items []packItem) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.PublishTimeout.D())
	defer cancel()
	if t.packCount != nil {
		t.packCount.Sent(len(items))
	}
	var pub amqp.Publishing
	if len(items) == 1 {
		var err error
		if pub, err = plainPublishing(items[0].msg); err != nil {
			return err
		}
	} else {
		msgs := make([]*message.Message, len(items))
		for i := range items {
			msgs[i] = items[i].msg
		}
		pub = amqp.Publishing{
			Headers:      amqp.Table{packHeader: strconv.Itoa(len(msgs))},
			DeliveryMode: amqp.Persistent,
			// The first message's id names the pack in the broker's returns and in errors.
			MessageId: "pack:" + msgs[0].UUID,
			Body:      encodePack(msgs),
		}
	}
	return t.publishPubs(ctx, ctx, topic, []amqp.Publishing{pub})
}
