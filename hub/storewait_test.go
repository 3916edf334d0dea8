package hub

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWithStoreWaitsForTheStore(t *testing.T) {
	calls := 0
	err := withStore(context.Background(), newStoreOutage(quietLogger()), "test", func(context.Context) error {
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
	err = withStore(ctx, newStoreOutage(quietLogger()), "test", func(context.Context) error { return errors.New("down") })
	if err == nil {
		t.Error("no error when the store never came back")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
}

// TestStoreOutageLoggedOnce: sixty-four messages wait for a store that is down, then back: the
// log says so once each way, not once a message.
func TestStoreOutageLoggedOnce(t *testing.T) {
	var buf syncLog
	o := newStoreOutage(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	var up atomic.Bool
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			err := withStore(context.Background(), o, "test", func(context.Context) error {
				if up.Load() {
					return nil
				}
				return errors.New("connection refused")
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(350 * time.Millisecond)
	up.Store(true)
	wg.Wait()
	log := buf.String()
	if n := strings.Count(log, "store unavailable"); n != 1 {
		t.Errorf("%d lines say the store is unavailable, want 1:\n%s", n, log)
	}
	if n := strings.Count(log, "store available again"); n != 1 {
		t.Errorf("%d lines say the store is back, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, "failed_calls=") {
		t.Errorf("the line saying the store is back does not count the failed calls:\n%s", log)
	}
}

// syncLog is a log written from many goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
