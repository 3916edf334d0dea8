package storesql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/store"
)

// AddDeadLetter stores d, filling its id (a time-ordered UUIDv7) and time when empty. Text fields
// are stored as the dialect keeps text; metadata and payload are kept byte for byte.
func (b *Base) AddDeadLetter(ctx context.Context, d store.DeadLetter) (string, error) {
	if b.closed.Load() {
		return "", b.D.Closed
	}
	if d.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", b.D.errorf("dead letter id: %w", err)
		}
		d.ID = id.String()
	}
	if d.Time.IsZero() {
		d.Time = time.Now()
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	t := b.D.text
	id := t(d.ID)
	_, err := b.DB.Exec(ctx, b.D.Q.AddLetter, id, t(d.MessageID), t(d.Route), t(d.Step), t(d.Error),
		d.Attempts, b.D.Time(d.Time), store.EncodeMetadata(d.Metadata), payload)
	if err != nil {
		return "", b.D.errorf("add dead letter of route %q: %w", d.Route, err)
	}
	return id, nil
}

// ListDeadLetters returns dead letters newest first (by time, then by id), without payloads.
func (b *Base) ListDeadLetters(ctx context.Context, f store.Filter) ([]store.DeadLetter, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q, args := b.D.Q.ListLetters, []any{limit}
	if f.Route != "" {
		q, args = b.D.Q.ListRoute, []any{f.Route, limit}
	}
	out, err := queryAll(ctx, b.DB, q, args, func(row store.Row) (store.DeadLetter, error) { return scanLetter(row) })
	if err != nil {
		return nil, b.D.errorf("list dead letters: %w", err)
	}
	return out, nil
}

// queryAll runs a query and reads every row of its answer with scan.
func queryAll[T any](ctx context.Context, db DB, query string, args []any, scan func(store.Row) (T, error)) ([]T, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanRows(rows, scan)
}

// scanLetter reads id, message_id, route, step, error, attempts, time and metadata, then more.
func scanLetter(row store.Row, more ...any) (store.DeadLetter, error) {
	var (
		d    store.DeadLetter
		at   Time
		meta []byte
	)
	if err := row.Scan(append([]any{&d.ID, &d.MessageID, &d.Route, &d.Step, &d.Error, &d.Attempts, &at, &meta}, more...)...); err != nil {
		return d, err
	}
	d.Time = at.T
	m, err := store.DecodeMetadata(meta)
	if err != nil {
		return d, fmt.Errorf("dead letter %s: %w", d.ID, err)
	}
	d.Metadata = m
	return d, nil
}

// GetDeadLetter returns one dead letter with its payload.
func (b *Base) GetDeadLetter(ctx context.Context, id string) (store.DeadLetter, error) {
	if b.closed.Load() {
		return store.DeadLetter{}, b.D.Closed
	}
	var payload []byte
	d, err := scanLetter(b.DB.QueryRow(ctx, b.D.Q.GetLetter, id), &payload)
	if errors.Is(err, b.D.NoRows) {
		return store.DeadLetter{}, b.D.errorf("dead letter %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.DeadLetter{}, b.D.errorf("get dead letter %q: %w", id, err)
	}
	d.Payload = payload
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	return d, nil
}

// DeleteDeadLetter removes one dead letter.
func (b *Base) DeleteDeadLetter(ctx context.Context, id string) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.D.Q.DeleteLetter, id)
	if err != nil {
		return b.D.errorf("delete dead letter %q: %w", id, err)
	}
	if n == 0 {
		return b.D.errorf("dead letter %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// CountDeadLetters returns the number of dead letters per route; routes without any are absent.
func (b *Base) CountDeadLetters(ctx context.Context) (map[string]int, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	type count struct {
		route string
		n     int
	}
	counts, err := queryAll(ctx, b.DB, b.D.Q.CountLetters, nil, func(row store.Row) (c count, err error) {
		return c, row.Scan(&c.route, &c.n)
	})
	if err != nil {
		return nil, b.D.errorf("count dead letters: %w", err)
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.route] = c.n
	}
	return out, nil
}

// GetState returns the value of a route's state key.
func (b *Base) GetState(ctx context.Context, route, key string) ([]byte, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	var v []byte
	err := b.DB.QueryRow(ctx, b.D.Q.GetState, route, key).Scan(&v)
	if errors.Is(err, b.D.NoRows) {
		return nil, b.D.errorf("state %q of route %q: %w", key, route, store.ErrNotFound)
	}
	if err != nil {
		return nil, b.D.errorf("get state %q of route %q: %w", key, route, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutState sets the value of a route's state key; the value is kept byte for byte.
func (b *Base) PutState(ctx context.Context, route, key string, value []byte) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if value == nil {
		value = []byte{}
	}
	if _, err := b.DB.Exec(ctx, b.D.Q.PutState, route, key, value, b.D.Time(time.Now())); err != nil {
		return b.D.errorf("put state %q of route %q: %w", key, route, err)
	}
	return nil
}
