package storesql

import (
	"fmt"

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
