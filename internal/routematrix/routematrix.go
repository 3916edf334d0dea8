// Package routematrix is the table test every application and API of the hub runs: every role,
// and a caller without credentials, against every route it serves. A route that declares no
// permission fails the test, as does one needing a permission that no role grants.
//
// Each application keeps its routes as httpauth.Endpoint values (the pattern, the handler and the
// permission), serves them through a guard (httpauth.Guard.Mux for an API, web.Shell.Mux for
// pages) and calls Check from its own tests with a way to call a route as a role.
package routematrix

import (
	"net/http"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// Caller calls method path as a principal holding role, or without credentials when role is "",
// and returns the answer's status and, for a redirect, its Location.
type Caller func(method, path string, role identity.Role) (status int, location string)

// T is the part of testing.TB that Check uses.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
}

// Options adapt Check to an application.
type Options struct {
	// Roles are the roles tried; default identity.AllRoles().
	Roles []identity.Role
	// Path turns an endpoint's pattern path ("/dossiers/{number}") into one to call; default
	// every wildcard becomes "x".
	Path func(pattern string) string
	// SignIn, when set, is where a page sends a caller without a session on a GET (303); without
	// it such a caller must be answered 401.
	SignIn string
}

// Check runs every role and an anonymous caller against every endpoint through call:
//   - an open endpoint refuses no caller for who they are (no 401, no 403 by role);
//   - an anonymous caller of any other gets 401, or on a page's GET a 303 to the sign-in;
//   - a role without the endpoint's permission gets 403, a role with it neither 401 nor 403.
func Check(t T, endpoints []httpauth.Endpoint, call Caller, o Options) {
	t.Helper()
	roles := o.Roles
	if roles == nil {
		roles = identity.AllRoles()
	}
	fill := o.Path
	if fill == nil {
		fill = wildcards
	}
	if len(endpoints) == 0 {
		t.Fatal("routematrix: no endpoints to check")
	}
	for _, e := range endpoints {
		method, pattern, ok := strings.Cut(e.Pattern, " ")
		if !ok {
			method, pattern = http.MethodGet, e.Pattern
		}
		if e.Perm == "" {
			t.Errorf("%s declares no permission", e.Pattern)
			continue
		}
		if e.Perm != httpauth.Open && e.Perm != httpauth.AnyPrincipal && !grantedByAny(e.Perm) {
			t.Errorf("%s needs %q, which no role grants", e.Pattern, e.Perm)
		}
		path := fill(pattern)
		status, loc := call(method, path, "")
		if e.Perm == httpauth.Open {
			// An open endpoint may refuse what is sent to it (a malformed form, say), but
			// never by who calls: no role gets a 401, or a 403 that a caller without
			// credentials did not get. (It may answer a signed-in person otherwise: a
			// sign-in page sends them on.)
			if status == http.StatusUnauthorized {
				t.Errorf("%s %s without credentials: 401, want it open", method, path)
			}
			for _, r := range roles {
				got, _ := call(method, path, r)
				if got == http.StatusUnauthorized || (got == http.StatusForbidden && status != http.StatusForbidden) {
					t.Errorf("%s %s as %s: %d, but %d without credentials; an open endpoint refuses no one for who they are", method, path, r, got, status)
				}
			}
			continue
		}
		switch {
		case o.SignIn != "" && method == http.MethodGet && status == http.StatusSeeOther:
			if !strings.HasPrefix(loc, o.SignIn) {
				t.Errorf("%s %s without credentials: sent to %q, want the sign-in %q", method, path, loc, o.SignIn)
			}
		case status != http.StatusUnauthorized:
			t.Errorf("%s %s without credentials: %d, want 401", method, path, status)
		}
		for _, r := range roles {
			status, _ := call(method, path, r)
			allowed := e.Perm == httpauth.AnyPrincipal || r.Grants(e.Perm)
			switch {
			case !allowed && status != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403 (it needs %s)", method, path, r, status, e.Perm)
			case allowed && (status == http.StatusUnauthorized || status == http.StatusForbidden):
				t.Errorf("%s %s as %s: %d, want it allowed (%s grants %s)", method, path, r, status, r, e.Perm)
			}
		}
	}
}

// grantedByAny reports whether some role grants p.
func grantedByAny(p identity.Permission) bool {
	for _, r := range identity.AllRoles() {
		if r.Grants(p) {
			return true
		}
	}
	return false
}

// wildcards replaces every {name} or {name...} of a pattern's path with "x", and drops the {$}
// that ends a pattern matching its path alone.
func wildcards(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		b.WriteString("x")
		p = p[i+j+1:]
	}
}
