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
//
// The worker that finished last is the next one asked (last in, first out): under a load that
// keeps a few dozen busy, those stay the ones in use, their stacks grown, and the rest idle.
// Handed out in turn, every worker would sit idle now and then at a collection, which halves an
// idle goroutine's stack, and grow it again on its next message.
type workers struct {
	mu      sync.Mutex
	idle    []*worker // the last to finish on top
	stopped bool
	wg      sync.WaitGroup
}

type worker struct {
	tasks chan *task // one at a time: a worker is handed a task only while idle
}

type task struct {
	fn   func() error
	done chan error
}

var taskPool = sync.Pool{New: func() any { return &task{done: make(chan error, 1)} }}

// newWorkers starts n workers.
func newWorkers(n int) *workers {
	w := &workers{idle: make([]*worker, 0, n)}
	w.wg.Add(n)
	for range n {
		wk := &worker{tasks: make(chan *task, 1)}
		w.idle = append(w.idle, wk)
		go func() {
			defer w.wg.Done()
			for t := range wk.tasks {
				t.done <- t.fn()
				if !w.putIdle(wk) {
					return
				}
			}
		}()
	}
	return w
}

// putIdle puts wk back on top of the idle workers, or reports false once the workers stopped.
func (w *workers) putIdle(wk *worker) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return false
	}
	w.idle = append(w.idle, wk)
	return true
}

// do runs fn on a worker and returns its error. A panic in fn reaches the caller's recoverer
// as an error through the worker's own recovery.
func (w *workers) do(fn func() error) error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		// Only a handler still running after the router's close timeout gets here; the message
		// stays unacknowledged and is delivered again after the restart.
		return errStopped
	}
	if len(w.idle) == 0 {
		w.mu.Unlock()
		return fn()
	}
	wk := w.idle[len(w.idle)-1]
	w.idle[len(w.idle)-1] = nil
	w.idle = w.idle[:len(w.idle)-1]
	w.mu.Unlock()

	t := taskPool.Get().(*task)
	t.fn = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panicError{r}
			}
		}()
		return fn()
	}
	wk.tasks <- t // never blocks: wk was idle, and its buffer holds one
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
	w.mu.Lock()
	w.stopped = true
	idle := w.idle
	w.idle = nil
	w.mu.Unlock()
	// Idle workers end now; busy ones end when they finish (putIdle reports the stop).
	for _, wk := range idle {
		close(wk.tasks)
	}
	w.wg.Wait()
}

var errStopped = errors.New("hub is stopping")

type panicError struct{ v any }

func (p panicError) Error() string { return "panic" }
