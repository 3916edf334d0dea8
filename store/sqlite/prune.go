package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/store"
)

var _ store.Pruner = (*Store)(nil)

// Prune removes what policy says is past its retention at now (see store.Pruner); each chunk
// holds the write lock only briefly, so the transport and the journal writer are not kept waiting.
func (s *Store) Prune(ctx context.Context, policy store.RetentionPolicy, now time.Time) (store.Pruned, error) {
	return store.PruneStore(ctx, "sqlite store", s.quit, errClosed, store.PruneFuncs{
		DeleteLetters: s.deleteDeadLetters, RedactEntries: s.redactEntries, FinishPrune: s.finishPrune}, policy, now)
}

// deleteDeadLetters deletes, in chunks, the dead letters that failed before before.
func (s *Store) deleteDeadLetters(ctx context.Context, before time.Time) (int64, error) {
	return s.chunked(ctx, `DELETE FROM store_dead_letters WHERE id IN
		(SELECT id FROM store_dead_letters WHERE time < ? LIMIT ?)`, before.UnixNano())
}

// redactEntries removes, in chunks, the content of the chained entries of kinds (with others: of the
// other kinds) journaled before before.
func (s *Store) redactEntries(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error) {
	op := "IN"
	if others {
		op = "NOT IN"
	}
	args := []any{now.UnixNano(), store.EncodeMetadata(nil), before.UnixNano()}
	for _, k := range kinds {
		args = append(args, k)
	}
	return s.chunked(ctx, `UPDATE store_journal SET route = '', message_id = '', dossier = '', actor = '',
		subject = '', legal_basis = '', result = '', redacted = ?, detail = ? WHERE id IN
		(SELECT id FROM store_journal WHERE redacted IS NULL AND seq IS NOT NULL AND time < ?
			AND kind `+op+` (`+strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", ")+`) LIMIT ?)`, args...)
}

// chunked runs a statement whose last argument is a row limit in chunks (store.Chunked).
func (s *Store) chunked(ctx context.Context, query string, args ...any) (int64, error) {
	return store.Chunked(s.quit, errClosed, func(limit int) (int64, error) {
		res, err := sqlitedb.Exec(ctx, s.db, query, append(args, limit)...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// finishPrune drops the oldest entries past their retention when drop, and journals the
// pruning, in one transaction, so that the anchor is never moved without its record.
func (s *Store) finishPrune(ctx context.Context, drop bool, now time.Time, p *store.Pruned) error {
	w, err := sqlitedb.NewWriter(s.db)
	if err != nil {
		return err
	}
	defer w.Close()
	tx, err := w.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	head, err := readHead(ctx, tx.Tx)
	if err != nil {
		return err
	}
	var anchorSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT anchor_seq FROM store_journal_chain WHERE one = 1`).Scan(&anchorSeq); err != nil {
		return err
	}
	if drop {
		if err := dropPrefix(ctx, tx.Tx, head, anchorSeq, p); err != nil {
			return err
		}
	}
	p.Head = head
	if !p.Any() {
		return nil
	}
	e := store.PrunedEntry(*p, now)
	id, err := store.NewJournalID()
	if err != nil {
		return err
	}
	e.ID, e.Time = id, time.Unix(0, now.UnixNano()).UTC()
	ok, err := insertEntry(ctx, tx.Tx, &head, e)
	switch {
	case err != nil:
		return fmt.Errorf("journal the pruning: %w", err)
	case !ok:
		return fmt.Errorf("journal the pruning: %w", store.ErrDuplicateEntry)
	}
	if err := writeHead(ctx, tx.Tx, head); err != nil {
		return err
	}
	if p.Dropped > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE store_journal_chain SET anchor_seq = ?, anchor_hash = ?, anchor_by = ? WHERE one = 1`,
			p.Anchor.Seq, p.Anchor.Hash[:], head.Seq); err != nil {
			return fmt.Errorf("move the anchor: %w", err)
		}
	}
	p.Head = head
	return tx.Commit()
}

// dropPrefix deletes the entries from the anchor up to the first one that is whole (not
// redacted), other than journal.pruned entries, which the new journal.pruned entry supersedes,
// and sets p.Anchor to the last deleted.
func dropPrefix(ctx context.Context, tx *sql.Tx, head store.Chain, anchorSeq int64, p *store.Pruned) error {
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(seq) FROM store_journal WHERE seq > ? AND redacted IS NULL AND kind <> ?`,
		anchorSeq, store.KindPruned).Scan(&first); err != nil {
		return fmt.Errorf("find the entries to drop: %w", err)
	}
	last := head.Seq
	if first.Valid {
		last = first.Int64 - 1
	}
	if last <= anchorSeq {
		return nil
	}
	var hash []byte
	if err := tx.QueryRowContext(ctx, `SELECT hash FROM store_journal WHERE seq = ?`, last).Scan(&hash); err != nil {
		return fmt.Errorf("read entry %d, the new anchor: %w", last, err)
	}
	h, ok := store.HashFrom(hash)
	if !ok {
		return fmt.Errorf("entry %d, the new anchor, has a damaged hash", last)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM store_journal WHERE seq <= ?`, last)
	if err != nil {
		return fmt.Errorf("drop entries up to %d: %w", last, err)
	}
	p.Dropped, _ = res.RowsAffected()
	p.Anchor = store.Chain{Seq: last, Hash: h}
	return nil
}
