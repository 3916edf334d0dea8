package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// stmts are the transport's statements, prepared once on the database: SQLite parses and plans a
// statement at every prepare, which cost more than running it when each commit or read prepared
// its own. A transaction runs them through sql.Tx.StmtContext, which reuses the preparation the
// statement already has on the transaction's connection.
//
// Sets of sequence numbers go in as one JSON array (json_each), so that a statement of fixed text
// handles a whole batch: one statement for the acknowledgements of a subscription instead of two
// per acknowledgement.
type stmts struct {
	insertMessage *sql.Stmt
	insertPart    *sql.Stmt // ?1 seq, ?2 n, ?3 data
	// insertPending adds one pending row per subscribed group for the messages of seq ?1 to ?2:
	// the writer holds the write lock from the first insert of its transaction to the commit, so
	// that range holds exactly the messages the transaction inserted.
	insertPending *sql.Stmt
	ackPending    *sql.Stmt // ?1 sub, ?2 seqs
	// deleteAcked deletes the messages of seqs ?1 that no group waits for any more.
	deleteAcked *sql.Stmt
	// deleteParts deletes the parts of the messages of seqs ?1 that were deleted.
	deleteParts *sql.Stmt
	count       *sql.Stmt // ?1 sub, ?2 seqs
	// pending lists a subscription's pending rows after a sequence number, without the
	// messages: those published in this process are in memory already (handoff).
	pending *sql.Stmt // ?1 sub, ?2 after seq, ?3 limit
	message *sql.Stmt // ?1 seq
	parts   *sql.Stmt // ?1 seq
}

var stmtText = []struct {
	dst  func(*stmts) **sql.Stmt
	text string
}{
	{func(s *stmts) **sql.Stmt { return &s.insertMessage },
		`INSERT INTO transport_messages (topic, uuid, metadata, payload, parts) VALUES (?, ?, ?, ?, ?)`},
	{func(s *stmts) **sql.Stmt { return &s.insertPart },
		`INSERT INTO transport_parts (seq, n, data) VALUES (?1, ?2, ?3)`},
	{func(s *stmts) **sql.Stmt { return &s.insertPending },
		`INSERT INTO transport_pending (sub, seq)
		SELECT s.id, m.seq FROM transport_messages m JOIN transport_subscriptions s ON s.topic = m.topic
		WHERE m.seq BETWEEN ?1 AND ?2`},
	{func(s *stmts) **sql.Stmt { return &s.ackPending },
		`DELETE FROM transport_pending WHERE sub = ?1 AND seq IN (SELECT value FROM json_each(?2))`},
	{func(s *stmts) **sql.Stmt { return &s.deleteAcked },
		`DELETE FROM transport_messages WHERE seq IN (SELECT value FROM json_each(?1))
		AND NOT EXISTS (SELECT 1 FROM transport_pending p WHERE p.seq = transport_messages.seq)`},
	{func(s *stmts) **sql.Stmt { return &s.deleteParts },
		`DELETE FROM transport_parts WHERE seq IN (SELECT value FROM json_each(?1))
		AND NOT EXISTS (SELECT 1 FROM transport_messages m WHERE m.seq = transport_parts.seq)`},
	{func(s *stmts) **sql.Stmt { return &s.count },
		`UPDATE transport_pending SET deliveries = deliveries + 1 WHERE sub = ?1 AND seq IN (SELECT value FROM json_each(?2))`},
	{func(s *stmts) **sql.Stmt { return &s.pending },
		`SELECT seq, deliveries, not_before, attempts FROM transport_pending
		WHERE sub = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`},
	{func(s *stmts) **sql.Stmt { return &s.message },
		`SELECT uuid, metadata, payload, parts FROM transport_messages WHERE seq = ?1`},
	{func(s *stmts) **sql.Stmt { return &s.parts },
		`SELECT data FROM transport_parts WHERE seq = ?1 ORDER BY n`},
}

// prepareStmts prepares the transport's statements on db.
func prepareStmts(db *sql.DB) (*stmts, error) {
	s := &stmts{}
	for _, st := range stmtText {
		p, err := db.Prepare(st.text)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("embedded: prepare: %w", err)
		}
		*st.dst(s) = p
	}
	return s, nil
}

// close closes the statements prepared.
func (s *stmts) close() error {
	var errs []error
	for _, st := range stmtText {
		if p := *st.dst(s); p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// in runs stmt in tx with args.
func in(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, args ...any) (sql.Result, error) {
	return tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
}

// seqList appends seqs to dst as a JSON array, for json_each.
func seqList(dst []byte, seqs []int64) []byte {
	dst = append(dst, '[')
	for i, s := range seqs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, s, 10)
	}
	return append(dst, ']')
}
