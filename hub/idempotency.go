package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/store"
)

// idempotencyTTL is how long a processed message id is remembered. Redeliveries come within
// seconds of a crash; senders that retry with the same idempotency key, within hours.
const idempotencyTTL = 7 * 24 * time.Hour

// idempotencyScope is the store's scope of the ids a route has processed.
func idempotencyScope(route string) string { return "route:" + route }

// idempotency skips a message whose id this route has already processed, so a redelivery after
// a lost acknowledgement never applies twice. The id is remembered only once the message went
// through; a message that became a dead letter is not remembered, so it can be replayed.
func idempotency(route string, st store.Store, log *slog.Logger, o *storeOutage) message.HandlerMiddleware {
	scope := idempotencyScope(route)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			var seen bool
			err := withStore(msg.Context(), o, "idempotency lookup", func(ctx context.Context) (err error) {
				seen, err = st.Seen(ctx, scope, msg.UUID)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("idempotency: %w", err)
			}
			if seen {
				setOutcome(msg, OutcomeDuplicate)
				return nil, nil
			}
			out, err := h(msg)
			if err != nil {
				return nil, err
			}
			if o, ok := msg.Context().Value(outcomeKey{}).(*outcome); ok && (o.name == OutcomeDeadLetter || o.name == OutcomeDiscarded) {
				return out, nil
			}
			if err := st.Mark(msg.Context(), scope, msg.UUID, idempotencyTTL); err != nil {
				// Processed but not remembered: acknowledging risks nothing worse than a second,
				// idempotent delivery; not acknowledging would surely cause one. Logged once per
				// outage of the store, each message only at debug level.
				o.failed("idempotency mark", err)
				log.Debug("idempotency: processed message not remembered", "message_id", msg.UUID, "error", err)
			} else {
				o.succeeded()
			}
			return out, nil
		}
	}
}
