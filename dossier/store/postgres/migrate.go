package postgres

import (
	"context"
	"embed"
	"hash/fnv"

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

// migrate applies every embedded step not yet recorded in dossier_migrations, under the
// schema's migration lock (migration.Postgres).
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	return migration.Postgres(ctx, pool, schema, "dossier_migrations", "the dossier part of schema "+schema, lockKey("migrations", schema), steps, nil)
}
