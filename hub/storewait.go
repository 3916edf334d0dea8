package hub

import (
	"context"
	"log/slog"
	"time"
)

// Waits between attempts to reach the store while it is unavailable.
const (
	storeWaitFirst = 100 * time.Millisecond
	storeWaitMax   = 5 * time.Second
)

// withStore runs op until it succeeds or ctx ends, waiting longer after each failure. The store
// being down (a database restart, a lost connection) is no fault of the message: handing the
// message back would have the transport deliver it again at once, in a tight loop that counts
// towards max_deliveries and ends with a healthy message taken for poison. Holding it while the
// store comes back costs nothing but the wait; readiness reports the store meanwhile.
func withStore(ctx context.Context, log *slog.Logger, what string, op func(context.Context) error) error {
	wait := storeWaitFirst
	for n := 1; ; n++ {
		err := op(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if n == 1 || n%10 == 0 {
			log.Warn("store unavailable, waiting for it", "what", what, "tries", n, "error", err)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, storeWaitMax)
	}
}
