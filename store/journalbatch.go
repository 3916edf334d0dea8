package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/internal/batch"
)

// JournalBatch bounds the journal entries a store chains and commits in one transaction.
const JournalBatch = 256

// ErrDuplicateEntry is the error of a journal entry whose id is already in the journal.
var ErrDuplicateEntry = errors.New("an entry with this id is already journaled")

// AppendRequest is one journal entry waiting for the commit of its batch. Err is set by the
// store's committer when this entry alone failed (a repeated id: ErrDuplicateEntry); the
// commit's own error fails the whole batch.
type AppendRequest struct {
	Entry JournalEntry
	Err   error
}

// NewJournalID returns a time-ordered UUIDv7, the id of a journal entry.
func NewJournalID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("journal id: %w", err)
	}
	return id.String(), nil
}

// AppendBatched fills e's id (NewJournalID) and time when empty, turns it by keep into the entry
// as the store's database keeps it (so that its hash is of what is read back), clears what the
// chain fills, and waits for c to commit it. It returns the entry's id; closed when c is closed;
// other errors prefixed with name, the store's. When ctx ends first, it returns ctx's error and
// the entry may or may not be journaled.
func AppendBatched(ctx context.Context, name string, c *batch.Committer[*AppendRequest], e JournalEntry,
	keep func(JournalEntry) JournalEntry, closed error) (string, error) {
	if e.ID == "" {
		id, err := NewJournalID()
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		e.ID = id
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e = keep(e)
	e.Seq, e.Hash, e.Redacted = 0, "", false
	r := &AppendRequest{Entry: e}
	err := c.Do(ctx, r)
	switch {
	case errors.Is(err, batch.ErrClosed):
		return "", closed
	case err == nil:
		err = r.Err
	}
	if err != nil {
		return "", fmt.Errorf("%s: append journal entry %s (id %s): %w", name, e.Kind, e.ID, err)
	}
	return e.ID, nil
}
