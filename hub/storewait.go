package hub

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Waits between attempts to reach the store while it is unavailable. The longest is short: once
// the store is back, every message waiting for it goes on within that time.
const (
	storeWaitFirst = 100 * time.Millisecond
	storeWaitMax   = time.Second
)

// withStore runs op until it succeeds or ctx ends, waiting longer after each failure. The store
// being down (a database restart, a lost connection) is no fault of the message: handing the
// message back would have the transport deliver it again at once, in a tight loop that counts
// towards max_deliveries and ends with a healthy message taken for poison. Holding it while the
// store comes back costs nothing but the wait; readiness reports the store meanwhile.
func withStore(ctx context.Context, o *storeOutage, what string, op func(context.Context) error) error {
	wait := storeWaitFirst
	for {
		err := op(ctx)
		if err == nil {
			o.succeeded()
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		o.failed(what, err)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, storeWaitMax)
	}
}

// storeOutage logs an outage of the store once, however many messages wait for it: the first
// failure says the store is unavailable, the first success after it says it is back, after how
// long and how many failed calls. Every message in flight waits at once, and a line each would
// bury the two that matter.
type storeOutage struct {
	log   *slog.Logger
	down  atomic.Bool // read on every call; the rest under mu
	mu    sync.Mutex
	since time.Time
	calls int
}

func newStoreOutage(log *slog.Logger) *storeOutage { return &storeOutage{log: log} }

// failed notes a call that found the store unavailable.
func (o *storeOutage) failed(what string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if o.down.Load() {
		o.log.Debug("store unavailable", "what", what, "error", err)
		return
	}
	o.down.Store(true)
	o.since = time.Now()
	o.log.Warn("store unavailable: messages wait for it (logged once, and again when it is back)", "what", what, "error", err)
}

// succeeded notes a call that reached the store.
func (o *storeOutage) succeeded() {
	if !o.down.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down.Load() {
		return
	}
	o.down.Store(false)
	o.log.Info("store available again", "after", time.Since(o.since).Round(time.Millisecond), "failed_calls", o.calls)
	o.calls = 0
}
