package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/store"
)

var _ store.Pruner = (*Store)(nil)

// Prune removes what policy says is past its retention at now (see store.Pruner). Processes
// pruning one schema at once take turns on the chain's row lock for the drop, and redact each
// entry once.
func (s *Store) Prune(ctx context.Context, policy store.RetentionPolicy, now time.Time) (store.Pruned, error) {
	return store.PruneStore(ctx, "postgres store", s.quit, errClosed, store.PruneFuncs{
		DeleteLetters: s.deleteDeadLetters, RedactEntries: s.redactEntries, FinishPrune: s.finishPrune}, policy, now)
}

// deleteDeadLetters deletes, in chunks, the dead letters that failed before before.
func (s *Store) deleteDeadLetters(ctx context.Context, before time.Time) (int64, error) {
	return s.chunked(ctx, s.jq.pruneLetters, before)
}

// redactEntries removes, in chunks, the content of the chained entries of kinds (with others: of the
// other kinds) journaled before before.
func (s *Store) redactEntries(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error) {
	q := s.jq.redactIn
	if others {
		q = s.jq.redactOthers
	}
	return s.chunked(ctx, q, store.EncodeMetadata(nil), now, before, kinds)
}

// chunked runs a statement whose last parameter is a row limit in chunks (store.Chunked).
func (s *Store) chunked(ctx context.Context, query string, args ...any) (int64, error) {
	return store.Chunked(s.quit, errClosed, func(limit int) (int64, error) {
		tag, err := s.pool.Exec(ctx, query, append(args, limit)...)
		return tag.RowsAffected(), err
	})
}

// finishPrune drops the oldest entries past their retention when drop, and journals the
// pruning, in one transaction, so that the anchor is never moved without its record.
func (s *Store) finishPrune(ctx context.Context, drop bool, now time.Time, p *store.Pruned) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it does nothing
	var (
		head      store.Chain
		hash      []byte
		anchorSeq int64
		ok        bool
	)
	if err := tx.QueryRow(ctx, s.jq.lockEnds).Scan(&head.Seq, &hash, &anchorSeq); err != nil {
		return fmt.Errorf("lock the journal chain: %w", err)
	}
	if head.Hash, ok = store.HashFrom(hash); !ok {
		return errors.New("the journal chain's head hash is damaged")
	}
	if drop {
		if err := s.dropPrefix(ctx, tx, head, anchorSeq, p); err != nil {
			return err
		}
	}
	p.Head = head
	if !p.Any() {
		return nil
	}
	e := store.PrunedEntry(*p, now)
	e.ID, err = store.NewJournalID()
	if err != nil {
		return err
	}
	e = kept(e)
	b := &pgx.Batch{}
	queueInsert(b, s.jq.insert, &head, e)
	b.Queue(s.jq.writeHead, head.Seq, head.Hash[:])
	if p.Dropped > 0 {
		b.Queue(s.jq.writeAnchor, p.Anchor.Seq, p.Anchor.Hash[:], head.Seq)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("journal the pruning: %w", err)
	}
	p.Head = head
	return tx.Commit(ctx)
}

// dropPrefix deletes the entries from the anchor up to the first one that is whole (not
// redacted), other than journal.pruned entries, which the new journal.pruned entry supersedes,
// and sets p.Anchor to the last deleted.
func (s *Store) dropPrefix(ctx context.Context, tx pgx.Tx, head store.Chain, anchorSeq int64, p *store.Pruned) error {
	var first *int64
	if err := tx.QueryRow(ctx, s.jq.firstWhole, anchorSeq, store.KindPruned).Scan(&first); err != nil {
		return fmt.Errorf("find the entries to drop: %w", err)
	}
	last := head.Seq
	if first != nil {
		last = *first - 1
	}
	if last <= anchorSeq {
		return nil
	}
	var hash []byte
	if err := tx.QueryRow(ctx, s.jq.hashOf, last).Scan(&hash); err != nil {
		return fmt.Errorf("read entry %d, the new anchor: %w", last, err)
	}
	h, ok := store.HashFrom(hash)
	if !ok {
		return fmt.Errorf("entry %d, the new anchor, has a damaged hash", last)
	}
	tag, err := tx.Exec(ctx, s.jq.drop, last)
	if err != nil {
		return fmt.Errorf("drop entries up to %d: %w", last, err)
	}
	p.Dropped, p.Anchor = tag.RowsAffected(), store.Chain{Seq: last, Hash: h}
	return nil
}
