package storesql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/store"
)

// ChainVersion is the schema version that chains the journal.
const ChainVersion = 4

// ListJournal returns journal entries newest first (by time, then by id).
func (b *Base) ListJournal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	cols, args := f.Conditions()
	q := b.D.Q.ListJournal
	for i, c := range cols {
		if i == 0 {
			q += ` WHERE `
		} else {
			q += ` AND `
		}
		q += c + ` = ` + b.D.Placeholder(i+1)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	// By the time column, the second, then by id.
	q += ` ORDER BY 2 DESC, 1 DESC LIMIT ` + b.D.Placeholder(len(args))
	out, err := queryAll(ctx, b.DB, q, args, func(row store.Row) (store.JournalEntry, error) {
		var (
			seq      *int64
			hash     []byte
			redacted Time
		)
		e, derr, err := ScanEntry(row, &seq, &hash, &redacted)
		if err != nil {
			return e, err
		}
		if derr != nil {
			return e, fmt.Errorf("journal entry %s: %w", e.ID, derr)
		}
		if seq != nil {
			e.Seq = *seq
		}
		if h, ok := store.HashFrom(hash); ok {
			e.Hash = h.String()
		}
		e.Redacted = redacted.Valid
		return e, nil
	})
	if err != nil {
		return nil, b.D.errorf("list journal: %w", err)
	}
	return out, nil
}

// ScanEntry reads the EntryColumns, then more. A detail that cannot be decoded is returned as an
// error of its own (detailErr), so that verification can report the entry.
func ScanEntry(row store.Row, more ...any) (e store.JournalEntry, detailErr error, err error) {
	var (
		at     Time
		detail []byte
	)
	if err := row.Scan(append([]any{&e.ID, &at, &e.Kind, &e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject,
		&e.LegalBasis, &e.Result, &detail}, more...)...); err != nil {
		return e, nil, err
	}
	e.Time = at.T
	e.Detail, detailErr = store.DecodeMetadata(detail)
	return e, detailErr, nil
}

// ReadChain reads the journal's chain (see store.ChainSource) through tx, a transaction that
// reads one snapshot.
func ReadChain(ctx context.Context, tx DB, q Queries, start func(store.ChainState) error, row func(store.ChainRow) error) error {
	var (
		st      store.ChainState
		version int64
	)
	if err := tx.QueryRow(ctx, q.Version).Scan(&version); err != nil {
		return fmt.Errorf("not an aiskao store (no schema version): %w", err)
	}
	if version < ChainVersion {
		st.SchemaNote = fmt.Sprintf("the journal is not chained yet (store schema version %d, chained from %d): start the hub of this version once to chain it", version, ChainVersion)
		return start(st)
	}
	var head, anchor []byte
	if err := tx.QueryRow(ctx, q.ReadEnds).Scan(&st.Head.Seq, &head, &st.Anchor.Seq, &anchor, &st.AnchorBy); err != nil {
		return fmt.Errorf("read the journal chain's ends: %w", err)
	}
	st.Head.Hash, _ = store.HashFrom(head)
	st.Anchor.Hash, _ = store.HashFrom(anchor)
	// Counted, and one named: rows added outside the hub may be many.
	var first *string
	if err := tx.QueryRow(ctx, q.Unchained).Scan(&st.Unchained, &first); err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	if first != nil {
		st.FirstUnchained = *first
	}
	if err := start(st); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, q.ChainRows)
	if err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	defer rows.Close()
	return store.ReadChainRows(rows, func(rw store.Row) (store.ChainRow, error) {
		var (
			r        store.ChainRow
			redacted Time // NULL while the entry is whole
		)
		e, derr, err := ScanEntry(rw, &r.Seq, &r.Prev, &r.Body, &r.Hash, &redacted)
		r.Entry, r.DetailOK = e, derr == nil
		r.Redacted, r.RedactedAt = redacted.Valid, redacted.T
		return r, err
	}, row)
}

// ReadHead returns the chain's head; tx must hold it when the head is to be moved.
func ReadHead(ctx context.Context, tx DB, q Queries) (head store.Chain, anchorSeq int64, err error) {
	var hash []byte
	if err := tx.QueryRow(ctx, q.LockEnds).Scan(&head.Seq, &hash, &anchorSeq); err != nil {
		return head, 0, fmt.Errorf("read the journal chain's head: %w", err)
	}
	h, ok := store.HashFrom(hash)
	if !ok {
		return head, 0, errors.New("the journal chain's head hash is damaged")
	}
	head.Hash = h
	return head, anchorSeq, nil
}

// WriteHead moves the chain's head.
func WriteHead(ctx context.Context, tx DB, q Queries, head store.Chain) error {
	if _, err := tx.Exec(ctx, q.WriteHead, head.Seq, head.Hash[:]); err != nil {
		return fmt.Errorf("move the journal chain's head: %w", err)
	}
	return nil
}

// InsertEntry inserts e after head and moves head, or reports false (and leaves head) when an
// entry with e's id is already journaled. e is as Dialect.Kept returns it.
func InsertEntry(ctx context.Context, tx DB, d *Dialect, head *store.Chain, e store.JournalEntry) (bool, error) {
	next := *head
	l := next.Next(e)
	n, err := tx.Exec(ctx, d.Q.Insert, e.ID, d.Time(e.Time), e.Kind, e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject,
		e.LegalBasis, e.Result, store.EncodeMetadata(e.Detail), l.Seq, l.Prev[:], l.Body[:], l.Hash[:])
	if err != nil {
		return false, fmt.Errorf("insert entry %d: %w", l.Seq, err)
	}
	if n == 0 {
		return false, nil
	}
	*head = next
	return true, nil
}

// ChainExisting chains the entries journaled before the chain existed, in (time, id) order. It
// runs once, in the transaction of the migration to ChainVersion.
func ChainExisting(ctx context.Context, tx DB, q Queries) error {
	entries, err := queryAll(ctx, tx, q.Unchain, nil, func(r store.Row) (store.JournalEntry, error) {
		e, _, err := ScanEntry(r)
		return e, err
	})
	if err != nil {
		return fmt.Errorf("chain existing journal entries: %w", err)
	}
	chain, _, err := ReadHead(ctx, tx, q)
	if err != nil {
		return err
	}
	for _, e := range entries {
		l := chain.Next(e)
		if _, err := tx.Exec(ctx, q.Place, l.Seq, l.Prev[:], l.Body[:], l.Hash[:], e.ID); err != nil {
			return fmt.Errorf("chain journal entry %s: %w", e.ID, err)
		}
	}
	return WriteHead(ctx, tx, q, chain)
}

// FinishPrune drops the oldest entries past their retention when drop, and journals the pruning,
// through tx, one transaction that holds the chain's head: the anchor is never moved without its
// record, and processes pruning at once take turns.
func FinishPrune(ctx context.Context, tx DB, d *Dialect, drop bool, now time.Time, p *store.Pruned) error {
	head, anchorSeq, err := ReadHead(ctx, tx, d.Q)
	if err != nil {
		return err
	}
	if drop {
		if err := dropPrefix(ctx, tx, d.Q, head, anchorSeq, p); err != nil {
			return err
		}
	}
	p.Head = head
	if !p.Any() {
		return nil
	}
	e := store.PrunedEntry(*p, now)
	if e.ID, err = store.NewJournalID(); err != nil {
		return err
	}
	ok, err := InsertEntry(ctx, tx, d, &head, d.Kept(e))
	switch {
	case err != nil:
		return fmt.Errorf("journal the pruning: %w", err)
	case !ok:
		return fmt.Errorf("journal the pruning: %w", store.ErrDuplicateEntry)
	}
	if err := WriteHead(ctx, tx, d.Q, head); err != nil {
		return err
	}
	if p.Dropped > 0 {
		if _, err := tx.Exec(ctx, d.Q.WriteAnchor, p.Anchor.Seq, p.Anchor.Hash[:], head.Seq); err != nil {
			return fmt.Errorf("move the anchor: %w", err)
		}
	}
	p.Head = head
	return nil
}

// dropPrefix deletes the entries from the anchor up to the first one that is whole (not
// redacted), other than journal.pruned entries, which the new journal.pruned entry supersedes,
// and sets p.Anchor to the last deleted.
func dropPrefix(ctx context.Context, tx DB, q Queries, head store.Chain, anchorSeq int64, p *store.Pruned) error {
	var first *int64
	if err := tx.QueryRow(ctx, q.FirstWhole, anchorSeq, store.KindPruned).Scan(&first); err != nil {
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
	if err := tx.QueryRow(ctx, q.HashOf, last).Scan(&hash); err != nil {
		return fmt.Errorf("read entry %d, the new anchor: %w", last, err)
	}
	h, ok := store.HashFrom(hash)
	if !ok {
		return fmt.Errorf("entry %d, the new anchor, has a damaged hash", last)
	}
	n, err := tx.Exec(ctx, q.Drop, last)
	if err != nil {
		return fmt.Errorf("drop entries up to %d: %w", last, err)
	}
	p.Dropped, p.Anchor = n, store.Chain{Seq: last, Hash: h}
	return nil
}
