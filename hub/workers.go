package hub

import (
	"errors"
	"sync"
)

// workers runs route work on long-lived goroutines. The router starts a goroutine per message;
// parsing XML and validating schemas need deep stacks, and a fresh goroutine grows and copies its
// stack for every message. Workers keep theirs grown. They are a cache of stacks, not a limit:
// when every worker is busy (a route waiting on a slow register holds them, say), the work runs
// on the caller's goroutine, so that one route never holds up the others. How many messages run
// at once is bounded by the routes' prefetch.
type workers struct {
	tasks chan *task
	quit  chan struct{}
	wg    sync.WaitGroup
}

type task struct {
	fn   func() error
	done chan error
}

var taskPool = sync.Pool{New: func() any { return &task{done: make(chan error, 1)} }}

// newWorkers starts n workers.
func newWorkers(n int) *workers {
	w := &workers{tasks: make(chan *task), quit: make(chan struct{})}
	w.wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer w.wg.Done()
			for {
				select {
				case t := <-w.tasks:
					t.done <- t.fn()
				case <-w.quit:
					return
				}
			}
		}()
	}
	return w
}

// do runs fn on a worker and returns its error. A panic in fn reaches the caller's recoverer
// as an error through the worker's own recovery.
func (w *workers) do(fn func() error) error {
	t := taskPool.Get().(*task)
	t.fn = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panicError{r}
			}
		}()
		return fn()
	}
	select {
	case w.tasks <- t:
	case <-w.quit:
		// Only a handler still running after the router's close timeout gets here; the message
		// stays unacknowledged and is delivered again after the restart.
		return errStopped
	default:
		t.fn = nil
		taskPool.Put(t)
		return fn()
	}
	err := <-t.done
	t.fn = nil
	taskPool.Put(t)
	if p, ok := err.(panicError); ok {
		panic(p.v) // on the caller's goroutine, where the recoverer middleware sees it
	}
	return err
}

// stop ends the workers once the tasks under way are done; do fails after it.
func (w *workers) stop() {
	close(w.quit)
	w.wg.Wait()
}

var errStopped = errors.New("hub is stopping")

type panicError struct{ v any }

func (p panicError) Error() string { return "panic" }
