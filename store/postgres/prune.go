package postgres

import (
	"context"
	"time"

	"github.com/aiskao/aiskao/store"
)

// redactEntries removes, in chunks, the content of the chained entries of kinds (with others: of
// the other kinds) journaled before before. Processes pruning one schema at once redact each
// entry once.
func (s *Store) redactEntries(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error) {
	q := s.q.redactIn
	if others {
		q = s.q.redactOthers
	}
	return s.Chunked(ctx, q, store.EncodeMetadata(nil), now, before, kinds)
}
