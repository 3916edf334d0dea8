package store

import (
	"context"
	"time"

	"github.com/aiskao/aiskao/internal/batch"
)

// Lookups gathers the Seen calls made at the same time, so that a store answers them with one
// query instead of one each: every message a route takes asks once.
type Lookups struct {
	c *batch.Committer[*Lookup]
}

// Lookup is one Seen waiting for its answer; the store's lookup function sets Seen.
type Lookup struct {
	Scope, Key string
	Seen       bool
}

// NewLookups starts a lookup goroutine that passes up to max waiting lookups at once to lookup,
// which sets Seen on those it finds marked and returns an error only when the query failed.
// Under load, lookups wait up to wait for more of them (batch.NewWaiting); 0 sends at once.
func NewLookups(max int, wait time.Duration, lookup func([]*Lookup) error) *Lookups {
	return &Lookups{c: batch.NewWaiting(max, wait, lookup)}
}

// Seen asks whether key is marked in scope. After Close it returns batch.ErrClosed.
func (l *Lookups) Seen(ctx context.Context, scope, key string) (bool, error) {
	r := &Lookup{Scope: scope, Key: key}
	if err := l.c.Do(ctx, r); err != nil {
		return false, err
	}
	return r.Seen, nil
}

// Close answers the lookups already waiting and stops the goroutine.
func (l *Lookups) Close() { l.c.Close() }

// Found sets Seen on the lookups of scope and key, a pair that a query returned.
func Found(ls []*Lookup, scope, key string) {
	for _, r := range ls {
		if r.Scope == scope && r.Key == key {
			r.Seen = true
		}
	}
}
