package oidc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
)

func good() Config {
	return Config{Issuer: "https://login.example.bg/realms/staff", ClientID: "aiskao", ClientSecret: "${OIDC_SECRET}",
		RedirectURL: "https://hub.example.bg/sso/callback",
		Groups:      map[string]Grant{"clerks": {Roles: []string{"clerk"}, Positions: []string{"front-office.desk-1"}}}}
}

func TestValidateNamesTheField(t *testing.T) {
	if err := func() *Config { c := good(); return &c }().Validate(); err != nil {
		t.Fatalf("good configuration: %v", err)
	}
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Issuer = "" }, "oidc.issuer: required"},
		{func(c *Config) { c.Issuer = "http://login.example.bg" }, "oidc.issuer: \"http://login.example.bg\": use https"},
		{func(c *Config) { c.Issuer = "https://login.example.bg/?x=1" }, "oidc.issuer: \"https://login.example.bg/?x=1\": an issuer has no query"},
		{func(c *Config) { c.ClientID = "" }, "oidc.client_id: required"},
		{func(c *Config) { c.ClientSecret = "" }, "oidc.client_secret: set one of client_secret and client_secret_file"},
		{func(c *Config) { c.ClientSecretFile = "secret" }, "oidc.client_secret: set one of"},
		{func(c *Config) { c.RedirectURL = "/sso/callback" }, "oidc.redirect_url: \"/sso/callback\" is not an absolute URL"},
		{func(c *Config) { c.PostLogoutRedirectURL = "http://hub.example.bg/" }, "oidc.post_logout_redirect_url:"},
		{func(c *Config) { c.Scopes = []string{"email", "a b"} }, "oidc.scopes[1]:"},
		{func(c *Config) { c.Groups = nil }, "oidc.groups: map at least one group"},
		{func(c *Config) { c.Groups["x"] = Grant{} }, "oidc.groups.x: give roles or positions"},
		{func(c *Config) { c.Groups["x"] = Grant{Roles: []string{"clerk", "integrator"}} }, `oidc.groups.x.roles[1]: role "integrator" is not one of`},
		{func(c *Config) { c.Groups["x"] = Grant{Positions: []string{"Desk 1"}} }, "oidc.groups.x.positions[0]:"},
		{func(c *Config) { c.AllowedDomains = []string{"@sofia.bg"} }, "oidc.allowed_domains[0]:"},
		{func(c *Config) { c.AllowedSubjects = []string{""} }, "oidc.allowed_subjects[0]: empty"},
	} {
		c := good()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v; want %q", err, tc.want)
		}
	}
	c := good()
	c.Issuer, c.RedirectURL = "http://127.0.0.1:8080", "http://localhost:8080/sso/callback"
	if err := c.Validate(); err != nil {
		t.Errorf("http to a loopback address: %v", err)
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OIDC_SECRET", "from-env")
	for _, tc := range []struct {
		c       Config
		want    string
		wantErr string
	}{
		{Config{ClientSecretFile: "s"}, "from-file", ""},
		{Config{ClientSecretFile: "missing"}, "", "oidc.client_secret_file:"},
		{Config{ClientSecret: "${OIDC_SECRET}"}, "from-env", ""},
		{Config{ClientSecret: "${OIDC_UNSET_SECRET}"}, "", "oidc.client_secret: environment variable OIDC_UNSET_SECRET is not set"},
		{Config{ClientSecret: "plain"}, "plain", ""},
	} {
		got, err := tc.c.secret(dir)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%+v: %q, %v", tc.c, got, err)
		}
	}
}

func TestGrant(t *testing.T) {
	c := Config{Groups: map[string]Grant{
		"clerks":  {Roles: []string{"clerk"}, Positions: []string{"desk-1"}},
		"experts": {Roles: []string{"expert", "clerk"}, Positions: []string{"grao.expert"}},
		"desk-2":  {Positions: []string{"desk-2"}},
	}}
	roles, positions, managed := c.grant([]string{"experts", "clerks", "unknown"})
	if len(roles) != 2 || roles[0] != identity.Clerk || roles[1] != identity.Expert ||
		strings.Join(positions, ",") != "desk-1,grao.expert" || strings.Join(managed, ",") != "desk-1,desk-2,grao.expert" {
		t.Fatalf("grant: %v %v %v", roles, positions, managed)
	}
	if roles, positions, _ := c.grant([]string{"desk-2"}); len(roles) != 0 || strings.Join(positions, ",") != "desk-2" {
		t.Fatalf("a group of positions only: %v %v", roles, positions)
	}
}
