package postgres

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, testConfig(t)) })
}

func TestSQL(t *testing.T) {
	storetest.RunSQL(t, storetest.SQLKit{
		Place: func(t testing.TB) string { return testConfig(t).Schema },
		Open: func(t testing.TB, schema string, o storetest.Options) storetest.SQLStore {
			cfg := schemaConfig(t, schema)
			cfg.MarkBatch, cfg.SweepInterval = o.MarkBatch, spec.Duration(o.SweepInterval)
			return open(t, cfg)
		},
		Keys: func(t testing.TB, schema string) int {
			return queryIntOnce(t, `SELECT count(*) FROM `+pgx.Identifier{schema, "keys"}.Sanitize())
		},
	})
}

func TestRegistered(t *testing.T) {
	f := storetest.Registered[Config](t, "postgres")
	if _, err := f.New(&Config{URL: "mysql://db"}, store.Env{}); err == nil || !strings.Contains(err.Error(), "url: scheme") {
		t.Errorf("factory New with an invalid configuration: error %v, want the url named", err)
	}
	cfg := testConfig(t)
	s, err := f.New(&cfg, store.Env{})
	if err != nil {
		t.Fatalf("factory New: %v", err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestMigrationsRecorded(t *testing.T) {
	cfg := testConfig(t)
	for range 2 { // the second start finds the schema in place and applies nothing
		if err := open(t, cfg).Close(); err != nil {
			t.Fatal(err)
		}
	}
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn := admin(t)
	tbl := pgx.Identifier{cfg.Schema, "schema_migrations"}.Sanitize()
	if n := queryInt(t, conn, `SELECT count(*) FROM `+tbl); n != len(steps) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(steps))
	}
	if top := queryInt(t, conn, `SELECT max(version) FROM `+tbl); top != migration.Latest(steps) {
		t.Fatalf("schema_migrations is at version %d, want %d", top, migration.Latest(steps))
	}
}

// TestConcurrentMigrations starts several stores on one new schema at once, as processes
// starting together do: all succeed and each version is applied once.
func TestConcurrentMigrations(t *testing.T) {
	cfg := testConfig(t)
	const n = 5
	stores := make([]*Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = New(cfg, store.Env{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d of %d starting at once: %v", i+1, n, err)
			continue
		}
		defer stores[i].Close()
	}
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	tbl := pgx.Identifier{cfg.Schema, "schema_migrations"}.Sanitize()
	if got := queryInt(t, admin(t), `SELECT count(*) FROM `+tbl); got != len(steps) {
		t.Errorf("schema_migrations has %d rows after %d concurrent starts, want %d", got, n, len(steps))
	}
}

// TestMigrationWaitsForLock holds the schema's migration lock and checks that a starting store
// waits for it, then starts once it is released.
func TestMigrationWaitsForLock(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	holder := admin(t)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := lockKey(cfg.Schema)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s, err := New(cfg, store.Env{})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	// Should the test stop early, release the lock and let New finish before the schema is dropped.
	t.Cleanup(func() {
		_ = tx.Rollback(ctx)
		<-finished
	})
	// A bigint advisory lock shows in pg_locks as its high and low 32 bits.
	watcher := admin(t)
	poll(t, 10*time.Second, "store waiting for the migration lock", func() bool {
		return queryInt(t, watcher, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1`,
			int64(uint64(key)>>32), int64(uint32(key))) > 0
	})
	select {
	case err := <-done:
		t.Fatalf("New returned (%v) while another process held the migration lock", err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("New after the lock was released: %v", err)
	}
}

func TestLockKeyPerSchema(t *testing.T) {
	if lockKey("aiskao") == lockKey("aiskao2") {
		t.Error("two schemas share one migration lock key")
	}
	if lockKey("aiskao") != lockKey("aiskao") {
		t.Error("the migration lock key of one schema changes")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	cfg := testConfig(t)
	if err := open(t, cfg).Close(); err != nil {
		t.Fatal(err)
	}
	exec(t, admin(t), `INSERT INTO `+pgx.Identifier{cfg.Schema, "schema_migrations"}.Sanitize()+
		` (version, name) VALUES (999, '0999_future.sql')`)
	_, err := New(cfg, store.Env{})
	want := fmt.Sprintf("schema %s is at version 999, newer than this program knows", cfg.Schema)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New on a newer schema: error %v, want one containing %q", err, want)
	}
}

func TestUnreachableServer(t *testing.T) {
	cfg := testConfig(t)
	cfg.URL = "postgres://postgres:secret-word@127.0.0.1:1/test" // nothing listens on port 1
	_, err := New(cfg, store.Env{})
	if err == nil {
		t.Fatal("New with an unreachable server succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "secret-word") {
		t.Errorf("error %q should name the server and never the password", msg)
	}
}

// TestDeadLetterTextNotUTF8: a dead letter whose error holds bytes PostgreSQL's text refuses is
// still kept, with those bytes replaced; its payload and metadata stay exact.
func TestDeadLetterTextNotUTF8(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	ctx := context.Background()
	d := store.DeadLetter{Route: "r", Error: "bad \xff byte and \x00 nul", Step: "steps[0]\xc3",
		Metadata: map[string]string{"k": "\x00\xff"}, Payload: []byte{0, 0xff}}
	id, err := s.AddDeadLetter(ctx, d)
	if err != nil {
		t.Fatalf("AddDeadLetter: %v", err)
	}
	got, err := s.GetDeadLetter(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Error != "bad \uFFFD byte and \uFFFD nul" || got.Step != "steps[0]\uFFFD" {
		t.Errorf("error %q, step %q: want the bad bytes replaced by U+FFFD", got.Error, got.Step)
	}
	if !maps.Equal(got.Metadata, d.Metadata) || string(got.Payload) != string(d.Payload) {
		t.Errorf("metadata %q, payload %q: want them exact", got.Metadata, got.Payload)
	}
}

// TestWriteMarksSameKeyLastWins: a batch with one key twice is one row, with the last Mark's ttl.
func TestWriteMarksSameKeyLastWins(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	batch := []storesql.Mark{
		{Scope: "s", Key: "a", TTL: time.Hour},
		{Scope: "s", Key: "b", TTL: time.Hour},
		{Scope: "s", Key: "a", TTL: -time.Minute},
		{Scope: "s", Key: "b", TTL: time.Hour},
	}
	if err := s.writeMarks(batch); err != nil {
		t.Fatalf("writeMarks with a repeated key: %v", err)
	}
	ctx := context.Background()
	if ok, err := s.Seen(ctx, "s", "a"); err != nil || ok {
		t.Errorf("key a, last marked with a past ttl: seen %v, %v; want false", ok, err)
	}
	if ok, err := s.Seen(ctx, "s", "b"); err != nil || !ok {
		t.Errorf("key b: seen %v, %v; want true", ok, err)
	}
}

func TestChainConformance(t *testing.T) {
	storetest.RunChain(t, func(t *testing.T) store.Store { return open(t, testConfig(t)) }, tamper{})
}

// tamper edits the journal in the database directly.
type tamper struct{}

func (tamper) exec(t *testing.T, s store.Store, query string, args ...any) {
	t.Helper()
	st := s.(*Store)
	q := strings.ReplaceAll(query, "{journal}", pgx.Identifier{st.cfg.Schema, "journal"}.Sanitize())
	if _, err := st.pool.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("tamper: %s: %v", q, err)
	}
}

func (x tamper) SetResult(t *testing.T, s store.Store, seq int64, result string) {
	x.exec(t, s, `UPDATE {journal} SET result = $1 WHERE seq = $2`, result, seq)
}

func (x tamper) Delete(t *testing.T, s store.Store, seq int64) {
	x.exec(t, s, `DELETE FROM {journal} WHERE seq = $1`, seq)
}

func (x tamper) Swap(t *testing.T, s store.Store, a, b int64) {
	x.exec(t, s, `UPDATE {journal} SET seq = -1 WHERE seq = $1`, a)
	x.exec(t, s, `UPDATE {journal} SET seq = $1 WHERE seq = $2`, a, b)
	x.exec(t, s, `UPDATE {journal} SET seq = $1 WHERE seq = -1`, b)
}

func (x tamper) Redact(t *testing.T, s store.Store, seq int64) {
	x.exec(t, s, `UPDATE {journal} SET actor = '', redacted_at = now() WHERE seq = $1`, seq)
}
