package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/routematrix"
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
	call := func(method, path string, role identity.Role) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if role != "" {
			p := identity.Principal{Name: "tester", Kind: identity.KindPerson, Roles: []identity.Role{role}}
			req = req.WithContext(identity.WithPrincipal(req.Context(), p))
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if role != "" && rec.Code == http.StatusSeeOther && strings.Contains(loc, "return=") {
			return http.StatusUnauthorized, loc // sent to sign in although signed in
		}
		return rec.Code, loc
	}
	routematrix.Check(t, eps, call, routematrix.Options{
		SignIn: staff.SignInPath + "?return=",
		Path:   strings.NewReplacer("{$}", "", "{name}", "nobody").Replace,
	})
	guarded := 0
	for _, e := range eps {
		if e.Perm != httpauth.Open {
			guarded++
		}
	}
	if guarded < 12 {
		t.Errorf("only %d guarded routes; the staff site has more", guarded)
	}
}
