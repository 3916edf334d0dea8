package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
)

// Supervisor runs the engine of the current configuration and replaces it on reload. A new
// configuration is loaded and fully built before the running engine is touched: one that does not
// load or build is refused, and the old engine keeps running.
type Supervisor struct {
	load func() (*routes.Config, error)
	opts Options

	mu  sync.RWMutex
	cur *Engine
}

// NewSupervisor returns a supervisor that reads its configuration with load.
func NewSupervisor(load func() (*routes.Config, error), opts Options) *Supervisor {
	opts.defaults()
	return &Supervisor{load: load, opts: opts}
}

// Metrics returns the metrics shared by every engine the supervisor runs.
func (s *Supervisor) Metrics() *Metrics { return s.opts.Metrics }

// Start loads the configuration, builds its engine and starts it.
func (s *Supervisor) Start(ctx context.Context) error {
	cfg, err := s.load()
	if err != nil {
		return err
	}
	e, err := Build(cfg, s.opts)
	if err != nil {
		return err
	}
	if err := e.Start(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = e
	s.mu.Unlock()
	return nil
}

// Reload replaces the running engine with one built from the configuration as it is now. It
// returns an error, and leaves the running engine as it was, when the new configuration is invalid
// or cannot be built. When the new engine fails to start, the old configuration is started again.
func (s *Supervisor) Reload(ctx context.Context) error {
	cfg, err := s.load()
	if err != nil {
		s.opts.Metrics.reloads.WithLabelValues("refused").Inc()
		return fmt.Errorf("reload refused, the running configuration stays: %w", err)
	}
	next, err := Build(cfg, s.opts)
	if err != nil {
		s.opts.Metrics.reloads.WithLabelValues("refused").Inc()
		return fmt.Errorf("reload refused, the running configuration stays: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur
	if old != nil {
		_ = old.Stop(ctx)
	}
	if err := next.Start(ctx); err != nil {
		s.opts.Metrics.reloads.WithLabelValues("refused").Inc()
		s.cur = nil
		if old != nil {
			prev, berr := Build(old.cfg, s.opts)
			if berr == nil {
				berr = prev.Start(ctx)
			}
			if berr != nil {
				return fmt.Errorf("reload failed (%v) and the previous configuration did not start again: %w", err, berr)
			}
			s.cur = prev
		}
		return fmt.Errorf("reload failed, the previous configuration runs again: %w", err)
	}
	s.cur = next
	s.opts.Metrics.reloads.WithLabelValues("applied").Inc()
	s.opts.Logger.Info("configuration reloaded", "routes", len(cfg.Routes))
	return nil
}

// Stop drains and stops the running engine.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	err := s.cur.Stop(ctx)
	s.cur = nil
	return err
}

var errNotRunning = errors.New("hub is not running")

// Store returns the running engine's store, or nil.
func (s *Supervisor) Store() store.Store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.Store()
}

// Ready reports whether an engine runs and can carry messages.
func (s *Supervisor) Ready(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return errNotRunning
	}
	return s.cur.Ready(ctx)
}

// Replay replays a dead letter on the running engine.
func (s *Supervisor) Replay(ctx context.Context, id string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return "", errNotRunning
	}
	return s.cur.Replay(ctx, id)
}
