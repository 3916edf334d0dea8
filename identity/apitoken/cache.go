package apitoken

import (
	"context"
	"sync"
	"time"
)

// cacheLimit bounds the records a Cache holds; when full it starts again empty, so that requests
// with many different tokens cost lookups, not memory.
const cacheLimit = 10000

// Cache is a Lookup that remembers the records it found for TTL, so that a busy ingress asks the
// store once a TTL for each token instead of once a request. A token revoked in the store is
// refused once its remembered record expires: within TTL. Unknown ids are not remembered.
type Cache struct {
	Lookup Lookup
	TTL    time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	r       Record
	expires time.Time
}

// TokenByID returns the remembered record of id while it is fresh, else asks Lookup.
func (c *Cache) TokenByID(ctx context.Context, id string) (Record, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && t.Before(e.expires) {
		return e.r, nil
	}
	r, err := c.Lookup.TokenByID(ctx, id)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheLimit {
		c.m = map[string]cached{}
	}
	c.m[id] = cached{r: r, expires: t.Add(c.TTL)}
	c.mu.Unlock()
	return r, nil
}
