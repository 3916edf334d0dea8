package sqlconn

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/store"
)

// idSpace is the namespace of the ids of rows read.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:sql"))

// stateKey is the key of the cursor in the hub's store, under the route "connector:<name>".
const stateKey = "cursor"

// Metadata names set on the messages of a source.
const (
	// MetaTable is the table (or "query") a row came from.
	MetaTable = "sql_table"
	// MetaCursor is the row's cursor (poll) or key (outbox) value, as text.
	MetaCursor = "sql_cursor"
)

type source struct {
	name    string
	cfg     Config
	d       dialect
	prep    *preparer // the init statements
	db      *sql.DB
	st      store.State
	log     *slog.Logger
	dataDir string
	what    string // the table or "query", in ids and metadata
	query   string // the poll or claim statement, without its cursor condition

	running   atomic.Bool
	skipLocks bool // the database has FOR UPDATE SKIP LOCKED

	// Owned by the Run goroutine.
	cursor *cursor
	gaps   map[int64]time.Time // with settle: when a gap after a cursor value was first seen
	failed bool                // the last poll failed: its error was logged
	// unfinished is a batch of outbox rows stored but not yet removed: removed before the next
	// claim.
	unfinished *claimed
}

// cursor is the position of a poll source: the last row's cursor value, and its tie-breaker's.
type cursor struct {
	Column string      `json:"column"`
	Value  cursorValue `json:"value"`
	Tie    string      `json:"tie_column,omitempty"`
	TieVal cursorValue `json:"tie_value,omitzero"`
}

// cursorValue is one value of a cursor, kept with its kind so that it goes back to the database
// as the same type: an integer, a time or text.
type cursorValue struct {
	Kind string `json:"kind"` // int, time, text
	Text string `json:"text"`
}

func (v cursorValue) arg() any {
	switch v.Kind {
	case "int":
		i, _ := strconv.ParseInt(v.Text, 10, 64)
		return i
	case "time":
		t, _ := time.Parse(time.RFC3339Nano, v.Text)
		return t
	}
	return v.Text
}

// cursorOf keeps a scanned value as a cursor value.
func cursorOf(c column, v any) (cursorValue, error) {
	switch x := v.(type) {
	case nil:
		return cursorValue{}, fmt.Errorf("column %s is NULL; a cursor column must always have a value", c.name)
	case int64:
		return cursorValue{"int", strconv.FormatInt(x, 10)}, nil
	case int32:
		return cursorValue{"int", strconv.FormatInt(int64(x), 10)}, nil
	case uint64:
		return cursorValue{"text", strconv.FormatUint(x, 10)}, nil
	case time.Time:
		return cursorValue{"time", x.UTC().Format(time.RFC3339Nano)}, nil
	case []byte:
		return textCursor(c, string(x))
	case string:
		return textCursor(c, x)
	}
	return cursorValue{"text", fmt.Sprint(v)}, nil
}

func textCursor(c column, s string) (cursorValue, error) {
	switch c.kind() {
	case "integer":
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return cursorValue{"int", s}, nil
		}
	case "timestamp", "date":
		if t, err := parseTime(s); err == nil {
			return cursorValue{"time", t.UTC().Format(time.RFC3339Nano)}, nil
		}
	}
	return cursorValue{"text", s}, nil
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	c, err := options(cfg)
	if err == nil {
		err = c.sourceCheck()
	}
	if err != nil {
		return nil, fmt.Errorf("sql source %s: %w", env.Name, err)
	}
	if c.Mode == ModePoll && env.State == nil {
		return nil, fmt.Errorf("sql source %s: the hub's store is needed to remember the cursor", env.Name)
	}
	db, err := open(c, env) // checks the connection string; Run opens its own
	if err != nil {
		return nil, fmt.Errorf("sql source %s: %w", env.Name, err)
	}
	_ = db.Close()
	s := &source{name: env.Name, cfg: c, d: dialect{c.Driver}, st: env.State, log: env.Log(), what: c.Table, dataDir: env.DataDir, prep: &preparer{stmts: c.Init}}
	if c.Query != "" {
		s.what = "query"
	}
	s.query = s.baseQuery()
	return s, nil
}

// selectList is what is read of the table.
func (s *source) selectList() string {
	if len(s.cfg.Columns) == 0 {
		return "*"
	}
	cols := make([]string, len(s.cfg.Columns))
	for i, c := range s.cfg.Columns {
		cols[i] = s.d.quote(c)
	}
	return strings.Join(cols, ", ")
}

// baseQuery is the SELECT a poll filters by the cursor.
func (s *source) baseQuery() string {
	if s.cfg.Query != "" {
		return "SELECT * FROM (" + strings.TrimRight(strings.TrimSpace(s.cfg.Query), ";") + ") q"
	}
	return "SELECT " + s.selectList() + " FROM " + s.d.quote(s.cfg.Table)
}

// Run reads rows until ctx is done.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("sql source %s: already running", s.name)
	}
	defer s.running.Store(false)
	db, err := open(s.cfg, connectors.Env{DataDir: s.dataDir})
	if err != nil {
		return fmt.Errorf("sql source %s: %w", s.name, err)
	}
	s.db = db
	defer db.Close()
	s.gaps = map[int64]time.Time{}
	wake := make(chan struct{}, 1)
	if s.cfg.Notify != "" {
		go s.listen(ctx, wake)
	}
	for {
		full, err := s.once(ctx, emit)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if !s.failed {
				s.log.Error("cannot read the rows; trying again at every poll", "error", err)
				s.failed = true
			}
		default:
			if s.failed {
				s.log.Info("reading the rows again")
				s.failed = false
			}
			if full {
				continue // more rows are waiting
			}
		}
		t := time.NewTimer(s.cfg.PollInterval.D())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-wake:
			t.Stop()
		}
	}
}

// once reads and emits one batch, and reports whether it was full.
func (s *source) once(ctx context.Context, emit connectors.Emit) (bool, error) {
	if err := s.prep.ensure(ctx, s.db); err != nil {
		return false, err
	}
	if s.cfg.Mode == ModeOutbox {
		return s.claim(ctx, emit)
	}
	return s.poll(ctx, emit)
}

// loadCursor reads the remembered cursor, once.
func (s *source) loadCursor(ctx context.Context) error {
	if s.cursor != nil {
		return nil
	}
	b, err := s.st.GetState(ctx, "connector:"+s.name, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		s.cursor = &cursor{Column: s.cfg.Cursor, Tie: s.cfg.TieBreaker}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the cursor from the hub's store: %w", err)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("the cursor in the hub's store is not readable (%v); remove the state key %q of connector:%s to read from the start", err, stateKey, s.name)
	}
	if c.Column != s.cfg.Cursor || c.Tie != s.cfg.TieBreaker {
		return fmt.Errorf("the remembered cursor is on column %q (tie breaker %q), not %q (%q) as configured; remove the state key %q of connector:%s to read from the start",
			c.Column, c.Tie, s.cfg.Cursor, s.cfg.TieBreaker, stateKey, s.name)
	}
	s.cursor = &c
	return nil
}

// poll reads the rows after the cursor, emits them, and only then remembers the new cursor: a
// stop in between reads them again under the same ids, which the routes' idempotency drops.
func (s *source) poll(ctx context.Context, emit connectors.Emit) (bool, error) {
	if err := s.loadCursor(ctx); err != nil {
		return false, err
	}
	q, args := s.pollQuery()
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("poll %s: %w", s.what, err)
	}
	defer rows.Close()
	cols, err := columnsOf(rows)
	if err != nil {
		return false, fmt.Errorf("poll %s: %w", s.what, err)
	}
	ci, ti := indexOf(cols, s.cfg.Cursor), indexOf(cols, s.cfg.TieBreaker)
	if ci < 0 || (s.cfg.TieBreaker != "" && ti < 0) {
		return false, fmt.Errorf("poll %s: the result has no column %q or %q", s.what, s.cfg.Cursor, s.cfg.TieBreaker)
	}
	var msgs []*message.Message
	var positions []cursor // the cursor after each row
	next := *s.cursor
	for rows.Next() {
		vals, err := scan(rows, len(cols))
		if err != nil {
			return false, fmt.Errorf("poll %s: %w", s.what, err)
		}
		if next.Value, err = cursorOf(cols[ci], vals[ci]); err != nil {
			return false, fmt.Errorf("poll %s: %w", s.what, err)
		}
		pos := next.Value.Text
		if ti >= 0 {
			if next.TieVal, err = cursorOf(cols[ti], vals[ti]); err != nil {
				return false, fmt.Errorf("poll %s: %w", s.what, err)
			}
			pos += "," + next.TieVal.Text
		}
		m, err := s.message(cols, vals, pos)
		if err != nil {
			return false, fmt.Errorf("poll %s: row at %s %s: %w", s.what, s.cfg.Cursor, pos, err)
		}
		msgs = append(msgs, m)
		positions = append(positions, next)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("poll %s: %w", s.what, err)
	}
	rows.Close()
	full := len(msgs) == s.cfg.BatchSize
	if cut := s.settled(positions); cut < len(msgs) {
		msgs, positions, full = msgs[:cut], positions[:cut], false
	}
	if len(msgs) == 0 {
		return false, nil
	}
	next = positions[len(positions)-1]
	if err := emit(ctx, msgs...); err != nil {
		return false, fmt.Errorf("rows of %s not stored; read again at the next poll: %w", s.what, err)
	}
	s.cursor = &next
	b, _ := json.Marshal(next)
	// The rows are stored, so the cursor is written even when the source is being stopped:
	// a shutdown right after a batch must not make the next start read it again.
	putCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.st.PutState(putCtx, "connector:"+s.name, stateKey, b); err != nil {
		// The rows are stored: go on from the new cursor. A restart before the cursor is
		// remembered reads them again under the same ids.
		s.log.Warn("rows stored but the cursor not remembered", "error", err)
	}
	if v, ok := next.Value.arg().(int64); ok && next.Value.Kind == "int" {
		for gap := range s.gaps {
			if gap < v {
				delete(s.gaps, gap)
			}
		}
	}
	return full, nil
}

// settled returns how many of the rows read may be taken: with settle, an integer cursor that
// skips a value (the cursor at 7, the rows 8, 10) may skip a row still being written by a
// transaction that commits after a later one; the rows after the gap wait until it has been
// there for settle, then go (the value was rolled back, or the sequence skipped it).
func (s *source) settled(positions []cursor) int {
	// A query's own conditions leave gaps that never fill: it is read without waiting.
	if s.cfg.Settle <= 0 || s.cfg.Query != "" || s.cfg.TieBreaker != "" || s.cursor.Value.Kind != "int" {
		return len(positions)
	}
	prev := s.cursor.Value.arg().(int64)
	for i, p := range positions {
		if p.Value.Kind != "int" {
			return len(positions)
		}
		v := p.Value.arg().(int64)
		if v != prev+1 {
			first, seen := s.gaps[prev]
			if !seen {
				first = time.Now()
				s.gaps[prev] = first
			}
			if time.Since(first) < s.cfg.Settle.D() {
				return i
			}
		}
		prev = v
	}
	return len(positions)
}

// pollQuery is the statement reading the next batch after the cursor.
func (s *source) pollQuery() (string, []any) {
	var b strings.Builder
	b.WriteString(s.query)
	var args []any
	c, t := s.d.quote(s.cfg.Cursor), ""
	if s.cfg.Query != "" {
		c = "q." + c
	}
	if s.cfg.TieBreaker != "" {
		t = s.d.quote(s.cfg.TieBreaker)
		if s.cfg.Query != "" {
			t = "q." + t
		}
	}
	if s.cursor.Value.Kind != "" {
		if t == "" {
			fmt.Fprintf(&b, " WHERE %s > %s", c, s.d.placeholder(1))
			args = append(args, s.cursor.Value.arg())
		} else {
			// Written out rather than as a row comparison, which not every database can use an
			// index for.
			fmt.Fprintf(&b, " WHERE (%s > %s OR (%s = %s AND %s > %s))", c, s.d.placeholder(1), c, s.d.placeholder(2), t, s.d.placeholder(3))
			args = append(args, s.cursor.Value.arg(), s.cursor.Value.arg(), s.cursor.TieVal.arg())
		}
	}
	b.WriteString(" ORDER BY " + c)
	if t != "" {
		b.WriteString(", " + t)
	}
	b.WriteString(" LIMIT " + strconv.Itoa(s.cfg.BatchSize))
	return b.String(), args
}

// claim takes a batch of outbox rows, emits them and removes them. Rows are claimed in a short
// transaction that writes a claim of this source's own into claim_column; only then are they
// emitted, and deleted or marked by that claim afterwards. A transaction the database rolls back
// (InnoDB choosing a deadlock victim, a lost connection) before the emit leaves the rows to be
// claimed again, never handed over; one after the emit leaves them claimed by this source, which
// tries to remove them again before it claims more. Other hubs skip the rows locked during a
// claim where the database can (PostgreSQL, MariaDB 10.6 and later, MySQL 8) and wait for them
// elsewhere, and skip claimed rows until their claim lapses (claim_timeout).
func (s *source) claim(ctx context.Context, emit connectors.Emit) (bool, error) {
	if err := s.checkSkipLocked(ctx); err != nil {
		return false, err
	}
	if s.unfinished != nil {
		if err := s.finish(ctx, *s.unfinished); err != nil {
			return false, err
		}
		s.unfinished = nil
	}
	c, err := s.take(ctx)
	if err != nil || len(c.msgs) == 0 {
		return false, err
	}
	if err := emit(ctx, c.msgs...); err != nil {
		// Not handed over: released at once rather than when the claim lapses.
		s.release(ctx, c)
		return false, fmt.Errorf("rows of %s not stored; claimed again at the next poll: %w", s.what, err)
	}
	// Stored: the rows are removed even when the source is being stopped, so that they are not
	// left claimed until the claim lapses.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.finish(fctx, c); err != nil {
		s.unfinished = &c
		return false, err
	}
	return len(c.msgs) == s.cfg.BatchSize, nil
}

// claimed is a batch of rows this source claimed.
type claimed struct {
	token string
	keys  []any
	msgs  []*message.Message
}

// claimTime is the layout of the time at the start of a claim: digits only, fixed width, so that
// a claim compares as text with any collation in the order of its time.
const claimTime = "20060102150405.000000"

// newClaim returns a claim lapsing at deadline: its time, then a random part of its own.
func newClaim(deadline time.Time) string {
	return strings.Replace(deadline.UTC().Format(claimTime), ".", "", 1) + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
}

// claimFree is the condition of a row that may be claimed; its parameter is the time now in the
// claims' layout.
func (s *source) claimFree(n int) string {
	cond := "(" + s.d.quote(s.cfg.ClaimCol) + " IS NULL OR " + s.d.quote(s.cfg.ClaimCol) + " < " + s.d.placeholder(n) + ")"
	if s.cfg.Done == DoneMark {
		cond += " AND " + s.d.quote(s.cfg.DoneColumn) + " IS NULL"
	}
	return cond
}

// keyList returns "key IN (...)" for n keys, their placeholders numbered from first.
func (s *source) keyList(first, n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = s.d.placeholder(first + i)
	}
	return s.d.quote(s.cfg.Key) + " IN (" + strings.Join(marks, ", ") + ")"
}

// take claims up to batch_size free rows in key order and reads them, in one transaction.
func (s *source) take(ctx context.Context) (claimed, error) {
	var opts *sql.TxOptions
	if s.cfg.Driver == DriverMySQL {
		// Under REPEATABLE READ InnoDB also locks the gaps next to the claimed rows; READ
		// COMMITTED locks the rows only, and makes deadlocks between hubs rare.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	now := time.Now()
	nowText := strings.Replace(now.UTC().Format(claimTime), ".", "", 1)
	key, table := s.d.quote(s.cfg.Key), s.d.quote(s.cfg.Table)
	q := "SELECT " + key + " FROM " + table + " WHERE " + s.claimFree(1) + " ORDER BY " + key + " LIMIT " + strconv.Itoa(s.cfg.BatchSize)
	switch {
	case s.cfg.Driver == DriverSQLite: // the transaction holds the database's write lock
	case s.skipLocks:
		q += " FOR UPDATE SKIP LOCKED"
	default:
		q += " FOR UPDATE"
	}
	var keys []any
	rows, err := tx.QueryContext(ctx, q, nowText)
	if err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
		}
		if b, ok := k.([]byte); ok {
			k = string(b)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	if len(keys) == 0 {
		return claimed{}, nil
	}
	c := claimed{token: newClaim(now.Add(s.cfg.ClaimTimeout.D()))}
	// The condition again: where the database has no SKIP LOCKED, a row may have been claimed
	// by another hub while this one waited for its lock.
	upd := "UPDATE " + table + " SET " + s.d.quote(s.cfg.ClaimCol) + " = " + s.d.placeholder(1) +
		" WHERE " + s.claimFree(2) + " AND " + s.keyList(3, len(keys))
	if _, err := tx.ExecContext(ctx, upd, append([]any{c.token, nowText}, keys...)...); err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	sel := s.query + " WHERE " + s.d.quote(s.cfg.ClaimCol) + " = " + s.d.placeholder(1) + " AND " + s.keyList(2, len(keys)) + " ORDER BY " + key
	rows, err = tx.QueryContext(ctx, sel, append([]any{c.token}, keys...)...)
	if err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	defer rows.Close()
	cols, err := columnsOf(rows)
	if err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	ki, ci := indexOf(cols, s.cfg.Key), indexOf(cols, s.cfg.ClaimCol)
	if ki < 0 {
		return claimed{}, fmt.Errorf("claim from %s: the table has no column %q", s.what, s.cfg.Key)
	}
	for rows.Next() {
		vals, err := scan(rows, len(cols))
		if err != nil {
			return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
		}
		kv, err := cursorOf(cols[ki], vals[ki])
		if err != nil {
			return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
		}
		rc, rv := cols, vals
		if ci >= 0 { // the claim is the hub's, not the row's: left out of the message
			rc = append(slices.Clone(cols[:ci]), cols[ci+1:]...)
			rv = append(slices.Clone(vals[:ci]), vals[ci+1:]...)
		}
		m, err := s.message(rc, rv, kv.Text)
		if err != nil {
			return claimed{}, fmt.Errorf("claim from %s: row %s %s: %w", s.what, s.cfg.Key, kv.Text, err)
		}
		c.msgs = append(c.msgs, m)
		c.keys = append(c.keys, kv.arg())
	}
	if err := rows.Err(); err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		return claimed{}, fmt.Errorf("claim from %s: %w", s.what, err)
	}
	return c, nil
}

// finish deletes or marks the rows of c, those still under its claim.
func (s *source) finish(ctx context.Context, c claimed) error {
	table := s.d.quote(s.cfg.Table)
	where := " WHERE " + s.d.quote(s.cfg.ClaimCol) + " = " + s.d.placeholder(1) + " AND " + s.keyList(2, len(c.keys))
	q := "DELETE FROM " + table + where
	if s.cfg.Done == DoneMark {
		q = "UPDATE " + table + " SET " + s.d.quote(s.cfg.DoneColumn) + " = CURRENT_TIMESTAMP" + where
	}
	res, err := s.db.ExecContext(ctx, q, append([]any{c.token}, c.keys...)...)
	if err != nil {
		return fmt.Errorf("rows of %s stored but not removed; removed before the next claim: %w", s.what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n < int64(len(c.keys)) {
		s.log.Warn("rows were stored after their claim lapsed; another hub may have taken them too (raise claim_timeout)",
			"rows", int64(len(c.keys))-n, "claim_timeout", s.cfg.ClaimTimeout.D())
	}
	return nil
}

// release gives up the claim of rows that were not handed over, so that they are claimed again
// at once; when it fails they wait for the claim to lapse.
func (s *source) release(ctx context.Context, c claimed) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	q := "UPDATE " + s.d.quote(s.cfg.Table) + " SET " + s.d.quote(s.cfg.ClaimCol) + " = NULL WHERE " +
		s.d.quote(s.cfg.ClaimCol) + " = " + s.d.placeholder(1) + " AND " + s.keyList(2, len(c.keys))
	if _, err := s.db.ExecContext(ctx, q, append([]any{c.token}, c.keys...)...); err != nil {
		s.log.Warn("cannot release claimed rows; they are claimed again once the claim lapses", "error", err, "claim_timeout", s.cfg.ClaimTimeout.D())
	}
}

var versionPattern = regexp.MustCompile(`^(\d+)\.(\d+)`)

// checkSkipLocked finds out, once, whether a MariaDB or MySQL server has SKIP LOCKED.
func (s *source) checkSkipLocked(ctx context.Context) error {
	switch s.cfg.Driver {
	case DriverPostgres:
		s.skipLocks = true
		return nil
	case DriverSQLite:
		return nil
	}
	if s.skipLocks {
		return nil
	}
	var v string
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return fmt.Errorf("ask the server's version: %w", err)
	}
	m := versionPattern.FindStringSubmatch(v)
	if m == nil {
		return nil
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if strings.Contains(strings.ToLower(v), "mariadb") {
		s.skipLocks = major > 10 || major == 10 && minor >= 6
	} else {
		s.skipLocks = major >= 8
	}
	if !s.skipLocks {
		s.log.Info("the server has no SKIP LOCKED; hubs sharing the outbox take turns", "version", v)
	}
	return nil
}

// message makes one row into a message, its id derived from the connector, the table and the
// row's position, so that a row read again is the same message.
func (s *source) message(cols []column, vals []any, pos string) (*message.Message, error) {
	var payload []byte
	var err error
	ct := "application/json"
	if s.cfg.PayloadCol != "" {
		i := indexOf(cols, s.cfg.PayloadCol)
		if i < 0 {
			return nil, fmt.Errorf("the result has no column %q", s.cfg.PayloadCol)
		}
		if payload, err = rawPayload(vals[i]); err != nil {
			return nil, err
		}
		ct = sniff(payload)
	} else if payload, err = rowJSON(cols, vals); err != nil {
		return nil, err
	}
	id := uuid.NewSHA1(idSpace, []byte(s.name+"\x00"+s.what+"\x00"+pos)).String()
	m := message.NewMessage(id, payload)
	m.Metadata.Set(envelope.ContentType, ct)
	m.Metadata.Set(MetaTable, s.what)
	m.Metadata.Set(MetaCursor, pos)
	if s.cfg.MessageType != "" {
		m.Metadata.Set(envelope.Type, s.cfg.MessageType)
	}
	return m, nil
}

// sniff names the media type of a payload column's value.
func sniff(p []byte) string {
	t := bytes.TrimSpace(p)
	switch {
	case len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t):
		return "application/json"
	case len(t) > 0 && t[0] == '<':
		return "application/xml"
	}
	return "application/octet-stream"
}

func indexOf(cols []column, name string) int {
	if name == "" {
		return -1
	}
	for i, c := range cols {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

// scan reads the current row as the driver gives it.
func scan(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			vals[i] = bytes.Clone(b) // the driver may reuse its buffer
		}
	}
	return vals, nil
}

// listen wakes the poll loop at every NOTIFY on the configured channel, reconnecting when the
// connection is lost.
func (s *source) listen(ctx context.Context, wake chan<- struct{}) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	warned := false
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pgx.Connect(ctx, s.cfg.DSN)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if _, err := conn.Exec(ctx, "LISTEN "+s.d.quote(s.cfg.Notify)); err != nil {
				return err
			}
			warned = false
			signal() // a NOTIFY may have come while not listening
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				signal()
			}
		}()
		if ctx.Err() != nil {
			return
		}
		if !warned {
			s.log.Warn("cannot LISTEN; polling only until it can", "channel", s.cfg.Notify, "error", err)
			warned = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(max(time.Second, s.cfg.PollInterval.D())):
		}
	}
}
