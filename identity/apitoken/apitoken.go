// Package apitoken is the hub's API tokens: random secrets given to machines, each with a name and
// a role, kept in the store only as a SHA-256 hash and shown once when made.
//
// A token reads "aiskao_<id>_<secret>": id is 16 hexadecimal digits that find the token's record
// without touching the secret, and secret is 32 random bytes in unpadded base64url. The secret
// has 256 bits of entropy, so one SHA-256 of the whole token is enough to keep it (no slow
// password hash is needed: there is nothing to guess), and the hash is compared in constant time.
package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// prefix starts every token, so that one found in a log or a repository is recognised.
const prefix = "aiskao_"

// Lengths of a token's parts.
const (
	idBytes     = 8
	secretBytes = 32
	tokenLen    = len(prefix) + 2*idBytes + 1 + 43 // 43: base64url of 32 bytes, unpadded
)

// Errors of a store and of Authenticate.
var (
	// ErrNotFound: no token with that id, or no active token of that name.
	ErrNotFound = errors.New("no such token")
	// ErrExists: an active token of that name exists already.
	ErrExists = errors.New("an active token of that name exists")
	// ErrMalformed: the text is not a token of this hub.
	ErrMalformed = errors.New("not an API token of this hub")
	// ErrUnknown: the token's id is not in the store, or its secret does not match.
	ErrUnknown = errors.New("unknown API token")
	// ErrRevoked: the token was revoked.
	ErrRevoked = errors.New("API token revoked")
)

// Record is a token as the store keeps it: never the token itself.
type Record struct {
	ID      string // the token's public id, 16 hexadecimal digits
	Name    string // who or what holds it, unique among active tokens
	Role    identity.Role
	Hash    []byte    // SHA-256 of the whole token; empty in listings
	Created time.Time // when it was made
	Revoked time.Time // when it was revoked; zero while active
}

// Active reports whether the token has not been revoked.
func (r Record) Active() bool { return r.Revoked.IsZero() }

// Store keeps token records. The hub's SQLite and PostgreSQL stores implement it.
type Store interface {
	// CreateToken stores r, or returns ErrExists when an active token has its name.
	CreateToken(ctx context.Context, r Record) error
	// RevokeToken marks the active token of that name revoked at, or returns ErrNotFound.
	RevokeToken(ctx context.Context, name string, at time.Time) error
	// ListTokens returns every record, active and revoked, without hashes, oldest first.
	ListTokens(ctx context.Context) ([]Record, error)
	Lookup
}

// Lookup finds a token's record: all that checking a presented token needs.
type Lookup interface {
	// TokenByID returns the record with that id, hash included, or ErrNotFound.
	TokenByID(ctx context.Context, id string) (Record, error)
}

// New makes a token for name with role, returning the token (to show once) and its record (to
// store).
func New(name string, role identity.Role, now time.Time) (token string, r Record, err error) {
	if err := CheckName(name); err != nil {
		return "", Record{}, err
	}
	if _, err := identity.ParseRole(string(role)); err != nil {
		return "", Record{}, err
	}
	var b [idBytes + secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Record{}, fmt.Errorf("apitoken: random: %w", err)
	}
	id := hex.EncodeToString(b[:idBytes])
	token = prefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[idBytes:])
	return token, Record{ID: id, Name: name, Role: role, Hash: Hash(token), Created: now.UTC()}, nil
}

// CheckName reports whether name can name a token: 1 to 64 letters, digits, '.', '-', '_' or '@'.
func CheckName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("token name %q: want 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_@", c)) {
			return fmt.Errorf("token name %q: only letters, digits and . - _ @ are allowed", name)
		}
	}
	return nil
}

// Hash returns the SHA-256 of token, as the store keeps it.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ParseID returns the id part of token, or ErrMalformed.
func ParseID(token string) (string, error) {
	if len(token) != tokenLen || !strings.HasPrefix(token, prefix) || token[len(prefix)+2*idBytes] != '_' {
		return "", ErrMalformed
	}
	id := token[len(prefix) : len(prefix)+2*idBytes]
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", ErrMalformed
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token[len(prefix)+2*idBytes+1:]); err != nil {
		return "", ErrMalformed
	}
	return id, nil
}

// Authenticator turns a presented token into a principal.
type Authenticator struct {
	Store Lookup
}

// Authenticate returns the principal of token. It returns ErrMalformed, ErrUnknown or ErrRevoked
// when the token proves nothing, and any other error when the store cannot be asked (the caller
// must refuse then too).
func (a Authenticator) Authenticate(ctx context.Context, token string) (identity.Principal, error) {
	id, err := ParseID(token)
	if err != nil {
		return identity.Principal{}, err
	}
	r, err := a.Store.TokenByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return identity.Principal{}, ErrUnknown
	}
	if err != nil {
		return identity.Principal{}, fmt.Errorf("apitoken: looking up token %s: %w", id, err)
	}
	if subtle.ConstantTimeCompare(r.Hash, Hash(token)) != 1 {
		return identity.Principal{}, ErrUnknown
	}
	if !r.Active() {
		return identity.Principal{}, ErrRevoked
	}
	return identity.Principal{Name: r.Name, Kind: identity.KindToken, Roles: []identity.Role{r.Role}}, nil
}
