package eauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Issued is what is kept of an AuthnRequest until its response comes back.
type Issued struct {
	// Level is the level of assurance asked for; a response must meet it.
	Level Level
	// Expires is when the request may no longer be answered.
	Expires time.Time
	// Browser, when set, is the SHA-256 of the value of a cookie the browser that started the
	// sign-in was given: the response must come back from that browser (SP.VerifyFrom).
	Browser []byte
}

// RequestStore keeps the requests issued and gives each back once. An implementation over the
// hub's store lets the response reach another process than the one that sent the request.
type RequestStore interface {
	// Put records the request id.
	Put(ctx context.Context, id string, r Issued) error
	// Take removes the request id and returns it; ok is false when it was never issued, has been
	// taken already or has expired.
	Take(ctx context.Context, id string) (r Issued, ok bool, err error)
}

// ReplayCache remembers the assertions accepted, so none is accepted twice.
type ReplayCache interface {
	// FirstUse records id until until and reports whether it had not been recorded before.
	// It must be atomic: of two callers with the same id, one sees true.
	FirstUse(ctx context.Context, id string, until time.Time) (bool, error)
}

// maxMemoryEntries bounds the in-memory stores so a flood of login starts cannot exhaust memory;
// past it, once the expired entries are dropped, new entries are refused (never an unexpired one
// dropped: a replay cache that forgot would let a replay through).
const maxMemoryEntries = 100000

var errFull = errors.New("eauth: in-memory store full")

// MemoryRequests is a RequestStore in this process's memory.
type MemoryRequests struct {
	mu  sync.Mutex
	m   map[string]Issued
	now func() time.Time
}

// NewMemoryRequests returns an empty MemoryRequests.
func NewMemoryRequests() *MemoryRequests {
	return &MemoryRequests{m: map[string]Issued{}, now: time.Now}
}

// Put records id.
func (s *MemoryRequests) Put(_ context.Context, id string, r Issued) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxMemoryEntries {
		purge(s.m, s.now(), func(r Issued) time.Time { return r.Expires })
		if len(s.m) >= maxMemoryEntries {
			return errFull
		}
	}
	s.m[id] = r
	return nil
}

// Take removes and returns id if it is there and not expired.
func (s *MemoryRequests) Take(_ context.Context, id string) (Issued, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	delete(s.m, id)
	if !ok || !s.now().Before(r.Expires) {
		return Issued{}, false, nil
	}
	return r, true, nil
}

// MemoryReplay is a ReplayCache in this process's memory.
type MemoryReplay struct {
	mu  sync.Mutex
	m   map[string]time.Time
	now func() time.Time
}

// NewMemoryReplay returns an empty MemoryReplay.
func NewMemoryReplay() *MemoryReplay {
	return &MemoryReplay{m: map[string]time.Time{}, now: time.Now}
}

// FirstUse records id until until and reports whether it is new.
func (c *MemoryReplay) FirstUse(_ context.Context, id string, until time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if u, ok := c.m[id]; ok && now.Before(u) {
		return false, nil
	}
	if len(c.m) >= maxMemoryEntries {
		purge(c.m, now, func(t time.Time) time.Time { return t })
		if len(c.m) >= maxMemoryEntries {
			return false, errFull
		}
	}
	c.m[id] = until
	return true, nil
}

// purge drops the expired entries of m.
func purge[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	for k, v := range m {
		if !now.Before(expires(v)) {
			delete(m, k)
		}
	}
}

// Store is what a database keeps of the sign-ins in flight, so that the response to a request
// may reach another process than the one that sent it. The hub's SQLite and PostgreSQL stores
// implement it; StoreRequests and StoreReplay make an SP's RequestStore and ReplayCache of it.
type Store interface {
	// PutEAuthRequest records the request id.
	PutEAuthRequest(ctx context.Context, id string, r Issued) error
	// TakeEAuthRequest removes the request id and returns it; ok is false when it was never
	// recorded, has been taken already, or expired at or before now.
	TakeEAuthRequest(ctx context.Context, id string, now time.Time) (r Issued, ok bool, err error)
	// FirstUseAssertion records the assertion id until until and reports whether it was not
	// recorded already (or only until a time at or before now). Of two callers with the same id,
	// one sees true.
	FirstUseAssertion(ctx context.Context, id string, until, now time.Time) (bool, error)
	// DeleteStaleEAuth forgets the requests and assertions expired at or before now, and returns
	// how many.
	DeleteStaleEAuth(ctx context.Context, now time.Time) (int64, error)
}

// StoreRequests is a RequestStore over s, with now as its clock (time.Now when nil).
func StoreRequests(s Store, now func() time.Time) RequestStore {
	if now == nil {
		now = time.Now
	}
	return storeRequests{s, now}
}

// StoreReplay is a ReplayCache over s, with now as its clock (time.Now when nil).
func StoreReplay(s Store, now func() time.Time) ReplayCache {
	if now == nil {
		now = time.Now
	}
	return storeReplay{s, now}
}

type storeRequests struct {
	s   Store
	now func() time.Time
}

func (r storeRequests) Put(ctx context.Context, id string, i Issued) error {
	return r.s.PutEAuthRequest(ctx, id, i)
}

func (r storeRequests) Take(ctx context.Context, id string) (Issued, bool, error) {
	return r.s.TakeEAuthRequest(ctx, id, r.now())
}

type storeReplay struct {
	s   Store
	now func() time.Time
}

func (r storeReplay) FirstUse(ctx context.Context, id string, until time.Time) (bool, error) {
	return r.s.FirstUseAssertion(ctx, id, until, r.now())
}
