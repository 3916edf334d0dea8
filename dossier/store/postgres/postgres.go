// Package postgres is the dossier store for many processes: the dossier core's tables (named
// dossier_*) in a PostgreSQL schema shared by every hub process, with their migrations embedded
// and applied under an advisory lock. Each commit is one transaction sent in one round trip.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/internal/batch"
)

// Config configures the PostgreSQL dossier store.
type Config struct {
	// URL is a postgres:// URL of the database.
	URL string
	// Schema holds the tables, created when missing (default aiskao); processes that share
	// dossiers use the same one.
	Schema string
	// MaxConns bounds this process's connections (default 10).
	MaxConns int
}

// DefaultSchema is the schema used when Config.Schema is empty.
const DefaultSchema = "aiskao"

// schemaName is a plain identifier: no quoting surprises, no case folding.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Store is a store.Store in a PostgreSQL schema. Make it with New.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	q       queries
	claimNo int64 // the advisory lock that takes claims one at a time
	// numbered gathers this process's registrations into shared transactions.
	numbered *batch.Committer[*numberedReq]
}

var _ store.Store = (*Store)(nil)

// New connects, creates the schema when missing and brings the dossier tables up to date.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Schema == "" {
		cfg.Schema = DefaultSchema
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 10
	}
	if !schemaName.MatchString(cfg.Schema) || strings.HasPrefix(cfg.Schema, "pg_") {
		return nil, fmt.Errorf("dossier postgres store: schema %q: use lower-case letters, digits and underscores, not starting with pg_", cfg.Schema)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: url: %w", err) // pgconn redacts the password
	}
	pc.MaxConns = int32(cfg.MaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: %w", err)
	}
	if err := migrate(ctx, pool, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("dossier postgres store: schema %s: %w", cfg.Schema, err)
	}
	s := &Store{pool: pool, schema: cfg.Schema, q: newQueries(pgx.Identifier{cfg.Schema}.Sanitize()), claimNo: lockKey("outbox claims", cfg.Schema)}
	s.numbered = batch.New(numberedBatch, s.commitNumbered)
	return s, nil
}

// Close finishes the registrations handed in and closes the pool.
func (s *Store) Close() error {
	s.numbered.Close()
	s.pool.Close()
	return nil
}

// queries are the statements with the schema's tables named in full.
type queries struct {
	inbox, newStream, moveStream, event, summary, key, message string
	events, summaryOf, findKey, dashboard, next, raise         string
	claim, mark, release, prune, applied                       string
}

func newQueries(schema string) queries {
	t := func(q string) string { return strings.ReplaceAll(q, "dossier_", schema+".dossier_") }
	return queries{
		inbox:      t(`INSERT INTO dossier_inbox (id, stream) VALUES ($1, $2) ON CONFLICT DO NOTHING`),
		newStream:  t(`INSERT INTO dossier_streams (stream, version) VALUES ($1, $2) ON CONFLICT DO NOTHING`),
		moveStream: t(`UPDATE dossier_streams SET version = $2 WHERE stream = $1 AND version = $3`),
		event:      t(`INSERT INTO dossier_events (stream, seq, type, at, actor, data) VALUES ($1, $2, $3, $4, $5, $6)`),
		summary: t(`INSERT INTO dossier_summaries AS m
			(stream, kind, service, service_version, state, active, unit, assignee, applicant, deadline, stage_deadline, next_due, opened_at, updated_at, version, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date, $11::date, $12::date, $13, $14, $15, $16)
			ON CONFLICT (stream) DO UPDATE SET kind = EXCLUDED.kind, service = EXCLUDED.service, service_version = EXCLUDED.service_version,
			state = EXCLUDED.state, active = EXCLUDED.active, unit = EXCLUDED.unit, assignee = EXCLUDED.assignee, applicant = EXCLUDED.applicant,
			deadline = EXCLUDED.deadline, stage_deadline = EXCLUDED.stage_deadline, next_due = EXCLUDED.next_due, opened_at = EXCLUDED.opened_at,
			updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, data = EXCLUDED.data`),
		// The no-op update makes RETURNING give the owner of a key already taken.
		key: t(`INSERT INTO dossier_keys AS k (kind, value, stream) VALUES ($1, $2, $3)
			ON CONFLICT (kind, value) DO UPDATE SET stream = k.stream RETURNING stream`),
		message:   t(`INSERT INTO dossier_outbox (stream, id, type, subject, payload, metadata) VALUES ($1, $2, $3, $4, $5, $6)`),
		events:    t(`SELECT seq, type, at, actor, data FROM dossier_events WHERE stream = $1 AND seq >= $2 ORDER BY seq`),
		summaryOf: t(`SELECT ` + summaryColumns + ` FROM dossier_summaries WHERE stream = $1`),
		findKey:   t(`SELECT stream FROM dossier_keys WHERE kind = $1 AND value = $2`),
		dashboard: t(`SELECT ` + summaryColumns + ` FROM dossier_summaries`),
		next: t(`INSERT INTO dossier_sequences AS q (name, year, value) VALUES ($1, $2, 1)
			ON CONFLICT (name, year) DO UPDATE SET value = q.value + 1 RETURNING value`),
		raise: t(`INSERT INTO dossier_raised (stream, kind, due) VALUES ($1, $2, $3::date) ON CONFLICT DO NOTHING`),
		claim: t(`UPDATE dossier_outbox SET claimed_until = statement_timestamp() + $2 * interval '1 microsecond' WHERE pos IN (
			SELECT o.pos FROM dossier_outbox o WHERE o.claimed_until <= statement_timestamp()
			AND NOT EXISTS (SELECT 1 FROM dossier_outbox p WHERE p.stream = o.stream AND p.pos < o.pos AND p.claimed_until > statement_timestamp())
			ORDER BY o.pos LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING pos, stream, id, type, subject, payload, metadata`),
		mark:    t(`DELETE FROM dossier_outbox WHERE pos = ANY($1)`),
		release: t(`UPDATE dossier_outbox SET claimed_until = '-infinity' WHERE pos = ANY($1)`),
		prune:   t(`DELETE FROM dossier_inbox WHERE applied < $1`),
		applied: t(`SELECT EXISTS (SELECT 1 FROM dossier_inbox WHERE id = $1)`),
	}
}

const summaryColumns = `stream, kind, service, service_version, state, active, unit, assignee, applicant,
	to_char(deadline, 'YYYY-MM-DD'), to_char(stage_deadline, 'YYYY-MM-DD'), to_char(next_due, 'YYYY-MM-DD'), opened_at, updated_at, version, data`

// Commit writes c in one transaction, its statements sent together.
func (s *Store) Commit(ctx context.Context, c store.Commit) error {
	if err := store.Prepare(&c); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("dossier postgres store: commit %s: %w", c.Stream, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := s.apply(ctx, tx, &c); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("dossier postgres store: commit %s: %w", c.Stream, err)
	}
	return nil
}

// CommitNumbered takes the sequence's next number and commits what build makes of it in the
// same transaction. The sequence's row stays locked until the commit, so registrations in one
// register wait for each other, in this process and in every other: one transaction each would
// make the register as fast as one sync of the database at a time. So the registrations of this
// process that wait together share one transaction (numberedBatch), each in a savepoint of its
// own: one that fails is rolled back alone, its number with it, and the numbers stay gap-free.
func (s *Store) CommitNumbered(ctx context.Context, name string, year int, build func(int64) (store.Commit, error)) (int64, error) {
	r := &numberedReq{seq: name, year: year, build: build}
	if err := s.numbered.Do(ctx, r); err != nil {
		return 0, fmt.Errorf("dossier postgres store: commit numbered %s/%d: %w", name, year, err)
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.n, nil
}

// numberedBatch bounds the registrations that share one transaction; PostgreSQL keeps the
// subtransactions of 64 savepoints in shared memory, more spill.
const numberedBatch = 48

// numberedTimeout bounds one shared transaction of registrations.
const numberedTimeout = 30 * time.Second

// numberedReq is one CommitNumbered waiting in a batch, with its own outcome.
type numberedReq struct {
	seq   string
	year  int
	build func(int64) (store.Commit, error)
	n     int64
	err   error
}

// commitNumbered writes a batch of registrations in one transaction, each in a savepoint.
func (s *Store) commitNumbered(reqs []*numberedReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), numberedTimeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	open := false // a savepoint of a registration that succeeded is still open
	for _, r := range reqs {
		b := &pgx.Batch{}
		if open {
			b.Queue(`RELEASE SAVEPOINT c`)
		}
		b.Queue(`SAVEPOINT c`)
		b.Queue(s.q.next, r.seq, r.year)
		br := tx.SendBatch(ctx, b)
		if open {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return err
			}
		}
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
		if err := br.QueryRow().Scan(&r.n); err != nil {
			r.err = fmt.Errorf("dossier postgres store: sequence %s/%d: %w", r.seq, r.year, err)
		}
		if err := br.Close(); err != nil && r.err == nil {
			r.err = fmt.Errorf("dossier postgres store: sequence %s/%d: %w", r.seq, r.year, err)
		}
		if r.err == nil {
			r.err = r.apply(ctx, s, tx)
		}
		open = r.err == nil
		if r.err != nil {
			r.n = 0
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT c`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT c`); err != nil {
				return err
			}
		}
	}
	return tx.Commit(ctx)
}

// apply builds r's commit with its number and sends it in tx.
func (r *numberedReq) apply(ctx context.Context, s *Store, tx pgx.Tx) error {
	c, err := r.build(r.n)
	if err != nil {
		return err
	}
	if err := store.Prepare(&c); err != nil {
		return err
	}
	return s.apply(ctx, tx, &c)
}

// apply sends c's statements in one batch and reads their outcomes in order: the first
// refusal (applied message, version, key) is the answer, whatever the statements after it did.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, c *store.Commit) error {
	b := &pgx.Batch{}
	if c.Inbox != "" {
		b.Queue(s.q.inbox, c.Inbox, c.Stream)
	}
	if c.Stream != "" {
		if c.Expect == 0 {
			b.Queue(s.q.newStream, c.Stream, c.Version())
		} else {
			b.Queue(s.q.moveStream, c.Stream, c.Version(), c.Expect)
		}
		for _, e := range c.Events {
			b.Queue(s.q.event, e.Stream, e.Seq, e.Type, e.At, e.Actor, string(e.Data))
		}
		if m := c.Summary; m != nil {
			b.Queue(s.q.summary, m.Stream, m.Kind, m.Service, m.ServiceVersion, m.State, m.Active, m.Unit, m.Assignee, m.Applicant,
				store.DateColumn(m.Deadline), store.DateColumn(m.StageDeadline), store.DateColumn(m.NextDue), m.OpenedAt, m.UpdatedAt, m.Version, string(m.Data))
		}
		for _, k := range c.Keys {
			b.Queue(s.q.key, k.Kind, k.Value, c.Stream)
		}
		for _, m := range c.Outbox {
			payload := m.Payload
			if payload == nil {
				payload = []byte{}
			}
			meta := m.Metadata
			if meta == nil {
				meta = map[string]string{} // pgx sends a nil map as NULL
			}
			b.Queue(s.q.message, c.Stream, m.ID, m.Type, m.Subject, payload, meta)
		}
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	fail := func(what string, err error) error {
		return fmt.Errorf("dossier postgres store: commit %s: %s: %w", c.Stream, what, err)
	}
	if c.Inbox != "" {
		tag, err := br.Exec()
		if err != nil {
			return fail("inbox", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", store.ErrAlreadyApplied, c.Inbox)
		}
	}
	if c.Stream == "" {
		return br.Close()
	}
	tag, err := br.Exec()
	if err != nil {
		return fail("version", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: stream %s is not at version %d", store.ErrConflict, c.Stream, c.Expect)
	}
	for range c.Events {
		if _, err := br.Exec(); err != nil {
			return fail("event", err)
		}
	}
	if c.Summary != nil {
		if _, err := br.Exec(); err != nil {
			return fail("summary", err)
		}
	}
	for _, k := range c.Keys {
		var owner string
		if err := br.QueryRow().Scan(&owner); err != nil {
			return fail("key "+k.Kind, err)
		}
		if owner != c.Stream {
			return fmt.Errorf("%w: %s key of %s", store.ErrKeyTaken, k.Kind, c.Stream)
		}
	}
	for range c.Outbox {
		if _, err := br.Exec(); err != nil {
			return fail("message", err)
		}
	}
	return br.Close()
}

// Events returns the stream's events from seq from.
func (s *Store) Events(ctx context.Context, stream string, from int64) ([]store.Event, error) {
	rows, err := s.pool.Query(ctx, s.q.events, stream, from)
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: events of %s: %w", stream, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Event, error) {
		e := store.Event{Stream: stream}
		var data string
		err := r.Scan(&e.Seq, &e.Type, &e.At, &e.Actor, &data)
		e.At, e.Data = e.At.UTC(), []byte(data)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: events of %s: %w", stream, err)
	}
	return out, nil
}

// scanSummary reads a row of summaryColumns.
func scanSummary(r pgx.Row) (store.Summary, error) {
	var m store.Summary
	var deadline, stage, next, data string
	if err := r.Scan(&m.Stream, &m.Kind, &m.Service, &m.ServiceVersion, &m.State, &m.Active, &m.Unit, &m.Assignee, &m.Applicant,
		&deadline, &stage, &next, &m.OpenedAt, &m.UpdatedAt, &m.Version, &data); err != nil {
		return m, err
	}
	var err1, err2, err3 error
	m.Deadline, err1 = store.ParseDateColumn(deadline)
	m.StageDeadline, err2 = store.ParseDateColumn(stage)
	m.NextDue, err3 = store.ParseDateColumn(next)
	m.OpenedAt, m.UpdatedAt, m.Data = m.OpenedAt.UTC(), m.UpdatedAt.UTC(), []byte(data)
	return m, errors.Join(err1, err2, err3)
}

// Summary returns the stream's summary.
func (s *Store) Summary(ctx context.Context, stream string) (store.Summary, error) {
	m, err := scanSummary(s.pool.QueryRow(ctx, s.q.summaryOf, stream))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("%w: summary of %s", store.ErrNotFound, stream)
	}
	if err != nil {
		return m, fmt.Errorf("dossier postgres store: summary of %s: %w", stream, err)
	}
	return m, nil
}

// FindByKey returns the stream a key indexes.
func (s *Store) FindByKey(ctx context.Context, kind, value string) (string, error) {
	var stream string
	err := s.pool.QueryRow(ctx, s.q.findKey, kind, value).Scan(&stream)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: %s key", store.ErrNotFound, kind)
	}
	if err != nil {
		return "", fmt.Errorf("dossier postgres store: %s key: %w", kind, err)
	}
	return stream, nil
}

// Dashboard returns a page of summaries matching q.
func (s *Store) Dashboard(ctx context.Context, q store.Query) (store.Page, error) {
	if err := q.Normalize(); err != nil {
		return store.Page{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, f := range []struct{ col, v string }{{"kind", q.Kind}, {"unit", q.Unit}, {"assignee", q.Assignee}, {"service", q.Service}, {"applicant", q.Applicant}} {
		if f.v != "" {
			where = append(where, f.col+" = "+arg(f.v))
		}
	}
	if q.Active {
		where = append(where, "active") // literally, for the partial indexes
	}
	switch len(q.States) {
	case 0:
	case 1:
		where = append(where, "state = "+arg(q.States[0]))
	default:
		where = append(where, "state = ANY("+arg(q.States)+")")
	}
	col := q.By.Column()
	if !q.DeadlineFrom.IsZero() {
		where = append(where, col+" >= "+arg(q.DeadlineFrom.String())+"::date")
	}
	if !q.DeadlineBefore.IsZero() {
		where = append(where, col+" < "+arg(q.DeadlineBefore.String())+"::date")
	}
	if q.After != "" {
		c, err := store.DecodeCursor(q.After, q.By)
		if err != nil {
			return store.Page{}, err
		}
		where = append(where, "("+col+", stream) > ("+arg(c.Deadline)+"::date, "+arg(c.Stream)+")")
	}
	query := s.q.dashboard
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY ` + col + `, stream LIMIT ` + arg(q.Limit+1)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("dossier postgres store: dashboard: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Summary, error) { return scanSummary(r) })
	if err != nil {
		return store.Page{}, fmt.Errorf("dossier postgres store: dashboard: %w", err)
	}
	return store.PageOf(out, q), nil
}

// NextSequence returns the next number of the sequence name in year.
func (s *Store) NextSequence(ctx context.Context, name string, year int) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, s.q.next, name, year).Scan(&n); err != nil {
		return 0, fmt.Errorf("dossier postgres store: sequence %s/%d: %w", name, year, err)
	}
	return n, nil
}

// RaiseOnce reports whether this call is the first to raise kind for stream's deadline due.
func (s *Store) RaiseOnce(ctx context.Context, stream, kind string, due calendar.Date) (bool, error) {
	tag, err := s.pool.Exec(ctx, s.q.raise, stream, kind, store.DateColumn(due))
	if err != nil {
		return false, fmt.Errorf("dossier postgres store: raise %s of %s: %w", kind, stream, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimOutbox leases up to n messages (see store.Outbox). Claims are taken one at a time
// under an advisory lock, so that each sees the leases of the one before and a stream's later
// message is never leased beside an earlier one held by another relay.
func (s *Store) ClaimOutbox(ctx context.Context, n int, lease time.Duration) ([]store.OutboxRow, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: claim outbox: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.claimNo); err != nil {
		return nil, fmt.Errorf("dossier postgres store: claim outbox: lock: %w", err)
	}
	rows, err := tx.Query(ctx, s.q.claim, n, lease.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: claim outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxRow, error) {
		var o store.OutboxRow
		err := r.Scan(&o.Pos, &o.Stream, &o.Message.ID, &o.Message.Type, &o.Message.Subject, &o.Message.Payload, &o.Message.Metadata)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("dossier postgres store: claim outbox: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("dossier postgres store: claim outbox: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

// MarkPublished deletes published messages.
func (s *Store) MarkPublished(ctx context.Context, pos []int64) error {
	if len(pos) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, s.q.mark, pos); err != nil {
		return fmt.Errorf("dossier postgres store: mark published: %w", err)
	}
	return nil
}

// ReleaseOutbox ends the leases of messages not published.
func (s *Store) ReleaseOutbox(ctx context.Context, pos []int64) error {
	if len(pos) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, s.q.release, pos); err != nil {
		return fmt.Errorf("dossier postgres store: release outbox: %w", err)
	}
	return nil
}

// PruneInbox forgets the consumed messages applied before t.
func (s *Store) PruneInbox(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, s.q.prune, before)
	if err != nil {
		return 0, fmt.Errorf("dossier postgres store: prune inbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Applied reports whether the consumed message id was applied.
func (s *Store) Applied(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, s.q.applied, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("dossier postgres store: inbox %s: %w", id, err)
	}
	return ok, nil
}
