package migration

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SQLite applies to db every step not yet recorded in table (version, name, applied), in version
// order. Each step runs in its own transaction with its record (the embedded database begins
// them immediate), so a crash leaves the schema at a known version and two processes opening
// one file apply each step once. after, when not nil, runs in the step's transaction after its
// SQL. what names the schema in errors ("store", "dossier").
func SQLite(ctx context.Context, db *sql.DB, table, what string, steps []Step, after func(context.Context, *sql.Tx, Step) error) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version INTEGER NOT NULL PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create %s: %w", table, err)
	}
	latest := Latest(steps)
	for _, m := range steps {
		if err := sqliteStep(ctx, db, table, what, m, latest, after); err != nil {
			return err
		}
	}
	return nil
}

func sqliteStep(ctx context.Context, db *sql.DB, table, what string, m Step, latest int, after func(context.Context, *sql.Tx, Step) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	var current, done int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0), count(CASE WHEN version = ? THEN 1 END) FROM `+table,
		m.Version).Scan(&current, &done); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("the database's %s schema is at version %d, newer than this program knows (%d): run a newer aiskao or use another file", what, current, latest)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if after != nil {
		if err := after(ctx, tx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name, applied) VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}

// Postgres applies every step not yet recorded in table (version, name, applied_at) of schema,
// in version order, in one transaction that first takes the advisory lock lockKey: processes
// starting at once wait for each other, and the second finds the work done. PostgreSQL's DDL is
// transactional, so a crash leaves the schema as it was. The steps name their tables without a
// schema; the search path puts them in schema, which is created when missing. after, when not
// nil, runs in the transaction after a step's SQL. what names the tables in errors ("schema
// aiskao").
func Postgres(ctx context.Context, pool *pgxpool.Pool, schema, table, what string, lockKey int64, steps []Step, after func(context.Context, pgx.Tx, Step) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+ident+`;
		SET LOCAL search_path TO `+ident+`;
		CREATE TABLE IF NOT EXISTS `+table+` (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
		return fmt.Errorf("migrate: create schema %s: %w", schema, err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM `+ident+`.`+table)
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
	if latest := Latest(steps); current > latest {
		return fmt.Errorf("%s is at version %d, newer than this program knows (%d): run a newer aiskao or use another schema", what, current, latest)
	}
	for _, m := range steps {
		if done[m.Version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if after != nil {
			if err := after(ctx, tx, m); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+ident+`.`+table+` (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, time.Now()); err != nil {
			return fmt.Errorf("migration %s: record: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
