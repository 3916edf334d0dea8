// Package apitokentest is the conformance test every apitoken.Store passes.
package apitokentest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
)

// Run tests the store that open makes; open returns a new, empty store each call.
func Run(t *testing.T, open func(t *testing.T) apitoken.Store) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	t.Run("create, find, authenticate", func(t *testing.T) {
		s := open(t)
		tok, rec, err := apitoken.New("ops-alice", identity.Operator, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, rec); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		got, err := s.TokenByID(ctx, rec.ID)
		if err != nil {
			t.Fatalf("TokenByID: %v", err)
		}
		if got.Name != "ops-alice" || got.Role != identity.Operator || !got.Created.Equal(now) || !got.Active() || string(got.Hash) != string(rec.Hash) {
			t.Errorf("TokenByID = %+v, want %+v", got, rec)
		}
		p, err := apitoken.Authenticator{Store: s}.Authenticate(ctx, tok)
		if err != nil || p.Name != "ops-alice" || !p.Can(identity.DeadLettersReplay) {
			t.Errorf("Authenticate = %+v, %v", p, err)
		}
		if _, err := s.TokenByID(ctx, "0000000000000000"); !errors.Is(err, apitoken.ErrNotFound) {
			t.Errorf("TokenByID(unknown) error %v, want ErrNotFound", err)
		}
	})

	t.Run("names unique among active tokens", func(t *testing.T) {
		s := open(t)
		_, a, _ := apitoken.New("ci", identity.Integrator, now)
		_, b, _ := apitoken.New("ci", identity.Integrator, now.Add(time.Second))
		if err := s.CreateToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, b); !errors.Is(err, apitoken.ErrExists) {
			t.Fatalf("second active token of one name: error %v, want ErrExists", err)
		}
		if err := s.RevokeToken(ctx, "ci", now.Add(time.Minute)); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		if err := s.RevokeToken(ctx, "ci", now.Add(time.Minute)); !errors.Is(err, apitoken.ErrNotFound) {
			t.Errorf("revoking twice: error %v, want ErrNotFound", err)
		}
		if err := s.CreateToken(ctx, b); err != nil {
			t.Fatalf("new token of a revoked name: %v", err)
		}
		list, err := s.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != a.ID || list[0].Active() || !list[0].Revoked.Equal(now.Add(time.Minute)) || list[1].ID != b.ID || !list[1].Active() {
			t.Fatalf("ListTokens = %+v", list)
		}
		for _, r := range list {
			if len(r.Hash) != 0 {
				t.Errorf("ListTokens shows the hash of %s", r.Name)
			}
		}
	})

	t.Run("revoked token refused", func(t *testing.T) {
		s := open(t)
		tok, rec, _ := apitoken.New("old", identity.Auditor, now)
		if err := s.CreateToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, "old", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := (apitoken.Authenticator{Store: s}).Authenticate(ctx, tok); !errors.Is(err, apitoken.ErrRevoked) {
			t.Errorf("Authenticate(revoked) error %v, want ErrRevoked", err)
		}
	})
}
