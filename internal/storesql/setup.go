package storesql

import (
	"context"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// Configure fills the zero fields of cfg with their defaults and validates it (spec.Options), and
// reads its retention. Its errors are prefixed with name, the store's.
func Configure[C store.Retaining](name string, cfg C) (C, store.RetentionPolicy, error) {
	cfg, err := spec.Options[C](cfg)
	if err != nil {
		return cfg, store.RetentionPolicy{}, fmt.Errorf("%s: %w", name, err)
	}
	policy, err := cfg.RetentionOptions().Policy()
	if err != nil {
		return cfg, policy, fmt.Errorf("%s: retention: %w", name, err)
	}
	return cfg, policy, nil
}

// Apply runs the migration step m through tx, the transaction that records it: its SQL, then
// what the step needs done in Go (at ChainVersion, chaining the entries journaled before, with
// d's statements), then record, given the step's version, name and the time, which notes it as
// applied.
func Apply(ctx context.Context, tx DB, d *Dialect, m migration.Step, record string) error {
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if m.Version == ChainVersion {
		if err := ChainExisting(ctx, tx, d.Q); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, record, m.Version, m.Name, d.Time(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	return nil
}

// Factory is the store.Factory of the store type typ, whose configuration is a C: New and
// OpenChain take a C or a *C (spec.Options), with its defaults filled and validated.
func Factory[C any](typ, doc string, newStore func(C, store.Env) (store.Store, error),
	openChain func(C, store.Env) (store.ChainSource, error)) store.Factory {
	return store.Factory{
		Type:   typ,
		Doc:    doc,
		Config: new(C),
		New: func(cfg any, env store.Env) (store.Store, error) {
			c, err := spec.Options[C](cfg)
			if err != nil {
				return nil, fmt.Errorf("%s store: %w", typ, err)
			}
			return newStore(c, env)
		},
		OpenChain: func(cfg any, env store.Env) (store.ChainSource, error) {
			c, err := spec.Options[C](cfg)
			if err != nil {
				return nil, fmt.Errorf("%s store: %w", typ, err)
			}
			return openChain(c, env)
		},
	}
}
