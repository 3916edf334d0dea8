package hub

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWithStoreWaitsForTheStore(t *testing.T) {
	calls := 0
	err := withStore(context.Background(), quietLogger(), "test", func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("connection refused")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("err %v after %d calls, want nil after 3", err, calls)
	}

	// A message taken back by the transport (its context ends) stops the waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = withStore(ctx, quietLogger(), "test", func(context.Context) error { return errors.New("down") })
	if err == nil {
		t.Error("no error when the store never came back")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
}
