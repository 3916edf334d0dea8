package transport

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Delivery is what a subscriber and the handler of one delivered message tell each other, through
// the message's context: the subscriber how often the message was delivered, the handler whether
// it wants the message back later rather than at once.
//
// A subscriber that can deliver a message again after a delay, without holding a consumer (a
// prefetch slot) meanwhile, gives each message it hands out a context made with NewDelivery. A
// handler that fails the message and wants it tried again later calls RedeliverAfter and then
// Nacks the message (returns an error). The subscriber then stores the message durably for
// redelivery after the delay, settles the delivery, and frees the slot at once; a subscriber
// that cannot keep the message so (its storage fails) gives it back at once instead, losing
// nothing. Other messages flow meanwhile. The redelivered message has the published id, payload
// and metadata; its envelope attempt goes on from the one the message had when it was Nacked,
// plus one, also across a restart.
type Delivery struct {
	// Deliveries counts the deliveries of the message since it was published or last handed
	// back with a delay, this one included: more than 1 means that earlier deliveries ended
	// unsettled (a process stopped) or were Nacked. 0 when the transport does not count.
	Deliveries int
	// Attempts counts the attempts made before the message was last handed back with a delay,
	// as the envelope's attempt said when it was Nacked; 0 when it never was.
	Attempts int

	delay    atomic.Int64 // requested delay in nanoseconds plus one; 0: none
	inflight *Inflight    // that settles the message when Settled is called; nil: none
}

type deliveryKey struct{}

// NewDelivery returns ctx carrying a Delivery for one delivered message, and the Delivery, which
// the subscriber keeps to read the handler's request once the message is Nacked.
func NewDelivery(ctx context.Context, deliveries, attempts int) (context.Context, *Delivery) {
	d := &Delivery{Deliveries: deliveries, Attempts: attempts}
	return context.WithValue(ctx, deliveryKey{}, d), d
}

// DeliveryOf returns the Delivery in ctx, or nil when the subscriber gave none.
func DeliveryOf(ctx context.Context) *Delivery {
	d, _ := ctx.Value(deliveryKey{}).(*Delivery)
	return d
}

// RedeliverAfter asks the subscriber that delivered msg to deliver it again after d, not before,
// when the handler Nacks it, instead of at once. It reports whether that subscriber can: when
// false, a Nack gives the message back at once, and a handler that wants to wait must wait
// itself. Ack cancels the request (nothing is redelivered).
func RedeliverAfter(msg *message.Message, d time.Duration) bool {
	del := DeliveryOf(msg.Context())
	if del == nil {
		return false
	}
	del.delay.Store(int64(max(d, 0)) + 1)
	return true
}

// Delay returns the delay asked with RedeliverAfter, and whether one was asked.
func (d *Delivery) Delay() (time.Duration, bool) {
	v := d.delay.Load()
	return time.Duration(v - 1), v > 0
}

// SubscriberOptions tune one subscriber. Zero fields take the transport's configuration.
type SubscriberOptions struct {
	// Prefetch is the most messages one subscription holds without acknowledgement (the
	// consumer's QoS prefetch with RabbitMQ): with the hub's router, how many messages of the
	// route one process handles at once.
	Prefetch int
	// SettledCalls: the consumer calls Settled for each message once it is Acked or Nacked
	// (WithSettledCalls).
	SettledCalls bool
}

// SubscriberOption sets a field of SubscriberOptions.
type SubscriberOption func(*SubscriberOptions)

// WithPrefetch sets SubscriberOptions.Prefetch; n ≤ 0 keeps the transport's prefetch.
func WithPrefetch(n int) SubscriberOption {
	return func(o *SubscriberOptions) { o.Prefetch = max(n, 0) }
}

// Options applies opts to the zero SubscriberOptions, for implementations of Subscriber.
func Options(opts ...SubscriberOption) SubscriberOptions {
	var o SubscriberOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}
