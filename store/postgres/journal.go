package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiskao/aiskao/store"
)

// journalQueries are the journal's statements, with the schema's tables named in full.
type journalQueries struct {
	appendEntry, insert, writeHead, list            string
	readEnds, unchained, rows, version              string
	pruneLetters, redactIn, redactOthers            string
	lockEnds, firstWhole, hashOf, drop, writeAnchor string
}

const entryColumns = `id, at, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail`

func newJournalQueries(schema string) journalQueries {
	r := strings.NewReplacer("{s}", schema)
	redact := `UPDATE {s}.journal SET route = '', message_id = '', dossier = '', actor = '', subject = '',
		legal_basis = '', result = '', detail = $1, redacted_at = $2
		WHERE redacted_at IS NULL AND id IN (SELECT id FROM {s}.journal
			WHERE redacted_at IS NULL AND seq IS NOT NULL AND at < $3 AND %s LIMIT $5)`
	return journalQueries{
		// One statement links and inserts an entry: the UPDATE takes the chain row's lock, which
		// orders the appends of every process sharing the schema, and computes the entry's hash
		// from the head it finds (store.EntryHash: $1 is store.EntryDomain, $2 store.EntryTail);
		// the INSERT takes the new head from RETURNING. An id already journaled moves nothing.
		appendEntry: r.Replace(`WITH h AS (
				UPDATE {s}.journal_chain SET head_seq = head_seq + 1, head_prev = head_hash,
					head_hash = sha256($1::bytea || int8send(head_seq + 1) || head_hash || $2::bytea)
				WHERE one AND NOT EXISTS (SELECT 1 FROM {s}.journal WHERE id = $3)
				RETURNING head_seq, head_prev, head_hash)
			INSERT INTO {s}.journal (` + entryColumns + `, seq, prev_hash, body_hash, hash)
			SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, h.head_seq, h.head_prev, $14, h.head_hash FROM h`),
		insert: r.Replace(`INSERT INTO {s}.journal (` + entryColumns + `, seq, prev_hash, body_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`),
		writeHead: r.Replace(`UPDATE {s}.journal_chain SET head_seq = $1, head_hash = $2 WHERE one`),
		// The filter and order are appended by ListJournal.
		list:     r.Replace(`SELECT ` + entryColumns + `, seq, hash, redacted_at IS NOT NULL FROM {s}.journal`),
		version:  r.Replace(`SELECT coalesce(max(version), 0) FROM {s}.schema_migrations`),
		readEnds: r.Replace(`SELECT head_seq, head_hash, anchor_seq, anchor_hash, anchor_by FROM {s}.journal_chain WHERE one`),
		// Counted, and one named: rows added outside the hub may be many.
		unchained: r.Replace(`SELECT count(*), (SELECT id FROM {s}.journal WHERE seq IS NULL ORDER BY at, id LIMIT 1)
			FROM {s}.journal WHERE seq IS NULL`),
		rows: r.Replace(`SELECT ` + entryColumns + `, seq, prev_hash, body_hash, hash, redacted_at
			FROM {s}.journal WHERE seq IS NOT NULL ORDER BY seq`),
		pruneLetters: r.Replace(`DELETE FROM {s}.dead_letters WHERE id IN
			(SELECT id FROM {s}.dead_letters WHERE failed_at < $1 LIMIT $2)`),
		redactIn:     r.Replace(fmt.Sprintf(redact, `kind = ANY($4::text[])`)),
		redactOthers: r.Replace(fmt.Sprintf(redact, `kind <> ALL($4::text[])`)),
		lockEnds:     r.Replace(`SELECT head_seq, head_hash, anchor_seq FROM {s}.journal_chain WHERE one FOR UPDATE`),
		firstWhole:   r.Replace(`SELECT min(seq) FROM {s}.journal WHERE seq > $1 AND redacted_at IS NULL AND kind <> $2`),
		hashOf:       r.Replace(`SELECT hash FROM {s}.journal WHERE seq = $1`),
		drop:         r.Replace(`DELETE FROM {s}.journal WHERE seq <= $1`),
		writeAnchor:  r.Replace(`UPDATE {s}.journal_chain SET anchor_seq = $1, anchor_hash = $2, anchor_by = $3 WHERE one`),
	}
}

// AppendJournal records e as the next entry of the chain, filling its id (a time-ordered UUIDv7)
// and time when empty. Text that is not valid UTF-8 is stored with U+FFFD in place of the bad
// bytes; details are kept byte for byte; time is kept to the microsecond. Entries appended at
// the same time are chained and committed together; AppendJournal returns once its entry is
// durable. When ctx ends first, it returns ctx's error and the entry may or may not be journaled.
func (s *Store) AppendJournal(ctx context.Context, e store.JournalEntry) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	return store.AppendBatched(ctx, "postgres store", s.journal, e, kept, errClosed)
}

// kept returns e as the database keeps it, so that its hash is of what is read back.
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
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	b := &pgx.Batch{}
	for _, r := range reqs {
		r.Err = nil
		e := r.Entry
		body := store.BodyHash(e)
		b.Queue(s.jq.appendEntry, []byte(store.EntryDomain), store.EntryTail(e.ID, e.Time, e.Kind, body),
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

// queueInsert links e after head, moves head and queues its insert.
func queueInsert(b *pgx.Batch, insert string, head *store.Chain, e store.JournalEntry) {
	l := head.Next(e)
	b.Queue(insert, e.ID, e.Time, e.Kind, e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject, e.LegalBasis,
		e.Result, store.EncodeMetadata(e.Detail), l.Seq, l.Prev[:], l.Body[:], l.Hash[:])
}

// chainExisting chains the entries journaled before the chain existed, in (at, id) order. It runs
// once, in the transaction of migration 0004, whose search_path names the schema.
func chainExisting(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT `+entryColumns+` FROM journal WHERE seq IS NULL ORDER BY at, id`)
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
	var chain store.Chain // the migration starts the chain at zero
	b := &pgx.Batch{}
	for _, e := range entries {
		l := chain.Next(e)
		b.Queue(`UPDATE journal SET seq = $1, prev_hash = $2, body_hash = $3, hash = $4 WHERE id = $5`,
			l.Seq, l.Prev[:], l.Body[:], l.Hash[:], e.ID)
	}
	b.Queue(`UPDATE journal_chain SET head_seq = $1, head_hash = $2 WHERE one`, chain.Seq, chain.Hash[:])
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("chain existing journal entries: %w", err)
	}
	return nil
}

// scanEntry reads the entryColumns, then more. A detail that cannot be decoded is returned as an
// error of its own, so that verification can report the entry.
func scanEntry(row pgx.Row, more ...any) (e store.JournalEntry, detailErr error, err error) {
	var detail []byte
	if err := row.Scan(append([]any{&e.ID, &e.Time, &e.Kind, &e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject,
		&e.LegalBasis, &e.Result, &detail}, more...)...); err != nil {
		return e, nil, err
	}
	e.Time = e.Time.UTC()
	e.Detail, detailErr = store.DecodeMetadata(detail)
	return e, detailErr, nil
}

// ListJournal returns journal entries newest first (by time, then by id).
func (s *Store) ListJournal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	cols, args := f.Conditions()
	q := s.jq.list
	for i, c := range cols {
		if i == 0 {
			q += ` WHERE `
		} else {
			q += ` AND `
		}
		q += c + ` = $` + strconv.Itoa(i+1)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += ` ORDER BY at DESC, id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres store: list journal: %w", err)
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var (
			seq      *int64
			hash     []byte
			redacted bool
		)
		e, derr, err := scanEntry(rows, &seq, &hash, &redacted)
		if err != nil {
			return nil, fmt.Errorf("postgres store: list journal: %w", err)
		}
		if derr != nil {
			return nil, fmt.Errorf("postgres store: journal entry %s: %w", e.ID, derr)
		}
		if seq != nil {
			e.Seq = *seq
		}
		if h, ok := store.HashFrom(hash); ok {
			e.Hash = h.String()
		}
		e.Redacted = redacted
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: list journal: %w", err)
	}
	return out, nil
}

// chainVersion is the schema version that chains the journal.
const chainVersion = 4

// ReadChain reads the journal's chain (see store.ChainSource).
func (s *Store) ReadChain(ctx context.Context, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	if s.closed.Load() {
		return errClosed
	}
	return readChain(ctx, s.pool, s.jq, start, row)
}

// Where names the database and schema, without the password.
func (s *Store) Where() string { return s.where }

// readChain reads the chain in one read-only, repeatable-read transaction: one snapshot while
// the hub goes on appending.
func readChain(ctx context.Context, pool *pgxpool.Pool, q journalQueries, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // read only
	var (
		st      store.ChainState
		version int
	)
	if err := tx.QueryRow(ctx, q.version).Scan(&version); err != nil {
		return fmt.Errorf("not an aiskao store schema (no schema version): %w", err)
	}
	if version < chainVersion {
		st.SchemaNote = fmt.Sprintf("the journal is not chained yet (store schema version %d, chained from %d): start the hub of this version once to chain it", version, chainVersion)
		return start(st)
	}
	var head, anchor []byte
	if err := tx.QueryRow(ctx, q.readEnds).Scan(&st.Head.Seq, &head, &st.Anchor.Seq, &anchor, &st.AnchorBy); err != nil {
		return fmt.Errorf("read the journal chain's ends: %w", err)
	}
	st.Head.Hash, _ = store.HashFrom(head)
	st.Anchor.Hash, _ = store.HashFrom(anchor)
	var first *string
	if err := tx.QueryRow(ctx, q.unchained).Scan(&st.Unchained, &first); err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	if first != nil {
		st.FirstUnchained = *first
	}
	if err := start(st); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, q.rows)
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer rows.Close()
	return store.ReadChainRows(rows, scanChainRow, row)
}

// scanChainRow reads a row of q.rows; redacted_at is NULL while the entry is whole.
func scanChainRow(rw store.Row) (store.ChainRow, error) {
	var r store.ChainRow
	var redacted *time.Time
	e, derr, err := scanEntry(rw, &r.Seq, &r.Prev, &r.Body, &r.Hash, &redacted)
	r.Entry, r.DetailOK = e, derr == nil
	if redacted != nil {
		r.Redacted, r.RedactedAt = true, redacted.UTC()
	}
	return r, err
}

// chainDB is a schema opened to verify its journal, without migrating it.
type chainDB struct {
	pool  *pgxpool.Pool
	q     journalQueries
	where string
}

// OpenChain connects to the database and schema that cfg names to read its journal, without
// migrating or starting anything.
func OpenChain(cfg Config) (store.ChainSource, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres store: url: %w", err)
	}
	pc.MaxConns = 2
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout.D()
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = defaultApplicationName + " journal verify"
	}
	where := fmt.Sprintf("%s schema %s", redact(cfg.URL), cfg.Schema)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", where, err)
	}
	return &chainDB{pool: pool, q: newJournalQueries(pgx.Identifier{cfg.Schema}.Sanitize()), where: where}, nil
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
