package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aiskao/aiskao/internal/jsonenc"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store"
)

func init() {
	store.Register(storesql.Factory("sqlite",
		"Embedded store in one SQLite file, shared with the embedded transport: dead letters, "+
			"route state and the journal survive a crash and a power cut; idempotency keys survive a "+
			"crash at once and a power cut once the file is next synced, within about half a second. "+
			"Needs no service; for several hub processes use the PostgreSQL store.",
		func(c Config, env store.Env) (store.Store, error) { return New(c, env) },
		OpenChain))
}

// errClosed is returned by every call after Close.
var errClosed = errors.New("sqlite store: closed")

// Store is a store.Store in an SQLite file. Make it with New.
type Store struct {
	storesql.Base
	db   *sql.DB
	path string

	seen        *sql.Stmt        // prepared once: Seen runs for every message a route takes
	seenOne     *sql.Stmt        // for a key that JSON cannot carry unchanged
	markConn    *sqlitedb.Writer // the mark committer's connection
	insertMark  *sql.Stmt        // prepared once: a batch of a few marks spent a quarter of its time preparing it
	journalConn *sqlitedb.Writer // the journal committer's connection
}

var _ store.Store = (*Store)(nil)

// New opens (creating when absent) the database file that cfg names, brings its schema up to
// date and starts the mark writer and the sweeper. Zero fields of cfg take their defaults.
func New(cfg Config, env store.Env) (*Store, error) {
	cfg, policy, err := storesql.Configure("sqlite store", cfg)
	if err != nil {
		return nil, err
	}
	path := cfg.path(env.DataDir)
	db, err := sqlitedb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	s := &Store{db: db, path: path}
	if err := s.prepare(); err != nil {
		_ = s.release()
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	s.DB, s.D = sqlDB{q: db, db: db}, dialect
	s.Start(storesql.Parts{
		Where: path, WhereKey: "file", Log: env.Logger,
		MarkBatch: cfg.MarkBatch, WriteMarks: s.writeMarks, Lookup: s.lookup, CommitJournal: s.commitJournal,
		SweepChunk: s.sweepChunk, SweepEvery: cfg.SweepInterval.D(),
		Redact: s.redactEntries, InTx: s.inTx, Policy: policy,
		Ping:    db.PingContext,
		Release: s.release,
	})
	return s, nil
}

// prepare migrates the database, prepares the lookups and opens the writers' connections.
func (s *Store) prepare() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrate(ctx, s.db); err != nil {
		return err
	}
	var err error
	if s.seen, err = s.db.PrepareContext(ctx, `SELECT j.value FROM json_each(?1) AS j
		WHERE EXISTS (SELECT 1 FROM store_keys WHERE scope = ?2 AND key = j.value AND expires > ?3)`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if s.seenOne, err = s.db.PrepareContext(ctx, `SELECT 1 FROM store_keys WHERE scope = ? AND key = ? AND expires > ?`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if s.insertMark, err = s.db.PrepareContext(ctx, `INSERT INTO store_keys (scope, key, expires) VALUES (?, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET expires = excluded.expires`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if s.markConn, err = sqlitedb.NewWriter(s.db); err != nil {
		return err
	}
	s.journalConn, err = sqlitedb.NewWriter(s.db)
	return err
}

// release closes what prepare made and releases the database (closed when the embedded
// transport has released it too).
func (s *Store) release() error {
	if s.seen != nil {
		_ = s.seen.Close()
	}
	if s.seenOne != nil {
		_ = s.seenOne.Close()
	}
	if s.insertMark != nil {
		_ = s.insertMark.Close()
	}
	if s.markConn != nil {
		_ = s.markConn.Close()
	}
	if s.journalConn != nil {
		_ = s.journalConn.Close()
	}
	return sqlitedb.Release(s.db)
}

// Path returns the database file in use.
func (s *Store) Path() string { return s.path }

// sqlDB is the database or a transaction as storesql runs statements.
type sqlDB struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	db *sql.DB // when q is the database: its writes wait for its write lock (sqlitedb.Exec)
}

func (d sqlDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var (
		res sql.Result
		err error
	)
	if d.db != nil {
		res, err = sqlitedb.Exec(ctx, d.db, query, args...)
	} else {
		res, err = d.q.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqlDB) Query(ctx context.Context, query string, args ...any) (storesql.Rows, error) {
	rows, err := d.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d sqlDB) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return d.q.QueryRowContext(ctx, query, args...)
}

// sqlRows are rows whose Close has nothing to report: their errors show in Err.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// dialect is SQLite's: times are kept as Unix nanoseconds, text as it is.
var dialect = &storesql.Dialect{
	Name:        "sqlite store",
	Closed:      errClosed,
	NoRows:      sql.ErrNoRows,
	Time:        func(t time.Time) any { return t.UnixNano() },
	Kept:        kept,
	Unique:      func(err error) bool { return strings.Contains(err.Error(), "UNIQUE") },
	Placeholder: storesql.Question,
	Prefix:      "store_",
	Q: storesql.Queries{
		AddLetter: `INSERT INTO store_dead_letters
			(id, message_id, route, step, error, attempts, time, metadata, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ListLetters:  `SELECT ` + letterColumns + ` FROM store_dead_letters ORDER BY time DESC, id DESC LIMIT ?`,
		ListRoute:    `SELECT ` + letterColumns + ` FROM store_dead_letters WHERE route = ? ORDER BY time DESC, id DESC LIMIT ?`,
		GetLetter:    `SELECT ` + letterColumns + `, payload FROM store_dead_letters WHERE id = ?`,
		DeleteLetter: `DELETE FROM store_dead_letters WHERE id = ?`,
		CountLetters: `SELECT route, count(*) FROM store_dead_letters GROUP BY route`,
		GetState:     `SELECT value FROM store_state WHERE route = ? AND key = ?`,
		PutState: `INSERT INTO store_state (route, key, value, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (route, key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,

		// revoked is 0 while the token is active.
		CreateToken: `INSERT INTO store_tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)`,
		RevokeToken: `UPDATE store_tokens SET revoked = ? WHERE name = ? AND revoked = 0`,
		ListTokens:  `SELECT id, name, role, created, nullif(revoked, 0) FROM store_tokens ORDER BY created, id`,
		TokenByID:   `SELECT id, name, role, hash, created, nullif(revoked, 0) FROM store_tokens WHERE id = ?`,

		// redacted is the time of the redaction, NULL while the entry is whole.
		ListJournal: `SELECT ` + entryColumns + `, seq, hash, redacted FROM store_journal`,
		Version:     `SELECT coalesce(max(version), 0) FROM store_migrations`,
		ReadEnds:    `SELECT head_seq, head_hash, anchor_seq, anchor_hash, anchor_by FROM store_journal_chain WHERE one = 1`,
		// The writer's immediate transaction holds the write lock, hence the head.
		LockEnds: `SELECT head_seq, head_hash, anchor_seq FROM store_journal_chain WHERE one = 1`,
		Unchained: `SELECT count(*), (SELECT id FROM store_journal WHERE seq IS NULL ORDER BY time, id LIMIT 1)
			FROM store_journal WHERE seq IS NULL`,
		ChainRows: `SELECT ` + entryColumns + `, seq, prev_hash, body_hash, hash, redacted
			FROM store_journal WHERE seq IS NOT NULL ORDER BY seq`,
		Unchain: `SELECT ` + entryColumns + ` FROM store_journal WHERE seq IS NULL ORDER BY time, id`,
		Place:   `UPDATE store_journal SET seq = ?, prev_hash = ?, body_hash = ?, hash = ? WHERE id = ?`,
		Insert: `INSERT INTO store_journal (` + entryColumns + `, seq, prev_hash, body_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		WriteHead:   `UPDATE store_journal_chain SET head_seq = ?, head_hash = ? WHERE one = 1`,
		WriteAnchor: `UPDATE store_journal_chain SET anchor_seq = ?, anchor_hash = ?, anchor_by = ? WHERE one = 1`,

		PruneLetters: `DELETE FROM store_dead_letters WHERE id IN
			(SELECT id FROM store_dead_letters WHERE time < ? LIMIT ?)`,
		FirstWhole: `SELECT min(seq) FROM store_journal WHERE seq > ? AND redacted IS NULL AND kind <> ?`,
		HashOf:     `SELECT hash FROM store_journal WHERE seq = ?`,
		Drop:       `DELETE FROM store_journal WHERE seq <= ?`,
	},
}

const letterColumns = `id, message_id, route, step, error, attempts, time, metadata`

var entryColumns = storesql.EntryColumns("time")

// lookup answers the Seens made at the same time with one query per scope: the keys go in as a
// JSON array, and the query returns those still marked.
func (s *Store) lookup(reqs []*store.Lookup) error {
	// Not the callers' contexts: the lookup is shared. It only reads, and never waits for a lock.
	ctx := context.Background()
	now := time.Now().UnixNano()
	var keys []byte
	for len(reqs) > 0 {
		scope := reqs[0].Scope
		keys = append(keys[:0], '[')
		for _, r := range reqs {
			if r.Scope != scope {
				continue
			}
			if !jsonSafe(r.Key) {
				var one int
				switch err := s.seenOne.QueryRowContext(ctx, scope, r.Key, now).Scan(&one); {
				case err == nil:
					r.Seen = true
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
				continue
			}
			if len(keys) > 1 {
				keys = append(keys, ',')
			}
			keys = jsonenc.AppendString(keys, r.Key)
		}
		keys = append(keys, ']')
		if len(keys) > 2 {
			if err := s.lookupScope(ctx, scope, string(keys), now, reqs); err != nil {
				return err
			}
		}
		rest := reqs[:0]
		for _, r := range reqs {
			if r.Scope != scope {
				rest = append(rest, r)
			}
		}
		reqs = rest
	}
	return nil
}

// jsonSafe tells whether key comes back from a JSON string unchanged: JSON replaces invalid
// UTF-8, and SQLite's text ends at a NUL.
func jsonSafe(key string) bool {
	return utf8.ValidString(key) && strings.IndexByte(key, 0) < 0
}

// lookupScope looks up keys, a JSON array, in scope and marks as seen the requests of scope
// whose key the query returns.
func (s *Store) lookupScope(ctx context.Context, scope, keys string, now int64, reqs []*store.Lookup) error {
	rows, err := s.seen.QueryContext(ctx, keys, scope, now)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return err
		}
		store.Found(reqs, scope, key)
	}
	return rows.Err()
}

// expiry returns now+ttl in Unix nanoseconds, saturating instead of overflowing for long ttls.
func expiry(now time.Time, ttl time.Duration) int64 {
	n := now.UnixNano()
	if ttl > 0 && n > math.MaxInt64-int64(ttl) {
		return math.MaxInt64
	}
	return n + int64(ttl)
}

// writeMarks commits marks made at the same time in one transaction.
func (s *Store) writeMarks(batch []storesql.Mark) error {
	// Not the callers' contexts: the batch is shared, and one caller giving up must not fail the
	// others. The database's busy timeout bounds the wait.
	ctx := context.Background()
	// Relaxed (see sqlitedb.Writer): a mark is made before its message is acknowledged, so a
	// power cut that takes the mark back takes the acknowledgement too, and the redelivery
	// finds neither, as after a crash between the sink and the mark.
	tx, err := s.markConn.Begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Prepared on markConn at its first batch and kept there (database/sql keeps a statement
	// per connection); Close of the transaction's copy leaves it.
	stmt := tx.StmtContext(ctx, s.insertMark)
	defer stmt.Close()
	for _, r := range batch {
		if _, err := stmt.ExecContext(ctx, r.Scope, r.Key, expiry(r.At, r.TTL)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sweepChunk deletes at most limit keys that have expired by now.
func (s *Store) sweepChunk(limit int) (int64, error) {
	return sqlDB{q: s.db, db: s.db}.Exec(context.Background(), `DELETE FROM store_keys WHERE (scope, key) IN
		(SELECT scope, key FROM store_keys WHERE expires <= ? LIMIT ?)`, time.Now().UnixNano(), limit)
}
