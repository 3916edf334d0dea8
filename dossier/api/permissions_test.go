package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/routematrix"
)

// Every role, and anonymous callers, against every endpoint (internal/routematrix): anonymous
// callers get 401 except on the open endpoints, a role without the endpoint's permission 403, a
// role with it neither. A principal with no role at all is refused wherever a permission is needed.
func TestPermissions(t *testing.T) {
	f := newFixture(t)
	number := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)["number"].(string)
	fb := f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: map[string]any{"kind": "inquiry", "channel": "email",
		"author": map[string]any{"name": "Иван Иванов", "email": "ivan@example.bg"}, "text": "?"}}, 201)["number"].(string)
	fill := strings.NewReplacer("{id}", "2016", "{task}", "T1", "{item}", "relations", "{stage}", "prepare")
	path := func(p string) string {
		switch {
		case strings.HasPrefix(p, "/api/v1/dossiers/"):
			p = strings.Replace(p, "{number}", escape(number), 1)
		case strings.HasPrefix(p, "/api/v1/feedback/"):
			p = strings.Replace(p, "{number}", escape(fb), 1)
		}
		if strings.Contains(p, "/irregularities/") {
			p = strings.Replace(p, "{id}", "N1", 1)
		}
		return fill.Replace(p)
	}
	var es []httpauth.Endpoint
	for _, e := range f.api.endpoints() {
		es = append(es, httpauth.Endpoint{Pattern: e.pattern, Handler: e.handler, Perm: e.perm})
	}
	call := func(method, p string, role identity.Role) (int, string) {
		rq := req{method: method, path: p, as: string(role)}
		if method == "POST" {
			rq.body = "{}"
		}
		rec := f.do(rq)
		if rec.Code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s %s: 401 without a challenge", method, p)
		}
		return rec.Code, rec.Header().Get("Location")
	}
	routematrix.Check(t, es, call, routematrix.Options{Roles: identity.Roles(), Path: path})
	for _, e := range es {
		method, p, _ := strings.Cut(e.Pattern, " ")
		if e.Perm == open {
			continue
		}
		if code, _ := call(method, path(p), "nobody"); code != http.StatusForbidden && !(e.Perm == anyPrincipal && code != 401) {
			t.Errorf("%s as a principal without roles: %d, want 403", e.Pattern, code)
		}
	}
}

// An endpoint that declares no permission refuses everyone, so that forgetting one fails closed.
func TestUndeclaredPermissionRefuses(t *testing.T) {
	f := newFixture(t)
	h := f.api.guard.Protect(httpauth.Endpoint{Pattern: "GET /x", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })})
	for _, r := range identity.Roles() {
		rq := httptest.NewRequest("GET", "/x", nil)
		rq.Header.Set("Authorization", "Bearer "+string(r))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rq)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d", r, rec.Code)
		}
	}
}

// Every endpoint that takes a body refuses one that is not JSON as described (400), too large
// (413) or of another media type (415), before it looks at anything else.
func TestBodiesOfEveryEndpoint(t *testing.T) {
	f := newFixture(t)
	big := `{"note":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, e := range f.api.endpoints() {
		method, p, _ := strings.Cut(e.pattern, " ")
		if method != "POST" {
			continue
		}
		p = strings.NewReplacer("{number}", "X", "{task}", "T1", "{item}", "i", "{id}", "N1", "{stage}", "s").Replace(p)
		as := "operator"
		if e.perm != identity.DossiersWrite {
			as = "integrator"
		}
		for _, c := range []struct {
			body, ctype string
			status      int
		}{
			{`{"surely_unknown": 1}`, "", 400},
			{`{"note": `, "", 400},
			{big, "", 413},
			{`{}`, "text/plain", 415},
		} {
			rq := req{method: method, path: p, as: as, body: c.body}
			if c.ctype != "" {
				rq.header = map[string]string{"Content-Type": c.ctype}
			}
			if rec := f.do(rq); rec.Code != c.status {
				t.Errorf("%s with %.30q: %d, want %d: %s", e.pattern, c.body, rec.Code, c.status, rec.Body)
			}
		}
	}
}
