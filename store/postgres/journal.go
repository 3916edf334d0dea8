package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store"
)

// kept returns e as the database keeps it, so that its hash is of what is read back: text that
// is not valid UTF-8 with U+FFFD in place of the bad bytes, time to the microsecond.
func kept(e store.JournalEntry) store.JournalEntry {
	e.ID, e.Kind, e.Route, e.MessageID, e.Dossier = text(e.ID), text(e.Kind), text(e.Route), text(e.MessageID), text(e.Dossier)
	e.Actor, e.Subject, e.LegalBasis, e.Result = text(e.Actor), text(e.Subject), text(e.LegalBasis), text(e.Result)
	e.Time = e.Time.Truncate(time.Microsecond).UTC()
	e.Seq, e.Hash, e.Redacted = 0, "", false
	return e
}

// commitJournal chains and inserts a batch of entries in one round trip: the statements go in
// one pipeline, which PostgreSQL runs as one transaction, so the chain's row is locked from the
// first append to the commit.
func (s *Store) commitJournal(reqs []*store.AppendRequest) error {
	// Not the callers' contexts: the batch is shared.
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout.D())
	defer cancel()
	b := &pgx.Batch{}
	for _, r := range reqs {
		r.Err = nil
		e := r.Entry
		body := store.BodyHash(e)
		b.Queue(s.q.appendEntry, []byte(store.EntryDomain), store.EntryTail(e.ID, e.Time, e.Kind, body),
			e.ID, e.Time, e.Kind, e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject, e.LegalBasis, e.Result,
			store.EncodeMetadata(e.Detail), body[:]).Exec(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() == 0 {
				r.Err = store.ErrDuplicateEntry
			}
			return nil
		})
	}
	return s.pool.SendBatch(ctx, b).Close()
}

// ReadChain reads the journal's chain (see store.ChainSource).
func (s *Store) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if s.Closed() {
		return errClosed
	}
	return readChain(ctx, s.pool, s.D.Q, start, row)
}

// readChain reads the chain in one read-only, repeatable-read transaction: one snapshot while
// the hub goes on appending.
func readChain(ctx context.Context, pool *pgxpool.Pool, q storesql.Queries, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // read only
	return storesql.ReadChain(ctx, pgDB{tx}, q, start, row)
}

// inTx runs f in a transaction; the dialect's LockEnds takes the chain's row lock in it.
func (s *Store) inTx(ctx context.Context, f func(storesql.DB) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it does nothing
	if err := f(pgDB{tx}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// chainDB is a schema opened to verify its journal, without migrating it.
type chainDB struct {
	pool  *pgxpool.Pool
	q     storesql.Queries
	where string
}

// OpenChain connects to the database and schema that cfg names to read its journal, without
// migrating or starting anything.
func OpenChain(cfg Config) (store.ChainSource, error) {
	pool, where, err := connect(cfg, 2, defaultApplicationName+" journal verify")
	if err != nil {
		return nil, err
	}
	return &chainDB{pool: pool, q: newDialect(cfg.Schema).Q, where: where}, nil
}

func (c *chainDB) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if err := readChain(ctx, c.pool, c.q, start, row); err != nil {
		return fmt.Errorf("postgres store: %s: %w", c.where, err)
	}
	return nil
}

func (c *chainDB) Where() string { return c.where }

func (c *chainDB) Close() error {
	c.pool.Close()
	return nil
}
