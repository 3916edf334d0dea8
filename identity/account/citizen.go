package account

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/identity"
)

// citizenPrefix begins the name of every account of a person signed in through eAuth; Create
// refuses it, like the single sign-on prefix, so that no local account takes a citizen's place.
const citizenPrefix = "eauth."

// CitizenName returns the name of the account of the person whose eAuth identifier (PNOBG-…,
// PASBG-…) is identifier: "eauth." and 26 base32 characters of its SHA-256. The portal keeps no
// personal number in clear: the same identifier finds the same account at every sign-in.
func CitizenName(identifier string) string {
	h := sha256.Sum256([]byte("eauth\x00" + identifier))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])
	return citizenPrefix + strings.ToLower(enc[:26])
}

// IsCitizen reports whether name is the account of a person signed in through eAuth.
func IsCitizen(name string) bool { return strings.HasPrefix(name, citizenPrefix) }

// Citizen is a person as eAuth vouched for them.
type Citizen struct {
	// Identifier is personIdentifier with its kind, e.g. PNOBG-8001010100; only its hash is kept.
	Identifier string
	// FullName is shown to the person; personal data, never journaled.
	FullName string
	// Method ("eauth", "qes") and Level ("substantial") are journaled with the sign-in.
	Method, Level string
}

// SignInCitizen signs c in from addr, eAuth having proved who they are: it finds the account
// of c's identifier or makes one with the role citizen, keeps the name eAuth gives, and journals
// the sign-in. It returns the account's name, or ErrRefused for a disabled account. The role is
// given once, at the account's making; an administrator's later change of it stands.
func (s *Service) SignInCitizen(ctx context.Context, c Citizen, addr string) (string, error) {
	return s.signInCitizen(ctx, c, addr, true)
}

func (s *Service) signInCitizen(ctx context.Context, c Citizen, addr string, retry bool) (string, error) {
	if c.Identifier == "" {
		return "", errors.New("account: a citizen without an identifier")
	}
	name := CitizenName(c.Identifier)
	who := map[string]string{"addr": addr, "method": c.Method, "level": c.Level}
	a, err := s.store.AccountByName(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		now := s.now()
		a = Account{Name: name, FullName: c.FullName, Roles: []identity.Role{identity.Citizen}, Created: now, Updated: now}
		err = s.store.CreateAccount(ctx, a)
		if errors.Is(err, ErrExists) && retry { // made at the same time by another sign-in of the person
			return s.signInCitizen(ctx, c, addr, false)
		}
		if err != nil {
			return "", fmt.Errorf("account %s: %w", name, err)
		}
		if err := s.record(ctx, "account.created", "eauth", name, "ok",
			map[string]string{"roles": string(identity.Citizen), "method": c.Method}); err != nil {
			return "", err
		}
	case err != nil:
		return "", fmt.Errorf("account %s: %w", name, err)
	case a.Disabled:
		detail := map[string]string{"reason": "account disabled"}
		for k, v := range who {
			detail[k] = v
		}
		if err := s.record(ctx, "signin.failed", "", name, "refused", detail); err != nil {
			return "", err
		}
		return "", ErrRefused
	case a.FullName != c.FullName && c.FullName != "":
		if err := s.updateQuiet(ctx, name, func(a *Account) { a.FullName = c.FullName }); err != nil {
			return "", err
		}
	}
	if len(a.Roles) == 0 { // an administrator took the role away
		return "", s.refuseSSO(ctx, name, true, who, "no role")
	}
	return name, s.record(ctx, "signin.ok", "person:"+name, name, "ok", who)
}

// RefuseCitizen journals a sign-in through eAuth that was refused before it named anyone (a
// forged, replayed or expired response), with why (the eauth refusal's code) and from where.
func (s *Service) RefuseCitizen(ctx context.Context, addr, method, code string) error {
	return s.record(ctx, "signin.failed", "", "", "refused", map[string]string{"addr": addr, "method": method, "reason": code})
}
