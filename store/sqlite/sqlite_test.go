package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/migration"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/internal/storesql"
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

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, Config{Retention: keepAll}, t.TempDir()) })
}

func TestRegistered(t *testing.T) {
	f, ok := store.Default.Lookup("sqlite")
	if !ok {
		t.Fatal(`store type "sqlite" is not registered`)
	}
	if _, ok := f.Config.(*Config); !ok {
		t.Fatalf("factory Config is %T, want *Config", f.Config)
	}
	dir := t.TempDir()
	s, err := f.New(&Config{File: "sub/hub.db"}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatalf("factory New: %v", err)
	}
	defer s.Close()
	if got, want := s.(*Store).Path(), filepath.Join(dir, "sub", "hub.db"); got != want {
		t.Errorf("relative file opened at %s, want %s inside the data folder", got, want)
	}
	if _, err := f.New(struct{}{}, store.Env{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "want *sqlite.Config") {
		t.Errorf("factory New with a wrong configuration type: error %v", err)
	}
}

func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, Config{}, dir)
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

	s = open(t, Config{File: filepath.Join(dir, "aiskao.db")}, "/elsewhere-unused")
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

// TestSharesDatabase opens the file the way the embedded transport does, with its own tables,
// while the store uses it: neither disturbs the other, and the store's Close leaves it usable.
func TestSharesDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlitedb.Release(db)
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
	db, err := sqlitedb.Open(filepath.Join(dir, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlitedb.Release(db)
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
	db, err := sqlitedb.Open(filepath.Join(dir, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO store_migrations (version, name, applied) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	sqlitedb.Release(db)
	_, err = New(Config{}, store.Env{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "version 999, newer than this program knows") {
		t.Fatalf("New on a newer schema: error %v, want one naming the version", err)
	}
}

func TestSweepDeletesOnlyExpired(t *testing.T) {
	s := open(t, Config{}, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	const expired = storesql.DefaultSweepChunk + 10 // more than one chunk
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
	var left int
	if err := s.db.QueryRow(`SELECT count(*) FROM store_keys`).Scan(&left); err != nil || left != 1 {
		t.Errorf("%d keys left after sweep (%v), want only the fresh one", left, err)
	}
	if ok, _ := s.Seen(ctx, "route:a", "fresh"); !ok {
		t.Error("sweep deleted a key that has not expired")
	}
}

func TestSweeperRunsInBackground(t *testing.T) {
	s := open(t, Config{SweepInterval: spec.Duration(time.Second)}, t.TempDir())
	defer s.Close()
	if err := s.Mark(context.Background(), "route:a", "old", -time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM store_keys`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("expired key not swept within 10s with a 1s sweep interval")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMarksAreGrouped checks that concurrent marks share commits, and that every caller is
// released only after its commit.
func TestMarksAreGrouped(t *testing.T) {
	s := open(t, Config{}, t.TempDir())
	defer s.Close()
	const callers = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			if err := s.Mark(context.Background(), "route:a", fmt.Sprint("k", i), time.Hour); err != nil {
				t.Error(err)
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
		t.Errorf("%d concurrent marks took %d commits: not grouped", callers, commits)
	}
	t.Logf("%d concurrent marks in %d commits", callers, commits)
}

func TestMarkBatchBoundsGroup(t *testing.T) {
	s := open(t, Config{MarkBatch: 3}, t.TempDir())
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
		t.Errorf("30 marks with mark_batch 3 took %d commits, want at least 10", c)
	}
}

func TestMarkContextCancelled(t *testing.T) {
	s := open(t, Config{}, t.TempDir())
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
	dir := t.TempDir()
	s := open(t, Config{}, dir)
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
	s = open(t, Config{}, dir)
	defer s.Close()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM store_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != ok {
		t.Errorf("%d marks reported durable, %d in the file", ok, n)
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
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
		msg   string
	}{
		{"defaults", func(*Config) {}, "", ""},
		{"folder", func(c *Config) { c.File = "data/" }, "file", `"data/" names a folder; give a file, such as data/aiskao.db`},
		{"sweep too often", func(c *Config) { c.SweepInterval = spec.Duration(100 * time.Millisecond) }, "sweep_interval", "must be at least 1s, got 100ms"},
		{"batch negative", func(c *Config) { c.MarkBatch = -1 }, "mark_batch", "must be at least 1, got -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.edit(&c)
			err := spec.Validate(&c)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *spec.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != tc.msg {
				t.Fatalf("Validate = %v, want %s: %s", err, tc.field, tc.msg)
			}
		})
	}
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
