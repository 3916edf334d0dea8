package hub

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
)

// outcome is where the middleware of one message note what became of it, for the metrics
// middleware to count once the handler returns.
type outcome struct{ name string }

type outcomeKey struct{}

// withOutcome gives msg a fresh outcome holder and returns it.
func withOutcome(msg *message.Message) *outcome {
	o := &outcome{}
	msg.SetContext(context.WithValue(msg.Context(), outcomeKey{}, o))
	return o
}

// setOutcome records what became of msg, when a holder is present.
func setOutcome(msg *message.Message, name string) {
	if o, ok := msg.Context().Value(outcomeKey{}).(*outcome); ok {
		o.name = name
	}
}
