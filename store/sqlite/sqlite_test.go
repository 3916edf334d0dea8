package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/storetest"
)

func open(t testing.TB, cfg Config, dataDir string) *Store {
	t.Helper()
	s, err := New(cfg, store.Env{DataDir: dataDir})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// openFile opens the database file in dir beside the store, as the embedded transport does, until
// the test ends.
func openFile(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(dir, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sqlitedb.Release(db) })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, Config{Retention: keepAll}, t.TempDir()) })
}

func TestSQL(t *testing.T) {
	storetest.RunSQL(t, storetest.SQLKit{
		Place: func(t testing.TB) string { return t.TempDir() },
		// The file named in full: the data folder given is not used.
		Open: func(t testing.TB, dir string, o storetest.Options) storetest.SQLStore {
			return open(t, Config{File: filepath.Join(dir, "aiskao.db"), MarkBatch: o.MarkBatch,
				SweepInterval: spec.Duration(o.SweepInterval)}, "/elsewhere-unused")
		},
		Keys: func(t testing.TB, dir string) int {
			db := openFile(t, dir)
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM store_keys`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	})
}

func TestRegistered(t *testing.T) {
	f := storetest.Registered[Config](t, "sqlite")
	dir := t.TempDir()
	s, err := f.New(&Config{File: "sub/hub.db"}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatalf("factory New: %v", err)
	}
	defer s.Close()
	if got, want := s.(*Store).Path(), filepath.Join(dir, "sub", "hub.db"); got != want {
		t.Errorf("relative file opened at %s, want %s inside the data folder", got, want)
	}
}

// TestSharesDatabase opens the file the way the embedded transport does, with its own tables,
// while the store uses it: neither disturbs the other, and the store's Close leaves it usable.
func TestSharesDatabase(t *testing.T) {
	dir := t.TempDir()
	db := openFile(t, dir)
	if _, err := db.Exec(`CREATE TABLE transport_messages (id INTEGER PRIMARY KEY, payload BLOB)`); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{}, dir)
	ctx := context.Background()
	if err := s.Mark(ctx, "route:a", "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO transport_messages (payload) VALUES (x'00ff')`); err != nil {
		t.Fatalf("transport table unusable beside the store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM store_keys`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database unusable for the transport after the store closed: %d keys, %v", n, err)
	}
}

func TestMigrationsRecorded(t *testing.T) {
	dir := t.TempDir()
	for range 2 { // the second open finds the schema in place and applies nothing
		s := open(t, Config{}, dir)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := openFile(t, dir)
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, top int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM store_migrations`).Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != len(steps) || top != migration.Latest(steps) {
		t.Fatalf("store_migrations has %d rows up to version %d, want %d up to %d", n, top, len(steps), migration.Latest(steps))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, Config{}, dir).Close()
	db := openFile(t, dir)
	if _, err := db.Exec(`INSERT INTO store_migrations (version, name, applied) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{}, store.Env{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "version 999, newer than this program knows") {
		t.Fatalf("New on a newer schema: error %v, want one naming the version", err)
	}
}

func TestExpirySaturates(t *testing.T) {
	now := time.Now()
	if got := expiry(now, time.Duration(1<<63-1)); got != 1<<63-1 {
		t.Errorf("expiry of the longest ttl = %d, want the largest time", got)
	}
	if got, want := expiry(now, -time.Second), now.UnixNano()-int64(time.Second); got != want {
		t.Errorf("expiry of a past ttl = %d, want %d", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	valid, err := spec.Options[Config](Config{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckValidate(t, valid, "", []storetest.ConfigCase[Config]{
		{"defaults", func(*Config) {}, "", ""},
		{"folder", func(c *Config) { c.File = "data/" }, "file", `"data/" names a folder; give a file, such as data/aiskao.db`},
		{"sweep too often", func(c *Config) { c.SweepInterval = spec.Duration(100 * time.Millisecond) }, "sweep_interval", "must be at least 1s, got 100ms"},
		{"batch negative", func(c *Config) { c.MarkBatch = -1 }, "mark_batch", "must be at least 1, got -1"},
	})
}

func TestConfigDefaults(t *testing.T) {
	c, err := spec.Options[Config](Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{SweepInterval: spec.Duration(time.Minute), MarkBatch: 512,
		Retention: store.Retention{DeadLetters: "90d", Interval: spec.Duration(time.Hour)}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	c, _ = spec.Options[Config](Config{File: "x.db", MarkBatch: 7})
	if c.File != "x.db" || c.MarkBatch != 7 {
		t.Errorf("defaults replaced set fields: %+v", c)
	}
}

// keepAll turns pruning off, so that the suite's dead letters of 2024 stay.
var keepAll = store.Retention{DeadLetters: "0"}

func TestChainConformance(t *testing.T) {
	storetest.RunChain(t, func(t *testing.T) store.Store { return open(t, Config{Retention: keepAll}, t.TempDir()) }, tamper{})
}

// tamper edits the journal in the database file directly.
type tamper struct{}

func (tamper) exec(t *testing.T, s store.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.(*Store).db.Exec(query, args...); err != nil {
		t.Fatalf("tamper: %s: %v", query, err)
	}
}

func (x tamper) SetResult(t *testing.T, s store.Store, seq int64, result string) {
	x.exec(t, s, `UPDATE store_journal SET result = ? WHERE seq = ?`, result, seq)
}

func (x tamper) Delete(t *testing.T, s store.Store, seq int64) {
	x.exec(t, s, `DELETE FROM store_journal WHERE seq = ?`, seq)
}

func (x tamper) Swap(t *testing.T, s store.Store, a, b int64) {
	x.exec(t, s, `UPDATE store_journal SET seq = -1 WHERE seq = ?`, a)
	x.exec(t, s, `UPDATE store_journal SET seq = ? WHERE seq = ?`, a, b)
	x.exec(t, s, `UPDATE store_journal SET seq = ? WHERE seq = -1`, b)
}

func (x tamper) Redact(t *testing.T, s store.Store, seq int64) {
	x.exec(t, s, `UPDATE store_journal SET actor = '', redacted = ? WHERE seq = ?`, time.Now().UnixNano(), seq)
}
