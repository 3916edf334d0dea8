package storesql

import (
	"context"
	"errors"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/store"
)

var _ apitoken.Store = (*Base)(nil)

// CreateToken stores r, or returns apitoken.ErrExists when an active token has its name.
func (b *Base) CreateToken(ctx context.Context, r apitoken.Record) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	_, err := b.DB.Exec(ctx, b.D.Q.CreateToken, r.ID, b.D.text(r.Name), b.D.text(string(r.Role)), r.Hash, b.D.Time(r.Created))
	if err != nil && b.D.Unique(err) {
		return b.D.errorf("token %s: %w", r.Name, apitoken.ErrExists)
	}
	if err != nil {
		return b.D.errorf("create token %s: %w", r.Name, err)
	}
	return nil
}

// RevokeToken marks the active token of that name revoked, or returns apitoken.ErrNotFound.
func (b *Base) RevokeToken(ctx context.Context, name string, at time.Time) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	// A store may keep "never revoked" as the time 0: a revocation is at least 1ns after it.
	if at.UnixNano() <= 0 {
		at = time.Unix(0, 1)
	}
	n, err := b.DB.Exec(ctx, b.D.Q.RevokeToken, b.D.Time(at.UTC()), b.D.text(name))
	if err != nil {
		return b.D.errorf("revoke token %s: %w", name, err)
	}
	if n == 0 {
		return b.D.errorf("token %s: %w", name, apitoken.ErrNotFound)
	}
	return nil
}

// ListTokens returns every token's record without its hash, oldest first.
func (b *Base) ListTokens(ctx context.Context) ([]apitoken.Record, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	out, err := queryAll(ctx, b.DB, b.D.Q.ListTokens, nil, func(row store.Row) (apitoken.Record, error) { return scanToken(row, false) })
	if err != nil {
		return nil, b.D.errorf("list tokens: %w", err)
	}
	return out, nil
}

// TokenByID returns the record of the token with that id, or apitoken.ErrNotFound.
func (b *Base) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	if b.closed.Load() {
		return apitoken.Record{}, b.D.Closed
	}
	r, err := scanToken(b.DB.QueryRow(ctx, b.D.Q.TokenByID, b.D.text(id)), true)
	if errors.Is(err, b.D.NoRows) {
		return apitoken.Record{}, apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Record{}, b.D.errorf("token %s: %w", id, err)
	}
	return r, nil
}

// scanToken reads a token's id, name, role, hash when withHash, created and revoked (NULL while
// active).
func scanToken(row store.Row, withHash bool) (apitoken.Record, error) {
	var (
		r                apitoken.Record
		role             string
		created, revoked Time
	)
	dest := []any{&r.ID, &r.Name, &role}
	if withHash {
		dest = append(dest, &r.Hash)
	}
	if err := row.Scan(append(dest, &created, &revoked)...); err != nil {
		return r, err
	}
	r.Role, r.Created = identity.Role(role), created.T
	if revoked.Valid {
		r.Revoked = revoked.T
	}
	return r, nil
}
