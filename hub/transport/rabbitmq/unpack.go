package rabbitmq

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transport"
)

// packDelivery is a delivered pack whose messages are handed out one by one. The pack is
// acknowledged once each of its messages is settled: acknowledged, or republished on its own
// (a Nack, with or without a delay). Should any of them have to go back without its own copy
// (the consumer stopped before settling it, or the copy failed), the whole pack is given back
// instead, and delivered again, split (see handOutPack); its messages already settled are then
// dropped by the routes, which have seen their ids.
type packDelivery struct {
	d       amqp.Delivery
	mu      sync.Mutex
	left    int
	requeue bool
}

// settled records that one message of the pack is settled and settles the pack after the last.
func (p *packDelivery) settled(requeue bool) error {
	p.mu.Lock()
	p.left--
	p.requeue = p.requeue || requeue
	last, requeue := p.left == 0, p.requeue
	p.mu.Unlock()
	switch {
	case !last:
		return nil
	case requeue:
		return p.d.Nack(false, true)
	default:
		return p.d.Ack(false)
	}
}

// deliveriesOf returns the deliveries of d since it was published, this one included, from the
// quorum queue's count of the earlier ones: 0 where the queue does not count.
func deliveriesOf(d amqp.Delivery, quorum bool) int {
	n := -1
	switch v := d.Headers[deliveryCountHeader].(type) {
	case int64:
		n = int(v)
	case int32:
		n = int(v)
	case int16:
		n = int(v)
	case int8:
		n = int(v)
	case int:
		n = v
	case string:
		if i, err := strconv.Atoi(v); err == nil {
			n = i
		}
	}
	switch {
	case n >= 0:
		return n + 1
	case quorum:
		return 1
	}
	return 0
}

// handOutPack hands out the messages of the pack d, each tracked and settled on its own. It
// returns false when the consumer stopped before all were handed out; those left are given back
// with the pack.
//
// A pack delivered before (its process stopped while handling it, or gave it back) is not handed
// out but split: each of its messages is republished on its own, counting the pack's deliveries
// as its own, and the pack acknowledged once the broker confirmed them all. So a message that
// brings processes down is counted, delayed and dead-lettered on its own, not with the messages
// that happened to share its pack.
func (s *subscriber) handOutPack(cctx context.Context, d amqp.Delivery, h *hand) bool {
	queue := h.queue
	entries, err := decodePack(d.Body)
	if err != nil {
		s.t.log.Error("rabbitmq: unreadable pack sent to the dead-letter queue", "queue", queue, "pack", d.MessageId, "error", err)
		d.Reject(false)
		return true
	}
	deliveries := deliveriesOf(d, s.t.cfg.QueueType == amqp.QueueTypeQuorum)
	if deliveries > 1 || (deliveries == 0 && d.Redelivered) {
		s.split(d, queue, entries, max(deliveries-1, 1))
		return true
	}
	pd := &packDelivery{d: d, left: len(entries)}
	msgs := make([]*message.Message, len(entries))
	unsent := make([]atomic.Bool, len(entries)) // not handed out: back with the pack
	for i, e := range entries {
		mctx, mcancel := context.WithCancel(h.mbase)
		msg := message.NewMessage(e.id, e.payload)
		msg.Metadata = e.metadata
		mctx, del := transport.NewDelivery(mctx, deliveries, 0)
		msg.SetContext(mctx)
		msgs[i] = msg
		h.held.Add(1)
		h.inflight.Add(msg, del, func(o transport.Outcome) {
			defer h.held.Add(-1)
			defer mcancel()
			if !unsent[i].Load() {
				defer func() { <-h.slots }()
			}
			requeue := o != transport.Acked
			if o == transport.Nacked && !unsent[i].Load() {
				if err := s.t.republishUnpacked(d, i, queue, msg, del); err != nil {
					s.t.log.Warn("rabbitmq: cannot hand back a message of a pack on its own, giving the pack back", "queue", queue, "message", msg.UUID, "error", err)
				} else {
					requeue = false
				}
			}
			if err := pd.settled(requeue); err != nil {
				s.t.log.Warn("rabbitmq: settle pack: the broker will deliver it again", "queue", queue, "pack", d.MessageId, "error", err)
			}
		})
	}
	for i, msg := range msgs {
		select {
		case h.slots <- struct{}{}:
			select {
			case h.out <- msg:
				continue
			case <-cctx.Done():
				<-h.slots
			}
		case <-cctx.Done():
		}
		for j := i; j < len(msgs); j++ {
			unsent[j].Store(true)
			msgs[j].Nack()
			transport.Settled(msgs[j])
		}
		return false
	}
	return true
}

// republishUnpacked republishes message i of pack d on its own, for the handler that Nacked msg,
// as a Nacked message sent alone goes back: to the delay queue of the delay it asked for, with
// the attempts made so far; or else straight back to queue, its count of deliveries going on. It
// returns once the broker confirmed.
func (t *Transport) republishUnpacked(d amqp.Delivery, i int, queue string, msg *message.Message, del *transport.Delivery) error {
	// The pack's bytes, not msg: the handler may have changed the message it was given.
	entries, err := decodePack(d.Body)
	if err != nil {
		return err
	}
	pub, err := unpackedPublishing(entries[i])
	if err != nil {
		return err
	}
	attempt, err := strconv.Atoi(msg.Metadata.Get(envelope.Attempt))
	if err != nil || attempt < 1 {
		attempt = max(del.Deliveries, 1)
	}
	if after, ok := del.Delay(); ok {
		return t.redeliverLater(pub, queue, after, attempt)
	}
	// Handed back at once: as a message sent alone is given back to its queue, whose count of
	// deliveries then goes on.
	pub.Headers[unsettledHeader] = int64(max(del.Deliveries, 1))
	return t.republishConfirmed(t.redeliverExchange(), queue, pub)
}

// split republishes each message of pack d on its own to queue, with the pack's deliveries so
// far (unsettled) for its count of deliveries to go on from, and acknowledges the pack once the
// broker confirmed them all; should that fail, the pack is given back, to be split at its next
// delivery.
func (s *subscriber) split(d amqp.Delivery, queue string, entries []packed, unsettled int) {
	pubs := make([]amqp.Publishing, len(entries))
	for i, e := range entries {
		pub, err := unpackedPublishing(e)
		if err != nil {
			s.t.log.Error("rabbitmq: unreadable pack sent to the dead-letter queue", "queue", queue, "pack", d.MessageId, "error", err)
			d.Reject(false)
			return
		}
		pub.Headers[unsettledHeader] = int64(unsettled)
		pubs[i] = pub
	}
	if err := s.t.republishConfirmed(s.t.redeliverExchange(), queue, pubs...); err != nil {
		s.t.log.Warn("rabbitmq: cannot split a pack delivered again, giving it back", "queue", queue, "pack", d.MessageId, "error", err)
		d.Nack(false, true)
		return
	}
	if s.t.packCount != nil {
		s.t.packCount.Split(len(entries))
	}
	s.t.log.Info("rabbitmq: pack delivered again, split into its messages", "queue", queue, "pack", d.MessageId, "messages", len(entries), "deliveries", unsettled+1)
	if err := d.Ack(false); err != nil {
		s.t.log.Warn("rabbitmq: acknowledge a split pack: the broker will deliver it again", "queue", queue, "pack", d.MessageId, "error", err)
	}
}

// unpackedPublishing is message e of a pack as the publisher sends a message alone.
func unpackedPublishing(e packed) (amqp.Publishing, error) {
	m := message.NewMessage(e.id, e.payload)
	m.Metadata = e.metadata
	return plainPublishing(m)
}
