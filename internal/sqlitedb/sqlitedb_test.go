package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOpenSharesAndReleaseCloses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "a.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("two opens of one file gave two databases")
	}
	var mode string
	if err := a.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := Release(a); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(); err != nil {
		t.Errorf("database closed while still held: %v", err)
	}
	if err := Release(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("database still open after the last release: %v", err)
	}
}

// TestCheckpointerMovesTheWALIntoTheDatabase: automatic checkpoints are off, so the rows reach
// the database file only through the background checkpointer.
func TestCheckpointerMovesTheWALIntoTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer Release(db)
	if _, err := db.Exec(`CREATE TABLE t (v BLOB)`); err != nil {
		t.Fatal(err)
	}
	blob := make([]byte, 4096)
	for i := 0; i < 200; i++ {
		if _, err := db.Exec(`INSERT INTO t VALUES (?)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 200*4096 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes after 10s: the WAL was not checkpointed", st.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A writer's transactions commit durably or relaxed as asked, what they write is there for the
// other connections, and its connection goes back to the pool durable.
func TestWriterChoosesSyncPerTransaction(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer Release(db)
	if _, err := db.Exec(`CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // the writer's connection is the pool's only one once given back
	w, err := NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, durable := range []bool{false, true, false, false, true, false} {
		tx, err := w.Begin(ctx, durable)
		if err != nil {
			t.Fatal(err)
		}
		var level int
		if err := tx.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 2}[durable]; level != want {
			t.Errorf("transaction %d (durable %v): synchronous = %d, want %d", i, durable, level, want)
		}
		if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var level, n int
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil || level != 2 {
		t.Errorf("pool connection after the writer: synchronous = %d, %v; want 2 (FULL)", level, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 6 {
		t.Errorf("rows = %d, %v; want 6", n, err)
	}
}

// TestWriteLockIsReleased: every way out of a Writer's transaction gives the write lock back, so
// that the next writer, through a Writer or Exec, gets it.
func TestWriteLockIsReleased(t *testing.T) {
	db, a, b := twoWriters(t)

	// within fails the test when fn does not return: a write lock left held would block it.
	within := func(what string, fn func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still waiting for the write lock after 5s", what)
		}
	}
	insert := func(w *Writer, durable, commit bool) func() error {
		return func() error {
			tx, err := w.Begin(context.Background(), durable)
			if err != nil {
				return err
			}
			defer tx.Rollback() // after Commit: does nothing, releases nothing twice
			if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
				return err
			}
			if commit {
				return tx.Commit()
			}
			return tx.Rollback()
		}
	}
	within("a commits", insert(a, true, true))
	within("b commits relaxed", insert(b, false, true))
	within("a rolls back", insert(a, false, false))
	within("b commits after a's rollback", insert(b, true, true))
	within("Exec after the writers", func() error {
		_, err := Exec(context.Background(), db, `INSERT INTO t VALUES (2)`)
		return err
	})
	within("a commits after Exec", insert(a, true, true))

	tx, err := a.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err == nil {
		t.Error("Rollback after Commit reports no error, want sql.ErrTxDone")
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 5 {
		t.Errorf("rows = %d, %v; want 5 (four commits and one Exec)", n, err)
	}
}

// TestWaitingWriterGivesUpWithItsContext: a writer waiting for the write lock returns its
// context's error when the context ends, as it did in SQLite's busy handler, instead of waiting
// for as long as the holder takes.
func TestWaitingWriterGivesUpWithItsContext(t *testing.T) {
	db, a, b := twoWriters(t)
	tx, err := a.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Begin(ctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Begin while another writer holds the lock: %v, want context.DeadlineExceeded", err)
	}
	if _, err := Exec(ctx, db, `INSERT INTO t VALUES (1)`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec while a writer holds the lock: %v, want context.DeadlineExceeded", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Exec(context.Background(), db, `INSERT INTO t VALUES (1)`); err != nil {
		t.Errorf("Exec after the holder committed: %v", err)
	}
}

// twoWriters opens a database with a table t (v INTEGER) and two writers of it, all closed when
// the test ends.
func twoWriters(t *testing.T) (*sql.DB, *Writer, *Writer) {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Release(db) })
	if _, err := Exec(context.Background(), db, `CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	var ws [2]*Writer
	for i := range ws {
		if ws[i], err = NewWriter(db); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws[i].Close() })
	}
	return db, ws[0], ws[1]
}

// TestContextEndingMidTransaction: a transaction whose context ends while a statement runs is
// rolled back whole and leaves the writer usable. When the transaction took the context,
// database/sql's own rollback, from a goroutine of its own, raced the statement and the next
// Begin: rows of rolled-back rounds were found committed.
func TestContextEndingMidTransaction(t *testing.T) {
	db, a, _ := twoWriters(t)
	for i := range 300 {
		ctx, cancel := context.WithCancel(context.Background())
		tx, err := a.Begin(ctx, i%2 == 0)
		if err != nil {
			t.Fatalf("round %d: begin: %v", i, err)
		}
		// The context ends while a statement runs, at a different moment each round.
		go func() { time.Sleep(time.Duration(i%50) * 10 * time.Microsecond); cancel() }()
		_, _ = tx.ExecContext(ctx, `INSERT INTO t WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 2000) SELECT x FROM n`)
		runtime.Gosched()
		_ = tx.Rollback()
		cancel()
	}
	tx, err := a.Begin(context.Background(), true)
	if err != nil {
		t.Fatalf("begin after the ended contexts: %v", err)
	}
	if _, err := tx.Exec(`INSERT INTO t VALUES (-1)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows = %d, %v; want 1: the rolled-back rounds wrote nothing", n, err)
	}
}
