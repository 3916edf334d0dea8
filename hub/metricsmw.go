package hub

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// measure counts each message's outcome on its route and how long the route took with it.
func measure(rm *routeMetrics) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			o := withOutcome(msg)
			out, err := h(msg)
			rm.duration.Observe(time.Since(start).Seconds())
			if err == nil {
				if o.name == "" {
					o.name = OutcomeDelivered
				}
				rm.count(o.name)
			}
			return out, err
		}
	}
}
