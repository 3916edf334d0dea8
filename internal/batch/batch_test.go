package batch

import (
	"context"
	"errors"
	"slices"
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

// TestWaitingGathersUnderLoadOnly: a batch that follows one of several items waits for company,
// one that follows a lone item does not, and Close ends a wait at once.
func TestWaitingGathersUnderLoadOnly(t *testing.T) {
	const wait = 400 * time.Millisecond
	var mu sync.Mutex
	var sizes []int
	hold := make(chan struct{})
	held := make(chan struct{}, 1)
	c := NewWaiting(64, wait, func(items []int) error {
		if items[0] == 0 {
			held <- struct{}{}
			<-hold // the first commit is held so that the next items queue behind it
		}
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		return nil
	})
	do := func(i int) time.Duration {
		start := time.Now()
		if err := c.Do(context.Background(), i); err != nil {
			t.Error(err)
		}
		return time.Since(start)
	}
	last := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(sizes)
	}

	// Light load: a lone item after nothing, and after a lone item, goes at once.
	if took := do(-1); took >= wait/2 {
		t.Errorf("a lone item took %v, want no wait", took)
	}
	if took := do(-2); took >= wait/2 {
		t.Errorf("a lone item after a lone item took %v, want no wait", took)
	}

	// Three items queue behind a held commit and go together, at once (after a lone item).
	var wg sync.WaitGroup
	wg.Go(func() { do(0) })
	<-held
	for i := 1; i <= 3; i++ {
		wg.Go(func() { do(i) })
	}
	for deadline := time.Now().Add(10 * time.Second); len(c.reqs) < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests queued", len(c.reqs))
		}
	}
	close(hold)
	wg.Wait()
	if got := last(); !slices.Equal(got, []int{1, 1, 1, 3}) {
		t.Fatalf("batches %v, want 1, 1, 1, 3", got)
	}

	// Under load (the batch before held three), an item waits for the one that comes 50 ms later.
	var first time.Duration
	wg.Go(func() { first = do(10) })
	time.Sleep(50 * time.Millisecond)
	do(11)
	wg.Wait()
	if got := last(); !slices.Equal(got, []int{1, 1, 1, 3, 2}) {
		t.Fatalf("batches %v, want the two items of the last 50 ms together", got)
	}
	if first < 50*time.Millisecond {
		t.Errorf("the first item of a batch under load took %v, want it to wait for the second", first)
	}

	// Close ends a wait at once and commits what waited.
	var closing time.Duration
	wg.Go(func() { closing = do(20) })
	time.Sleep(20 * time.Millisecond)
	c.Close()
	wg.Wait()
	if closing >= wait/2 {
		t.Errorf("an item waiting for company when the committer closed took %v, want it committed at once", closing)
	}
	if got := last(); !slices.Equal(got, []int{1, 1, 1, 3, 2, 1}) {
		t.Errorf("batches %v, want the last item committed alone at Close", got)
	}
}
