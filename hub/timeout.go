package hub

import (
	"context"
	"errors"
	"time"
)

// errStepTimeout is the cause of a step's context when the route's step timeout ran out.
var errStepTimeout = errors.New("step timed out")

// withStepTimeout bounds one step or one delivery. A step that waits on I/O sees its context end;
// the error it then returns is retried, as the next attempt may be faster.
func withStepTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, d, errStepTimeout)
}
