package postgres

import (
	"context"
	"embed"
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

// migrate applies every embedded step not yet recorded in schema_migrations, under the schema's
// advisory lock (migration.Postgres); the step that chains the journal also chains the entries
// journaled before it.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	d := newDialect(schema)
	return migration.Postgres(ctx, pool, schema, "schema_migrations", "schema "+schema, lockKey(schema), steps,
		func(ctx context.Context, tx pgx.Tx, m migration.Step) error {
			if m.Version != storesql.ChainVersion {
				return nil
			}
			return storesql.ChainExisting(ctx, pgDB{tx}, d.Q)
		})
}
