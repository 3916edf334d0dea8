package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aiskao/aiskao/store"
)

// AppendJournal records e as the next entry of the chain, filling its id (a time-ordered UUIDv7)
// and time when empty. Entries appended at the same time are chained and committed together by
// one writer; AppendJournal returns once its entry is durable. When ctx ends first, it returns
// ctx's error and the entry may or may not be journaled.
func (s *Store) AppendJournal(ctx context.Context, e store.JournalEntry) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	return store.AppendBatched(ctx, "sqlite store", s.journal, e, kept, errClosed)
}

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
	chain, err := readHead(ctx, tx.Tx)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.Err = nil
		ok, err := insertEntry(ctx, tx.Tx, &chain, r.Entry)
		if err != nil {
			return err
		}
		if !ok {
			r.Err = store.ErrDuplicateEntry
		}
	}
	if err := writeHead(ctx, tx.Tx, chain); err != nil {
		return err
	}
	return tx.Commit()
}

// readHead returns the chain's head.
func readHead(ctx context.Context, tx *sql.Tx) (store.Chain, error) {
	var (
		c    store.Chain
		hash []byte
	)
	if err := tx.QueryRowContext(ctx, `SELECT head_seq, head_hash FROM store_journal_chain WHERE one = 1`).Scan(&c.Seq, &hash); err != nil {
		return c, fmt.Errorf("read the journal chain's head: %w", err)
	}
	h, ok := store.HashFrom(hash)
	if !ok {
		return c, errors.New("the journal chain's head hash is damaged")
	}
	c.Hash = h
	return c, nil
}

func writeHead(ctx context.Context, tx *sql.Tx, c store.Chain) error {
	if _, err := tx.ExecContext(ctx, `UPDATE store_journal_chain SET head_seq = ?, head_hash = ? WHERE one = 1`, c.Seq, c.Hash[:]); err != nil {
		return fmt.Errorf("move the journal chain's head: %w", err)
	}
	return nil
}

// insertEntry inserts e after the head and moves the head, or reports false (and leaves the head)
// when an entry with e's id is already journaled.
func insertEntry(ctx context.Context, tx *sql.Tx, head *store.Chain, e store.JournalEntry) (bool, error) {
	next := *head
	l := next.Next(e)
	res, err := tx.ExecContext(ctx, `INSERT INTO store_journal
		(id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail, seq, prev_hash, body_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		e.ID, e.Time.UnixNano(), e.Kind, e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject, e.LegalBasis,
		e.Result, store.EncodeMetadata(e.Detail), l.Seq, l.Prev[:], l.Body[:], l.Hash[:])
	if err != nil {
		return false, fmt.Errorf("insert entry %d: %w", l.Seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	*head = next
	return true, nil
}

// chainExisting chains the entries journaled before the chain existed, in (time, id) order. It
// runs once, in the transaction of migration 0004.
func chainExisting(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+entryColumns+` FROM store_journal WHERE seq IS NULL ORDER BY time, id`)
	if err != nil {
		return fmt.Errorf("chain existing journal entries: %w", err)
	}
	entries, err := store.ScanRows(rows, func(r store.Row) (store.JournalEntry, error) {
		e, _, err := scanEntry(r)
		return e, err
	})
	rows.Close()
	if err != nil {
		return fmt.Errorf("chain existing journal entries: %w", err)
	}
	chain, err := readHead(ctx, tx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		l := chain.Next(e)
		if _, err := tx.ExecContext(ctx, `UPDATE store_journal SET seq = ?, prev_hash = ?, body_hash = ?, hash = ? WHERE id = ?`,
			l.Seq, l.Prev[:], l.Body[:], l.Hash[:], e.ID); err != nil {
			return fmt.Errorf("chain journal entry %s: %w", e.ID, err)
		}
	}
	return writeHead(ctx, tx, chain)
}

const entryColumns = `id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail`

// scanEntry reads the entryColumns, then more. A detail that cannot be decoded is returned as an
// error of its own (detailErr), so that verification can report the entry.
func scanEntry(row interface{ Scan(...any) error }, more ...any) (e store.JournalEntry, detailErr error, err error) {
	var (
		nano   int64
		detail []byte
	)
	if err := row.Scan(append([]any{&e.ID, &nano, &e.Kind, &e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject,
		&e.LegalBasis, &e.Result, &detail}, more...)...); err != nil {
		return e, nil, err
	}
	e.Time = time.Unix(0, nano).UTC()
	e.Detail, detailErr = store.DecodeMetadata(detail)
	return e, detailErr, nil
}

// ListJournal returns journal entries newest first (by time, then by id).
func (s *Store) ListJournal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	cols, args := f.Conditions()
	q := `SELECT ` + entryColumns + `, seq, hash, redacted FROM store_journal`
	if len(cols) > 0 {
		q += ` WHERE ` + strings.Join(cols, " = ? AND ") + ` = ?`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list journal: %w", err)
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var (
			seq      sql.NullInt64
			hash     []byte
			redacted sql.NullInt64
		)
		e, derr, err := scanEntry(rows, &seq, &hash, &redacted)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list journal: %w", err)
		}
		if derr != nil {
			return nil, fmt.Errorf("sqlite store: journal entry %s: %w", e.ID, derr)
		}
		e.Seq = seq.Int64
		if h, ok := store.HashFrom(hash); ok {
			e.Hash = h.String()
		}
		e.Redacted = redacted.Valid
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list journal: %w", err)
	}
	return out, nil
}

// ReadChain reads the journal's chain from the store's database (see store.ChainSource).
func (s *Store) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if s.closed.Load() {
		return errClosed
	}
	return readChain(ctx, s.db, start, row)
}

// Where names the database file.
func (s *Store) Where() string { return s.path }

// chainVersion is the schema version that chains the journal.
const chainVersion = 4

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
	var version sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(version) FROM store_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("not an aiskao store (no schema version): %w", err)
	}
	var st store.ChainState
	if version.Int64 < chainVersion {
		st.SchemaNote = fmt.Sprintf("the journal is not chained yet (store schema version %d, chained from %d): start the hub of this version once to chain it", version.Int64, chainVersion)
		return start(st)
	}
	var head, anchor []byte
	if err := conn.QueryRowContext(ctx, `SELECT head_seq, head_hash, anchor_seq, anchor_hash, anchor_by FROM store_journal_chain WHERE one = 1`).
		Scan(&st.Head.Seq, &head, &st.Anchor.Seq, &anchor, &st.AnchorBy); err != nil {
		return fmt.Errorf("read the journal chain's ends: %w", err)
	}
	st.Head.Hash, _ = store.HashFrom(head)
	st.Anchor.Hash, _ = store.HashFrom(anchor)
	// Counted, and one named: rows added outside the hub may be many.
	var first sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT count(*), (SELECT id FROM store_journal WHERE seq IS NULL ORDER BY time, id LIMIT 1)
		FROM store_journal WHERE seq IS NULL`).Scan(&st.Unchained, &first); err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	st.FirstUnchained = first.String
	if err := start(st); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT `+entryColumns+`, seq, prev_hash, body_hash, hash, redacted
		FROM store_journal WHERE seq IS NOT NULL ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer rows.Close()
	return store.ReadChainRows(rows, func(rw store.Row) (store.ChainRow, error) {
		// redacted is the time of the redaction in Unix nanoseconds, NULL while the entry is whole.
		var r store.ChainRow
		var redacted sql.NullInt64
		e, derr, err := scanEntry(rw, &r.Seq, &r.Prev, &r.Body, &r.Hash, &redacted)
		r.Entry, r.DetailOK, r.Redacted = e, derr == nil, redacted.Valid
		if redacted.Valid {
			r.RedactedAt = time.Unix(0, redacted.Int64).UTC()
		}
		return r, err
	}, row)
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
