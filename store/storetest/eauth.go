package storetest

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/eauth"
)

// RunEAuth runs the conformance tests of the eAuth sign-ins in flight (eauth.Store) against
// stores made by open, each new and empty; the caller closes them.
func RunEAuth(t *testing.T, open func(t *testing.T) eauth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s eauth.Store)
	}{
		{"RequestTakenOnce", testEAuthRequestTakenOnce},
		{"RequestExpires", testEAuthRequestExpires},
		{"AssertionOnce", testEAuthAssertionOnce},
		{"AssertionOnceConcurrently", testEAuthAssertionConcurrent},
		{"Stale", testEAuthStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testEAuthRequestTakenOnce(t *testing.T, s eauth.Store) {
	browser := bytes.Repeat([]byte{7}, 32)
	if err := s.PutEAuthRequest(ctx(t), "_req1", eauth.Issued{Level: eauth.LevelHigh, Expires: when.Add(10 * time.Minute), Browser: browser}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEAuthRequest(ctx(t), "_req2", eauth.Issued{Level: eauth.LevelLow, Expires: when.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	r, ok, err := s.TakeEAuthRequest(ctx(t), "_req1", when)
	if err != nil || !ok || r.Level != eauth.LevelHigh || !bytes.Equal(r.Browser, browser) || !r.Expires.Equal(when.Add(10*time.Minute)) {
		t.Fatalf("Take = %+v %v %v", r, ok, err)
	}
	if _, ok, err := s.TakeEAuthRequest(ctx(t), "_req1", when); ok || err != nil {
		t.Errorf("taken twice: %v %v", ok, err)
	}
	if r, ok, err := s.TakeEAuthRequest(ctx(t), "_req2", when); !ok || err != nil || r.Browser != nil || r.Level != eauth.LevelLow {
		t.Errorf("unbound request: %+v %v %v", r, ok, err)
	}
	if _, ok, err := s.TakeEAuthRequest(ctx(t), "_never", when); ok || err != nil {
		t.Errorf("never issued: %v %v", ok, err)
	}
}

func testEAuthRequestExpires(t *testing.T, s eauth.Store) {
	if err := s.PutEAuthRequest(ctx(t), "_old", eauth.Issued{Level: eauth.LevelLow, Expires: when}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.TakeEAuthRequest(ctx(t), "_old", when); ok || err != nil {
		t.Errorf("expired request taken: %v %v", ok, err)
	}
}

func testEAuthAssertionOnce(t *testing.T, s eauth.Store) {
	until := when.Add(5 * time.Minute)
	if first, err := s.FirstUseAssertion(ctx(t), "_a1", until, when); !first || err != nil {
		t.Fatalf("first use: %v %v", first, err)
	}
	if first, err := s.FirstUseAssertion(ctx(t), "_a1", until, when.Add(time.Minute)); first || err != nil {
		t.Errorf("second use accepted: %v %v", first, err)
	}
	// Once its time has passed the id may be recorded again (the assertion itself has expired).
	if first, err := s.FirstUseAssertion(ctx(t), "_a1", until.Add(time.Hour), until); !first || err != nil {
		t.Errorf("use after the record ran out: %v %v", first, err)
	}
	if first, err := s.FirstUseAssertion(ctx(t), "_a1", until.Add(time.Hour), until.Add(time.Minute)); first || err != nil {
		t.Errorf("the renewed record forgot: %v %v", first, err)
	}
}

// testEAuthAssertionConcurrent posts one assertion from many goroutines, as processes racing
// with one replayed response would: exactly one wins.
func testEAuthAssertionConcurrent(t *testing.T, s eauth.Store) {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.FirstUseAssertion(ctx(t), "_race", when.Add(time.Hour), when)
			if err != nil {
				t.Error(err)
			}
			if first {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d callers saw the first use, want 1", wins.Load())
	}
}

func testEAuthStale(t *testing.T, s eauth.Store) {
	for i, exp := range []time.Time{when.Add(-time.Minute), when.Add(time.Minute)} {
		id := []string{"_gone", "_kept"}[i]
		if err := s.PutEAuthRequest(ctx(t), id, eauth.Issued{Level: eauth.LevelLow, Expires: exp}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FirstUseAssertion(ctx(t), id, exp, when.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteStaleEAuth(ctx(t), when)
	if err != nil || n != 2 {
		t.Fatalf("DeleteStaleEAuth = %d %v, want 2", n, err)
	}
	if _, ok, _ := s.TakeEAuthRequest(ctx(t), "_kept", when); !ok {
		t.Error("an unexpired request was deleted")
	}
	if first, _ := s.FirstUseAssertion(ctx(t), "_kept", when.Add(time.Minute), when); first {
		t.Error("an unexpired assertion was forgotten")
	}
}
