package account

import (
	"context"
	"errors"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// Errors of a Store and of the Service.
var (
	// ErrNotFound: no account of that name.
	ErrNotFound = errors.New("no such account")
	// ErrExists: an account of that name exists already.
	ErrExists = errors.New("an account of that name exists")
	// ErrConflict: the account was changed by someone else since it was read.
	ErrConflict = errors.New("the account was changed at the same time; try again")
)

// Account is a member of staff's local account as the store keeps it. No secret is kept in a
// form that can be used to sign in: the password is an argon2id hash, the reset token a SHA-256.
// The TOTP secret must be kept as it is, since the codes are computed from it.
type Account struct {
	Name     string // the sign-in name, unique
	FullName string // as shown to people; personal data, never logged
	Roles    []identity.Role
	// Password is the argon2id hash in PHC form; empty until the person chooses one.
	Password string
	// TOTPSecret is the base32 secret of the second factor; empty when not enrolled.
	TOTPSecret string
	// TOTPStep is the last time step whose code was accepted: a code is accepted once.
	TOTPStep int64
	// ResetHash is the SHA-256 of the one-time reset token an administrator made; empty when none.
	ResetHash []byte
	// ResetExpires is when the reset token stops working.
	ResetExpires time.Time
	// MustChange: the person must choose a new password at the next sign-in.
	MustChange bool
	Disabled   bool
	Created    time.Time
	Updated    time.Time
}

// Store keeps accounts and the counts of failed sign-ins. The hub's SQLite and PostgreSQL stores
// implement it.
type Store interface {
	// CreateAccount stores a, or returns ErrExists.
	CreateAccount(ctx context.Context, a Account) error
	// AccountByName returns the account, secrets included, or ErrNotFound.
	AccountByName(ctx context.Context, name string) (Account, error)
	// ListAccounts returns every account without its secrets (password, TOTP secret, reset
	// hash), by name.
	ListAccounts(ctx context.Context) ([]Account, error)
	// UpdateAccount replaces the stored account of a.Name with a (all but Created and TOTPStep)
	// if it was last updated at was, as read; ErrConflict when it was updated since, ErrNotFound
	// when there is none. Changes read, made and written back thus never undo one another.
	UpdateAccount(ctx context.Context, a Account, was time.Time) error
	// UseTOTPStep records step as the account's last accepted step if it is later than the one
	// recorded, and reports whether it was: of two sign-ins with one code, one wins.
	UseTOTPStep(ctx context.Context, name string, step int64) (bool, error)

	// CountFailure counts one failed sign-in under key (an account, a client address) and
	// returns the failures counted since the count began; a count begun before now-window starts
	// again from this failure.
	CountFailure(ctx context.Context, key string, now time.Time, window time.Duration) (n int, since time.Time, err error)
	// Failures returns the failures counted under key and since when; 0 when none.
	Failures(ctx context.Context, key string) (n int, since time.Time, err error)
	// ClearFailures forgets the failures counted under key.
	ClearFailures(ctx context.Context, key string) error
	// DeleteStaleFailures forgets the counts begun before before, and returns how many.
	DeleteStaleFailures(ctx context.Context, before time.Time) (int64, error)
}
