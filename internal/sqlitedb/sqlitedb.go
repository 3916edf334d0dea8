// Package sqlitedb opens the embedded SQLite database that the embedded transport and the
// embedded store share: one file in the data folder, in WAL mode.
package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

var (
	mu   sync.Mutex
	open = map[string]*shared{}
)

type shared struct {
	db   *sql.DB
	refs int
	stop chan struct{} // ends the checkpointer
	done chan struct{}
	// write is held by whoever writes through Writer or Exec. SQLite lets one connection write
	// at a time and makes the others sleep 1, 2, 5, 10 ms... between attempts (the busy
	// handler); waiting on this lock instead hands it over at once. The busy handler still
	// orders writers of other processes and the writes that do not go through this package.
	write *writeLock
}

// writeLock is a lock whose waiters give up when their context ends, as they did in SQLite's
// busy handler.
type writeLock struct{ held chan struct{} }

func newWriteLock() *writeLock { return &writeLock{held: make(chan struct{}, 1)} }

// lock takes the lock, or returns ctx's error if ctx ends first.
func (l *writeLock) lock(ctx context.Context) error {
	select {
	case l.held <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *writeLock) unlock() { <-l.held }

// lockOf returns the write lock of db, a database returned by Open.
func lockOf(db *sql.DB) *writeLock {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range open {
		if s.db == db {
			return s.write
		}
	}
	// Not opened here (a test's own database): a lock of its own still orders its writers.
	return newWriteLock()
}

// Exec runs one writing statement on db in its own transaction, holding the write lock.
func Exec(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	l := lockOf(db)
	if err := l.lock(ctx); err != nil {
		return nil, fmt.Errorf("sqlitedb: waiting to write: %w", err)
	}
	defer l.unlock()
	return db.ExecContext(ctx, query, args...)
}

// Connection pool: SQLite connections are costly to open (each reads the schema again and loses
// its prepared statements), so the idle ones are kept; readers run side by side in WAL mode, the
// writers one at a time. The pool is not capped: every Writer holds a connection for as long as
// it lives, and a process may have many (a test suite opens dozens of transports on one file).
const (
	maxIdleConns = 16
	// checkpointEvery is how often the WAL is copied back into the database in the background.
	// Automatic checkpoints would run inside a commit and make that commit's callers wait.
	checkpointEvery = 500 * time.Millisecond
)

// Open returns the database at path, creating the file and its folder when absent. Callers that
// open the same path share one *sql.DB; each must call Release once when done.
//
// The connection is set up for durability first: WAL journal, synchronous=FULL (a committed
// transaction survives a power cut, not only a crash), a busy timeout, and foreign keys on.
// Writers group their work into few transactions so that the cost of a sync is shared.
func Open(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s, ok := open[abs]; ok {
		s.refs++
		return s.db, nil
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlitedb: create folder: %w", err)
	}
	dsn := "file:" + abs + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", abs, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", abs, err)
	}
	db.SetMaxIdleConns(maxIdleConns)
	sh := &shared{db: db, refs: 1, stop: make(chan struct{}), done: make(chan struct{}), write: newWriteLock()}
	go sh.checkpointer()
	open[abs] = sh
	return db, nil
}

// checkpointer copies the WAL back into the database file now and then, without blocking
// writers (PASSIVE), so that no commit pays for it and the WAL stays small.
func (s *shared) checkpointer() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			_, _ = s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			return
		case <-t.C:
			_, _ = s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// Release gives back a database obtained from Open; the last release closes it.
func Release(db *sql.DB) error {
	mu.Lock()
	defer mu.Unlock()
	for path, s := range open {
		if s.db == db {
			s.refs--
			if s.refs == 0 {
				delete(open, path)
				close(s.stop)
				<-s.done
				return db.Close()
			}
			return nil
		}
	}
	return nil
}

// Writer is a connection of the database reserved to one writing goroutine, which chooses for
// each transaction whether its commit waits for the disk.
//
// A durable commit returns once the log is synced (synchronous=FULL). A relaxed one returns once
// the log is written to the operating system (synchronous=NORMAL): it survives a crash of the
// process, and a power cut once a later durable commit or the next checkpoint (checkpointEvery)
// has synced the log. The log keeps commits in order, so a power cut can only take back the
// latest relaxed commits, never one before a commit it keeps. Writers use relaxed commits for
// what a power cut may safely undo (acknowledgements, which then mean a redelivery), so that
// those cost no sync of their own.
//
// A transaction holds the database's write lock from Begin to Commit or Rollback.
type Writer struct {
	conn    *sql.Conn
	lock    *writeLock
	relaxed bool
}

// NewWriter reserves a connection of db; Close gives it back.
func NewWriter(db *sql.DB) (*Writer, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: writer connection: %w", err)
	}
	return &Writer{conn: conn, lock: lockOf(db)}, nil
}

// Tx is a Writer's transaction; Commit or Rollback releases the write lock, and a Rollback
// after Commit does nothing, so that it can be deferred.
type Tx struct {
	*sql.Tx
	lock *writeLock
	done bool
}

// Commit commits the transaction and releases the write lock.
func (t *Tx) Commit() error { return t.end(t.Tx.Commit) }

// Rollback undoes the transaction, unless it was committed, and releases the write lock.
func (t *Tx) Rollback() error { return t.end(t.Tx.Rollback) }

// end runs the transaction's one ending and releases the write lock after it.
func (t *Tx) end(f func() error) error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	defer t.lock.unlock()
	return f()
}

// Begin starts a transaction whose commit is durable or relaxed (see Writer), once the write lock
// is free or ctx has ended.
func (w *Writer) Begin(ctx context.Context, durable bool) (*Tx, error) {
	if err := w.lock.lock(ctx); err != nil {
		return nil, fmt.Errorf("sqlitedb: waiting to write: %w", err)
	}
	if w.relaxed == durable {
		level := "NORMAL"
		if durable {
			level = "FULL"
		}
		if _, err := w.conn.ExecContext(ctx, "PRAGMA synchronous = "+level); err != nil {
			w.lock.unlock()
			return nil, fmt.Errorf("sqlitedb: synchronous %s: %w", level, err)
		}
		w.relaxed = !durable
	}
	// Not ctx: database/sql rolls back a transaction whose context ends from a goroutine of its
	// own, which could still be at work on the connection after Rollback has released the write
	// lock, so that the next Begin found a transaction open. The transaction ends only by Commit
	// or Rollback; ctx still bounds the wait for the lock and the statements run with it.
	tx, err := w.conn.BeginTx(context.Background(), nil)
	if err != nil {
		w.lock.unlock()
		return nil, err
	}
	return &Tx{Tx: tx, lock: w.lock}, nil
}

// Close gives the connection back to the pool, durable again, for other users.
func (w *Writer) Close() error {
	if w.relaxed {
		if _, err := w.conn.ExecContext(context.Background(), "PRAGMA synchronous = FULL"); err != nil {
			_ = w.conn.Raw(func(any) error { return driver.ErrBadConn }) // never reused relaxed
			return fmt.Errorf("sqlitedb: writer connection: %w", err)
		}
	}
	return w.conn.Close()
}
