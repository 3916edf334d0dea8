package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store"
)

// kept returns e with its time as the database keeps it, so that its hash is of what is read back.
func kept(e store.JournalEntry) store.JournalEntry {
	e.Time = time.Unix(0, e.Time.UnixNano()).UTC()
	return e
}

// commitJournal chains and inserts a batch of entries in one durable transaction.
func (s *Store) commitJournal(reqs []*store.AppendRequest) error {
	// Not the callers' contexts: the batch is shared. The busy timeout bounds the wait.
	ctx := context.Background()
	tx, err := s.journalConn.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	db := sqlDB{q: tx.Tx}
	chain, _, err := storesql.ReadHead(ctx, db, dialect.Q)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.Err = nil
		ok, err := storesql.InsertEntry(ctx, db, dialect, &chain, r.Entry)
		if err != nil {
			return err
		}
		if !ok {
			r.Err = store.ErrDuplicateEntry
		}
	}
	if err := storesql.WriteHead(ctx, db, dialect.Q, chain); err != nil {
		return err
	}
	return tx.Commit()
}

// inTx runs f in a durable immediate transaction, which holds the write lock.
func (s *Store) inTx(ctx context.Context, f func(storesql.DB) error) error {
	w, err := sqlitedb.NewWriter(s.db)
	if err != nil {
		return err
	}
	defer w.Close()
	tx, err := w.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(sqlDB{q: tx.Tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// ReadChain reads the journal's chain from the store's database (see store.ChainSource).
func (s *Store) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if s.Closed() {
		return errClosed
	}
	return readChain(ctx, s.db, start, row)
}

// readChain reads the chain from db in one read transaction.
func readChain(ctx context.Context, db *sql.DB, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer conn.Close()
	// A deferred transaction only reads: one snapshot, and no write lock taken.
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer conn.ExecContext(context.Background(), `ROLLBACK`) //nolint:errcheck // read only
	return storesql.ReadChain(ctx, sqlDB{q: conn}, dialect.Q, start, row)
}

// chainFile is a database file opened read-only to verify its journal.
type chainFile struct {
	db   *sql.DB
	path string
}

// OpenChain opens the database file that cfg names read-only, without migrating it, so that its
// journal can be verified while the hub is stopped or on a copy. The file must exist.
func OpenChain(cfg Config, env store.Env) (store.ChainSource, error) {
	path := cfg.path(env.DataDir)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+abs+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	return &chainFile{db: db, path: path}, nil
}

func (c *chainFile) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if err := readChain(ctx, c.db, start, row); err != nil {
		return fmt.Errorf("sqlite store: %s: %w", c.path, err)
	}
	return nil
}

func (c *chainFile) Where() string { return c.path }

func (c *chainFile) Close() error { return c.db.Close() }
