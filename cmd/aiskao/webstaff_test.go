package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/web/staff"
)

// TestStaffRoleMatrix runs every role, and no one, against every route of the staff site's
// applications: a route that declares no permission fails the test; no one is sent to sign in
// (GET) or refused with 401; a role lacking the permission gets 403, and one having it does not.
func TestStaffRoleMatrix(t *testing.T) {
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	apps, _, _, err := newStaffApps(context.Background(), st, false, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	eps := apps.Endpoints()
	mux := apps.site.Shell().Mux(eps, staff.SignInPath)
	guarded := 0
	for _, e := range eps {
		if e.Perm == "" {
			t.Errorf("%s declares no permission", e.Pattern)
			continue
		}
		if e.Perm == httpauth.Open {
			continue
		}
		guarded++
		method, path, ok := strings.Cut(e.Pattern, " ")
		if !ok {
			method, path = "GET", e.Pattern
		}
		path = strings.NewReplacer("{$}", "", "{name}", "nobody").Replace(path)
		t.Run(e.Pattern, func(t *testing.T) {
			do := func(p *identity.Principal) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, path, strings.NewReader(""))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if p != nil {
					req = req.WithContext(identity.WithPrincipal(req.Context(), *p))
				}
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				return rec
			}
			rec := do(nil)
			switch {
			case method == http.MethodGet && (rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), staff.SignInPath+"?return=")):
				t.Errorf("no one: %d %s, want 303 to sign in", rec.Code, rec.Header().Get("Location"))
			case method != http.MethodGet && rec.Code != http.StatusUnauthorized:
				t.Errorf("no one: %d, want 401", rec.Code)
			}
			for _, role := range identity.AllRoles() {
				p := identity.Principal{Name: "tester", Kind: identity.KindPerson, Roles: []identity.Role{role}}
				rec := do(&p)
				allowed := e.Perm == httpauth.AnyPrincipal || role.Grants(e.Perm)
				switch {
				case !allowed && rec.Code != http.StatusForbidden:
					t.Errorf("%s lacks %s: %d, want 403", role, e.Perm, rec.Code)
				case allowed && (rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized ||
					strings.Contains(rec.Header().Get("Location"), "return=")):
					t.Errorf("%s has %s: refused with %d %s", role, e.Perm, rec.Code, rec.Header().Get("Location"))
				}
			}
		})
	}
	if guarded < 12 {
		t.Errorf("only %d guarded routes; the staff site has more", guarded)
	}
}
