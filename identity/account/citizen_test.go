package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
)

func TestCitizenName(t *testing.T) {
	a := account.CitizenName("PNOBG-8001010100")
	if err := account.CheckName(a); err != nil || !account.IsCitizen(a) || account.IsSSO(a) || strings.Contains(a, "8001010100") {
		t.Fatalf("CitizenName %q: %v", a, err)
	}
	if a != account.CitizenName("PNOBG-8001010100") || a == account.CitizenName("PNOBG-8511300152") ||
		a == account.CitizenName("PASBG-8001010100") {
		t.Fatal("CitizenName is not stable, or two identifiers share a name")
	}
}

func TestSignInCitizen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := account.Citizen{Identifier: "PNOBG-8001010100", FullName: "Иван Петров Тестов", Method: "eauth", Level: "substantial"}
	name, err := f.svc.SignInCitizen(ctx, c, "192.0.2.9")
	if err != nil || name != account.CitizenName(c.Identifier) {
		t.Fatalf("SignInCitizen: %q, %v", name, err)
	}
	p, err := f.svc.Principal(ctx, name)
	if err != nil || len(p.Roles) != 1 || p.Roles[0] != identity.Citizen || !p.Can(identity.ApplicationsSubmit) || p.Can(identity.DossiersRead) {
		t.Fatalf("principal %+v, %v", p, err)
	}
	// No password signs in to it, an administrator cannot give it one, and no local account may
	// take such a name.
	if _, err := f.svc.CheckPassword(ctx, name, "", "192.0.2.9"); !errors.Is(err, account.ErrRefused) {
		t.Fatalf("password sign-in to a citizen's account: %v", err)
	}
	if _, err := f.svc.Reset(ctx, "cli", name); !errors.Is(err, account.ErrSSOAccount) {
		t.Fatalf("reset of a citizen's account: %v", err)
	}
	if _, err := f.svc.Create(ctx, "cli", "eauth.someone", "", []identity.Role{identity.Clerk}); err == nil {
		t.Fatal("a local account with the eAuth prefix")
	}
	// The name eAuth gives is kept; the journal never holds the personal number or the name.
	c.FullName = "Иван Петров Тестов-Нов"
	if _, err := f.svc.SignInCitizen(ctx, c, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.st.AccountByName(ctx, name); a.FullName != c.FullName {
		t.Errorf("full name %q, want %q", a.FullName, c.FullName)
	}
	for _, e := range f.journal(t) {
		if s := strings.Join([]string{e.Subject, e.Actor, e.Detail["addr"], e.Detail["method"], e.Detail["level"]}, " "); strings.Contains(s, "8001010100") || strings.Contains(s, "Иван") {
			t.Errorf("journal entry %+v holds personal data", e)
		}
	}
	if got := kinds(f.journal(t)); got != "account.created signin.ok signin.failed signin.ok" {
		t.Errorf("journal %q", got)
	}
	if e := f.journal(t)[0]; e.Kind != "signin.ok" || e.Detail["method"] != "eauth" || e.Detail["level"] != "substantial" || e.Actor != "person:"+name {
		t.Errorf("sign-in entry %+v", e)
	}
	// Disabled, the account signs in no more, and the refusal is journaled.
	if err := f.svc.SetDisabled(ctx, "cli", name, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignInCitizen(ctx, c, "192.0.2.9"); !errors.Is(err, account.ErrRefused) {
		t.Fatalf("disabled citizen: %v", err)
	}
	if e := f.journal(t)[0]; e.Kind != "signin.failed" || e.Detail["reason"] != "account disabled" {
		t.Errorf("refusal entry %+v", e)
	}
	if err := f.svc.RefuseCitizen(ctx, "192.0.2.10", "eauth", "replay"); err != nil {
		t.Fatal(err)
	}
	if e := f.journal(t)[0]; e.Kind != "signin.failed" || e.Detail["reason"] != "replay" || e.Subject != "" {
		t.Errorf("refusal entry %+v", e)
	}
}
