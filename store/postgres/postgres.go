package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/internal/batch"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

func init() {
	store.Register(store.Factory{
		Type: "postgres",
		Doc: "PostgreSQL store: dead letters, idempotency keys and route state in one schema of a " +
			"PostgreSQL database, shared by every hub process that names it, so that dead letters " +
			"can be listed and replayed from any of them. Migrations are applied at start; the " +
			"store reconnects by itself when the server restarts.",
		Config: &Config{},
		New: func(cfg any, env store.Env) (store.Store, error) {
			c, err := spec.Options[Config](cfg)
			if err != nil {
				return nil, fmt.Errorf("postgres store: %w", err)
			}
			return New(c, env)
		},
		OpenChain: func(cfg any, env store.Env) (store.ChainSource, error) {
			c, err := spec.Options[Config](cfg)
			if err != nil {
				return nil, fmt.Errorf("postgres store: %w", err)
			}
			return OpenChain(c)
		},
	})
}

// errClosed is returned by every call after Close.
var errClosed = errors.New("postgres store: closed")

// defaultApplicationName is shown in pg_stat_activity unless the URL names another.
const defaultApplicationName = "aiskao"

// writeTimeout bounds one statement of the mark writer, the lookup or the sweeper, which run on
// behalf of many callers and so cannot use any one caller's context.
const writeTimeout = 30 * time.Second

// sweepChunk bounds one delete of expired keys, so that the sweeper never holds many row locks.
const sweepChunk = 5000

// Store is a store.Store in a PostgreSQL schema. Make it with New.
type Store struct {
	pool  *pgxpool.Pool
	cfg   Config
	where string // database and schema for messages, without the password
	log   *slog.Logger
	q     queries
	jq    journalQueries

	sweepChunk int                                    // keys per delete; a field so that tests can make it small
	seens      *store.Lookups                         // Seens made at the same time, looked up together
	marks      *batch.Committer[markReq]              // Marks made at the same time, committed together
	quit       chan struct{}                          // closed by Close
	sweepDone  chan struct{}                          // closed when the sweeper has stopped
	journal    *batch.Committer[*store.AppendRequest] // journal entries appended at the same time, chained together
	pruneDone  chan struct{}                          // closed when the pruner has stopped
	closed     atomic.Bool
	closeOnce  sync.Once
}

// seenBatch bounds one lookup. Every message a route takes asks once; one round trip for the
// messages that ask at the same time instead of one each.
const seenBatch = 256

// markReq is one Mark waiting to be committed.
type markReq struct {
	scope, key string
	ttl        int64 // microseconds, PostgreSQL's resolution
}

var _ store.Store = (*Store)(nil)

// New connects to the database that cfg names, brings the schema up to date and starts the mark
// writer and the sweeper. Zero fields of cfg take their defaults. The server must be reachable:
// New fails when it cannot apply the migrations within connect_timeout plus a minute.
func New(cfg Config, env store.Env) (*Store, error) {
	cfg, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy, err := cfg.Retention.Policy()
	if err != nil {
		return nil, fmt.Errorf("postgres store: retention: %w", err)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("postgres store: url: %w", err)
	}
	pc.MaxConns = int32(cfg.MaxConns)
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout.D()
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = defaultApplicationName
	}
	where := fmt.Sprintf("%s schema %s", redact(cfg.URL), cfg.Schema)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", where, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout.D()+time.Minute)
	defer cancel()
	if err := migrate(ctx, pool, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %s: %w", where, err)
	}
	s := &Store{
		pool:       pool,
		cfg:        cfg,
		where:      where,
		log:        log,
		q:          newQueries(pgx.Identifier{cfg.Schema}.Sanitize()),
		jq:         newJournalQueries(pgx.Identifier{cfg.Schema}.Sanitize()),
		pruneDone:  make(chan struct{}),
		sweepChunk: sweepChunk,
		quit:       make(chan struct{}),
		sweepDone:  make(chan struct{}),
	}
	s.marks = batch.New(cfg.MarkBatch, s.commitMarks)
	s.seens = store.NewLookups(seenBatch, s.lookup)
	s.journal = batch.New(store.JournalBatch, s.commitJournal)
	go s.sweeper()
	if policy.Active() {
		go func() {
			defer close(s.pruneDone)
			store.PruneEvery(s, policy, s.quit, s.log, where)
		}()
	} else {
		close(s.pruneDone)
	}
	return s, nil
}

// redact returns the URL without its password and query, for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}

// queries are the statements, with the schema's tables named in full rather than through
// search_path, so that they hold whatever the URL or a pooler sets.
type queries struct {
	addLetter, listAll, listRoute, getLetter, deleteLetter, countLetters string
	seen, mark, sweep                                                    string
	getState, putState                                                   string
}

func newQueries(schema string) queries {
	r := strings.NewReplacer("{s}", schema)
	const cols = `id, message_id, route, step, error, attempts, failed_at, metadata`
	return queries{
		addLetter: r.Replace(`INSERT INTO {s}.dead_letters
			(id, message_id, route, step, error, attempts, failed_at, metadata, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
		listAll:      r.Replace(`SELECT ` + cols + ` FROM {s}.dead_letters ORDER BY failed_at DESC, id DESC LIMIT $1`),
		listRoute:    r.Replace(`SELECT ` + cols + ` FROM {s}.dead_letters WHERE route = $1 ORDER BY failed_at DESC, id DESC LIMIT $2`),
		getLetter:    r.Replace(`SELECT ` + cols + `, payload FROM {s}.dead_letters WHERE id = $1`),
		deleteLetter: r.Replace(`DELETE FROM {s}.dead_letters WHERE id = $1`),
		countLetters: r.Replace(`SELECT route, count(*) FROM {s}.dead_letters GROUP BY route`),
		// The pairs asked about, zipped by unnest; the answer lists those still marked. LATERAL
		// with LIMIT makes each pair one probe of the primary key: written as EXISTS, a plan made
		// while the table was small hashed every unexpired key for each lookup, and kept doing so
		// as the table grew.
		seen: r.Replace(`SELECT b.scope, b.key FROM unnest($1::bytea[], $2::bytea[]) AS b(scope, key)
			CROSS JOIN LATERAL (SELECT 1 FROM {s}.keys k
				WHERE k.scope = b.scope AND k.key = b.key AND k.expires > now() LIMIT 1) AS hit`),
		// One statement for a whole batch: the arrays are zipped by unnest. now() is the
		// statement's transaction start, on the server's clock, so that every process shares one
		// clock for expiry.
		mark: r.Replace(`INSERT INTO {s}.keys (scope, key, expires)
			SELECT scope, key, now() + ttl * interval '1 microsecond'
			FROM unnest($1::bytea[], $2::bytea[], $3::bigint[]) AS b(scope, key, ttl)
			ON CONFLICT (scope, key) DO UPDATE SET expires = EXCLUDED.expires`),
		// SKIP LOCKED: sweepers of several processes and the mark writers never wait for each other.
		sweep: r.Replace(`DELETE FROM {s}.keys WHERE (scope, key) IN
			(SELECT scope, key FROM {s}.keys WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`),
		getState: r.Replace(`SELECT value FROM {s}.state WHERE route = $1 AND key = $2`),
		putState: r.Replace(`INSERT INTO {s}.state (route, key, value, updated) VALUES ($1, $2, $3, now())
			ON CONFLICT (route, key) DO UPDATE SET value = EXCLUDED.value, updated = EXCLUDED.updated`),
	}
}

// text makes s storable in a text column: PostgreSQL refuses NUL bytes and invalid UTF-8 there,
// and a dead letter must not be lost because its error message holds such bytes.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AddDeadLetter stores d, filling its id (a time-ordered UUIDv7) and time when empty. Text fields
// that are not valid UTF-8 are stored with U+FFFD in place of the bad bytes; metadata and payload
// are kept byte for byte.
func (s *Store) AddDeadLetter(ctx context.Context, d store.DeadLetter) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	if d.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("postgres store: dead letter id: %w", err)
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
	id := text(d.ID)
	_, err := s.pool.Exec(ctx, s.q.addLetter, id, text(d.MessageID), text(d.Route), text(d.Step), text(d.Error),
		d.Attempts, d.Time, store.EncodeMetadata(d.Metadata), payload)
	if err != nil {
		return "", fmt.Errorf("postgres store: add dead letter of route %q: %w", d.Route, err)
	}
	return id, nil
}

// ListDeadLetters returns dead letters newest first (by time, then by id), without payloads.
func (s *Store) ListDeadLetters(ctx context.Context, f store.Filter) ([]store.DeadLetter, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var (
		rows pgx.Rows
		err  error
	)
	if f.Route != "" {
		rows, err = s.pool.Query(ctx, s.q.listRoute, f.Route, limit)
	} else {
		rows, err = s.pool.Query(ctx, s.q.listAll, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: list dead letters: %w", err)
	}
	defer rows.Close()
	var out []store.DeadLetter
	for rows.Next() {
		d, err := scanLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres store: list dead letters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: list dead letters: %w", err)
	}
	return out, nil
}

// scanLetter reads the listed columns, then the payload when more is given.
func scanLetter(row pgx.Row, more ...any) (store.DeadLetter, error) {
	var (
		d    store.DeadLetter
		meta []byte
	)
	if err := row.Scan(append([]any{&d.ID, &d.MessageID, &d.Route, &d.Step, &d.Error, &d.Attempts, &d.Time, &meta}, more...)...); err != nil {
		return d, err
	}
	d.Time = d.Time.UTC()
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
	d, err := scanLetter(s.pool.QueryRow(ctx, s.q.getLetter, id), &payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DeadLetter{}, fmt.Errorf("postgres store: dead letter %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("postgres store: get dead letter %q: %w", id, err)
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
	tag, err := s.pool.Exec(ctx, s.q.deleteLetter, id)
	if err != nil {
		return fmt.Errorf("postgres store: delete dead letter %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: dead letter %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// CountDeadLetters returns the number of dead letters per route; routes without any are absent.
func (s *Store) CountDeadLetters(ctx context.Context) (map[string]int, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	rows, err := s.pool.Query(ctx, s.q.countLetters)
	if err != nil {
		return nil, fmt.Errorf("postgres store: count dead letters: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			route string
			n     int
		)
		if err := rows.Scan(&route, &n); err != nil {
			return nil, fmt.Errorf("postgres store: count dead letters: %w", err)
		}
		out[route] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: count dead letters: %w", err)
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
		return false, fmt.Errorf("postgres store: seen %q in %q: %w", key, scope, err)
	}
	return seen, nil
}

// lookup answers the Seens made at the same time with one query.
func (s *Store) lookup(reqs []*store.Lookup) error {
	scopes := make([][]byte, len(reqs))
	keys := make([][]byte, len(reqs))
	for i, r := range reqs {
		scopes[i], keys[i] = []byte(r.Scope), []byte(r.Key)
	}
	// Not the callers' contexts: the lookup is shared, and one caller giving up must not fail
	// the others.
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.q.seen, scopes, keys)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var scope, key []byte
		if err := rows.Scan(&scope, &key); err != nil {
			return err
		}
		store.Found(reqs, string(scope), string(key))
	}
	return rows.Err()
}

// Mark records key in scope until ttl has passed (on the server's clock); a later Mark of the
// same key sets a new expiry. Marks made at the same time are written in one statement by the
// writer goroutine; Mark returns once it is committed. When ctx ends first, Mark returns its
// error and the mark may or may not be kept.
func (s *Store) Mark(ctx context.Context, scope, key string, ttl time.Duration) error {
	if s.closed.Load() {
		return errClosed
	}
	err := s.marks.Do(ctx, markReq{scope: scope, key: key, ttl: ttl.Microseconds()})
	switch {
	case errors.Is(err, batch.ErrClosed):
		return errClosed
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("postgres store: mark %q in %q: %w", key, scope, err)
	}
	return err
}

// commitMarks writes a batch of marks, made at the same time, in one commit.
func (s *Store) commitMarks(marks []markReq) error {
	if err := s.writeMarks(marks); err != nil {
		return fmt.Errorf("postgres store: mark %d keys: %w", len(marks), err)
	}
	return nil
}

// writeMarks upserts batch in one statement, hence one transaction. A statement may not update
// one row twice, so a key marked twice in the batch is sent once, with the ttl of its last Mark;
// rows are sent sorted so that writers of several processes lock shared keys in the same order
// and cannot deadlock.
func (s *Store) writeMarks(batch []markReq) error {
	rows := slices.Clone(batch)
	slices.SortStableFunc(rows, func(a, b markReq) int {
		return cmp.Or(strings.Compare(a.scope, b.scope), strings.Compare(a.key, b.key))
	})
	scopes := make([][]byte, 0, len(rows))
	keys := make([][]byte, 0, len(rows))
	ttls := make([]int64, 0, len(rows))
	for i, r := range rows {
		if i+1 < len(rows) && rows[i+1].scope == r.scope && rows[i+1].key == r.key {
			continue // a later Mark of the same key follows; it wins
		}
		scopes = append(scopes, []byte(r.scope))
		keys = append(keys, []byte(r.key))
		ttls = append(ttls, r.ttl)
	}
	// Not the callers' contexts: the batch is shared, and one caller giving up must not fail
	// the others.
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, s.q.mark, scopes, keys, ttls)
	return err
}

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
			n, err := s.sweep()
			if err != nil {
				s.log.Warn("postgres store: deleting expired idempotency keys failed; will try again", "database", s.where, "error", err)
			} else if n > 0 {
				s.log.Debug("postgres store: deleted expired idempotency keys", "database", s.where, "keys", n)
			}
		}
	}
}

// sweep deletes the keys that have expired, in chunks, and returns how many it deleted.
func (s *Store) sweep() (int64, error) {
	var total int64
	for {
		select {
		case <-s.quit:
			return total, nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		tag, err := s.pool.Exec(ctx, s.q.sweep, s.sweepChunk)
		cancel()
		if err != nil {
			return total, fmt.Errorf("sweep keys: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.sweepChunk) {
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
	err := s.pool.QueryRow(ctx, s.q.getState, route, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres store: state %q of route %q: %w", key, route, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: get state %q of route %q: %w", key, route, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutState sets the value of a route's state key. Route and key are text: they must be valid
// UTF-8 without NUL bytes; the value is kept byte for byte.
func (s *Store) PutState(ctx context.Context, route, key string, value []byte) error {
	if s.closed.Load() {
		return errClosed
	}
	if value == nil {
		value = []byte{}
	}
	if _, err := s.pool.Exec(ctx, s.q.putState, route, key, value); err != nil {
		return fmt.Errorf("postgres store: put state %q of route %q: %w", key, route, err)
	}
	return nil
}

// Ping reports whether the server answers; while it is down or restarting, Ping returns the error.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres store: %s: %w", s.where, err)
	}
	return nil
}

// Close stops the writer after it has committed the marks already queued, stops the sweeper and
// closes the connections. Calls after Close fail; a second Close does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		s.marks.Close()
		s.seens.Close()
		s.journal.Close()
		<-s.sweepDone
		<-s.pruneDone
		s.pool.Close()
	})
	return nil
}
