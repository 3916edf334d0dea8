package storesql

import (
	"context"
	"errors"
	"time"

	"github.com/aiskao/aiskao/identity/oidc"
)

// The single sign-ons in flight, written once for both stores like the eAuth sign-ins.

var _ oidc.Store = (*Base)(nil)

// PutOIDCState records the pending sign-in p under key until p.Expires.
func (b *Base) PutOIDCState(ctx context.Context, key string, p oidc.Pending) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if _, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}oidc_states (key, binding, nonce, verifier, return_path, expires) VALUES (?, ?, ?, ?, ?, ?)`),
		b.D.text(key), p.Binding, b.D.text(p.Nonce), b.D.text(p.Verifier), b.D.text(p.Return), b.D.Time(p.Expires.UTC())); err != nil {
		return b.D.errorf("oidc state: %w", err)
	}
	return nil
}

// TakeOIDCState deletes the sign-in of key and returns it when it had not expired at now. The
// delete is the claim: of two processes taking one key, one gets the row.
func (b *Base) TakeOIDCState(ctx context.Context, key string, now time.Time) (oidc.Pending, bool, error) {
	if b.closed.Load() {
		return oidc.Pending{}, false, b.D.Closed
	}
	var (
		p       oidc.Pending
		expires Time
	)
	err := b.DB.QueryRow(ctx, b.sql(`DELETE FROM {p}oidc_states WHERE key = ? RETURNING binding, nonce, verifier, return_path, expires`), b.D.text(key)).
		Scan(&p.Binding, &p.Nonce, &p.Verifier, &p.Return, &expires)
	if errors.Is(err, b.D.NoRows) {
		return oidc.Pending{}, false, nil
	}
	if err != nil {
		return oidc.Pending{}, false, b.D.errorf("oidc state: %w", err)
	}
	p.Expires = expires.T
	if !now.Before(p.Expires) {
		return oidc.Pending{}, false, nil
	}
	return p, true, nil
}

// DeleteStaleOIDC forgets the sign-ins expired at or before now.
func (b *Base) DeleteStaleOIDC(ctx context.Context, now time.Time) (int64, error) {
	if b.closed.Load() {
		return 0, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}oidc_states WHERE expires <= ?`), b.D.Time(now.UTC()))
	if err != nil {
		return 0, b.D.errorf("delete stale oidc states: %w", err)
	}
	return n, nil
}
