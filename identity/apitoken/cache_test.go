package apitoken

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// countingLookup is a store of one record that counts the lookups it answers.
type countingLookup struct {
	r     Record
	calls int
}

func (l *countingLookup) TokenByID(_ context.Context, id string) (Record, error) {
	l.calls++
	if id != l.r.ID {
		return Record{}, ErrNotFound
	}
	return l.r, nil
}

func TestCacheRemembersForTTL(t *testing.T) {
	tok, r, err := New("ingress", identity.Integrator, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := &countingLookup{r: r}
	now := time.Unix(1000, 0)
	c := &Cache{Lookup: store, TTL: time.Second, Now: func() time.Time { return now }}
	auth := Authenticator{Store: c}
	ctx := context.Background()
	for range 3 {
		if _, err := auth.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if store.calls != 1 {
		t.Errorf("three checks within the TTL asked the store %d times, want once", store.calls)
	}
	// Revoked in the store: still accepted until the remembered record expires, refused after.
	store.r.Revoked = now
	now = now.Add(999 * time.Millisecond)
	if _, err := auth.Authenticate(ctx, tok); err != nil {
		t.Errorf("within the TTL: %v, want the remembered record", err)
	}
	now = now.Add(time.Millisecond)
	if _, err := auth.Authenticate(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("after the TTL: %v, want ErrRevoked", err)
	}
	// Unknown ids are asked every time.
	other, _, _ := New("other", identity.Integrator, time.Now())
	before := store.calls
	for range 2 {
		if _, err := auth.Authenticate(ctx, other); !errors.Is(err, ErrUnknown) {
			t.Errorf("unknown token: %v, want ErrUnknown", err)
		}
	}
	if store.calls != before+2 {
		t.Errorf("unknown token asked the store %d times, want 2", store.calls-before)
	}
}

func TestCacheBounded(t *testing.T) {
	store := &countingLookup{}
	c := &Cache{Lookup: store, TTL: time.Hour}
	for range cacheLimit + 10 {
		_, r, _ := New("t", identity.Integrator, time.Now())
		store.r = r
		if _, err := c.TokenByID(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.m); n > cacheLimit {
		t.Errorf("cache holds %d records, want at most %d", n, cacheLimit)
	}
}
