package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/internal/batch"
	"github.com/aiskao/aiskao/internal/jsonenc"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

func init() {
	store.Register(store.Factory{
		Type: "sqlite",
		Doc: "Embedded store in one SQLite file, shared with the embedded transport: dead letters, " +
			"route state and the journal survive a crash and a power cut; idempotency keys survive a " +
			"crash at once and a power cut once the file is next synced, within about half a second. " +
			"Needs no service; for several hub processes use the PostgreSQL store.",
		Config: &Config{},
		New: func(cfg any, env store.Env) (store.Store, error) {
			var c Config
			switch v := cfg.(type) {
			case *Config:
				c = *v
			case Config:
				c = v
			default:
				return nil, fmt.Errorf("sqlite store: configuration of type %T, want *sqlite.Config", cfg)
			}
			return New(c, env)
		},
		OpenChain: func(cfg any, env store.Env) (store.ChainSource, error) {
			c, err := spec.Options[Config](cfg)
			if err != nil {
				return nil, fmt.Errorf("sqlite store: %w", err)
			}
			return OpenChain(c, env)
		},
	})
}

// errClosed is returned by every call after Close.
var errClosed = errors.New("sqlite store: closed")

// Store is a store.Store in an SQLite file. Make it with New.
type Store struct {
	db   *sql.DB
	path string
	log  *slog.Logger
	cfg  Config

	seen        *sql.Stmt                              // prepared once: Seen runs for every message a route takes
	seenOne     *sql.Stmt                              // for a key that JSON cannot carry unchanged
	seens       *store.Lookups                         // Seens made at the same time, looked up together
	marks       *batch.Committer[markReq]              // Marks made at the same time, committed together
	markConn    *sqlitedb.Writer                       // the mark committer's connection
	journal     *batch.Committer[*store.AppendRequest] // journal entries appended at the same time, chained and committed together
	journalConn *sqlitedb.Writer                       // the journal committer's connection
	pruneDone   chan struct{}                          // closed when the pruner has stopped
	quit        chan struct{}                          // closed by Close
	sweepDone   chan struct{}                          // closed when the sweeper has stopped
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error
}

// seenBatch bounds one lookup. Every message a route takes asks once; looked up one by one, 64
// messages at once held 64 read transactions and queued for connections.
const seenBatch = 256

// markReq is one Mark waiting to be committed.
type markReq struct {
	scope, key string
	expires    int64
}

var _ store.Store = (*Store)(nil)

// New opens (creating when absent) the database file that cfg names, brings its schema up to
// date and starts the mark writer and the sweeper. Zero fields of cfg take their defaults.
func New(cfg Config, env store.Env) (*Store, error) {
	cfg, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy, err := cfg.Retention.Policy()
	if err != nil {
		return nil, fmt.Errorf("sqlite store: retention: %w", err)
	}
	path := cfg.path(env.DataDir)
	db, err := sqlitedb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrate(ctx, db); err != nil {
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	seen, err := db.PrepareContext(ctx, `SELECT j.value FROM json_each(?1) AS j
		WHERE EXISTS (SELECT 1 FROM store_keys WHERE scope = ?2 AND key = j.value AND expires > ?3)`)
	if err != nil {
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("sqlite store: %s: prepare: %w", path, err)
	}
	seenOne, err := db.PrepareContext(ctx, `SELECT 1 FROM store_keys WHERE scope = ? AND key = ? AND expires > ?`)
	if err != nil {
		_ = seen.Close()
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("sqlite store: %s: prepare: %w", path, err)
	}
	markConn, err := sqlitedb.NewWriter(db)
	if err != nil {
		_ = seen.Close()
		_ = seenOne.Close()
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	journalConn, err := sqlitedb.NewWriter(db)
	if err != nil {
		_ = seen.Close()
		_ = seenOne.Close()
		_ = markConn.Close()
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	s := &Store{
		journalConn: journalConn,
		pruneDone:   make(chan struct{}),
		seen:        seen,
		seenOne:     seenOne,
		markConn:    markConn,
		db:          db,
		path:        path,
		log:         log,
		cfg:         cfg,
		quit:        make(chan struct{}),
		sweepDone:   make(chan struct{}),
	}
	s.marks = batch.New(cfg.MarkBatch, s.commitMarks)
	s.seens = store.NewLookups(seenBatch, s.lookup)
	s.journal = batch.New(store.JournalBatch, s.commitJournal)
	go s.sweeper()
	if policy.Active() {
		go func() {
			defer close(s.pruneDone)
			store.PruneEvery(s, policy, s.quit, s.log, path)
		}()
	} else {
		close(s.pruneDone)
	}
	return s, nil
}

// Path returns the database file in use.
func (s *Store) Path() string { return s.path }

// AddDeadLetter stores d, filling its id (a time-ordered UUIDv7) and time when empty.
func (s *Store) AddDeadLetter(ctx context.Context, d store.DeadLetter) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	if d.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("sqlite store: dead letter id: %w", err)
		}
		d.ID = id.String()
	}
	if d.Time.IsZero() {
		d.Time = time.Now()
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err := sqlitedb.Exec(ctx, s.db, `INSERT INTO store_dead_letters
		(id, message_id, route, step, error, attempts, time, metadata, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.MessageID, d.Route, d.Step, d.Error, d.Attempts, d.Time.UnixNano(), store.EncodeMetadata(d.Metadata), payload)
	if err != nil {
		return "", fmt.Errorf("sqlite store: add dead letter of route %q: %w", d.Route, err)
	}
	return d.ID, nil
}

const listColumns = `id, message_id, route, step, error, attempts, time, metadata`

// ListDeadLetters returns dead letters newest first (by time, then by id), without payloads.
func (s *Store) ListDeadLetters(ctx context.Context, f store.Filter) ([]store.DeadLetter, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + listColumns + ` FROM store_dead_letters ORDER BY time DESC, id DESC LIMIT ?`
	args := []any{limit}
	if f.Route != "" {
		q = `SELECT ` + listColumns + ` FROM store_dead_letters WHERE route = ? ORDER BY time DESC, id DESC LIMIT ?`
		args = []any{f.Route, limit}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list dead letters: %w", err)
	}
	defer rows.Close()
	var out []store.DeadLetter
	for rows.Next() {
		d, err := scanLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list dead letters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list dead letters: %w", err)
	}
	return out, nil
}

// scanLetter reads the listColumns, then the payload when more is given.
func scanLetter(row interface{ Scan(...any) error }, more ...any) (store.DeadLetter, error) {
	var (
		d    store.DeadLetter
		nano int64
		meta []byte
	)
	if err := row.Scan(append([]any{&d.ID, &d.MessageID, &d.Route, &d.Step, &d.Error, &d.Attempts, &nano, &meta}, more...)...); err != nil {
		return d, err
	}
	d.Time = time.Unix(0, nano).UTC()
	m, err := store.DecodeMetadata(meta)
	if err != nil {
		return d, fmt.Errorf("dead letter %s: %w", d.ID, err)
	}
	d.Metadata = m
	return d, nil
}

// GetDeadLetter returns one dead letter with its payload.
func (s *Store) GetDeadLetter(ctx context.Context, id string) (store.DeadLetter, error) {
	if s.closed.Load() {
		return store.DeadLetter{}, errClosed
	}
	var payload []byte
	row := s.db.QueryRowContext(ctx, `SELECT `+listColumns+`, payload FROM store_dead_letters WHERE id = ?`, id)
	d, err := scanLetter(row, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DeadLetter{}, fmt.Errorf("sqlite store: dead letter %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("sqlite store: get dead letter %q: %w", id, err)
	}
	d.Payload = payload
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	return d, nil
}

// DeleteDeadLetter removes one dead letter.
func (s *Store) DeleteDeadLetter(ctx context.Context, id string) error {
	if s.closed.Load() {
		return errClosed
	}
	res, err := sqlitedb.Exec(ctx, s.db, `DELETE FROM store_dead_letters WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite store: delete dead letter %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: delete dead letter %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite store: dead letter %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// CountDeadLetters returns the number of dead letters per route; routes without any are absent.
func (s *Store) CountDeadLetters(ctx context.Context) (map[string]int, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	rows, err := s.db.QueryContext(ctx, `SELECT route, count(*) FROM store_dead_letters GROUP BY route`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: count dead letters: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			route string
			n     int
		)
		if err := rows.Scan(&route, &n); err != nil {
			return nil, fmt.Errorf("sqlite store: count dead letters: %w", err)
		}
		out[route] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: count dead letters: %w", err)
	}
	return out, nil
}

// Seen reports whether key was marked in scope and has not expired, swept or not.
func (s *Store) Seen(ctx context.Context, scope, key string) (bool, error) {
	if s.closed.Load() {
		return false, errClosed
	}
	seen, err := s.seens.Seen(ctx, scope, key)
	switch {
	case errors.Is(err, batch.ErrClosed):
		return false, errClosed
	case err != nil:
		return false, fmt.Errorf("sqlite store: seen %q in %q: %w", key, scope, err)
	}
	return seen, nil
}

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

// Mark records key in scope until ttl has passed; a later Mark of the same key sets a new expiry.
// Marks made at the same time are written in one transaction by the writer goroutine; Mark
// returns once that transaction is committed. When ctx ends first, Mark returns its error and the
// mark may or may not be kept.
func (s *Store) Mark(ctx context.Context, scope, key string, ttl time.Duration) error {
	if s.closed.Load() {
		return errClosed
	}
	err := s.marks.Do(ctx, markReq{scope: scope, key: key, expires: expiry(time.Now(), ttl)})
	switch {
	case errors.Is(err, batch.ErrClosed):
		return errClosed
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("sqlite store: mark %q in %q: %w", key, scope, err)
	}
	return err
}

// expiry returns now+ttl in Unix nanoseconds, saturating instead of overflowing for long ttls.
func expiry(now time.Time, ttl time.Duration) int64 {
	n := now.UnixNano()
	if ttl > 0 && n > math.MaxInt64-int64(ttl) {
		return math.MaxInt64
	}
	return n + int64(ttl)
}

// commitMarks writes a batch of marks, made at the same time, in one commit.
func (s *Store) commitMarks(marks []markReq) error {
	if err := s.writeMarks(marks); err != nil {
		return fmt.Errorf("sqlite store: mark %d keys: %w", len(marks), err)
	}
	return nil
}

func (s *Store) writeMarks(batch []markReq) error {
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
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO store_keys (scope, key, expires) VALUES (?, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET expires = excluded.expires`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range batch {
		if _, err := stmt.ExecContext(ctx, r.scope, r.key, r.expires); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sweepChunk bounds one delete, so that the sweeper holds the write lock only briefly and the
// transport and the mark writer are not kept waiting.
const sweepChunk = 5000

// sweeper deletes expired keys every SweepInterval until Close.
func (s *Store) sweeper() {
	defer close(s.sweepDone)
	t := time.NewTicker(s.cfg.SweepInterval.D())
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			n, err := s.sweep(time.Now())
			if err != nil {
				s.log.Warn("sqlite store: deleting expired idempotency keys failed; will try again", "file", s.path, "error", err)
			} else if n > 0 {
				s.log.Debug("sqlite store: deleted expired idempotency keys", "file", s.path, "keys", n)
			}
		}
	}
}

// sweep deletes the keys that expired by now, in chunks, and returns how many it deleted.
func (s *Store) sweep(now time.Time) (int64, error) {
	var total int64
	for {
		select {
		case <-s.quit:
			return total, nil
		default:
		}
		res, err := sqlitedb.Exec(context.Background(), s.db, `DELETE FROM store_keys WHERE (scope, key) IN
			(SELECT scope, key FROM store_keys WHERE expires <= ? LIMIT ?)`, now.UnixNano(), sweepChunk)
		if err != nil {
			return total, fmt.Errorf("sweep keys: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sweep keys: %w", err)
		}
		total += n
		if n < sweepChunk {
			return total, nil
		}
	}
}

// GetState returns the value of a route's state key.
func (s *Store) GetState(ctx context.Context, route, key string) ([]byte, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM store_state WHERE route = ? AND key = ?`, route, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite store: state %q of route %q: %w", key, route, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: get state %q of route %q: %w", key, route, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutState sets the value of a route's state key.
func (s *Store) PutState(ctx context.Context, route, key string, value []byte) error {
	if s.closed.Load() {
		return errClosed
	}
	if value == nil {
		value = []byte{}
	}
	_, err := sqlitedb.Exec(ctx, s.db, `INSERT INTO store_state (route, key, value, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (route, key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
		route, key, value, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite store: put state %q of route %q: %w", key, route, err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite store: %s: %w", s.path, err)
	}
	return nil
}

// Close stops the writer after it has committed the marks already queued, stops the sweeper and
// releases the database (closed when the embedded transport has released it too). Calls after
// Close fail; a second Close does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		s.marks.Close()
		s.seens.Close()
		s.journal.Close()
		<-s.sweepDone
		<-s.pruneDone
		_ = s.seen.Close()
		_ = s.seenOne.Close()
		_ = s.markConn.Close()
		_ = s.journalConn.Close()
		if err := sqlitedb.Release(s.db); err != nil {
			s.closeErr = fmt.Errorf("sqlite store: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
