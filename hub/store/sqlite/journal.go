package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/hub/sqlitedb"
	"github.com/aiskao/aiskao/hub/store"
)

// AppendJournal records e, filling its id (a time-ordered UUIDv7) and time when empty.
func (s *Store) AppendJournal(ctx context.Context, e store.JournalEntry) (string, error) {
	if s.closed.Load() {
		return "", errClosed
	}
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("sqlite store: journal id: %w", err)
		}
		e.ID = id.String()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := sqlitedb.Exec(ctx, s.db, `INSERT INTO store_journal
		(id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Time.UnixNano(), e.Kind, e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject, e.LegalBasis,
		e.Result, store.EncodeMetadata(e.Detail))
	if err != nil {
		return "", fmt.Errorf("sqlite store: append journal entry %s: %w", e.Kind, err)
	}
	return e.ID, nil
}

// ListJournal returns journal entries newest first (by time, then by id).
func (s *Store) ListJournal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	cols, args := f.Conditions()
	q := `SELECT id, time, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail FROM store_journal`
	if len(cols) > 0 {
		q += ` WHERE ` + strings.Join(cols, " = ? AND ") + ` = ?`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list journal: %w", err)
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var (
			e      store.JournalEntry
			nano   int64
			detail []byte
		)
		if err := rows.Scan(&e.ID, &nano, &e.Kind, &e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject,
			&e.LegalBasis, &e.Result, &detail); err != nil {
			return nil, fmt.Errorf("sqlite store: list journal: %w", err)
		}
		e.Time = time.Unix(0, nano).UTC()
		if e.Detail, err = store.DecodeMetadata(detail); err != nil {
			return nil, fmt.Errorf("sqlite store: journal entry %s: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list journal: %w", err)
	}
	return out, nil
}
