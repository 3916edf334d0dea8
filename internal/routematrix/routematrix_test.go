package routematrix

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// recorder records Check's failures instead of failing, so the test can see that Check fails
// where it must.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }

func TestWildcards(t *testing.T) {
	for in, want := range map[string]string{"/a/{id}/b/{rest...}": "/a/x/b/x", "/plain": "/plain", "/{x}": "/x", "/{$}": "/", "/a/{$}": "/a/"} {
		if got := wildcards(in); got != want {
			t.Errorf("wildcards(%q) = %q, want %q", in, got, want)
		}
	}
}

// guarded answers as a guard would, from the role in the X-Role header; a broken one lets every
// role in, a page one sends anonymous GETs to /signin.
func guarded(perm identity.Permission, broken, page bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := r.Header.Get("X-Role")
		switch {
		case perm == httpauth.Open && broken && role != "":
			w.WriteHeader(403) // an open endpoint that looks at who calls
			return
		case perm == httpauth.Open:
		case role == "" && page && r.Method == "GET":
			http.Redirect(w, r, "/signin?return=x", http.StatusSeeOther)
			return
		case role == "":
			w.WriteHeader(401)
			return
		case broken:
		case perm != httpauth.AnyPrincipal && !identity.Role(role).Grants(perm):
			w.WriteHeader(403)
			return
		}
		w.WriteHeader(200)
	})
}

func call(h http.Handler) Caller {
	return func(method, path string, role identity.Role) (int, string) {
		r := httptest.NewRequest(method, path, nil)
		if role != "" {
			r.Header.Set("X-Role", string(role))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Location")
	}
}

func TestCheckPassesGoodGuardsAndFailsBadOnes(t *testing.T) {
	for _, c := range []struct {
		name   string
		perm   identity.Permission
		method string
		broken bool
		page   bool
		signIn string
		fails  string // part of the failure expected; "" for none
	}{
		{"open", httpauth.Open, "GET", false, false, "", ""},
		{"open, answering by role", httpauth.Open, "GET", true, false, "", "refuses no one for who they are"},
		{"any principal", httpauth.AnyPrincipal, "GET", false, false, "", ""},
		{"a permission", identity.DossiersWrite, "POST", false, false, "", ""},
		{"a page sends to sign in", identity.UsersManage, "GET", false, true, "/signin", ""},
		{"a page's POST is 401", identity.UsersManage, "POST", false, true, "/signin", ""},
		{"an API must not redirect", identity.UsersManage, "GET", false, true, "", "want 401"},
		{"sign-in elsewhere", identity.UsersManage, "GET", false, true, "/login", "want the sign-in"},
		{"undeclared", "", "GET", false, false, "", "declares no permission"},
		{"lets a wrong role in", identity.UsersManage, "GET", true, false, "", "want 403"},
		{"granted by no role", "nothing.at_all", "GET", false, false, "", "which no role grants"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := httpauth.Endpoint{Pattern: c.method + " /d/{n}", Perm: c.perm}
			rec := &recorder{}
			Check(rec, []httpauth.Endpoint{e}, call(guarded(c.perm, c.broken, c.page)), Options{SignIn: c.signIn})
			got := strings.Join(rec.errs, "\n")
			switch {
			case c.fails == "" && got != "":
				t.Errorf("Check failed a good guard:\n%s", got)
			case c.fails != "" && !strings.Contains(got, c.fails):
				t.Errorf("Check did not fail with %q; it said:\n%s", c.fails, got)
			}
		})
	}
}

func TestCheckFailsWithoutEndpoints(t *testing.T) {
	rec := &recorder{}
	Check(rec, nil, nil, Options{})
	if len(rec.errs) == 0 {
		t.Error("no endpoints passed")
	}
}
