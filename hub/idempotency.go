package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
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
//
// For an inline route's attempt (inline true), a message whose id the source made for the call
// (connectors.NewIDs) cannot have been taken before, and will not be sent again, so it is neither
// looked up nor remembered; and the store is asked once: when it fails, the message goes to the
// transport, where the route waits for the store instead of the sender.
func idempotency(route string, st store.Store, log *slog.Logger, o *storeOutage, inline bool) message.HandlerMiddleware {
	scope := idempotencyScope(route)
	lookup := func(ctx context.Context, id string) (seen bool, err error) {
		if inline {
			return st.Seen(ctx, scope, id)
		}
		err = withStore(ctx, o, "idempotency lookup", func(ctx context.Context) (err error) {
			seen, err = st.Seen(ctx, scope, id)
			return err
		})
		return seen, err
	}
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			if inline && connectors.NewIDs(msg.Context()) {
				return h(msg)
			}
			seen, err := lookup(msg.Context(), msg.UUID)
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
