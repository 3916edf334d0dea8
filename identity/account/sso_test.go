package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
)

func TestSSOName(t *testing.T) {
	a := account.SSOName("https://login.example.bg", "123")
	if err := account.CheckName(a); err != nil || !account.IsSSO(a) || len(a) != 30 {
		t.Fatalf("SSOName %q: %v", a, err)
	}
	if a != account.SSOName("https://login.example.bg", "123") {
		t.Fatal("SSOName is not stable")
	}
	for _, other := range []string{account.SSOName("https://other.example.bg", "123"), account.SSOName("https://login.example.bg", "124"),
		account.SSOName("https://login.example.bg1", "23")} {
		if other == a {
			t.Fatalf("two pairs share the name %q", a)
		}
	}
}

func TestSignInSSO(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := account.SSOPerson{Issuer: "https://login.example.bg", Subject: "s-1", FullName: "Мария Иванова", Roles: []identity.Role{identity.Expert, identity.Expert}}
	name, err := f.svc.SignInSSO(ctx, p, "192.0.2.7")
	if err != nil || name != account.SSOName(p.Issuer, p.Subject) {
		t.Fatalf("SignInSSO: %q, %v", name, err)
	}
	a, err := f.st.AccountByName(ctx, name)
	if err != nil || a.Password != "" || a.ResetHash != nil || a.MustChange || a.FullName != "Мария Иванова" || len(a.Roles) != 1 {
		t.Fatalf("account %+v, %v", a, err)
	}
	// No password signs in to it, and an administrator cannot give it one.
	if _, err := f.svc.CheckPassword(ctx, name, "", "192.0.2.7"); !errors.Is(err, account.ErrRefused) {
		t.Fatalf("password sign-in to an SSO account: %v", err)
	}
	if _, err := f.svc.Reset(ctx, "cli", name); !errors.Is(err, account.ErrSSOAccount) {
		t.Fatalf("reset of an SSO account: %v", err)
	}
	if _, err := f.svc.Create(ctx, "cli", "sso.someone", "", []identity.Role{identity.Clerk}); err == nil || !strings.Contains(err.Error(), "kept for single sign-on") {
		t.Fatalf("local account with the SSO prefix: %v", err)
	}
	// Signing in again with the same roles changes nothing but journals the sign-in.
	if _, err := f.svc.SignInSSO(ctx, p, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if got := kinds(f.journal(t)); !strings.HasPrefix(got, "account.created signin.ok") || !strings.HasSuffix(got, "signin.ok") ||
		strings.Contains(got, "roles_changed") {
		t.Fatalf("journal %q", got)
	}
	p.Roles = nil
	if _, err := f.svc.SignInSSO(ctx, p, "192.0.2.7"); !errors.Is(err, account.ErrRefused) {
		t.Fatalf("no role: %v", err)
	}
	if p, err := f.svc.Principal(ctx, name); err != nil || len(p.Roles) != 0 {
		t.Fatalf("roles kept after the groups gave none: %+v, %v", p, err)
	}
	e := f.journal(t)[0]
	if f.journal(t)[1].Kind != "account.roles_changed" {
		t.Fatalf("roles taken away without a journal entry: %q", kinds(f.journal(t)))
	}
	if e.Kind != "signin.failed" || e.Detail["reason"] != "no role mapped from the provider's groups" || e.Subject != "account "+name {
		t.Fatalf("journal %+v", e)
	}
	p.Roles = []identity.Role{identity.Role("integrator")}
	if _, err := f.svc.SignInSSO(ctx, p, "192.0.2.7"); err == nil {
		t.Fatal("a machines' role given to a person")
	}
}
