package storesql

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
)

// The people's statements are written once for both stores: {p} is the dialect's Prefix and each
// ? the dialect's placeholder. Both databases take ON CONFLICT and an alias of the target table.

var (
	_ account.Store = (*Base)(nil)
	_ session.Store = (*Base)(nil)
	_ org.Store     = (*Base)(nil)
)

// sql returns query with the dialect's table prefix and placeholders.
func (b *Base) sql(query string) string {
	query = strings.ReplaceAll(query, "{p}", b.D.Prefix)
	var out strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			out.WriteString(b.D.Placeholder(n))
			continue
		}
		out.WriteRune(c)
	}
	return out.String()
}

// nullTime is t as a time column keeps it, or NULL when t is zero.
func (b *Base) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return b.D.Time(t.UTC())
}

const accountColumns = `name, full_name, roles, password, totp_secret, totp_step, reset_hash, reset_expires, must_change, disabled, created, updated`

// CreateAccount stores a, or returns account.ErrExists.
func (b *Base) CreateAccount(ctx context.Context, a account.Account) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	_, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.Name, b.D.text(a.FullName), joinRoles(a.Roles), a.Password, a.TOTPSecret, a.TOTPStep, a.ResetHash,
		b.nullTime(a.ResetExpires), a.MustChange, a.Disabled, b.D.Time(a.Created.UTC()), b.D.Time(a.Updated.UTC()))
	if err != nil && b.D.Unique(err) {
		return b.D.errorf("account %s: %w", a.Name, account.ErrExists)
	}
	if err != nil {
		return b.D.errorf("create account %s: %w", a.Name, err)
	}
	return nil
}

// AccountByName returns the account with its secrets, or account.ErrNotFound.
func (b *Base) AccountByName(ctx context.Context, name string) (account.Account, error) {
	if b.closed.Load() {
		return account.Account{}, b.D.Closed
	}
	a, err := scanAccount(b.DB.QueryRow(ctx, b.sql(`SELECT `+accountColumns+` FROM {p}accounts WHERE name = ?`), b.D.text(name)))
	if errors.Is(err, b.D.NoRows) {
		return account.Account{}, account.ErrNotFound
	}
	if err != nil {
		return account.Account{}, b.D.errorf("account %s: %w", name, err)
	}
	return a, nil
}

// ListAccounts returns every account by name, without secrets.
func (b *Base) ListAccounts(ctx context.Context) ([]account.Account, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	out, err := queryAll(ctx, b.DB, b.sql(`SELECT `+accountColumns+` FROM {p}accounts ORDER BY name`), nil,
		func(row store.Row) (account.Account, error) {
			a, err := scanAccount(row)
			a.Password, a.TOTPSecret, a.ResetHash = "", "", nil
			return a, err
		})
	if err != nil {
		return nil, b.D.errorf("list accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount replaces the account of a.Name, all but its creation time and TOTP step, if it
// was last updated at was.
func (b *Base) UpdateAccount(ctx context.Context, a account.Account, was time.Time) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`UPDATE {p}accounts SET full_name = ?, roles = ?, password = ?, totp_secret = ?,
		reset_hash = ?, reset_expires = ?, must_change = ?, disabled = ?, updated = ? WHERE name = ? AND updated = ?`),
		b.D.text(a.FullName), joinRoles(a.Roles), a.Password, a.TOTPSecret, a.ResetHash, b.nullTime(a.ResetExpires),
		a.MustChange, a.Disabled, b.D.Time(a.Updated.UTC()), a.Name, b.D.Time(was.UTC()))
	if err != nil {
		return b.D.errorf("update account %s: %w", a.Name, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := b.AccountByName(ctx, a.Name); err != nil {
		return err
	}
	return b.D.errorf("account %s: %w", a.Name, account.ErrConflict)
}

// UseTOTPStep records step as the last accepted one when it is later than the one recorded.
func (b *Base) UseTOTPStep(ctx context.Context, name string, step int64) (bool, error) {
	if b.closed.Load() {
		return false, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`UPDATE {p}accounts SET totp_step = ? WHERE name = ? AND totp_step < ?`), step, name, step)
	if err != nil {
		return false, b.D.errorf("account %s: TOTP step: %w", name, err)
	}
	return n == 1, nil
}

// scanAccount reads the accountColumns.
func scanAccount(row store.Row) (account.Account, error) {
	var (
		a                              account.Account
		roles                          string
		resetExpires, created, updated Time
	)
	err := row.Scan(&a.Name, &a.FullName, &roles, &a.Password, &a.TOTPSecret, &a.TOTPStep, &a.ResetHash,
		&resetExpires, &a.MustChange, &a.Disabled, &created, &updated)
	if err != nil {
		return a, err
	}
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			a.Roles = append(a.Roles, identity.Role(r))
		}
	}
	if len(a.ResetHash) == 0 {
		a.ResetHash = nil
	}
	a.ResetExpires, a.Created, a.Updated = resetExpires.T, created.T, updated.T
	return a, nil
}

func joinRoles(roles []identity.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// CountFailure counts a failed sign-in under key, starting the count again when it began before
// now-window.
func (b *Base) CountFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if b.closed.Load() {
		return 0, time.Time{}, b.D.Closed
	}
	start := b.D.Time(now.Add(-window).UTC())
	if _, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}login_failures AS f (key, count, since) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN f.since < ? THEN 1 ELSE f.count + 1 END,
			since = CASE WHEN f.since < ? THEN excluded.since ELSE f.since END`),
		b.D.text(key), b.D.Time(now.UTC()), start, start); err != nil {
		return 0, time.Time{}, b.D.errorf("count failure: %w", err)
	}
	return b.Failures(ctx, key)
}

// Failures returns the failures counted under key and since when.
func (b *Base) Failures(ctx context.Context, key string) (int, time.Time, error) {
	if b.closed.Load() {
		return 0, time.Time{}, b.D.Closed
	}
	var (
		n     int
		since Time
	)
	err := b.DB.QueryRow(ctx, b.sql(`SELECT count, since FROM {p}login_failures WHERE key = ?`), b.D.text(key)).Scan(&n, &since)
	if errors.Is(err, b.D.NoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, b.D.errorf("failures: %w", err)
	}
	return n, since.T, nil
}

// ClearFailures forgets the failures counted under key.
func (b *Base) ClearFailures(ctx context.Context, key string) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if _, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}login_failures WHERE key = ?`), b.D.text(key)); err != nil {
		return b.D.errorf("clear failures: %w", err)
	}
	return nil
}

// DeleteStaleFailures forgets the counts begun before before.
func (b *Base) DeleteStaleFailures(ctx context.Context, before time.Time) (int64, error) {
	if b.closed.Load() {
		return 0, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}login_failures WHERE since < ?`), b.D.Time(before.UTC()))
	if err != nil {
		return 0, b.D.errorf("delete stale failures: %w", err)
	}
	return n, nil
}

// CreateSession stores r.
func (b *Base) CreateSession(ctx context.Context, r session.Record) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if _, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}sessions (hash, person, stage, addr, created, seen) VALUES (?, ?, ?, ?, ?, ?)`),
		r.Hash, r.Person, string(r.Stage), b.D.text(r.Addr), b.D.Time(r.Created.UTC()), b.D.Time(r.Seen.UTC())); err != nil {
		return b.D.errorf("create session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose id hashes to hash, or session.ErrNotFound.
func (b *Base) SessionByHash(ctx context.Context, hash []byte) (session.Record, error) {
	if b.closed.Load() {
		return session.Record{}, b.D.Closed
	}
	var (
		r             session.Record
		stage         string
		created, seen Time
	)
	err := b.DB.QueryRow(ctx, b.sql(`SELECT hash, person, stage, addr, created, seen FROM {p}sessions WHERE hash = ?`), hash).
		Scan(&r.Hash, &r.Person, &stage, &r.Addr, &created, &seen)
	if errors.Is(err, b.D.NoRows) {
		return session.Record{}, session.ErrNotFound
	}
	if err != nil {
		return session.Record{}, b.D.errorf("session: %w", err)
	}
	r.Stage, r.Created, r.Seen = session.Stage(stage), created.T, seen.T
	return r, nil
}

// TouchSession sets the session's last use.
func (b *Base) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`UPDATE {p}sessions SET seen = ? WHERE hash = ?`), b.D.Time(seen.UTC()), hash)
	if err != nil {
		return b.D.errorf("touch session: %w", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// DeleteSession ends one session.
func (b *Base) DeleteSession(ctx context.Context, hash []byte) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if _, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}sessions WHERE hash = ?`), hash); err != nil {
		return b.D.errorf("delete session: %w", err)
	}
	return nil
}

// DeletePersonSessions ends every session of person.
func (b *Base) DeletePersonSessions(ctx context.Context, person string) (int64, error) {
	if b.closed.Load() {
		return 0, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}sessions WHERE person = ?`), person)
	if err != nil {
		return 0, b.D.errorf("delete sessions of %s: %w", person, err)
	}
	return n, nil
}

// DeleteStaleSessions removes the sessions idle since before idle or made before created.
func (b *Base) DeleteStaleSessions(ctx context.Context, idle, created time.Time) (int64, error) {
	if b.closed.Load() {
		return 0, b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}sessions WHERE seen < ? OR created < ?`), b.D.Time(idle.UTC()), b.D.Time(created.UTC()))
	if err != nil {
		return 0, b.D.errorf("delete stale sessions: %w", err)
	}
	return n, nil
}

// AddUnit stores u under its parent.
func (b *Base) AddUnit(ctx context.Context, u org.Unit) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	var (
		n   int64
		err error
	)
	if u.Parent == "" {
		n, err = b.DB.Exec(ctx, b.sql(`INSERT INTO {p}units (id, name, parent) VALUES (?, ?, NULL)`), u.ID, b.D.text(u.Name))
	} else {
		n, err = b.DB.Exec(ctx, b.sql(`INSERT INTO {p}units (id, name, parent)
			SELECT ?, ?, id FROM {p}units WHERE id = ?`), u.ID, b.D.text(u.Name), u.Parent)
	}
	return b.added("unit", u.ID, n, err)
}

// AddPosition stores p in its unit.
func (b *Base) AddPosition(ctx context.Context, p org.Position) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}positions (id, unit, title)
		SELECT ?, id, ? FROM {p}units WHERE id = ?`), p.ID, b.D.text(p.Title), p.Unit)
	return b.added("position", p.ID, n, err)
}

// added turns the result of an insert of what into the org errors: none inserted means what it
// belongs to is not there.
func (b *Base) added(what, id string, n int64, err error) error {
	switch {
	case err != nil && b.D.Unique(err):
		return b.D.errorf("%s %s: %w", what, id, org.ErrExists)
	case err != nil:
		return b.D.errorf("add %s %s: %w", what, id, err)
	case n == 0:
		return b.D.errorf("%s %s: the unit it belongs to: %w", what, id, org.ErrNotFound)
	}
	return nil
}

// Units returns every unit by id.
func (b *Base) Units(ctx context.Context) ([]org.Unit, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	out, err := queryAll(ctx, b.DB, b.sql(`SELECT id, name, coalesce(parent, '') FROM {p}units ORDER BY id`), nil,
		func(row store.Row) (org.Unit, error) {
			var u org.Unit
			return u, row.Scan(&u.ID, &u.Name, &u.Parent)
		})
	if err != nil {
		return nil, b.D.errorf("units: %w", err)
	}
	return out, nil
}

// Positions returns every position by id.
func (b *Base) Positions(ctx context.Context) ([]org.Position, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	out, err := queryAll(ctx, b.DB, b.sql(`SELECT id, unit, title FROM {p}positions ORDER BY id`), nil,
		func(row store.Row) (org.Position, error) {
			var p org.Position
			return p, row.Scan(&p.ID, &p.Unit, &p.Title)
		})
	if err != nil {
		return nil, b.D.errorf("positions: %w", err)
	}
	return out, nil
}

// Hold makes person a holder of position.
func (b *Base) Hold(ctx context.Context, person, position string) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	if _, err := b.DB.Exec(ctx, b.sql(`INSERT INTO {p}position_holders (position, person)
		SELECT id, ? FROM {p}positions WHERE id = ? ON CONFLICT (position, person) DO NOTHING`), person, position); err != nil {
		return b.D.errorf("hold %s: %w", position, err)
	}
	var one int
	err := b.DB.QueryRow(ctx, b.sql(`SELECT 1 FROM {p}positions WHERE id = ?`), position).Scan(&one)
	if errors.Is(err, b.D.NoRows) {
		return b.D.errorf("position %s: %w", position, org.ErrNotFound)
	}
	if err != nil {
		return b.D.errorf("hold %s: %w", position, err)
	}
	return nil
}

// Release ends person's holding of position.
func (b *Base) Release(ctx context.Context, person, position string) error {
	if b.closed.Load() {
		return b.D.Closed
	}
	n, err := b.DB.Exec(ctx, b.sql(`DELETE FROM {p}position_holders WHERE position = ? AND person = ?`), position, person)
	if err != nil {
		return b.D.errorf("release %s: %w", position, err)
	}
	if n == 0 {
		return b.D.errorf("%s holds no position %s: %w", person, position, org.ErrNotFound)
	}
	return nil
}

// HoldersOf returns who holds position, sorted.
func (b *Base) HoldersOf(ctx context.Context, position string) ([]string, error) {
	return b.listStrings(ctx, `SELECT person FROM {p}position_holders WHERE position = ? ORDER BY person`, position)
}

// PositionsOf returns the positions person holds, sorted.
func (b *Base) PositionsOf(ctx context.Context, person string) ([]string, error) {
	return b.listStrings(ctx, `SELECT position FROM {p}position_holders WHERE person = ? ORDER BY position`, person)
}

// listStrings returns the one text column of query's rows.
func (b *Base) listStrings(ctx context.Context, query, arg string) ([]string, error) {
	if b.closed.Load() {
		return nil, b.D.Closed
	}
	out, err := queryAll(ctx, b.DB, b.sql(query), []any{arg}, func(row store.Row) (string, error) {
		var s string
		return s, row.Scan(&s)
	})
	if err != nil {
		return nil, b.D.errorf("holdings of %s: %w", arg, err)
	}
	return out, nil
}
