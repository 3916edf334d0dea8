package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/transport"
)

// handBackFrom is the shortest wait before a retry that the engine hands to the transport
// rather than waiting itself. A shorter wait holds the message's consumer slot so briefly that a
// round trip through the transport (a confirmed publish, a delay queue, a redelivery) would cost
// more than it frees, and waiting in place keeps the message's order; a longer wait would keep
// the slot (prefetch) from other messages of the route for all that time.
const handBackFrom = 500 * time.Millisecond

// retryPolicy is an exponential backoff with a cap.
type retryPolicy struct {
	max        int // retries after the first attempt
	backoff    time.Duration
	maxBackoff time.Duration
	multiplier float64
	jitter     float64 // each wait varies at random by up to this share, up or down
	// handBackFrom: waits at least this long are handed to the transport when it can delay a
	// redelivery (transport.RedeliverAfter); shorter ones are waited in place.
	handBackFrom time.Duration
}

// wait returns the pause before retry n (from 1), varied at random by the policy's jitter so that
// messages failing together do not retry in lockstep.
func (p retryPolicy) wait(n int) time.Duration {
	d := float64(p.backoff)
	for i := 1; i < n; i++ {
		d *= p.multiplier
		if d >= float64(p.maxBackoff) {
			break
		}
	}
	if d > float64(p.maxBackoff) {
		d = float64(p.maxBackoff)
	}
	if p.jitter == 0 {
		return time.Duration(d)
	}
	return time.Duration(d * (1 - p.jitter + 2*p.jitter*rand.Float64()))
}

// handedBack is the error of a failed attempt whose message went back to the transport to be
// delivered again after a wait. It Nacks the message, but is no failure of the route: the
// dead-letter middleware lets it through and the router's log keeps it quiet.
type handedBack struct {
	wait time.Duration
	err  error
}

func (e *handedBack) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.wait, e.err)
}

func (e *handedBack) Unwrap() error { return e.err }

// isHandedBack reports whether err says that the message went back for a later retry.
func isHandedBack(err error) bool {
	var hb *handedBack
	return errors.As(err, &hb)
}

// attemptOf is the envelope's attempt and whether the message carries a readable one. Most
// messages carry none, for which strconv.Atoi would make an error each time.
func attemptOf(msg *message.Message) (int, bool) {
	v := msg.Metadata.Get(envelope.Attempt)
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// retry runs the handler again after a failure, up to the policy's count, waiting longer each
// time. Errors marked permanent are not retried. The attempt number is kept in the metadata; it
// goes on from the one the transport set when the message was delivered before.
//
// A wait of at least handBackFrom is not spent holding the message: when the transport can, the
// message goes back to it, to be delivered again after the wait, and the consumer takes other
// messages meanwhile. The retries spent survive in the attempt count that the transport carries
// across the delay (transport.Delivery.Attempts): the attempts made before the latest delay were
// all retried failures (or, rarely, deliveries cut off by a stop in an earlier round, which then
// count as spent retries too). Deliveries of the latest round that ended unsettled do not spend
// retries; max_deliveries (poison) bounds those.
func retry(p retryPolicy, rm *routeMetrics, log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			first, ok := attemptOf(msg)
			if !ok || first < 1 {
				first = 1
			}
			used := 0 // retries spent in earlier rounds of delivery
			if d := transport.DeliveryOf(msg.Context()); d != nil && d.Attempts > 0 {
				used = min(d.Attempts, first-1)
			}
			for try := used; ; try++ {
				attempt := first + try - used
				msg.Metadata.Set(envelope.Attempt, strconv.Itoa(attempt))
				out, err := h(msg)
				if err == nil || fault.IsPermanent(err) || try >= p.max {
					return out, err
				}
				if rm != nil {
					rm.count(OutcomeRetried)
				}
				wait := p.wait(try + 1)
				if wait >= p.handBackFrom && transport.RedeliverAfter(msg, wait) {
					log.Warn("message failed, retrying later", "message_id", msg.UUID, "attempt", attempt, "wait", wait, "error", err)
					return nil, &handedBack{wait: wait, err: err}
				}
				log.Warn("message failed, retrying", "message_id", msg.UUID, "attempt", attempt, "wait", wait, "error", err)
				if err := sleep(msg.Context(), wait); err != nil {
					return nil, err
				}
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
