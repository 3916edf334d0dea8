package sqlite

import (
	"context"
	"database/sql"
	"embed"

	"github.com/aiskao/aiskao/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded steps in version order.
func migrations() ([]migration.Step, error) { return migration.Load(migrationFiles, "migrations") }

// migrate applies every embedded step not yet recorded in dossier_migrations, each in its own
// transaction with its record (migration.SQLite). The hub's store keeps its own record.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	return migration.SQLite(ctx, db, "dossier_migrations", "dossier", steps, nil)
}
