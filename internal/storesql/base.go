package storesql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiskao/aiskao/internal/batch"
	"github.com/aiskao/aiskao/store"
)

// seenBatch bounds one lookup. Every message a route takes asks once; one query for the messages
// that ask at the same time instead of one each.
const seenBatch = 256

// DefaultSweepChunk bounds one delete of expired keys, so that the sweeper holds its locks only
// briefly and the writers are not kept waiting.
const DefaultSweepChunk = 5000

// Mark is one Mark waiting to be committed: its key, ttl and when it was made.
type Mark struct {
	Scope, Key string
	TTL        time.Duration
	At         time.Time
}

// Parts are what a store gives Start: its database's own ways of doing what Base runs.
type Parts struct {
	Where    string       // the database, for messages and logs, without secrets
	WhereKey string       // the log attribute naming it: "database", "file"
	Log      *slog.Logger // nil discards
	// MarkBatch bounds the marks of one WriteMarks.
	MarkBatch int
	// BatchWait is how long, under load, marks and lookups wait for more of them before they go
	// to the database together (batch.NewWaiting); 0 sends what is waiting at once.
	BatchWait time.Duration
	// WriteMarks commits marks made at the same time; a later Mark of the same key wins.
	WriteMarks func([]Mark) error
	// Lookup sets Seen on the lookups whose key is marked and has not expired.
	Lookup func([]*store.Lookup) error
	// CommitJournal chains and commits entries appended at the same time (see store.AppendRequest).
	CommitJournal func([]*store.AppendRequest) error
	// SweepChunk deletes at most limit expired keys and returns how many it deleted.
	SweepChunk func(limit int) (int64, error)
	SweepEvery time.Duration
	// Redact removes, in chunks (see Base.Chunked), the content of the chained entries of kinds
	// (with others: of the other kinds) journaled before before.
	Redact func(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error)
	// InTx runs f in a write transaction that holds the chain's head, and commits when f succeeds.
	InTx func(ctx context.Context, f func(tx DB) error) error
	// Policy is the retention the pruner keeps; inactive, no pruner runs.
	Policy store.RetentionPolicy
	// Ping reports whether the database answers.
	Ping func(ctx context.Context) error
	// Release closes the store's connections, after the goroutines have stopped.
	Release func() error
}

// Base is the part of a SQL store that is the same for every database: dead letters, state,
// tokens and the journal through the dialect's statements, and the goroutines that group marks,
// lookups and appends, sweep expired keys and prune. A store embeds it and calls Start.
type Base struct {
	DB DB       // the store's pool
	D  *Dialect // the store's dialect

	p         Parts
	seens     *store.Lookups
	marks     *batch.Committer[Mark]
	journal   *batch.Committer[*store.AppendRequest]
	quit      chan struct{} // closed by Close
	sweepDone chan struct{} // closed when the sweeper has stopped
	pruneDone chan struct{} // closed when the pruner has stopped
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Start starts the mark writer, the lookups, the journal writer, the sweeper and, when the policy
// is active, the pruner.
func (b *Base) Start(p Parts) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	b.p = p
	b.quit, b.sweepDone, b.pruneDone = make(chan struct{}), make(chan struct{}), make(chan struct{})
	b.marks = batch.NewWaiting(p.MarkBatch, p.BatchWait, b.commitMarks)
	b.seens = store.NewLookups(seenBatch, p.BatchWait, p.Lookup)
	b.journal = batch.New(store.JournalBatch, p.CommitJournal)
	go b.sweeper()
	if p.Policy.Active() {
		go func() {
			defer close(b.pruneDone)
			store.PruneEvery(b, p.Policy, b.quit, p.Log, p.Where)
		}()
	} else {
		close(b.pruneDone)
	}
}

// Where names the database, without secrets.
func (b *Base) Where() string { return b.p.Where }

// Closed reports whether Close was called.
func (b *Base) Closed() bool { return b.closed.Load() }

// MarkStats returns how many marks were committed in how many commits, to see how well they are
// grouped.
func (b *Base) MarkStats() (commits, marks int64) { return b.marks.Commits(), b.marks.Items() }

// JournalStats returns how many entries were appended in how many commits.
func (b *Base) JournalStats() (commits, entries int64) { return b.journal.Commits(), b.journal.Items() }

// Seen reports whether key was marked in scope and has not expired, swept or not. Seens made at
// the same time are answered together.
func (b *Base) Seen(ctx context.Context, scope, key string) (bool, error) {
	if b.closed.Load() {
		return false, b.D.Closed
	}
	seen, err := b.seens.Seen(ctx, scope, key)
	switch {
	case errors.Is(err, batch.ErrClosed):
		return false, b.D.Closed
	case err != nil:
		return false, b.D.errorf("seen %q in %q: %w", key, scope, err)
	}
	return seen, nil
}

// Mark records key in scope until ttl has passed; a later Mark of the same key sets a new expiry.
// Marks made at the same time are committed together by the writer goroutine; Mark returns once
// its mark is committed. When ctx ends first, Mark returns its error and the mark may or may not
// be kept.
func (b *Base) Mark(ctx context.Context, scope, key string, ttl time.Duration) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	err := b.marks.Do(ctx, Mark{Scope: scope, Key: key, TTL: ttl, At: time.Now()})
	switch {
	case errors.Is(err, batch.ErrClosed):
		return b.D.Closed
	case err != nil && ctx.Err() != nil:
		return b.D.errorf("mark %q in %q: %w", key, scope, err)
	}
	return err
}

// commitMarks writes a batch of marks, made at the same time, in one commit.
func (b *Base) commitMarks(marks []Mark) error {
	if err := b.p.WriteMarks(marks); err != nil {
		return b.D.errorf("mark %d keys: %w", len(marks), err)
	}
	return nil
}

// AppendJournal records e as the next entry of the chain, filling its id (a time-ordered UUIDv7)
// and time when empty. Entries appended at the same time are chained and committed together;
// AppendJournal returns once its entry is durable. When ctx ends first, it returns ctx's error
// and the entry may or may not be journaled.
func (b *Base) AppendJournal(ctx context.Context, e store.JournalEntry) (string, error) {
	if b.closed.Load() {
		return "", b.D.Closed
	}
	return store.AppendBatched(ctx, b.D.Name, b.journal, e, b.D.Kept, b.D.Closed)
}

// sweeper deletes expired keys every SweepEvery until Close.
func (b *Base) sweeper() {
	defer close(b.sweepDone)
	t := time.NewTicker(b.p.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-t.C:
			n, err := b.Sweep(DefaultSweepChunk)
			if err != nil {
				b.p.Log.Warn(b.D.Name+": deleting expired idempotency keys failed; will try again", b.p.WhereKey, b.p.Where, "error", err)
			} else if n > 0 {
				b.p.Log.Debug(b.D.Name+": deleted expired idempotency keys", b.p.WhereKey, b.p.Where, "keys", n)
			}
		}
	}
}

// Sweep deletes the keys that have expired, in chunks of at most chunk keys, and returns how many
// it deleted. It stops early once the store is closed.
func (b *Base) Sweep(chunk int) (int64, error) {
	n, err := store.ChunkedBy(b.quit, nil, chunk, b.p.SweepChunk)
	if err != nil {
		return n, fmt.Errorf("sweep keys: %w", err)
	}
	return n, nil
}

// Ping reports whether the database answers.
func (b *Base) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if err := b.p.Ping(ctx); err != nil {
		return b.D.errorf("%s: %w", b.p.Where, err)
	}
	return nil
}

// Close stops the writers after they have committed what is already queued, stops the sweeper
// and the pruner and releases the database. Calls after Close fail; a second Close does nothing.
func (b *Base) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		close(b.quit)
		b.marks.Close()
		b.seens.Close()
		b.journal.Close()
		<-b.sweepDone
		<-b.pruneDone
		if err := b.p.Release(); err != nil {
			b.closeErr = b.D.errorf("close %s: %w", b.p.Where, err)
		}
	})
	return b.closeErr
}

var _ store.Pruner = (*Base)(nil)

// Prune removes what policy says is past its retention at now (see store.Pruner). Each chunk of
// deletions and redactions holds its locks only briefly; the drop and the journal.pruned entry
// are one transaction, which holds the chain's head.
func (b *Base) Prune(ctx context.Context, policy store.RetentionPolicy, now time.Time) (store.Pruned, error) {
	return store.PruneStore(ctx, b.D.Name, b.quit, b.D.Closed, store.PruneFuncs{
		DeleteLetters: b.deleteDeadLetters,
		RedactEntries: b.p.Redact,
		FinishPrune: func(ctx context.Context, drop bool, now time.Time, p *store.Pruned) error {
			return b.p.InTx(ctx, func(tx DB) error { return FinishPrune(ctx, tx, b.D, drop, now, p) })
		},
	}, policy, now)
}

// deleteDeadLetters deletes, in chunks, the dead letters that failed before before.
func (b *Base) deleteDeadLetters(ctx context.Context, before time.Time) (int64, error) {
	return b.Chunked(ctx, b.D.Q.PruneLetters, b.D.Time(before))
}

// Chunked runs a statement whose last argument is a row limit in chunks (store.Chunked).
func (b *Base) Chunked(ctx context.Context, query string, args ...any) (int64, error) {
	return store.Chunked(b.quit, b.D.Closed, func(limit int) (int64, error) {
		return b.DB.Exec(ctx, query, append(args, limit)...)
	})
}
