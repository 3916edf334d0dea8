package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// How the health watcher checks the database: a ping this often, failing after healthTimeout.
// A database that stops answering is seen within about the sum; one that answers again, within
// about healthEvery and a round trip (a check under way when the network heals goes through).
const (
	healthEvery   = 250 * time.Millisecond
	healthTimeout = time.Second
)

// health watches whether the database answers, on a connection of its own: the pool's may all
// be busy under load, and a check that waits for one would take a busy store for a dead one.
// Ping answers from what it saw last, so readiness never waits on the database. A change either
// way is logged once.
type health struct {
	cfg   *pgx.ConnConfig
	where string
	log   *slog.Logger

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
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
			_ = conn.Close(ctx)
			cancel()
		}
	}()
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	for {
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
		var err error
		if conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
			conn, err = pgx.ConnectConfig(ctx, h.cfg)
			cancel()
		}
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
			err = conn.Ping(ctx)
			cancel()
			if err != nil {
				go conn.Close(context.Background()) // closing a dead connection may wait; the check need not
				conn = nil
			}
		}
		h.set(err)
	}
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
