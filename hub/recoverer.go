package hub

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/fault"
)

// recoverer turns a panic in a step or a sink into a permanent error of the message, so that one
// bad message becomes a dead letter instead of stopping the hub. The stack goes to the log.
func recoverer(log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) (out []*message.Message, err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("panic while processing a message", "message_id", msg.UUID, "panic", r, "stack", string(debug.Stack()))
					err = fault.Permanent(fmt.Errorf("internal error (panic): %v", r))
				}
			}()
			return h(msg)
		}
	}
}
