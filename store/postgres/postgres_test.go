package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
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

func TestRegistered(t *testing.T) {
	f, ok := store.Default.Lookup("postgres")
	if !ok {
		t.Fatal(`store type "postgres" is not registered`)
	}
	if _, ok := f.Config.(*Config); !ok {
		t.Fatalf("factory Config is %T, want *Config", f.Config)
	}
	if _, err := f.New(struct{}{}, store.Env{}); err == nil || !strings.Contains(err.Error(), "want *postgres.Config") {
		t.Errorf("factory New with a wrong configuration type: error %v", err)
	}
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

func TestSurvivesReopen(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	s := open(t, cfg)
	d := store.DeadLetter{MessageID: "m1", Route: "входящи", Error: "грешка", Attempts: 3,
		Metadata: map[string]string{"subject": "ОбА-1/2024", "bin": "\xff\x00"}, Payload: []byte("\x00\xffданни")}
	id, err := s.AddDeadLetter(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mark(ctx, "route:a", "m1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState(ctx, "route-a", "cursor", []byte("42")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, cfg)
	defer s.Close()
	got, err := s.GetDeadLetter(ctx, id)
	if err != nil {
		t.Fatalf("dead letter lost on reopen: %v", err)
	}
	if got.Route != d.Route || string(got.Payload) != string(d.Payload) || !maps.Equal(got.Metadata, d.Metadata) {
		t.Errorf("dead letter changed on reopen: %+v", got)
	}
	if ok, err := s.Seen(ctx, "route:a", "m1"); err != nil || !ok {
		t.Errorf("mark lost on reopen: seen %v, %v", ok, err)
	}
	if v, err := s.GetState(ctx, "route-a", "cursor"); err != nil || string(v) != "42" {
		t.Errorf("state lost on reopen: %q, %v", v, err)
	}
}

// TestSharedBetweenStores: two stores on one schema, as two hub processes, see each other's
// dead letters, marks and state.
func TestSharedBetweenStores(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	a, b := open(t, cfg), open(t, cfg)
	defer a.Close()
	defer b.Close()
	id, err := a.AddDeadLetter(ctx, store.DeadLetter{Route: "r", Error: "e", Payload: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Mark(ctx, "route:r", "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if d, err := b.GetDeadLetter(ctx, id); err != nil || string(d.Payload) != "p" {
		t.Errorf("dead letter added by one store, read by the other: %+v, %v", d, err)
	}
	if ok, err := b.Seen(ctx, "route:r", "k"); err != nil || !ok {
		t.Errorf("key marked by one store, seen by the other: %v, %v", ok, err)
	}
	if err := b.DeleteDeadLetter(ctx, id); err != nil {
		t.Errorf("delete from the other store: %v", err)
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

// TestKeysAreBytes: keys need not be UTF-8, and different bytes are different keys.
func TestKeysAreBytes(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	ctx := context.Background()
	if err := s.Mark(ctx, "route:\xff", "\xff\x00ключ", time.Hour); err != nil {
		t.Fatalf("Mark of a key that is not UTF-8: %v", err)
	}
	for _, tc := range []struct {
		scope, key string
		want       bool
	}{
		{"route:\xff", "\xff\x00ключ", true},
		{"route:\xff", "\xfe\x00ключ", false},
		{"route:\uFFFD", "\uFFFD\uFFFDключ", false},
		{"route:\xff", "\xff", false},
	} {
		ok, err := s.Seen(ctx, tc.scope, tc.key)
		if err != nil || ok != tc.want {
			t.Errorf("Seen(%q, %q) = %v, %v; want %v", tc.scope, tc.key, ok, err, tc.want)
		}
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

func TestSweepDeletesOnlyExpired(t *testing.T) {
	cfg := testConfig(t)
	s := open(t, cfg)
	defer s.Close()
	s.SweepChunk = 7
	ctx := context.Background()
	const expired = 7*3 + 2 // more than one chunk
	var wg sync.WaitGroup
	for i := range expired {
		wg.Go(func() {
			if err := s.Mark(ctx, "route:a", fmt.Sprint("old-", i), -time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Mark(ctx, "route:a", "fresh", time.Hour); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep()
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if n != expired {
		t.Errorf("sweep deleted %d keys, want %d", n, expired)
	}
	if left := queryInt(t, admin(t), `SELECT count(*) FROM `+pgx.Identifier{cfg.Schema, "keys"}.Sanitize()); left != 1 {
		t.Errorf("%d keys left after sweep, want only the fresh one", left)
	}
	if ok, _ := s.Seen(ctx, "route:a", "fresh"); !ok {
		t.Error("sweep deleted a key that has not expired")
	}
}

func TestSweeperRunsInBackground(t *testing.T) {
	cfg := testConfig(t)
	cfg.SweepInterval = spec.Duration(time.Second) // the least allowed
	s := open(t, cfg)
	defer s.Close()
	if err := s.Mark(context.Background(), "route:a", "old", -time.Second); err != nil {
		t.Fatal(err)
	}
	conn := admin(t)
	tbl := pgx.Identifier{cfg.Schema, "keys"}.Sanitize()
	poll(t, 10*time.Second, "expired key swept with a 1s sweep interval", func() bool {
		return queryInt(t, conn, `SELECT count(*) FROM `+tbl) == 0
	})
}

// TestMarksAreGrouped checks that concurrent marks share statements, and that every caller is
// released only after its commit.
func TestMarksAreGrouped(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	const callers = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			key := fmt.Sprint("k", i)
			if err := s.Mark(context.Background(), "route:a", key, time.Hour); err != nil {
				t.Error(err)
				return
			}
			// Released only after the commit: any connection of the pool sees the key.
			if ok, err := s.Seen(context.Background(), "route:a", key); err != nil || !ok {
				t.Errorf("key %s not committed when Mark returned: seen %v, %v", key, ok, err)
			}
		})
	}
	close(start)
	wg.Wait()
	commits, marked := s.MarkStats()
	if marked != callers {
		t.Fatalf("%d marks committed, want %d", marked, callers)
	}
	if commits >= callers {
		t.Errorf("%d concurrent marks took %d statements: not grouped", callers, commits)
	}
	t.Logf("%d concurrent marks in %d statements", callers, commits)
}

func TestMarkBatchBoundsGroup(t *testing.T) {
	cfg := testConfig(t)
	cfg.MarkBatch = 3
	s := open(t, cfg)
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if err := s.Mark(context.Background(), "s", fmt.Sprint(i), time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c, _ := s.MarkStats(); c < 10 {
		t.Errorf("30 marks with mark_batch 3 took %d statements, want at least 10", c)
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

// TestMarkExtremeTTL: the longest and the most negative durations neither overflow nor fail.
func TestMarkExtremeTTL(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		key  string
		ttl  time.Duration
		want bool
	}{{"longest", math.MaxInt64, true}, {"most-negative", math.MinInt64, false}} {
		if err := s.Mark(ctx, "s", tc.key, tc.ttl); err != nil {
			t.Errorf("Mark with ttl %v: %v", tc.ttl, err)
			continue
		}
		if ok, err := s.Seen(ctx, "s", tc.key); err != nil || ok != tc.want {
			t.Errorf("Seen after Mark with ttl %v = %v, %v; want %v", tc.ttl, ok, err, tc.want)
		}
	}
}

func TestMarkContextCancelled(t *testing.T) {
	s := open(t, testConfig(t))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either outcome is allowed for the mark itself, but an ended context must be reported
	// unless the mark was already committed.
	if err := s.Mark(ctx, "s", "k", time.Hour); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Mark with a cancelled context: %v, want context.Canceled or nil", err)
	}
}

func TestCloseCommitsQueuedMarks(t *testing.T) {
	cfg := testConfig(t)
	s := open(t, cfg)
	const callers = 50
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { errs <- s.Mark(context.Background(), "s", fmt.Sprint(i), time.Hour) })
	}
	go s.Close()
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, errClosed):
		default:
			t.Errorf("Mark during Close: %v", err)
		}
	}
	s.Close()
	if n := queryInt(t, admin(t), `SELECT count(*) FROM `+pgx.Identifier{cfg.Schema, "keys"}.Sanitize()); n != ok {
		t.Errorf("%d marks reported durable, %d in the database", ok, n)
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
