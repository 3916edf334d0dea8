package ops

import (
	"net/http/httptest"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/routematrix"
)

// Every machine role, and a caller without a token, against every endpoint of the operations API.
func TestEveryRoleOnEveryRoute(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	var es []httpauth.Endpoint
	for _, e := range newAPI(&fakeBackend{}, nil, nil, nil).endpoints() {
		es = append(es, httpauth.Endpoint{Pattern: e.pattern, Handler: e.handler, Perm: e.perm})
	}
	call := func(method, path string, role identity.Role) (int, string) {
		r := httptest.NewRequest(method, path, nil)
		if role != "" {
			tok, ok := f.tokens[string(role)]
			if !ok {
				t.Fatalf("the fixture has no token of role %s", role)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Location")
	}
	routematrix.Check(t, es, call, routematrix.Options{Roles: identity.Roles()})
}
