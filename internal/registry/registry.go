// Package registry is a set of named factories, filled from init by the packages that provide
// them (connectors, transforms, transports, stores) and read by the engine at start.
package registry

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps names to values of one kind. The zero value is empty and ready to use; it is safe
// for concurrent use. Tests build their own registries; the packages' Default ones are filled only
// from init.
type Registry[T any] struct {
	kind string
	mu   sync.RWMutex
	m    map[string]T
}

// New returns an empty registry whose errors name kind, for example "connector type".
func New[T any](kind string) *Registry[T] { return &Registry[T]{kind: kind} }

// Register adds v under name. A second value under one name panics: it is a programming error
// found at start-up, never at run time.
func (r *Registry[T]) Register(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("registry: %s %q registered twice", r.kind, name))
	}
	r.m[name] = v
}

// Lookup returns the value under name.
func (r *Registry[T]) Lookup(name string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.m[name]
	return v, ok
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Kind returns what the registry holds, as given to New.
func (r *Registry[T]) Kind() string { return r.kind }
