// Package sqlite is the embedded dossier store: the dossier core's tables (named dossier_*) in
// the SQLite file that the hub's embedded store and transport share (internal/sqlitedb), with
// their migrations embedded. Commits made at the same time share one durable transaction, each
// in a savepoint of its own, so that one commit's failure leaves the others whole. One process
// uses a file at a time; for several use the postgres store.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/internal/batch"
	"github.com/aiskao/aiskao/internal/sqlitedb"
)

// commitBatch bounds the commits that share one transaction.
const commitBatch = 256

// Store is a store.Store in an SQLite file. Make it with Open.
type Store struct {
	db      *sql.DB
	path    string
	commits *batch.Committer[*commitReq]
	cw      *sqlitedb.Writer // the commit batcher's connection
	ow      *sqlitedb.Writer // sequences, alerts and the outbox's claims, one call at a time
	cached  bool             // the commit connection's page cache is enlarged
	once    sync.Once
	err     error
}

// commitReq is one Commit waiting in a batch, with its own outcome.
type commitReq struct {
	c   store.Commit
	err error
	// For CommitNumbered: the sequence, the builder of c and the number taken.
	seq   string
	year  int
	build func(int64) (store.Commit, error)
	n     int64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when absent) the database file at path, shared with whoever else in the
// process opened it, and brings the dossier tables up to date.
func Open(path string) (*Store, error) {
	db, err := sqlitedb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dossier sqlite store: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := migrate(ctx, db); err != nil {
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("dossier sqlite store: %s: %w", path, err)
	}
	cw, err := sqlitedb.NewWriter(db)
	if err != nil {
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("dossier sqlite store: %s: %w", path, err)
	}
	ow, err := sqlitedb.NewWriter(db)
	if err != nil {
		_ = cw.Close()
		_ = sqlitedb.Release(db)
		return nil, fmt.Errorf("dossier sqlite store: %s: %w", path, err)
	}
	s := &Store{db: db, path: path, cw: cw, ow: ow}
	s.commits = batch.New(commitBatch, s.commitAll)
	return s, nil
}

// Close stops the committer and releases the database.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.commits.Close()
		s.err = errors.Join(s.cw.Close(), s.ow.Close(), sqlitedb.Release(s.db))
	})
	return s.err
}

// Commit writes c in one transaction, shared with the commits made at the same time.
func (s *Store) Commit(ctx context.Context, c store.Commit) error {
	if err := store.Prepare(&c); err != nil {
		return err
	}
	r := &commitReq{c: c}
	if err := s.commits.Do(ctx, r); err != nil {
		return fmt.Errorf("dossier sqlite store: commit %s: %w", c.Stream, err)
	}
	return r.err
}

// commitAll writes a batch of commits in one durable transaction, each in a savepoint: a
// commit that fails is rolled back alone and keeps its error.
func (s *Store) commitAll(reqs []*commitReq) error {
	ctx := context.Background()
	tx, err := s.cw.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !s.cached {
		// The summaries' indexes take keys in no order: with SQLite's default 2 MB of page
		// cache each commit read them back from the file.
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
			return err
		}
		s.cached = true
	}
	for _, r := range reqs {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT c`); err != nil {
			return err
		}
		if r.build != nil {
			r.err = r.numbered(ctx, tx.Tx)
		} else {
			r.err = apply(ctx, tx.Tx, &r.c)
		}
		if r.err != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO c`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE c`); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CommitNumbered takes the sequence's next number and commits what build makes of it in the
// same transaction.
func (s *Store) CommitNumbered(ctx context.Context, name string, year int, build func(int64) (store.Commit, error)) (int64, error) {
	r := &commitReq{seq: name, year: year, build: build}
	if err := s.commits.Do(ctx, r); err != nil {
		return 0, fmt.Errorf("dossier sqlite store: commit numbered %s/%d: %w", name, year, err)
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.n, nil
}

// numbered takes r's number, builds its commit and writes it in tx.
func (r *commitReq) numbered(ctx context.Context, tx *sql.Tx) error {
	if err := tx.QueryRowContext(ctx, nextSequence, r.seq, r.year).Scan(&r.n); err != nil {
		return fmt.Errorf("dossier sqlite store: sequence %s/%d: %w", r.seq, r.year, err)
	}
	c, err := r.build(r.n)
	if err != nil {
		return err
	}
	if err := store.Prepare(&c); err != nil {
		return err
	}
	return apply(ctx, tx, &c)
}

const nextSequence = `INSERT INTO dossier_sequences (name, year, value) VALUES (?, ?, 1)
	ON CONFLICT (name, year) DO UPDATE SET value = value + 1 RETURNING value`

// apply writes c in tx, stopping at the first refusal.
func apply(ctx context.Context, tx *sql.Tx, c *store.Commit) error {
	now := time.Now().UnixNano()
	if c.Inbox != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO dossier_inbox (id, stream, applied) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			c.Inbox, c.Stream, now)
		if err != nil {
			return fmt.Errorf("dossier sqlite store: inbox %s: %w", c.Inbox, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", store.ErrAlreadyApplied, c.Inbox)
		}
	}
	if c.Stream == "" {
		return nil
	}
	var res sql.Result
	var err error
	if c.Expect == 0 {
		res, err = tx.ExecContext(ctx, `INSERT INTO dossier_streams (stream, version) VALUES (?, ?) ON CONFLICT DO NOTHING`, c.Stream, c.Version())
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE dossier_streams SET version = ? WHERE stream = ? AND version = ?`, c.Version(), c.Stream, c.Expect)
	}
	if err != nil {
		return fmt.Errorf("dossier sqlite store: stream %s: %w", c.Stream, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: stream %s is not at version %d", store.ErrConflict, c.Stream, c.Expect)
	}
	for _, e := range c.Events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_events (stream, seq, type, at, actor, data) VALUES (?, ?, ?, ?, ?, ?)`,
			e.Stream, e.Seq, e.Type, nanos(e.At), e.Actor, []byte(e.Data)); err != nil {
			return fmt.Errorf("dossier sqlite store: event %d of %s: %w", e.Seq, c.Stream, err)
		}
	}
	if m := c.Summary; m != nil {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO dossier_summaries
			(stream, kind, service, service_version, state, active, unit, assignee, applicant, deadline, stage_deadline, next_due, opened_at, updated_at, version, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Stream, m.Kind, m.Service, m.ServiceVersion, m.State, m.Active, m.Unit, m.Assignee, m.Applicant,
			store.DateColumn(m.Deadline), store.DateColumn(m.StageDeadline), store.DateColumn(m.NextDue), nanos(m.OpenedAt), nanos(m.UpdatedAt), m.Version, []byte(m.Data)); err != nil {
			return fmt.Errorf("dossier sqlite store: summary of %s: %w", c.Stream, err)
		}
	}
	for _, k := range c.Keys {
		var owner string
		err := tx.QueryRowContext(ctx, `INSERT INTO dossier_keys (kind, value, stream) VALUES (?, ?, ?)
			ON CONFLICT (kind, value) DO UPDATE SET stream = stream RETURNING stream`, k.Kind, k.Value, c.Stream).Scan(&owner)
		if err != nil {
			return fmt.Errorf("dossier sqlite store: key %s of %s: %w", k.Kind, c.Stream, err)
		}
		if owner != c.Stream {
			return fmt.Errorf("%w: %s key of %s", store.ErrKeyTaken, k.Kind, c.Stream)
		}
	}
	for _, m := range c.Outbox {
		meta, err := json.Marshal(m.Metadata)
		if err != nil {
			return fmt.Errorf("dossier sqlite store: message %s metadata: %w", m.ID, err)
		}
		payload := m.Payload
		if payload == nil {
			payload = []byte{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_outbox (stream, id, type, subject, payload, metadata) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Stream, m.ID, m.Type, m.Subject, payload, string(meta)); err != nil {
			return fmt.Errorf("dossier sqlite store: message %s of %s: %w", m.ID, c.Stream, err)
		}
	}
	return nil
}

// Events returns the stream's events from seq from.
func (s *Store) Events(ctx context.Context, stream string, from int64) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, type, at, actor, data FROM dossier_events WHERE stream = ? AND seq >= ? ORDER BY seq`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("dossier sqlite store: events of %s: %w", stream, err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e := store.Event{Stream: stream}
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &e.Type, &at, &e.Actor, &data); err != nil {
			return nil, fmt.Errorf("dossier sqlite store: events of %s: %w", stream, err)
		}
		e.At, e.Data = fromNanos(at), data
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dossier sqlite store: events of %s: %w", stream, err)
	}
	return out, nil
}

// nanos returns t as stored: Unix nanoseconds, 0 for the zero time (whose UnixNano overflows).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos reads a time written by nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

const summaryColumns = `stream, kind, service, service_version, state, active, unit, assignee, applicant, deadline, stage_deadline, next_due, opened_at, updated_at, version, data`

// scanSummary reads a row of summaryColumns.
func scanSummary(sc interface{ Scan(...any) error }) (store.Summary, error) {
	var m store.Summary
	var deadline, stage, next string
	var opened, updated int64
	var data []byte
	if err := sc.Scan(&m.Stream, &m.Kind, &m.Service, &m.ServiceVersion, &m.State, &m.Active, &m.Unit, &m.Assignee, &m.Applicant,
		&deadline, &stage, &next, &opened, &updated, &m.Version, &data); err != nil {
		return m, err
	}
	var err1, err2, err3 error
	m.Deadline, err1 = store.ParseDateColumn(deadline)
	m.StageDeadline, err2 = store.ParseDateColumn(stage)
	m.NextDue, err3 = store.ParseDateColumn(next)
	m.OpenedAt, m.UpdatedAt, m.Data = fromNanos(opened), fromNanos(updated), data
	return m, errors.Join(err1, err2, err3)
}

// Summary returns the stream's summary.
func (s *Store) Summary(ctx context.Context, stream string) (store.Summary, error) {
	m, err := scanSummary(s.db.QueryRowContext(ctx, `SELECT `+summaryColumns+` FROM dossier_summaries WHERE stream = ?`, stream))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: summary of %s", store.ErrNotFound, stream)
	}
	if err != nil {
		return m, fmt.Errorf("dossier sqlite store: summary of %s: %w", stream, err)
	}
	return m, nil
}

// FindByKey returns the stream a key indexes.
func (s *Store) FindByKey(ctx context.Context, kind, value string) (string, error) {
	var stream string
	err := s.db.QueryRowContext(ctx, `SELECT stream FROM dossier_keys WHERE kind = ? AND value = ?`, kind, value).Scan(&stream)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: %s key", store.ErrNotFound, kind)
	}
	if err != nil {
		return "", fmt.Errorf("dossier sqlite store: %s key: %w", kind, err)
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
	for _, f := range []struct{ col, v string }{{"kind", q.Kind}, {"unit", q.Unit}, {"assignee", q.Assignee}, {"service", q.Service}, {"applicant", q.Applicant}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if q.Active {
		where = append(where, "active = 1") // literally, for the partial indexes
	}
	if len(q.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(q.States)-1)+")")
		for _, st := range q.States {
			args = append(args, st)
		}
	}
	col := q.By.Column()
	if !q.DeadlineFrom.IsZero() {
		where, args = append(where, col+" >= ?"), append(args, q.DeadlineFrom.String())
	}
	if !q.DeadlineBefore.IsZero() {
		where, args = append(where, col+" < ?"), append(args, q.DeadlineBefore.String())
	}
	if q.After != "" {
		c, err := store.DecodeCursor(q.After, q.By)
		if err != nil {
			return store.Page{}, err
		}
		where, args = append(where, "("+col+", stream) > (?, ?)"), append(args, c.Deadline, c.Stream)
	}
	query := `SELECT ` + summaryColumns + ` FROM dossier_summaries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY ` + col + `, stream LIMIT ?`
	args = append(args, q.Limit+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("dossier sqlite store: dashboard: %w", err)
	}
	defer rows.Close()
	var out []store.Summary
	for rows.Next() {
		m, err := scanSummary(rows)
		if err != nil {
			return store.Page{}, fmt.Errorf("dossier sqlite store: dashboard: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("dossier sqlite store: dashboard: %w", err)
	}
	return store.PageOf(out, q), nil
}

// write runs fn in a transaction of the store's second writer. The transaction does not end
// with ctx: database/sql would roll it back in a goroutine of its own, after the write lock was
// released, and the writer's next Begin could find it still open ("cannot start a transaction
// within a transaction"). Its statements are short.
func (s *Store) write(ctx context.Context, durable bool, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := s.ow.Begin(ctx, durable)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx.Tx); err != nil {
		return err
	}
	return tx.Commit()
}

// NextSequence returns the next number of the sequence name in year.
func (s *Store) NextSequence(ctx context.Context, name string, year int) (int64, error) {
	var n int64
	err := s.write(ctx, true, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, nextSequence, name, year).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("dossier sqlite store: sequence %s/%d: %w", name, year, err)
	}
	return n, nil
}

// RaiseOnce reports whether this call is the first to raise kind for stream's deadline due.
func (s *Store) RaiseOnce(ctx context.Context, stream, kind string, due calendar.Date) (bool, error) {
	var n int64
	err := s.write(ctx, true, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO dossier_raised (stream, kind, due, raised) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			stream, kind, store.DateColumn(due), time.Now().UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("dossier sqlite store: raise %s of %s: %w", kind, stream, err)
	}
	return n == 1, nil
}

// ClaimOutbox leases up to n messages (see store.Outbox). Leases and marks are written
// relaxed: one lost to a power cut only means a message published again.
func (s *Store) ClaimOutbox(ctx context.Context, n int, lease time.Duration) ([]store.OutboxRow, error) {
	var out []store.OutboxRow
	now := time.Now()
	err := s.write(ctx, false, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE dossier_outbox SET claimed_until = ?1 WHERE pos IN (
			SELECT o.pos FROM dossier_outbox o WHERE o.claimed_until <= ?2
			AND NOT EXISTS (SELECT 1 FROM dossier_outbox p WHERE p.stream = o.stream AND p.pos < o.pos AND p.claimed_until > ?2)
			ORDER BY o.pos LIMIT ?3)
			RETURNING pos, stream, id, type, subject, payload, metadata`, now.Add(lease).UnixNano(), now.UnixNano(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r store.OutboxRow
			var meta string
			if err := rows.Scan(&r.Pos, &r.Stream, &r.Message.ID, &r.Message.Type, &r.Message.Subject, &r.Message.Payload, &meta); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(meta), &r.Message.Metadata); err != nil {
				return fmt.Errorf("message %s metadata: %w", r.Message.ID, err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dossier sqlite store: claim outbox: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

// MarkPublished deletes published messages.
func (s *Store) MarkPublished(ctx context.Context, pos []int64) error {
	return s.outboxExec(ctx, `DELETE FROM dossier_outbox WHERE pos IN (SELECT value FROM json_each(?))`, pos, "mark published")
}

// ReleaseOutbox ends the leases of messages not published.
func (s *Store) ReleaseOutbox(ctx context.Context, pos []int64) error {
	return s.outboxExec(ctx, `UPDATE dossier_outbox SET claimed_until = 0 WHERE pos IN (SELECT value FROM json_each(?))`, pos, "release")
}

func (s *Store) outboxExec(ctx context.Context, query string, pos []int64, what string) error {
	if len(pos) == 0 {
		return nil
	}
	list, err := json.Marshal(pos)
	if err != nil {
		return fmt.Errorf("dossier sqlite store: %s: %w", what, err)
	}
	if err := s.write(ctx, false, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, string(list))
		return err
	}); err != nil {
		return fmt.Errorf("dossier sqlite store: %s: %w", what, err)
	}
	return nil
}

// PruneInbox forgets the consumed messages applied before t.
func (s *Store) PruneInbox(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, false, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM dossier_inbox WHERE applied < ?`, before.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("dossier sqlite store: prune inbox: %w", err)
	}
	return n, nil
}

// Applied reports whether the consumed message id was applied.
func (s *Store) Applied(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM dossier_inbox WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("dossier sqlite store: inbox %s: %w", id, err)
	}
	return n > 0, nil
}
