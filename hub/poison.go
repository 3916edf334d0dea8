package hub

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/transport"
)

// poison turns a message that has come back more than max times into a dead letter without
// processing it again. Such a message did not fail its retries: it came back because the processes
// handling it stopped (a crash, a kill, a lost connection) before settling it. The delivery count is
// the transport's count of deliveries since the message was published or last handed back for a
// delayed retry (transport.Delivery), so that retries through the transport do not count as
// deliveries that went wrong; without it, the envelope's attempt as the transport sets it on
// arrival. Transports that do not count leave both unset, and then this check never fires.
func poison(max int) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			n, ok := attemptOf(msg)
			if d := transport.DeliveryOf(msg.Context()); d != nil && d.Deliveries > 0 {
				n, ok = d.Deliveries, true
			}
			if ok && max > 0 && n > max {
				return nil, &StepError{Step: "delivery", Err: fault.Permanent(fmt.Errorf(
					"delivered %d times without being settled, more than max_deliveries %d: the processes handling it may have stopped or crashed on it", n, max))}
			}
			return h(msg)
		}
	}
}
