package sqlconn

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/spec"
)

// The outbox source passes the shared suite: a sender's input is a row put into the outbox, and
// the source has acknowledged it once the row is gone.
func TestOutboxSourceConformance(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		connectortest.RunSource(t, connectortest.SourceCase{
			Timeout: 20 * time.Second,
			New: func(t *testing.T) connectortest.SourceFixture {
				tbl := d.table(t, "suite")
				d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, body "+d.blob()+" NOT NULL, claim VARCHAR(64)"))
				q := dialect{d.driver}.quote(tbl)
				var ins string
				switch d.driver {
				case DriverPostgres:
					ins = "INSERT INTO " + q + " (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING"
				case DriverMySQL:
					ins = "INSERT IGNORE INTO " + q + " (id, body) VALUES (?, ?)"
				default:
					ins = "INSERT OR IGNORE INTO " + q + " (id, body) VALUES (?, ?)"
				}
				cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", PayloadCol: "body",
					PollInterval: spec.Duration(10 * time.Millisecond)}
				return connectortest.SourceFixture{
					Source: mustSource(t, cfg, nil),
					Put: func(ctx context.Context, p []byte) error {
						// The row's key comes from the payload, so that a retried Put adds no second row.
						sum := sha256.Sum256(p)
						id := int64(binary.BigEndian.Uint64(sum[:8]) >> 2)
						if _, err := d.db.ExecContext(ctx, ins, id, p); err != nil {
							return err
						}
						for {
							var n int
							if err := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q+" WHERE id = "+dialect{d.driver}.placeholder(1), id).Scan(&n); err != nil {
								return err
							}
							if n == 0 {
								return nil
							}
							select {
							case <-ctx.Done():
								return ctx.Err()
							case <-time.After(5 * time.Millisecond):
							}
						}
					},
				}
			},
		})
	})
}
