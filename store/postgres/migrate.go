package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/storesql"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded steps in version order.
func migrations() ([]migration.Step, error) { return migration.Load(migrationFiles, "migrations") }

// lockKey is the advisory lock that serialises migrations of one schema. Advisory locks are
// shared by the whole database, so the key is derived from the schema name: hubs migrating
// different schemas of one database do not wait for each other (unless their hashes collide,
// which only makes one wait).
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("aiskao store migrations\x00" + schema))
	return int64(h.Sum64())
}

// migrate applies every embedded step not yet recorded, in version order, in one transaction that first takes
// the schema's advisory lock: processes starting at once wait for each other, and the second
// finds the work done. PostgreSQL's DDL is transactional, so a crash leaves the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(schema)); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	ident, d := pgx.Identifier{schema}.Sanitize(), newDialect(schema)
	// The migration files name their tables without a schema; search_path puts them in ours.
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+ident+`;
		SET LOCAL search_path TO `+ident+`;
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
		return fmt.Errorf("migrate: create schema %s: %w", schema, err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM `+ident+`.schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	done := map[int]bool{}
	current := 0
	for _, v := range applied {
		done[int(v)] = true
		current = max(current, int(v))
	}
	if latest := migration.Latest(steps); current > latest {
		return fmt.Errorf("schema %s is at version %d, newer than this program knows (%d): run a newer aiskao or use another schema", schema, current, latest)
	}
	for _, m := range steps {
		if done[m.Version] {
			continue
		}
		if err := storesql.Apply(ctx, pgDB{tx}, d, m, `INSERT INTO `+ident+`.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
