package transport

import (
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Outcome is how a message handed out by a subscriber ended.
type Outcome int

const (
	// Acked: the consumer Acked the message.
	Acked Outcome = iota + 1
	// Nacked: the consumer Nacked it, with or without a delay (Delivery.Delay).
	Nacked
	// Abandoned: the subscriber stopped and the consumer had not settled it within the close
	// time-out; the message goes back to be delivered again.
	Abandoned
)

// Settled tells the subscriber that delivered msg that the consumer has Acked or Nacked it, so
// that the subscriber settles it now, on the caller's goroutine, instead of a goroutine waiting
// for the Ack or Nack. A consumer that subscribed WithSettledCalls calls it for each message it
// receives, once the message is Acked or Nacked; a call before either, or for a message of
// another subscriber, does nothing.
func Settled(msg *message.Message) {
	d := DeliveryOf(msg.Context())
	if d == nil || d.inflight == nil {
		return
	}
	var o Outcome
	select {
	case <-msg.Acked():
		o = Acked
	case <-msg.Nacked():
		o = Nacked
	default:
		return
	}
	d.inflight.finish(d, o)
}

// WithSettledCalls promises that the consumer calls Settled for every message it receives, once
// it is Acked or Nacked: the subscriber then keeps no goroutine waiting for each message in
// flight. The hub's router makes this promise; a consumer that cannot keep it does not ask.
func WithSettledCalls() SubscriberOption {
	return func(o *SubscriberOptions) { o.SettledCalls = true }
}

// Inflight keeps the messages a subscription has handed out and not yet settled, for
// implementations of Subscriber: it calls each message's settle function exactly once, with how
// the message ended. With settled calls (WithSettledCalls) that happens in Settled; otherwise a
// goroutine for each message waits for its Ack or Nack. Abandon settles what is left.
type Inflight struct {
	calls bool

	mu        sync.Mutex
	pending   map[*Delivery]func(Outcome) // with calls
	abandon   chan struct{}               // closed by Abandon, for the waiting goroutines
	abandoned bool
	wg        sync.WaitGroup
}

// NewInflight returns an empty Inflight; settledCalls is SubscriberOptions.SettledCalls.
func NewInflight(settledCalls bool) *Inflight {
	return &Inflight{calls: settledCalls, pending: map[*Delivery]func(Outcome){}, abandon: make(chan struct{})}
}

// Add tracks msg, handed out with del (from NewDelivery, in msg's context), until settle has
// been called with its outcome. A message added after Abandon is settled Abandoned at once.
func (in *Inflight) Add(msg *message.Message, del *Delivery, settle func(Outcome)) {
	in.wg.Add(1)
	if in.calls {
		in.mu.Lock()
		if in.abandoned {
			in.mu.Unlock()
			in.run(settle, Abandoned)
			return
		}
		del.inflight = in
		in.pending[del] = settle
		in.mu.Unlock()
		return
	}
	go func() {
		select {
		case <-msg.Acked():
			in.run(settle, Acked)
		case <-msg.Nacked():
			in.run(settle, Nacked)
		case <-in.abandon:
			in.run(settle, Abandoned)
		}
	}()
}

// finish settles del with o, unless Abandon took it first.
func (in *Inflight) finish(del *Delivery, o Outcome) {
	in.mu.Lock()
	settle, ok := in.pending[del]
	delete(in.pending, del)
	in.mu.Unlock()
	if ok {
		in.run(settle, o)
	}
}

func (in *Inflight) run(settle func(Outcome), o Outcome) {
	defer in.wg.Done()
	settle(o)
}

// Abandon settles every message still unsettled as Abandoned, and those added later.
func (in *Inflight) Abandon() {
	in.mu.Lock()
	if in.abandoned {
		in.mu.Unlock()
		return
	}
	in.abandoned = true
	close(in.abandon)
	left := in.pending
	in.pending = map[*Delivery]func(Outcome){}
	in.mu.Unlock()
	for _, settle := range left {
		in.run(settle, Abandoned)
	}
}

// Wait returns once every message added has been settled.
func (in *Inflight) Wait() { in.wg.Wait() }

// Drain gives the consumer timeout to settle what it holds; then it calls abandoning (which ends
// the messages' contexts, say), settles what is left as Abandoned, and waits for every
// settlement. A subscriber calls it once it takes no more messages.
func (in *Inflight) Drain(timeout time.Duration, abandoning func()) {
	settled := make(chan struct{})
	go func() {
		in.Wait()
		close(settled)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-settled:
	case <-timer.C:
		abandoning()
		in.Abandon()
		<-settled
	}
}
