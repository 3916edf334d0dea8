package hub

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
)

// correlation makes sure every message carries a correlation id: a message that starts a flow is
// its own correlation. Messages derived from it (split) keep it and name it as their causation.
func correlation(route string) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			if msg.Metadata.Get(envelope.CorrelationID) == "" {
				msg.Metadata.Set(envelope.CorrelationID, msg.UUID)
			}
			msg.Metadata.Set(envelope.Route, route)
			return h(msg)
		}
	}
}
