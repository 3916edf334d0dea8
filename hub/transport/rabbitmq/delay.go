package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Delayed redelivery. A message handed back with a delay (transport.RedeliverAfter, then Nack) is
// republished, persistent and confirmed, to the delay exchange, which files it by its delay-tier
// header in the tier's queue. A tier queue is a classic queue whose messages expire after the
// tier (x-message-ttl), or sooner when the message's own expiration (the delay asked) is shorter;
// an expired message is dead-lettered to the redeliver exchange with the routing key it was
// published with, the name of the route's queue, which is bound there under its own name. Only
// once the broker confirmed the republication is the original delivery acknowledged, so a crash
// in between leaves two copies, never none (the hub's consumers are idempotent).
//
// A queue delivers expired messages from its head only: a message waits at most for the
// longest delay in its tier, so tiers grow by a factor of three to five. Delays beyond the
// longest tier are cut to it.

// delayTier is one delay queue: messages wait in it for at most its ttl.
type delayTier struct {
	name string
	ttl  time.Duration
}

// delayTiers are the delay queues, shortest first.
var delayTiers = []delayTier{
	{"1s", time.Second}, {"5s", 5 * time.Second}, {"15s", 15 * time.Second}, {"1m", time.Minute},
	{"5m", 5 * time.Minute}, {"15m", 15 * time.Minute}, {"1h", time.Hour}, {"4h", 4 * time.Hour},
	{"24h", 24 * time.Hour},
}

// tierFor returns the shortest tier that holds a delay of d, and d cut to the longest tier.
func tierFor(d time.Duration) (delayTier, time.Duration) {
	for _, t := range delayTiers {
		if d <= t.ttl {
			return t, d
		}
	}
	last := delayTiers[len(delayTiers)-1]
	return last, last.ttl
}

// Headers of delayed redelivery. The tier header routes the message in the headers exchange,
// which ignores headers starting with x-; the attempts header carries the envelope's attempt
// across the republication, which starts the quorum queue's delivery count again.
const (
	delayTierHeader = "aiskao-delay"
	attemptsHeader  = "x-aiskao-attempts"
	// unsettledHeader carries, on a message of a pack republished on its own, the deliveries
	// it had in the pack that did not settle it, so that its count of deliveries goes on.
	unsettledHeader = "x-aiskao-unsettled"
)

func (t *Transport) delayExchange() string     { return t.cfg.ExchangePrefix + ".delay" }
func (t *Transport) redeliverExchange() string { return t.cfg.ExchangePrefix + ".redeliver" }
func (t *Transport) delayQueue(tier delayTier) string {
	return t.cfg.QueuePrefix + ".delay." + tier.name
}

// declareDelay declares the delay exchange, the tier queues and the redeliver exchange, once per
// connection, and binds queue (a route's queue) to the redeliver exchange.
func (t *Transport) declareDelay(ch *amqp.Channel, c *amqp.Connection, queue string) error {
	t.mu.Lock()
	done := t.delayOn == c
	t.mu.Unlock()
	if !done {
		t.declaring(false, t.delayExchange(), t.redeliverExchange())
		if err := ch.ExchangeDeclare(t.delayExchange(), amqp.ExchangeHeaders, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", t.delayExchange(), err)
		}
		if err := ch.ExchangeDeclare(t.redeliverExchange(), amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", t.redeliverExchange(), err)
		}
		for _, tier := range delayTiers {
			q := t.delayQueue(tier)
			t.declaring(true, q)
			// Classic: per-message expiration needs no particular broker version, and a message
			// waiting for a retry need not be replicated more than the failure it waits out.
			if _, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{
				amqp.QueueTypeArg:        amqp.QueueTypeClassic,
				"x-message-ttl":          tier.ttl.Milliseconds(),
				"x-dead-letter-exchange": t.redeliverExchange(),
			}); err != nil {
				return fmt.Errorf("declare queue %s: %w", q, explain(err))
			}
			if err := ch.QueueBind(q, "", t.delayExchange(), false, amqp.Table{"x-match": "all", delayTierHeader: tier.name}); err != nil {
				return fmt.Errorf("bind queue %s: %w", q, err)
			}
		}
		t.mu.Lock()
		t.delayOn = c
		t.mu.Unlock()
	}
	if err := ch.QueueBind(queue, queue, t.redeliverExchange(), false, nil); err != nil {
		return fmt.Errorf("bind queue %s to %s: %w", queue, t.redeliverExchange(), err)
	}
	return nil
}

// delayTimeout bounds the republication of one delayed message.
const delayTimeout = 30 * time.Second

// redeliverLater republishes pub, a message of queue, to the delay queue of after, with attempt
// as the attempts made so far, and returns once the broker confirmed it. pub.Headers is the
// message's own, without the broker's or an earlier delay's (delayedHeaders); it is added to.
func (t *Transport) redeliverLater(pub amqp.Publishing, queue string, after time.Duration, attempt int) error {
	tier, after := tierFor(after)
	pub.Headers[delayTierHeader] = tier.name
	pub.Headers[attemptsHeader] = int64(attempt)
	pub.DeliveryMode = amqp.Persistent
	// Not before: a delay is rounded up to the millisecond.
	pub.Expiration = strconv.FormatInt(int64((max(after, 0)+time.Millisecond-1)/time.Millisecond), 10)
	if err := t.republishConfirmed(t.delayExchange(), queue, pub); err != nil {
		return fmt.Errorf("to %s: %w", t.delayExchange(), err)
	}
	return nil
}

// republishConfirmed publishes pubs to exchange ex with routing key key on a channel of the
// pool, and returns once the broker confirmed every one of them and no queue returned any.
func (t *Transport) republishConfirmed(ex, key string, pubs ...amqp.Publishing) error {
	ctx, cancel := context.WithTimeout(context.Background(), delayTimeout)
	defer cancel()
	pc, err := t.takeChannel()
	if errors.Is(err, ErrClosed) {
		// Closing drains the messages in flight, and the publishing connection stays open until
		// they are settled: a message handed back during the drain is still republished.
		pc, err = t.openChannel()
	}
	if err != nil {
		return err
	}
	ok := false
	defer func() { t.putChannel(pc, ok) }()
	dcs := make([]*amqp.DeferredConfirmation, len(pubs))
	for i, pub := range pubs {
		if dcs[i], err = pc.ch.PublishWithDeferredConfirmWithContext(ctx, ex, key, true, false, pub); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	for _, dc := range dcs {
		acked, err := dc.WaitContext(ctx)
		switch {
		case err != nil:
			return fmt.Errorf("waiting for the broker's confirmation: %w", err)
		case !acked:
			return fmt.Errorf("the broker did not confirm the message (channel closed %v)", pc.ch.IsClosed())
		}
	}
	if len(pc.returns) > 0 {
		r := <-pc.returns
		return fmt.Errorf("no queue took the message (%d %s)", r.ReplyCode, r.ReplyText)
	}
	ok = true
	return nil
}

// delayedHeaders copies the headers of a delivery to republish it, without what the broker added
// on the way (delivery count, dead-letter history) and the delay headers of an earlier round.
func delayedHeaders(h amqp.Table) amqp.Table {
	out := make(amqp.Table, len(h)+2)
	maps.Copy(out, h)
	for k := range out {
		if brokerHeader(k) || k == delayTierHeader || k == attemptsHeader || k == unsettledHeader {
			delete(out, k)
		}
	}
	return out
}

// brokerHeader reports whether the broker adds header k on its own: the delivery count of
// quorum queues and the history of dead-lettering.
func brokerHeader(k string) bool {
	return k == deliveryCountHeader || k == "x-death" || strings.HasPrefix(k, "x-first-death-") || strings.HasPrefix(k, "x-last-death-")
}
