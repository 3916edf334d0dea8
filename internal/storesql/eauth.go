package storesql

import (
	"context"
	"errors"
	"time"

	"github.com/aiskao/aiskao/eauth"
)

// The eAuth sign-ins in flight, written once for both stores like the people's statements.

var _ eauth.Store = (*Base)(nil)

// PutEAuthRequest records the AuthnRequest id until r.Expires.
func (b *Base) PutEAuthRequest(ctx context.Context, id string, r eauth.Issued) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	var browser any
	if len(r.Browser) > 0 {
		browser = r.Browser
	}
	if _, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}eauth_requests (id, level, browser, expires) VALUES (?, ?, ?, ?)`),
		b.D.text(id), int(r.Level), browser, b.D.Time(r.Expires.UTC())); err != nil {
		return b.D.errorf("eauth request: %w", err)
	}
	return nil
}

// TakeEAuthRequest deletes the request id and returns it when it had not expired at now. The
// delete is the claim: of two processes taking one id, one gets the row.
func (b *Base) TakeEAuthRequest(ctx context.Context, id string, now time.Time) (eauth.Issued, bool, error) {
	if b.closed.Load() {
		return eauth.Issued{}, false, b.D.Closed
	}
	var (
		r       eauth.Issued
		level   int
		expires Time
	)
	err := b.DB.QueryRow(ctx, b.sql(`DELETE FROM {p}eauth_requests WHERE id = ? RETURNING level, browser, expires`), b.D.text(id)).
		Scan(&level, &r.Browser, &expires)
	if errors.Is(err, b.D.NoRows) {
		return eauth.Issued{}, false, nil
	}
	if err != nil {
		return eauth.Issued{}, false, b.D.errorf("eauth request: %w", err)
	}
	r.Level, r.Expires = eauth.Level(level), expires.T
	if len(r.Browser) == 0 {
		r.Browser = nil
	}
	if !now.Before(r.Expires) {
		return eauth.Issued{}, false, nil
	}
	return r, true, nil
}

// FirstUseAssertion records the assertion id until until, unless it is recorded until after now.
func (b *Base) FirstUseAssertion(ctx context.Context, id string, until, now time.Time) (bool, error) {
	if b.closed.Load() {
		return false, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}eauth_assertions AS a (id, until) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET until = excluded.until WHERE a.until <= ?`),
		b.D.text(id), b.D.Time(until.UTC()), b.D.Time(now.UTC()))
	if err != nil {
		return false, b.D.errorf("eauth assertion: %w", err)
	}
	return n == 1, nil
}

// DeleteStaleEAuth forgets the requests and assertions expired at or before now.
func (b *Base) DeleteStaleEAuth(ctx context.Context, now time.Time) (int64, error) {
	if b.closed.Load() {
		return 0, b.D.Closed
	}
	at := b.D.Time(now.UTC())
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}eauth_requests WHERE expires <= ?`), at)
	if err != nil {
		return 0, b.D.errorf("delete stale eauth requests: %w", err)
	}
	m, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}eauth_assertions WHERE until <= ?`), at)
	if err != nil {
		return n, b.D.errorf("delete stale eauth assertions: %w", err)
	}
	return n + m, nil
}
