package batch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestConcurrentItemsShareCommits(t *testing.T) {
	var mu sync.Mutex
	var got []int
	largest := 0
	block := make(chan struct{})
	c := New(64, func(items []int) error {
		<-block // hold the first commit so that the others queue up
		mu.Lock()
		got = append(got, items...)
		largest = max(largest, len(items))
		mu.Unlock()
		return nil
	})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		}()
	}
	// Wait until the queue is full behind the held commit, so that grouping is certain.
	deadline := time.Now().Add(10 * time.Second)
	for len(c.reqs) < cap(c.reqs) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests queued", len(c.reqs))
		}
		time.Sleep(time.Millisecond)
	}
	close(block)
	wg.Wait()
	c.Close()
	if len(got) != 200 || c.Items() != 200 {
		t.Fatalf("%d items committed (%d counted), want 200", len(got), c.Items())
	}
	// The requests queued behind the held commit go in the next one. (How the rest group
	// depends on how fast their goroutines run: on a busy machine they may come one by one.)
	if largest < cap(c.reqs)/2 {
		t.Errorf("the largest of %d commits held %d items; the %d queued behind the first were not grouped", c.Commits(), largest, cap(c.reqs))
	}
}

func TestErrorsReachEveryCallerAndCloseStops(t *testing.T) {
	boom := errors.New("disk full")
	c := New(8, func([]string) error { return boom })
	if err := c.Do(context.Background(), "a"); !errors.Is(err, boom) {
		t.Errorf("err %v, want %v", err, boom)
	}
	if c.Commits() != 0 {
		t.Errorf("a failed commit counted")
	}
	c.Close()
	c.Close()
	if err := c.Do(context.Background(), "b"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := New(1, func([]int) error { select {} })
	if err := d.Do(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
