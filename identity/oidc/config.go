package oidc

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/org"
)

// Config is one OpenID Connect provider through which staff sign in.
type Config struct {
	Issuer string `yaml:"issuer" doc:"The provider's issuer URL, exactly as its discovery document names it; https (http only to a loopback address)." example:"https://login.example.bg/realms/staff"`

	ClientID         string `yaml:"client_id" doc:"The hub's client id at the provider; the ID token's audience must be it." example:"aiskao"`
	ClientSecret     string `yaml:"client_secret" doc:"The client secret, written as ${NAME} to keep it out of the file. Never logged." example:"${OIDC_CLIENT_SECRET}"`
	ClientSecretFile string `yaml:"client_secret_file" doc:"File holding the client secret, instead of client_secret; relative to the configuration's folder." example:"secrets/oidc-client-secret"`

	RedirectURL           string `yaml:"redirect_url" doc:"Where the provider sends the browser back: the callback route's absolute URL, registered at the provider; https (http only to a loopback address)." example:"https://hub.example.bg/sso/callback"`
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url" doc:"Where the provider sends the browser after signing out at its end_session_endpoint; registered at the provider. Empty: the provider's own page." example:"https://hub.example.bg/signin"`

	Scopes      []string `yaml:"scopes" doc:"Scopes asked for besides openid; default profile and email." example:"[profile, email, groups]"`
	GroupsClaim string   `yaml:"groups_claim" doc:"The ID token's claim that lists the person's groups; default groups." example:"groups"`

	Groups map[string]Grant `yaml:"groups" doc:"What each group of the provider gives: roles and positions. A person whose groups give no role is refused."`

	AllowedDomains  []string `yaml:"allowed_domains" doc:"If set (with allowed_subjects or alone), only people whose verified e-mail address is of one of these domains, or whose subject is listed, may sign in." example:"[sofia.bg]"`
	AllowedSubjects []string `yaml:"allowed_subjects" doc:"If set, the provider's subjects (sub) allowed to sign in whatever their e-mail address." example:"[248289761001]"`
}

// Grant is what one group of the provider gives a person.
type Grant struct {
	Roles     []string `yaml:"roles" doc:"Roles a person may hold (see roles.md)." example:"[clerk]"`
	Positions []string `yaml:"positions" doc:"Positions of identity/org that members hold while in the group." example:"[front-office.desk-1]"`
}

// defaultScopes are asked for when Scopes is empty: the name and the e-mail address.
var defaultScopes = []string{"profile", "email"}

// Validate reports every field that is wrong, each error naming its field.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("oidc.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := checkURL(c.Issuer); err != nil {
		add("issuer", "%v", err)
	} else if u, _ := url.Parse(c.Issuer); u.RawQuery != "" || u.Fragment != "" {
		add("issuer", "%q: an issuer has no query or fragment", c.Issuer)
	}
	if c.ClientID == "" {
		add("client_id", "required")
	}
	if (c.ClientSecret == "") == (c.ClientSecretFile == "") {
		add("client_secret", "set one of client_secret and client_secret_file")
	}
	if err := checkURL(c.RedirectURL); err != nil {
		add("redirect_url", "%v", err)
	}
	if c.PostLogoutRedirectURL != "" {
		if err := checkURL(c.PostLogoutRedirectURL); err != nil {
			add("post_logout_redirect_url", "%v", err)
		}
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			add(fmt.Sprintf("scopes[%d]", i), "%q is not a scope", s)
		}
	}
	if len(c.Groups) == 0 {
		add("groups", "map at least one group of the provider to roles; no one could sign in otherwise")
	}
	for _, g := range sortedKeys(c.Groups) {
		gr := c.Groups[g]
		if len(gr.Roles) == 0 && len(gr.Positions) == 0 {
			add("groups."+g, "give roles or positions")
		}
		for i, r := range gr.Roles {
			if _, err := identity.ParsePersonRole(r); err != nil {
				add(fmt.Sprintf("groups.%s.roles[%d]", g, i), "%v", err)
			}
		}
		for i, p := range gr.Positions {
			if err := org.CheckID(p); err != nil {
				add(fmt.Sprintf("groups.%s.positions[%d]", g, i), "%v", err)
			}
		}
	}
	for i, d := range c.AllowedDomains {
		if d == "" || d != strings.ToLower(d) || strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			add(fmt.Sprintf("allowed_domains[%d]", i), "%q: write a domain in lower case, such as sofia.bg", d)
		}
	}
	for i, s := range c.AllowedSubjects {
		if s == "" {
			add(fmt.Sprintf("allowed_subjects[%d]", i), "empty")
		}
	}
	return errors.Join(errs...)
}

// checkURL allows an absolute https URL, and http to a loopback address only: codes and the
// client secret cross it.
func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q: use https (http only to a loopback address)", s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// secret returns the client secret: the file's content (relative to dir) without its final
// line break, the environment variable client_secret names as ${NAME}, or client_secret as it is.
func (c *Config) secret(dir string) (string, error) {
	if c.ClientSecretFile != "" {
		path := c.ClientSecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("oidc.client_secret_file: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("oidc.client_secret_file: %s is empty", path)
		}
		return s, nil
	}
	if m := envRef.FindStringSubmatch(c.ClientSecret); m != nil {
		v, ok := os.LookupEnv(m[1])
		if !ok || v == "" {
			return "", fmt.Errorf("oidc.client_secret: environment variable %s is not set", m[1])
		}
		return v, nil
	}
	return c.ClientSecret, nil
}

// grant returns the roles and positions groups give, sorted, and every position some group may
// give.
func (c *Config) grant(groups []string) (roles []identity.Role, positions, managed []string) {
	for g, gr := range c.Groups {
		managed = append(managed, gr.Positions...)
		if !slices.Contains(groups, g) {
			continue
		}
		for _, r := range gr.Roles {
			roles = append(roles, identity.Role(r))
		}
		positions = append(positions, gr.Positions...)
	}
	slices.Sort(roles)
	slices.Sort(positions)
	slices.Sort(managed)
	return slices.Compact(roles), slices.Compact(positions), slices.Compact(managed)
}

// allowed reports whether the person of subject and e-mail address may sign in, and if not why.
func (c *Config) allowed(subject, email string, verified bool) (bool, string) {
	if len(c.AllowedDomains) == 0 && len(c.AllowedSubjects) == 0 {
		return true, ""
	}
	if slices.Contains(c.AllowedSubjects, subject) {
		return true, ""
	}
	if len(c.AllowedDomains) > 0 {
		at := strings.LastIndexByte(email, '@')
		domain := strings.ToLower(email[at+1:])
		switch {
		case at < 0:
			return false, "no e-mail address in the ID token"
		case !verified:
			return false, "e-mail address not verified by the provider"
		case slices.Contains(c.AllowedDomains, domain):
			return true, ""
		}
		return false, "e-mail domain " + domain + " not allowed"
	}
	return false, "subject not allowed"
}
