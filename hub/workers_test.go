package hub

import (
	"errors"
	"testing"
	"time"
)

func idleCount(w *workers) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.idle)
}

func waitIdle(t *testing.T, w *workers, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for idleCount(w) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers idle, want %d", idleCount(w), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWorkersReuseTheLastToFinish: one message after another runs on the same worker, whose
// stack stays grown, not on each in turn.
func TestWorkersReuseTheLastToFinish(t *testing.T) {
	w := newWorkers(4)
	defer w.stop()
	top := w.idle[3]
	for i := range 10 {
		if err := w.do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, w, 4)
		w.mu.Lock()
		same := w.idle[3] == top
		w.mu.Unlock()
		if !same {
			t.Fatalf("call %d: another worker is on top", i)
		}
	}
}

// TestWorkersBusyRunOnTheCaller: with every worker busy, work runs on the caller's goroutine
// rather than waiting; errors and panics reach the caller either way.
func TestWorkersBusyRunOnTheCaller(t *testing.T) {
	w := newWorkers(2)
	defer w.stop()
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go w.do(func() error { started <- struct{}{}; <-release; return nil })
	}
	<-started
	<-started
	want := errors.New("step failed")
	if err := w.do(func() error { return want }); err != want {
		t.Errorf("on the caller: %v, want %v", err, want)
	}
	close(release)
	waitIdle(t, w, 2)
	if err := w.do(func() error { return want }); err != want {
		t.Errorf("on a worker: %v, want %v", err, want)
	}
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the worker's panic", r)
		}
	}()
	_ = w.do(func() error { panic("boom") })
}

// TestWorkersStop: stop waits for the work under way, and work asked for afterwards is refused.
func TestWorkersStop(t *testing.T) {
	w := newWorkers(2)
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() { done <- w.do(func() error { close(started); <-release; return nil }) }()
	<-started
	stopped := make(chan struct{})
	go func() { w.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned with work under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("work under way: %v", err)
	}
	<-stopped
	if err := w.do(func() error { return nil }); !errors.Is(err, errStopped) {
		t.Errorf("after stop: %v, want %v", err, errStopped)
	}
}
