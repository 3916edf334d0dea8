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
	return ChunkedBy(quit, closed, PruneChunk, exec)
}

// ChunkedBy is Chunked with chunk as the row limit.
func ChunkedBy(quit <-chan struct{}, closed error, chunk int, exec func(limit int) (int64, error)) (int64, error) {
	var total int64
	for {
		select {
		case <-quit:
			return total, closed
		default:
		}
		n, err := exec(chunk)
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(chunk) {
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

// PruneFuncs are a store's PruneSteps given as functions, so that the store need not have them
// as methods of its own.
type PruneFuncs struct {
	DeleteLetters func(ctx context.Context, before time.Time) (int64, error)
	RedactEntries func(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error)
	FinishPrune   func(ctx context.Context, drop bool, now time.Time, p *Pruned) error
}

// DeleteDeadLetters calls f.DeleteLetters.
func (f PruneFuncs) DeleteDeadLetters(ctx context.Context, before time.Time) (int64, error) {
	return f.DeleteLetters(ctx, before)
}

// Redact calls f.RedactEntries.
func (f PruneFuncs) Redact(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error) {
	return f.RedactEntries(ctx, kinds, others, before, now)
}

// Finish calls f.FinishPrune.
func (f PruneFuncs) Finish(ctx context.Context, drop bool, now time.Time, p *Pruned) error {
	return f.FinishPrune(ctx, drop, now, p)
}
