package storetest

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity/oidc"
)

// RunOIDC runs the conformance tests of the single sign-ons in flight (oidc.Store) against
// stores made by open, each new and empty; the caller closes them.
func RunOIDC(t *testing.T, open func(t *testing.T) oidc.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s oidc.Store)
	}{
		{"TakenOnce", testOIDCTakenOnce},
		{"Expires", testOIDCExpires},
		{"TakenOnceConcurrently", testOIDCConcurrent},
		{"Stale", testOIDCStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func pending(expires time.Time) oidc.Pending {
	return oidc.Pending{Binding: bytes.Repeat([]byte{9}, 32), Nonce: "n-1", Verifier: "v-1", Return: "/admin/?page=2", Expires: expires}
}

func testOIDCTakenOnce(t *testing.T, s oidc.Store) {
	want := pending(when.Add(10 * time.Minute))
	if err := s.PutOIDCState(ctx(t), "k1", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.TakeOIDCState(ctx(t), "k1", when)
	if err != nil || !ok || !bytes.Equal(got.Binding, want.Binding) || got.Nonce != want.Nonce || got.Verifier != want.Verifier ||
		got.Return != want.Return || !got.Expires.Equal(want.Expires) {
		t.Fatalf("Take = %+v %v %v, want %+v", got, ok, err, want)
	}
	if _, ok, err := s.TakeOIDCState(ctx(t), "k1", when); ok || err != nil {
		t.Errorf("taken twice: %v %v", ok, err)
	}
	if _, ok, err := s.TakeOIDCState(ctx(t), "never", when); ok || err != nil {
		t.Errorf("never put: %v %v", ok, err)
	}
}

func testOIDCExpires(t *testing.T, s oidc.Store) {
	if err := s.PutOIDCState(ctx(t), "old", pending(when)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.TakeOIDCState(ctx(t), "old", when); ok || err != nil {
		t.Errorf("expired sign-in taken: %v %v", ok, err)
	}
}

// Eight processes taking one state: one gets it.
func testOIDCConcurrent(t *testing.T, s oidc.Store) {
	if err := s.PutOIDCState(ctx(t), "race", pending(when.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.TakeOIDCState(ctx(t), "race", when)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d takers got the sign-in, want 1", n)
	}
}

func testOIDCStale(t *testing.T, s oidc.Store) {
	for i, exp := range []time.Time{when.Add(-time.Minute), when, when.Add(time.Minute)} {
		if err := s.PutOIDCState(ctx(t), string(rune('a'+i)), pending(exp)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteStaleOIDC(ctx(t), when); err != nil || n != 2 {
		t.Errorf("DeleteStaleOIDC = %d, %v; want 2", n, err)
	}
	if _, ok, err := s.TakeOIDCState(ctx(t), "c", when); !ok || err != nil {
		t.Errorf("the sign-in still running was deleted: %v %v", ok, err)
	}
}
