package store

import (
	"errors"
	"testing"
)

func TestChunkedRunsUntilAShortChunk(t *testing.T) {
	left := int64(2*PruneChunk + 5)
	calls := 0
	n, err := Chunked(make(chan struct{}), errors.New("closed"), func(limit int) (int64, error) {
		calls++
		k := min(left, int64(limit))
		left -= k
		return k, nil
	})
	if err != nil || n != 2*PruneChunk+5 || calls != 3 {
		t.Fatalf("Chunked = %d, %v after %d calls, want %d, nil after 3", n, err, calls, 2*PruneChunk+5)
	}
}

func TestChunkedStopsWhenClosed(t *testing.T) {
	quit, closed := make(chan struct{}), errors.New("closed")
	calls := 0
	n, err := Chunked(quit, closed, func(limit int) (int64, error) {
		calls++
		close(quit)
		return int64(limit), nil
	})
	if !errors.Is(err, closed) || n != PruneChunk || calls != 1 {
		t.Fatalf("Chunked = %d, %v after %d calls, want %d, closed after 1", n, err, calls, PruneChunk)
	}
}

func TestChunkedStopsAtAnError(t *testing.T) {
	bad := errors.New("bad")
	n, err := Chunked(make(chan struct{}), nil, func(limit int) (int64, error) { return 0, bad })
	if !errors.Is(err, bad) || n != 0 {
		t.Fatalf("Chunked = %d, %v, want 0, bad", n, err)
	}
}
