package hub

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/store"
)

// deadLetter keeps a message that failed its last attempt, with the failing step, the error, the
// number of attempts and the time, and then acknowledges it. When the store cannot take it, the
// message is not acknowledged: it is delivered again rather than lost.
func deadLetter(route string, st store.Store, keep bool, log *slog.Logger, o *storeOutage) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			// Handed back to the transport for a later retry: not failed yet.
			if isHandedBack(err) {
				return nil, err
			}
			// The transport ends a message's context when the hub stops: the message was cut
			// off, not failed. Left unacknowledged, it is delivered again after the restart.
			if msg.Context().Err() != nil {
				return nil, err
			}
			attempts, _ := strconv.Atoi(msg.Metadata.Get(envelope.Attempt))
			if !keep {
				log.Error("message failed and is discarded (dead letters are off for this route)", "message_id", msg.UUID, "step", FailedStep(err), "attempts", attempts, "error", err)
				setOutcome(msg, OutcomeDiscarded)
				return nil, nil
			}
			d := store.DeadLetter{
				MessageID: msg.UUID,
				Route:     route,
				Step:      FailedStep(err),
				Error:     err.Error(),
				Attempts:  attempts,
				Time:      time.Now().UTC(),
				Metadata:  maps.Clone(msg.Metadata),
				Payload:   msg.Payload,
			}
			// Keep it while the store is unavailable, as long as the message is ours; when the
			// transport takes it back (shutdown), it is delivered again later rather than lost.
			var id string
			serr := withStore(msg.Context(), o, "dead letter", func(ctx context.Context) (err error) {
				id, err = st.AddDeadLetter(ctx, d)
				return err
			})
			if serr != nil {
				return nil, fmt.Errorf("keep dead letter: %w (message failed with: %v)", serr, err)
			}
			log.Warn("message became a dead letter", "dead_letter_id", id, "message_id", msg.UUID, "step", d.Step, "attempts", attempts, "error", err)
			setOutcome(msg, OutcomeDeadLetter)
			return nil, nil
		}
	}
}
