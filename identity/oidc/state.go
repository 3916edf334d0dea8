package oidc

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pending is what is kept of a sign-in sent to the provider until the browser comes back.
type Pending struct {
	// Binding is the SHA-256 of the random value of the browser's cookie: the callback is
	// accepted only from the browser that started the sign-in.
	Binding  []byte
	Nonce    string // the ID token must carry it
	Verifier string // the PKCE code verifier, sent with the code
	Return   string // the local path to go to once signed in
	Expires  time.Time
}

// StateStore keeps the pending sign-ins, by the SHA-256 of their state, and gives each back
// once. One over the hub's store lets the callback reach another process than the one that
// sent the browser to the provider; MemoryStates serves one process.
type StateStore interface {
	// Put records p under key.
	Put(ctx context.Context, key string, p Pending) error
	// Take removes the sign-in of key and returns it; ok is false when it was never recorded,
	// has been taken already or has expired.
	Take(ctx context.Context, key string) (p Pending, ok bool, err error)
}

// maxPending bounds MemoryStates, so that a flood of sign-ins started and never finished cannot
// exhaust memory; past it, once the expired ones are dropped, new ones are refused.
const maxPending = 100000

var errFull = errors.New("oidc: too many sign-ins pending")

// MemoryStates is a StateStore in this process's memory.
type MemoryStates struct {
	mu  sync.Mutex
	m   map[string]Pending
	now func() time.Time
}

// NewMemoryStates returns an empty MemoryStates.
func NewMemoryStates() *MemoryStates {
	return &MemoryStates{m: map[string]Pending{}, now: time.Now}
}

// Put records p under key.
func (s *MemoryStates) Put(_ context.Context, key string, p Pending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxPending {
		now := s.now()
		for k, v := range s.m {
			if !now.Before(v.Expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxPending {
			return errFull
		}
	}
	s.m[key] = p
	return nil
}

// Take removes and returns the sign-in of key if it is there and has not expired.
func (s *MemoryStates) Take(_ context.Context, key string) (Pending, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[key]
	delete(s.m, key)
	if !ok || !s.now().Before(p.Expires) {
		return Pending{}, false, nil
	}
	return p, true, nil
}

// Store keeps pending sign-ins for every process of the hub; the hub's stores implement it, and
// StoreStates makes a StateStore of it.
type Store interface {
	// PutOIDCState records p under key until p.Expires.
	PutOIDCState(ctx context.Context, key string, p Pending) error
	// TakeOIDCState removes the sign-in of key and returns it; ok is false when it was never
	// recorded, has been taken already, or expired at or before now. Of two callers taking one
	// key, one gets it.
	TakeOIDCState(ctx context.Context, key string, now time.Time) (p Pending, ok bool, err error)
	// DeleteStaleOIDC forgets the sign-ins expired at or before now and returns how many.
	DeleteStaleOIDC(ctx context.Context, now time.Time) (int64, error)
}

// StoreStates is a StateStore over s, with now as its clock (time.Now when nil).
func StoreStates(s Store, now func() time.Time) StateStore {
	if now == nil {
		now = time.Now
	}
	return storeStates{s, now}
}

type storeStates struct {
	s   Store
	now func() time.Time
}

func (st storeStates) Put(ctx context.Context, key string, p Pending) error {
	return st.s.PutOIDCState(ctx, key, p)
}

func (st storeStates) Take(ctx context.Context, key string) (Pending, bool, error) {
	return st.s.TakeOIDCState(ctx, key, st.now())
}
