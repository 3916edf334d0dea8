package regix

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"sync"
	"time"
)

// Cache keeps answers of registers for a lifetime set per operation, so
// that the several steps and retries of one dossier ask a register once.
// An answer is kept for one dossier: the key holds the dossier, unless the
// operation is configured to share answers across dossiers. Keys are hashes,
// so the cache holds no identifier in the clear beside the answers. It is
// safe for concurrent use.
type Cache struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	res     *Result
	expires time.Time
	added   time.Time
}

// NewCache returns a cache of at most max answers (1000 when max <= 0).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 1000
	}
	return &Cache{max: max, now: time.Now, entries: map[string]cacheEntry{}}
}

// CacheKey is the key of an answer of op to params for dossier; dossier is
// empty for operations whose answers are shared across dossiers.
func CacheKey(op *Operation, params map[string]string, dossier string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, s := range []string{op.Name, dossier} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{1})
		h.Write([]byte(params[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the answer kept under key while it lives. The result is
// shared: callers must not change it.
func (c *Cache) Get(key string) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return e.res, true
}

// Put keeps res under key for ttl; a ttl of zero or less keeps nothing. When
// the cache is full, expired answers go first, then the oldest.
func (c *Cache) Put(key string, res *Result, ttl time.Duration) {
	if ttl <= 0 || res == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		var oldest string
		var oldestAt time.Time
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
				continue
			}
			if oldest == "" || e.added.Before(oldestAt) {
				oldest, oldestAt = k, e.added
			}
		}
		if len(c.entries) >= c.max {
			delete(c.entries, oldest)
		}
	}
	c.entries[key] = cacheEntry{res: res, expires: now.Add(ttl), added: now}
}

// Len returns how many answers are kept, expired ones included until they
// are next looked at.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
