// Package batch groups work handed in at the same time into one commit, so that many callers
// share the cost of one transaction and one sync instead of paying one each.
package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("batch: closed")

// Committer gathers items: a writer goroutine takes every item waiting, up to a maximum, commits
// them together and answers each caller with the commit's outcome.
type Committer[T any] struct {
	reqs   chan request[T]
	max    int
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
	if max < 1 {
		max = 1
	}
	c := &Committer[T]{reqs: make(chan request[T], max), max: max, commit: commit, quit: make(chan struct{}), done: make(chan struct{})}
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
		c.run(c.gather(batch))
	}
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
