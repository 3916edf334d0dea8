package dossierconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/dossier/store"
)

type source struct {
	n       *node
	name    string
	log     *slog.Logger
	running atomic.Bool
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	n, err := newNode("source", cfg, env)
	if err != nil {
		return nil, err
	}
	if n.cfg.API != nil {
		if err := serveAPI(n, env); err != nil {
			_ = n.close()
			return nil, fmt.Errorf("dossier source %s: %w", env.Name, err)
		}
	}
	return &source{n: n, name: env.Name, log: env.Log()}, nil
}

// Run hands the outbox's messages to the hub, each removed from the outbox only once the hub
// stored it, and watches the deadlines, until ctx ends.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("dossier source %s: already running", s.name)
	}
	defer func() { _ = s.n.close() }()
	relay := store.NewRelay(s.n.store, func(ctx context.Context, m store.Message) error {
		return emit(ctx, hubMessage(m))
	}, store.RelayOptions{Interval: s.n.cfg.RelayInterval.D(), Logger: s.log})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.n.core.Watch(ctx, s.n.cfg.DeadlineWatch.D())
	}()
	err := relay.Run(ctx)
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("dossier source %s: %w", s.name, err)
	}
	return nil
}

// hubMessage is the hub message of an outbox message: its id (fixed when the outbox row was
// written, so a message published again is known as the same), payload and metadata.
func hubMessage(m store.Message) *message.Message {
	msg := message.NewMessage(m.ID, m.Payload)
	for k, v := range m.Metadata {
		msg.Metadata.Set(k, v)
	}
	return msg
}
