package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/hub/store"
)

// AppendJournal records e, filling its id (a time-ordered UUIDv7) and time when empty. Text that
// is not valid UTF-8 is stored with U+FFFD in place of the bad bytes; details are kept byte for
// byte.
func (s *Store) AppendJournal(ctx context.Context, e store.JournalEntry) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("postgres store: journal id: %w", err)
		}
		e.ID = id.String()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	id := text(e.ID)
	_, err := s.pool.Exec(ctx, s.q.appendJournal, id, e.Time, text(e.Kind), text(e.Route), text(e.MessageID),
		text(e.Dossier), text(e.Actor), text(e.Subject), text(e.LegalBasis), text(e.Result), store.EncodeMetadata(e.Detail))
	if err != nil {
		return "", fmt.Errorf("postgres store: append journal entry %s: %w", e.Kind, err)
	}
	return id, nil
}

// ListJournal returns journal entries newest first (by time, then by id).
func (s *Store) ListJournal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	cols, args := f.Conditions()
	q := s.q.listJournal
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
			e      store.JournalEntry
			detail []byte
		)
		if err := rows.Scan(&e.ID, &e.Time, &e.Kind, &e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject,
			&e.LegalBasis, &e.Result, &detail); err != nil {
			return nil, fmt.Errorf("postgres store: list journal: %w", err)
		}
		e.Time = e.Time.UTC()
		if e.Detail, err = store.DecodeMetadata(detail); err != nil {
			return nil, fmt.Errorf("postgres store: journal entry %s: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: list journal: %w", err)
	}
	return out, nil
}
