package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// oldSchema makes a database file at schema version 2 (the journal before the chain) holding
// n journal entries, and returns its folder.
func oldSchema(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	db := openFile(t, dir)
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE store_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`)
	for _, m := range steps[:2] {
		exec(m.SQL)
		exec(`INSERT INTO store_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		exec(`INSERT INTO store_journal (id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail)
			VALUES (?, ?, 'regix.call', 'r', 'm', 'D', 'a', 's', 'l', 'ok', ?)`,
			// Ids out of time order: the chain follows time.
			string(rune('z'-i)), base.Add(time.Duration(i)*time.Minute).UnixNano(), store.EncodeMetadata(map[string]string{"i": "x"}))
	}
	return dir
}

// TestMigrationChainsExistingEntries: entries journaled before the chain are chained in time
// order by the migration, and later entries chain on after them.
func TestMigrationChainsExistingEntries(t *testing.T) {
	dir := oldSchema(t, 5)
	// Verifying before the hub has migrated the file says why it cannot.
	src, err := OpenChain(Config{}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify(context.Background(), src, nil); err == nil || !strings.Contains(err.Error(), "not chained yet") {
		t.Errorf("Verify of an unmigrated file = %v, want it not chained yet", err)
	}
	src.Close()

	s := open(t, Config{Retention: keepAll}, dir)
	defer s.Close()
	if _, err := s.AppendJournal(context.Background(), store.JournalEntry{Kind: "esoed.received", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	v, err := store.Verify(context.Background(), s, nil)
	if err != nil {
		t.Fatalf("Verify after migration: %v", err)
	}
	if v.Entries != 6 || v.Head.Seq != 6 {
		t.Errorf("Verify = %+v, want 6 entries", v)
	}
	es, _ := s.ListJournal(context.Background(), store.JournalFilter{Kind: "regix.call"})
	for _, e := range es { // newest first: z-4 has seq 5 ... z has seq 1
		if want := int64('z'-[]rune(e.ID)[0]) + 1; e.Seq != want {
			t.Errorf("entry %s has seq %d, want %d (time order)", e.ID, e.Seq, want)
		}
	}
}

// TestEntryAddedOutsideTheHubIsFound: a row inserted without a place in the chain is reported.
func TestEntryAddedOutsideTheHubIsFound(t *testing.T) {
	s := open(t, Config{Retention: keepAll}, t.TempDir())
	defer s.Close()
	if _, err := s.AppendJournal(context.Background(), store.JournalEntry{Kind: "regix.call", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO store_journal (id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail)
		VALUES ('forged', 0, 'regix.call', '', '', '', '', '', '', 'ok', X'00')`); err != nil {
		t.Fatal(err)
	}
	_, err := store.Verify(context.Background(), s, nil)
	if b, ok := err.(*store.Break); !ok || b.ID != "forged" || b.Problem != store.NotChained {
		t.Fatalf("Verify = %v, want the forged entry not in the chain", err)
	}
}

// TestMigrationFillsAGap: a step numbered below the highest one applied (written side by side
// with it) is still applied.
func TestMigrationFillsAGap(t *testing.T) {
	dir := t.TempDir()
	open(t, Config{}, dir).Close()
	db := openFile(t, dir)
	steps, _ := migrations()
	// Forget step 1 was applied, and undo it; reopening must apply it again.
	if _, err := db.Exec(`DELETE FROM store_migrations WHERE version = 1; DROP TABLE store_state; DROP TABLE store_keys; DROP TABLE store_dead_letters`); err != nil {
		t.Fatal(err)
	}
	open(t, Config{}, dir).Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM store_migrations`).Scan(&n); err != nil || n != len(steps) {
		t.Fatalf("store_migrations has %d rows (%v), want %d", n, err, len(steps))
	}
	if _, err := db.Exec(`SELECT count(*) FROM store_state`); err != nil {
		t.Errorf("the step filling the gap was not applied: %v", err)
	}
}

// TestVerifyReadsAFileReadOnly: OpenChain neither creates a missing file nor changes one.
func TestVerifyReadsAFileReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenChain(Config{}, store.Env{DataDir: dir}); err == nil {
		t.Fatal("OpenChain of a missing file succeeded")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Fatalf("OpenChain of a missing file created %v", m)
	}
}

// TestPrunerRunsAndStopsOnClose: a store with a retention prunes by itself at its interval, and
// Close stops it.
func TestPrunerRunsAndStopsOnClose(t *testing.T) {
	s := open(t, Config{Retention: store.Retention{DeadLetters: "1h", Interval: spec.Duration(time.Second)}}, t.TempDir())
	id, err := s.AddDeadLetter(context.Background(), store.DeadLetter{Route: "r", Time: time.Now().Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// The pruning is journaled after its deletions are committed: wait for its record.
	var es []store.JournalEntry
	deadline := time.Now().Add(10 * time.Second)
	for len(es) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no journal.pruned entry after 10s")
		}
		time.Sleep(50 * time.Millisecond)
		es, _ = s.ListJournal(context.Background(), store.JournalFilter{Kind: store.KindPruned})
	}
	if len(es) != 1 || es[0].Detail[store.DetailDeadLetters] != "1" {
		t.Errorf("journal.pruned entries = %+v, want one recording the dead letter", es)
	}
	if _, err := s.GetDeadLetter(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the dead letter past its retention: GetDeadLetter = %v, want not found", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the pruner within 5s")
	}
}
