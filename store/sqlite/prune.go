package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/aiskao/aiskao/store"
)

// redactEntries removes, in chunks, the content of the chained entries of kinds (with others: of
// the other kinds) journaled before before; each chunk holds the write lock only briefly, so the
// transport and the journal writer are not kept waiting.
func (s *Store) redactEntries(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error) {
	op := "IN"
	if others {
		op = "NOT IN"
	}
	args := []any{now.UnixNano(), store.EncodeMetadata(nil), before.UnixNano()}
	for _, k := range kinds {
		args = append(args, k)
	}
	return s.Chunked(ctx, `UPDATE store_journal SET route = '', message_id = '', dossier = '', actor = '',
		subject = '', legal_basis = '', result = '', redacted = ?, detail = ? WHERE id IN
		(SELECT id FROM store_journal WHERE redacted IS NULL AND seq IS NOT NULL AND time < ?
			AND kind `+op+` (`+strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", ")+`) LIMIT ?)`, args...)
}
