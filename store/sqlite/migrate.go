package sqlite

import (
	"context"
	"database/sql"
	"embed"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/storesql"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded steps in version order.
func migrations() ([]migration.Step, error) { return migration.Load(migrationFiles, "migrations") }

// migrate applies every embedded step not yet recorded in store_migrations, each in its own
// transaction with its record (migration.SQLite); the step that chains the journal also chains
// the entries journaled before it.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	return migration.SQLite(ctx, db, "store_migrations", "store", steps, func(ctx context.Context, tx *sql.Tx, m migration.Step) error {
		if m.Version != storesql.ChainVersion {
			return nil
		}
		return storesql.ChainExisting(ctx, sqlDB{q: tx}, dialect.Q)
	})
}
