package store

import (
	"context"
	"fmt"
	"time"
)

// PruneChunk bounds the rows one redaction or deletion of a store touches, so that pruning holds
// its locks only briefly and the store's other writers are not kept waiting.
const PruneChunk = 2000

// Chunked runs exec, a statement given PruneChunk as its row limit, until it affects fewer rows
// than the limit, and returns the rows affected. Once quit is closed it stops with closed.
func Chunked(quit <-chan struct{}, closed error, exec func(limit int) (int64, error)) (int64, error) {
	var total int64
	for {
		select {
		case <-quit:
			return total, closed
		default:
		}
		n, err := exec(PruneChunk)
		if err != nil {
			return total, err
		}
		total += n
		if n < PruneChunk {
			return total, nil
		}
	}
}

// PruneStore is RunPrune for the store called name (which prefixes its errors) whose Close closes
// quit: once the store is closed it refuses with closed.
func PruneStore(ctx context.Context, name string, quit <-chan struct{}, closed error, steps PruneSteps,
	policy RetentionPolicy, now time.Time) (Pruned, error) {
	select {
	case <-quit:
		return Pruned{}, closed
	default:
	}
	p, err := RunPrune(ctx, steps, policy, now)
	if err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}
