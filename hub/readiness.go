package hub

import (
	"context"
	"fmt"

	"github.com/aiskao/aiskao/transport"
)

// Readiness tells apart the two things a running hub does, since each can fail alone: with
// RabbitMQ and PostgreSQL, a database that does not answer stops deliveries while the sources
// still take messages into the broker, and a broker that does not answer stops both.
//
// Accepting is nil while the sources run and the transport stores what they publish. Delivering
// is nil while the routes receive messages and reach the store. Neither waits on a service: the
// transports and stores answer from what they saw last (RabbitMQ's heartbeats, PostgreSQL's
// health check), and an embedded store answers at once.
func (e *Engine) Readiness(ctx context.Context) (accepting, delivering error) {
	if split, ok := e.tr.(transport.SplitReadiness); ok {
		if err := split.PublishReady(ctx); err != nil {
			accepting = fmt.Errorf("transport: %w", err)
		}
		if err := split.ConsumeReady(ctx); err != nil {
			delivering = fmt.Errorf("transport: %w", err)
		}
	} else if err := e.tr.Ready(ctx); err != nil {
		accepting = fmt.Errorf("transport: %w", err)
		delivering = accepting
	}
	if accepting == nil {
		e.sourceErrs.Range(func(name, err any) bool {
			accepting = fmt.Errorf("source %s stopped: %w", name, err.(error))
			return false
		})
	}
	if delivering == nil {
		if err := e.st.Ping(ctx); err != nil {
			delivering = fmt.Errorf("store: %w", err)
		}
	}
	return accepting, delivering
}

// Readiness reports what the running engine can do (see Engine.Readiness); both are an error
// while no engine runs.
func (s *Supervisor) Readiness(ctx context.Context) (accepting, delivering error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return errNotRunning, errNotRunning
	}
	return s.cur.Readiness(ctx)
}
