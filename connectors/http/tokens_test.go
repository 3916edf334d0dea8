package httpconn

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity/apitoken"
)

// fakeTokens answers from records, or fails with down, or hangs until its context ends.
type fakeTokens struct {
	records map[string]apitoken.Record
	down    error
	hang    bool
}

func (f *fakeTokens) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	if f.hang {
		<-ctx.Done()
		return apitoken.Record{}, ctx.Err()
	}
	if f.down != nil {
		return apitoken.Record{}, f.down
	}
	r, ok := f.records[id]
	if !ok {
		return r, apitoken.ErrNotFound
	}
	return r, nil
}

// TestSteadyTokens: while the store cannot be read, a token read within tokenStaleFor is still
// known; one never read, one the store said was unknown, and one read too long ago are refused;
// a read that hangs ends after tokenReadTimeout.
func TestSteadyTokens(t *testing.T) {
	f := &fakeTokens{records: map[string]apitoken.Record{"a": {ID: "a", Name: "alpha"}, "b": {ID: "b", Name: "beta"}}}
	s := newSteadyTokens(f, slog.New(slog.DiscardHandler))
	clock := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if _, err := s.TokenByID(ctx, id); err != nil {
			t.Fatalf("TokenByID(%s) with the store up: %v", id, err)
		}
	}
	delete(f.records, "b") // revoked and deleted: the store says unknown
	if _, err := s.TokenByID(ctx, "b"); !errors.Is(err, apitoken.ErrNotFound) {
		t.Fatalf("TokenByID(b) after the store forgot it: %v, want ErrNotFound", err)
	}

	f.down = errors.New("connection refused")
	clock = clock.Add(tokenStaleFor - time.Second)
	cases := []struct {
		id   string
		want error // nil: the record read before
	}{
		{"a", nil},
		{"b", f.down}, // the store said unknown: nothing remembered
		{"c", f.down}, // never read
	}
	for _, c := range cases {
		r, err := s.TokenByID(ctx, c.id)
		switch {
		case c.want == nil && (err != nil || r.Name != "alpha"):
			t.Errorf("TokenByID(%s) while the store is down: %+v, %v; want the record read before", c.id, r, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("TokenByID(%s) while the store is down: %+v, %v; want %v", c.id, r, err, c.want)
		}
	}
	clock = clock.Add(2 * time.Second)
	if _, err := s.TokenByID(ctx, "a"); err == nil {
		t.Error("a record read longer than tokenStaleFor ago still serves")
	}

	f.down, f.hang = nil, true
	start := time.Now()
	if _, err := s.TokenByID(ctx, "a"); err == nil {
		t.Error("a read that hangs succeeded")
	}
	if d := time.Since(start); d > tokenReadTimeout+500*time.Millisecond {
		t.Errorf("a read that hangs took %v, want about %v", d, tokenReadTimeout)
	}
}

// TestSteadyTokensOneTriesAtATime: while the store hangs, one request waits for it and the others
// take the record read before at once.
func TestSteadyTokensOneTriesAtATime(t *testing.T) {
	f := &fakeTokens{records: map[string]apitoken.Record{"a": {ID: "a", Name: "alpha"}}}
	s := newSteadyTokens(f, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := s.TokenByID(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	f.down = errors.New("timeout")
	if _, err := s.TokenByID(ctx, "a"); err != nil { // notes the failure
		t.Fatal(err)
	}
	f.down, f.hang = nil, true
	done := make(chan struct{})
	go func() { _, _ = s.TokenByID(ctx, "a"); close(done) }() // the one that tries, and waits
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	r, err := s.TokenByID(ctx, "a")
	if err != nil || r.Name != "alpha" || time.Since(start) > 100*time.Millisecond {
		t.Errorf("a second request while one tries: %+v, %v after %v; want the record read before at once", r, err, time.Since(start))
	}
	<-done
}
