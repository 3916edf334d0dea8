package account

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aiskao/aiskao/identity"
)

// ssoPrefix begins the name of every account made by single sign-on; Create refuses it, so that
// no local account can take the place of a provider's subject.
const ssoPrefix = "sso."

// ErrSSOAccount: the account signs in through single sign-on and has no password to reset.
var ErrSSOAccount = errors.New("the account signs in through single sign-on; it has no local password")

// SSOName returns the name of the account of subject at the OpenID Connect provider issuer:
// "sso." and 26 base32 characters of the SHA-256 of both. The name follows from the pair alone,
// so the pair is found again at every sign-in without a column of its own, two providers' equal
// subjects get two accounts, and a change of e-mail address at the provider keeps the account.
func SSOName(issuer, subject string) string {
	h := sha256.Sum256([]byte(issuer + "\x00" + subject))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])
	return ssoPrefix + strings.ToLower(enc[:26])
}

// IsSSO reports whether name is the account of a single sign-on.
func IsSSO(name string) bool { return strings.HasPrefix(name, ssoPrefix) }

// SSOPerson is a person as an OpenID Connect provider vouched for them, with the roles and
// positions that the provider's groups map to.
type SSOPerson struct {
	Issuer  string
	Subject string // the provider's "sub": stable and unique at the issuer
	// FullName is shown to people; personal data, never journaled.
	FullName string
	Roles    []identity.Role
	// Positions are those the groups give; Managed every position some group may give, so
	// that one the groups no longer give is released. Positions given by hand are kept.
	Positions []string
	Managed   []string
}

// SignInSSO signs p in from addr, the provider having proved who they are: it finds the
// account of p's issuer and subject or makes one without a password, gives it exactly p.Roles
// (the provider's groups decide; a change ends the person's other sessions) and the positions
// p's groups give, and journals each act. It returns the account's name, or ErrRefused for a
// disabled account or a person with no role.
func (s *Service) SignInSSO(ctx context.Context, p SSOPerson, addr string) (string, error) {
	return s.signInSSO(ctx, p, addr, true)
}

func (s *Service) signInSSO(ctx context.Context, p SSOPerson, addr string, retry bool) (string, error) {
	name := SSOName(p.Issuer, p.Subject)
	actor := "sso:" + p.Issuer
	who := map[string]string{"addr": addr, "issuer": p.Issuer, "subject": p.Subject, "method": "oidc"}
	if len(p.Roles) == 0 {
		return "", s.noRole(ctx, name, actor, p, who)
	}
	if err := checkRoles(p.Roles); err != nil {
		return "", err
	}
	roles := slices.Clone(p.Roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	a, err := s.store.AccountByName(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		now := s.now()
		a = Account{Name: name, FullName: p.FullName, Roles: roles, Created: now, Updated: now}
		err = s.store.CreateAccount(ctx, a)
		if errors.Is(err, ErrExists) && retry { // made at the same time by another sign-in of the person
			return s.signInSSO(ctx, p, addr, false)
		}
		if err != nil {
			return "", fmt.Errorf("account %s: %w", name, err)
		}
		if err := s.record(ctx, "account.created", actor, name, "ok",
			map[string]string{"roles": joinRoles(roles), "issuer": p.Issuer, "subject": p.Subject, "method": "oidc"}); err != nil {
			return "", err
		}
	case err != nil:
		return "", fmt.Errorf("account %s: %w", name, err)
	case a.Disabled:
		return "", s.refuseSSO(ctx, name, true, who, "account disabled")
	case !slices.Equal(sortedRoles(a.Roles), roles) || a.FullName != p.FullName:
		detail := map[string]string{"roles": joinRoles(roles)}
		rolesChanged := !slices.Equal(sortedRoles(a.Roles), roles)
		err := s.updateQuiet(ctx, name, func(a *Account) {
			detail["before"], a.Roles, a.FullName = joinRoles(a.Roles), roles, p.FullName
		})
		if err != nil {
			return "", err
		}
		if rolesChanged {
			if err := s.record(ctx, "account.roles_changed", actor, name, "ok", detail); err != nil {
				return "", err
			}
			if err := s.endSessions(ctx, name); err != nil {
				return "", err
			}
		}
	}
	if err := s.syncPositions(ctx, actor, name, p); err != nil {
		return "", err
	}
	return name, s.record(ctx, "signin.ok", "person:"+name, name, "ok", who)
}

// noRole refuses a person whose groups give no role. If they had an account, its roles and the
// positions the groups gave are taken away and its sessions ended: the provider no longer
// vouches for any of them.
func (s *Service) noRole(ctx context.Context, name, actor string, p SSOPerson, who map[string]string) error {
	a, err := s.store.AccountByName(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("account %s: %w", name, err)
	}
	exists := err == nil
	if exists && len(a.Roles) > 0 {
		detail := map[string]string{"roles": ""}
		if err := s.updateQuiet(ctx, name, func(a *Account) { detail["before"], a.Roles = joinRoles(a.Roles), nil }); err != nil {
			return err
		}
		if err := s.record(ctx, "account.roles_changed", actor, name, "ok", detail); err != nil {
			return err
		}
		if err := s.endSessions(ctx, name); err != nil {
			return err
		}
	}
	if exists {
		if err := s.syncPositions(ctx, actor, name, p); err != nil {
			return err
		}
	}
	return s.refuseSSO(ctx, name, exists, who, "no role mapped from the provider's groups")
}

// refuseSSO journals a refused single sign-on and returns ErrRefused. Failures are not counted
// towards a lock-out: the provider checked the credentials, and its answer will not change by
// trying again.
func (s *Service) refuseSSO(ctx context.Context, name string, exists bool, who map[string]string, reason string) error {
	detail := map[string]string{"reason": reason}
	for k, v := range who {
		detail[k] = v
	}
	subject := ""
	if exists {
		subject = name
	}
	if err := s.record(ctx, "signin.failed", "", subject, "refused", detail); err != nil {
		return err
	}
	return ErrRefused
}

// RefuseSSO journals a single sign-on that the caller refused before it reached an account (an
// e-mail domain or subject not allowed, say), with who it was and from where, and returns
// ErrRefused.
func (s *Service) RefuseSSO(ctx context.Context, issuer, subject, addr, reason string) error {
	name := SSOName(issuer, subject)
	_, err := s.store.AccountByName(ctx, name)
	return s.refuseSSO(ctx, name, err == nil,
		map[string]string{"addr": addr, "issuer": issuer, "subject": subject, "method": "oidc"}, reason)
}

// syncPositions makes name hold the positions p's groups give, and release those of p.Managed
// that they no longer give.
func (s *Service) syncPositions(ctx context.Context, actor, name string, p SSOPerson) error {
	if s.org == nil || len(p.Managed) == 0 {
		return nil
	}
	held, err := s.org.PositionsOf(ctx, name)
	if err != nil {
		return fmt.Errorf("account %s: %w", name, err)
	}
	for _, pos := range p.Positions {
		if slices.Contains(held, pos) {
			continue
		}
		if err := s.org.Hold(ctx, name, pos); err != nil {
			return fmt.Errorf("account %s: position %s: %w", name, pos, err)
		}
		if err := s.record(ctx, "account.position_held", actor, name, "ok", map[string]string{"position": pos}); err != nil {
			return err
		}
	}
	for _, pos := range held {
		if !slices.Contains(p.Managed, pos) || slices.Contains(p.Positions, pos) {
			continue
		}
		if err := s.org.Release(ctx, name, pos); err != nil {
			return fmt.Errorf("account %s: position %s: %w", name, pos, err)
		}
		if err := s.record(ctx, "account.position_released", actor, name, "ok", map[string]string{"position": pos}); err != nil {
			return err
		}
	}
	return nil
}

// updateQuiet changes name's account by change as update does, journaling nothing: the caller
// journals what it means.
func (s *Service) updateQuiet(ctx context.Context, name string, change func(*Account)) error {
	c := *s
	c.journal = nil
	return c.update(ctx, "", name, "", nil, change)
}

func sortedRoles(r []identity.Role) []identity.Role {
	out := slices.Clone(r)
	slices.Sort(out)
	return slices.Compact(out)
}
