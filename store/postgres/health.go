package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// How the health watcher checks the database: a check (a ping, after connecting when needed)
// starts every healthEvery once the last one has ended; one that has not answered within
// healthTimeout makes the database count as not answering, and it goes on waiting, up to
// checkTimeout, so that when the network heals its answer comes at once and the database counts
// as answering again within a round trip. A database that does not answer is seen within
// healthEvery and healthTimeout.
const (
	healthEvery   = 250 * time.Millisecond
	healthTimeout = time.Second
	checkTimeout  = 30 * time.Second
)

// health watches whether the database answers, on a connection of its own: the pool's may all
// be busy under load, and a check that waits for one would take a busy store for a dead one.
// Ping answers from what it saw last, so readiness never waits on the database. A change either
// way is logged once.
type health struct {
	cfg   *pgx.ConnConfig
	where string
	log   *slog.Logger
	conn  *pgx.Conn // used by one check at a time

	mu    sync.Mutex
	err   error     // nil while the database answers
	since time.Time // when err was first seen

	quit chan struct{}
	done chan struct{}
}

func newHealth(cfg *pgx.ConnConfig, where string, log *slog.Logger) *health {
	h := &health{cfg: cfg, where: where, log: log, quit: make(chan struct{}), done: make(chan struct{})}
	go h.run()
	return h
}

// state returns nil while the database answered the last check, else why not and since when.
func (h *health) state() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return fmt.Errorf("not answering for %s: %w", time.Since(h.since).Round(time.Millisecond), h.err)
}

func (h *health) run() {
	defer close(h.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan error, 1)
	running, started, ended := false, time.Time{}, time.Time{}
	t := time.NewTicker(healthEvery / 5)
	defer t.Stop()
	for {
		select {
		case <-h.quit:
			cancel()
			if running {
				<-results
			}
			if h.conn != nil {
				cctx, ccancel := context.WithTimeout(context.Background(), healthTimeout)
				_ = h.conn.Close(cctx)
				ccancel()
			}
			return
		case err := <-results:
			running, ended = false, time.Now()
			h.set(err)
		case <-t.C:
			switch {
			case running && time.Since(started) > healthTimeout:
				h.set(fmt.Errorf("no answer within %s", healthTimeout))
			case !running && time.Since(ended) >= healthEvery:
				running, started = true, time.Now()
				go func() { results <- h.check(ctx) }()
			}
		}
	}
}

// check pings the database, connecting first when needed.
func (h *health) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if h.conn == nil {
		c, err := pgx.ConnectConfig(ctx, h.cfg)
		if err != nil {
			return err
		}
		h.conn = c
	}
	if err := h.conn.Ping(ctx); err != nil {
		go h.conn.Close(context.Background()) // closing a broken connection may wait; the check need not
		h.conn = nil
		return err
	}
	return nil
}

// set records the outcome of a check, logging a change.
func (h *health) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && h.err == nil:
		h.err, h.since = err, time.Now()
		h.log.Warn("postgres store: the database does not answer; not delivering until it does", "database", h.where, "error", err)
	case err != nil:
		h.err = err
	case h.err != nil:
		h.log.Info("postgres store: the database answers again", "database", h.where, "after", time.Since(h.since).Round(time.Millisecond))
		h.err = nil
	}
}

// close stops the watcher.
func (h *health) close() {
	close(h.quit)
	<-h.done
}
