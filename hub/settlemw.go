package hub

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/transport"
)

// settle is a route's outermost middleware: it Acks or Nacks the message itself, as the router
// would after it, and tells the transport at once (transport.Settled), so that the transport's
// subscriber settles the message on this goroutine instead of keeping a goroutine waiting for
// each message in flight (the route subscribes WithSettledCalls). A panic in a middleware below
// Nacks the message before it goes on to the router.
func settle(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) (out []*message.Message, err error) {
		ok := false
		defer func() {
			if ok {
				msg.Ack()
			} else {
				msg.Nack()
			}
			transport.Settled(msg)
		}()
		out, err = h(msg)
		ok = err == nil && len(out) == 0
		return out, err
	}
}
