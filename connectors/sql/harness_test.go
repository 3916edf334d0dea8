package sqlconn

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/store"
)

// testDB is one database the tests run against.
type testDB struct {
	driver string
	dsn    string
	db     *sql.DB
}

// databases returns the databases reachable on this machine: SQLite always, PostgreSQL and
// MariaDB when they answer (AISKAO_POSTGRES_URL, AISKAO_MYSQL_DSN). A missing server skips its
// part of the test, naming it, except when CI is set: then it fails.
func databases(t *testing.T) []testDB {
	t.Helper()
	out := []testDB{{driver: DriverSQLite, dsn: filepath.Join(t.TempDir(), "test.db")}}
	servers := []testDB{
		{driver: DriverPostgres, dsn: envOr("AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")},
		{driver: DriverMySQL, dsn: envOr("AISKAO_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test")},
	}
	for _, s := range servers {
		if err := ping(s); err != nil {
			msg := s.driver + " is not reachable (set AISKAO_POSTGRES_URL or AISKAO_MYSQL_DSN): " + err.Error()
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Log("skipping " + msg)
			continue
		}
		out = append(out, s)
	}
	for i := range out {
		db, err := open(Config{Driver: out[i].driver, DSN: out[i].dsn, MaxOpen: 4}, connectors.Env{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i].db = db
	}
	return out
}

func ping(d testDB) error {
	db, err := open(Config{Driver: d.driver, DSN: d.dsn, MaxOpen: 1}, connectors.Env{})
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// each runs f for every reachable database, as a subtest named after the driver.
func each(t *testing.T, f func(t *testing.T, d testDB)) {
	for _, d := range databases(t) {
		t.Run(d.driver, func(t *testing.T) { f(t, d) })
	}
}

// table returns a new table name and drops the table when the test ends.
func (d testDB) table(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, _ = d.db.Exec("DROP TABLE IF EXISTS " + dialect{d.driver}.quote(name))
	})
	return name
}

// blob is the type of a column of bytes, written as ddl takes it: MariaDB's BLOB, what ddl makes
// of BYTEA there, holds no more than 64 KiB.
func (d testDB) blob() string {
	if d.driver == DriverMySQL {
		return "LONGBLOB"
	}
	return "BYTEA"
}

// exec runs statements, failing the test on an error.
func (d testDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := d.db.Exec(s); err != nil {
			t.Fatalf("%s: %s: %v", d.driver, s, err)
		}
	}
}

// newStore is a hub store of the test's own.
func newStore(t *testing.T) store.Store { return connectortest.NewStore(t) }

// collector is an emit that keeps what it was given; fail makes it refuse.
type collector struct {
	mu   sync.Mutex
	msgs []*message.Message
	fail bool
}

func (c *collector) emit(_ context.Context, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return context.DeadlineExceeded
	}
	c.msgs = append(c.msgs, msgs...)
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *collector) all() []*message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*message.Message(nil), c.msgs...)
}

// runUntil runs src until want messages were collected (or the timeout), then stops it.
func runUntil(t *testing.T, src connectors.Source, c *collector, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, c.emit) }()
	deadline := time.Now().Add(20 * time.Second)
	for c.count() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // long enough to see one message too many
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := c.count(); n != want {
		t.Fatalf("collected %d messages; want %d", n, want)
	}
}

func mustSource(t *testing.T, c Config, st store.Store) connectors.Source {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	src, err := newSource(&c, connectors.Env{Name: "test-" + c.Driver, State: st, DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// testWriter shows a connector's log in the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func mustSink(t *testing.T, c Config) *sink {
	t.Helper()
	s, err := newSink(&c, connectors.Env{Name: "test-" + c.Driver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
