package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store"
)

func init() {
	store.Register(storesql.Factory("postgres",
		"PostgreSQL store: dead letters, idempotency keys and route state in one schema of a "+
			"PostgreSQL database, shared by every hub process that names it, so that dead letters "+
			"can be listed and replayed from any of them. Migrations are applied at start; the "+
			"store reconnects by itself when the server restarts.",
		func(c Config, env store.Env) (store.Store, error) { return New(c, env) },
		func(c Config, _ store.Env) (store.ChainSource, error) { return OpenChain(c) }))
}

// errClosed is returned by every call after Close.
var errClosed = errors.New("postgres store: closed")

// defaultApplicationName is shown in pg_stat_activity unless the URL names another.
const defaultApplicationName = "aiskao"

// sweepTimeout bounds one statement of the sweeper, which runs in the background. The statements
// that messages wait for are bounded by query_timeout.
const sweepTimeout = 30 * time.Second

// Store is a store.Store in a PostgreSQL schema. Make it with New.
type Store struct {
	storesql.Base
	pool   *pgxpool.Pool
	cfg    Config
	q      queries
	health *health
}

var _ store.Store = (*Store)(nil)

// New connects to the database that cfg names, brings the schema up to date and starts the mark
// writer and the sweeper. Zero fields of cfg take their defaults. The server must be reachable:
// New fails when it cannot apply the migrations within connect_timeout plus a minute.
func New(cfg Config, env store.Env) (*Store, error) {
	cfg, policy, err := storesql.Configure("postgres store", cfg)
	if err != nil {
		return nil, err
	}
	pool, where, err := connect(cfg, cfg.MaxConns, defaultApplicationName)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout.D()+time.Minute)
	defer cancel()
	if err := migrate(ctx, pool, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %s: %w", where, err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, cfg: cfg, q: newQueries(pgx.Identifier{cfg.Schema}.Sanitize()),
		health: newHealth(pool.Config().ConnConfig.Copy(), where, log)}
	s.DB, s.D = pgDB{pool}, newDialect(cfg.Schema)
	s.Start(storesql.Parts{
		Where: where, WhereKey: "database", Log: env.Logger,
		MarkBatch: cfg.MarkBatch, BatchWait: cfg.BatchWait.D(), WriteMarks: s.writeMarks, Lookup: s.lookup, CommitJournal: s.commitJournal,
		SweepChunk: s.sweepChunk, SweepEvery: cfg.SweepInterval.D(),
		Redact: s.redactEntries, InTx: s.inTx, Policy: policy,
		// What the health watcher saw last: readiness never waits on the database.
		Ping:    func(context.Context) error { return s.health.state() },
		Release: func() error { s.health.close(); pool.Close(); return nil },
	})
	return s, nil
}

// connect makes a pool of at most conns connections to the database that cfg names, and says
// which database and schema it is, without the password.
func connect(cfg Config, conns int, appName string) (*pgxpool.Pool, string, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, "", fmt.Errorf("postgres store: url: %w", err)
	}
	pc.MaxConns = int32(conns)
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout.D()
	// Probes from the system find a peer that vanished (a machine down, a cable cut) within
	// about 11 s even on an idle connection; query_timeout and the health watcher see sooner
	// a database that has stopped answering.
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	pc.ConnConfig.DialFunc = dialer.DialContext
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = appName
	}
	where := fmt.Sprintf("%s schema %s", redact(cfg.URL), cfg.Schema)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, "", fmt.Errorf("postgres store: %s: %w", where, err)
	}
	return pool, where, nil
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

// pgDB is a pool or a transaction as storesql runs statements.
type pgDB struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (d pgDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (d pgDB) Query(ctx context.Context, query string, args ...any) (storesql.Rows, error) {
	rows, err := d.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (d pgDB) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return d.q.QueryRow(ctx, query, args...)
}

// newDialect returns the dialect of the store in schema, whose statements name its tables in
// full rather than through search_path, so that they hold whatever the URL or a pooler sets.
func newDialect(schema string) *storesql.Dialect {
	r := strings.NewReplacer("{s}", pgx.Identifier{schema}.Sanitize())
	const letter = `id, message_id, route, step, error, attempts, failed_at, metadata`
	entry := storesql.EntryColumns("at")
	return &storesql.Dialect{
		Name:        "postgres store",
		Closed:      errClosed,
		NoRows:      pgx.ErrNoRows,
		Text:        text,
		Time:        func(t time.Time) any { return t },
		Kept:        kept,
		Unique:      uniqueViolation,
		Placeholder: storesql.Dollar,
		Prefix:      pgx.Identifier{schema}.Sanitize() + ".",
		Q: storesql.Queries{
			AddLetter: r.Replace(`INSERT INTO {s}.dead_letters
				(id, message_id, route, step, error, attempts, failed_at, metadata, payload)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
			ListLetters:  r.Replace(`SELECT ` + letter + ` FROM {s}.dead_letters ORDER BY failed_at DESC, id DESC LIMIT $1`),
			ListRoute:    r.Replace(`SELECT ` + letter + ` FROM {s}.dead_letters WHERE route = $1 ORDER BY failed_at DESC, id DESC LIMIT $2`),
			GetLetter:    r.Replace(`SELECT ` + letter + `, payload FROM {s}.dead_letters WHERE id = $1`),
			DeleteLetter: r.Replace(`DELETE FROM {s}.dead_letters WHERE id = $1`),
			CountLetters: r.Replace(`SELECT route, count(*) FROM {s}.dead_letters GROUP BY route`),
			GetState:     r.Replace(`SELECT value FROM {s}.state WHERE route = $1 AND key = $2`),
			PutState: r.Replace(`INSERT INTO {s}.state (route, key, value, updated) VALUES ($1, $2, $3, $4)
				ON CONFLICT (route, key) DO UPDATE SET value = EXCLUDED.value, updated = EXCLUDED.updated`),

			CreateToken: r.Replace(`INSERT INTO {s}.tokens (id, name, role, hash, created) VALUES ($1, $2, $3, $4, $5)`),
			RevokeToken: r.Replace(`UPDATE {s}.tokens SET revoked = $1 WHERE name = $2 AND revoked IS NULL`),
			ListTokens:  r.Replace(`SELECT id, name, role, created, revoked FROM {s}.tokens ORDER BY created, id`),
			TokenByID:   r.Replace(`SELECT id, name, role, hash, created, revoked FROM {s}.tokens WHERE id = $1`),

			ListJournal: r.Replace(`SELECT ` + entry + `, seq, hash, redacted_at FROM {s}.journal`),
			Version:     r.Replace(`SELECT coalesce(max(version), 0) FROM {s}.schema_migrations`),
			ReadEnds:    r.Replace(`SELECT head_seq, head_hash, anchor_seq, anchor_hash, anchor_by FROM {s}.journal_chain WHERE one`),
			// The row lock orders the processes sharing the schema.
			LockEnds: r.Replace(`SELECT head_seq, head_hash, anchor_seq FROM {s}.journal_chain WHERE one FOR UPDATE`),
			Unchained: r.Replace(`SELECT count(*), (SELECT id FROM {s}.journal WHERE seq IS NULL ORDER BY at, id LIMIT 1)
				FROM {s}.journal WHERE seq IS NULL`),
			ChainRows: r.Replace(`SELECT ` + entry + `, seq, prev_hash, body_hash, hash, redacted_at
				FROM {s}.journal WHERE seq IS NOT NULL ORDER BY seq`),
			Unchain: r.Replace(`SELECT ` + entry + ` FROM {s}.journal WHERE seq IS NULL ORDER BY at, id`),
			Place:   r.Replace(`UPDATE {s}.journal SET seq = $1, prev_hash = $2, body_hash = $3, hash = $4 WHERE id = $5`),
			Insert: r.Replace(`INSERT INTO {s}.journal (` + entry + `, seq, prev_hash, body_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING`),
			WriteHead:   r.Replace(`UPDATE {s}.journal_chain SET head_seq = $1, head_hash = $2 WHERE one`),
			WriteAnchor: r.Replace(`UPDATE {s}.journal_chain SET anchor_seq = $1, anchor_hash = $2, anchor_by = $3 WHERE one`),

			PruneLetters: r.Replace(`DELETE FROM {s}.dead_letters WHERE id IN
				(SELECT id FROM {s}.dead_letters WHERE failed_at < $1 LIMIT $2)`),
			FirstWhole: r.Replace(`SELECT min(seq) FROM {s}.journal WHERE seq > $1 AND redacted_at IS NULL AND kind <> $2`),
			HashOf:     r.Replace(`SELECT hash FROM {s}.journal WHERE seq = $1`),
			Drop:       r.Replace(`DELETE FROM {s}.journal WHERE seq <= $1`),
		},
	}
}

// uniqueViolation reports whether err is PostgreSQL's unique_violation.
func uniqueViolation(err error) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pe.Code == "23505"
}

// queries are the statements of this store alone, with the schema's tables named in full.
type queries struct {
	seen, mark, sweep, appendEntry, redactIn, redactOthers string
}

func newQueries(schema string) queries {
	r := strings.NewReplacer("{s}", schema)
	redact := `UPDATE {s}.journal SET route = '', message_id = '', dossier = '', actor = '', subject = '',
		legal_basis = '', result = '', detail = $1, redacted_at = $2
		WHERE redacted_at IS NULL AND id IN (SELECT id FROM {s}.journal
			WHERE redacted_at IS NULL AND seq IS NOT NULL AND at < $3 AND %s LIMIT $5)`
	return queries{
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
		// One statement links and inserts an entry: the UPDATE takes the chain row's lock, which
		// orders the appends of every process sharing the schema, and computes the entry's hash
		// from the head it finds (store.EntryHash: $1 is store.EntryDomain, $2 store.EntryTail);
		// the INSERT takes the new head from RETURNING. An id already journaled moves nothing.
		appendEntry: r.Replace(`WITH h AS (
				UPDATE {s}.journal_chain SET head_seq = head_seq + 1, head_prev = head_hash,
					head_hash = sha256($1::bytea || int8send(head_seq + 1) || head_hash || $2::bytea)
				WHERE one AND NOT EXISTS (SELECT 1 FROM {s}.journal WHERE id = $3)
				RETURNING head_seq, head_prev, head_hash)
			INSERT INTO {s}.journal (` + storesql.EntryColumns("at") + `, seq, prev_hash, body_hash, hash)
			SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, h.head_seq, h.head_prev, $14, h.head_hash FROM h`),
		redactIn:     r.Replace(fmt.Sprintf(redact, `kind = ANY($4::text[])`)),
		redactOthers: r.Replace(fmt.Sprintf(redact, `kind <> ALL($4::text[])`)),
	}
}

// text makes s storable in a text column: PostgreSQL refuses NUL bytes and invalid UTF-8 there,
// and a dead letter must not be lost because its error message holds such bytes.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
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
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout.D())
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

// writeMarks upserts batch in one statement, hence one transaction; expiry is on the server's
// clock. A statement may not update one row twice, so a key marked twice in the batch is sent
// once, with the ttl of its last Mark; rows are sent sorted so that writers of several processes
// lock shared keys in the same order and cannot deadlock.
func (s *Store) writeMarks(batch []storesql.Mark) error {
	rows := slices.Clone(batch)
	slices.SortStableFunc(rows, func(a, b storesql.Mark) int {
		return cmp.Or(strings.Compare(a.Scope, b.Scope), strings.Compare(a.Key, b.Key))
	})
	scopes := make([][]byte, 0, len(rows))
	keys := make([][]byte, 0, len(rows))
	ttls := make([]int64, 0, len(rows))
	for i, r := range rows {
		if i+1 < len(rows) && rows[i+1].Scope == r.Scope && rows[i+1].Key == r.Key {
			continue // a later Mark of the same key follows; it wins
		}
		scopes = append(scopes, []byte(r.Scope))
		keys = append(keys, []byte(r.Key))
		ttls = append(ttls, r.TTL.Microseconds()) // PostgreSQL's resolution
	}
	// Not the callers' contexts: the batch is shared, and one caller giving up must not fail
	// the others.
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout.D())
	defer cancel()
	_, err := s.pool.Exec(ctx, s.q.mark, scopes, keys, ttls)
	return err
}

// sweepChunk deletes at most limit keys that have expired on the server's clock.
func (s *Store) sweepChunk(limit int) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, s.q.sweep, limit)
	return tag.RowsAffected(), err
}
