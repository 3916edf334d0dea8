package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/store"
)

var _ apitoken.Store = (*Store)(nil)

// CreateToken stores r, or returns apitoken.ErrExists when an active token has its name.
func (s *Store) CreateToken(ctx context.Context, r apitoken.Record) error {
	if s.closed.Load() {
		return errClosed
	}
	_, err := sqlitedb.Exec(ctx, s.db, `INSERT INTO store_tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Name, string(r.Role), r.Hash, r.Created.UnixNano())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fmt.Errorf("sqlite store: token %s: %w", r.Name, apitoken.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create token %s: %w", r.Name, err)
	}
	return nil
}

// RevokeToken marks the active token of that name revoked, or returns apitoken.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string, at time.Time) error {
	if s.closed.Load() {
		return errClosed
	}
	at = at.UTC()
	if at.UnixNano() <= 0 {
		at = time.Unix(0, 1)
	}
	res, err := sqlitedb.Exec(ctx, s.db, `UPDATE store_tokens SET revoked = ? WHERE name = ? AND revoked = 0`, at.UnixNano(), name)
	if err != nil {
		return fmt.Errorf("sqlite store: revoke token %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("sqlite store: token %s: %w", name, apitoken.ErrNotFound)
	}
	return nil
}

// ListTokens returns every token's record without its hash, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]apitoken.Record, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role, created, revoked FROM store_tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list tokens: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(row store.Row) (apitoken.Record, error) { return scanToken(row, false) })
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list tokens: %w", err)
	}
	return out, nil
}

// TokenByID returns the record of the token with that id, or apitoken.ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	if s.closed.Load() {
		return apitoken.Record{}, errClosed
	}
	r, err := scanToken(s.db.QueryRowContext(ctx, `SELECT id, name, role, hash, created, revoked FROM store_tokens WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return apitoken.Record{}, apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Record{}, fmt.Errorf("sqlite store: token %s: %w", id, err)
	}
	return r, nil
}

// scanToken reads a token's id, name, role, hash when withHash, created and revoked, kept as
// Unix nanoseconds.
func scanToken(row store.Row, withHash bool) (apitoken.Record, error) {
	var (
		r                apitoken.Record
		role             string
		created, revoked int64
	)
	dest := []any{&r.ID, &r.Name, &role}
	if withHash {
		dest = append(dest, &r.Hash)
	}
	if err := row.Scan(append(dest, &created, &revoked)...); err != nil {
		return r, err
	}
	r.Role, r.Created, r.Revoked = identity.Role(role), time.Unix(0, created).UTC(), nanoTime(revoked)
	return r, nil
}

// nanoTime reads a column of Unix nanoseconds where 0 means never.
func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
