package session

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound: no session of that id (never made, ended, or expired and removed).
var ErrNotFound = errors.New("no such session")

// Stage is how far a session's sign-in has gone.
type Stage string

// The stages of a session.
const (
	// SignedIn: the person is signed in; the middleware gives the request their principal.
	SignedIn Stage = "signed_in"
	// NeedsTOTP: the password was right; the second factor is awaited.
	NeedsTOTP Stage = "needs_totp"
	// NeedsPassword: the person signed in with a reset token (and second factor) and must choose
	// a new password before anything else.
	NeedsPassword Stage = "needs_password"
)

// Record is a session as the store keeps it: never its id, only the id's SHA-256.
type Record struct {
	Hash    []byte // SHA-256 of the session id
	Person  string // the account's name
	Stage   Stage
	Addr    string    // the client's address when it was made, for the journal
	Created time.Time // for the absolute time-out
	Seen    time.Time // last use, for the idle time-out
}

// Store keeps sessions so that every process of the hub sees the same ones. The hub's SQLite and
// PostgreSQL stores implement it.
type Store interface {
	// CreateSession stores r.
	CreateSession(ctx context.Context, r Record) error
	// SessionByHash returns the session whose id hashes to hash, or ErrNotFound.
	SessionByHash(ctx context.Context, hash []byte) (Record, error)
	// TouchSession sets the session's last use; ErrNotFound when it has ended.
	TouchSession(ctx context.Context, hash []byte, seen time.Time) error
	// DeleteSession ends one session; ending one already ended is no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeletePersonSessions ends every session of person and returns how many there were.
	DeletePersonSessions(ctx context.Context, person string) (int64, error)
	// DeleteStaleSessions removes the sessions last used before idle or made before created,
	// and returns how many.
	DeleteStaleSessions(ctx context.Context, idle, created time.Time) (int64, error)
}
