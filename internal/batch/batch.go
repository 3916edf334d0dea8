// Package batch groups work handed in at the same time into one commit, so that many callers
// share the cost of one transaction and one sync instead of paying one each.
package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("batch: closed")

// Committer gathers items: a writer goroutine takes every item waiting, up to a maximum, commits
// them together and answers each caller with the commit's outcome.
type Committer[T any] struct {
	reqs   chan request[T]
	max    int
	wait   time.Duration // how long a batch waits for company under load (NewWaiting)
	commit func([]T) error
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once

	commits, items atomic.Int64
}

type request[T any] struct {
	item T
	done chan error
}

// New starts a committer that commits at most max items at once with commit.
func New[T any](max int, commit func([]T) error) *Committer[T] {
	return NewWaiting(max, 0, commit)
}

// NewWaiting starts a committer like New whose batches, under load, wait up to wait for more
// items before they are committed. A batch gathers the items waiting when the one before is
// done; where that one held more than one item, callers are arriving together, and the batch
// then takes those arriving within wait as well (until max), so that a commit's fixed cost (a
// round trip, a statement, a sync) is shared among more of them. A batch after a lone item does
// not wait: under light load no caller waits for company that is not coming.
func NewWaiting[T any](max int, wait time.Duration, commit func([]T) error) *Committer[T] {
	if max < 1 {
		max = 1
	}
	c := &Committer[T]{reqs: make(chan request[T], max), max: max, wait: wait, commit: commit, quit: make(chan struct{}), done: make(chan struct{})}
	go c.writer()
	return c
}

// Do hands item in and returns once the commit that holds it is done, with its outcome. When ctx
// ends first, Do returns ctx's error and the item may or may not be committed.
func (c *Committer[T]) Do(ctx context.Context, item T) error {
	r := request[T]{item: item, done: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-c.done:
		// The writer answers every request it took before it stops.
		select {
		case err := <-r.done:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close commits what was handed in before it and stops the writer. It can be called more than
// once.
func (c *Committer[T]) Close() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

// Commits returns how many commits succeeded; Items how many items they held.
func (c *Committer[T]) Commits() int64 { return c.commits.Load() }

// Items returns how many items the successful commits held.
func (c *Committer[T]) Items() int64 { return c.items.Load() }

func (c *Committer[T]) writer() {
	defer close(c.done)
	batch := make([]request[T], 0, c.max)
	var timer *time.Timer
	if c.wait > 0 {
		timer = time.NewTimer(c.wait)
		timer.Stop()
	}
	last := 0 // items in the batch before
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-c.quit:
			// Commit what callers queued before Close, so that none of them waits in vain.
			for {
				batch = c.gather(batch[:0])
				if len(batch) == 0 {
					return
				}
				c.run(batch)
			}
		}
		batch = c.gather(batch)
		if timer != nil && last > 1 && len(batch) < c.max {
			batch = c.gatherFor(batch, timer)
		}
		last = len(batch)
		c.run(batch)
	}
}

// gatherFor adds the requests arriving within c.wait to batch, up to max; it returns early when
// the committer is closed, which then commits what is left.
func (c *Committer[T]) gatherFor(batch []request[T], timer *time.Timer) []request[T] {
	timer.Reset(c.wait)
	defer timer.Stop()
	for len(batch) < c.max {
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-c.quit:
			return batch
		}
	}
	return batch
}

// gather adds the waiting requests to batch without blocking, up to max.
func (c *Committer[T]) gather(batch []request[T]) []request[T] {
	for len(batch) < c.max {
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

func (c *Committer[T]) run(batch []request[T]) {
	items := make([]T, len(batch))
	for i, r := range batch {
		items[i] = r.item
	}
	err := c.commit(items)
	if err == nil {
		c.commits.Add(1)
		c.items.Add(int64(len(items)))
	}
	for _, r := range batch {
		r.done <- err
	}
}
