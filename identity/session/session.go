// Package session keeps people's sessions on the server, in the hub's store, so that every
// process serving the applications sees the same ones and a sign-out anywhere ends them
// everywhere. A session's id is 256 random bits, given to the browser in a cookie (HttpOnly,
// SameSite=Lax, and on TLS Secure with the __Host- prefix) and kept in the store only as its
// SHA-256. A session ends after an idle time and, whatever its use, after an absolute time; its
// id changes at each step of signing in and at every change of privilege (Start).
//
// The Middleware loads the session of a request and puts the person's Principal, with roles and
// positions, in its context (identity.WithPrincipal); what a route then allows is its own check.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// Cookie names: the __Host- prefix makes the browser keep the cookie only when it was set over
// TLS, for this host alone and the whole site, so that no sibling domain can plant one.
const cookieName = "aiskao_session"

// touchEvery bounds the writes of a busy session: its last use is written at most this often,
// so the idle time-out is kept to within it.
const touchEvery = time.Minute

// Config is how long sessions live and how their cookie is set. Zero fields take their defaults.
type Config struct {
	// Idle ends a session not used for this long; default 30 minutes.
	Idle time.Duration
	// Absolute ends a session this long after sign-in, used or not; default 12 hours.
	Absolute time.Duration
	// Pending ends a session whose sign-in is not complete (awaiting the code or a new password)
	// after this long; default 5 minutes.
	Pending time.Duration
	// TLS is whether the applications are served over TLS: the cookie is then Secure and named
	// with the __Host- prefix.
	TLS bool
	// Addr returns the client's address of a request, for the journal and the rate limits;
	// default the host of RemoteAddr. Behind a proxy, give one that trusts only the proxy.
	Addr func(*http.Request) string
	// Cookie names the session cookie (with the __Host- prefix on TLS); default
	// "aiskao_session". Sites on one host (cookies ignore ports) give theirs apart, so that
	// signing in to one does not end the session of another.
	Cookie string
}

// Principals returns the principal of a person, with roles and positions, or an error when
// they may no longer sign in (account.Service.Principal).
type Principals func(ctx context.Context, person string) (identity.Principal, error)

// Manager starts, finds and ends sessions. Make it with New.
type Manager struct {
	store      Store
	principals Principals
	cfg        Config
	now        func() time.Time
}

// New returns a Manager keeping sessions in s and finding people's principals with p.
func New(s Store, p Principals, cfg Config) *Manager {
	if cfg.Idle == 0 {
		cfg.Idle = 30 * time.Minute
	}
	if cfg.Absolute == 0 {
		cfg.Absolute = 12 * time.Hour
	}
	if cfg.Pending == 0 {
		cfg.Pending = 5 * time.Minute
	}
	if cfg.Addr == nil {
		cfg.Addr = RemoteHost
	}
	return &Manager{store: s, principals: p, cfg: cfg, now: time.Now}
}

// RemoteHost is the host part of r.RemoteAddr.
func RemoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Addr returns the client's address of r, as the configuration finds it.
func (m *Manager) Addr(r *http.Request) string { return m.cfg.Addr(r) }

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string {
	name := cookieName
	if m.cfg.Cookie != "" {
		name = m.cfg.Cookie
	}
	if m.cfg.TLS {
		return "__Host-" + name
	}
	return name
}

// Hash returns the SHA-256 of a session id, as the store keeps it.
func Hash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// Start gives person a new session at stage, ending the session r came with, if any, and sets
// its cookie on w: the id changes at every step of signing in and every change of privilege, so
// that an id known before (fixed by an attacker, or seen before the sign-in) is worth nothing.
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, person string, stage Stage) error {
	if old, ok := m.cookie(r); ok {
		if err := m.store.DeleteSession(ctx, Hash(old)); err != nil {
			return fmt.Errorf("session: ending the previous session: %w", err)
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("session: random: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := m.now().UTC()
	if err := m.store.CreateSession(ctx, Record{Hash: Hash(id), Person: person, Stage: stage, Addr: m.Addr(r), Created: now, Seen: now}); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	http.SetCookie(w, m.newCookie(id, 0))
	return nil
}

// newCookie returns the session cookie holding id; maxAge < 0 deletes it. It has no Max-Age
// otherwise: it ends with the browser, and the server ends the session before.
func (m *Manager) newCookie(id string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: m.CookieName(), Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: m.cfg.TLS, SameSite: http.SameSiteLaxMode}
}

func (m *Manager) cookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(m.CookieName())
	if err != nil || len(c.Value) != 43 {
		return "", false
	}
	return c.Value, true
}

// Load returns the session r came with, or ErrNotFound when it has none, or one that has ended
// or timed out (which it removes). It records the use, for the idle time-out.
func (m *Manager) Load(ctx context.Context, r *http.Request) (Record, error) {
	id, ok := m.cookie(r)
	if !ok {
		return Record{}, ErrNotFound
	}
	rec, err := m.store.SessionByHash(ctx, Hash(id))
	if err != nil {
		return Record{}, err
	}
	now := m.now()
	limit := m.cfg.Absolute
	if rec.Stage != SignedIn {
		limit = m.cfg.Pending
	}
	if now.Sub(rec.Seen) > m.cfg.Idle || now.Sub(rec.Created) > limit {
		if err := m.store.DeleteSession(ctx, rec.Hash); err != nil {
			return Record{}, fmt.Errorf("session: ending a timed-out session: %w", err)
		}
		return Record{}, ErrNotFound
	}
	if now.Sub(rec.Seen) >= touchEvery {
		if err := m.store.TouchSession(ctx, rec.Hash, now); err != nil {
			return Record{}, err
		}
		rec.Seen = now
	}
	return rec, nil
}

// End ends the session r came with and deletes its cookie on w; it returns the session's
// person, "" when there was none.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	http.SetCookie(w, m.newCookie("", -1))
	id, ok := m.cookie(r)
	if !ok {
		return "", nil
	}
	rec, err := m.store.SessionByHash(ctx, Hash(id))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	if err := m.store.DeleteSession(ctx, rec.Hash); err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	return rec.Person, nil
}

// EndAll ends every session of person, in every process: sign-out everywhere.
func (m *Manager) EndAll(ctx context.Context, person string) (int64, error) {
	n, err := m.store.DeletePersonSessions(ctx, person)
	if err != nil {
		return 0, fmt.Errorf("session: signing %s out everywhere: %w", person, err)
	}
	return n, nil
}

// Sweep removes the sessions that have timed out; a session is refused once timed out whether
// swept or not, so this only keeps the table small.
func (m *Manager) Sweep(ctx context.Context) (int64, error) {
	now := m.now()
	return m.store.DeleteStaleSessions(ctx, now.Add(-m.cfg.Idle), now.Add(-m.cfg.Absolute))
}

// Middleware puts the principal of a signed-in session in the request's context, and passes
// every request on: a request without a session, with one not signed in, or of a person who may
// no longer sign in has no principal, and the route decides (identity.FromContext). A store that
// cannot be asked is answered 503, since no one can be told who they are.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, err := m.Load(r.Context(), r)
		switch {
		case errors.Is(err, ErrNotFound):
			next.ServeHTTP(w, r)
			return
		case err != nil:
			http.Error(w, "sessions are not available; try again later", http.StatusServiceUnavailable)
			return
		case rec.Stage != SignedIn:
			next.ServeHTTP(w, r)
			return
		}
		p, err := m.principals(r.Context(), rec.Person)
		if err != nil {
			// Disabled or removed since (whose sessions were ended then), or the store failed: no
			// principal either way, and the session stays for the store's next answer.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

// Require answers 401 to a request without a principal and 403 to one whose principal lacks
// perm, and passes the others to next: what each route of the applications declares.
func Require(perm identity.Permission, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := identity.FromContext(r.Context())
		switch {
		case !ok:
			http.Error(w, "sign in first", http.StatusUnauthorized)
		case !p.Can(perm):
			http.Error(w, "your roles do not allow this", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
