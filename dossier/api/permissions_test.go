package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// Every role, and anonymous callers, against every endpoint: anonymous callers get 401 except on
// the open endpoints, a role without the endpoint's permission 403, a role with it neither.
func TestPermissions(t *testing.T) {
	f := newFixture(t)
	number := f.must(req{method: "POST", path: "/api/v1/applications", as: "integrator", body: application()}, 201)["number"].(string)
	fb := f.must(req{method: "POST", path: "/api/v1/feedback", as: "integrator", body: map[string]any{"kind": "inquiry", "channel": "email",
		"author": map[string]any{"name": "Иван Иванов", "email": "ivan@example.bg"}, "text": "?"}}, 201)["number"].(string)
	fill := strings.NewReplacer("{id}", "2016", "{task}", "T1", "{item}", "relations", "{stage}", "prepare")
	callers := []string{"", "nobody"}
	for _, r := range identity.Roles() {
		callers = append(callers, string(r))
	}
	for _, e := range f.api.endpoints() {
		method, p, _ := strings.Cut(e.pattern, " ")
		switch {
		case strings.HasPrefix(p, "/api/v1/dossiers/"):
			p = strings.Replace(p, "{number}", escape(number), 1)
		case strings.HasPrefix(p, "/api/v1/feedback/"):
			p = strings.Replace(p, "{number}", escape(fb), 1)
		}
		if strings.Contains(p, "/irregularities/") {
			p = strings.Replace(p, "{id}", "N1", 1)
		}
		p = fill.Replace(p)
		if e.perm == "" {
			t.Errorf("%s declares no permission", e.pattern)
		}
		granted := e.perm == open
		for _, r := range identity.Roles() {
			granted = granted || e.perm == anyPrincipal || r.Grants(e.perm)
		}
		if !granted {
			t.Errorf("%s needs %q, which no role grants", e.pattern, e.perm)
		}
		for _, as := range callers {
			rq := req{method: method, path: p, as: as}
			if method == "POST" {
				rq.body = "{}"
			}
			rec := f.do(rq)
			var want int
			switch {
			case e.perm == open:
			case as == "":
				want = http.StatusUnauthorized
			case e.perm != anyPrincipal && !identity.Role(as).Grants(e.perm):
				want = http.StatusForbidden
			}
			switch {
			case want != 0 && rec.Code != want:
				t.Errorf("%s as %q: %d, want %d: %s", e.pattern, as, rec.Code, want, rec.Body)
			case want == 0 && (rec.Code == 401 || rec.Code == 403):
				t.Errorf("%s as %q: %d, want it allowed: %s", e.pattern, as, rec.Code, rec.Body)
			case want == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer "):
				t.Errorf("%s: 401 without a challenge", e.pattern)
			}
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
