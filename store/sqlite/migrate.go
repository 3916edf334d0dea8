package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/storesql"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded steps in version order.
func migrations() ([]migration.Step, error) { return migration.Load(migrationFiles, "migrations") }

// migrate applies every embedded step not yet recorded, in version order. Each step runs in its
// own immediate transaction together with its row in store_migrations, so a crash leaves the
// schema at a known version, and two processes opening one file at once apply each step once.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS store_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create store_migrations: %w", err)
	}
	for _, m := range steps {
		if err := apply(ctx, db, m, migration.Latest(steps)); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration.Step, latest int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	var current, done int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0), count(CASE WHEN version = ? THEN 1 END) FROM store_migrations`,
		m.Version).Scan(&current, &done); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("the database's store schema is at version %d, newer than this program knows (%d): run a newer aiskao or use another file", current, latest)
	}
	if done > 0 {
		return nil
	}
	if err := storesql.Apply(ctx, sqlDB{q: tx}, dialect, m, `INSERT INTO store_migrations (version, name, applied) VALUES (?, ?, ?)`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}
