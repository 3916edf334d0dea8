package hub

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/hub/envelope"
	"github.com/aiskao/aiskao/hub/fault"
)

// retryPolicy is an exponential backoff with a cap.
type retryPolicy struct {
	max        int // retries after the first attempt
	backoff    time.Duration
	maxBackoff time.Duration
	multiplier float64
}

// wait returns the pause before retry n (from 1), with ±10 % jitter so that messages failing
// together do not retry in lockstep.
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
	return time.Duration(d * (0.9 + 0.2*rand.Float64()))
}

// retry runs the handler again after a failure, up to the policy's count, waiting longer each
// time. Errors marked permanent are not retried. The attempt number is kept in the metadata; it
// goes on from the one the transport set when the message was delivered before.
func retry(p retryPolicy, rm *routeMetrics, log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			first, err := strconv.Atoi(msg.Metadata.Get(envelope.Attempt))
			if err != nil || first < 1 {
				first = 1
			}
			for try := 0; ; try++ {
				attempt := first + try
				msg.Metadata.Set(envelope.Attempt, strconv.Itoa(attempt))
				out, err := h(msg)
				if err == nil || fault.IsPermanent(err) || try >= p.max {
					return out, err
				}
				if rm != nil {
					rm.count(OutcomeRetried)
				}
				wait := p.wait(try + 1)
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
