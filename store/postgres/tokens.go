package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/store"
)

var _ apitoken.Store = (*Store)(nil)

// tokensTable names the tokens table in full, as the other queries do.
func (s *Store) tokensTable() string { return pgx.Identifier{s.cfg.Schema}.Sanitize() + ".tokens" }

// CreateToken stores r, or returns apitoken.ErrExists when an active token has its name.
func (s *Store) CreateToken(ctx context.Context, r apitoken.Record) error {
	if s.closed.Load() {
		return errClosed
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.tokensTable()+` (id, name, role, hash, created) VALUES ($1, $2, $3, $4, $5)`,
		r.ID, text(r.Name), text(string(r.Role)), r.Hash, r.Created)
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("postgres store: token %s: %w", r.Name, apitoken.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres store: create token %s: %w", r.Name, err)
	}
	return nil
}

// RevokeToken marks the active token of that name revoked, or returns apitoken.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string, at time.Time) error {
	if s.closed.Load() {
		return errClosed
	}
	tag, err := s.pool.Exec(ctx, `UPDATE `+s.tokensTable()+` SET revoked = $1 WHERE name = $2 AND revoked IS NULL`, at, text(name))
	if err != nil {
		return fmt.Errorf("postgres store: revoke token %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: token %s: %w", name, apitoken.ErrNotFound)
	}
	return nil
}

// ListTokens returns every token's record without its hash, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]apitoken.Record, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, created, revoked FROM `+s.tokensTable()+` ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres store: list tokens: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(row store.Row) (apitoken.Record, error) { return scanToken(row, false) })
	if err != nil {
		return nil, fmt.Errorf("postgres store: list tokens: %w", err)
	}
	return out, nil
}

// TokenByID returns the record of the token with that id, or apitoken.ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	if s.closed.Load() {
		return apitoken.Record{}, errClosed
	}
	r, err := scanToken(s.pool.QueryRow(ctx, `SELECT id, name, role, hash, created, revoked FROM `+s.tokensTable()+` WHERE id = $1`,
		strings.ToValidUTF8(id, "\uFFFD")), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return apitoken.Record{}, apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Record{}, fmt.Errorf("postgres store: token %s: %w", id, err)
	}
	return r, nil
}

// scanToken reads a token's id, name, role, hash when withHash, created and revoked (NULL while
// active).
func scanToken(row store.Row, withHash bool) (apitoken.Record, error) {
	var (
		r       apitoken.Record
		role    string
		revoked *time.Time
	)
	dest := []any{&r.ID, &r.Name, &role}
	if withHash {
		dest = append(dest, &r.Hash)
	}
	if err := row.Scan(append(dest, &r.Created, &revoked)...); err != nil {
		return r, err
	}
	r.Role, r.Created = identity.Role(role), r.Created.UTC()
	if revoked != nil {
		r.Revoked = revoked.UTC()
	}
	return r, nil
}
