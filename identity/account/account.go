// Package account is the local accounts of the administration's staff: passwords hashed with
// argon2id, a second factor by TOTP, lock-out and rate limits on failed sign-ins, password reset
// by an administrator through a one-time token, disabling, roles and positions. Every sign-in,
// failure, lock-out, reset and change of roles is journaled (store.Journal) with who did it and
// from which address; no password, token or code ever is.
//
// The Service checks credentials and changes accounts; the session that follows a sign-in is
// identity/session's, and the HTTP exchange identity/signin's.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/store"
)

// Errors of a sign-in. They say nothing of whether the account exists.
var (
	// ErrRefused: the name, the password or the code is wrong, or the account cannot sign in.
	ErrRefused = errors.New("the name, password or code is not right")
	// ErrLocked: too many failed sign-ins of that name; it is locked for a while.
	ErrLocked = errors.New("too many failed sign-ins for this name; try again later")
	// ErrThrottled: too many failed sign-ins from that address; it is refused for a while.
	ErrThrottled = errors.New("too many failed sign-ins from this address; try again later")
)

// Next is what a person must do after a step of signing in succeeded.
type Next string

// The steps of signing in.
const (
	Done           Next = "done"     // signed in
	NeedTOTP       Next = "totp"     // give the code of the second factor
	ChangePassword Next = "password" // choose a new password (after a reset)
)

// Config is the policy of the Service. Zero fields take their defaults.
type Config struct {
	// Params are argon2id's costs; default DefaultParams.
	Params Params
	// Issuer names the hub in authenticator apps; default "АИСКАО".
	Issuer string
	// MaxFailures failed sign-ins of one name within Window lock it for LockFor; default 5.
	MaxFailures int
	// MaxAddrFailures failed sign-ins from one address within Window refuse it until the window
	// ends; default 50 (a front office shares one address).
	MaxAddrFailures int
	// Window is how long failures are counted; default 15 minutes.
	Window time.Duration
	// LockFor is how long a name stays locked; default 15 minutes.
	LockFor time.Duration
	// ResetTTL is how long a reset token works; default 72 hours.
	ResetTTL time.Duration
	// FailFloor is the least time a failed sign-in takes, so that every failure answers alike;
	// default 300 ms.
	FailFloor time.Duration
}

func (c Config) withDefaults() Config {
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.Issuer == "" {
		c.Issuer = "АИСКАО"
	}
	c.MaxFailures = cmpOr(c.MaxFailures, 5)
	c.MaxAddrFailures = cmpOr(c.MaxAddrFailures, 50)
	c.Window = cmpOr(c.Window, 15*time.Minute)
	c.LockFor = cmpOr(c.LockFor, 15*time.Minute)
	c.ResetTTL = cmpOr(c.ResetTTL, 72*time.Hour)
	c.FailFloor = cmpOr(c.FailFloor, 300*time.Millisecond)
	return c
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Sessions ends a person's sessions; identity/session's store does. The Service ends them when
// an account's password is reset, its roles change or it is disabled, so that no session keeps
// rights the person no longer has.
type Sessions interface {
	DeletePersonSessions(ctx context.Context, person string) (int64, error)
}

// Service checks staff credentials and changes accounts. Make it with New.
type Service struct {
	store    Store
	org      org.Store // nil: no positions
	journal  store.Journal
	sessions Sessions // nil: none ended
	cfg      Config
	dummy    string // a hash to verify against when the account does not exist
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration)
}

// New returns a Service over s, journaling to j. o (positions) and sessions may be nil.
func New(s Store, o org.Store, j store.Journal, sessions Sessions, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	dummy, err := unmatchableHash(cfg.Params)
	if err != nil {
		return nil, err
	}
	return &Service{store: s, org: o, journal: j, sessions: sessions, cfg: cfg, dummy: dummy, now: time.Now, sleep: sleepCtx}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Config returns the service's policy with its defaults.
func (s *Service) Config() Config { return s.cfg }

// CheckName reports whether name can name an account: 1 to 64 lower-case letters, digits, '.',
// '-', '_' or '@'.
func CheckName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("account name %q: want 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_@", c)) {
			return fmt.Errorf("account name %q: only lower-case letters, digits and . - _ @ are allowed", name)
		}
	}
	return nil
}

// Keys of the failure counts. What a client sends is cut to a bound, so that a key never
// grows with it.
func accountKey(name string) string { return "account:" + bounded(name) }
func lockKey(name string) string    { return "lock:" + bounded(name) }
func addrKey(addr string) string    { return "addr:" + bounded(addr) }

func bounded(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// CheckPassword is the first step of signing in: name and password (or the reset token an
// administrator gave) from the client at addr. It returns what the person must do next, or
// ErrRefused, ErrLocked or ErrThrottled, each taking at least FailFloor; any other error is the
// store's.
func (s *Service) CheckPassword(ctx context.Context, name, password, addr string) (Next, error) {
	start := s.now()
	next, err := s.checkPassword(ctx, name, password, addr)
	if errors.Is(err, ErrRefused) || errors.Is(err, ErrLocked) || errors.Is(err, ErrThrottled) {
		s.sleep(ctx, s.cfg.FailFloor-s.now().Sub(start))
	}
	return next, err
}

func (s *Service) checkPassword(ctx context.Context, name, password, addr string) (Next, error) {
	now := s.now()
	if err := s.throttled(ctx, name, addr, now); err != nil {
		return "", err
	}
	a, err := s.store.AccountByName(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("account: sign-in: %w", err)
	}
	// The hash is verified whether or not the account exists, so that both take as long.
	hash := s.dummy
	if exists && a.Password != "" {
		hash = a.Password
	}
	ok, rehash, err := VerifyPassword(password, hash, s.cfg.Params)
	if err != nil {
		return "", fmt.Errorf("account %s: %w", name, err)
	}
	ok = ok && exists && a.Password != ""
	byReset := false
	if exists && !ok && a.ResetHash != nil && now.Before(a.ResetExpires) {
		h := sha256.Sum256([]byte(password))
		byReset = subtle.ConstantTimeCompare(h[:], a.ResetHash) == 1
	}
	switch {
	case !ok && !byReset:
		reason := "wrong password"
		if !exists {
			reason = "unknown account"
		}
		return "", s.fail(ctx, name, exists, addr, now, reason)
	case a.Disabled:
		return "", s.fail(ctx, name, exists, addr, now, "account disabled")
	}
	if rehash && ok {
		if h, err := HashPassword(password, s.cfg.Params); err == nil {
			was := a.Updated
			a.Password, a.Updated = h, now
			// On failure (a change at the same time) the old hash still works: next time then.
			_ = s.store.UpdateAccount(ctx, a, was)
		}
	}
	detail := map[string]string{"addr": addr, "step": "password"}
	if byReset {
		detail["step"] = "reset token"
	}
	next := s.after(a, byReset)
	if next == Done {
		return Done, s.succeeded(ctx, name, addr)
	}
	return next, s.record(ctx, "signin.password_ok", "person:"+name, name, "ok", detail)
}

// after returns the step that follows a right password (or reset token).
func (s *Service) after(a Account, byReset bool) Next {
	switch {
	case a.TOTPSecret != "":
		return NeedTOTP
	case byReset || a.MustChange:
		return ChangePassword
	}
	return Done
}

// throttled refuses a sign-in while name is locked or addr has failed too often.
func (s *Service) throttled(ctx context.Context, name, addr string, now time.Time) error {
	if n, since, err := s.store.Failures(ctx, addrKey(addr)); err != nil {
		return fmt.Errorf("account: sign-in: %w", err)
	} else if n >= s.cfg.MaxAddrFailures && now.Before(since.Add(s.cfg.Window)) {
		_ = s.record(ctx, "signin.throttled", "", "", "throttled", map[string]string{"addr": addr})
		return ErrThrottled
	}
	n, since, err := s.store.Failures(ctx, lockKey(name))
	if err != nil {
		return fmt.Errorf("account: sign-in: %w", err)
	}
	if n > 0 && now.Before(since.Add(s.cfg.LockFor)) {
		return ErrLocked
	}
	if n > 0 { // the lock has run out: start counting afresh
		if err := s.store.ClearFailures(ctx, lockKey(name)); err != nil {
			return fmt.Errorf("account: sign-in: %w", err)
		}
		if err := s.store.ClearFailures(ctx, accountKey(name)); err != nil {
			return fmt.Errorf("account: sign-in: %w", err)
		}
	}
	return nil
}

// fail counts a failed sign-in of name from addr, locks name when it has failed MaxFailures
// times, journals both, and returns ErrRefused or ErrLocked. Names that are not accounts are
// counted and locked too, so that a lock-out says nothing of whether an account exists; the
// journal names them only when they are, since a name typed wrong may be a password.
func (s *Service) fail(ctx context.Context, name string, exists bool, addr string, now time.Time, reason string) error {
	if _, _, err := s.store.CountFailure(ctx, addrKey(addr), now, s.cfg.Window); err != nil {
		return fmt.Errorf("account: count failure: %w", err)
	}
	n, _, err := s.store.CountFailure(ctx, accountKey(name), now, s.cfg.Window)
	if err != nil {
		return fmt.Errorf("account: count failure: %w", err)
	}
	subject := ""
	if exists {
		subject = name
	}
	detail := map[string]string{"addr": addr, "reason": reason, "failures": fmt.Sprint(n)}
	if err := s.record(ctx, "signin.failed", "", subject, "refused", detail); err != nil {
		return err
	}
	if n < s.cfg.MaxFailures {
		return ErrRefused
	}
	if _, _, err := s.store.CountFailure(ctx, lockKey(name), now, s.cfg.LockFor); err != nil {
		return fmt.Errorf("account: lock: %w", err)
	}
	if err := s.record(ctx, "signin.locked", "", subject, "locked",
		map[string]string{"addr": addr, "failures": fmt.Sprint(n), "for": s.cfg.LockFor.String()}); err != nil {
		return err
	}
	return ErrLocked
}

// succeeded forgets the failures of name, once it has signed in.
func (s *Service) succeeded(ctx context.Context, name, addr string) error {
	if err := s.store.ClearFailures(ctx, accountKey(name)); err != nil {
		return fmt.Errorf("account: sign-in: %w", err)
	}
	return s.record(ctx, "signin.ok", "person:"+name, name, "ok", map[string]string{"addr": addr})
}

// CheckTOTP is the second step of signing in, after CheckPassword returned NeedTOTP: the code of
// the person's authenticator. A code is accepted once, within one step of now either side. It
// returns the next step or the errors of CheckPassword.
func (s *Service) CheckTOTP(ctx context.Context, name, code, addr string) (Next, error) {
	start := s.now()
	next, err := s.checkTOTP(ctx, name, code, addr)
	if errors.Is(err, ErrRefused) || errors.Is(err, ErrLocked) || errors.Is(err, ErrThrottled) {
		s.sleep(ctx, s.cfg.FailFloor-s.now().Sub(start))
	}
	return next, err
}

func (s *Service) checkTOTP(ctx context.Context, name, code, addr string) (Next, error) {
	now := s.now()
	if err := s.throttled(ctx, name, addr, now); err != nil {
		return "", err
	}
	a, err := s.store.AccountByName(ctx, name)
	if err != nil {
		return "", fmt.Errorf("account %s: %w", name, err)
	}
	if a.Disabled || a.TOTPSecret == "" {
		return "", s.fail(ctx, name, true, addr, now, "account disabled or without second factor")
	}
	step, ok := matchTOTP(a.TOTPSecret, code, now)
	if !ok {
		return "", s.fail(ctx, name, true, addr, now, "wrong code")
	}
	fresh, err := s.store.UseTOTPStep(ctx, name, step)
	if err != nil {
		return "", fmt.Errorf("account %s: %w", name, err)
	}
	if !fresh {
		return "", s.fail(ctx, name, true, addr, now, "code used before")
	}
	if a.MustChange || a.Password == "" {
		return ChangePassword, s.record(ctx, "signin.totp_ok", "person:"+name, name, "ok", map[string]string{"addr": addr})
	}
	return Done, s.succeeded(ctx, name, addr)
}

// SetPassword is the last step of signing in after a reset, and a person's change of their own
// password: it checks password against the policy, keeps its hash and ends any reset.
func (s *Service) SetPassword(ctx context.Context, name, password, addr string) error {
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.cfg.Params)
	if err != nil {
		return err
	}
	err = s.update(ctx, "person:"+name, name, "account.password_changed", map[string]string{"addr": addr}, func(a *Account) {
		a.Password, a.ResetHash, a.ResetExpires, a.MustChange = hash, nil, time.Time{}, false
	})
	if err != nil {
		return err
	}
	return s.succeeded(ctx, name, addr)
}

// Create makes the account name with fullName and roles, on behalf of actor, and returns its
// first one-time token: the person signs in with it and chooses a password.
func (s *Service) Create(ctx context.Context, actor, name, fullName string, roles []identity.Role) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if IsSSO(name) || IsCitizen(name) {
		return "", fmt.Errorf("account name %q: names beginning %q and %q are kept for single sign-on and eAuth", name, ssoPrefix, citizenPrefix)
	}
	if err := checkRoles(roles); err != nil {
		return "", err
	}
	now := s.now()
	token, hash, err := newResetToken()
	if err != nil {
		return "", err
	}
	a := Account{Name: name, FullName: fullName, Roles: slices.Clone(roles), ResetHash: hash, ResetExpires: now.Add(s.cfg.ResetTTL),
		MustChange: true, Created: now, Updated: now}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		return "", fmt.Errorf("account %s: %w", name, err)
	}
	return token, s.record(ctx, "account.created", actor, name, "ok", map[string]string{"roles": joinRoles(roles)})
}

// Reset gives name a new one-time token, on behalf of actor, in place of its password: the
// person signs in with it and must choose a new password; their sessions end.
func (s *Service) Reset(ctx context.Context, actor, name string) (string, error) {
	if IsSSO(name) || IsCitizen(name) {
		return "", fmt.Errorf("account %s: %w", name, ErrSSOAccount)
	}
	token, hash, err := newResetToken()
	if err != nil {
		return "", err
	}
	err = s.update(ctx, actor, name, "account.password_reset", nil, func(a *Account) {
		a.ResetHash, a.ResetExpires, a.MustChange = hash, s.now().Add(s.cfg.ResetTTL), true
		a.Password = "" // the old password stops working at once
	})
	if err != nil {
		return "", err
	}
	return token, s.endSessions(ctx, name)
}

// SetRoles gives name exactly roles, on behalf of actor; their sessions end, so that they sign
// in again with the new rights.
func (s *Service) SetRoles(ctx context.Context, actor, name string, roles []identity.Role) error {
	if err := checkRoles(roles); err != nil {
		return err
	}
	detail := map[string]string{"roles": joinRoles(roles)}
	err := s.update(ctx, actor, name, "account.roles_changed", detail, func(a *Account) {
		detail["before"], a.Roles = joinRoles(a.Roles), slices.Clone(roles)
	})
	if err != nil {
		return err
	}
	return s.endSessions(ctx, name)
}

// SetDisabled disables or enables name, on behalf of actor; a disabled account's sessions end
// and it cannot sign in.
func (s *Service) SetDisabled(ctx context.Context, actor, name string, disabled bool) error {
	kind := "account.enabled"
	if disabled {
		kind = "account.disabled"
	}
	if err := s.update(ctx, actor, name, kind, nil, func(a *Account) { a.Disabled = disabled }); err != nil {
		return err
	}
	if disabled {
		return s.endSessions(ctx, name)
	}
	return nil
}

// EnrolTOTP gives name a new second-factor secret, on behalf of actor, and returns its otpauth
// URI, to be shown once to the person. A secret enrolled before stops working.
func (s *Service) EnrolTOTP(ctx context.Context, actor, name string) (string, error) {
	secret, uri, err := NewTOTP(s.cfg.Issuer, name)
	if err != nil {
		return "", err
	}
	if err := s.update(ctx, actor, name, "account.totp_enrolled", nil, func(a *Account) { a.TOTPSecret = secret }); err != nil {
		return "", err
	}
	return uri, nil
}

// Hold makes name a holder of position, on behalf of actor.
func (s *Service) Hold(ctx context.Context, actor, name, position string) error {
	if s.org == nil {
		return errors.New("account: no store of positions")
	}
	if _, err := s.store.AccountByName(ctx, name); err != nil {
		return fmt.Errorf("account %s: %w", name, err)
	}
	if err := s.org.Hold(ctx, name, position); err != nil {
		return fmt.Errorf("account %s: %w", name, err)
	}
	return s.record(ctx, "account.position_held", actor, name, "ok", map[string]string{"position": position})
}

// Principal returns who name is once signed in: their roles and positions. A disabled or
// missing account is ErrRefused.
func (s *Service) Principal(ctx context.Context, name string) (identity.Principal, error) {
	a, err := s.store.AccountByName(ctx, name)
	if errors.Is(err, ErrNotFound) || err == nil && a.Disabled {
		return identity.Principal{}, ErrRefused
	}
	if err != nil {
		return identity.Principal{}, fmt.Errorf("account %s: %w", name, err)
	}
	p := identity.Principal{Name: name, Kind: identity.KindPerson, Roles: a.Roles}
	if s.org != nil {
		if p.Positions, err = s.org.PositionsOf(ctx, name); err != nil {
			return identity.Principal{}, fmt.Errorf("account %s: %w", name, err)
		}
	}
	return p, nil
}

// Sweep forgets the failure counts that can no longer refuse anyone, so that names tried once
// do not stay in the store. The application calls it now and then; nothing depends on it.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteStaleFailures(ctx, s.now().Add(-max(s.cfg.Window, s.cfg.LockFor)))
	if err != nil {
		return 0, fmt.Errorf("account: sweep: %w", err)
	}
	return n, nil
}

// Get returns the account name without its secrets (password, TOTP secret, reset hash), or
// ErrNotFound; Enrolled tells whether it has a second factor.
func (s *Service) Get(ctx context.Context, name string) (a Account, enrolled bool, err error) {
	a, err = s.store.AccountByName(ctx, name)
	if err != nil {
		return Account{}, false, fmt.Errorf("account %s: %w", name, err)
	}
	enrolled = a.TOTPSecret != ""
	a.Password, a.TOTPSecret, a.ResetHash = "", "", nil
	return a, enrolled, nil
}

// List returns every account without secrets.
func (s *Service) List(ctx context.Context) ([]Account, error) { return s.store.ListAccounts(ctx) }

// update changes name's account by change, on behalf of actor, and journals kind. A change
// made at the same time by another is not undone: the account is read again and change applied
// to it, a few times.
func (s *Service) update(ctx context.Context, actor, name, kind string, detail map[string]string, change func(*Account)) error {
	for try := 0; ; try++ {
		a, err := s.store.AccountByName(ctx, name)
		if err != nil {
			return fmt.Errorf("account %s: %w", name, err)
		}
		was := a.Updated
		change(&a)
		// Strictly later than the read, to the microsecond that PostgreSQL keeps, so that the
		// next change's condition tells them apart.
		a.Updated = s.now().Truncate(time.Microsecond)
		if !a.Updated.After(was) {
			a.Updated = was.Add(time.Microsecond)
		}
		err = s.store.UpdateAccount(ctx, a, was)
		if errors.Is(err, ErrConflict) && try < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("account %s: %w", name, err)
		}
		return s.record(ctx, kind, actor, name, "ok", detail)
	}
}

func (s *Service) endSessions(ctx context.Context, name string) error {
	if s.sessions == nil {
		return nil
	}
	if _, err := s.sessions.DeletePersonSessions(ctx, name); err != nil {
		return fmt.Errorf("account %s: ending sessions: %w", name, err)
	}
	return nil
}

// record journals an act about the account subject.
func (s *Service) record(ctx context.Context, kind, actor, subject, result string, detail map[string]string) error {
	if s.journal == nil {
		return nil
	}
	e := store.JournalEntry{Kind: kind, Actor: actor, Result: result, Detail: detail}
	if subject != "" {
		e.Subject = "account " + subject
	}
	// Not the caller's context alone: a client that hangs up must not leave the act unrecorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.journal.AppendJournal(ctx, e); err != nil {
		return fmt.Errorf("account: journal %s: %w", kind, err)
	}
	return nil
}

func checkRoles(roles []identity.Role) error {
	for _, r := range roles {
		if _, err := identity.ParsePersonRole(string(r)); err != nil {
			return err
		}
	}
	return nil
}

func joinRoles(roles []identity.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// newResetToken returns a one-time token of 256 random bits and its SHA-256, which is what is
// kept: like an API token, it has too much entropy to need a slow hash.
func newResetToken() (token string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("account: random: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	return token, h[:], nil
}
