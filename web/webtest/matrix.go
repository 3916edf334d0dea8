// Package webtest holds the web applications' shared test checks.
package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// wildcard is a {name} or {name...} segment of a ServeMux pattern.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// Target returns a method and a path that the ServeMux pattern matches: "GET /{$}" gives GET /,
// "/x/{id}" gives GET /x/1, a path ending in / gives a file under it.
func Target(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = wildcard.ReplaceAllString(path, "1")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "x"
	}
	if pattern == "/" || strings.HasSuffix(pattern, " /") {
		path = "/no-such-page"
	}
	return method, path
}

// RoleMatrix runs no one and every person's role against every endpoint through h, which must
// take the principal from the request's context (web.Shell.Mux does) and is given a request for
// each: an endpoint that declares no permission fails the test; one that needs a principal must
// send no one to sign in (303 for a GET, 401 otherwise); one that needs a permission must answer
// 403 to each role without it and let each role with it through (neither 401 nor 403). Open
// endpoints are only checked for their declaration.
func RoleMatrix(t *testing.T, h http.Handler, endpoints []httpauth.Endpoint) {
	t.Helper()
	if len(endpoints) == 0 {
		t.Fatal("no endpoints")
	}
	for _, p := range Problems(h, endpoints) {
		t.Error(p)
	}
}

// Problems is what RoleMatrix reports, one line a problem.
func Problems(h http.Handler, endpoints []httpauth.Endpoint) []string {
	var out []string
	for _, e := range endpoints {
		if e.Perm == "" {
			out = append(out, e.Pattern+" declares no permission")
			continue
		}
		if e.Perm == httpauth.Open {
			continue
		}
		method, path := Target(e.Pattern)
		w := serve(h, method, path, nil)
		wantAnon := http.StatusUnauthorized
		if method == http.MethodGet || method == http.MethodHead {
			wantAnon = http.StatusSeeOther
		}
		if w.Code != wantAnon {
			out = append(out, fmt.Sprintf("%s: no one: %s %s answered %d, want %d", e.Pattern, method, path, w.Code, wantAnon))
		}
		for _, role := range identity.PersonRoles() {
			p := &identity.Principal{Kind: identity.KindPerson, Name: "matrix." + string(role), Roles: []identity.Role{role}}
			w := serve(h, method, path, p)
			may := e.Perm == httpauth.AnyPrincipal || p.Can(e.Perm)
			switch {
			case may && (w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized):
				out = append(out, fmt.Sprintf("%s: %s: %s %s answered %d; the role has %s", e.Pattern, role, method, path, w.Code, e.Perm))
			case !may && w.Code != http.StatusForbidden:
				out = append(out, fmt.Sprintf("%s: %s: %s %s answered %d, want 403 (lacks %s)", e.Pattern, role, method, path, w.Code, e.Perm))
			}
		}
	}
	return out
}

func serve(h http.Handler, method, path string, p *identity.Principal) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(""))
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p != nil {
		r = r.WithContext(identity.WithPrincipal(r.Context(), *p))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
