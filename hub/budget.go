package hub

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"

	"github.com/aiskao/aiskao/internal/memlimit"
)

// budget bounds the payload bytes of a route's messages handled at once, beside prefetch's
// count: a burst of large messages waits for room instead of taking the memory, since each one
// under way holds its payload and what the steps make of it (a tree, a JSON value, the bytes
// delivered). Waiters are served first come, first served, so that a large message is not
// starved by a stream of small ones; a message larger than the whole budget takes all of it,
// and so is handled alone, never refused.
type budget struct {
	sem *semaphore.Weighted
	max int64
}

func newBudget(max int64) *budget {
	if max <= 0 {
		max = memlimit.Budget()
	}
	return &budget{sem: semaphore.NewWeighted(max), max: max}
}

// take waits for room for a payload of n bytes and returns what to give back.
func (b *budget) take(ctx context.Context, n int) (int64, error) {
	w := min(int64(n), b.max)
	if err := b.sem.Acquire(ctx, w); err != nil {
		return 0, fmt.Errorf("hub: wait for room for %d bytes in flight: %w", n, err)
	}
	return w, nil
}

func (b *budget) give(w int64) { b.sem.Release(w) }
