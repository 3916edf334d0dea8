package hub

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errStepTimeout is the cause of a step's context when the route's step timeout ran out.
var errStepTimeout = errors.New("step timed out")

// withStepTimeout bounds one step or one delivery. A step that waits on I/O sees its context end;
// the error it then returns is retried, as the next attempt may be faster.
//
// Most steps never look at their context (they parse, check and map in memory), so the timer is
// only started when something asks for the context's Done channel, derives a context from it or
// asks its cause: a step that does not wait costs no timer and no context of the package's.
func withStepTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	c := &stepContext{parent: ctx, deadline: time.Now().Add(d)}
	return c, c.cancel
}

// stepContext is context.WithDeadlineCause(parent, deadline, errStepTimeout), made only when
// first needed. Until then Err reads the clock and the parent, and Value asks the parent.
type stepContext struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex
	armed    context.Context // the real context, once made
	stop     context.CancelFunc
	canceled bool // cancel was called before the real context was made
}

// arm makes the real context, if it is not made yet, and returns it.
func (c *stepContext) arm() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == nil {
		c.armed, c.stop = context.WithDeadlineCause(c.parent, c.deadline, errStepTimeout)
		if c.canceled {
			c.stop()
		}
	}
	return c.armed
}

// made returns the real context, or nil while it is not made.
func (c *stepContext) made() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed
}

func (c *stepContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled = true
	if c.stop != nil {
		c.stop()
	}
}

func (c *stepContext) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *stepContext) Done() <-chan struct{} { return c.arm().Done() }

func (c *stepContext) Err() error {
	if a := c.made(); a != nil {
		return a.Err()
	}
	// Once the deadline passed, or the parent ended, or cancel was called, the real context is
	// made (ended at once), so that context.Cause finds the cause through it.
	c.mu.Lock()
	canceled := c.canceled
	c.mu.Unlock()
	if canceled || c.parent.Err() != nil || !time.Now().Before(c.deadline) {
		return c.arm().Err()
	}
	return nil
}

// Value asks the real context once it is made: context.Cause and the contexts derived from this
// one find their parent's cancellation through it. Before, nothing ends this context that does
// not end the parent, so the parent's answers hold.
func (c *stepContext) Value(key any) any {
	if a := c.made(); a != nil {
		return a.Value(key)
	}
	return c.parent.Value(key)
}
