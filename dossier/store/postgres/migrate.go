package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded steps in version order.
func migrations() ([]migration.Step, error) { return migration.Load(migrationFiles, "migrations") }

// lockKey returns an advisory lock key of the schema for what, so that stores of different
// schemas in one database do not wait for each other.
func lockKey(what, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("aiskao dossier " + what + "\x00" + schema))
	return int64(h.Sum64())
}

// migrate applies every embedded step not yet recorded in dossier_migrations, in one
// transaction that first takes the schema's migration lock: processes starting at once wait
// for each other and the second finds the work done; a crash leaves the schema as it was.
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
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("migrations", schema)); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	ident := pgx.Identifier{schema}.Sanitize()
	// The migration files name their tables without a schema; search_path puts them in ours.
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+ident+`;
		SET LOCAL search_path TO `+ident+`;
		CREATE TABLE IF NOT EXISTS dossier_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
		return fmt.Errorf("migrate: create schema %s: %w", schema, err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM `+ident+`.dossier_migrations`)
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
		return fmt.Errorf("the dossier tables of schema %s are at version %d, newer than this program knows (%d): run a newer aiskao or use another schema", schema, current, latest)
	}
	for _, m := range steps {
		if done[m.Version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+ident+`.dossier_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migration %s: record: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
